"""
Autoencoder on MNIST digits
===========================

Trains a fully connected autoencoder with a two-number code on 4,000 MNIST digits and
measures its reconstruction error (mean squared error per pixel) on the 1,000 held-out
digits. The baseline is PCA with the same code size, fitted in the same run on the same
training digits: the best any *linear* encoder and decoder can do. Target: the
autoencoder's test error below PCA's.
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
# Data: 4,000 training and 1,000 test digits (smoke mode uses a few hundred).
x_train, y_train, x_test, y_test = toydata.mnist()
n = scale(len(x_train), 300)
x_train, y_train = x_train[:n], y_train[:n]
CODE = 2

# %%
# Train the autoencoder and fit PCA with the same code size.
model = Autoencoder(code_dim=CODE)
history = train(model, x_train, epochs=scale(20, 2), device=DEVICE)
ae_mse = evaluate(model, x_test, device=DEVICE)
pca_mse, pca_rec = pca_baseline(x_train, x_test, CODE)
print(
    f"test MSE per pixel: autoencoder {ae_mse:.4f}, PCA {pca_mse:.4f} (code size "
    f"{CODE})"
)

# %%
# The codes of the test digits. The autoencoder spreads the classes out along curved
# arms; PCA's two directions of largest variance overlap most classes.
with torch.no_grad():
    z = model.encode(x_test.to(DEVICE)).cpu().numpy()
a = x_train.flatten(1).double()
mean = a.mean(0)
v = torch.linalg.svd(a - mean, full_matrices=False)[2][:CODE]
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
# Reconstructions of the first test digit of each class, from two numbers each.
with torch.no_grad():
    rec = model(x_test.to(DEVICE)).cpu()
idx = [int(np.flatnonzero(y_test.numpy() == d)[0]) for d in range(10)]
fig, axes = plt.subplots(3, 10, figsize=(8, 2.8))
for j, i in enumerate(idx):
    for r, (img, label) in enumerate(
        [(x_test[i], "input"), (rec[i], "autoencoder"), (pca_rec[i], "PCA")]
    ):
        ax = axes[r, j]
        ax.imshow(img[0].clamp(0, 1), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if j == 0:
            ax.set_ylabel(label, fontsize=8)
fig.suptitle(f"Test digits and their reconstructions from a {CODE}-number code")
plt.tight_layout()
plt.show()

# %%
# The training loss per epoch.
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(range(1, len(history) + 1), history, marker="o", label="autoencoder (train)")
ax.axhline(pca_mse, color="gray", ls="--", label="PCA (test)")
ax.axhline(ae_mse, color="C1", ls=":", label="autoencoder (test)")
ax.set_xlabel("epoch")
ax.set_ylabel("MSE per pixel")
ax.set_title("Reconstruction error")
ax.legend()
plt.tight_layout()
plt.show()

# %%
run.metric(
    "test_mse_per_pixel",
    ae_mse,
    target=pca_mse,
    higher_is_better=False,
    baseline=pca_mse,
    baseline_name=f"PCA, {CODE} components",
    fmt=".4f",
    headline=True,
)
run.finish()
