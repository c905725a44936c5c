"""Helpers shared by the latent-variable examples (VAE, CVAE, VAE with flows): the
fixed train / validation / test split of MNIST 5,000, and the classical
latent-variable baseline, a mixture of Bernoullis fitted by EM.

The split is the same whatever the example's seed: the last ``n_val`` of the 4,000
training digits of ``toydata.mnist()`` are the validation split on which every choice
was made (epochs, learning rate, the mixture's size); the 1,000 test digits are scored
once, at the end.
"""

import torch

import toydata


def mnist_splits(n_train=3500, n_val=500, n_test=1000, binarize=True):
    """``(x_train, y_train, x_val, y_val, x_test, y_test)``: images (N, 1, 28, 28),
    thresholded at 0.5 when ``binarize``; ``n_train`` and ``n_test`` may be cut for
    smoke runs, the validation split is always the last ``n_val`` training digits."""
    x, y, xt, yt = toydata.mnist()
    if binarize:
        x, xt = (x > 0.5).float(), (xt > 0.5).float()
    xv, yv = x[len(x) - n_val :], y[len(y) - n_val :]
    x, y = x[: min(n_train, len(x) - n_val)], y[: min(n_train, len(y) - n_val)]
    return x, y, xv, yv, xt[:n_test], yt[:n_test]


def _log_joint(x, log_pi, log_p, log_1mp):
    """log pi_k + log p(x | k) for every image and component: (N, K)."""
    return log_pi + x @ log_p.T + (1 - x) @ log_1mp.T


def bernoulli_mixture(x, K, *, iters=60, prior=1.0, seed=0):
    """A mixture of K product-of-Bernoulli components fitted by EM to binary images x
    (N, ...), with a Beta(1 + prior, 1 + prior) prior on every pixel probability (MAP
    estimate) so that no component gives a pixel probability 0 or 1. Returns the
    parameters ``(log_pi, log_p, log_1mp)``."""
    g = torch.Generator().manual_seed(seed)
    x = x.flatten(1).double()
    resp = torch.rand(len(x), K, generator=g, dtype=torch.float64)
    resp = resp / resp.sum(1, keepdim=True)  # a random soft start
    for _ in range(iters):
        nk = resp.sum(0)  # M step
        p = (resp.T @ x + prior) / (nk[:, None] + 2 * prior)
        params = ((nk + 1e-9) / len(x)).log(), p.log(), (1 - p).log()
        lj = _log_joint(x, *params)  # E step
        resp = (lj - lj.logsumexp(1, keepdim=True)).exp()
    return params


def mixture_nll(params, x):
    """Exact -log p(x) of the mixture, nats per image, averaged over x."""
    lj = _log_joint(x.flatten(1).double(), *params)
    return -lj.logsumexp(1).mean().item()


def independent_pixels_nll(x_train, x):
    """-log p(x) when every pixel is an independent Bernoulli with its training mean
    (the model with no latent variable at all), nats per image."""
    p = x_train.flatten(1).mean(0).clamp(1e-3, 1 - 1e-3)
    xf = x.flatten(1)
    return -(xf * p.log() + (1 - xf) * (1 - p).log()).sum(1).mean().item()
