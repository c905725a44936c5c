"""pix2pix: paired image-to-image translation with a conditional GAN (Isola, Zhu, Zhou
and Efros, "Image-to-Image Translation with Conditional Adversarial Networks", CVPR
2017). A U-Net generator maps an input image to an output image; a PatchGAN
discriminator sees the input and an output side by side and says, for every patch,
whether the pair is real or generated. The generator is trained with an L1 loss to the
paired target (which gets the low frequencies right) plus the adversarial loss (which
keeps the output sharp where L1 alone would settle on a faint compromise between the
plausible outputs). As in the paper, dropout in the decoder is the generator's only
noise and stays on at test time, and batch norm uses the test batch's statistics.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class UNet(nn.Module):
    """Generator for 1x28x28 images: a three-level encoder, a decoder that upsamples
    back, and skip connections that concatenate each encoder level to the decoder level
    of the same size, so the input's fine detail reaches the output directly. No batch
    norm on the first layer (the paper's C64); dropout in the decoder is the noise."""

    def __init__(self, in_ch=1, out_ch=1, width=32, dropout=0.2):
        super().__init__()
        w = width
        block = lambda i, o, bn=True, **kw: nn.Sequential(  # noqa: E731
            nn.Conv2d(i, o, **kw),
            nn.BatchNorm2d(o) if bn else nn.Identity(),
            nn.LeakyReLU(0.2),
        )
        self.e1 = block(in_ch, w, bn=False, kernel_size=3, padding=1)  # 28x28
        self.e2 = block(w, 2 * w, kernel_size=4, stride=2, padding=1)  # 14x14
        self.e3 = block(2 * w, 4 * w, kernel_size=4, stride=2, padding=1)  # 7x7
        up = lambda i, o: nn.Sequential(  # noqa: E731
            nn.ConvTranspose2d(i, o, 4, stride=2, padding=1),
            nn.BatchNorm2d(o),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.d3 = up(4 * w, 2 * w)  # 7 -> 14
        self.d2 = up(4 * w, w)  # 14 -> 28 (after skip)
        self.out = nn.Conv2d(2 * w, out_ch, 3, padding=1)

    def forward(self, x):
        if x.dim() != 4 or x.shape[-2:] != (28, 28):
            raise ValueError(
                f"UNet expects images of shape (N, C, 28, 28), got {tuple(x.shape)}"
            )
        h1 = self.e1(x)
        h2 = self.e2(h1)
        h3 = self.e3(h2)
        u2 = self.d3(h3)  # skip: concatenate encoder level 2
        u1 = self.d2(torch.cat([u2, h2], 1))  # skip: concatenate encoder level 1
        return torch.sigmoid(self.out(torch.cat([u1, h1], 1)))


class PatchDiscriminator(nn.Module):
    """Conditional PatchGAN: sees (input, output) stacked as channels and returns a 7x7
    grid of logits, one real/fake verdict per overlapping patch. Its receptive field
    (4, then 4 + 3*2 = 10, then 10 + 2*4 = 18 pixels) is 18x18 of the 28x28 image, about
    two thirds of its width (the paper's 70x70 is about a quarter of 256)."""

    def __init__(self, in_ch=2, width=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_ch, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 3, padding=1),
        )

    def forward(self, src, out):
        return self.net(torch.cat([src, out], 1))


def d_loss(D, src, tgt, fake):
    """D: real pairs (src, tgt) -> 1, generated pairs (src, G(src)) -> 0, on every
    patch (the fakes detached)."""
    bce = F.binary_cross_entropy_with_logits
    real, gen = D(src, tgt), D(src, fake.detach())
    return bce(real, torch.ones_like(real)) + bce(gen, torch.zeros_like(gen))


def g_loss(D, src, tgt, fake, lambda_l1=100.0):
    """G: fool D on every patch, plus lambda * L1 to the target. ``D=None``: L1 alone
    (the baseline that averages the plausible outputs). Returns (loss, L1)."""
    if src.shape != tgt.shape or fake.shape != tgt.shape:
        raise ValueError(
            f"src, tgt and fake must be paired images of one shape, got "
            f"{tuple(src.shape)}, {tuple(tgt.shape)} and {tuple(fake.shape)}"
        )
    l1 = F.l1_loss(fake, tgt)
    if D is None:
        return l1, l1
    logits = D(src, fake)  # not detached: the gradients reach G
    adv = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    return adv + lambda_l1 * l1, l1


def train(
    G,
    D,
    src,
    tgt,
    *,
    epochs=10,
    batch_size=64,
    lr=2e-4,
    lambda_l1=100.0,
    device="cpu",
    seed=None,
    log=None,
):
    """Train on paired images (src[i] -> tgt[i]): per batch a D step, then a G step
    against the updated D (``D=None``: G with L1 alone). Adam(0.5, 0.999) as in the
    paper. Returns the per-epoch means of ``d_loss``, ``g_loss`` and ``l1``."""
    if seed is not None:
        torch.manual_seed(seed)
    opt_g, opt_d = (
        torch.optim.Adam(m.to(device).train().parameters(), lr=lr, betas=(0.5, 0.999))
        if m is not None
        else None
        for m in (G, D)
    )
    hist = dict(d_loss=[], g_loss=[], l1=[])
    for epoch in range(epochs):
        sums = dict(d_loss=0.0, g_loss=0.0, l1=0.0)
        for idx in torch.randperm(len(src)).split(batch_size):
            s, t = src[idx].to(device), tgt[idx].to(device)
            fake = G(s)
            if D is not None:
                ld = d_loss(D, s, t, fake)
                opt_d.zero_grad(), ld.backward(), opt_d.step()
                sums["d_loss"] += ld.item() * len(idx)
            lg, l1 = g_loss(D, s, t, fake, lambda_l1)
            opt_g.zero_grad(), lg.backward(), opt_g.step()
            sums["g_loss"] += lg.item() * len(idx)
            sums["l1"] += l1.item() * len(idx)
        for k in hist:
            hist[k].append(sums[k] / len(src))
        if log is not None:
            log(epoch, {k: v[-1] for k, v in hist.items()})
    return hist


@torch.no_grad()
def translate(G, src, batch_size=500):
    """G's outputs for src, as at test time in the paper: dropout on, and batch norm
    with the statistics of the batch being translated."""
    G.train()
    dev = next(G.parameters()).device
    return torch.cat([G(b.to(dev)).cpu() for b in src.split(batch_size)])


def top_half(x):
    """The paired task's input: the digit with its bottom half blanked out."""
    out = x.clone()
    out[..., x.shape[-2] // 2 :, :] = 0
    return out


if __name__ == "__main__":
    torch.manual_seed(0)
    tgt = (torch.rand(32, 1, 28, 28) > 0.8).float()
    G, D = UNet(width=8), PatchDiscriminator(width=8)
    hist = train(G, D, top_half(tgt), tgt, epochs=3, batch_size=16)
    print("pix2pix L1 loss per epoch:", [round(h, 4) for h in hist["l1"]])
