"""Baselines, ablations and measures shared by the examples of the GANs I page (GAN,
DCGAN, cGAN, WGAN, InfoGAN, BigGAN); no other example imports this file.

- ``train_mmd``: the plain GAN's generator trained on a fixed kernel two-sample
  statistic (MMD) instead of a learned discriminator, with the same optimiser and
  schedule (the GAN's ablation: the adversary removed);
- ``gmm_sampler``: a Gaussian mixture fitted by EM (the ring's classical baseline);
- ``class_gaussian_sampler``: one Gaussian per class in a PCA space of the pixels, the
  number of components chosen on a validation split (the conditional models' classical
  baseline);
- ``intra_fd``: the mean over classes of the Fréchet distance between the samples asked
  for class c and the held-out test digits of class c (Miyato and Koyama's intra-FID),
  with ``_measure``'s classifier and distance;
- ``cluster_accuracy`` and ``kmeans_labels``: unsupervised clustering scored by the best
  one-to-one match of clusters to classes (InfoGAN's measure and its k-means baseline);
- ``spearman`` and ``spearman_critical``: rank correlation, and the value that a
  one-sided test needs to call one above zero or above another (WGAN).
"""

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import norm

from _measure import frechet_distance


def _mmd(x, y, bandwidths):
    """Biased squared MMD between two batches with a sum of Gaussian kernels."""
    xy = torch.cat([x, y])
    d2 = torch.cdist(xy, xy).pow(2)
    k = sum(torch.exp(-d2 / (2 * h * h)) for h in bandwidths)
    n = len(x)
    return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()


def train_mmd(
    G,
    data,
    *,
    steps,
    batch_size,
    lr,
    betas=(0.5, 0.999),
    bandwidths=(0.02, 0.1, 1.0),
    seed=None,
    log=None,
):
    """The GAN's generator, optimiser and linear decay, with the discriminator replaced
    by a fixed kernel: minimise the MMD between a generated and a real batch (a
    generative moment-matching network, Li, Swersky and Zemel 2015); ``log(step)`` after
    every step. Returns the MMD per step."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    G.train()
    opt = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / steps)
    hist = []
    for step in range(1, steps + 1):
        x = data[torch.randint(len(data), (batch_size,), generator=gen)]
        fake = G(torch.randn(batch_size, G.z_dim, generator=gen))
        loss = _mmd(fake, x, bandwidths)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        hist.append(loss.item())
        if log is not None:
            log(step)
    return hist


def gmm_sampler(data, n_components, n, seed):
    """Fit a Gaussian mixture by EM (full covariances) and draw ``n`` points."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(n_components, n_init=3, random_state=seed)
    gm.fit(np.asarray(data, np.float64))
    return torch.tensor(gm.sample(n)[0], dtype=torch.float32)


def _class_gaussians(x, y, k, seed):
    """Per class: the pixel mean, the top-k principal directions with their variances,
    and the residual variance (probabilistic PCA)."""
    from sklearn.decomposition import PCA

    return {
        c: PCA(k, random_state=seed).fit(x[y == c].flatten(1).numpy())
        for c in torch.unique(y).tolist()
    }


def _sample_class_gaussians(fits, asked, seed):
    rng = np.random.default_rng(seed)
    out = np.zeros((len(asked), fits[0].mean_.size))
    for c, pca in fits.items():
        idx = np.flatnonzero(np.asarray(asked) == c)
        z = rng.standard_normal((len(idx), pca.n_components_))
        noise = rng.standard_normal((len(idx), out.shape[1]))
        out[idx] = (
            pca.mean_
            + (z * np.sqrt(pca.explained_variance_)) @ pca.components_
            + math.sqrt(max(pca.noise_variance_, 0.0)) * noise
        )
    side = int(math.isqrt(out.shape[1]))
    img = torch.tensor(out, dtype=torch.float32).clamp(0, 1)
    return img.view(-1, 1, side, side)


