"""memoryGAN (Kim, Kim and Kim, "Memorization Precedes Generation: Learning Unsupervised GANs with
Memory Networks", ICLR 2018). The discriminator embeds a sample into a unit-norm query q and
answers from a memory of N slots: keys K (unit vectors), values v (1 = real, 0 = generated),
ages a and counts h. Each slot is one von Mises-Fisher cluster, p(x | c=i) ~ exp(kappa K_i . q),
with prior p(c=i) ~ h_i, and D(x) = sum_i p(c=i | x) v_i. The memory is not trained by gradients:
after each step it is updated by incremental EM (the nearest slot with the right value moves
towards its queries) or, when the nearest slot has the wrong value, the oldest slot is
overwritten. The generator draws a real slot's key with z, so discrete clusters of the data get
discrete codes, and a mutual-information term keeps the key recoverable from the sample.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Memory(nn.Module):
    """Keys (N, d) unit-norm, values in {0, 1}, ages and counts; buffers, not parameters."""

    def __init__(self, n_slots=1024, dim=16, kappa=10.0, alpha=0.9):
        super().__init__()
        self.kappa, self.alpha = kappa, alpha
        self.register_buffer("keys", F.normalize(torch.randn(n_slots, dim), dim=1))
        self.register_buffer("values", (torch.arange(n_slots) % 2).float())
        self.register_buffer("ages", torch.zeros(n_slots))
        self.register_buffer("counts", torch.ones(n_slots))

    def logits(self, q):
        """log p(x | c=i) p(c=i) up to a constant: vMF similarity plus the log count prior."""
        return self.kappa * q @ self.keys.T + self.counts.log()

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
        """One incremental-EM update with queries q (B, d) of label y (B,) in {0, 1}."""
        self.ages += 1
        nearest = (q @ self.keys.T).argmax(1)
        hit = self.values[nearest] == y
        # E-step: each query's responsibility for its nearest slot (when that slot's value is right)
        gamma = self.posterior(q).gather(1, nearest[:, None]).squeeze(1) * hit
        mass = torch.zeros_like(self.counts).index_add(0, nearest[hit], gamma[hit])
        pull = torch.zeros_like(self.keys).index_add(0, nearest[hit], gamma[hit, None] * q[hit])
        t = torch.unique(nearest[hit])
        # M-step: decay-and-add the counts, move the keys towards their queries, reset ages
        self.counts[t] = self.alpha * self.counts[t] + mass[t]
        self.keys[t] = F.normalize(self.keys[t] + pull[t] / self.counts[t, None], dim=1)
        self.ages[t] = 0
        # misses: write each such query into one of the oldest slots, with the mean count
        miss = torch.nonzero(~hit).flatten()[:len(self.ages)]
        if len(miss):
            old = self.ages.topk(len(miss)).indices
            self.keys[old], self.values[old], self.ages[old] = q[miss], y[miss], 0
            self.counts[old] = self.counts.mean()

    def sample_keys(self, n):
        """Keys of real slots, drawn with probability ~ h_i v_i (the generator's prior)."""
        w = self.counts * self.values
        if w.sum() <= 0:
            w = torch.ones_like(w)
        return self.keys[torch.multinomial(w, n, replacement=True)]


def mlp(i, o, h):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


class MemoryGAN(nn.Module):
    """Generator G(z, key); discriminator encoder mu(x) -> unit query, read out by the memory."""

    def __init__(self, x_dim=2, z_dim=2, key_dim=16, hidden=128, n_slots=1024, kappa=10.0):
        super().__init__()
        self.z_dim = z_dim
        self.G = mlp(z_dim + key_dim, x_dim, hidden)
        self.enc = mlp(x_dim, key_dim, hidden)
        self.memory = Memory(n_slots, key_dim, kappa)

    def query(self, x):
        return F.normalize(self.enc(x), dim=1)

    def generate(self, n, keys=None):
        keys = self.memory.sample_keys(n) if keys is None else keys
        z = torch.randn(n, self.z_dim, device=keys.device)
        return self.G(torch.cat([z, keys], 1)), keys


def memorygan_losses(model, x, lam=1.0):
    """D: BCE with D(x) from the memory. G: non-saturating BCE plus the mutual-information term
    -lam * kappa * K . q(G(z, K)) (the sample must point back at the key it was made from)."""
    fake, keys = model.generate(len(x))
    q_real, q_fake = model.query(x), model.query(fake.detach())
    d_loss = -(model.memory.log_d(q_real)[0].mean() + model.memory.log_d(q_fake)[1].mean())
    q_g = model.query(fake)
    g_loss = -model.memory.log_d(q_g)[0].mean() \
        - lam * model.memory.kappa * (keys * q_g).sum(1).mean()
    return d_loss, g_loss, q_real.detach(), q_fake.detach()


def train(model, x, steps=2000, batch_size=256, lr=1e-3, lam=0.1):
    """Alternate D and G steps, then update the memory with the batch's real and fake queries."""
    dev = next(model.parameters()).device
    opt_d = torch.optim.Adam(model.enc.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(model.G.parameters(), lr=lr, betas=(0.5, 0.999))
    hist = dict(d=[], g=[])
    for _ in range(steps):
        xb = x[torch.randint(len(x), (batch_size,))].to(dev)
        d_loss, g_loss, q_real, q_fake = memorygan_losses(model, xb, lam)
        opt_g.zero_grad()
        g_loss.backward()                 # also leaves gradients in enc: dropped just below
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        opt_g.step()
        model.memory.update(torch.cat([q_real, q_fake]),
                            torch.cat([torch.ones(len(q_real)), torch.zeros(len(q_fake))]).to(dev))
        hist["d"].append(d_loss.item())
        hist["g"].append(g_loss.item())
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
    print("memoryGAN D loss", round(hist["d"][-1], 3), "G loss", round(hist["g"][-1], 3))
