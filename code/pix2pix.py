"""pix2pix: paired image-to-image translation with a conditional GAN (Isola, Zhu, Zhou
and Efros, "Image-to-Image Translation with Conditional Adversarial Networks", CVPR
2017). A U-Net generator maps an input image to an output image; a PatchGAN
discriminator sees the input and an output side by side and says, for every small patch,
whether the pair is real or generated. The generator is trained with an L1 loss to the
paired target (which gets the low frequencies right) plus the adversarial loss (which
keeps the high frequencies sharp instead of blurred into an average).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class UNet(nn.Module):
    """Generator for 1x28x28 images: a three-level encoder, a decoder that upsamples
    back, and skip connections that concatenate each encoder level to the decoder level
    of the same size, so fine detail of the input reaches the output directly. Dropout
    in the decoder is pix2pix's noise."""

    def __init__(self, in_ch=1, out_ch=1, width=32, dropout=0.2):
        super().__init__()
        w = width
        block = lambda i, o, **kw: nn.Sequential(  # noqa: E731
            nn.Conv2d(i, o, **kw), nn.BatchNorm2d(o), nn.LeakyReLU(0.2)
        )
        self.e1 = block(in_ch, w, kernel_size=3, padding=1)  # 28x28
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
    grid of logits, one real/fake verdict per overlapping patch (each sees a 10x10
    window)."""

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


def pix2pix_losses(G, D, src, tgt, lambda_l1=100.0):
    """The two losses of one pix2pix step. D: real pairs (src, tgt) -> 1, generated
    pairs (src, G(src)) -> 0, for every patch. G: fool D on every patch, plus lambda *
    L1 to the target. With ``D=None`` the generator is trained with L1 alone (the blurry
    baseline)."""
    if src.shape != tgt.shape:
        raise ValueError(
            f"src and tgt must be paired images of one shape, got "
            f"{tuple(src.shape)} and {tuple(tgt.shape)}"
        )
    fake = G(src)
    l1 = F.l1_loss(fake, tgt)
    if D is None:
        return dict(d_loss=None, g_loss=l1, l1=l1)
    bce = F.binary_cross_entropy_with_logits
    real_logits, fake_logits = D(src, tgt), D(src, fake.detach())
    d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(
        fake_logits, torch.zeros_like(fake_logits)
    )
    adv_logits = D(src, fake)  # not detached: gradients reach G
    g_adv = bce(adv_logits, torch.ones_like(adv_logits))
    return dict(d_loss=d_loss, g_loss=g_adv + lambda_l1 * l1, l1=l1)


def train(G, D, src, tgt, epochs=10, batch_size=64, lr=2e-4, lambda_l1=100.0):
    """Train on paired images (src[i] -> tgt[i]); ``D=None`` trains G with L1 alone.
    Adam with beta1 = 0.5 as in the paper. Returns the mean L1 of each epoch."""
    dev = next(G.parameters()).device
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999)) if D else None
    history = []
    for _ in range(epochs):
        G.train()
        if D is not None:
            D.train()
        total = 0.0
        for idx in torch.randperm(len(src)).split(batch_size):
            s, t = src[idx].to(dev), tgt[idx].to(dev)
            losses = pix2pix_losses(G, D, s, t, lambda_l1)
            opt_g.zero_grad()
            losses["g_loss"].backward()  # G's gradients (also leaves some in D)
            if D is not None:
                opt_d.zero_grad()  # drop those before D's own backward
                losses["d_loss"].backward()
                opt_d.step()
            opt_g.step()  # both step from the same D
            total += losses["l1"].item() * len(idx)
        history.append(total / len(src))
    return history


def outline(x, threshold=0.5):
    """The paired task's input: the one-pixel ring just outside a digit's strokes."""
    ink = (x > threshold).float()
    return (F.max_pool2d(ink, 3, stride=1, padding=1) - ink).clamp(0, 1)


if __name__ == "__main__":
    torch.manual_seed(0)
    tgt = (torch.rand(32, 1, 28, 28) > 0.8).float()
    src = outline(tgt)
    G, D = UNet(), PatchDiscriminator()
    hist = train(G, D, src, tgt, epochs=3, batch_size=16)
    print("pix2pix L1 loss per epoch:", [round(h, 4) for h in hist])
