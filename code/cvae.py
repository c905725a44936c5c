"""Conditional variational autoencoder (Sohn, Lee and Yan, "Learning Structured Output
Representation using Deep Conditional Generative Models", NeurIPS 2015; the same model
appears as M2 with observed labels in Kingma et al., "Semi-Supervised Learning with Deep
Generative Models", NeurIPS 2014). Both the encoder q(z|x, y) and the decoder p(x|z, y)
see a condition y, here the digit's label as a one-hot vector, and the prior stays N(0,
I). The ELBO bounds log p(x|y); because the decoder is told the class, z is free to
encode only what the label does not say (slant, thickness, style), and sampling z ~ N(0,
I) with a chosen y draws a digit of that class.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CVAE(nn.Module):
    """Convolutional encoder q(z|x, y) and decoder p(x|z, y) for 1x28x28 binary images;
    the label enters both as a one-hot vector concatenated to a fully connected layer's
    input."""

    def __init__(self, z_dim=16, n_classes=10, width=16, hidden=256):
        super().__init__()
        self.z_dim, self.n_classes, w = z_dim, n_classes, width
        self.conv = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),
            nn.ReLU(),  # 14x14
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
        )  # 7x7
        self.enc = nn.Sequential(
            nn.Linear(2 * w * 49 + n_classes, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * z_dim),
        )
        self.dec = nn.Sequential(
            nn.Linear(z_dim + n_classes, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * w * 49),
            nn.ReLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Flatten(),
        )  # 28x28 logits

    def encode(self, x, y):
        h = torch.cat(
            [self.conv(x.view(-1, 1, 28, 28)), F.one_hot(y, self.n_classes).float()], 1
        )
        mu, logvar = self.enc(h).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z, y):
        return self.dec(torch.cat([z, F.one_hot(y, self.n_classes).float()], 1))

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # reparameterisation
        return self.decode(z, y), mu, logvar


def kl_normal(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)), summed over latent dimensions: shape
    (batch,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def cvae_loss(x, logits, mu, logvar):
    """Negative conditional ELBO, -log p(x|y) bound, in nats per image: Bernoulli NLL
    summed over pixels plus KL summed over latents, averaged over the batch. Returns
    (loss, recon, kl)."""
    recon = F.binary_cross_entropy_with_logits(
        logits, x.flatten(1), reduction="none"
    ).sum(dim=1)
    kl = kl_normal(mu, logvar)
    return (recon + kl).mean(), recon.mean(), kl.mean()


def train(
    model,
    x_train,
    y_train,
    *,
    epochs=30,
    batch_size=100,
    lr=3e-3,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam with a cosine schedule on the negative conditional ELBO. Returns per-epoch
    ``loss`` and ``kl`` (training averages, nats per image); ``log(epoch, hist)`` is
    called after each epoch when given."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    hist = {"loss": [], "kl": []}
    for epoch in range(epochs):
        model.train()
        tot, tot_kl = 0.0, 0.0
        for idx in torch.randperm(len(x_train)).split(batch_size):
            x, y = x_train[idx].to(device), y_train[idx].to(device)
            loss, _, kl = cvae_loss(x, *model(x, y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot, tot_kl = tot + loss.item() * len(idx), tot_kl + kl.item() * len(idx)
        sched.step()
        hist["loss"].append(tot / len(x_train))
        hist["kl"].append(tot_kl / len(x_train))
        if log is not None:
            log(epoch, hist)
    return hist


@torch.no_grad()
def evaluate(model, x, y, *, batch_size=500, device="cpu"):
    """Held-out negative conditional ELBO and its KL part, nats per image (one
    posterior sample per image)."""
    model.eval()
    tot, kl_tot = 0.0, 0.0
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        loss, _, kl = cvae_loss(xb.to(device), *model(xb.to(device), yb.to(device)))
        tot, kl_tot = tot + loss.item() * len(xb), kl_tot + kl.item() * len(xb)
    return tot / len(x), kl_tot / len(x)


@torch.no_grad()
def iw_nll(model, x, y, *, k=100, batch_size=50, device="cpu"):
    """Importance-weighted estimate of -log p(x|y), nats per image: -log (1/k) sum_i
    p(x|z_i, y) p(z_i) / q(z_i|x, y) with z_i ~ q(z|x, y) (k = 1: the -ELBO)."""
    model.eval()
    total, normal = 0.0, torch.distributions.Normal
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        xb, yb = xb.to(device).flatten(1), yb.to(device)
        mu, logvar = model.encode(xb, yb)
        std = torch.exp(0.5 * logvar)
        z = mu + std * torch.randn(k, *mu.shape, device=device)  # (k, B, D)
        logits = model.decode(z.flatten(0, 1), yb.repeat(k)).view(k, len(xb), -1)
        log_px = -F.binary_cross_entropy_with_logits(
            logits, xb.expand(k, -1, -1), reduction="none"
        ).sum(-1)
        log_w = (
            log_px
            + normal(0.0, 1.0).log_prob(z).sum(-1)
            - normal(mu, std).log_prob(z).sum(-1)
        )
        total -= (torch.logsumexp(log_w, 0) - math.log(k)).sum().item()
    return total / len(x)


@torch.no_grad()
def sample(model, labels, *, device="cpu"):
    """One digit per requested label: z ~ N(0, I), decoded with the label. Returns pixel
    probabilities of shape (len(labels), 1, 28, 28)."""
    model.eval()
    y = torch.as_tensor(labels, device=device)
    z = torch.randn(len(y), model.z_dim, device=device)
    return torch.sigmoid(model.decode(z, y)).view(-1, 1, 28, 28)


if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = (torch.rand(256, 1, 28, 28) > 0.7).float(), torch.randint(0, 10, (256,))
    model = CVAE(z_dim=4, width=4, hidden=32)
    hist = train(model, x, y, epochs=3, batch_size=64)
    print(f"cvae: train loss per epoch {[round(v, 1) for v in hist['loss']]}")
    print("samples", tuple(sample(model, [0, 1, 2]).shape))
    print(f"cvae: -log p(x|y), k = 20: {iw_nll(model, x, y, k=20):.1f}")
