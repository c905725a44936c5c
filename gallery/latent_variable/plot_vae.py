"""
VAE on binarized MNIST digits
=============================

Trains a variational autoencoder (small convolutional encoder and decoder, 16 latent
dimensions) on 3,500 training digits of MNIST 5,000 binarized at 0.5 (the other 500
training digits are the validation split on which the epochs, learning rate and batch
size were chosen) and scores the 1,000 held-out digits in nats per image: the negative
ELBO and an importance-weighted estimate of -log p(x) with k = 100 samples (the
headline; target: at most 115). In the same run: the classical latent-variable model, a
mixture of 200 Bernoulli components fitted by EM (its exact -log p(x)); the ablation of
the paper's key idea, the same VAE trained with score-function (REINFORCE) gradients for
the encoder instead of the reparameterisation; and independent pixels, the model with no
latent at all. Then it samples from the prior, interpolates between two digits in latent
space, and looks at why prior samples look like digits at all.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import DEVICE, scale, start
from _latent import bernoulli_mixture, independent_pixels_nll, mixture_nll, mnist_splits
from vae import VAE, evaluate, iw_nll, sample, train

run = start("vae")

# %%
# Data: binarized at 0.5, so each pixel is exactly 0 or 1 and the Bernoulli likelihood
# is exact. 3,500 training, 500 validation (the last 500 training digits) and 1,000
# test digits; the split does not depend on the seed.
x_train, _, x_val, _, x_test, y_test = mnist_splits(
    n_train=scale(3500, 500), n_test=scale(1000, 200)
)

# %%
# Baselines. Independent Bernoulli pixels with the training means (no latent variable),
# and a mixture of K = 200 product-of-Bernoulli components fitted by EM (a discrete
# latent variable; K and the Beta prior on its pixel probabilities were chosen on the
# validation split among K = 25 ... 400).
indep_nll = independent_pixels_nll(x_train, x_test)
mix = bernoulli_mixture(
    x_train, scale(200, 20), iters=scale(60, 5), prior=0.05, seed=run.seed
)
mix_nll = mixture_nll(mix, x_test)

# %%
# Train the VAE, and the ablation: the same network, budget and -ELBO, but z is sampled
# with no path back to (mu, sigma), so the encoder learns only through the
# score-function estimator (with the batch-mean baseline).
opts = dict(epochs=scale(16, 2), batch_size=32, lr=1.5e-3, x_val=x_val, device=DEVICE)
model = VAE(z_dim=16, width=16, hidden=256)
hist = train(model, x_train, **opts)
ablated = VAE(z_dim=16, width=16, hidden=256)
hist_sf = train(ablated, x_train, reparam=False, **opts)

# %%
# Score the test digits once: the -ELBO (one posterior sample) and the
# importance-weighted -log p(x) with k = 100 samples from q(z|x), for both.
k = scale(100, 10)
neg_elbo, kl = evaluate(model, x_test, device=DEVICE)
iw = iw_nll(model, x_test, k=k, device=DEVICE)
neg_elbo_sf, kl_sf = evaluate(ablated, x_test, device=DEVICE)
iw_sf = iw_nll(ablated, x_test, k=k, device=DEVICE)
print(
    f"test, nats per image: VAE -ELBO {neg_elbo:.1f} (KL {kl:.1f}), -log p(x) "
    f"(k={k}) {iw:.1f}; score-function ablation -ELBO {neg_elbo_sf:.1f} (KL "
    f"{kl_sf:.2f}), -log p(x) {iw_sf:.1f}; Bernoulli mixture {mix_nll:.1f}; "
    f"independent pixels {indep_nll:.1f}"
)

# %%
# Training curves, samples from the prior, and a straight line in latent space between
# two test digits (their posterior means), decoded at ten points.
torch.manual_seed(1)
samples = sample(model, 40, device=DEVICE).cpu().view(-1, 28, 28)
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
ax[0].plot(ep, hist["train"], label="VAE, train")
ax[0].plot(ep, hist["val"], label="VAE, validation")
ax[0].plot(ep, hist_sf["val"], label="score-function ablation, validation")
ax[0].axhline(mix_nll, color="tab:red", ls="--", lw=1, label="Bernoulli mixture (test)")
ax[0].set(
    xlabel="epoch",
    ylabel="-ELBO (nats / image)",
    title="Negative ELBO",
    ylim=(min(hist["train"]) - 10, 225),
)
ax[0].legend(frameon=False, fontsize=7)
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
# Metrics. The -ELBO is an upper bound on -log p(x); the importance-weighted estimate
# is a tighter one (in expectation), and the mixture's -log p(x) is exact.
run.metric(
    "test_nll_iw100_nats",
    iw,
    target=115,
    higher_is_better=False,
    baseline=mix_nll,
    baseline_name="mixture of 200 Bernoullis, EM",
    ablation=iw_sf,
    ablation_name="score-function gradients, no reparameterisation",
    fmt=".1f",
    headline=True,
)
run.metric(
    "test_neg_elbo_nats",
    neg_elbo,
    higher_is_better=False,
    baseline=indep_nll,
    baseline_name="independent pixels",
    ablation=neg_elbo_sf,
    ablation_name="score-function gradients",
    fmt=".1f",
)
run.metric("test_bound_gap_nats", neg_elbo - iw, higher_is_better=False, fmt=".1f")
run.metric("test_kl_nats", kl, higher_is_better=False, fmt=".1f")
run.metric("test_recon_nats", neg_elbo - kl, higher_is_better=False, fmt=".1f")
run.series("val_neg_elbo", ep, hist["val"], x_name="epoch", y_name="-ELBO (nats)")
run.finish()
