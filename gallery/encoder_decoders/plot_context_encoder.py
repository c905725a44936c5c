"""
Context encoder: inpainting MNIST digits
========================================

Blanks out the central 12x12 square of every 28x28 MNIST digit (a fifth of the image,
and most of the ink) and trains a context encoder to paint it back from the surrounding
pixels, on 3,500 training digits (500 more are kept for validation; the 1,000 test
digits are scored once, at the end). Two generators are trained in the same run from
the same seed: the paper's, with 0.999 masked squared error and 0.001 adversarial loss
from a patch discriminator, and the ablation with the squared error alone.

Headline: **identity kept**, the share of inpainted test digits that the shared digit
classifier (``_measure``) still reads as their true class. Beside it, **realism**: the
Fréchet distance between the classifier's features of the inpainted test digits and of
the same digits untouched (0 for a perfect fill), which is what the adversarial term is
for, and the hole's squared error, which it is expected to worsen. Baselines: filling
the hole from the training digit whose context matches best (nearest neighbour, after
Hays and Efros) and PCA inpainting from the context (components and ridge chosen on
validation); references: the blank hole and the training mean.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import _measure
import toydata
from _example import DEVICE, SMOKE, scale, start
from context_encoder import (
    ContextEncoder,
    PatchDiscriminator,
    center_mask,
    inpaint,
    mean_fill,
    nearest_fill,
    pca_fill,
    reconstruction_loss,
    train,
)

run = start("context_encoder")

# %%
# Data and mask: 3,500 training, 500 validation and 1,000 test digits (a few hundred
# in smoke mode), and one central 12x12 hole.
x_train, _, x_val, _, x_test, y_test = toydata.mnist_with_validation()
x_train = x_train[: scale(len(x_train), 200)]
x_test, y_test = x_test[: scale(1000, 100)], y_test[: scale(1000, 100)]
mask = center_mask(28, 12)
clf = _measure.digit_classifier(DEVICE)
real = clf.feats(x_test)

# %%
# The baselines. PCA's number of components and ridge penalty are chosen by hole error
# on the validation digits; the nearest-neighbour fill has nothing to tune.
grid = [(k, r) for k in (10, 20, 40) for r in (0.01, 0.1)] if not SMOKE else [(10, 0.1)]
k, ridge = min(
    grid,
    key=lambda s: reconstruction_loss(pca_fill(x_train, x_val, mask, *s), x_val, mask),
)
print(f"PCA inpainting: {k} components, ridge {ridge} (chosen on validation)")
fills = {
    "blank hole": x_test * (1 - mask),
    "training mean": mean_fill(x_train, x_test, mask),
    "PCA": pca_fill(x_train, x_test, mask, k, ridge),
    "nearest neighbour": nearest_fill(x_train, x_test, mask),
}

# %%
# Train the same generator twice from the same seed, with the same batches: with the
# masked squared error alone, and with the adversarial term added (the discriminator
# sees only the 12x12 patch, real or painted).
EPOCHS = scale(10, 1)
hist = {}
for name, adv in (("L2 only", False), ("L2 + adversarial", True)):
    torch.manual_seed(run.seed)
    gen = ContextEncoder(width=32)
    disc = PatchDiscriminator(hole=12, width=32) if adv else None
    hist[name] = train(
        gen, disc, x_train, mask, epochs=EPOCHS, device=DEVICE, seed=run.seed
    )
    fills[name] = inpaint(gen, x_test, mask, device=DEVICE)

# %%
# Every filling scored on the 1,000 held-out digits.
score = {}
for name, f in fills.items():
    score[name] = dict(
        acc=_measure.class_share(clf, f, y_test),
        fd=_measure.frechet_distance(clf.feats(f), real),
        mse=reconstruction_loss(f, x_test, mask).item(),
    )
untouched = _measure.class_share(clf, x_test, y_test)
print(f"untouched digits: classifier accuracy {untouched:.3f}")
print(f"{'':>18s} {'identity kept':>13s} {'Frechet':>8s} {'hole MSE':>9s}")
for name, s in score.items():
    print(f"{name:>18s} {s['acc']:13.3f} {s['fd']:8.1f} {s['mse']:9.4f}")

# %%
# Before and after: the masked input, the baselines' and both models' fillings and the
# truth, for the first test digit of each class (the hole is outlined).
idx = [int(np.flatnonzero(y_test.numpy() == d)[0]) for d in range(10)]
rows = (
    [("masked", x_test * (1 - mask) + 0.5 * mask)]
    + [
        (name, fills[name])
        for name in ("nearest neighbour", "PCA", "L2 only", "L2 + adversarial")
    ]
    + [("truth", x_test)]
)
fig, axes = plt.subplots(len(rows), 10, figsize=(8, 5.6))
for r, (label, imgs) in enumerate(rows):
    for j, i in enumerate(idx):
        ax = axes[r, j]
        ax.imshow(imgs[i, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((7.5, 7.5), 12, 12, fill=False, ec="C3", lw=0.8))
        ax.set_xticks([])
        ax.set_yticks([])
        if j == 0:
            ax.set_ylabel(label.replace(" + ", "\n+ ").replace(" n", "\nn"), fontsize=7)
fig.suptitle("Held-out digits with their central 12x12 square painted in")
plt.tight_layout()
plt.show()

# %%
# The trade-off: identity kept against realism (Fréchet distance, lower is better) for
# every filling, and the training curves (hole error per epoch for both models, and the
# discriminator's loss: 2 log 2 = 1.39 when it cannot tell).
fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
for i, (name, s) in enumerate(score.items()):
    axes[0].scatter(s["fd"], s["acc"], color=f"C{i}")
    axes[0].annotate(
        name, (s["fd"], s["acc"]), fontsize=7, xytext=(4, 2), textcoords="offset points"
    )
axes[0].set_xscale("log")
axes[0].set_xlabel("Fréchet distance to the untouched digits")
axes[0].set_ylabel("identity kept")
axes[0].set_title("Held-out digits")
ep = range(1, EPOCHS + 1)
for name, h in hist.items():
    axes[1].plot(ep, h["rec"], marker=".", label=f"hole MSE, {name}")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("training hole MSE")
ax2 = axes[1].twinx()
ax2.plot(
    ep, hist["L2 + adversarial"]["d"], color="C3", ls="--", label="discriminator loss"
)
ax2.set_ylabel("discriminator loss", color="C3")
lines = axes[1].get_lines() + ax2.get_lines()
axes[1].legend(lines, [ln.get_label() for ln in lines], fontsize=7)
axes[1].set_title("Training")
plt.tight_layout()
plt.show()

# %%
# Target (fixed before the final runs): the better baseline's identity kept plus 0.03
# (three binomial standard errors at this accuracy on 1,000 digits). Both baselines
# are deterministic, so the bar is the same for every seed, and the trivial fills
# (blank hole, training mean) lie far below it.
best = max(("PCA", "nearest neighbour"), key=lambda k: score[k]["acc"])
adv, l2 = score["L2 + adversarial"], score["L2 only"]
run.metric(
    "test_identity_kept",
    adv["acc"],
    target=score[best]["acc"] + 0.03,
    baseline=score[best]["acc"],
    baseline_name=f"{best} fill",
    ablation=l2["acc"],
    ablation_name="L2 only",
    headline=True,
)
run.metric(
    "test_frechet_distance",
    adv["fd"],
    higher_is_better=False,
    baseline=score["nearest neighbour"]["fd"],
    baseline_name="nearest-neighbour fill",
    ablation=l2["fd"],
    ablation_name="L2 only",
    fmt=".1f",
)
run.metric("test_frechet_distance_l2_only", l2["fd"], higher_is_better=False, fmt=".1f")
run.metric("test_identity_kept_l2_only", l2["acc"])
run.metric(
    "test_hole_mse",
    adv["mse"],
    higher_is_better=False,
    baseline=score["PCA"]["mse"],
    baseline_name="PCA fill",
    ablation=l2["mse"],
    ablation_name="L2 only",
    fmt=".4f",
)
run.finish()
