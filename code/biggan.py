"""BigGAN (Brock, Donahue and Simonyan, "Large Scale GAN Training for High Fidelity
Natural Image Synthesis", ICLR 2019), scaled down to 28x28 digits. A class-conditional
GAN made stable at scale by a set of parts kept here: class-conditional batch norm in
the generator, whose gains and biases are linear functions of a shared class embedding
concatenated with a chunk of the noise (the hierarchical latent), a projection
discriminator, the hinge loss, spectral normalization of the discriminator's layers
(BigGAN also normalizes the generator's; at this size and budget that slowed it too
much), orthogonal regularization of the generator's weights (off-diagonal terms only),
and the truncation trick: at sampling time, noise entries beyond a threshold are
redrawn, trading diversity for fidelity. BigGAN's residual blocks, self-attention and
weight averaging are left out at this size.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm as SN


class CondBatchNorm(nn.Module):
    """Batch norm without its own affine part; gain 1 + g(cond) and bias b(cond) per
    channel."""

    def __init__(self, channels, cond_dim):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain, self.bias = (
            nn.Linear(cond_dim, channels),
            nn.Linear(cond_dim, channels),
        )

    def forward(self, x, cond):
        return (
            self.bn(x) * (1 + self.gain(cond))[:, :, None, None]
            + self.bias(cond)[:, :, None, None]
        )


class BigGenerator(nn.Module):
    """z (N, 3 * chunk) split in three: [chunk 0, embed(y)] -> 7x7 map; [chunk i,
    embed(y)] conditions the batch norm of block i (7 -> 14 -> 28); output (N, 1, 28,
    28) in [0, 1]."""

    def __init__(self, chunk=16, n_classes=10, emb=16, width=32):
        super().__init__()
        self.z_dim, self.chunk, self.n_classes, w = 3 * chunk, chunk, n_classes, width
        self.embed = nn.Embedding(n_classes, emb)  # shared by all CBNs
        self.fc = nn.Linear(chunk + emb, 2 * w * 49)
        self.bn1, self.up1 = (
            CondBatchNorm(2 * w, chunk + emb),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
        )
        self.bn2, self.up2 = (
            CondBatchNorm(w, chunk + emb),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
        )

    def forward(self, z, y):
        z0, z1, z2 = z.split(self.chunk, 1)
        e = self.embed(y)
        h = self.fc(torch.cat([z0, e], 1)).view(len(z), -1, 7, 7)
        h = self.up1(F.relu(self.bn1(h, torch.cat([z1, e], 1))))  # 7 -> 14
        return torch.sigmoid(
            self.up2(F.relu(self.bn2(h, torch.cat([z2, e], 1))))
        )  # 14 -> 28


class BigDiscriminator(nn.Module):
    """(x, y) -> psi(h) + <embed(y), h>, h = summed features of spectrally normalized
    convs."""

    def __init__(self, n_classes=10, width=32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            SN(nn.Conv2d(1, w, 4, 2, 1)),
            nn.LeakyReLU(0.2),  # 28 -> 14
            SN(nn.Conv2d(w, 2 * w, 4, 2, 1)),
            nn.LeakyReLU(0.2),  # 14 -> 7
            SN(nn.Conv2d(2 * w, 4 * w, 3, 1, 1)),
            nn.LeakyReLU(0.2),
        )
        self.psi = SN(nn.Linear(4 * w, 1))
        self.embed = nn.Embedding(n_classes, 4 * w)

    def forward(self, x, y):
        h = self.features(x).sum((2, 3))
        return self.psi(h).squeeze(1) + (self.embed(y) * h).sum(1)


def hinge_d_loss(d_real, d_fake):
    """Discriminator hinge loss: mean relu(1 - D(x)) + mean relu(1 + D(G(z)))."""
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def hinge_g_loss(d_fake):
    """Generator hinge loss: -mean D(G(z))."""
    return -d_fake.mean()


def ortho_reg(module, beta=1e-4):
    """BigGAN's orthogonal regularization: beta * sum ||W W^T * (1 - I)||_F^2 over the
    weight matrices, one row per output unit (a transposed convolution stores its
    weight as (in, out, kh, kw), so it is transposed first); a matrix with more rows
    than columns uses its columns, the side that can be orthogonal. Only off-diagonal
    inner products are pushed to zero; norms are left free. Embeddings are skipped."""
    total = 0.0
    for m in module.modules():
        if not isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            continue
        w = m.weight.transpose(0, 1) if isinstance(m, nn.ConvTranspose2d) else m.weight
        w = w.flatten(1)
        w = w.t() if len(w) > w.shape[1] else w
        gram = w @ w.t()
        total = total + ((gram * (1 - torch.eye(len(w), device=w.device))) ** 2).sum()
    return beta * total


def truncated_noise(n, dim, threshold=None, generator=None):
    """z ~ N(0, I); with a threshold, every entry with |z| > threshold is redrawn until
    inside."""
    z = torch.randn(n, dim, generator=generator)
    if threshold is not None:
        out = z.abs() > threshold
        while out.any():
            z[out] = torch.randn(int(out.sum()), generator=generator)
            out = z.abs() > threshold
    return z


def train(
    G,
    D,
    images,
    labels,
    *,
    steps=1000,
    batch_size=64,
    lr_g=2e-4,
    lr_d=2e-4,
    beta=1e-4,
    betas=(0.0, 0.999),
    device="cpu",
    seed=None,
    log=None,
):
    """One hinge-loss D step on (real, y) and (G(z, y') detached, y'), then one G step
    with the orthogonal penalty; Adam (BigGAN uses beta1 = 0). ``seed`` seeds batches,
    labels and noise (None: torch's global generator); ``log(step, hist)`` is called
    after every step. Returns the loss history."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    G, D = G.to(device).train(), D.to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
    hist = {"d_loss": [], "g_loss": []}
    for step in range(1, steps + 1):
        idx = torch.randint(len(images), (batch_size,), generator=gen)
        real, y = images[idx].to(device), labels[idx].to(device)
        y_fake = torch.randint(G.n_classes, (batch_size,), generator=gen).to(device)
        fake = G(torch.randn(batch_size, G.z_dim, generator=gen).to(device), y_fake)
        d_loss = hinge_d_loss(D(real, y), D(fake.detach(), y_fake))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = hinge_g_loss(D(fake, y_fake))
        opt_g.zero_grad()
        (g_loss + ortho_reg(G, beta)).backward()
        opt_g.step()
        hist["d_loss"].append(d_loss.item())
        hist["g_loss"].append(g_loss.item())
        if log is not None:
            log(step, hist)
    return hist


@torch.no_grad()
def sample(G, y, threshold=None, device="cpu", seed=0):
    """Class-y samples with truncated noise (threshold None: plain N(0, I))."""
    G.eval()
    z = truncated_noise(len(y), G.z_dim, threshold, torch.Generator().manual_seed(seed))
    return G(z.to(device), y.to(device)).cpu()


if __name__ == "__main__":
    G, D = BigGenerator(chunk=4, width=8), BigDiscriminator(width=8)
    hist = train(
        G,
        D,
        torch.rand(128, 1, 28, 28),
        torch.randint(10, (128,)),
        steps=5,
        batch_size=32,
    )
    print(f"d_loss {hist['d_loss'][-1]:.3f}  g_loss {hist['g_loss'][-1]:.3f}")
