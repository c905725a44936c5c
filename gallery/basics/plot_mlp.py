"""
MLP on 8x8 digits
=================

A perceptron with hidden layers classifies scikit-learn's 1,797 handwritten digits (8x8
pixels, flattened to 64 numbers). Three quarters train it, the held-out quarter (450
digits) measures it, once, at the end. Every choice is made on the training digits: the
depth and width of the MLP on a validation fifth carved from them (three seeds per
configuration), the penalty of the baseline, logistic regression, by 5-fold
cross-validation. The ablation is the chosen network with its ReLUs removed: the same
layers, training and budget, but one linear map. The target asks the MLP to beat tuned
logistic regression by more than the noise of its own seeds.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split

import toydata
from _example import DEVICE, SMOKE, scale, start
from mlp import MLP, predict, train

run = start("mlp")

# %%
# Data
# ----
# ``toydata.digits8`` scales the pixels to [0, 1] and makes a stratified 75/25 split. A
# stratified fifth of the training digits is the validation split for every choice; the
# split is fixed (it does not follow the seed), so all seeds choose on the same digits.
x_train, y_train, x_test, y_test = toydata.digits8()
if SMOKE:
    x_train, y_train = x_train[:300], y_train[:300]
i_fit, i_val = train_test_split(
    np.arange(len(y_train)), test_size=0.2, stratify=y_train.numpy(), random_state=0
)
x_fit, y_fit, x_val, y_val = (
    x_train[i_fit],
    y_train[i_fit],
    x_train[i_val],
    y_train[i_val],
)
print(f"fit {len(i_fit)}, validation {len(i_val)}, test {len(y_test)} digits")


def accuracy(pred, y):
    return (pred == y).float().mean().item()


# %%
# Baseline: logistic regression, tuned
# ------------------------------------
# One linear layer and a softmax: the MLP without hidden layers, fitted to convergence
# by scikit-learn with an L2 penalty whose strength ``C`` is chosen by 5-fold
# cross-validation on the training digits, then refitted on all of them.
grid = {"C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]}
cv = GridSearchCV(LogisticRegression(max_iter=5000), grid, cv=scale(5, 2))
cv.fit(x_train.numpy(), y_train.numpy())
best_c = cv.best_params_["C"]
acc_lr = accuracy(torch.tensor(cv.predict(x_test.numpy())), y_test)
val_lr = accuracy(
    torch.tensor(
        LogisticRegression(max_iter=5000, C=best_c)
        .fit(x_fit.numpy(), y_fit.numpy())
        .predict(x_val.numpy())
    ),
    y_val,
)
print(f"logistic regression (C={best_c}): validation {val_lr:.4f}, test {acc_lr:.4f}")

# %%
# Depth and width, chosen on validation
# -------------------------------------
# Six shapes, from one hidden layer of 16 units to two of 512 and 256, each trained
# three times (three seeds) on the fit split and scored on the validation split.
# Dropout 0.3, 30 epochs, AdamW at 3e-3 with batches of 32 were fixed beforehand the
# same way, on this validation split. The shape with the best mean validation accuracy
# wins (ties go to the smaller network).
EPOCHS = scale(30, 3)
SHAPES = [(16,), (64,), (256,), (1024,), (256, 256), (512, 256)]
SEEDS = [1000 * run.seed + k for k in range(scale(3, 2))]
val_acc = {}
for hidden in SHAPES:
    val_acc[hidden] = []
    for s in SEEDS:
        torch.manual_seed(s)
        m = MLP(n_in=64, hidden=hidden, dropout=0.3)
        train(m, x_fit, y_fit, epochs=EPOCHS, device=DEVICE, seed=s)
        val_acc[hidden].append(accuracy(predict(m, x_val, device=DEVICE), y_val))
    print(f"hidden {str(hidden):>10}: validation {np.mean(val_acc[hidden]):.4f}")
n_params = {h: sum(p.numel() for p in MLP(64, h).parameters()) for h in SHAPES}
best = max(SHAPES, key=lambda h: (round(np.mean(val_acc[h]), 6), -n_params[h]))
print(f"chosen: hidden {best} ({n_params[best]:,} parameters)")

# %%
# The chosen MLP and its ablation, on all training digits
# -------------------------------------------------------
# The chosen shape is trained on all the training digits (fit and validation) and
# measured on the test digits, once. The ablation is the same network with
# ``nn.Identity`` in place of each ReLU, trained the same way: without the nonlinearity
# its layers multiply out to a single 64 x 10 linear map.
torch.manual_seed(run.seed)
model = MLP(n_in=64, hidden=best, dropout=0.3)
history = train(model, x_train, y_train, epochs=EPOCHS, device=DEVICE, seed=run.seed)
pred = predict(model, x_test, device=DEVICE)
acc = accuracy(pred, y_test)
torch.manual_seed(run.seed)
linear = MLP(n_in=64, hidden=best, dropout=0.3, activation=nn.Identity)
lin_hist = train(linear, x_train, y_train, epochs=EPOCHS, device=DEVICE, seed=run.seed)
acc_linear = accuracy(predict(linear, x_test, device=DEVICE), y_test)
print(
    f"test accuracy: MLP {acc:.4f}, linear ablation {acc_linear:.4f}, LR {acc_lr:.4f}"
)

# %%
# Validation accuracy by shape, and the training curves
# -----------------------------------------------------
# Bars: the mean validation accuracy of each shape over its three seeds, with error
# bars of one standard deviation; the chosen shape is dark. The grey line is tuned
# logistic regression on the same validation split.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), width_ratios=[1, 1.6])
ax1.plot(np.arange(1, EPOCHS + 1), history["loss"], color="#2563eb", lw=2, label="MLP")
ax1.plot(
    np.arange(1, EPOCHS + 1), lin_hist["loss"], color="#94a3b8", lw=2, label="no ReLU"
)
ax1.set_yscale("log")
ax1.set(xlabel="epoch", ylabel="training cross-entropy", title="Training loss")
ax1.grid(alpha=0.3)
ax1.legend(fontsize=8)
names = ["-".join(map(str, h)) for h in SHAPES]
means = [np.mean(val_acc[h]) for h in SHAPES]
sds = [np.std(val_acc[h], ddof=1) for h in SHAPES]
colors = ["#2563eb" if h == best else "#93c5fd" for h in SHAPES]
ax2.bar(names, means, yerr=sds, capsize=3, color=colors)
ax2.axhline(val_lr, color="#475569", ls="--", lw=1.2, label="logistic regression")
ax2.set_ylim(min(means) - 0.03, 1.0)
ax2.set(
    xlabel="hidden layer widths",
    ylabel="validation accuracy",
    title=f"Mean ± sd over {len(SEEDS)} seeds",
)
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
# The target, fixed before the final runs: tuned logistic regression's test accuracy
# plus 0.005, about twice the standard deviation over seeds (0.002 to 0.003) that the
# larger shapes showed on validation while the settings were fixed, and a little over
# two test digits. A smaller margin is within the noise of training. The test set's own
# sampling error (a binomial standard error of about 0.007 at this accuracy) is larger
# still: the page says so.
run.metric(
    "test_accuracy",
    acc,
    target=acc_lr + 0.005,
    baseline=acc_lr,
    baseline_name=f"logistic regression, C={best_c} by 5-fold CV",
    ablation=acc_linear,
    ablation_name="same MLP, ReLUs removed",
    fmt=".4f",
    headline=True,
)
run.metric(
    "test_errors",
    int((pred != y_test).sum()),
    baseline=round((1 - acc_lr) * len(y_test)),
    baseline_name="logistic regression",
    ablation=round((1 - acc_linear) * len(y_test)),
    ablation_name="ReLUs removed",
    higher_is_better=False,
    fmt=".0f",
)
run.metric("validation_accuracy_chosen_shape", np.mean(val_acc[best]), fmt=".4f")
run.finish()
