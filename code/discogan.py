"""DiscoGAN (Kim, Cha, Kim, Lee and Kim, "Learning to Discover Cross-Domain Relations
with Generative Adversarial Networks", ICML 2017). Like CycleGAN it learns two mappings
between unpaired domains A and B, each judged by a discriminator of its output domain,
and ties them together with a reconstruction loss: G_BA(G_AB(x_A)) must reconstruct x_A,
and the other way. Its formulation is the plain one: the standard (cross-entropy) GAN
loss, a squared-error reconstruction loss added with weight one, no identity loss, and
encoder-decoder generators (strided convolutions down, transposed convolutions up) with
a real/fake verdict per image.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    """Encoder-decoder for 1x28x28: 28 -> 14 -> 7 and back, batch norm, sigmoid
    output."""

    def __init__(self, width=16):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),  # 14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2),  # 7
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1),
            nn.BatchNorm2d(w),
            nn.ReLU(),  # 14
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )  # 28

    def forward(self, x):
        return self.net(x)


class Discriminator(nn.Module):
    """Three strided convolutions and one logit per image."""

    def __init__(self, width=16):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 7),
        )

    def forward(self, x):
        return self.net(x).flatten(1)


def discogan_losses(G_ab, G_ba, D_a, D_b, a, b, w_recon=1.0):
    """L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B (MSE reconstructions with weight
    ``w_recon``, one in the paper; BCE GAN terms); L_D = the two discriminators' BCE.
    Returns (g_loss, d_loss, reconstruction)."""
    bce = F.binary_cross_entropy_with_logits
    real, fake = lambda t: torch.ones_like(t), lambda t: torch.zeros_like(t)  # noqa: E731
    fake_b, fake_a = G_ab(a), G_ba(b)
    recon = F.mse_loss(G_ba(fake_b), a) + F.mse_loss(G_ab(fake_a), b)
    pb, pa = D_b(fake_b), D_a(fake_a)
    g_loss = bce(pb, real(pb)) + bce(pa, real(pa)) + w_recon * recon
    d_loss = 0
    for D, x, f in ((D_a, a, fake_a), (D_b, b, fake_b)):
        px, pf = D(x), D(f.detach())
        d_loss = d_loss + bce(px, real(px)) + bce(pf, fake(pf))
    return g_loss, d_loss, recon


def train(
    G_ab,
    G_ba,
    D_a,
    D_b,
    xa,
    xb,
    *,
    steps=500,
    batch_size=32,
    lr=2e-4,
    w_recon=1.0,
    device="cpu",
    seed=None,
    log=None,
):
    """Unpaired training, one G step and one D step per batch from the same forward
    pass, Adam(0.5, 0.999). ``w_recon=0`` drops the reconstruction loss (two plain
    GANs). Returns per-step ``d_loss``, ``g_loss`` and ``recon``."""
    if seed is not None:
        torch.manual_seed(seed)

    def adam(*ms):
        params = [p for m in ms for p in m.to(device).train().parameters()]
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))

    opt_g, opt_d = adam(G_ab, G_ba), adam(D_a, D_b)
    hist = dict(d_loss=[], g_loss=[], recon=[])
    for step in range(steps):
        a = xa[torch.randint(len(xa), (batch_size,))].to(device)
        b = xb[torch.randint(len(xb), (batch_size,))].to(device)
        g_loss, d_loss, recon = discogan_losses(G_ab, G_ba, D_a, D_b, a, b, w_recon)
        opt_g.zero_grad()
        g_loss.backward()  # also leaves gradients in D: dropped just below
        opt_d.zero_grad()
        d_loss.backward()
        opt_g.step()
        opt_d.step()
        for k, v in (("d_loss", d_loss), ("g_loss", g_loss), ("recon", recon)):
            hist[k].append(v.item())
        if log is not None:
            log(step, {k: v[-1] for k, v in hist.items()})
    return hist


if __name__ == "__main__":
    torch.manual_seed(0)
    xa = (torch.rand(64, 1, 28, 28) > 0.8).float()
    xb = 1 - xa
    nets = Generator(8), Generator(8), Discriminator(8), Discriminator(8)
    hist = train(*nets, xa, xb, steps=5, batch_size=8)
    print("DiscoGAN generator loss per step:", [round(v, 3) for v in hist["g_loss"]])
