"""Autoencoder: a network trained to reproduce its input through a narrow bottleneck
(Hinton and Salakhutdinov, "Reducing the Dimensionality of Data with Neural Networks",
Science 2006). An encoder maps each image to a short code, a decoder maps the code back
to an image, and the pair is trained end to end on the reconstruction error. With linear
layers and a squared error the best code spans the same subspace as PCA; nonlinear
layers let the code follow curved structure in the data, so the same code size can
reconstruct better than PCA does. ``linear=True`` removes every nonlinearity (the
ablation): such an autoencoder can at best match PCA (Baldi and Hornik, Neural Networks
1989).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Autoencoder(nn.Module):
    """Fully connected encoder 784 -> 256 -> 64 -> code and a mirror-image decoder; the
    output is a sigmoid so every pixel lies in [0, 1] like the input. ``linear=True``:
    identity activations and no sigmoid, one linear map in and one out."""

    def __init__(self, code_dim=16, n_in=784, hidden=(256, 64), linear=False):
        super().__init__()
        h1, h2 = hidden
        act = nn.Identity if linear else nn.ReLU
        self.out = nn.Identity() if linear else nn.Sigmoid()
        self.encoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_in, h1),
            act(),
            nn.Linear(h1, h2),
            act(),
            nn.Linear(h2, code_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, h2),
            act(),
            nn.Linear(h2, h1),
            act(),
            nn.Linear(h1, n_in),
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z, shape=(1, 28, 28)):
        return self.out(self.decoder(z)).view(-1, *shape)

    def forward(self, x):
        return self.decode(self.encode(x), x.shape[1:])


def reconstruction_loss(x_hat, x):
    """Mean squared error per pixel, averaged over the batch (the number PCA also
    minimises)."""
    return F.mse_loss(x_hat, x)


def train(
    model,
    x_train,
    *,
    epochs=30,
    batch_size=128,
    lr=2e-3,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam on the reconstruction loss, with the learning rate annealed by a cosine
    schedule. ``seed`` (if given) fixes the batches; ``log`` (if given) gets a line per
    epoch. Returns ``{"loss": [mean training loss of each epoch]}``."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    hist = {"loss": []}
    for epoch in range(epochs):
        perm, total = torch.randperm(len(x_train)), 0.0
        for i in range(0, len(x_train), batch_size):
            x = x_train[perm[i : i + batch_size]].to(device)
            loss = reconstruction_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(x)
        hist["loss"].append(total / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: loss {hist['loss'][-1]:.5f}")
    return hist


@torch.no_grad()
def evaluate(model, x, device="cpu"):
    """Mean squared error per pixel of the model's reconstructions of ``x``."""
    model.to(device).eval()
    return reconstruction_loss(model(x.to(device)), x.to(device)).item()


def pca_baseline(x_train, x_test, code_dim):
    """Reconstruction error per pixel of PCA with ``code_dim`` components fitted on the
    training images (the best linear autoencoder of that code size). Returns (mse,
    reconstructions)."""
    a = x_train.flatten(1).double()
    mean = a.mean(0)
    _, _, v = torch.linalg.svd(a - mean, full_matrices=False)
    basis = v[:code_dim]  # (code_dim, 784), orthonormal rows
    b = x_test.flatten(1).double() - mean
    rec = (b @ basis.T @ basis + mean).float().view_as(x_test)
    return F.mse_loss(rec, x_test).item(), rec


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28)
    model = Autoencoder(code_dim=8)
    loss = train(model, x, epochs=5, batch_size=32)["loss"]
    print(
        f"loss {loss[0]:.4f} -> {loss[-1]:.4f}; PCA-8 mse "
        f"{pca_baseline(x, x, 8)[0]:.4f}"
    )
