"""Generative adversarial network (Goodfellow et al., "Generative Adversarial Nets",
NeurIPS 2014). A generator G maps noise z to samples; a discriminator D is trained to
tell real samples from G's, and G is trained to fool it. At the optimum of this
two-player game G's distribution equals the data distribution. Here both players are
small MLPs, trained with the non-saturating generator loss the paper recommends in
practice, on a 2-D ring of eight Gaussians (where mode collapse can be seen and counted)
and on flattened 28x28 digits.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    """MLP from noise z (N, z_dim) to samples (N, out_dim); ``out`` squashes the last
    layer (``"sigmoid"`` for pixels in [0, 1], ``None`` for points in the plane);
    ``norm`` adds batch norm to the hidden layers (steadier training on images)."""

    def __init__(self, z_dim=16, out_dim=2, hidden=128, depth=3, out=None, norm=False):
        super().__init__()
        layers, d = [], z_dim
        for _ in range(depth):
            layers += [
                nn.Linear(d, hidden),
                nn.BatchNorm1d(hidden) if norm else nn.Identity(),
                nn.LeakyReLU(0.2),
            ]
            d = hidden
        layers.append(nn.Linear(d, out_dim))
        self.net, self.out, self.z_dim = nn.Sequential(*layers), out, z_dim

    def forward(self, z):
        x = self.net(z)
        return torch.sigmoid(x) if self.out == "sigmoid" else x


class Discriminator(nn.Module):
    """MLP from a sample (N, in_dim) to one real/fake logit per sample (N,)."""

    def __init__(self, in_dim=2, hidden=128, depth=3):
        super().__init__()
        layers, d = [], in_dim
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.LeakyReLU(0.2)]
            d = hidden
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


def discriminator_loss(d_real, d_fake):
    """D maximises log D(x) + log(1 - D(G(z))): binary cross-entropy on its logits with
    label 1 for real samples and 0 for generated ones."""
    return F.binary_cross_entropy_with_logits(
        d_real, torch.ones_like(d_real)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))


def generator_loss(d_fake):
    """The non-saturating generator loss -log D(G(z)): same fixed point as minimising
    log(1 - D(G(z))), but strong gradients while D still rejects G's samples easily."""
    return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


def train(
    G,
    D,
    data,
    *,
    steps=2000,
    batch_size=256,
    lr=2e-4,
    betas=(0.5, 0.999),
    decay=True,
    device="cpu",
    seed=None,
    log=None,
):
    """Alternate one D step and one G step on minibatches of ``data`` (a tensor of real
    samples); with ``decay`` both learning rates fall linearly to zero. ``seed`` seeds
    the batches and noise (None: torch's global generator); ``log(step, hist)``, if
    given, is called after every step (for snapshots). Returns the loss history."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    G, D = G.to(device).train(), D.to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    rate = (lambda step: 1 - step / steps) if decay else (lambda step: 1.0)
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, rate) for o in (opt_g, opt_d)]
    hist = {"d_loss": [], "g_loss": []}
    for step in range(1, steps + 1):
        x = data[torch.randint(len(data), (batch_size,), generator=gen)].to(device)
        z = torch.randn(batch_size, G.z_dim, generator=gen).to(device)
        fake = G(z)
        d_loss = discriminator_loss(D(x), D(fake.detach()))  # D's step: G's graph cut
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = generator_loss(D(fake))  # G's step through updated D
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        for s in scheds:
            s.step()
        hist["d_loss"].append(d_loss.item())
        hist["g_loss"].append(g_loss.item())
        if log is not None:
            log(step, hist)
    return hist


def ring(n, modes=8, radius=2.0, std=0.02, seed=0):
    """n points from a ring of ``modes`` Gaussians (radius ``radius``, per-axis
    ``std``). Returns ``(points (n, 2), centers (modes, 2))``."""
    g = torch.Generator().manual_seed(seed)
    angle = 2 * math.pi * torch.arange(modes) / modes
    centers = radius * torch.stack([angle.cos(), angle.sin()], 1)
    idx = torch.randint(modes, (n,), generator=g)
    return centers[idx] + std * torch.randn(n, 2, generator=g), centers


def mode_stats(samples, centers, std=0.02, min_share=0.01):
    """``(quality, covered)``: the share of samples within 3 std of their nearest mode,
    and how many modes hold at least ``min_share`` of all samples within that radius."""
    counts, n = _mode_counts(samples, centers, std), len(samples)
    return counts.sum().item() / n, int((counts >= min_share * n).sum())


def balanced_quality(samples, centers, std=0.02):
    """The share of samples within 3 std of a mode, no mode credited with more than its
    own share (1/modes): samples piled onto one mode count once. A generator collapsed
    onto one mode scores 1/modes; the data itself 1 - exp(-4.5) = 0.989."""
    counts, n = _mode_counts(samples, centers, std), len(samples)
    return counts.clamp(max=n / len(centers)).sum().item() / n


def _mode_counts(samples, centers, std):
    """Samples within 3 std of each mode (the nearest one), per mode."""
    d_min, nearest = torch.cdist(samples.float(), centers.float()).min(1)
    return torch.bincount(nearest[d_min <= 3 * std], minlength=len(centers)).float()


if __name__ == "__main__":
    data, centers = ring(2048)
    G, D = Generator(), Discriminator()
    hist = train(G, D, data, steps=50, batch_size=128)
    with torch.no_grad():
        q, k = mode_stats(G(torch.randn(1000, G.z_dim)), centers)
    print(
        f"d_loss {hist['d_loss'][-1]:.3f}  g_loss {hist['g_loss'][-1]:.3f}  "
        f"quality {q:.2f}  modes {k}"
    )
