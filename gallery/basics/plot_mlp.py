"""
MLP on 8x8 digits
=================

A two-hidden-layer perceptron classifies scikit-learn's 1,797 handwritten digits (8x8
pixels, flattened to 64 numbers). Three quarters train it, the held-out quarter measures
it. The target is a test accuracy of at least 0.97; logistic regression, fitted on the
same split in the same run, is the baseline an MLP has to beat. A small sweep over depth
and width shows where the gain comes from.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

import toydata
from _example import DEVICE, SMOKE, scale, start
from mlp import MLP, predict, train

run = start("mlp")

# %%
# Data
# ----
# ``toydata.digits8`` scales the pixels to [0, 1] and makes a stratified 75/25 split.
x_train, y_train, x_test, y_test = toydata.digits8()
if SMOKE:
    x_train, y_train = x_train[:300], y_train[:300]
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")

# %%
# Baseline: logistic regression
# -----------------------------
# One linear layer and a softmax: the MLP without hidden layers, fitted to convergence
# by scikit-learn (L2 penalty, ``C=1``).
logreg = LogisticRegression(max_iter=2000, C=1.0).fit(x_train.numpy(), y_train.numpy())
pred_lr = torch.tensor(logreg.predict(x_test.numpy()))
acc_lr = (pred_lr == y_test).float().mean().item()
print(f"logistic regression test accuracy: {acc_lr:.4f}")

# %%
# Train the MLP
# -------------
# 64 -> 512 -> 256 -> 10 with ReLU and dropout 0.3, AdamW with a cosine schedule.
epochs = scale(60, 5)
model = MLP(n_in=64, hidden=(512, 256), n_classes=10, dropout=0.3)
t0 = time.perf_counter()
history = train(model, x_train, y_train, epochs=epochs, device=DEVICE)
pred = predict(model, x_test, device=DEVICE)
acc = (pred == y_test).float().mean().item()
print(
    f"MLP test accuracy: {acc:.4f}  ({time.perf_counter() - t0:.1f} s, "
    f"{sum(p.numel() for p in model.parameters()):,} parameters)"
)

# %%
# Depth and width
# ---------------
# The same training loop with one hidden layer of 16, 64 or 512 units, beside the
# two-layer model above. Logistic regression is the zero-hidden-layer end of this line;
# the bars below show what each step in width and depth buys on this small data set.
sweep = {"16": (16,), "64": (64,), "512": (512,), "512-256": (512, 256)}
sweep_acc = {}
for name, hidden in sweep.items():
    if hidden == (512, 256):
        sweep_acc[name] = acc
        continue
    torch.manual_seed(1)
    m = MLP(n_in=64, hidden=hidden, dropout=0.3)
    train(m, x_train, y_train, epochs=epochs, device=DEVICE)
    sweep_acc[name] = (
        (predict(m, x_test, device=DEVICE) == y_test).float().mean().item()
    )
    print(f"hidden {name:>8}: test accuracy {sweep_acc[name]:.4f}")

# %%
# Training curve and accuracies
# -----------------------------
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
ax1.plot(np.arange(1, len(history) + 1), history, color="#2563eb", lw=2)
ax1.set_yscale("log")
ax1.set(
    xlabel="epoch",
    ylabel="training cross-entropy (log scale)",
    title="MLP training loss",
)
ax1.grid(alpha=0.3)
names = ["logistic\nregression"] + [f"hidden\n{k}" for k in sweep_acc]
vals = [acc_lr] + list(sweep_acc.values())
colors = ["#94a3b8"] + ["#93c5fd"] * (len(vals) - 2) + ["#2563eb"]
bars = ax2.bar(names, vals, color=colors)
ax2.bar_label(bars, labels=[f"{v:.3f}" for v in vals], fontsize=8, padding=2)
ax2.axhline(0.97, color="#dc2626", ls="--", lw=1, label="target 0.97")
ax2.set_ylim(min(vals) - 0.03, 1.0)
ax2.set(ylabel="test accuracy", title="Held-out accuracy by model")
ax2.tick_params(axis="x", labelsize=8)
ax2.legend(loc="lower right", fontsize=8)
fig.tight_layout()

# %%
# The test digits the MLP gets wrong
# ----------------------------------
all_wrong = torch.nonzero(pred != y_test).flatten()
wrong = all_wrong[:16]
fig, axes = plt.subplots(2, 8, figsize=(8, 2.8))
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, wrong.tolist()):
    ax.imshow(x_test[i].view(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"true {y_test[i].item()}, said {pred[i].item()}", fontsize=7)
shown = "All" if len(wrong) == len(all_wrong) else f"{len(wrong)} of the"
fig.suptitle(
    f"{shown} {len(all_wrong)} misclassified test digits (of {len(y_test)})",
    fontsize=10,
)
fig.tight_layout()

# %%
# Metrics
# -------
run.metric(
    "test_accuracy",
    acc,
    target=0.97,
    baseline=acc_lr,
    baseline_name="logistic regression",
    fmt=".4f",
    headline=True,
)
run.metric(
    "test_error_rate",
    1 - acc,
    baseline=1 - acc_lr,
    higher_is_better=False,
    baseline_name="logistic regression",
    fmt=".4f",
)
run.finish()
