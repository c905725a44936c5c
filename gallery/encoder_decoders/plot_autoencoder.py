"""
Autoencoder on MNIST digits
===========================

Trains fully connected autoencoders with codes of 2, 8 and 32 numbers on 4,000 MNIST
digits and measures their reconstruction error (mean squared error per pixel) on the
1,000 held-out digits. The baseline is PCA with the same code size, fitted in the same
run on the same training digits: the best any *linear* encoder and decoder can do. The
ablation is the same autoencoder with every nonlinearity removed, trained the same way:
at best it can match PCA. The trivial answer, the mean training digit (a code of zero
numbers), is computed too. Target: the autoencoder's test error below PCA's at each
code size; the headline is the middle size, 8.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from autoencoder import Autoencoder, evaluate, pca_baseline, train

run = start("autoencoder")

# %%
# Data: 4,000 training and 1,000 test digits (smoke mode uses a few hundred). The
# epochs and learning rate were set on a validation split (the last 500 training
# digits) while writing this example.
x_train, y_train, x_test, y_test = toydata.mnist()
n = scale(len(x_train), 300)
x_train, y_train = x_train[:n], y_train[:n]
CODES = (2, 8, 32)
HEADLINE = 8
EPOCHS = scale(20, 2)
mean_mse = ((x_test - x_train.mean(0)) ** 2).mean().item()
print(f"mean training digit as the reconstruction: test MSE {mean_mse:.4f}")

# %%
# For each code size: the autoencoder, its linear ablation, and PCA.
models, res = {}, {}
for code in CODES:
    for linear in (False, True):
        torch.manual_seed(1000 * run.seed + code)
        m = Autoencoder(code_dim=code, linear=linear)
        h = train(m, x_train, epochs=EPOCHS, device=DEVICE, seed=run.seed)
        models[code, linear] = (m, h)
    pca_mse, pca_rec = pca_baseline(x_train, x_test, code)
    res[code] = dict(
        ae=evaluate(models[code, False][0], x_test, device=DEVICE),
        linear=evaluate(models[code, True][0], x_test, device=DEVICE),
        pca=pca_mse,
        pca_rec=pca_rec,
    )
    r = res[code]
    print(
        f"code {code:2d}: test MSE per pixel autoencoder {r['ae']:.4f}, linear "
        f"autoencoder {r['linear']:.4f}, PCA {r['pca']:.4f}"
    )

# %%
# Error against code size. The nonlinear autoencoder's lead over PCA is largest for
# the shortest code; the linear one tracks PCA from above, as it must.
fig, ax = plt.subplots(figsize=(8, 3.4))
for key, label, style in [
    ("ae", "autoencoder", dict(color="#2563eb", marker="o")),
    ("linear", "linear autoencoder (ablation)", dict(color="#f59e0b", marker="s")),
    ("pca", "PCA (baseline)", dict(color="#475569", marker="D", ls="--")),
]:
    ax.plot(CODES, [res[c][key] for c in CODES], label=label, lw=2, **style)
ax.axhline(mean_mse, color="#dc2626", ls=":", lw=1.2, label="mean digit (no code)")
ax.set_xscale("log", base=2)
ax.set_xticks(CODES, [str(c) for c in CODES])
ax.set_yscale("log")
ax.set(xlabel="code size", ylabel="test MSE per pixel (log scale)")
ax.set_title("Reconstruction error of held-out digits by code size")
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
fig.tight_layout()
for key in ("ae", "linear", "pca"):
    run.series(
        f"test_mse_{key}",
        CODES,
        [res[c][key] for c in CODES],
        x_name="code size",
        y_name="test MSE per pixel",
    )

# %%
# The 2-number codes of the test digits. The autoencoder spreads the classes out along
# curved arms; PCA's two directions of largest variance overlap most classes.
with torch.no_grad():
    z = models[2, False][0].encode(x_test.to(DEVICE)).cpu().numpy()
a = x_train.flatten(1).double()
mean = a.mean(0)
v = torch.linalg.svd(a - mean, full_matrices=False)[2][:2]
z_pca = ((x_test.flatten(1).double() - mean) @ v.T).numpy()

fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, codes, name in [(axes[0], z, "autoencoder"), (axes[1], z_pca, "PCA")]:
    sc = ax.scatter(
        codes[:, 0],
        codes[:, 1],
        c=y_test.numpy(),
        cmap="tab10",
        s=6,
        alpha=0.8,
        vmin=-0.5,
        vmax=9.5,
    )
    ax.set_title(f"{name}: 2-D codes of test digits")
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
fig.colorbar(sc, ax=axes, ticks=range(10), label="digit", fraction=0.04)
plt.show()

# %%
# Reconstructions of the first test digit of each class, by the autoencoder and by
# PCA, from codes of 2 and of 8 numbers.
idx = [int(np.flatnonzero(y_test.numpy() == d)[0]) for d in range(10)]
rows = [("input", x_test)]
for code in (2, HEADLINE):
    with torch.no_grad():
        rec = models[code, False][0](x_test.to(DEVICE)).cpu()
    rows += [(f"AE, {code}", rec), (f"PCA, {code}", res[code]["pca_rec"])]
fig, axes = plt.subplots(len(rows), 10, figsize=(8, 1.0 * len(rows) + 0.4))
for r, (label, imgs) in enumerate(rows):
    for j, i in enumerate(idx):
        ax = axes[r, j]
        ax.imshow(imgs[i, 0].clamp(0, 1), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if j == 0:
            ax.set_ylabel(label, fontsize=8)
fig.suptitle("Test digits and their reconstructions from codes of 2 and 8 numbers")
plt.tight_layout()
plt.show()

# %%
# The training loss per epoch at each code size.
fig, ax = plt.subplots(figsize=(8, 3))
for code, color in zip(CODES, ("#93c5fd", "#2563eb", "#1e3a8a")):
    h = models[code, False][1]["loss"]
    ax.plot(range(1, len(h) + 1), h, color=color, label=f"code {code}")
ax.set_yscale("log")
ax.set(xlabel="epoch", ylabel="training MSE per pixel", title="Training loss")
ax.legend()
plt.tight_layout()
plt.show()

# %%
# Metrics. The target at each code size, fixed before the final runs, is PCA's error
# with the same code size: PCA is the best linear coder, so only a nonlinear code can
# pass. The mean digit is the trivial answer; every model is far below it.
for code in sorted(CODES, key=lambda c: c != HEADLINE):
    r = res[code]
    run.metric(
        f"test_mse_code{code}",
        r["ae"],
        target=r["pca"],
        higher_is_better=False,
        baseline=r["pca"],
        baseline_name=f"PCA, {code} components",
        ablation=r["linear"],
        ablation_name="linear autoencoder",
        fmt=".4f",
        headline=code == HEADLINE,
    )
run.metric("test_mse_mean_digit", mean_mse, higher_is_better=False, fmt=".4f")
run.finish()
