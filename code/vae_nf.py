"""Variational inference with normalizing flows (Rezende and Mohamed, "Variational
Inference with Normalizing Flows", ICML 2015). A diagonal Gaussian posterior cannot
bend, so the VAE's bound is loose wherever the true posterior is curved or multimodal.
Here a sample z0 ~ q0(z|x) is pushed through K planar flows f(z) = z + u h(w^T z + b);
each is invertible (for w^T u >= -1) and its Jacobian determinant is 1 + u^T h'(w^T z +
b) w, so the density of z_K is known exactly: log q_K(z_K) = log q0(z0) - sum_k log|det
J_k|. The ELBO keeps that density, and a sum of K cheap log-determinants is all the
flows cost.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def planar_flow(z, u, w, b):
    """One planar flow on z (..., D) with parameters u, w (..., D) and b (...,). u is
    first made to satisfy w^T u >= -1 (invertibility). Returns f(z) and log|det df/dz|
    of shape (...,)."""
    wu = (w * u).sum(-1, keepdim=True)
    u = u + (F.softplus(wu) - 1 - wu) * w / (w * w).sum(-1, keepdim=True)
    a = torch.tanh((w * z).sum(-1, keepdim=True) + b.unsqueeze(-1))
    psi = (1 - a * a) * w  # h'(w^T z + b) w
    logdet = torch.log((1 + (u * psi).sum(-1)).abs() + 1e-8)
    return z + u * a, logdet


class Flow2D(nn.Module):
    """K planar flows with free parameters, for fitting a 2-D density."""

    def __init__(self, K, dim=2):
        super().__init__()
        self.u = nn.Parameter(0.1 * torch.randn(K, dim))
        self.w = nn.Parameter(0.1 * torch.randn(K, dim))
        self.b = nn.Parameter(torch.zeros(K))

    def forward(self, z):
        logdet = torch.zeros(z.shape[0], device=z.device)
        for u, w, b in zip(self.u, self.w, self.b):
            z, ld = planar_flow(z, u, w, b)
            logdet = logdet + ld
        return z, logdet


def U1(z):
    """The paper's ring-with-two-lobes energy; p(z) is proportional to exp(-U1(z))."""
    r = z.norm(dim=1)
    lobes = torch.logsumexp(
        torch.stack([-0.5 * ((z[:, 0] - s) / 0.6) ** 2 for s in (2, -2)]), 0
    )
    return 0.5 * ((r - 2) / 0.4) ** 2 - lobes


def U2(z):
    """The paper's sine-wave energy."""
    return 0.5 * ((z[:, 1] - torch.sin(2 * math.pi * z[:, 0] / 4)) / 0.4) ** 2


def density_loss(flow, energy, n=256, beta=1.0):
    """KL(q_K || p) up to the constant log Z: E_q0[log q0(z0) - sum log|det| + beta
    U(z_K)]."""
    z0 = torch.randn(n, 2, device=flow.u.device)
    zk, logdet = flow(z0)
    log_q0 = -0.5 * (z0**2).sum(1) - math.log(2 * math.pi)
    return (log_q0 - logdet + beta * energy(zk)).mean()


def train_density(flow, energy, steps=2000, lr=1e-2, device="cpu"):
    """Adam on the flow's KL to exp(-U), with the energy annealed in over the first
    half."""
    flow.to(device)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    hist = []
    for t in range(steps):
        loss = density_loss(flow, energy, beta=min(1.0, 0.01 + 2 * t / steps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append(loss.item())
    return hist


class VAENF(nn.Module):
    """The VAE's convolutional encoder and decoder, with K planar flows on the posterior
    sample; the encoder also outputs each flow's (u, w, b), so the flows adapt to every
    x."""

    def __init__(self, z_dim=16, K=8, width=16, hidden=256):
        super().__init__()
        self.z_dim, self.K, w = z_dim, K, width
        self.enc = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, w, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * w * 49, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * z_dim + K * (2 * z_dim + 1)),
        )
        self.dec = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * w * 49),
            nn.ReLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Flatten(),
        )

    def forward(self, x):
        D, K = self.z_dim, self.K
        h = self.enc(x.flatten(1))
        mu, logvar, fp = h[:, :D], h[:, D : 2 * D], h[:, 2 * D :].view(-1, K, 2 * D + 1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        log_q = (
            -0.5 * ((z - mu) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi))
        ).sum(1)
        for k in range(K):
            z, logdet = planar_flow(
                z, fp[:, k, :D], fp[:, k, D : 2 * D], fp[:, k, 2 * D]
            )
            log_q = log_q - logdet  # log q_K(z_K)
        return self.dec(z), log_q, z


def vae_nf_loss(x, logits, log_q, z):
    """Negative ELBO per image (one sample): Bernoulli NLL summed over pixels + log
    q_K(z_K) - log N(z_K; 0, I), averaged over the batch. Returns (loss, recon, kl
    estimate)."""
    recon = F.binary_cross_entropy_with_logits(
        logits, x.flatten(1), reduction="none"
    ).sum(1)
    log_p = (-0.5 * (z**2 + math.log(2 * math.pi))).sum(1)
    kl = log_q - log_p
    return (recon + kl).mean(), recon.mean(), kl.mean()


def train(model, x_train, device, epochs=20, batch_size=100, lr=2e-3):
    """Adam with a cosine schedule on the negative ELBO. Returns per-epoch train
    losses."""
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    hist = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x_train)).split(batch_size):
            x = x_train[idx].to(device)
            loss, _, _ = vae_nf_loss(x, *model(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        hist.append(total / len(x_train))
    return hist


@torch.no_grad()
def evaluate(model, x, device, batch_size=500):
    """Held-out negative ELBO and its KL part, nats per image."""
    model.eval()
    out = torch.zeros(2)
    for xb in x.split(batch_size):
        loss, _, kl = vae_nf_loss(xb.to(device), *model(xb.to(device)))
        out += torch.tensor([loss.item(), kl.item()]) * len(xb)
    return (out / len(x)).tolist()


if __name__ == "__main__":
    torch.manual_seed(0)
    flow = Flow2D(K=4)
    h = train_density(flow, U2, steps=100)
    print(f"vae_nf: 2-D flow loss {h[0]:.2f} -> {h[-1]:.2f}")
    x = (torch.rand(256, 1, 28, 28) > 0.7).float()
    hist = train(
        VAENF(z_dim=4, K=2, width=4, hidden=32),
        x,
        torch.device("cpu"),
        epochs=3,
        batch_size=64,
    )
    print(f"vae_nf: train loss per epoch {[round(v, 1) for v in hist]}")
