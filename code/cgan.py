"""Conditional GAN (Mirza and Osindero, "Conditional Generative Adversarial Nets",
2014). Both players see the class label y: the generator draws G(z, y), and the
discriminator judges whether an (image, label) pair is a real one, so a sample of the
wrong class is caught as fake. The paper concatenates y to both networks' inputs; here
the generator concatenates a label embedding to z, and the discriminator uses the
projection form of Miyato and Koyama ("cGANs with Projection Discriminator", ICLR 2018):
logit = psi(h) + <embed(y), h> for image features h, which puts the label in a term of
its own instead of leaving the network to find it among the input channels (the
concatenating discriminator is kept for comparison).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class CondGenerator(nn.Module):
    """(z (N, z_dim), y (N,)) -> digit (N, 1, 28, 28): [z, embed(y)] -> 7x7 -> 14x14 ->
    28x28."""

    def __init__(self, z_dim=64, n_classes=10, width=32, emb=16):
        super().__init__()
        self.z_dim, self.n_classes, w = z_dim, n_classes, width
        self.embed = nn.Embedding(n_classes, emb)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim + emb, 2 * w, 7, 1, 0, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Sigmoid(),
        )

    def forward(self, z, y):
        h = torch.cat([z, self.embed(y)], 1)
        return self.net(h[:, :, None, None])


class ProjectionDiscriminator(nn.Module):
    """(x, y) -> one logit per pair: psi(h(x)) + <embed(y), h(x)>."""

    def __init__(self, n_classes=10, width=32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 7, 1, 0),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.psi = nn.Linear(4 * w, 1)
        self.embed = nn.Embedding(n_classes, 4 * w)

    def forward(self, x, y):
        h = self.features(x)
        return self.psi(h).squeeze(1) + (self.embed(y) * h).sum(1)


class ConcatDiscriminator(nn.Module):
    """(x, y) -> one logit per pair, with y as 10 one-hot input channels concatenated to
    the image (Mirza and Osindero's conditioning, in convolutional form); otherwise the
    projection discriminator's layers (the ablation)."""

    def __init__(self, n_classes=10, width=32):
        super().__init__()
        w, self.n_classes = width, n_classes
        self.features = nn.Sequential(
            nn.Conv2d(1 + n_classes, w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 7, 1, 0),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.psi = nn.Linear(4 * w, 1)

    def forward(self, x, y):
        maps = F.one_hot(y, self.n_classes).float()[:, :, None, None]
        h = self.features(torch.cat([x, maps.expand(-1, -1, *x.shape[2:])], 1))
        return self.psi(h).squeeze(1)


def discriminator_loss(D, real, fake, y):
    """Binary cross-entropy on pairs: (real, y) labelled 1, (G(z, y) detached, y)
    labelled 0."""
    d_real, d_fake = D(real, y), D(fake.detach(), y)
    return F.binary_cross_entropy_with_logits(
        d_real, torch.ones_like(d_real)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))


def generator_loss(D, fake, y):
    """Non-saturating -log D(G(z, y), y): G must make a convincing digit of class y."""
    logit = D(fake, y)
    return F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))


def train(
    G,
    D,
    images,
    labels,
    *,
    steps=1000,
    batch_size=64,
    lr=2e-4,
    device="cpu",
    seed=None,
    log=None,
):
    """Alternate D and G steps on labelled minibatches; G draws the batch's own labels.
    ``seed`` seeds the batches and noise (None: torch's global generator);
    ``log(step, hist)`` is called after every step. Returns the loss history."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    G, D = G.to(device).train(), D.to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    hist = {"d_loss": [], "g_loss": []}
    for step in range(1, steps + 1):
        idx = torch.randint(len(images), (batch_size,), generator=gen)
        real, y = images[idx].to(device), labels[idx].to(device)
        fake = G(torch.randn(batch_size, G.z_dim, generator=gen).to(device), y)
        d_loss = discriminator_loss(D, real, fake, y)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = generator_loss(D, fake, y)  # G's step through the updated D
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        hist["d_loss"].append(d_loss.item())
        hist["g_loss"].append(g_loss.item())
        if log is not None:
            log(step, hist)
    return hist


@torch.no_grad()
def sample_grid(G, per_class=8, device="cpu"):
    """``per_class`` samples of every class, class-major: returns (images, labels)."""
    G.eval()
    y = torch.arange(G.n_classes, device=device).repeat_interleave(per_class)
    return G(torch.randn(len(y), G.z_dim, device=device), y).cpu(), y.cpu()


if __name__ == "__main__":
    G, D = CondGenerator(z_dim=16, width=8), ProjectionDiscriminator(width=8)
    hist = train(
        G,
        D,
        torch.rand(128, 1, 28, 28),
        torch.randint(10, (128,)),
        steps=5,
        batch_size=32,
    )
    print(f"d_loss {hist['d_loss'][-1]:.3f}  g_loss {hist['g_loss'][-1]:.3f}")
