"""Residual network: each block adds its input back to its output, y = relu(F(x) + x),
so the block only has to learn the residual F(x) = H(x) - x (He, Zhang, Ren and Sun,
"Deep Residual Learning for Image Recognition", CVPR 2016). The paper's observation is
the *degradation problem*: a deeper plain stack of conv layers, with batch norm so its
gradients do not vanish, reaches a *higher training error* than a shallower one,
although the deep one could copy the shallow one and set its extra layers to the
identity. With
shortcuts, the identity is what a block computes when its weights are zero, and depth
stops hurting. This module builds the paper's CIFAR-style network (6n + 2 layers, three
stages of n two-conv blocks, widths doubling as the resolution halves), at a small width
for a CPU, with ``shortcut=False`` giving the plain network of the same depth. The loss
is the cross-entropy of the class scores.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """Two 3x3 convs with batch norm; with ``shortcut`` the input (through a 1x1 conv
    when the shape changes) is added before the last ReLU. (N, c_in, H, W) -> (N, c_out,
    H / stride, W / stride)."""

    def __init__(self, c_in, c_out, stride=1, shortcut=True):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = shortcut
        self.proj = None
        if shortcut and (stride != 1 or c_in != c_out):
            self.proj = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.shortcut:
            out = out + (x if self.proj is None else self.proj(x))
        return F.relu(out)


class ResNet(nn.Module):
    """A 3x3 conv stem, three stages of ``n`` blocks (widths w, 2w, 4w; the second and
    third stage halve the resolution), global average pooling and a Linear layer:
    6n + 2 weight layers. 1x28x28 -> w x14x14 -> 2w x7x7 -> 4w x4x4 -> ``n_classes``."""

    def __init__(self, n=3, width=8, n_classes=10, shortcut=True, stem_stride=2):
        super().__init__()
        w = width
        self.stem = nn.Sequential(
            nn.Conv2d(1, w, 3, stem_stride, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()
        )
        blocks, c_in = [], w
        for stage, c_out in enumerate((w, 2 * w, 4 * w)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(Block(c_in, c_out, stride, shortcut))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c_in, n_classes)

    def forward(self, x):
        h = self.blocks(self.stem(x))
        return self.head(h.mean((2, 3)))


def resnet_loss(logits, y):
    """Cross-entropy of the softmax of the logits, averaged over the batch."""
    return F.cross_entropy(logits, y)


def train(
    model,
    x_train,
    y_train,
    *,
    epochs=10,
    batch_size=128,
    lr=0.1,
    weight_decay=1e-4,
    device="cpu",
    seed=None,
    log=None,
):
    """SGD with momentum 0.9 and weight decay, as in the paper, with a one-cycle
    learning-rate schedule instead of its step decay. Returns ``{"loss": [...]}``, the
    training cross-entropy of every step, and ``{"epoch_loss": [...]}`` per epoch."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay
    )
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    hist = {"loss": [], "epoch_loss": []}
    for epoch in range(epochs):
        perm, total = torch.randperm(len(x_train), generator=gen), 0.0
        for i in range(0, len(x_train), batch_size):
            idx = perm[i : i + batch_size]
            x, y = x_train[idx].to(device), y_train[idx].to(device)
            loss = resnet_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            hist["loss"].append(loss.item())
            total += loss.item() * len(idx)
        hist["epoch_loss"].append(total / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: loss {hist['epoch_loss'][-1]:.4f}")
    return hist


@torch.no_grad()
def predict(model, x, device="cpu", batch_size=500):
    """Predicted class of each image in ``x``."""
    model.to(device).eval()
    return torch.cat(
        [
            model(x[i : i + batch_size].to(device)).argmax(1).cpu()
            for i in range(0, len(x), batch_size)
        ]
    )


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(128, 1, 28, 28)
    y = (x[:, 0, :14].mean((1, 2)) > x[:, 0, 14:].mean((1, 2))).long()  # top brighter?
    model = ResNet(n=2, width=4, n_classes=2)
    hist = train(model, x, y, epochs=4, batch_size=32, lr=0.05)
    print(
        f"loss {hist['epoch_loss'][0]:.3f} -> {hist['epoch_loss'][-1]:.3f}; "
        f"{6 * 2 + 2} layers, {sum(p.numel() for p in model.parameters()):,} parameters"
    )
