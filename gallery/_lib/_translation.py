"""The unpaired translation task of the CycleGAN and DiscoGAN examples, and its
measures.

Domain A is plain MNIST; domain B is the same kind of digit drawn with strokes about
twice as thick (a 3x3 dilation), both white on black. A and B are built from disjoint
training digits, so no pair exists; a validation split of training digits is kept out
of both for tuning, and the 1,000 test digits are translated once at the end.

Two measuring sticks, both fixed whatever the example's seed:

- *content*: the shared digit classifier (``_measure``) reads a translation, and the
  translation keeps its content when it is read as the input's class;
- *domain*: a small CNN trained here, with its own random stream, to tell real A digits
  from real B digits (a few seconds), says which domain a translation looks like.

A translation *succeeds* when both agree: right class, target domain. The fixed maps
that need no learning (identity, colour inversion, and the true map: dilation for
A -> B, erosion for B -> A) are scored by the same function, so a target can be set
above every map that does not know how B was made.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

import toydata
from _example import SMOKE
from _measure import digit_classifier

_DOMAIN = {}


def thicken(x):
    """Domain B: strokes dilated by one pixel in every direction (3x3 max filter)."""
    return F.max_pool2d(x, 3, stride=1, padding=1)


def thin(x):
    """The true inverse map for the B -> A direction: a 3x3 erosion (min filter)."""
    return -F.max_pool2d(-x, 3, stride=1, padding=1)


def domains(n_per_domain=1750, n_val=500):
    """``xa, xb`` (unpaired training images of A and B, from disjoint digits),
    ``val`` (digits, labels: in both styles, kept out of training, for tuning) and
    ``test`` (the 1,000 test digits and labels)."""
    x, y, xt, yt = toydata.mnist()
    n = n_per_domain
    xa, xb = x[:n], thicken(x[n : 2 * n])
    xv, yv = x[len(x) - n_val :], y[len(x) - n_val :]
    return xa, xb, (xv, yv), (xt, yt)


class DomainClassifier(nn.Module):
    """Real A (0) against real B (1): two strided convolutions and a logit."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 1),
        )

    def forward(self, x):
        return self.net(x).flatten()

    @torch.no_grad()
    def p_b(self, x):
        """Probability that each image is a domain-B digit."""
        self.eval()
        dev = next(self.parameters()).device
        return torch.cat([self(b.to(dev)).sigmoid().cpu() for b in x.split(500)])


def domain_classifier(device):
    """The A-vs-B classifier, trained once per process on the training digits of both
    styles (disjoint halves), with its own seed."""
    key = str(device)
    if key in _DOMAIN:
        return _DOMAIN[key]
    x, _, _, _ = toydata.mnist()
    half = len(x) // 2
    imgs = torch.cat([x[:half], thicken(x[half:])])
    labels = torch.cat([torch.zeros(half), torch.ones(len(x) - half)])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(4321)
        clf = DomainClassifier().to(device)
        opt = torch.optim.Adam(clf.parameters(), lr=1e-3)
        for _ in range(1 if SMOKE else 2):
            for idx in torch.randperm(len(imgs)).split(64):
                xb, yb = imgs[idx].to(device), labels[idx].to(device)
                loss = F.binary_cross_entropy_with_logits(clf(xb), yb)
                opt.zero_grad(), loss.backward(), opt.step()
    _DOMAIN[key] = clf
    return clf


def scores(out, labels, target_domain, device):
    """For translations ``out`` of digits with ``labels`` into ``target_domain``
    ("A" or "B"): the share read as the right class (content), the share classed as
    the target domain (domain), and the share with both (success)."""
    right = digit_classifier(device).predict(out) == torch.as_tensor(labels)
    p_b = domain_classifier(device).p_b(out)
    in_domain = p_b > 0.5 if target_domain == "B" else p_b < 0.5
    n = len(out)
    return dict(
        content=int(right.sum()) / n,
        domain=int(in_domain.sum()) / n,
        success=int((right & in_domain).sum()) / n,
    )


def both_ways(map_ab, map_ba, x, labels, device):
    """Translate digits both ways (A -> B from plain ``x``, B -> A from
    ``thicken(x)``) and score each; ``success`` is their mean."""
    ab = scores(map_ab(x), labels, "B", device)
    ba = scores(map_ba(thicken(x)), labels, "A", device)
    return dict(ab=ab, ba=ba, success=(ab["success"] + ba["success"]) / 2)


FIXED_MAPS = {
    "identity": (lambda x: x, lambda x: x),
    "inversion": (lambda x: 1 - x, lambda x: 1 - x),
    "true map": (thicken, thin),
}


def as_map(G, device):
    """A trained generator as a map of CPU image batches (eval mode, 500 at a time)."""

    @torch.no_grad()
    def f(x):
        G.eval()
        return torch.cat([G(b.to(device)).cpu() for b in x.split(500)])

    return f


def score_maps(maps, x, labels, device):
    """Every map scored both ways by the same judges (``both_ways``), a line each
    printed; returns the scores by name."""
    res = {k: both_ways(ab, ba, x, labels, device) for k, (ab, ba) in maps.items()}
    width = max(map(len, res))
    for k, r in res.items():
        print(
            f"{k:{width}s} success {r['success']:.3f}  A->B content "
            f"{r['ab']['content']:.3f} domain {r['ab']['domain']:.3f}  B->A content "
            f"{r['ba']['content']:.3f} domain {r['ba']['domain']:.3f}"
        )
    return res
