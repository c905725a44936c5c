"""Convolutional neural network: layers of small learned filters slid over the image,
each followed by a nonlinearity and pooling, then a classifier on top (LeCun, Bottou,
Bengio and Haffner, "Gradient-Based Learning Applied to Document Recognition", Proc.
IEEE 1998). A filter has a few weights (5x5 here) shared by every position, so a 28x28
image needs far fewer parameters than a fully connected layer, and a pattern is detected
wherever it appears. Pooling halves the resolution, so deeper filters see larger parts
of the digit. The loss is the cross-entropy of the class scores. ``share=False``
swaps each convolution for a locally connected layer (same receptive fields, a separate
filter at every position): the ablation of the one idea.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LocallyConnected2d(nn.Module):
    """The ablation of weight sharing. Like ``nn.Conv2d(c_in, c_out, k, padding=k//2)``
    on ``side x side`` maps, with the same receptive fields and arithmetic, but every
    output position has its own filter and bias (``side**2`` times the weights)."""

    def __init__(self, c_in, c_out, k, side):
        super().__init__()
        self.k, self.side, fan_in = k, side, c_in * k * k
        bound = 1 / math.sqrt(fan_in)  # nn.Conv2d's default initialisation range
        w = torch.empty(side * side, fan_in, c_out).uniform_(-bound, bound)
        self.weight = nn.Parameter(w)  # (positions, c_in*k*k, c_out)
        self.bias = nn.Parameter(torch.empty(c_out, side, side).uniform_(-bound, bound))

    def forward(self, h):
        cols = F.unfold(h, self.k, padding=self.k // 2)  # (B, c_in*k*k, positions)
        out = torch.einsum("bcn,nco->bon", cols, self.weight)
        return out.reshape(len(h), -1, self.side, self.side) + self.bias


class CNN(nn.Module):
    """Two conv blocks (Conv -> BatchNorm -> ReLU -> 2x2 max-pool): 1x28x28 -> c1x14x14
    -> c2x7x7, then dropout, a hidden Linear layer and a Linear layer to ``n_classes``
    logits. ``share=False``: locally connected layers in place of the convs."""

    def __init__(
        self, n_classes=10, c1=32, c2=64, hidden=128, dropout=0.3, side=28, share=True
    ):
        super().__init__()

        def conv(c_in, c_out, k, s):  # s: the side of the maps it reads and writes
            if share:
                return nn.Conv2d(c_in, c_out, k, padding=k // 2)
            return LocallyConnected2d(c_in, c_out, k, s)

        self.features = nn.Sequential(
            conv(1, c1, 5, side),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            conv(c1, c2, 3, side // 2),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(c2 * (side // 4) ** 2, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def cnn_loss(logits, y):
    """Cross-entropy of the softmax of the logits, averaged over the batch."""
    return F.cross_entropy(logits, y)


def random_shift(x, max_shift=2):
    """Augmentation: translate each image by up to ``max_shift`` pixels in x and y (zero
    fill)."""
    n, _, h, w = x.shape
    pad = F.pad(x, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n))
    rows = (dy[:, None] + torch.arange(h)[None]).to(x.device)  # (n, h)
    cols = (dx[:, None] + torch.arange(w)[None]).to(x.device)  # (n, w)
    idx = torch.arange(n, device=x.device)[:, None, None]
    return pad[idx, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def train(
    model,
    x_train,
    y_train,
    *,
    epochs=8,
    batch_size=64,
    lr=2e-3,
    weight_decay=1e-4,
    augment=True,
    device="cpu",
    seed=None,
    log=None,
):
    """AdamW on the cross-entropy with a one-cycle learning-rate schedule, on randomly
    shifted images when ``augment`` (any model that takes images trains here, an MLP
    too). ``seed`` (if given) fixes batches, shifts and dropout; ``log`` (if given) gets
    a line per epoch. Returns ``{"loss": [mean training loss of each epoch]}``."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    hist = {"loss": []}
    for epoch in range(epochs):
        perm, total = torch.randperm(len(x_train)), 0.0
        for i in range(0, len(x_train), batch_size):
            idx = perm[i : i + batch_size]
            x, y = x_train[idx].to(device), y_train[idx].to(device)
            if augment:
                x = random_shift(x)
            loss = cnn_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        hist["loss"].append(total / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: loss {hist['loss'][-1]:.4f}")
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
    y = (
        x[:, 0, :14].mean((1, 2)) > x[:, 0, 14:].mean((1, 2))
    ).long()  # top half brighter?
    model = CNN(n_classes=2)
    loss = train(model, x, y, epochs=4, batch_size=32, augment=False)["loss"]
    print(
        f"loss {loss[0]:.3f} -> {loss[-1]:.3f}; first-layer filters "
        f"{tuple(model.features[0].weight.shape)}"
    )
