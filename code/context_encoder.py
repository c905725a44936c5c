"""Context encoder (Pathak, Kraehenbuehl, Donahue, Darrell and Efros, "Context Encoders:
Feature Learning by Inpainting", CVPR 2016). A square in the middle of each image is
blanked out and an encoder-decoder must paint it back from the surrounding context. A
channel-wise fully connected layer in the middle lets every position of the hole see
every position of the context. The loss mixes a squared error counted only inside the
hole, which gets the layout right but averages plausible fillings into a blur, with a
small adversarial term from a discriminator that judges the filled-in patch and rewards
fillings that look real.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def center_mask(size=28, hole=12):
    """A (1, 1, size, size) float mask: 1 inside the central hole x hole square, 0
    elsewhere."""
    m = torch.zeros(1, 1, size, size)
    a = (size - hole) // 2
    m[..., a : a + hole, a : a + hole] = 1.0
    return m


class ChannelwiseFC(nn.Module):
    """A fully connected layer within each channel (every cell of an H x W map sees
    every cell), without connections across channels: C (HW x HW) weights instead of (C
    HW)^2."""

    def __init__(self, channels, hw):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels, hw, hw) / hw**0.5)
        self.bias = nn.Parameter(torch.zeros(channels, hw))

    def forward(self, h):
        b, c, hh, ww = h.shape
        out = torch.einsum("bci,cij->bcj", h.flatten(2), self.weight) + self.bias
        return out.view(b, c, hh, ww)


class ContextEncoder(nn.Module):
    """Encoder 28x28x1 -> 7x7x64, a channel-wise fully connected layer and a 1x1
    convolution to mix channels, then a decoder back to 28x28x1 (sigmoid). The output is
    a full image; only its hole is used."""

    def __init__(self, width=32, size=28):
        super().__init__()
        w, s = width, size // 4
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),
            nn.BatchNorm2d(w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2),
        )
        self.middle = nn.Sequential(
            ChannelwiseFC(2 * w, s * s),
            nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 1),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Sigmoid(),
        )

    def forward(self, x_masked):
        return self.decoder(self.middle(self.encoder(x_masked)))


class PatchDiscriminator(nn.Module):
    """Says whether a hole-sized patch (12x12 here) is real or painted in: two stride-2
    convolutions and a linear layer to one logit."""

    def __init__(self, hole=12, width=32):
        super().__init__()
        s = (hole + 3) // 4
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * s * s, 1),
        )

    def forward(self, patch):
        return self.net(patch).squeeze(1)


def reconstruction_loss(pred, x, mask):
    """Squared error per pixel counted only inside the hole (mask == 1)."""
    return ((mask * (pred - x)) ** 2).sum() / (mask.sum() * len(x))


def context_encoder_loss(
    pred, x, mask, d_logits_fake=None, lambda_rec=0.999, lambda_adv=0.001
):
    """lambda_rec * masked L2 + lambda_adv * adversarial loss (the generator's
    non-saturating -log D(fake patch)); without discriminator logits, the L2 term alone.
    Returns (total, rec, adv)."""
    rec = reconstruction_loss(pred, x, mask)
    if d_logits_fake is None:
        return rec, rec, torch.zeros(())
    adv = F.binary_cross_entropy_with_logits(
        d_logits_fake, torch.ones_like(d_logits_fake)
    )
    return lambda_rec * rec + lambda_adv * adv, rec, adv


def hole_patch(x, mask):
    """The hole's square cut out of each image: (N, 1, hole, hole)."""
    rows, cols = mask[0, 0].nonzero(as_tuple=True)
    return x[..., rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def train(
    gen, x_train, mask, disc=None, epochs=10, batch_size=64, lr=2e-3, device="cpu"
):
    """Adam; the hole is blanked to 0 in the input. With ``disc`` each step first
    updates the discriminator (real patches vs painted ones, learning rate lr / 10 as in
    the paper), then the generator on the joint loss; without it, on the masked L2
    alone. Returns per-epoch means of the reconstruction, adversarial and discriminator
    losses."""
    gen.to(device).train()
    mask = mask.to(device)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999))
    if disc is not None:
        disc.to(device).train()
        opt_d = torch.optim.Adam(disc.parameters(), lr=lr / 10, betas=(0.5, 0.999))
    history = {"rec": [], "adv": [], "d": []}
    for _ in range(epochs):
        perm, sums = torch.randperm(len(x_train)), {"rec": 0.0, "adv": 0.0, "d": 0.0}
        for i in range(0, len(x_train), batch_size):
            x = x_train[perm[i : i + batch_size]].to(device)
            pred = gen(x * (1 - mask))
            d_fake = None
            if disc is not None:
                real, fake = hole_patch(x, mask), hole_patch(pred, mask)
                lr_, lf = disc(real), disc(fake.detach())
                loss_d = F.binary_cross_entropy_with_logits(
                    lr_, torch.ones_like(lr_)
                ) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                sums["d"] += loss_d.item() * len(x)
                d_fake = disc(fake)
            loss, rec, adv = context_encoder_loss(pred, x, mask, d_fake)
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            sums["rec"] += rec.item() * len(x)
            sums["adv"] += adv.item() * len(x)
        for k in history:
            history[k].append(sums[k] / len(x_train))
    return history


@torch.no_grad()
def inpaint(gen, x, mask, device="cpu", batch_size=500):
    """The images with their holes painted in by the model (the context kept as it
    was)."""
    gen.to(device).eval()
    out = torch.cat(
        [
            gen((x[i : i + batch_size] * (1 - mask)).to(device)).cpu()
            for i in range(0, len(x), batch_size)
        ]
    )
    return x * (1 - mask) + out * mask


def mean_fill(x_train, x, mask):
    """Baseline: fill each hole pixel with that pixel's mean over the training
    images."""
    return x * (1 - mask) + x_train.mean(0, keepdim=True) * mask


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)  # vertical bars at random columns
    x[torch.arange(64), 0, :, torch.randint(4, 24, (64,))] = 1.0
    mask = center_mask()
    gen, disc = ContextEncoder(width=8), PatchDiscriminator(width=8)
    hist = train(gen, x, mask, disc, epochs=20, batch_size=16)
    mse = reconstruction_loss(inpaint(gen, x, mask), x, mask).item()
    base = reconstruction_loss(mean_fill(x, x, mask), x, mask).item()
    print(
        f"hole loss {hist['rec'][0]:.4f} -> {hist['rec'][-1]:.4f}; "
        f"hole MSE {mse:.4f} vs mean fill {base:.4f}"
    )
