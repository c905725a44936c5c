"""
WGAN and WGAN-GP on MNIST digits
================================

Two Wasserstein GANs with the same small convolutional generator and critic, trained on
the 4,000 training digits of MNIST 5,000: one keeps its critic Lipschitz by weight
clipping (WGAN), the other by a gradient penalty (WGAN-GP). Every few generator steps
the family's measuring stick is taken: the Fréchet distance between 500 generated digits
and the held-out test digits, in the digit classifier's feature space. The point to
show: the critic's Wasserstein estimate falls as the samples improve. It is measured by
the rank correlation between the estimate and the Fréchet distance over training
(target: at least 0.5, for both variants); the final Fréchet distances are shown beside
the floor (real against real) and the ceiling (noise against real) from this run.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from _measure import digit_classifier, fd_reference, frechet_distance
from wgan import Critic, Generator, train

run = start("wgan")

x, y, xt, yt = toydata.mnist()
if SMOKE:
    x = x[:512]
clf = digit_classifier(DEVICE)
real_feats = clf.feats(xt)
Z, EVERY = 32, scale(40, 5)


def fd_of(G, n=500):
    with torch.no_grad():
        fake = G(torch.randn(n, Z, device=DEVICE)).cpu()
    return frechet_distance(clf.feats(fake), real_feats)


# %%
# Both variants take five critic steps per generator step. The papers' learning rates
# (5e-5 for clipping, 1e-4 for the penalty) are raised to 1e-3 and 3e-4 for this short
# budget; clipping stays at c = 0.01 and the penalty weight at 10, as in the papers.
runs = {}
settings = {
    "clip": dict(steps=scale(440, 10), lr=1e-3),
    "gp": dict(steps=scale(280, 10), lr=3e-4),
}
for variant, kw in settings.items():
    torch.manual_seed(0)
    G, f = Generator(z_dim=Z, width=16), Critic(width=16)
    hist = train(
        G,
        f,
        x,
        variant=variant,
        batch=32,
        device=DEVICE,
        eval_fn=fd_of,
        eval_every=EVERY,
        **kw,
    )
    G.eval()
    runs[variant] = (G, hist, fd_of(G, 1000))

ref = fd_reference(clf)


def window_mean(h, width):
    """Mean Wasserstein estimate over the ``width`` generator steps before each
    evaluation."""
    w = np.array(h["w_estimate"])
    return np.array([w[max(0, s - width) : s].mean() for s in h["eval_step"]])


def rank_corr(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


corr = {v: rank_corr(window_mean(h, EVERY), h["eval"]) for v, (_, h, _) in runs.items()}
for v, (_, _, fd) in runs.items():
    print(
        f"{v}: final Fréchet distance {fd:.1f}; rank correlation (W estimate, FD) "
        f"{corr[v]:.2f}"
    )
print(f"floor {ref['floor']:.1f}, ceiling {ref['ceiling']:.1f}")

# %%
# The critic's estimate (smoothed) beside the Fréchet distance, for each variant. The
# estimate of the clipped critic is tiny because clipping shrinks its Lipschitz constant
# far below 1; only its shape over training carries information.
names = {"clip": "WGAN (weight clipping)", "gp": "WGAN-GP (gradient penalty)"}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, (v, (_, h, _)) in zip(axes, runs.items()):
    k = max(1, min(EVERY, len(h["w_estimate"]) // 2))
    w = np.convolve(h["w_estimate"], np.ones(k) / k, mode="valid")
    ax.plot(np.arange(k, len(h["w_estimate"]) + 1), w, color="C0")
    ax.set(xlabel="generator step", title=f"{names[v]}\nrank corr. {corr[v]:.2f}")
    ax.set_ylabel("critic's Wasserstein estimate", color="C0")
    ax2 = ax.twinx()
    ax2.plot(h["eval_step"], h["eval"], "o-", color="C3", ms=3)
    ax2.set_ylabel("Fréchet distance", color="C3")
fig.tight_layout()
plt.show()

# %%
# Samples from both generators at the end of training.
fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
torch.manual_seed(1)
z = torch.randn(64, Z, device=DEVICE)
for ax, (v, (G, _, fd)) in zip(axes, runs.items()):
    with torch.no_grad():
        img = G(z).cpu()
    ax.imshow(img.view(8, 8, 28, 28).permute(0, 2, 1, 3).reshape(224, 224), cmap="gray")
    ax.set(xticks=[], yticks=[], title=f"{names[v]}\nFréchet distance {fd:.1f}")
fig.tight_layout()
plt.show()

run.metric(
    "rank_corr_w_estimate_vs_fd_gp", corr["gp"], target=0.5, fmt=".2f", headline=True
)
run.metric("rank_corr_w_estimate_vs_fd_clip", corr["clip"], target=0.5, fmt=".2f")
run.metric(
    "frechet_distance_gp",
    runs["gp"][2],
    higher_is_better=False,
    baseline=ref["ceiling"],
    baseline_name="noise",
    fmt=".1f",
)
run.metric(
    "frechet_distance_clip",
    runs["clip"][2],
    higher_is_better=False,
    baseline=ref["ceiling"],
    baseline_name="noise",
    fmt=".1f",
)
run.metric("fd_floor_real_vs_real", ref["floor"], higher_is_better=False, fmt=".1f")
run.finish()
