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


def planar_flow(z, u, w, b, eps=1e-4):
    """One planar flow on z (..., D) with parameters u, w (..., D) and b (...,). u is
    first made to satisfy w^T u >= -1 (invertibility); ``eps`` keeps that correction
    finite as w -> 0. Returns f(z) and log|det df/dz| of shape (...,)."""
    wu = (w * u).sum(-1, keepdim=True)
    u = u + (F.softplus(wu) - 1 - wu) * w / ((w * w).sum(-1, keepdim=True) + eps)
    a = torch.tanh((w * z).sum(-1, keepdim=True) + b.unsqueeze(-1))
    psi = (1 - a * a) * w  # h'(w^T z + b) w
    logdet = torch.log((1 + (u * psi).sum(-1)).abs() + 1e-8)
    return z + u * a, logdet


class Flow2D(nn.Module):
    """K planar flows with free parameters, for fitting a 2-D density, on a learned
    diagonal Gaussian base (K = 0 is that Gaussian alone). ``restarts`` independent
    copies are fitted side by side; z has shape (restarts, n, dim)."""

    def __init__(self, K, dim=2, restarts=1):
        super().__init__()
        self.u = nn.Parameter(0.1 * torch.randn(restarts, K, dim))
        self.w = nn.Parameter(0.1 * torch.randn(restarts, K, dim))
        self.b = nn.Parameter(torch.zeros(restarts, K))
        self.loc = nn.Parameter(torch.zeros(restarts, 1, dim))
        self.log_scale = nn.Parameter(torch.zeros(restarts, 1, dim))

    def forward(self, eps):
        """Push eps ~ N(0, I), shape (restarts, n, dim), through the base and the
        flows. Returns z_K and log q_K(z_K), both per restart and sample."""
        z = self.loc + self.log_scale.exp() * eps
        log_q = (-0.5 * eps**2 - 0.5 * math.log(2 * math.pi) - self.log_scale).sum(-1)
        for k in range(self.u.shape[1]):
            z, ld = planar_flow(
                z, self.u[:, None, k], self.w[:, None, k], self.b[:, None, k]
            )
            log_q = log_q - ld
        return z, log_q


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
    """KL(q_K || p) up to the constant log Z, per restart: E_q[log q_K(z_K) + beta
    U(z_K)], shape (restarts,)."""
    eps = torch.randn(flow.u.shape[0], n, flow.u.shape[2], device=flow.u.device)
    zk, log_q = flow(eps)
    return (log_q + beta * energy(zk.flatten(0, 1)).view(zk.shape[:2])).mean(1)


def train_density(flow, energy, *, steps=2000, lr=1e-2, device="cpu", seed=None):
    """Adam on every restart's KL to exp(-U), the energy annealed in over the first
    half. Returns per-step ``loss``, a list of one value per restart."""
    if seed is not None:
        torch.manual_seed(seed)
    flow.to(device)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    hist = {"loss": []}
    for t in range(steps):
        loss = density_loss(flow, energy, beta=min(1.0, 0.01 + 2 * t / steps))
        opt.zero_grad()
        loss.sum().backward()  # restarts share no parameter: each gets its own gradient
        opt.step()
        hist["loss"].append(loss.tolist())
    return hist


