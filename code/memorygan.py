"""memoryGAN (Kim, Kim and Kim, "Memorization Precedes Generation: Learning Unsupervised
GANs with Memory Networks", ICLR 2018). The discriminator embeds a sample into a
unit-norm query q and answers from a memory of N slots: keys K (unit vectors), values v
(1 = real, 0 = generated), ages a and counts h. Each slot is one von Mises-Fisher
cluster, p(x | c=i) ~ exp(kappa K_i . q), with prior p(c=i) ~ h_i, and D(x) = sum_i
p(c=i | x) v_i. The memory is not trained by gradients: after each step a query whose
nearest key has its own label updates the top-k slots of its label by incremental EM; a
query whose nearest key has the other label is written into the oldest slot. The
generator draws a real slot's key with z, so discrete clusters of the data get discrete
codes, and a mutual-information term (on both players) keeps the key recoverable from
the sample. Two simplifications, both for this small toy: the counts of each label are
normalised to sum to one half (the batches are balanced; without it the resets' counts
swamp the real slots), and all counts decay a little every step, so slots that no query
visits fade from D and from G's prior.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Memory(nn.Module):
    """Keys (N, d) unit-norm, values in {0, 1}, ages and counts; buffers, not
    parameters."""

    def __init__(
        self, n_slots=1024, dim=16, kappa=30.0, alpha=0.5, top_k=8, decay=0.98
    ):
        super().__init__()
        self.kappa, self.alpha, self.top_k, self.decay = (
            kappa,
            alpha,
            min(top_k, n_slots),
            decay,
        )
        self.register_buffer("keys", F.normalize(torch.randn(n_slots, dim), dim=1))
        self.register_buffer("values", (torch.arange(n_slots) % 2).float())
        self.register_buffer("ages", torch.zeros(n_slots))
        self.register_buffer("counts", torch.full((n_slots,), 1e-3))

    def logits(self, q):
        """log p(x | c=i) p(c=i) up to a constant: vMF similarity plus the log prior,
        each label's counts normalised to sum to one half."""
        real = self.values > 0.5
        mass = torch.where(real, self.counts[real].sum(), self.counts[~real].sum())
        return self.kappa * q @ self.keys.T + (self.counts / mass).log()

    def posterior(self, q):
        """p(c=i | x) for unit queries q (B, d)."""
        return torch.softmax(self.logits(q), dim=1)

    def log_d(self, q):
        """log D(x) and log(1 - D(x)) where D(x) = p(y=1 | x) = sum_i p(c=i | x) v_i,
        computed stably as log-sum-exps over the real and the generated slots."""
        lg = self.logits(q)
        real = self.values > 0.5
        total = lg.logsumexp(1)
        log_real = lg.masked_fill(~real, -float("inf")).logsumexp(1)
        log_fake = lg.masked_fill(real, -float("inf")).logsumexp(1)
        return log_real - total, log_fake - total

    @torch.no_grad()
    def update(self, q, y):
        """One memory update with unit queries q (B, d) of labels y (B,) in {0, 1}."""
        self.ages += 1
        self.counts *= self.decay
        lg = self.logits(q)
        hit = (
            self.values[(q @ self.keys.T).argmax(1)] == y
        )  # nearest key has the right label
        # E-step: each hit's posterior over the top-k slots of its own label
        top = lg.masked_fill(self.values[None] != y[:, None], -float("inf")).topk(
            self.top_k, 1
        )
        gamma = (torch.softmax(top.values, 1).nan_to_num() * hit[:, None]).flatten()
        idx = top.indices.flatten()
        mass = torch.zeros_like(self.counts).index_add(0, idx, gamma)
        qk = q.repeat_interleave(self.top_k, 0)
        pull = torch.zeros_like(self.keys).index_add(0, idx, gamma[:, None] * qk)
        t = mass > 0
        # M-step: h <- alpha h + sum gamma; K <- (alpha h K + sum gamma q) / h,
        # renormalised
        h = self.alpha * self.counts[t]
        self.keys[t] = F.normalize(h[:, None] * self.keys[t] + pull[t], dim=1)
        self.counts[t] = self.alpha * self.counts[t] + mass[t]
        self.ages[t] = 0
        # misses: write each such query into one of the oldest slots, with the mean
        # count
        miss = torch.nonzero(~hit).flatten()[: len(self.ages)]
        if len(miss):
            old = self.ages.topk(len(miss)).indices
            self.counts[old] = self.counts.mean()
            self.keys[old], self.values[old], self.ages[old] = q[miss], y[miss], 0

    def sample_keys(self, n):
        """Keys of real slots, drawn with probability ~ h_i v_i (the generator's
        prior)."""
        w = self.counts * self.values
        if not w.sum() > 0:
            raise RuntimeError(
                "memoryGAN: the memory holds no real slot to draw a key from"
            )
        return self.keys[torch.multinomial(w, n, replacement=True)]


