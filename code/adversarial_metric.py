"""Adversarial metric learning (Chen, Gong, Yang, Li, Wei and Li, "Adversarial Metric
Learning", IJCAI 2018). A metric learned only from the training pairs fits them and
little else; AML plays a game instead. In the *confusion* stage a generator turns each
training pair into a confusing pair near it, one whose distance the current metric gets
most wrong (similar images pushed apart, dissimilar ones pulled together), while a
penalty keeps the new pair close to the original. In the *distinguishment* stage the
metric learns to get both the original and the generated pairs right. The paper solves
both stages in closed form for a Mahalanobis metric (and measures closeness in that
metric); here the metric is a small neural embedding, the generator a network that
outputs a bounded perturbation of both images of a pair, closeness is measured in
pixels, and the two are trained by gradients in turn.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Embedding(nn.Module):
    """x (1x28x28) -> 256 -> 32: the metric is d(x, x') = ||f(x) - f(x')||."""

    def __init__(self, n_in=784, hidden=256, dim=32, unit=False):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, dim)
        )
        self.unit = unit

    def forward(self, x):
        e = self.net(x)
        return F.normalize(e, dim=1) if self.unit else e


class PairGenerator(nn.Module):
    """(x, x') -> (x + d, x' + d') with |d| <= eps per pixel, clipped to [0, 1]."""

    def __init__(self, n_in=784, hidden=256, eps=0.3):
        super().__init__()
        self.eps = eps
        self.net = nn.Sequential(
            nn.Linear(2 * n_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * n_in),
            nn.Tanh(),
        )

    def forward(self, a, b):
        d = self.eps * self.net(torch.cat([a.flatten(1), b.flatten(1)], 1))
        da, db = d.view(len(a), 2, *a.shape[1:]).unbind(1)
        return (a + da).clamp(0, 1), (b + db).clamp(0, 1)


def contrastive_loss(f, a, b, same, margin=1.0):
    """Per pair: d^2 if similar, max(0, margin - d)^2 if dissimilar; averaged."""
    d = (f(a) - f(b)).pow(2).sum(1).add(1e-9).sqrt()
    return torch.where(same, d.pow(2), F.relu(margin - d).pow(2)).mean()


def generator_loss(f, G, a, b, same, beta=1.0):
    """Confusion stage: make pairs the metric gets wrong, but stay near the originals:
    -L(f; G(a, b)) + beta * E(||a~ - a||^2 + ||b~ - b||^2), squared norms over all
    pixels of an image, averaged over the pairs."""
    a2, b2 = G(a, b)
    sq = lambda d: d.flatten(1).pow(2).sum(1).mean()  # noqa: E731
    return -contrastive_loss(f, a2, b2, same) + beta * (sq(a2 - a) + sq(b2 - b))


class RandomPerturbation(nn.Module):
    """The control: (x, x') -> (x + d, x' + d') with d = +-scale per pixel at random
    signs, clipped to [0, 1]. No parameters, so ``train`` runs no confusion stage."""

    def __init__(self, scale=0.3):
        super().__init__()
        self.scale = scale

    def forward(self, a, b):
        sign = lambda t: torch.randint_like(t, 2) * 2 - 1  # noqa: E731
        return (a + self.scale * sign(a)).clamp(0, 1), (b + self.scale * sign(b)).clamp(
            0, 1
        )


def sample_pairs(x, y, n):
    """n pairs: the first half of the same class, the rest at random (mostly
    different)."""
    i, j = torch.randint(len(x), (n,)), torch.randint(len(x), (n,))
    order, counts = (
        torch.argsort(y),
        torch.bincount(y),
    )  # same class: a random one of y[i]'s
    start = counts.cumsum(0) - counts
    c = y[i[: n // 2]]
    j[: n // 2] = order[start[c] + (torch.rand(len(c)) * counts[c]).long()]
    return x[i], x[j], y[i] == y[j]


def train(
    f,
    G,
    x,
    y,
    *,
    steps=1000,
    batch_size=128,
    lr=1e-3,
    alpha=1.0,
    beta=1.0,
    device="cpu",
    seed=None,
    log=None,
):
    """Alternate the two stages each step (Adam). ``G=None`` trains the metric on the
    original pairs alone (the baseline); a G without parameters (RandomPerturbation)
    perturbs the pairs with no confusion stage (the control). Returns per-step
    ``d_loss`` (the metric's total), ``g_loss``, ``metric`` (original pairs) and ``adv``
    (generated pairs)."""
    if seed is not None:
        torch.manual_seed(seed)
    opt_f = torch.optim.Adam(f.to(device).train().parameters(), lr=lr)
    learns = G is not None and any(True for _ in G.parameters())
    opt_g = torch.optim.Adam(G.to(device).parameters(), lr=lr) if learns else None
    hist = dict(d_loss=[], g_loss=[], metric=[], adv=[])
    for step in range(steps):
        a, b, same = (t.to(device) for t in sample_pairs(x, y, batch_size))
        if learns:  # confusion: the generator makes hard pairs
            lg = generator_loss(f, G, a, b, same, beta)
            opt_g.zero_grad(), lg.backward(), opt_g.step()
            hist["g_loss"].append(lg.item())
        loss = contrastive_loss(f, a, b, same)
        hist["metric"].append(loss.item())
        if G is not None:  # distinguishment: the metric must get them right too
            with torch.no_grad():
                a2, b2 = G(a, b)
            adv = contrastive_loss(f, a2, b2, same)
            hist["adv"].append(adv.item())
            loss = loss + alpha * adv
        opt_f.zero_grad(), loss.backward(), opt_f.step()
        hist["d_loss"].append(loss.item())
        if log is not None:
            log(step, {k: v[-1] for k, v in hist.items() if v})
    return hist


@torch.no_grad()
def recall_at_1(f, x, y):
    """Share of x whose nearest other point (in the metric) has the same label."""
    f.eval()
    dev = next(f.parameters()).device
    e = torch.cat([f(b.to(dev)).cpu() for b in x.split(1000)])
    f.train()
    d = torch.cdist(e, e)
    d.fill_diagonal_(float("inf"))
    return (y[d.argmin(1)] == y).float().mean().item()


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(4, (64,))
    hist = train(Embedding(), PairGenerator(), x, y, steps=5, batch_size=16)
    print("AML metric loss per step:", [round(v, 3) for v in hist["metric"]])
