"""Wasserstein GAN (Arjovsky, Chintala and Bottou, "Wasserstein Generative Adversarial
Networks", ICML 2017) and WGAN-GP (Gulrajani et al., "Improved Training of Wasserstein
GANs", NeurIPS 2017). The discriminator becomes a critic f with no sigmoid, trained to
maximise E[f(real)] - E[f(fake)]; if f is 1-Lipschitz that gap estimates the earth
mover's (Wasserstein-1) distance between the data and the generator's samples, which
stays informative even when the two do not overlap. WGAN keeps f Lipschitz crudely, by
clipping every weight to [-c, c] and training with RMSprop; WGAN-GP instead penalises
the critic's gradient norm for leaving 1 on points between real and fake samples, and
trains with Adam. Both take several critic steps per generator step. Here scaled to
28x28 digits.
"""

import torch
import torch.nn as nn


class Generator(nn.Module):
    """z (N, z_dim) -> 7x7 -> 14x14 -> 28x28 image in [0, 1] (N, 1, 28, 28),
    DCGAN-style."""

    def __init__(self, z_dim=64, width=32):
        super().__init__()
        self.z_dim, w = z_dim, width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 2 * w, 7, 1, 0, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.net(z.view(len(z), self.z_dim, 1, 1))


class Critic(nn.Module):
    """(N, 1, 28, 28) -> one unbounded score per image (N,). No batch norm: the gradient
    penalty is per sample, and batch norm would mix the samples of a batch."""

    def __init__(self, width=32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),
            nn.LeakyReLU(0.2),  # 28 -> 14
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.LeakyReLU(0.2),  # 14 -> 7
            nn.Conv2d(2 * w, 1, 7, 1, 0),
        )  # 7x7 -> score

    def forward(self, x):
        return self.net(x).flatten()


def gradient_penalty(f, real, fake):
    """E[(||grad f(x_hat)||_2 - 1)^2] at x_hat uniformly on lines between real and fake
    samples."""
    eps = torch.rand(len(real), *[1] * (real.dim() - 1), device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def critic_loss(f, real, fake, gp_weight=0.0):
    """-(E[f(real)] - E[f(fake)]) (+ gp_weight * gradient penalty). Also returns the
    Wasserstein estimate E[f(real)] - E[f(fake)], detached."""
    fake = fake.detach()
    w_est = f(real).mean() - f(fake).mean()
    loss = -w_est
    if gp_weight:
        loss = loss + gp_weight * gradient_penalty(f, real, fake)
    return loss, w_est.item()


def generator_loss(f, fake):
    """The generator lowers the critic's estimate by raising its score on fakes:
    -E[f(G(z))]."""
    return -f(fake).mean()


def optimisers(G, f, variant, lr=None):
    """WGAN ("clip"): RMSprop, lr 5e-5; WGAN-GP ("gp"): Adam, lr 1e-4, betas (0.5,
    0.9). Returns (generator's, critic's)."""
    if variant == "clip":
        return [torch.optim.RMSprop(m.parameters(), lr=lr or 5e-5) for m in (G, f)]
    return [
        torch.optim.Adam(m.parameters(), lr=lr or 1e-4, betas=(0.5, 0.9))
        for m in (G, f)
    ]


def critic_step(f, opt_f, real, fake, variant, clip=0.01, gp_weight=10.0):
    """One critic update: with the gradient penalty ("gp"), or followed by clipping
    every weight to [-clip, clip] ("clip"). Returns (loss, Wasserstein estimate)."""
    loss, w_est = critic_loss(f, real, fake, gp_weight if variant == "gp" else 0.0)
    opt_f.zero_grad()
    loss.backward()
    opt_f.step()
    if variant == "clip":
        with torch.no_grad():
            for p in f.parameters():
                p.clamp_(-clip, clip)
    return loss.item(), w_est


def train(
    G,
    f,
    images,
    *,
    variant="gp",
    steps=500,
    n_critic=5,
    batch_size=64,
    clip=0.01,
    gp_weight=10.0,
    lr=None,
    device="cpu",
    seed=None,
    log=None,
):
    """``steps`` generator steps, each after ``n_critic`` critic steps, on ``images``
    (N, 1, 28, 28): WGAN (``variant="clip"``) or WGAN-GP (``"gp"``). ``seed`` seeds
    batches and noise (None: torch's global generator); ``log(step, hist)`` is called
    after every generator step. Returns per generator step the critic's loss and
    Wasserstein estimate (means over its steps) and the generator's loss."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    G, f = G.to(device).train(), f.to(device).train()
    opt_g, opt_f = optimisers(G, f, variant, lr)
    noise = lambda: torch.randn(batch_size, G.z_dim, generator=gen).to(device)  # noqa
    hist = {"d_loss": [], "w_estimate": [], "g_loss": []}
    for step in range(1, steps + 1):
        critic = []
        for _ in range(n_critic):
            idx = torch.randint(len(images), (batch_size,), generator=gen)
            with torch.no_grad():
                fake = G(noise())
            real = images[idx].to(device)
            critic.append(critic_step(f, opt_f, real, fake, variant, clip, gp_weight))
        g_loss = generator_loss(f, G(noise()))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_loss, w_est = (sum(v) / n_critic for v in zip(*critic))
        for k, v in zip(hist, (d_loss, w_est, g_loss.item())):
            hist[k].append(v)
        if log is not None:
            log(step, hist)
    return hist


if __name__ == "__main__":
    images = torch.rand(256, 1, 28, 28)
    for variant in ("clip", "gp"):
        G, f = Generator(z_dim=16, width=8), Critic(width=8)
        hist = train(G, f, images, variant=variant, steps=3, n_critic=2, batch_size=32)
        print(
            f"{variant}: critic loss {-hist['w_estimate'][-1]:.4f}  g_loss "
            f"{hist['g_loss'][-1]:.4f}"
        )
