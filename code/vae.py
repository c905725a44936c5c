"""Variational autoencoder (Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR
2014). A latent-variable model p(x) = integral of p(x|z) p(z) dz with a standard normal
prior p(z) and a neural decoder p(x|z) is fitted by maximising the evidence lower bound
(ELBO) on log p(x). An encoder q(z|x) = N(mu(x), diag sigma^2(x)) amortises inference,
and the reparameterisation z = mu + sigma * eps with eps ~ N(0, I) lets gradients flow
through the sample. The ELBO is the expected log-likelihood of x under the decoder minus
KL(q(z|x) || p(z)), which is analytic for two Gaussians.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class VAE(nn.Module):
    """Convolutional encoder q(z|x) and decoder p(x|z) for 1x28x28 binary images. The
    encoder returns the mean and log-variance of q(z|x); the decoder returns Bernoulli
    logits, one per pixel, flattened to shape (batch, 784)."""

    def __init__(self, z_dim=16, width=16, hidden=256):
        super().__init__()
        self.z_dim, w = z_dim, width
        self.enc = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, w, 4, 2, 1),
            nn.ReLU(),  # 14x14
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.ReLU(),  # 7x7
            nn.Flatten(),
            nn.Linear(2 * w * 49, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * z_dim),
        )
        self.dec = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * w * 49),
            nn.ReLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Flatten(),
        )  # 28x28 logits

    def encode(self, x):
        mu, logvar = self.enc(x.flatten(1)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return self.dec(z)  # logits of p(x|z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # reparameterisation
        return self.decode(z), mu, logvar


def kl_normal(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)), summed over latent dimensions: shape
    (batch,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def vae_loss(x, logits, mu, logvar):
    """Negative ELBO in nats per image: Bernoulli negative log-likelihood summed over
    pixels plus the KL summed over latent dimensions, both averaged over the batch.
    Returns (loss, recon, kl)."""
    recon = F.binary_cross_entropy_with_logits(
        logits, x.flatten(1), reduction="none"
    ).sum(dim=1)
    kl = kl_normal(mu, logvar)
    return (recon + kl).mean(), recon.mean(), kl.mean()


def score_function_loss(model, x):
    """The ablation of the reparameterisation: the same -ELBO, but z is sampled with
    no path back to (mu, sigma), so the encoder learns the reconstruction term only
    through the score-function (REINFORCE) estimator E[(recon - b) grad log q(z|x)],
    b the batch mean. Returns (surrogate to minimise, -ELBO, kl)."""
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    z = (mu + std * torch.randn_like(mu)).detach()  # no pathwise gradient
    recon = F.binary_cross_entropy_with_logits(
        model.decode(z), x.flatten(1), reduction="none"
    ).sum(dim=1)
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(dim=1)
    adv = (recon - recon.mean()).detach()
    kl = kl_normal(mu, logvar)  # analytic: its gradient stays pathwise
    surrogate = (recon + kl + adv * log_q).mean()
    return surrogate, (recon + kl).mean(), kl.mean()


def train(
    model,
    x_train,
    *,
    epochs=40,
    batch_size=100,
    lr=3e-3,
    x_val=None,
    reparam=True,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam with a cosine schedule on the negative ELBO. ``reparam=False`` trains the
    ablation (score-function gradients for the encoder). Returns per-epoch ``train``
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
            if reparam:
                loss, _, _ = vae_loss(x, *model(x))
                step_loss = loss
            else:
                step_loss, loss, _ = score_function_loss(model, x)
            opt.zero_grad()
            step_loss.backward()
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
    """Negative ELBO and its KL part, in nats per image (one posterior sample per
    image)."""
    model.eval()
    tot, kl_tot = 0.0, 0.0
    for xb in x.split(batch_size):
        xb = xb.to(device)
        loss, _, kl = vae_loss(xb, *model(xb))
        tot += loss.item() * len(xb)
        kl_tot += kl.item() * len(xb)
    return tot / len(x), kl_tot / len(x)


@torch.no_grad()
def iw_nll(model, x, *, k=100, batch_size=50, device="cpu"):
    """Importance-weighted estimate of -log p(x) in nats per image (Burda et al.
    2016): -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x). A stochastic
    upper bound on -log p(x) that tightens as k grows; k = 1 is the -ELBO."""
    model.eval()
    total = 0.0
    for xb in x.split(batch_size):
        xb = xb.to(device).flatten(1)
        mu, logvar = model.encode(xb)
        std = torch.exp(0.5 * logvar)
        z = mu + std * torch.randn(k, *mu.shape, device=device)  # (k, B, D)
        logits = model.decode(z.flatten(0, 1)).view(k, len(xb), -1)
        log_px_z = -F.binary_cross_entropy_with_logits(
            logits, xb.expand(k, -1, -1), reduction="none"
        ).sum(-1)
        normal = torch.distributions.Normal
        log_pz = normal(0.0, 1.0).log_prob(z).sum(-1)
        log_qz = normal(mu, std).log_prob(z).sum(-1)
        log_w = log_px_z + log_pz - log_qz
        total -= (torch.logsumexp(log_w, 0) - math.log(k)).sum().item()
    return total / len(x)


@torch.no_grad()
def sample(model, n, *, device="cpu"):
    """Draw z ~ N(0, I) and return the decoder's pixel probabilities, shape (n,
    x_dim)."""
    model.eval()
    return torch.sigmoid(model.decode(torch.randn(n, model.z_dim, device=device)))


if __name__ == "__main__":
    torch.manual_seed(0)
    x = (torch.rand(256, 1, 28, 28) > 0.7).float()
    model = VAE(z_dim=4, width=4, hidden=32)
    hist = train(model, x, epochs=3, batch_size=64)
    print(f"vae: train loss per epoch {[round(v, 1) for v in hist['train']]}")
    print(f"vae: importance-weighted -log p(x), k = 20: {iw_nll(model, x, k=20):.1f}")
