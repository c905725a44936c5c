"""U-Net: convolutional networks for biomedical image segmentation (Ronneberger, Fischer
and Brox, "U-Net: Convolutional Networks for Biomedical Image Segmentation", MICCAI
2015). A contracting path of convolutions and max-pooling halves the resolution and
doubles the channels at each level; an expanding path upsamples with transposed
convolutions and, at every level, concatenates the contracting path's feature map of the
same size, so the per-pixel classifier at the end sees both wide context and
full-resolution detail. A weight map in the loss makes the thin gaps between touching
cells count most, so that they come out separate; elastic deformation stretches a
handful of annotated images. Simplified: padded convolutions (no overlap-tile), batch
normalisation, two classes with a sigmoid.
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


def border_weights(labels, w0=10.0, sigma=5.0):
    """The paper's weight map for a label image (H, W) (0 = background, one id per
    object): w = w_c + w0 exp(-(d1 + d2)^2 / (2 sigma^2)) on background pixels, d1 and
    d2 the distances to the nearest and second-nearest object; w_c weighs both classes
    equally in total. The thin gaps between touching objects get the largest weights.
    Distances are computed within 4 sigma of each object (beyond, the term is ~0)."""
    h, w = labels.shape
    fg = labels > 0
    w_c = torch.where(fg, 0.5 / fg.float().mean(), 0.5 / (~fg).float().mean())
    d1 = torch.full((h, w), float("inf"))
    d2 = d1.clone()
    r = int(4 * sigma)
    lab = labels[None].float()
    inner = (F.max_pool2d(lab, 3, 1, 1) == lab) & (-F.max_pool2d(-lab, 3, 1, 1) == lab)
    inner = inner[0]  # all 8 neighbours carry the same id
    for i in labels.unique()[1:] if fg.any() else []:
        ys, xs = ((labels == i) & ~inner).nonzero(as_tuple=True)  # its outline
        y0, y1 = max(int(ys.min()) - r, 0), min(int(ys.max()) + r + 1, h)
        x0, x1 = max(int(xs.min()) - r, 0), min(int(xs.max()) + r + 1, w)
        gy, gx = torch.meshgrid(
            torch.arange(y0, y1), torch.arange(x0, x1), indexing="ij"
        )
        window = torch.stack([gy.flatten(), gx.flatten()], 1).float()
        obj = torch.stack([ys, xs], 1).float()
        d = torch.cdist(window, obj).min(1).values.view(gy.shape)
        a, b = d1[y0:y1, x0:x1], d2[y0:y1, x0:x1]
        d2[y0:y1, x0:x1] = torch.minimum(b, torch.maximum(a, d))
        d1[y0:y1, x0:x1] = torch.minimum(a, d)
    border = w0 * torch.exp(-((d1 + d2) ** 2) / (2 * sigma**2))
    return w_c + torch.where(fg, torch.zeros(()), border)


def segmentation_loss(logits, mask, weights):
    """Pixel-wise binary cross-entropy, each pixel weighted by the weight map (the
    paper's weighted softmax loss, for two classes)."""
    bce = F.binary_cross_entropy_with_logits(logits, mask, reduction="none")
    return (weights * bce).mean()


def iou(pred, mask):
    """Intersection over union of two binary masks (all pixels pooled)."""
    pred, mask = pred.bool(), mask.bool()
    union = (pred | mask).sum().item()
    return (pred & mask).sum().item() / union if union else 1.0


def elastic_grid(n, h, w, sd, generator=None, coarse=3):
    """The paper's elastic deformation as a sampling grid for ``F.grid_sample``: random
    displacements (Gaussian, ``sd`` pixels) on a coarse 3 x 3 grid, interpolated
    bicubically to every pixel. Returns (n, h, w, 2)."""
    disp = torch.randn(n, 2, coarse, coarse, generator=generator) * sd
    disp = F.interpolate(disp, size=(h, w), mode="bicubic", align_corners=True)
    eye = torch.eye(2, 3).expand(n, 2, 3)
    base = F.affine_grid(eye, (n, 1, h, w), align_corners=False)
    return base + disp.permute(0, 2, 3, 1) * torch.tensor([2 / w, 2 / h])


def augment(x, m, wt, elastic_sd=0.0, generator=None):
    """The same random flips, 90-degree rotation and (if ``elastic_sd`` > 0) elastic
    deformation for a batch of images, masks and weight maps."""
    k = int(torch.randint(4, (), generator=generator))
    x, m, wt = (torch.rot90(t, k, (2, 3)) for t in (x, m, wt))
    if torch.rand((), generator=generator) < 0.5:
        x, m, wt = x.flip(3), m.flip(3), wt.flip(3)
    if elastic_sd > 0:
        g = elastic_grid(len(x), *x.shape[2:], elastic_sd, generator)
        x = F.grid_sample(x, g, padding_mode="reflection", align_corners=False)
        m, wt = (
            F.grid_sample(
                t, g, mode="nearest", padding_mode="reflection", align_corners=False
            )
            for t in (m, wt)
        )
    return x, m, wt


def train(
    model,
    x_train,
    m_train,
    w_train,
    *,
    epochs=30,
    batch_size=16,
    lr=3e-3,
    elastic_sd=0.0,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam with a cosine learning-rate schedule on the weighted loss, on randomly
    flipped, rotated and (``elastic_sd`` > 0) elastically deformed tiles. ``w_train``:
    the weight maps (``torch.ones_like(m_train)`` for none); ``seed`` fixes the batch
    order and augmentation. Returns ``{"loss": [mean training loss per epoch]}``."""
    model.to(device).train()
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    history = {"loss": []}
    for epoch in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(x_train), generator=gen).split(batch_size):
            batch = (x_train[idx], m_train[idx], w_train[idx])
            x, m, wt = (t.to(device) for t in augment(*batch, elastic_sd, gen))
            loss = segmentation_loss(model(x), m, wt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        history["loss"].append(total / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}")
    return history


@torch.no_grad()
def predict(model, x, *, device="cpu"):
    """Binary masks (probability > 0.5) for a batch of images."""
    model.to(device).eval()
    return (torch.sigmoid(model(x.to(device))) > 0.5).float().cpu()


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(8, 1, 32, 32)
    m = (F.avg_pool2d(x, 5, 1, 2) > 0.5).float()  # blobs of bright pixels
    model = UNet(width=8, depth=2)
    hist = train(model, x, m, torch.ones_like(m), epochs=5, batch_size=4)["loss"]
    print(f"loss {hist[0]:.3f} -> {hist[-1]:.3f}; IoU {iou(predict(model, x), m):.3f}")
