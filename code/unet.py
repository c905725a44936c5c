"""U-Net: convolutional networks for biomedical image segmentation (Ronneberger, Fischer
and Brox, "U-Net: Convolutional Networks for Biomedical Image Segmentation", MICCAI
2015). A contracting path of convolutions and max-pooling halves the resolution and
doubles the channels at each level; an expanding path upsamples with transposed
convolutions and, at every level, concatenates the contracting path's feature map of the
same size, so the per-pixel classifier at the end sees both wide context and
full-resolution detail. It trains well from a handful of annotated images.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def double_conv(c_in, c_out):
    """Two 3x3 convolutions (padded, so the size is kept), each with batch norm and
    ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class UNet(nn.Module):
    """``depth`` pooling steps down and as many transposed convolutions up. With
    ``skips=False`` the decoder gets only the upsampled path (the ablation). Returns one
    logit per pixel and class; inputs must have sides divisible by ``2 ** depth``."""

    def __init__(self, in_ch=1, n_classes=1, width=16, depth=3, skips=True):
        super().__init__()
        self.depth, self.skips = depth, skips
        chans = [width * 2**i for i in range(depth + 1)]  # e.g. 16, 32, 64, 128
        self.down = nn.ModuleList(
            [double_conv(in_ch, chans[0])]
            + [double_conv(chans[i], chans[i + 1]) for i in range(depth)]
        )
        self.up = nn.ModuleList(
            [
                nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2)
                for i in reversed(range(depth))
            ]
        )
        self.dec = nn.ModuleList(
            [
                double_conv(chans[i] * (2 if skips else 1), chans[i])
                for i in reversed(range(depth))
            ]
        )
        self.head = nn.Conv2d(chans[0], n_classes, 1)  # 1x1 conv: per-pixel scores

    def forward(self, x):
        k = 2**self.depth
        if x.dim() != 4 or x.shape[-2] % k or x.shape[-1] % k:
            raise ValueError(
                f"UNet(depth={self.depth}) needs input (N, C, H, W) with H and W "
                f"divisible by {k}; got {tuple(x.shape)}"
            )
        feats = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            feats.append(x)  # sizes H, H/2, ..., H/2^depth
        for up, dec, skip in zip(self.up, self.dec, reversed(feats[:-1])):
            x = up(x)  # double the size, halve chans
            x = dec(torch.cat([skip, x], 1) if self.skips else x)  # concatenated skip
        return self.head(x)


def segmentation_loss(logits, mask, eps=1.0):
    """Pixel-wise binary cross-entropy plus the soft Dice loss (1 - Dice of the
    probabilities), which keeps the small foreground class from being ignored."""
    bce = F.binary_cross_entropy_with_logits(logits, mask)
    p = torch.sigmoid(logits)
    dice = (2 * (p * mask).sum() + eps) / (p.sum() + mask.sum() + eps)
    return bce + (1 - dice)


def iou(pred, mask):
    """Intersection over union of two binary masks (all pixels pooled)."""
    pred, mask = pred.bool(), mask.bool()
    union = (pred | mask).sum().item()
    return (pred & mask).sum().item() / union if union else 1.0


def augment(x, m):
    """The same random flips and 90-degree rotation for a batch of images and masks."""
    k = int(torch.randint(4, ()))
    x, m = torch.rot90(x, k, (2, 3)), torch.rot90(m, k, (2, 3))
    if torch.rand(()) < 0.5:
        x, m = x.flip(3), m.flip(3)
    return x, m


def train(model, x_train, m_train, epochs=30, batch_size=16, lr=3e-3, device="cpu"):
    """Adam with a cosine learning-rate schedule on the segmentation loss, on randomly
    flipped and rotated tiles. Returns the list of mean training losses, one per
    epoch."""
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    history = []
    for _ in range(epochs):
        perm, total = torch.randperm(len(x_train)), 0.0
        for i in range(0, len(x_train), batch_size):
            x, m = augment(
                x_train[perm[i : i + batch_size]], m_train[perm[i : i + batch_size]]
            )
            loss = segmentation_loss(model(x.to(device)), m.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(x)
        history.append(total / len(x_train))
    return history


@torch.no_grad()
def predict(model, x, device="cpu"):
    """Binary masks (probability > 0.5) for a batch of images."""
    model.to(device).eval()
    return (torch.sigmoid(model(x.to(device))) > 0.5).float().cpu()


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(8, 1, 32, 32)
    m = (F.avg_pool2d(x, 5, 1, 2) > 0.5).float()  # blobs of bright pixels
    model = UNet(width=8, depth=2)
    hist = train(model, x, m, epochs=5, batch_size=4)
    print(f"loss {hist[0]:.3f} -> {hist[-1]:.3f}; IoU {iou(predict(model, x), m):.3f}")