def class_gaussian_sampler(clf, x, y, *, ks=(5, 10, 20, 40, 80, 160), n_val=50, seed=0):
    """One Gaussian per class (probabilistic PCA on the pixels). The number of
    components is chosen by the intra-class Fréchet distance to a validation split of
    the training digits (``n_val`` per class, never the test split); the chosen model is
    refitted on all training digits. Returns ``(sample(asked), k)``."""
    g = torch.Generator().manual_seed(1234)  # a fixed split, whatever the seed
    fewest = min(int((y == c).sum()) for c in range(10))
    n_val = min(n_val, fewest // 3)  # smoke mode's few digits
    ks = [k for k in ks if k < fewest - n_val] or [1]
    val = torch.cat(
        [
            torch.nonzero(y == c).flatten()[
                torch.randperm(int((y == c).sum()), generator=g)
            ][:n_val]
            for c in range(10)
        ]
    )
    mask = torch.ones(len(x), dtype=torch.bool)
    mask[val] = False
    asked = torch.arange(10).repeat_interleave(n_val)
    scores = {}
    for k in ks:
        fits = _class_gaussians(x[mask], y[mask], k, seed)
        s = _sample_class_gaussians(fits, asked, seed)
        scores[k] = intra_fd(clf, s, asked, x[val], y[val])
    best = min(scores, key=scores.get)
    fits = _class_gaussians(x, y, best, seed)
    return (lambda asked: _sample_class_gaussians(fits, asked, seed + 1)), best


def intra_fd(clf, samples, asked, x_real, y_real):
    """Mean over classes of the Fréchet distance (the classifier's features) between the
    samples asked for class c and the real digits of class c."""
    f, fr = clf.feats(samples), clf.feats(x_real)
    asked, y_real = np.asarray(asked), np.asarray(y_real)
    return float(
        np.mean(
            [
                frechet_distance(f[asked == c], fr[y_real == c])
                for c in np.unique(y_real)
            ]
        )
    )


def intra_fd_floor(clf, x, y, xt, yt, per_class=100, seed=0):
    """The intra-class distance of real training digits (``per_class`` of each class)
    against the test digits: what copying the training set scores."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat(
        [
            torch.nonzero(y == c).flatten()[
                torch.randperm(int((y == c).sum()), generator=g)
            ][:per_class]
            for c in range(10)
        ]
    )
    return intra_fd(clf, x[idx], y[idx], xt, yt)


def cluster_accuracy(clusters, labels, k=10):
    """Share of items whose cluster maps to their class under the best one-to-one map
    (the Hungarian algorithm). Returns ``(accuracy, {cluster: class})``."""
    m = np.zeros((k, k))
    np.add.at(m, (np.asarray(clusters), np.asarray(labels)), 1)
    rows, cols = linear_sum_assignment(-m)
    return m[rows, cols].sum() / m.sum(), dict(zip(rows.tolist(), cols.tolist()))


def kmeans_labels(x_train, x_test, k=10, seed=0):
    """k-means on flattened pixels, fitted on the training images; returns the test
    images' clusters and the centroids as images."""
    from sklearn.cluster import KMeans

    km = KMeans(k, n_init=10, random_state=seed).fit(x_train.flatten(1).numpy())
    centroids = torch.tensor(km.cluster_centers_, dtype=torch.float32)
    return (
        torch.tensor(km.predict(x_test.flatten(1).numpy())),
        centroids.view(k, *x_train.shape[1:]),
    )


def spearman(a, b):
    """Spearman rank correlation of two sequences (no ties expected)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def spearman_critical(n, alpha=0.05, above=0.0, n_above=None):
    """The rank correlation over ``n`` points that a one-sided test at level ``alpha``
    needs to call it larger than ``above``: a fixed value, or (with ``n_above``) another
    rank correlation measured over ``n_above`` independent points. Fisher's z, with
    the standard error 1.06 / sqrt(n - 3) of Spearman's coefficient (Fieller, Hartley
    and Pearson 1957)."""
    var = 1 / (n - 3) + (1 / (n_above - 3) if n_above else 0.0)
    above = min(max(above, -1 + 1e-9), 1 - 1e-9)  # a perfect one: no value exceeds it
    return math.tanh(math.atanh(above) + norm.ppf(1 - alpha) * 1.06 * math.sqrt(var))
