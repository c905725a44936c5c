"""SegNet: a deep convolutional encoder-decoder for image segmentation (Badrinarayanan,
Kendall and Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder Architecture for
Image Segmentation", IEEE TPAMI 2017). The encoder is a stack of convolutions and 2x2
max-pooling layers that remember which of the four pixels won (the pooling indices). The
decoder upsamples with max-unpooling: each value goes back to the exact position its
maximum came from, the other three are zero, and convolutions then fill the sparse map
in. Only the indices cross from encoder to decoder, not whole feature maps as in U-Net,
and the upsampling has no weights, so the decoder needs little memory. Simplified: a
few narrow levels instead of VGG16's thirteen convolutions, two classes with a sigmoid.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(c_in, c_out, n=2):
    """``n`` 3x3 convolutions, each with batch norm and ReLU (size kept)."""
    layers = []
    for i in range(n):
        layers += [
            nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
        ]
    return nn.Sequential(*layers)


class SegNet(nn.Module):
    """``depth`` encoder stages (convs, then 2x2 max-pooling that returns its indices)
    and mirror decoder stages (max-unpooling with those indices, then convs). With
    ``unpool=False`` the decoder upsamples by bilinear interpolation instead (the
    ablation). Inputs: sides divisible by ``2 ** depth``. Returns one logit per pixel
    and class."""

    def __init__(self, in_ch=1, n_classes=1, width=16, depth=3, unpool=True):
        super().__init__()
        self.unpool = unpool
        chans = [in_ch] + [width * 2**i for i in range(depth)]  # e.g. 1, 16, 32, 64
        self.enc = nn.ModuleList(
            [conv_bn_relu(chans[i], chans[i + 1]) for i in range(depth)]
        )
        self.dec = nn.ModuleList(
            [
                conv_bn_relu(chans[i + 1], max(chans[i], width))
                for i in reversed(range(depth))
            ]
        )
        self.head = nn.Conv2d(width, n_classes, 3, padding=1)

    def forward(self, x):
        k = 2 ** len(self.enc)
        if x.dim() != 4 or x.shape[-2] % k or x.shape[-1] % k:
            raise ValueError(
                f"SegNet needs sides divisible by {k}, got {tuple(x.shape)}"
            )
        indices = []
        for block in self.enc:
            x, idx = F.max_pool2d(block(x), 2, return_indices=True)
            indices.append(idx)  # where each maximum was
        for block, idx in zip(self.dec, reversed(indices)):
            if self.unpool:
                x = F.max_unpool2d(x, idx, 2)  # back to those positions
            else:
                x = F.interpolate(x, scale_factor=2, mode="bilinear")
            x = block(x)  # densify the sparse map
        return self.head(x)


def segmentation_loss(logits, mask):
    """Per-pixel binary cross-entropy, averaged over all pixels."""
    return F.binary_cross_entropy_with_logits(logits, mask)


def iou(pred, mask):
    """Intersection over union of two binary masks (all pixels pooled)."""
    pred, mask = pred.bool(), mask.bool()
    union = (pred | mask).sum().item()
    return (pred & mask).sum().item() / union if union else 1.0


def augment(x, m, generator=None):
    """The same random flips and 90-degree rotation for a batch of images and masks."""
    k = int(torch.randint(4, (), generator=generator))
    x, m = torch.rot90(x, k, (2, 3)), torch.rot90(m, k, (2, 3))
    if torch.rand((), generator=generator) < 0.5:
        x, m = x.flip(3), m.flip(3)
    return x, m


def train(
    model,
    x_train,
    m_train,
    *,
    epochs=30,
    batch_size=16,
    lr=3e-3,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam with a cosine learning-rate schedule on the per-pixel loss, on randomly
    flipped and rotated tiles; ``seed`` fixes the batch order and augmentation.
    Returns ``{"loss": [mean training loss per epoch]}``."""
    model.to(device).train()
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    history = {"loss": []}
    for epoch in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(x_train), generator=gen).split(batch_size):
            x, m = augment(x_train[idx], m_train[idx], gen)
            loss = segmentation_loss(model(x.to(device)), m.to(device))
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
    m = (F.avg_pool2d(x, 5, 1, 2) > 0.5).float()
    model = SegNet(width=8, depth=2)
    hist = train(model, x, m, epochs=5, batch_size=4)["loss"]
    print(f"loss {hist[0]:.3f} -> {hist[-1]:.3f}; IoU {iou(predict(model, x), m):.3f}")
