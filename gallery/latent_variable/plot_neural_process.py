"""
Neural Process: completing digits from a few pixels
===================================================

Treats every MNIST digit as a function from pixel coordinates to intensity and trains a
Neural Process on 3,500 training digits of MNIST 5,000: from a random set of observed
pixels (the context, 3 to 200 during training) it predicts a Gaussian for every pixel.
On 200 held-out digits it scores only the pixels it was not shown, with 10 to 200
context points (inside the trained range): the headline is the predictive
log-likelihood per unseen pixel with 50 context points, a joint score over each
digit's unseen pixels. In the same run: the trivial baseline that ignores the context,
an independent Gaussian per pixel fitted to the training digits; and the ablation, the
same network without its latent path (a conditional neural process, deterministic
given the context), which shows what the global latent z buys.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import DEVICE, scale, start
from _latent import mnist_splits
from neural_process import (
    NeuralProcess,
    context_split,
    log_likelihood,
    pixel_grid,
    train,
)

run = start("neural_process")

x_train, _, _, _, x_test, _ = mnist_splits(
    n_train=scale(3500, 200), n_test=scale(200, 20), binarize=False
)

# %%
# Train the NP and the CNP ablation with the same steps, batches and optimiser: each
# step a random context of 3 to 200 pixels and 300 target pixels that contain it.
opts = dict(
    steps=scale(1500, 20),
    batch_size=16,
    n_target=300,
    max_context=200,
    lr=5e-4,
    device=DEVICE,
)
model = NeuralProcess(h=128, r_dim=128, z_dim=64)
hist = train(model, x_train, **opts)["loss"]
cnp = NeuralProcess(h=128, r_dim=128, z_dim=0)
hist_cnp = train(cnp, x_train, **opts)["loss"]

# %%
# The context-free baseline: every pixel an independent Gaussian with its training
# mean and standard deviation (floored at 0.05, the models' smallest standard
# deviation), scored on the same unseen pixels.
y_tr = x_train.flatten(1)
pix_mean, pix_std = y_tr.mean(0), y_tr.std(0).clamp(min=0.05)


def pixel_gaussian_ll(images, n_context, seed=0):
    tgt = context_split(len(images), n_context, seed)[:, n_context:]
    y = torch.gather(images.flatten(1), 1, tgt)
    d = torch.distributions.Normal(pix_mean[tgt], pix_std[tgt])
    return d.log_prob(y).mean().item()


sizes = [10, 30, 50, 100, 200]
S = scale(16, 2)
ll = {
    "NP": [log_likelihood(model, x_test, n, samples=S, device=DEVICE) for n in sizes],
    "CNP": [log_likelihood(cnp, x_test, n, device=DEVICE) for n in sizes],
    "pixel Gaussian": [pixel_gaussian_ll(x_test, n) for n in sizes],
}
for k, v in ll.items():
    print(f"{k:15s}", " ".join(f"{n}: {x:.3f}" for n, x in zip(sizes, v)))

# %%
# Completions of four held-out digits (rows) from 10, 50 and 200 random context
# pixels: the context (observed pixels over blue), the predictive mean for two
# samples of z (different samples give different, each coherent, digits), the CNP's
# mean, and the truth.
grid = pixel_grid().to(DEVICE)
torch.manual_seed(3)
digits = x_test[:4]
ctx_sizes = [10, 50, 200]
fig, ax = plt.subplots(4, 13, figsize=(11, 4.0))
model.eval(), cnp.eval()
with torch.no_grad():
    for i in range(4):
        y = digits[i].flatten()[None, :, None].to(DEVICE)
        for c, n in enumerate(ctx_sizes):
            idx = torch.randperm(784, device=DEVICE)[:n]
            xc, yc = grid[idx][None], y[:, idx]
            ctx = np.full((784, 3), [0.55, 0.7, 0.95])
            ctx[idx.cpu().numpy()] = np.repeat(1 - yc[0].cpu().numpy(), 3, 1)
            ax[i, 4 * c].imshow(ctx.reshape(28, 28, 3))
            panels = [
                model(xc, yc, grid[None])[0],
                model(xc, yc, grid[None])[0],
                cnp(xc, yc, grid[None])[0],
            ]
            for k, p in enumerate(panels, 1):
                ax[i, 4 * c + k].imshow(
                    1 - p.cpu().view(28, 28).clamp(0, 1), cmap="gray", vmin=0, vmax=1
                )
        ax[i, 12].imshow(1 - digits[i, 0], cmap="gray", vmin=0, vmax=1)
for c, n in enumerate(ctx_sizes):
    for k, t in enumerate(["context", "NP, z 1", "NP, z 2", "CNP"]):
        ax[0, 4 * c + k].set_title(f"{n} px\n{t}" if k == 0 else f"\n{t}", fontsize=7)
ax[0, 12].set_title("\ntruth", fontsize=7)
for a in ax.flat:
    a.set_xticks([]), a.set_yticks([])
fig.tight_layout()

# %%
# The log-likelihood of unseen pixels against the number of context points, for the
# three models, and the training losses.
fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
for k, v in ll.items():
    ax[0].plot(sizes, v, "o-", label=k)
ax[0].set(
    xscale="log",
    xlabel="context points",
    ylabel="nats / unseen pixel",
    title="Held-out log-likelihood of unseen pixels",
)
ax[0].legend(frameon=False, fontsize=8)
k = max(1, len(hist) // 50)
for h, name in [(hist, "NP"), (hist_cnp, "CNP")]:
    ax[1].plot(np.convolve(h, np.ones(k) / k, mode="valid"), label=name)
ax[1].set(xlabel="step", ylabel="loss (nats / image, 300 targets)", title="Training")
ax[1].legend(frameon=False, fontsize=8)
fig.tight_layout()
for k, v in ll.items():
    run.series(f"ll_unseen_{k}", sizes, v, x_name="context points", y_name="nats/pixel")

# %%
# Metrics.
# The target, fixed before the final run as a rule: above both the context-free
# baseline and the CNP by 0.02 nats per unseen pixel (about 15 nats per digit).
i50 = sizes.index(50)
run.metric(
    "test_ll_unseen_50ctx",
    ll["NP"][i50],
    target=max(ll["pixel Gaussian"][i50], ll["CNP"][i50]) + 0.02,
    baseline=ll["pixel Gaussian"][i50],
    baseline_name="independent Gaussian per pixel (no context)",
    ablation=ll["CNP"][i50],
    ablation_name="no latent path (CNP)",
    headline=True,
)
for n in (10, 200):
    i = sizes.index(n)
    run.metric(
        f"test_ll_unseen_{n}ctx",
        ll["NP"][i],
        baseline=ll["pixel Gaussian"][i],
        baseline_name="independent Gaussian per pixel",
        ablation=ll["CNP"][i],
        ablation_name="no latent path (CNP)",
    )
run.finish()
