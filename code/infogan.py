"""InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever and Abbeel, "InfoGAN:
Interpretable Representation Learning by Information Maximizing Generative Adversarial
Nets", NeurIPS 2016). The generator's input is split into unstructured noise z and a
latent code c (here one categorical code with 10 values and two continuous codes in [-1,
1]); beside the usual GAN game, the generator is rewarded for making c recoverable from
its sample. The mutual information I(c; G(z, c)) is bounded from below by H(c) + E log
Q(c | x) with an auxiliary posterior Q, a second head on the discriminator's body, so
the bound costs one extra small layer. Without labels, the categorical code tends to
take the digit class and the continuous codes slant and stroke width. Here 14x14 digits.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class InfoGenerator(nn.Module):
    """[z (N, noise), one-hot c_cat (N, 10), c_cont (N, 2)] -> 7x7 map -> 14x14 digit in
    [0, 1]."""

    def __init__(self, noise_dim=32, n_cat=10, n_cont=2, width=32):
        super().__init__()
        self.noise_dim, self.n_cat, self.n_cont, w = noise_dim, n_cat, n_cont, width
        self.fc = nn.Sequential(
            nn.Linear(noise_dim + n_cat + n_cont, 2 * w * 49, bias=False),
            nn.BatchNorm1d(2 * w * 49),
            nn.ReLU(),
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(),  # 7 -> 14
            nn.Conv2d(w, 1, 3, 1, 1),
            nn.Sigmoid(),
        )

    def forward(self, z, c_cat, c_cont):
        h = torch.cat([z, F.one_hot(c_cat, self.n_cat).float(), c_cont], 1)
        return self.net(self.fc(h).view(len(z), -1, 7, 7))


class InfoDiscriminator(nn.Module):
    """(N, 1, 14, 14) -> shared body h -> D's logit (N,), and Q's head: code logits (N,
    10) and the continuous codes' means (N, 2)."""

    def __init__(self, n_cat=10, n_cont=2, width=32, hidden=128):
        super().__init__()
        w, self.n_cat = width, n_cat
        self.body = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),
            nn.LeakyReLU(0.2),  # 14 -> 7
            nn.Conv2d(w, 2 * w, 3, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2),  # 7 -> 4
            nn.Flatten(),
            nn.Linear(2 * w * 16, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(0.2),
        )
        self.d_head = nn.Linear(hidden, 1)
        self.q_head = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, n_cat + n_cont),
        )

    def forward(self, x):
        h = self.body(x)
        q = self.q_head(h)
        return self.d_head(h).squeeze(1), q[:, : self.n_cat], q[:, self.n_cat :]


def info_loss(cat_logits, c_cat, cont_mean, c_cont, cont_weight=0.5):
    """Minus the variational bound on I(c; x), up to the constant H(c): the
    cross-entropy of Q's code logits against the code that was drawn, plus a
    unit-variance Gaussian log-likelihood of the continuous codes (a squared error)
    weighted by ``cont_weight`` (the paper gives continuous codes "a smaller" weight
    without a number; 0.5 is this module's choice)."""
    cat = F.cross_entropy(cat_logits, c_cat)
    cont = 0.5 * ((cont_mean - c_cont) ** 2).sum(1).mean()
    return cat + cont_weight * cont, cat


def discriminator_loss(d_real, d_fake):
    """Binary cross-entropy: real digits labelled 1, generated ones 0."""
    return F.binary_cross_entropy_with_logits(
        d_real, torch.ones_like(d_real)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))


def sample_codes(n, noise_dim, n_cat=10, n_cont=2, device="cpu", generator=None):
    """z ~ N(0, I), c_cat uniform over n_cat values, c_cont ~ U[-1, 1]."""
    z = torch.randn(n, noise_dim, generator=generator).to(device)
    c_cat = torch.randint(n_cat, (n,), generator=generator).to(device)
    c_cont = (torch.rand(n, n_cont, generator=generator) * 2 - 1).to(device)
    return z, c_cat, c_cont


def train(
    G,
    D,
    images,
    *,
    steps=1000,
    batch_size=64,
    lr_d=2e-4,
    lr_g=1e-3,
    info_weight=1.0,
    device="cpu",
    seed=None,
    log=None,
):
    """As in the authors' code, the information loss joins both players' losses: D's
    step (body, real/fake head and Q head) minimises its cross-entropy plus
    info_weight * info_loss on the detached fakes, G's step the non-saturating loss plus
    info_weight * info_loss. ``seed`` seeds batches, noise and codes (None: torch's
    global generator); ``log(step, hist)`` is called after every step. Returns the
    loss history."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    G, D = G.to(device).train(), D.to(device).train()
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999))
    hist = {"d_loss": [], "g_loss": [], "info_loss": [], "mi_bound": []}
    for step in range(1, steps + 1):
        idx = torch.randint(len(images), (batch_size,), generator=gen)
        codes = sample_codes(batch_size, G.noise_dim, G.n_cat, G.n_cont, device, gen)
        fake = G(*codes)
        d_real = D(images[idx].to(device))[0]
        d_fake, cat_logits, cont_mean = D(fake.detach())
        d_loss = discriminator_loss(d_real, d_fake)
        i_loss, cat_ce = info_loss(cat_logits, codes[1], cont_mean, codes[2])
        opt_d.zero_grad()
        (d_loss + info_weight * i_loss).backward()
        opt_d.step()
        logit, cat_logits, cont_mean = D(fake)
        g_loss = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
        g_info, _ = info_loss(cat_logits, codes[1], cont_mean, codes[2])
        opt_g.zero_grad()
        (g_loss + info_weight * g_info).backward()
        opt_g.step()
        for k, v in zip(hist, (d_loss, g_loss, i_loss)):
            hist[k].append(v.item())
        hist["mi_bound"].append(math.log(G.n_cat) - cat_ce.item())  # H(c) - CE, in nats
        if log is not None:
            log(step, hist)
    return hist


@torch.no_grad()
def generate(G, c_cat, c_cont, z=None, device="cpu"):
    """Samples for given codes (fresh noise unless z is given), in eval mode."""
    G.eval()
    z = torch.randn(len(c_cat), G.noise_dim) if z is None else z
    return G(z.to(device), c_cat.to(device), c_cont.to(device)).cpu()


if __name__ == "__main__":
    G, D = InfoGenerator(noise_dim=8, width=8), InfoDiscriminator(width=8, hidden=32)
    hist = train(G, D, torch.rand(128, 1, 14, 14), steps=5, batch_size=32)
    print(
        f"d_loss {hist['d_loss'][-1]:.3f}  g_loss {hist['g_loss'][-1]:.3f}  "
        f"info loss {hist['info_loss'][-1]:.3f}"
    )
