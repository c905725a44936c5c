"""Deep Convolutional Inverse Graphics Network, DC-IGN (Kulkarni, Whitney, Kohli and
Tenenbaum, "Deep Convolutional Inverse Graphics Network", NeurIPS 2015). A VAE whose
latent code is split into named groups, one per known factor of variation (here a
digit's rotation angle and its stroke thickness) plus the rest. Training uses clamped
mini-batches: every image in a batch shares all factors but one. The latents assigned to
that factor are trained as usual; all others are clamped to their batch mean in the
forward pass, and in the backward pass their gradient is replaced by their difference
from that mean, which pushes the encoder to give them the same value across the batch,
i.e. to make them invariant to the factor that varies.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

FACTORS = {
    "angle": [0],
    "thickness": [1],
}  # latent indices per factor; the rest is "identity"


class ClampToMean(torch.autograd.Function):
    """Forward: latents outside ``active`` become their batch mean. Backward: the active
    latents get their true gradient; the clamped ones get (z - batch mean) * scale
    instead."""

    @staticmethod
    def forward(ctx, z, active, scale):
        mean = z.mean(0, keepdim=True)
        ctx.save_for_backward(z - mean, active)
        ctx.scale = scale
        return torch.where(active, z, mean.expand_as(z))

    @staticmethod
    def backward(ctx, grad):
        diff, active = ctx.saved_tensors
        return torch.where(active, grad, ctx.scale * diff), None, None


class DCIGN(nn.Module):
    """The VAE's convolutional encoder and decoder for 1x28x28 images."""

    def __init__(self, z_dim=12, width=16, hidden=256):
        super().__init__()
        self.z_dim, w = z_dim, width
        self.enc = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, w, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * w * 49, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * z_dim),
        )
        self.dec = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * w * 49),
            nn.ReLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Flatten(),
        )

    def forward(self, x, active=None, scale=1.0, replace_grad=True):
        """``active``: bool mask (z_dim,) of the latents this batch may vary; None:
        plain VAE. ``replace_grad=False`` clamps with the ordinary gradient through
        the batch mean (the ablation of the paper's gradient replacement)."""
        mu, logvar = self.enc(x.flatten(1)).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        if active is not None and replace_grad:
            z = ClampToMean.apply(z, active.expand_as(z), scale)
        elif active is not None:
            z = torch.where(active, z, z.mean(0, keepdim=True).expand_as(z))
        return self.dec(z), mu, logvar


def dcign_loss(x, logits, mu, logvar):
    """The VAE's loss per image: Bernoulli cross-entropy against the grey levels (soft
    targets, so not a normalised likelihood, hence not a true ELBO) summed over
    pixels, plus the analytic KL."""
    recon = F.binary_cross_entropy_with_logits(
        logits, x.flatten(1), reduction="none"
    ).sum(1)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
    return (recon + kl).mean()


def transform(x, angle, thickness):
    """Render digits x (N, 1, 28, 28) at a rotation (degrees, (N,)) and a stroke
    thickness in [0, 2] ((N,): 0 eroded, 1 as written, 2 dilated, linear in between)."""
    eroded = -F.max_pool2d(-x, 3, 1, 1)
    dilated = F.max_pool2d(x, 3, 1, 1)
    t = thickness.view(-1, 1, 1, 1)
    x = torch.where(t < 1, eroded + t * (x - eroded), x + (t - 1) * (dilated - x))
    a = angle * math.pi / 180
    rot = torch.stack(
        [
            torch.stack([a.cos(), -a.sin(), 0 * a], 1),
            torch.stack([a.sin(), a.cos(), 0 * a], 1),
        ],
        1,
    )
    grid = F.affine_grid(rot, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def clamped_factors(n_pool, factor, n, max_angle=60.0):
    """Digit indices, angles and thicknesses of a batch in which only ``factor``
    ('angle', 'thickness' or 'identity') varies and the other two are shared."""

    def one(lo, hi):  # one value in [lo, hi), shared by the batch
        return torch.full((n,), lo + (hi - lo) * torch.rand(()).item())

    idx = (
        torch.randint(n_pool, (n,))
        if factor == "identity"
        else torch.randint(n_pool, (1,)).expand(n)
    )
    angle = (
        (torch.rand(n) * 2 - 1) * max_angle
        if factor == "angle"
        else one(-max_angle, max_angle)
    )
    thick = 2 * torch.rand(n) if factor == "thickness" else one(0.0, 2.0)
    return idx, angle, thick


def clamped_batch(x_pool, factor, n, max_angle=60.0):
    """A rendered batch in which only ``factor`` varies."""
    idx, angle, thick = clamped_factors(len(x_pool), factor, n, max_angle)
    return transform(x_pool[idx], angle, thick)


def active_mask(factor, z_dim):
    """The latents a batch varying ``factor`` may use: that factor's own, or for
    'identity' every latent not assigned to a named factor."""
    named = sum(FACTORS.values(), [])
    idx = FACTORS.get(factor, [i for i in range(z_dim) if i not in named])
    mask = torch.zeros(z_dim, dtype=torch.bool)
    mask[idx] = True
    return mask


def train(
    model,
    x_pool,
    *,
    steps=2000,
    batch_size=32,
    lr=2e-3,
    clamp=True,
    replace_grad=True,
    device="cpu",
    seed=None,
    log=None,
):
    """Each step draws a clamped batch for the next factor in turn; ``clamp=False``
    trains a plain VAE on the same batches. Returns the per-step ``loss``;
    ``log(step, hist)`` is called every 100 steps when given."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    factors, hist = ["angle", "thickness", "identity"], {"loss": []}
    for step in range(steps):
        factor = factors[step % 3]
        x = clamped_batch(x_pool, factor, batch_size).to(device)
        active = active_mask(factor, model.z_dim).to(device) if clamp else None
        loss = dcign_loss(x, *model(x, active, replace_grad=replace_grad))
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist["loss"].append(loss.item())
        if log is not None and step % 100 == 0:
            log(step, hist)
    return hist


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28).pow(4)
    hist = train(DCIGN(z_dim=4, width=4, hidden=32), x, steps=30, batch_size=16)
    print(f"dcign: loss first {hist['loss'][0]:.1f}, last {hist['loss'][-1]:.1f}")
