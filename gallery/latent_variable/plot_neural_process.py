"""
Neural Process: completing digits from a few pixels
===================================================

Treats every MNIST digit as a function from pixel coordinates to intensity and trains a
Neural Process on the 4,000 training digits of MNIST 5,000: from a random set of
observed pixels (the context) it predicts a Gaussian for every pixel. On held-out digits
it shows context, predictive mean, one sample and the truth, and measures the held-out
predictive log-likelihood per pixel as the number of context points grows: a model that
uses its context must see it rise.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from neural_process import NeuralProcess, log_likelihood, pixel_grid, train

run = start("neural_process")

x_train, _, x_test, _ = toydata.mnist()
x_train = x_train[: scale(4000, 200)]

# %%
# Train: each step a random context size between 3 and 200 pixels, 300 target pixels.
model = NeuralProcess(h=128, r_dim=128, z_dim=64)
hist = train(
    model,
    x_train,
    DEVICE,
    steps=scale(1500, 20),
    batch_size=16,
    n_target=300,
    max_context=200,
    lr=5e-4,
)

# %%
# Held-out log-likelihood per pixel against the number of context points (100 test
# digits, the same random pixels for every context size prefix).
sizes = [1, 10, 30, 100, 300, 784]
x_eval = x_test[: scale(100, 20)]
ll = [log_likelihood(model, x_eval, n, DEVICE, samples=scale(4, 2)) for n in sizes]
print("held-out log-likelihood per pixel:", {n: round(v, 3) for n, v in zip(sizes, ll)})

# %%
# Completions of four held-out digits (rows) from 10, 50 and 200 random context pixels:
# the context (observed pixels over blue), the predictive mean, the mean for one sample
# of z, and the truth.
grid = pixel_grid().to(DEVICE)
torch.manual_seed(3)
digits = x_test[:4]
ctx_sizes = [10, 50, 200]
fig, ax = plt.subplots(4, 10, figsize=(9, 4.0))
model.eval()
with torch.no_grad():
    for i in range(4):
        y = digits[i].flatten()[None, :, None].to(DEVICE)
        for c, n in enumerate(ctx_sizes):
            idx = torch.randperm(784, device=DEVICE)[:n]
            xc, yc = grid[idx][None], y[:, idx]
            mean, std = model(xc, yc, grid[None])
            mu_z, sig_z = model.latent(xc, yc)
            one, _ = model(xc, yc, grid[None], z=mu_z + sig_z * torch.randn_like(mu_z))
            ctx = np.full((784, 3), [0.55, 0.7, 0.95])
            ctx[idx.cpu().numpy()] = np.repeat(1 - yc[0].cpu().numpy(), 3, 1)
            ax[i, 3 * c].imshow(ctx.reshape(28, 28, 3))
            ax[i, 3 * c + 1].imshow(
                1 - mean.cpu().view(28, 28).clamp(0, 1), cmap="gray", vmin=0, vmax=1
            )
            ax[i, 3 * c + 2].imshow(
                1 - one.cpu().view(28, 28).clamp(0, 1), cmap="gray", vmin=0, vmax=1
            )
        ax[i, 9].imshow(1 - digits[i, 0], cmap="gray", vmin=0, vmax=1)
for c, n in enumerate(ctx_sizes):
    for k, t in enumerate(["context", "mean", "sample"]):
        ax[0, 3 * c + k].set_title(f"{n} px\n{t}" if k == 0 else f"\n{t}", fontsize=8)
ax[0, 9].set_title("\ntruth", fontsize=8)
for a in ax.flat:
    a.set_xticks([]), a.set_yticks([])
fig.tight_layout()

# %%
# The log-likelihood curve and the training loss.
fig, ax = plt.subplots(1, 2, figsize=(8, 3))
ax[0].plot(sizes, ll, "o-")
ax[0].set(
    xscale="log",
    xlabel="context points",
    ylabel="nats / pixel",
    title="Held-out log-likelihood",
)
k = max(1, len(hist) // 50)
ax[1].plot(np.convolve(hist, np.ones(k) / k, mode="valid"))
ax[1].set(
    xlabel="step", ylabel="-ELBO (nats / image, 300 targets)", title="Training loss"
)
fig.tight_layout()

# %%
# Metrics: the log-likelihood with 100 context points (baseline: 10 points), and the
# share of steps along the context-size curve at which it rises (target: all of them).
rises = float(np.mean(np.diff(ll) > 0))
run.metric("ll_rise_share", rises, target=1.0, headline=True)
run.metric(
    "test_ll_per_pixel_100ctx",
    ll[sizes.index(100)],
    baseline=ll[sizes.index(10)],
    baseline_name="10 context points",
)
run.metric("test_ll_per_pixel_784ctx", ll[-1])
run.finish()