class VAENF(nn.Module):
    """The VAE's convolutional encoder and decoder, with K planar flows on the posterior
    sample; the encoder also outputs each flow's (u, w, b), so the flows adapt to every
    x. ``full_cov``: the Gaussian q0 gets a full covariance (the encoder also outputs
    the strictly lower triangle of its Cholesky factor), the simplest richer posterior
    without flows."""

    def __init__(self, z_dim=16, K=8, width=16, hidden=256, full_cov=False):
        super().__init__()
        self.z_dim, self.K, w = z_dim, K, width
        self.n_tril = z_dim * (z_dim - 1) // 2 if full_cov else 0
        self.enc = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, w, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * w * 49, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * z_dim + self.n_tril + K * (2 * z_dim + 1)),
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
        if self.n_tril:  # start as the diagonal posterior: L's off-diagonal part at 0
            with torch.no_grad():
                self.enc[-1].weight[2 * z_dim : 2 * z_dim + self.n_tril] = 0
                self.enc[-1].bias[2 * z_dim : 2 * z_dim + self.n_tril] = 0

    def forward(self, x, samples=None):
        """Logits of p(x|z_K), log q_K(z_K|x) and z_K for one posterior sample per
        image, or for ``samples`` of them (a leading dimension)."""
        D, K = self.z_dim, self.K
        h = self.enc(x.flatten(1))
        mu, logvar = h[:, :D], h[:, D : 2 * D]
        T = 2 * D + self.n_tril
        fp = h[:, T:].view(len(h), K, 2 * D + 1)  # each flow's (u, w, b)
        shape = mu.shape if samples is None else (samples, *mu.shape)
        eps = torch.randn(shape, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        if self.n_tril:  # z0 = mu + L eps, L lower triangular with diagonal sigma
            L = h.new_zeros(len(h), D, D)
            i, j = torch.tril_indices(D, D, -1)
            L[:, i, j] = h[:, 2 * D : T]
            z = z + torch.einsum("nij,...nj->...ni", L, eps)
        # log det L = sum log sigma either way: the off-diagonal part does not change it
        log_q = (-0.5 * (eps**2 + logvar + math.log(2 * math.pi))).sum(-1)
        for k in range(K):
            z, logdet = planar_flow(
                z, fp[:, k, :D], fp[:, k, D : 2 * D], fp[:, k, 2 * D]
            )
            log_q = log_q - logdet  # log q_K(z_K)
        logits = self.dec(z.reshape(-1, D)).view(*z.shape[:-1], -1)
        return logits, log_q, z


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


def train(
    model,
    x_train,
    *,
    epochs=20,
    batch_size=100,
    lr=2e-3,
    x_val=None,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam with a cosine schedule on the negative ELBO. Returns per-epoch ``train``
    loss and, when ``x_val`` is given, ``val`` loss (nats per image); ``log(epoch,
    hist)`` is called after each epoch when given."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    hist = {"train": [], "val": []}
    for epoch in range(epochs):
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
        hist["train"].append(total / len(x_train))
        if x_val is not None:
            hist["val"].append(evaluate(model, x_val, device=device)[0])
        if log is not None:
            log(epoch, hist)
    return hist


@torch.no_grad()
def evaluate(model, x, *, batch_size=500, device="cpu"):
    """Held-out negative ELBO and its KL part, nats per image (one sample)."""
    model.eval()
    out = torch.zeros(2)
    for xb in x.split(batch_size):
        loss, _, kl = vae_nf_loss(xb.to(device), *model(xb.to(device)))
        out += torch.tensor([loss.item(), kl.item()]) * len(xb)
    return (out / len(x)).tolist()


@torch.no_grad()
def iw_nll(model, x, *, k=100, batch_size=50, device="cpu"):
    """Importance-weighted estimate of -log p(x), nats per image: -log (1/k) sum_i
    p(x|z_i) p(z_i) / q_K(z_i|x), the z_i drawn through the flows (k = 1: the
    -ELBO)."""
    model.eval()
    total = 0.0
    for xb in x.split(batch_size):
        xb = xb.to(device).flatten(1)
        logits, log_q, z = model(xb, samples=k)  # (k, B, 784), (k, B), (k, B, D)
        log_px = -F.binary_cross_entropy_with_logits(
            logits, xb.expand(k, -1, -1), reduction="none"
        ).sum(-1)
        log_pz = (-0.5 * (z**2 + math.log(2 * math.pi))).sum(-1)
        log_w = log_px + log_pz - log_q
        total -= (torch.logsumexp(log_w, 0) - math.log(k)).sum().item()
    return total / len(x)


if __name__ == "__main__":
    torch.manual_seed(0)
    flow = Flow2D(K=4, restarts=2)
    h = train_density(flow, U2, steps=100)["loss"]
    print(f"vae_nf: 2-D flow loss per restart {h[0]} -> {h[-1]}")
    x = (torch.rand(256, 1, 28, 28) > 0.7).float()
    model = VAENF(z_dim=4, K=2, width=4, hidden=32)
    hist = train(model, x, epochs=3, batch_size=64)
    print(f"vae_nf: train loss per epoch {[round(v, 1) for v in hist['train']]}")
    print(
        f"vae_nf: importance-weighted -log p(x), k = 20: {iw_nll(model, x, k=20):.1f}"
    )
