"""
Context encoder: inpainting MNIST digits
========================================

Blanks out the central 12x12 square of every 28x28 MNIST digit (a fifth of the image,
and most of the ink) and trains a context encoder to paint it back from the surrounding
pixels. Two models are trained in the same run on the same 4,000 digits: one with the
masked squared error alone, one with the paper's mix of 0.999 masked squared error and
0.001 adversarial loss from a patch discriminator. Both are measured on the 1,000
held-out digits by the mean squared error inside the hole, against a baseline that fills
every hole pixel with its mean over the training digits. Target: the adversarially
trained model's hole error below the mean fill's.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from context_encoder import (
    ContextEncoder,
    PatchDiscriminator,
    center_mask,
    inpaint,
    mean_fill,
    reconstruction_loss,
    train,
)

run = start("context_encoder")

# %%
# Data and mask: 4,000 training and 1,000 test digits (a few hundred in smoke mode), and
# one central 12x12 hole.
x_train, _, x_test, y_test = toydata.mnist()
x_train = x_train[: scale(len(x_train), 200)]
x_test = x_test[: scale(len(x_test), 100)]
mask = center_mask(28, 12)
EPOCHS = scale(10, 1)

# %%
# Train the same generator twice from the same seed: with the masked squared error
# alone, and with the adversarial term added (the discriminator sees only the 12x12
# patch, real or painted).
torch.manual_seed(0)
gen_l2 = ContextEncoder(width=32)
hist_l2 = train(gen_l2, x_train, mask, disc=None, epochs=EPOCHS, device=DEVICE)
torch.manual_seed(0)
gen_adv, disc = ContextEncoder(width=32), PatchDiscriminator(hole=12, width=32)
hist_adv = train(gen_adv, x_train, mask, disc=disc, epochs=EPOCHS, device=DEVICE)
print(
    f"generator {sum(p.numel() for p in gen_adv.parameters()):,} parameters, "
    f"discriminator {sum(p.numel() for p in disc.parameters()):,}"
)

# %%
# Hole error on the held-out digits, and the mean-fill baseline.
fills = {
    "mean fill": mean_fill(x_train, x_test, mask),
    "L2 only": inpaint(gen_l2, x_test, mask, device=DEVICE),
    "L2 + adversarial": inpaint(gen_adv, x_test, mask, device=DEVICE),
}
mse = {k: reconstruction_loss(v, x_test, mask).item() for k, v in fills.items()}
for k, v in mse.items():
    print(f"{k:>17}: hole MSE per pixel {v:.4f}")

# %%
# Before and after: the masked input, both models' fillings and the truth, for the first
# test digit of each class (the hole is outlined).
idx = [int(np.flatnonzero(y_test.numpy() == d)[0]) for d in range(10)]
masked = x_test * (1 - mask) + 0.5 * mask
rows = [
    ("masked input", masked),
    ("L2 only", fills["L2 only"]),
    ("L2 + adv.", fills["L2 + adversarial"]),
    ("truth", x_test),
]
fig, axes = plt.subplots(4, 10, figsize=(8, 3.8))
for r, (label, imgs) in enumerate(rows):
    for j, i in enumerate(idx):
        ax = axes[r, j]
        ax.imshow(imgs[i, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((7.5, 7.5), 12, 12, fill=False, ec="C3", lw=0.8))
        ax.set_xticks([])
        ax.set_yticks([])
        if j == 0:
            ax.set_ylabel(label, fontsize=8)
fig.suptitle("Held-out digits with their central 12x12 square painted in")
plt.tight_layout()
plt.show()

# %%
# Test hole error of the three fillings, and the training curves: the hole's squared
# error per epoch for both models, and the discriminator's loss (2 log 2 = 1.39 when it
# cannot tell).
fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
names = list(mse)
bars = axes[0].bar(names, [mse[k] for k in names], color=["gray", "C0", "C1"])
axes[0].bar_label(bars, fmt="%.4f", fontsize=8)
axes[0].set_ylabel("test MSE per hole pixel")
axes[0].set_title("Error inside the hole (lower is better)")
ep = range(1, EPOCHS + 1)
axes[1].plot(ep, hist_l2["rec"], marker="o", label="hole MSE, L2 only")
axes[1].plot(ep, hist_adv["rec"], marker="s", label="hole MSE, L2 + adv.")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("training hole MSE")
ax2 = axes[1].twinx()
ax2.plot(ep, hist_adv["d"], color="C3", ls="--", label="discriminator loss")
ax2.set_ylabel("discriminator loss", color="C3")
lines = axes[1].get_lines() + ax2.get_lines()
axes[1].legend(lines, [ln.get_label() for ln in lines], fontsize=8)
axes[1].set_title("Training")
plt.tight_layout()
plt.show()

# %%
run.metric(
    "test_hole_mse_l2_adv",
    mse["L2 + adversarial"],
    target=mse["mean fill"],
    higher_is_better=False,
    baseline=mse["mean fill"],
    baseline_name="training-mean fill",
    fmt=".4f",
    headline=True,
)
run.metric(
    "test_hole_mse_l2_only",
    mse["L2 only"],
    higher_is_better=False,
    baseline=mse["mean fill"],
    baseline_name="training-mean fill",
    fmt=".4f",
)
run.finish()
