"""Denoising diffusion probabilistic model (Ho, Jain and Abbeel, "Denoising Diffusion
Probabilistic Models", NeurIPS 2020) with classifier guidance (Dhariwal and Nichol,
"Diffusion Models Beat GANs on Image Synthesis", NeurIPS 2021). A fixed forward process
adds Gaussian noise over T steps, q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t
I), which has the closed form x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps. A network
eps_theta(x_t, t) is trained to predict the noise eps (a plain mean-squared error),
which fixes the mean of each reverse step p(x_{t-1} | x_t); sampling runs the reverse
chain from pure noise. For guidance, a classifier p(y | x_t, t) is trained on noisy
images, and each reverse step's mean is shifted by s * sigma_t^2 * grad log p(y | x_t):
a larger scale s gives more class-typical, less varied samples.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def cosine_schedule(T, s=0.008):
    """Noise levels beta_1..beta_T of the cosine schedule (Nichol and Dhariwal 2021),
    which leaves some signal at every step even for small T. Returns betas and abar_t =
    prod (1 - beta)."""
    f = torch.cos((torch.arange(T + 1) / T + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return betas, torch.cumprod(1 - betas, dim=0)


def q_sample(x0, t, abar, noise):
    """Closed-form forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps (t is
    0-based)."""
    a = abar[t].view(-1, 1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def time_embedding(t, dim):
    """Sinusoidal embedding of integer steps t, shape (N, dim)."""
    freqs = torch.exp(
        -math.log(1000.0) * torch.arange(dim // 2, device=t.device) / (dim // 2)
    )
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with the time embedding added in between, plus a
    skip."""

    def __init__(self, c_in, c_out, t_dim):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.t = nn.Linear(t_dim, c_out)
        self.n2, self.c2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, e):
        h = self.c1(F.silu(self.n1(x))) + self.t(e)[:, :, None, None]
        return self.skip(x) + self.c2(F.silu(self.n2(h)))


class UNet(nn.Module):
    """eps_theta(x_t, t): a two-level U-Net (full and half resolution, skip connections)
    whose residual blocks all receive the embedding of the step t."""

    def __init__(self, ch=32, t_dim=64):
        super().__init__()
        self.t_dim = t_dim
        self.emb = nn.Sequential(
            nn.Linear(t_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim)
        )
        self.inc = nn.Conv2d(1, ch, 3, padding=1)
        self.down1, self.down2 = ResBlock(ch, ch, t_dim), ResBlock(ch, 2 * ch, t_dim)
        self.mid = ResBlock(2 * ch, 2 * ch, t_dim)
        self.up2, self.up1 = ResBlock(4 * ch, ch, t_dim), ResBlock(2 * ch, ch, t_dim)
        self.out = nn.Sequential(
            nn.GroupNorm(8, ch), nn.SiLU(), nn.Conv2d(ch, 1, 3, padding=1)
        )

    def forward(self, x, t):
        e = self.emb(time_embedding(t, self.t_dim))
        h1 = self.down1(self.inc(x), e)  # (N, ch, H, W)
        h2 = self.down2(F.avg_pool2d(h1, 2), e)  # (N, 2ch, H/2, W/2)
        h = self.mid(h2, e)
        h = self.up2(torch.cat([h, h2], 1), e)  # (N, ch, H/2, W/2)
        h = self.up1(torch.cat([F.interpolate(h, scale_factor=2.0), h1], 1), e)
        return self.out(h)  # predicted noise, (N, 1, H, W)


class NoisyClassifier(nn.Module):
    """p(y | x_t, t): two time-conditioned residual blocks, pooling to a 4x4 map, a
    linear head."""

    def __init__(self, n_classes=10, ch=32, t_dim=64):
        super().__init__()
        self.t_dim = t_dim
        self.emb = nn.Sequential(
            nn.Linear(t_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim)
        )
        self.inc = nn.Conv2d(1, ch, 3, padding=1)
        self.b1, self.b2 = ResBlock(ch, ch, t_dim), ResBlock(ch, 2 * ch, t_dim)
        self.head = nn.Sequential(nn.GroupNorm(8, 2 * ch), nn.SiLU())
        self.fc = nn.Linear(2 * ch * 16, n_classes)

    def forward(self, x, t):
        e = self.emb(time_embedding(t, self.t_dim))
        h = F.avg_pool2d(self.b1(self.inc(x), e), 2)
        h = F.adaptive_avg_pool2d(self.head(self.b2(h, e)), 4)
        return self.fc(h.flatten(1))  # logits (N, n_classes)


