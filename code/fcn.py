"""FCN: fully convolutional networks for semantic segmentation (Long, Shelhamer and
Darrell, "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015). A
classification network is made fully convolutional: its fully connected layers become
convolutions, so it outputs a coarse grid of class scores instead of one vector. 1x1
"score" convolutions read class scores off the last layer and off two earlier, finer
pooling layers; the coarse scores are upsampled by learned transposed convolutions
(initialised to bilinear interpolation) and summed with the finer ones (FCN-8s), and a
final 8x upsampling brings the scores back to the input's size; FCN-16s and FCN-32s
fuse fewer (or no) finer scores. Simplified: a small VGG-like backbone with batch
normalisation, trained from scratch rather than converted from an ImageNet classifier.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def bilinear_kernel(channels, factor):
    """Weights of a transposed convolution that performs bilinear upsampling by
    ``factor``, one channel at a time (FCN's initialisation of its upsampling
    layers)."""
    k = 2 * factor - factor % 2
    center = (k - 1) / 2 if k % 2 == 1 else factor - 0.5
    og = torch.arange(k, dtype=torch.float32)
    filt = 1 - (og - center).abs() / factor
    w = torch.zeros(channels, channels, k, k)
    w[range(channels), range(channels)] = filt[:, None] * filt[None, :]
    return w


def upsampler(channels, factor, learn=True):
    """A transposed convolution that upsamples by ``factor``, initialised to
    bilinear."""
    k = 2 * factor - factor % 2
    up = nn.ConvTranspose2d(
        channels, channels, k, stride=factor, padding=(k - factor) // 2, bias=False
    )
    up.weight.data.copy_(bilinear_kernel(channels, factor))
    up.weight.requires_grad_(learn)
    return up


def stage(c_in, c_out):
    """A VGG-like stage: two 3x3 convolutions with batch norm and ReLU, then 2x2
    max-pooling."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


def conv_fc(c_in, c_out):
    """The classifier's "fully connected" layers fc6 and fc7, as convolutions (3x3 and
    1x1 here; VGG's fc6 becomes a 7x7 one): they now slide over any input size."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.ReLU(),
        nn.Dropout2d(0.1),
        nn.Conv2d(c_out, c_out, 1),
        nn.ReLU(),
    )


class FCN(nn.Module):
    """A five-stage VGG-like backbone (each stage halves the size), convolutionised
    "fully connected" layers and a 1x1 score layer on top (1/32). ``stride=8`` is
    FCN-8s: the top scores are upsampled 2x (learned) and added to 1x1 scores of pool4
    (1/16), upsampled 2x again and added to scores of pool3 (1/8), then upsampled 8x
    (fixed bilinear). ``stride=16`` stops after pool4 (FCN-16s), ``stride=32`` uses no
    skips (FCN-32s). Inputs: sides divisible by 32."""

    def __init__(self, in_ch=1, n_classes=1, width=16, stride=8):
        super().__init__()
        if stride not in (8, 16, 32):
            raise ValueError(f"stride must be 8, 16 or 32, got {stride}")
        self.stride = stride
        c = [width, 2 * width, 4 * width, 4 * width, 8 * width]
        self.pool1_3 = nn.Sequential(
            stage(in_ch, c[0]), stage(c[0], c[1]), stage(c[1], c[2])
        )
        self.pool4, self.pool5 = stage(c[2], c[3]), stage(c[3], c[4])
        self.fc = conv_fc(c[4], 2 * c[4])
        self.score_top = nn.Conv2d(2 * c[4], n_classes, 1)
        if stride <= 16:
            self.score_pool4 = nn.Conv2d(c[3], n_classes, 1)
            self.up2_top = upsampler(n_classes, 2)
        if stride == 8:
            self.score_pool3 = nn.Conv2d(c[2], n_classes, 1)
            self.up2_pool4 = upsampler(n_classes, 2)
        self.up_final = upsampler(n_classes, stride, learn=False)

    def forward(self, x):
        if x.dim() != 4 or x.shape[-2] % 32 or x.shape[-1] % 32:
            raise ValueError(f"FCN needs sides divisible by 32, got {tuple(x.shape)}")
        p3 = self.pool1_3(x)  # 1/8
        p4 = self.pool4(p3)  # 1/16
        s = self.score_top(self.fc(self.pool5(p4)))  # 1/32: coarse class scores
        if self.stride <= 16:
            s = self.up2_top(s) + self.score_pool4(p4)  # fuse at 1/16 (FCN-16s)
        if self.stride == 8:
            s = self.up2_pool4(s) + self.score_pool3(p3)  # fuse at 1/8 (FCN-8s)
        return self.up_final(s)  # back to the input size


def segmentation_loss(logits, mask):
    """Per-pixel binary cross-entropy, averaged over all pixels (FCN's per-pixel softmax
    loss for two classes)."""
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
    flipped and rotated tiles (the fixed final upsampler is not trained); ``seed``
    fixes the batch order and augmentation. Returns ``{"loss": [mean training loss
    per epoch]}``."""
    model.to(device).train()
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
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
    model = FCN(width=4)
    hist = train(model, x, m, epochs=5, batch_size=4)["loss"]
    print(f"loss {hist[0]:.3f} -> {hist[-1]:.3f}; IoU {iou(predict(model, x), m):.3f}")
