"""RealNVP (Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR
2017). A normalizing flow: an invertible map f sends data x to a latent z = f(x) with a
simple base density (a standard normal), and the change-of-variables formula gives the
exact log-likelihood log p(x) = log N(f(x); 0, I) + log |det df/dx|. RealNVP builds f
from affine coupling layers: a binary mask keeps part of the input fixed and uses it to
predict a scale and a shift for the rest, y = x_a + (1 - mask) * (x * exp(s(x_a)) +
t(x_a)) with x_a = mask * x. The Jacobian is triangular, so its log-determinant is just
the sum of s, and the inverse is as cheap as the forward pass. Alternating the mask
between layers lets every coordinate be transformed. With ``affine=False`` the scale is
dropped (s = 0): the additive coupling of NICE (Dinh, Krueger and Bengio 2015), whose
only volume change is a learned diagonal scaling at the end. Left out, because they are
for images: the multi-scale architecture (squeeze, factor out half of the dimensions),
batch normalisation in and between the couplings, and checkerboard or channel masks.
"""

import math

import torch
import torch.nn as nn


class AffineCoupling(nn.Module):
    """One affine coupling layer: coordinates where ``mask`` is 1 pass through unchanged
    and condition a scale ``s`` and shift ``t`` applied to the others."""

    def __init__(self, mask, hidden=128, affine=True):
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.affine = affine
        d = mask.numel()
        self.net = nn.Sequential(
            nn.Linear(d, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2 * d),
        )
        nn.init.zeros_(self.net[-1].weight)  # start as the identity map
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(d))  # s = scale * tanh(raw): bounded

    def _st(self, x_fixed):
        s, t = self.net(x_fixed).chunk(2, dim=1)
        s = self.scale * torch.tanh(s) * (1 - self.mask)
        if not self.affine:  # NICE: additive coupling, y = x + t(x_a)
            s = torch.zeros_like(s)
        return s, t * (1 - self.mask)

    def forward(self, x):
        """x -> y, and log |det dy/dx| per sample."""
        s, t = self._st(x * self.mask)
        return x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(dim=1)

    def inverse(self, y):
        s, t = self._st(y * self.mask)  # y * mask == x * mask
        return y * self.mask + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    """A stack of couplings with alternating masks, then a learned diagonal scaling
    (NICE's last layer: what lets additive couplings change volume), and a standard
    normal base density. ``affine=False`` gives NICE's additive couplings."""

    def __init__(self, dim=2, n_layers=8, hidden=128, affine=True):
        super().__init__()
        base = (torch.arange(dim) % 2).float()
        self.layers = nn.ModuleList(
            AffineCoupling(base if i % 2 == 0 else 1 - base, hidden, affine)
            for i in range(n_layers)
        )
        self.log_scale = nn.Parameter(torch.zeros(dim))  # z = y * exp(log_scale)
        self.dim = dim

    def forward(self, x):
        """Data -> latent: returns z = f(x) and log |det df/dx| per sample."""
        logdet = torch.zeros(len(x), device=x.device)
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x * self.log_scale.exp(), logdet + self.log_scale.sum()

    def inverse(self, z):
        """Latent -> data: x = f^{-1}(z)."""
        z = z * (-self.log_scale).exp()
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        """Exact log p(x) in nats, per sample (change of variables)."""
        z, logdet = self(x)
        log_base = -0.5 * (z**2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi)
        return log_base + logdet

    @torch.no_grad()
    def sample(self, n, device="cpu"):
        return self.inverse(torch.randn(n, self.dim, device=device))


def nll_loss(model, x):
    """Negative log-likelihood in nats per point, averaged over the batch."""
    return -model.log_prob(x).mean()


def train(
    model,
    x_train,
    *,
    epochs=200,
    batch_size=256,
    lr=2e-3,
    weight_decay=0.0,
    x_val=None,
    device="cpu",
    seed=None,
    log=None,
):
    """AdamW on the exact negative log-likelihood, cosine learning-rate decay. With
    ``x_val``, the model ends with the weights of its best validation epoch (early
    stopping). Returns per-epoch ``train`` (and ``val``) NLL, nats per point."""
    model.to(device)
    x_train = x_train.to(device)
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(x_train) / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    hist, best = {"train": [], "val": []}, (math.inf, None)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x_train), generator=g).split(batch_size):
            loss = nll_loss(model, x_train[idx.to(device)])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        hist["train"].append(total / len(x_train))
        if x_val is not None:
            hist["val"].append(evaluate(model, x_val, device=device))
            if hist["val"][-1] < best[0]:
                best = (
                    hist["val"][-1],
                    {k: v.clone() for k, v in model.state_dict().items()},
                )
        if log is not None:
            log(
                f"epoch {epoch + 1}: "
                + ", ".join(f"{k} {v[-1]:.3f}" for k, v in hist.items() if v)
            )
    if best[1] is not None:
        model.load_state_dict(best[1])
    return hist


@torch.no_grad()
def evaluate(model, x, *, device="cpu"):
    """Held-out negative log-likelihood, nats per point."""
    model.eval()
    return nll_loss(model, x.to(device)).item()


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(512, 2) @ torch.tensor(
        [[1.0, 0.8], [0.0, 0.3]]
    )  # a correlated Gaussian
    flow = RealNVP(n_layers=4, hidden=32)
    hist = train(flow, x, epochs=5, batch_size=128, seed=0)
    print(
        f"train loss (NLL, nats/point) per epoch: "
        f"{[round(v, 3) for v in hist['train']]}"
    )
