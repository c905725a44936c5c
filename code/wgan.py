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


def train(
    G,
    f,
    images,
    variant="gp",
    steps=500,
    n_critic=5,
    batch=64,
    clip=0.01,
    gp_weight=10.0,
    lr=None,
    device="cpu",
    seed=0,
    eval_fn=None,
    eval_every=100,
):
    """``steps`` generator steps, each after ``n_critic`` critic steps, on ``images``
    (N, 1, 28, 28). variant "clip": RMSprop (lr 5e-5), critic weights clipped to [-clip,
    clip] (WGAN). variant "gp": Adam (lr 1e-4, betas (0.5, 0.9)), gradient penalty
    gp_weight (WGAN-GP). ``eval_fn(G)`` is called every ``eval_every`` generator steps
    (e.g. a Fréchet distance). Returns the history: per generator step the mean
    Wasserstein estimate of its critic steps."""
    gen = torch.Generator().manual_seed(seed)
    G, f = G.to(device).train(), f.to(device).train()
    if variant == "clip":
        opt_g = torch.optim.RMSprop(G.parameters(), lr=lr or 5e-5)
        opt_f = torch.optim.RMSprop(f.parameters(), lr=lr or 5e-5)
    else:
        opt_g = torch.optim.Adam(G.parameters(), lr=lr or 1e-4, betas=(0.5, 0.9))
        opt_f = torch.optim.Adam(f.parameters(), lr=lr or 1e-4, betas=(0.5, 0.9))
    hist = {"w_estimate": [], "g_loss": [], "eval_step": [], "eval": []}
    for step in range(steps):
        w_sum = 0.0
        for _ in range(n_critic):
            real = images[torch.randint(len(images), (batch,), generator=gen)].to(
                device
            )
            with torch.no_grad():
                fake = G(torch.randn(batch, G.z_dim, device=device))
            loss, w_est = critic_loss(
                f, real, fake, gp_weight if variant == "gp" else 0.0
            )
            opt_f.zero_grad()
            loss.backward()
            opt_f.step()
            if variant == "clip":
                with torch.no_grad():
                    for p in f.parameters():
                        p.clamp_(-clip, clip)
            w_sum += w_est
        g_loss = generator_loss(f, G(torch.randn(batch, G.z_dim, device=device)))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        hist["w_estimate"].append(w_sum / n_critic)
        hist["g_loss"].append(g_loss.item())
        if eval_fn is not None and (step + 1) % eval_every == 0:
            G.eval()
            hist["eval_step"].append(step + 1)
            hist["eval"].append(eval_fn(G))
            G.train()
    return hist


if __name__ == "__main__":
    images = torch.rand(256, 1, 28, 28)
    for variant in ("clip", "gp"):
        G, f = Generator(z_dim=16, width=8), Critic(width=8)
        hist = train(G, f, images, variant=variant, steps=3, n_critic=2, batch=32)
        print(
            f"{variant}: critic loss {-hist['w_estimate'][-1]:.4f}  g_loss "
            f"{hist['g_loss'][-1]:.4f}"
        )
