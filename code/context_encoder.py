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
    """Squared error per hole pixel (mask == 1), averaged over all the batch's hole
    pixels; ``mask`` is one (1, 1, H, W) mask for all images or one per image."""
    mask = mask.expand_as(x)
    return ((mask * (pred - x)) ** 2).sum() / mask.sum()


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


def discriminator_step(disc, opt_d, real, fake):
    """One update of the discriminator: real patches against painted ones."""
    lr_, lf = disc(real), disc(fake.detach())
    loss_d = F.binary_cross_entropy_with_logits(
        lr_, torch.ones_like(lr_)
    ) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    return loss_d.item()


def train_step(gen, disc, opt_g, opt_d, x, mask, lambda_adv):
    """One batch: the discriminator's update (if any), then the generator's on the
    joint loss. Returns the hole MSE, the adversarial loss and the discriminator's."""
    pred = gen(x * (1 - mask))
    d_fake, loss_d = None, 0.0
    if disc is not None:
        real, fake = hole_patch(x, mask), hole_patch(pred, mask)
        loss_d = discriminator_step(disc, opt_d, real, fake)
        d_fake = disc(fake)
    loss, rec, adv = context_encoder_loss(
        pred, x, mask, d_fake, 1 - lambda_adv, lambda_adv
    )
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return rec.item(), adv.item(), loss_d


def train(
    gen,
    disc,
    x_train,
    mask,
    *,
    epochs=10,
    batch_size=64,
    lr=2e-3,
    lambda_adv=0.001,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam; the hole (one shared (1, 1, H, W) mask) is blanked to 0 in the input.
    With a discriminator each step first updates it (learning rate lr / 10, as in the
    paper), then the generator on the joint loss; with ``disc=None``, on the masked L2
    alone. Returns per-epoch means: ``{"rec": [...], "adv": [...], "d": [...]}``."""
    gen.to(device).train()
    mask = mask.to(device)
    gen_ = None if seed is None else torch.Generator().manual_seed(seed)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = None
    if disc is not None:
        disc.to(device).train()
        opt_d = torch.optim.Adam(disc.parameters(), lr=lr / 10, betas=(0.5, 0.999))
    history = {"rec": [], "adv": [], "d": []}
    for epoch in range(epochs):
        sums = dict.fromkeys(history, 0.0)
        for idx in torch.randperm(len(x_train), generator=gen_).split(batch_size):
            x = x_train[idx].to(device)
            losses = train_step(gen, disc, opt_g, opt_d, x, mask, lambda_adv)
            for k, v in zip(("rec", "adv", "d"), losses):
                sums[k] += v * len(x)
        for k in history:
            history[k].append(sums[k] / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: hole MSE {history['rec'][-1]:.4f}")
    return history


@torch.no_grad()
def inpaint(gen, x, mask, *, device="cpu", batch_size=500):
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
    """Trivial fill: each hole pixel gets that pixel's mean over the training images."""
    return x * (1 - mask) + x_train.mean(0, keepdim=True) * mask


def nearest_fill(x_train, x, mask, batch_size=500):
    """Baseline (Hays and Efros 2007, scene completion, at digit scale): copy the hole
    of the training image whose context is nearest in squared error."""
    ctx = lambda t: (t * (1 - mask)).flatten(1)  # noqa: E731
    bank = ctx(x_train)
    nearest = torch.cat(
        [torch.cdist(ctx(b), bank).argmin(1) for b in x.split(batch_size)]
    )
    return x * (1 - mask) + x_train[nearest] * mask


def pca_fill(x_train, x, mask, k=40, ridge=1.0):
    """Baseline: fit k principal components to the training images, find the
    coefficients that best explain each image's context (least squares, ridge
    penalty), and fill the hole from them."""
    flat, m = x_train.flatten(1).double(), mask.flatten().bool()
    mu = flat.mean(0)
    u = torch.linalg.svd(flat - mu, full_matrices=False)[2][:k].T  # (pixels, k)
    uc = u[~m]  # the components seen through the context
    a = uc.T @ uc + ridge * torch.eye(k, dtype=uc.dtype)
    z = torch.linalg.solve(a, uc.T @ (x.flatten(1).double()[:, ~m] - mu[~m]).T)
    full = (mu[:, None] + u @ z).T.clamp(0, 1).float().view_as(x)
    return x * (1 - mask) + full * mask


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)  # vertical bars at random columns
    x[torch.arange(64), 0, :, torch.randint(4, 24, (64,))] = 1.0
    mask = center_mask()
    gen, disc = ContextEncoder(width=8), PatchDiscriminator(width=8)
    hist = train(gen, disc, x, mask, epochs=20, batch_size=16)
    mse = reconstruction_loss(inpaint(gen, x, mask), x, mask).item()
    base = reconstruction_loss(mean_fill(x, x, mask), x, mask).item()
    print(
        f"hole loss {hist['rec'][0]:.4f} -> {hist['rec'][-1]:.4f}; "
        f"hole MSE {mse:.4f} vs mean fill {base:.4f}"
    )
