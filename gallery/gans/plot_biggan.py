"""
BigGAN in miniature on MNIST digits
===================================

A toy BigGAN: class-conditional batch norm fed by a shared class embedding and chunks of
the noise, a projection discriminator, the hinge loss, spectral norm on every layer of
both networks and orthogonal regularization of the generator, trained on the 4,000
training digits of MNIST 5,000. After training, the truncation trick is swept: noise
entries beyond a threshold are redrawn, and for each threshold 1,000 samples (100 per
class) are scored by the family's digit classifier (the share read as the class asked
for) and by the Fréchet distance to held-out digits. The target: class accuracy of at
least 0.9 at the chosen threshold, 0.5, fixed before the run.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from _measure import class_share, digit_classifier, fd_reference, frechet_distance
from biggan import BigDiscriminator, BigGenerator, sample, train

run = start("biggan")

x, y, xt, yt = toydata.mnist()
if SMOKE:
    x, y = x[:512], y[:512]
G, D = BigGenerator(chunk=16, emb=16, width=16), BigDiscriminator(width=16)
hist = train(
    G,
    D,
    x,
    y,
    steps=scale(1600, 20),
    batch=64,
    lr_g=1e-3,
    lr_d=2e-3,
    beta=1e-4,
    betas=(0.0, 0.999),
    device=DEVICE,
)

# %%
# The truncation sweep, all on the same trained generator: thresholds from 0.25 to 2,
# and plain normal noise ("none"). Each threshold gets the same 100 requests per class.
CHOSEN = 0.5
thresholds = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, None]
clf = digit_classifier(DEVICE)
real_feats = clf.feats(xt)
PER = scale(100, 10)  # samples per class
asked = torch.arange(10).repeat_interleave(PER)
curve = {}
for t in thresholds:
    s = sample(G, asked, threshold=t, device=DEVICE, seed=1)
    curve[t] = (
        class_share(clf, s, asked),
        frechet_distance(clf.feats(s), real_feats),
        s,
    )
    print(
        f"threshold {t}: class accuracy {curve[t][0]:.3f}, Fréchet distance "
        f"{curve[t][1]:.1f}"
    )
ref = fd_reference(clf, n=scale(1000, 100))
print(f"floor {ref['floor']:.1f}, ceiling {ref['ceiling']:.1f}")

# %%
# The trade-off: a smaller threshold keeps the noise near the mode of the prior, where
# the generator was trained most, so samples read more clearly as their class; it also
# narrows the variety of samples, which the Fréchet distance (it compares whole
# distributions) penalises.
xs = np.arange(len(thresholds))
labels = ["none" if t is None else f"{t:g}" for t in thresholds]
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.plot(xs, [curve[t][0] for t in thresholds], "o-", c="C0")
ax.axhline(0.9, ls="--", c="C0", lw=1)
ax.set(
    xticks=xs,
    xticklabels=labels,
    xlabel="truncation threshold (noise entries redrawn beyond it)",
    title=f"Truncation trade-off (chosen threshold {CHOSEN:g}, dashed: accuracy target "
    f"0.9)",
)
ax.set_ylabel("class accuracy", color="C0")
ax.set_ylim(
    min(0.5, min(curve[t][0] for t in thresholds) - 0.05), 1.0
)  # fixed scale, not zoomed
ax.axvline(thresholds.index(CHOSEN), c="grey", lw=6, alpha=0.2)
ax2 = ax.twinx()
ax2.plot(xs, [curve[t][1] for t in thresholds], "s-", c="C3")
ax2.set_ylabel("Fréchet distance", color="C3")
fig.tight_layout()
plt.show()

# %%
# One row per class: eight samples at the chosen threshold (left) and with untruncated
# noise (right).
fig, axes = plt.subplots(1, 2, figsize=(8, 4.4))
for ax, t in zip(axes, [CHOSEN, None]):
    rows = (
        curve[t][2].view(10, PER, 28, 28)[:, :8].permute(0, 2, 1, 3).reshape(280, 224)
    )
    ax.imshow(rows, cmap="gray")
    ax.set(
        xticks=[],
        yticks=14 + 28 * np.arange(10),
        yticklabels=range(10),
        ylabel="class asked for",
        title=f"threshold {'none' if t is None else t}: "
        f"accuracy {curve[t][0]:.2f}, FD {curve[t][1]:.0f}",
    )
fig.tight_layout()
plt.show()

# %%
# The hinge losses over training (moving mean).
k = max(1, len(hist["d_loss"]) // 50)
smooth = lambda v: np.convolve(v, np.ones(k) / k, mode="valid")  # noqa: E731
fig, ax = plt.subplots(figsize=(8, 2.8))
ax.plot(smooth(hist["d_loss"]), label="D hinge loss")
ax.plot(smooth(hist["g_loss"]), label="G loss -D(G(z, y))")
ax.set(xlabel="step", title="Training losses")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

run.metric(
    "class_accuracy_at_truncation_0.5",
    curve[CHOSEN][0],
    target=0.9,
    baseline=0.1,
    baseline_name="label ignored",
    headline=True,
)
run.metric(
    "class_accuracy_untruncated",
    curve[None][0],
    baseline=0.1,
    baseline_name="label ignored",
)
run.metric(
    "frechet_distance_at_truncation_0.5",
    curve[CHOSEN][1],
    higher_is_better=False,
    baseline=ref["ceiling"],
    baseline_name="noise",
    fmt=".1f",
)
run.metric(
    "frechet_distance_untruncated",
    curve[None][1],
    higher_is_better=False,
    baseline=ref["ceiling"],
    baseline_name="noise",
    fmt=".1f",
)
run.metric("fd_floor_real_vs_real", ref["floor"], higher_is_better=False, fmt=".1f")
run.finish()
