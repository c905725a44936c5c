"""The measuring stick for generated digits, shared by the gallery examples.

A small CNN trained on the 4,000 training digits of ``toydata.mnist()`` labels samples
(the share of class-c samples labelled c) and gives penultimate-layer features, from
which a Fréchet distance between generated and held-out real digits is computed (the FID
recipe, with this classifier in place of Inception). ``fd_reference`` gives two
reference points from the same classifier: real against real of the same sample size
(the floor) and uniform noise against real (the ceiling).

The classifier is a fixed ruler: trained once with its own seed (the example's random
stream is left untouched), on the same data whatever the example's seed, and kept on
disk under ``_build/cache`` (keyed by this file, the data loader, torch and the device),
so the first example of a build that asks for it pays its half minute and the others
load it.
"""

import hashlib
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import _record
import toydata
from _example import SMOKE

_CACHE = {}


class DigitClassifier(nn.Module):
    """Two conv blocks and a 128-unit penultimate layer; about 99% test accuracy on
    MNIST 5,000."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(64 * 7 * 7, 128)
        self.out = nn.Linear(128, 10)

    def _check(self, x):
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"expected digits of shape (N, 1, 28, 28), got {tuple(x.shape)}"
            )

    def features(self, x):
        self._check(x)
        return F.relu(self.fc(self.conv(x).flatten(1)))

    def forward(self, x):
        return self.out(self.features(x))

    @torch.no_grad()
    def _batched(self, fn, x, batch=500):
        self.eval()
        dev = next(self.parameters()).device
        return torch.cat(
            [fn(x[i : i + batch].to(dev)).cpu() for i in range(0, len(x), batch)]
        )

    def predict(self, x):
        """Labels for a batch of digits in [0, 1]."""
        return self._batched(self.forward, x).argmax(1)

    def probs(self, x):
        """Class probabilities for a batch of digits in [0, 1]."""
        return self._batched(lambda b: self.forward(b).softmax(1), x)

    def feats(self, x):
        """Penultimate features as a float64 NumPy array (for Fréchet distances)."""
        return self._batched(self.features, x).double().numpy()


def _cache_file(device, epochs):
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in (here / "_measure.py", here / "toydata.py"):
        h.update(f.read_bytes())
    h.update(f"{torch.__version__} {device.type} {SMOKE} {epochs}".encode())
    return _record.base_dir() / "cache" / f"digit_classifier-{h.hexdigest()[:16]}.pt"


def digit_classifier(device, epochs=None):
    """The shared classifier, trained on ``toydata.mnist()``'s training split (cached in
    the process and on disk)."""
    device = torch.device(device)
    epochs = epochs or (1 if SMOKE else 12)
    key = (str(device), SMOKE, epochs)
    if key in _CACHE:
        return _CACHE[key]
    path = _cache_file(device, epochs)
    with torch.random.fork_rng(devices=[]):  # leaves the example's random stream alone
        torch.manual_seed(1234)
        clf = DigitClassifier()
        if path.exists():
            saved = torch.load(path, map_location="cpu")
            clf.load_state_dict(saved["state"])
            clf.to(device).test_accuracy = saved["test_accuracy"]
        else:
            _fit(clf.to(device), epochs, device)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{id(clf)}.tmp")
            state = {k: v.cpu() for k, v in clf.state_dict().items()}
            torch.save({"state": state, "test_accuracy": clf.test_accuracy}, tmp)
            tmp.replace(path)
    _CACHE[key] = clf
    return clf


def _fit(clf, epochs, device):
    g = torch.Generator().manual_seed(1234)
    x, y, xt, yt = toydata.mnist()
    if SMOKE:
        x, y = x[:512], y[:512]
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    steps = epochs * ((len(x) + 63) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for _ in range(epochs):
        clf.train()
        for idx in torch.randperm(len(x), generator=g).split(64):
            xb = x[idx]
            # light augmentation (shifts of up to 2 px) so generated digits that are
            # not perfectly centred are still read fairly
            dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(clf(xb.to(device)), y[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    clf.test_accuracy = float((clf.predict(xt) == yt).float().mean())


def frechet_distance(feats_a, feats_b):
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples):
    ``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))``."""
    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    if (
        a.ndim != 2
        or b.ndim != 2
        or a.shape[1] != b.shape[1]
        or min(len(a), len(b)) < 2
    ):
        raise ValueError(
            f"need two (N, D) feature arrays with N >= 2, got {a.shape} and {b.shape}"
        )
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr((Ca Cb)^(1/2)) from the eigenvalues of sqrt(Ca) Cb sqrt(Ca), which is symmetric
    # PSD
    w, v = np.linalg.eigh(ca)
    sqrt_ca = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = sqrt_ca @ cb @ sqrt_ca
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt)


def fd_reference(clf, n=1000, seed=0):
    """Floor and ceiling for Fréchet distances against the 1,000 held-out test digits:
    ``floor`` = n real training digits against them, ``ceiling`` = n uniform-noise
    images."""
    x, _, xt, _ = toydata.mnist()
    g = torch.Generator().manual_seed(seed)
    real = clf.feats(xt[:n])
    floor = frechet_distance(
        clf.feats(x[torch.randperm(len(x), generator=g)[:n]]), real
    )
    ceiling = frechet_distance(clf.feats(torch.rand(n, 1, 28, 28, generator=g)), real)
    return dict(floor=floor, ceiling=ceiling)


def class_share(clf, samples, labels):
    """Share of samples whose predicted class equals the class they were asked for (an
    exact count over the total: a float32 mean would put 900/1000 at 0.8999999 and below
    a 0.9 target)."""
    labels = torch.as_tensor(labels).cpu()
    return int((clf.predict(samples) == labels).sum()) / len(labels)
