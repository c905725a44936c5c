"""CycleGAN: unpaired image-to-image translation (Zhu, Park, Isola and Efros, "Unpaired
Image-to-Image Translation using Cycle-Consistent Adversarial Networks", ICCV 2017). Two
generators map domain A to B and B to A; two discriminators, one per domain, tell real
images of their domain from translated ones (least-squares GAN loss). No pairs exist, so
what keeps a translated image about the same thing as its input is cycle consistency: A
-> B -> A must give the input back (and B -> A -> B likewise), plus an identity loss: a
generator fed an image that is already in its output domain should leave it alone.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1),
            nn.InstanceNorm2d(ch),
            nn.ReLU(),
            nn.Conv2d(ch, ch, 3, padding=1),
            nn.InstanceNorm2d(ch),
        )

    def forward(self, x):
        return x + self.body(x)


class Generator(nn.Module):
    """CycleGAN's ResNet generator scaled to 1x28x28: 3x3 conv (7x7 in the paper), one
    stride-2 downsampling to 14x14, ``n_res`` residual blocks, one upsampling back to
    28x28, 3x3 conv, sigmoid."""

    def __init__(self, width=16, n_res=3):
        super().__init__()
        w = width
        norm_relu = lambda c: [nn.InstanceNorm2d(c), nn.ReLU()]  # noqa: E731
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1),
            *norm_relu(w),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            *norm_relu(2 * w),  # 28 -> 14
            *[ResBlock(2 * w) for _ in range(n_res)],
            nn.ConvTranspose2d(
                2 * w, w, 3, stride=2, padding=1, output_padding=1
            ),  # 14 -> 28
            *norm_relu(w),
            nn.Conv2d(w, 1, 3, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN for 1x28x28: a 7x7 grid of real/fake scores (no sigmoid: least
    squares)."""

    def __init__(self, width=16):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),
            nn.InstanceNorm2d(2 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 3, padding=1),
        )

    def forward(self, x):
        return self.net(x)


def cycle_loss(G_ab, G_ba, a, b):
    """|G_ba(G_ab(a)) - a|_1 + |G_ab(G_ba(b)) - b|_1; also returns the two
    translations."""
    fake_b, fake_a = G_ab(a), G_ba(b)
    loss = F.l1_loss(G_ba(fake_b), a) + F.l1_loss(G_ab(fake_a), b)
    return loss, fake_a, fake_b


def cyclegan_losses(G_ab, G_ba, D_a, D_b, a, b, lam=10.0, lam_id=5.0):
    """Generator loss (LSGAN + lam * cycle + lam_id * identity) and the two
    translations."""
    cyc, fake_a, fake_b = cycle_loss(G_ab, G_ba, a, b)
    pa, pb = D_a(fake_a), D_b(fake_b)
    adv = ((pb - 1) ** 2).mean() + ((pa - 1) ** 2).mean()
    idt = F.l1_loss(G_ab(b), b) + F.l1_loss(G_ba(a), a)
    return (
        adv + lam * cyc + lam_id * idt,
        dict(adv=adv, cycle=cyc, identity=idt),
        fake_a,
        fake_b,
    )


def d_loss(D, real, fake):
    """Least-squares discriminator loss: real -> 1, translated -> 0 (fakes detached)."""
    return 0.5 * (((D(real) - 1) ** 2).mean() + (D(fake.detach()) ** 2).mean())


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
    lam=10.0,
    lam_id=5.0,
    device="cpu",
    seed=None,
    log=None,
):
    """Unpaired training: each step draws a batch from A and an independent one from B,
    takes a step of both generators, then one of both discriminators. Adam(0.5, 0.999)
    as in the paper. Returns per-step ``d_loss``, ``g_loss`` and its parts."""
    if seed is not None:
        torch.manual_seed(seed)

    def adam(*ms):
        params = [p for m in ms for p in m.to(device).train().parameters()]
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))

    opt_g, opt_d = adam(G_ab, G_ba), adam(D_a, D_b)
    hist = dict(d_loss=[], g_loss=[], adv=[], cycle=[], identity=[])
    for step in range(steps):
        a = xa[torch.randint(len(xa), (batch_size,))].to(device)
        b = xb[torch.randint(len(xb), (batch_size,))].to(device)
        g_loss, parts, fake_a, fake_b = cyclegan_losses(
            G_ab, G_ba, D_a, D_b, a, b, lam, lam_id
        )
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        dl = d_loss(D_a, a, fake_a) + d_loss(D_b, b, fake_b)
        opt_d.zero_grad()
        dl.backward()
        opt_d.step()
        for k, v in (("d_loss", dl), ("g_loss", g_loss), *parts.items()):
            hist[k].append(v.item())
        if log is not None:
            log(step, {k: v[-1] for k, v in hist.items()})
    return hist


if __name__ == "__main__":
    torch.manual_seed(0)
    xa = (torch.rand(64, 1, 28, 28) > 0.8).float()
    xb = F.max_pool2d((torch.rand(64, 1, 28, 28) > 0.8).float(), 3, 1, 1)
    nets = (
        Generator(8, 1),
        Generator(8, 1),
        PatchDiscriminator(8),
        PatchDiscriminator(8),
    )
    hist = train(*nets, xa, xb, steps=5, batch_size=8)
    print("CycleGAN generator loss per step:", [round(v, 3) for v in hist["g_loss"]])
