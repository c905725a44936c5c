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

    def forward(self, x, active=None, scale=1.0):
        """``active``: bool mask (z_dim,) of the latents this batch may vary; None:
        plain VAE."""
        mu, logvar = self.enc(x.flatten(1)).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        if active is not None:
            z = ClampToMean.apply(z, active.expand_as(z), scale)
        return self.dec(z), mu, logvar


def dcign_loss(x, logits, mu, logvar):
    """Negative ELBO per image: Bernoulli NLL (soft targets) summed over pixels +
    analytic KL."""
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


def clamped_batch(x_pool, factor, n, max_angle=60.0):
    """A batch in which only ``factor`` ('angle', 'thickness' or 'identity') varies."""
    if factor == "identity":
        base = x_pool[torch.randint(len(x_pool), (n,))]
        return transform(
            base,
            torch.full((n,), (torch.rand(()).item() * 2 - 1) * max_angle),
            torch.full((n,), 2 * torch.rand(()).item()),
        )
    base = x_pool[torch.randint(len(x_pool), (1,))].expand(n, -1, -1, -1)
    angle = (
        (torch.rand(n) * 2 - 1) * max_angle
        if factor == "angle"
        else torch.full((n,), (torch.rand(()).item() * 2 - 1) * max_angle)
    )
    thick = (
        2 * torch.rand(n)
        if factor == "thickness"
        else torch.full((n,), 2 * torch.rand(()).item())
    )
    return transform(base, angle, thick)


def train(model, x_pool, device, steps=2000, batch_size=32, lr=2e-3, clamp=True):
    """Each step draws a clamped batch for a random factor; ``clamp=False`` trains a
    plain VAE on the same batches. Returns the per-step losses."""
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    factors, hist = ["angle", "thickness", "identity"], []
    for step in range(steps):
        factor = factors[step % 3]
        x = clamped_batch(x_pool, factor, batch_size).to(device)
        active = None
        if clamp:
            fixed = sum(FACTORS.values(), [])
            idx = (
                FACTORS[factor]
                if factor in FACTORS
                else [i for i in range(model.z_dim) if i not in fixed]
            )
            active = torch.zeros(model.z_dim, dtype=torch.bool, device=device)
            active[idx] = True
        loss = dcign_loss(x, *model(x, active))
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append(loss.item())
    return hist


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28).pow(4)
    hist = train(
        DCIGN(z_dim=4, width=4, hidden=32),
        x,
        torch.device("cpu"),
        steps=30,
        batch_size=16,
    )
    print(f"dcign: loss first {hist[0]:.1f}, last {hist[-1]:.1f}")
