"""Deep convolutional GAN (Radford, Metz and Chintala, "Unsupervised Representation
Learning with Deep Convolutional Generative Adversarial Networks", ICLR 2016). The
paper's rules that made convolutional GANs train reliably: no pooling (strided
convolutions in the discriminator, transposed convolutions in the generator), batch norm
in both networks (not on the generator's output or the discriminator's input), no fully
connected hidden layers, ReLU in the generator with a bounded output, leaky ReLU in the
discriminator, weights drawn from N(0, 0.02), and Adam with learning rate 2e-4 and
beta1 = 0.5. Here scaled to 28x28 digits, with a sigmoid output for pixels in [0, 1]
where the paper uses tanh for pixels in [-1, 1] (the same function up to scale).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def dcgan_init(m):
    """The paper's initialisation: every convolution's weights from N(0, 0.02), batch
    norm's gains from N(1, 0.02) and its biases at zero."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class DCGenerator(nn.Module):
    """z (N, z_dim) -> 7x7 feature map -> 14x14 -> 28x28 image in [0, 1] (N, 1, 28,
    28). ``norm=False`` drops the batch norms (the ablation)."""

    def __init__(self, z_dim=64, width=64, norm=True):
        super().__init__()
        self.z_dim, w = z_dim, width
        bn = nn.BatchNorm2d if norm else (lambda c: nn.Identity())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 2 * w, 7, 1, 0, bias=not norm),  # 1x1 -> 7x7
            bn(2 * w),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=not norm),  # 7 -> 14
            bn(w),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),  # 14 -> 28
            nn.Sigmoid(),  # tanh on [-1, 1] in the paper: the same up to scale
        )
        self.apply(dcgan_init)

    def forward(self, z):
        return self.net(z.view(len(z), self.z_dim, 1, 1))


class DCDiscriminator(nn.Module):
    """(N, 1, 28, 28) -> 14x14 -> 7x7 with strided convolutions -> one logit per image
    (N,). ``norm=False`` drops the batch norm (the ablation)."""

    def __init__(self, width=64, norm=True):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),  # 28 -> 14, no BN on the input
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=not norm),  # 14 -> 7
            nn.BatchNorm2d(2 * w) if norm else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 7, 1, 0),  # 7x7 -> 1x1 logit
        )
        self.apply(dcgan_init)

    def forward(self, x):
        return self.net(x).flatten()


def discriminator_loss(D, real, fake):
    """Binary cross-entropy: real images labelled 1, generated ones (detached) labelled
    0."""
    d_real, d_fake = D(real), D(fake.detach())
    return F.binary_cross_entropy_with_logits(
        d_real, torch.ones_like(d_real)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))


def generator_loss(D, fake):
    """Non-saturating generator loss -log D(G(z))."""
    d_fake = D(fake)
    return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


def train(
    G,
    D,
    images,
    *,
    steps=1000,
    batch_size=64,
    lr=2e-4,
    device="cpu",
    seed=None,
    log=None,
):
    """Alternate D and G steps (Adam, lr 2e-4, beta1 0.5, as in the paper) on
    minibatches of ``images`` (N, 1, 28, 28) in [0, 1]. ``seed`` seeds the batches and
    noise (None: torch's global generator); ``log(step, hist)`` is called after every
    step. Returns the loss history."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    G, D = G.to(device).train(), D.to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    hist = {"d_loss": [], "g_loss": []}
    for step in range(1, steps + 1):
        idx = torch.randint(len(images), (batch_size,), generator=gen)
        real = images[idx].to(device)
        fake = G(torch.randn(batch_size, G.z_dim, generator=gen).to(device))
        d_loss = discriminator_loss(D, real, fake)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = generator_loss(D, fake)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        hist["d_loss"].append(d_loss.item())
        hist["g_loss"].append(g_loss.item())
        if log is not None:
            log(step, hist)
    return hist


def slerp(z0, z1, t):
    """Spherical interpolation between two noise vectors (the paper's latent walks stay
    on the shell where Gaussian noise lives)."""
    cos = (
        (F.normalize(z0, dim=-1) * F.normalize(z1, dim=-1))
        .sum(-1, keepdim=True)
        .clamp(-1, 1)
    )
    omega = torch.acos(cos)
    t = torch.as_tensor(t, dtype=z0.dtype).view(-1, 1)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(
        omega
    )


if __name__ == "__main__":
    G, D = DCGenerator(z_dim=16, width=16), DCDiscriminator(width=16)
    images = torch.rand(256, 1, 28, 28)
    hist = train(G, D, images, steps=5, batch_size=32)
    print(f"d_loss {hist['d_loss'][-1]:.3f}  g_loss {hist['g_loss'][-1]:.3f}")
