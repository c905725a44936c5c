"""
CapsNet on MNIST digits
=======================

A CapsNet with three routing iterations, a margin loss and a reconstruction decoder is
trained on the 4,000 training digits of MNIST 5,000 with the paper's augmentation
(random shifts of up to two pixels) and tested on the 1,000 held-out digits (target:
accuracy >= 0.98). The Foundation CNN (``code/cnn.py``) is trained beside it with the
same augmentation for the same number of seconds. Finally, as in the paper, one
dimension of a digit capsule is perturbed at a time and the decoder redraws the digit.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import cnn
import toydata
from _example import DEVICE, SMOKE, scale, start
from capsnet import CapsNet, predict, train

run = start("capsnet")

x_train, y_train, x_test, y_test = toydata.mnist()
if SMOKE:
    x_train, y_train = x_train[:256], y_train[:256]

# %%
# Training the CapsNet
# --------------------
model = CapsNet(conv_ch=32, n_primary=8)
t0 = time.perf_counter()
hist = train(
    model, x_train, y_train, epochs=scale(8, 1), batch_size=64, lr=3e-3, device=DEVICE
)
caps_seconds = time.perf_counter() - t0
pred, caps = predict(model, x_test, DEVICE)
acc = (pred == y_test).float().mean().item()
print(f"CapsNet: test accuracy {acc:.4f} after {caps_seconds:.1f} s of training")

# %%
# The Foundation CNN for the same seconds
# ---------------------------------------
# One CNN epoch is timed on a throwaway model; the baseline then gets as many epochs as
# fit in the CapsNet's training time (its own one-cycle schedule spans them all).
probe = cnn.CNN()
t0 = time.perf_counter()
cnn.train(probe, x_train[:640], y_train[:640], epochs=1, device=DEVICE)
epoch_seconds = (time.perf_counter() - t0) * len(x_train) / 640
cnn_epochs = max(1, round(caps_seconds / epoch_seconds))
torch.manual_seed(0)
baseline = cnn.CNN()
t0 = time.perf_counter()
cnn.train(baseline, x_train, y_train, epochs=cnn_epochs, device=DEVICE)
cnn_seconds = time.perf_counter() - t0
acc_cnn = (cnn.predict(baseline, x_test, DEVICE) == y_test).float().mean().item()
print(
    f"CNN: test accuracy {acc_cnn:.4f} after {cnn_epochs} epochs, {cnn_seconds:.1f} s"
)

# %%
# Capsule lengths and training loss
# ---------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
axes[0].plot(np.arange(1, len(hist) + 1), hist, marker="o")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("margin + reconstruction loss")
axes[0].set_title("CapsNet training loss")
lengths = caps.norm(dim=-1)
correct = lengths[torch.arange(len(y_test)), y_test]
others = lengths.clone()
others[torch.arange(len(y_test)), y_test] = float("nan")
bins = np.linspace(0, 1, 41)
axes[1].hist(
    others.flatten()[~others.flatten().isnan()].numpy(),
    bins=bins,
    alpha=0.7,
    label="other capsules",
    color="C7",
)
axes[1].hist(
    correct.numpy(), bins=bins, alpha=0.8, label="true-class capsule", color="C0"
)
axes[1].axvline(0.9, ls="--", color="k", lw=0.8)
axes[1].axvline(0.1, ls="--", color="k", lw=0.8)
axes[1].set_yscale("log")
axes[1].set_xlabel("capsule length |v| (test digits)")
axes[1].set_title("Lengths vs the margins 0.1 and 0.9")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Perturbing one capsule dimension
# --------------------------------
# Take a test digit's capsule for its predicted class, add -0.25 ... 0.25 to one of its
# 16 dimensions, and decode. Each row is one dimension: the decoder reads pose
# properties (stroke width, slant, scale, local shape) off single directions of the
# capsule.
i = int(
    torch.cat([((pred == y_test) & (y_test == 3)).nonzero()[:, 0], torch.tensor([0])])[
        0
    ]
)
dims = list(range(6))
steps = torch.linspace(-0.25, 0.25, 11)
model.eval()
fig, axes = plt.subplots(len(dims), len(steps), figsize=(7.5, 4.4))
with torch.no_grad():
    for r, d in enumerate(dims):
        v = caps[i : i + 1].repeat(len(steps), 1, 1).to(DEVICE)
        v[:, pred[i], d] += steps.to(DEVICE)
        imgs = model.reconstruct(v, pred[i : i + 1].repeat(len(steps)).to(DEVICE)).cpu()
        for c in range(len(steps)):
            ax = axes[r, c]
            ax.imshow(imgs[c, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(f"dim {d}", fontsize=8)
            if r == len(dims) - 1:
                ax.set_xlabel(f"{steps[c]:+.2f}", fontsize=7)
fig.suptitle("Reconstructions as one dimension of the digit capsule is perturbed")
fig.tight_layout()
plt.show()

# %%
# Metrics
# -------
run.metric(
    "test_accuracy",
    acc,
    target=0.98,
    baseline=acc_cnn,
    baseline_name="Foundation CNN, same seconds and augmentation",
    fmt=".4f",
    headline=True,
)
run.metric("train_seconds_capsnet", caps_seconds, fmt=".1f")
run.metric("train_seconds_cnn", cnn_seconds, fmt=".1f")
run.finish()
