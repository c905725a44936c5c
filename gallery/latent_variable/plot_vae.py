"""
VAE on binarized MNIST digits
=============================

Trains a variational autoencoder (small convolutional encoder and decoder, 16 latent
dimensions) on the 4,000 training digits of MNIST 5,000, binarized at 0.5, and reports
the negative ELBO on the 1,000 held-out digits in nats per image (target: at most 100),
split into its reconstruction and KL parts. The baseline is the best model with
independent pixels (each pixel a Bernoulli with its training-set mean). Then it samples
from the prior, interpolates between two digits in latent space, and looks at why prior
samples look like digits at all.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from vae import VAE, evaluate, sample, train

run = start("vae")

# %%
# Data: binarize at 0.5, so each pixel is exactly 0 or 1 and the Bernoulli likelihood is
# exact.
x_train, y_train, x_test, y_test = toydata.mnist()
x_train, x_test = (x_train > 0.5).float(), (x_test > 0.5).float()
x_train, x_test = x_train[: scale(4000, 500)], x_test[: scale(1000, 200)]

# Baseline: independent Bernoulli pixels with the training means (no latent variable at
# all).
p = x_train.flatten(1).mean(0).clamp(1e-3, 1 - 1e-3)
xt = x_test.flatten(1)
baseline_nll = -(xt * p.log() + (1 - xt) * (1 - p).log()).sum(1).mean().item()

# %%
# Train. The loss is the negative ELBO in nats per image; the held-out curve is measured
# each epoch.
model = VAE(z_dim=16, width=16, hidden=256)
hist = train(
    model, x_train, DEVICE, epochs=scale(60, 2), batch_size=100, lr=3e-3, x_test=x_test
)
neg_elbo, kl = evaluate(model, x_test, DEVICE)
print(
    f"test -ELBO {neg_elbo:.1f} nats = recon {neg_elbo - kl:.1f} + KL {kl:.1f}; "
    f"independent pixels {baseline_nll:.1f}"
)

# %%
# Training curves, samples from the prior, and a straight line in latent space between
# two test digits (their posterior means), decoded at ten points.
torch.manual_seed(1)
samples = sample(model, 40, DEVICE).cpu().view(-1, 28, 28)
with torch.no_grad():
    model.eval()
    first = [
        int((y_test == d).nonzero()[0]) for d in range(10)
    ]  # one test digit per class
    mu, _ = model.encode(x_test[first].to(DEVICE))
    t = torch.linspace(0, 1, 10, device=DEVICE)[:, None]
    lines = [
        torch.sigmoid(model.decode((1 - t) * mu[a] + t * mu[b])).cpu().view(-1, 28, 28)
        for a, b in [(1, 7), (3, 8), (4, 9)]
    ]


def tile(imgs, rows, cols):
    imgs = imgs[: rows * cols].reshape(rows, cols, 28, 28)
    return imgs.permute(0, 2, 1, 3).reshape(rows * 28, cols * 28).numpy()


fig, ax = plt.subplots(
    1, 3, figsize=(11, 3.6), gridspec_kw=dict(width_ratios=[1.1, 1.25, 1.25])
)
ep = np.arange(1, len(hist["train"]) + 1)
ax[0].plot(ep, hist["train"], label="train")
ax[0].plot(ep, hist["test"], label="test")
ax[0].axhline(100, color="k", ls=":", lw=1, label="target 100")
ax[0].set(
    xlabel="epoch",
    ylabel="-ELBO (nats / image)",
    title="Negative ELBO",
    ylim=(min(hist["train"]) - 10, 200),
)
ax[0].legend(frameon=False)
ax[1].imshow(tile(samples, 5, 8), cmap="gray_r")
ax[1].set_title("Samples from the prior z ~ N(0, I)")
ax[2].imshow(tile(torch.cat(lines), 3, 10), cmap="gray_r")
ax[2].set_title("Latent interpolation: 1 → 7, 3 → 8, 4 → 9")
for a in ax[1:]:
    a.axis("off")
fig.tight_layout()

# %%
# Why do prior samples look like digits? Each test digit's posterior q(z|x) is a narrow
# Gaussian; the KL term pulls their *mixture*, the aggregate posterior q(z) = mean over
# x of q(z|x), onto the prior. Left: one posterior sample per test digit (coloured by
# digit) against prior samples (grey), projected on the two main directions of the
# posterior samples. Middle: the same on one coordinate as a histogram. Right: decoded
# points from the aggregate posterior and the prior.
with torch.no_grad():
    mu, logvar = model.encode(x_test.to(DEVICE))
    zq = (mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)).cpu()
    zp = torch.randn_like(zq)
    dec_q = torch.sigmoid(model.decode(zq[:10].to(DEVICE))).cpu().view(-1, 28, 28)
    dec_p = torch.sigmoid(model.decode(zp[:10].to(DEVICE))).cpu().view(-1, 28, 28)
zq_np, zp_np = zq.numpy(), zp.numpy()
_, _, vt = np.linalg.svd(zq_np - zq_np.mean(0), full_matrices=False)
pq, pp = zq_np @ vt[:2].T, zp_np @ vt[:2].T
agg_mean, agg_var = zq_np.mean(0), zq_np.var(0)
print(
    f"aggregate posterior per latent: mean of |mean| {np.abs(agg_mean).mean():.2f} "
    f"(prior 0), mean variance {agg_var.mean():.2f} (prior 1)"
)

fig, ax = plt.subplots(
    1, 3, figsize=(11, 3.9), gridspec_kw=dict(width_ratios=[1.15, 1, 1.2])
)
sc = ax[0].scatter(
    pq[:, 0], pq[:, 1], s=5, c=y_test[: len(pq)], cmap="tab10", alpha=0.8
)
for r in (
    1,
    2,
    3,
):  # prior N(0, I) in any orthonormal projection: circles of radius 1, 2, 3
    ax[0].add_patch(plt.Circle((0, 0), r, fill=False, color="k", ls="--", lw=0.8))
ax[0].set(
    title="q(z) of test digits vs prior (1-3 sd)",
    xlabel="direction 1",
    ylabel="direction 2",
    aspect="equal",
    xlim=(-4.5, 4.5),
    ylim=(-4.5, 4.5),
)
fig.colorbar(sc, ax=ax[0], ticks=range(10), fraction=0.046, pad=0.02, label="digit")
k = int(np.argmax(agg_var))
grid = np.linspace(-4, 4, 200)
ax[1].hist(zq_np[:, k], bins=40, density=True, alpha=0.6, label="q(z), test digits")
ax[1].plot(
    grid, np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi), "k", label="prior N(0, 1)"
)
ax[1].set(
    title=f"One latent coordinate, z[{k}]", xlabel="z", ylabel="density", ylim=(0, 0.62)
)
ax[1].legend(frameon=False, fontsize=8, loc="upper left")
both = torch.cat([dec_q[:6], dec_p[:6]])
ax[2].imshow(tile(both, 2, 6), cmap="gray_r")
ax[2].set_yticks([14, 42], ["z ~ q(z)", "z ~ p(z)"])
ax[2].set_xticks([])
ax[2].set_title("Decoded from each")
fig.tight_layout()

# %%
# Metrics. The negative ELBO is an upper bound on -log p(x): the true model is at least
# this good.
run.metric(
    "test_neg_elbo_nats",
    neg_elbo,
    target=100,
    higher_is_better=False,
    baseline=baseline_nll,
    baseline_name="independent pixels",
    fmt=".1f",
    headline=True,
)
run.metric("test_kl_nats", kl, higher_is_better=False, fmt=".1f")
run.metric("test_recon_nats", neg_elbo - kl, higher_is_better=False, fmt=".1f")
run.finish()