class NoMemory(nn.Module):
    """The ablation: the same interface with the memory taken out. D(x) is a logistic
    regression on the unit query, ``update`` does nothing, and the generator's keys are
    drawn uniformly on the unit sphere instead of from real slots."""

    def __init__(self, dim=16):
        super().__init__()
        self.head = nn.Linear(dim, 1)

    def log_d(self, q):
        s = self.head(q).squeeze(1)
        return F.logsigmoid(s), F.logsigmoid(-s)

    def update(self, q, y):
        pass

    def sample_keys(self, n):
        return F.normalize(torch.randn(n, self.head.in_features), dim=1).to(
            self.head.weight.device
        )


def mlp(i, o, h):
    return nn.Sequential(
        nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o)
    )


class MemoryGAN(nn.Module):
    """Generator G(z, key); discriminator encoder mu(x) -> unit query, read out by the
    memory (``memory=False``: by a linear head, with random unit keys for G)."""

    def __init__(
        self,
        x_dim=2,
        z_dim=2,
        key_dim=16,
        hidden=128,
        n_slots=1024,
        kappa=30.0,
        memory=True,
    ):
        super().__init__()
        self.z_dim = z_dim
        self.G = mlp(z_dim + key_dim, x_dim, hidden)
        self.enc = mlp(x_dim, key_dim, hidden)
        self.memory = Memory(n_slots, key_dim, kappa) if memory else NoMemory(key_dim)

    def query(self, x):
        return F.normalize(self.enc(x), dim=1)

    def generate(self, n, keys=None):
        keys = self.memory.sample_keys(n) if keys is None else keys
        z = torch.randn(n, self.z_dim, device=keys.device)
        return self.G(torch.cat([z, keys], 1)), keys


def mutual_info(q, keys):
    """The paper's bound on I(c; G(z, K_c)) as a loss: |q(G(z, K_c)) - K_c|^2 = 2 - 2
    K_c.q."""
    return ((q - keys) ** 2).sum(1).mean()


def memorygan_d_loss(model, x, fake, keys, lam=1.0):
    """Encoder: BCE with D(x) read from the memory, plus the MI term on the detached
    fakes."""
    q_real, q_fake = model.query(x), model.query(fake.detach())
    log_d_real = model.memory.log_d(q_real)[0]
    log_1md_fake = model.memory.log_d(q_fake)[1]
    loss = -(log_d_real.mean() + log_1md_fake.mean()) + lam * mutual_info(q_fake, keys)
    return loss, q_real.detach(), q_fake.detach()


def memorygan_g_loss(model, fake, keys, lam=30.0):
    """Generator: non-saturating BCE through the memory read, plus the MI term."""
    q = model.query(fake)
    return -model.memory.log_d(q)[0].mean() + lam * mutual_info(q, keys)


def train(
    model,
    x,
    *,
    steps=2000,
    batch_size=64,
    lr_g=2e-3,
    lr_d=1e-4,
    lam_g=30.0,
    lam_d=1.0,
    device="cpu",
    seed=None,
    log=None,
):
    """Alternate a discriminator step and a generator step, then update the memory with
    the batch's real and fake queries. Both learning rates fall linearly to 10% of
    their start. Returns per-step ``d_loss`` and ``g_loss``."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    d_params = [*model.enc.parameters(), *model.memory.parameters()]
    opt_d = torch.optim.Adam(d_params, lr=lr_d, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(model.G.parameters(), lr=lr_g, betas=(0.5, 0.999))
    sched = [
        torch.optim.lr_scheduler.LambdaLR(o, lambda i: 1 - 0.9 * i / steps)
        for o in (opt_d, opt_g)
    ]
    labels = torch.cat([torch.ones(batch_size), torch.zeros(batch_size)]).to(device)
    hist = dict(d_loss=[], g_loss=[])
    for step in range(steps):
        xb = x[torch.randint(len(x), (batch_size,))].to(device)
        fake, keys = model.generate(batch_size)
        d_loss, q_real, q_fake = memorygan_d_loss(model, xb, fake, keys, lam_d)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = memorygan_g_loss(model, fake, keys, lam_g)
        opt_g.zero_grad()
        g_loss.backward()  # also leaves gradients in D: zeroed before its next step
        opt_g.step()
        for s in sched:
            s.step()
        model.memory.update(torch.cat([q_real, q_fake]), labels)
        hist["d_loss"].append(d_loss.item())
        hist["g_loss"].append(g_loss.item())
        if log is not None:
            log(step, {k: v[-1] for k, v in hist.items()})
    return hist


def grid_of_gaussians(n, k=5, spacing=2.0, std=0.05):
    """n points from a k x k grid of Gaussians centred on {-4, -2, 0, 2, 4}^2."""
    c = (torch.arange(k) - (k - 1) / 2) * spacing
    centres = torch.cartesian_prod(c, c)
    return centres[torch.randint(len(centres), (n,))] + std * torch.randn(n, 2), centres


if __name__ == "__main__":
    torch.manual_seed(0)
    x, _ = grid_of_gaussians(1024)
    model = MemoryGAN(hidden=32, n_slots=256)
    hist = train(model, x, steps=20, batch_size=64)
    d, g = hist["d_loss"][-1], hist["g_loss"][-1]
    print(f"memoryGAN D loss {d:.3f}, G loss {g:.3f}")