def ddpm_loss(model, x0, abar):
    """The simple DDPM objective: E_{t, eps} |eps - eps_theta(sqrt(abar_t) x0 +
    sqrt(1-abar_t) eps, t)|^2."""
    t = torch.randint(0, len(abar), (len(x0),), device=x0.device)
    noise = torch.randn_like(x0)
    return F.mse_loss(model(q_sample(x0, t, abar, noise), t), noise)


def classifier_loss(classifier, x0, y, abar):
    """Cross-entropy of p(y | x_t, t) on the images noised to their own random steps."""
    t = torch.randint(0, len(abar), (len(x0),), device=x0.device)
    xt = q_sample(x0, t, abar, torch.randn_like(x0))
    return F.cross_entropy(classifier(xt, t), y)


def train(
    model,
    classifier,
    x,
    y,
    *,
    T,
    epochs=10,
    batch_size=128,
    lr=2e-3,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam on the DDPM loss for ``model`` and, on the same batches, on the noisy-image
    cross-entropy for ``classifier`` (each clipped on its own). ``x`` in [-1, 1], shape
    (N, 1, H, W); ``T`` as in ``sample``. Returns per-step losses."""
    abar = cosine_schedule(T)[1].to(device)
    nets = (model.to(device), classifier.to(device))
    opt = torch.optim.Adam([p for n in nets for p in n.parameters()], lr=lr)
    steps = epochs * math.ceil(len(x) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, lr, total_steps=steps, pct_start=0.15
    )
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    hist = {"ddpm": [], "classifier": []}
    for epoch in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(batch_size):
            xb, yb = x[idx].to(device), y[idx].to(device)
            loss = ddpm_loss(model, xb, abar)
            clf_loss = classifier_loss(classifier, xb, yb, abar)
            opt.zero_grad()
            (loss + clf_loss).backward()
            for n in nets:
                nn.utils.clip_grad_norm_(n.parameters(), 1.0)
            opt.step()
            sched.step()
            hist["ddpm"].append(loss.item())
            hist["classifier"].append(clf_loss.item())
        if log is not None:
            log(f"epoch {epoch + 1}: ddpm {loss.item():.4f}, clf {clf_loss.item():.3f}")
    return hist


def sample(
    model, shape, *, T, classifier=None, y=None, scale=0.0, keep=(), device="cpu"
):
    """Ancestral sampling x_T ~ N(0, I) -> x_0 over the ``T`` steps the model was
    trained with. With a classifier, labels ``y`` and ``scale`` > 0, each step's mean is
    shifted by scale * sigma_t^2 * grad_x log p(y | x_t, t) (classifier guidance).
    Returns x_0, and a dict {t: x_t} for the 1-based steps t listed in ``keep``."""
    betas, abar = (v.to(device) for v in cosine_schedule(T))
    model.eval()
    x, chain = torch.randn(shape, device=device), {}
    for i in reversed(range(T)):
        if i + 1 in keep:
            chain[i + 1] = x.cpu()
        t = torch.full((shape[0],), i, device=device, dtype=torch.long)
        with torch.no_grad():
            eps = model(x, t)
        ab_prev = abar[i - 1] if i > 0 else torch.ones((), device=device)
        x0 = (x - (1 - abar[i]).sqrt() * eps) / abar[i].sqrt()  # predicted x_0
        x0 = x0.clamp(-1, 1)
        # mean and variance of the posterior q(x_{t-1} | x_t, x_0), with x_0 predicted
        mean = (
            ab_prev.sqrt() * betas[i] * x0 + (1 - betas[i]).sqrt() * (1 - ab_prev) * x
        ) / (1 - abar[i])
        var = betas[i] * (1 - ab_prev) / (1 - abar[i])
        if classifier is not None and scale > 0:
            with torch.enable_grad():
                xg = x.detach().requires_grad_(True)
                logp = F.log_softmax(classifier(xg, t), dim=1)[torch.arange(len(y)), y]
                grad = torch.autograd.grad(logp.sum(), xg)[0]
            mean = mean + scale * var * grad  # mu + s * Sigma * grad log p(y | x_t)
        x = mean + var.sqrt() * torch.randn_like(x)
    chain[0] = x.cpu()
    return x.clamp(-1, 1), chain


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(64, 1, 16, 16) * 2 - 1
    y = torch.randint(0, 10, (64,))
    net, clf = UNet(ch=16), NoisyClassifier(ch=16)
    hist = train(net, clf, x, y, T=20, epochs=2, batch_size=32, seed=0)
    print(f"ddpm loss per step: {[round(v, 3) for v in hist['ddpm']]}")
    out, _ = sample(
        net, (4, 1, 16, 16), T=20, classifier=clf, y=torch.arange(4), scale=1.0
    )
    print("samples", tuple(out.shape))
