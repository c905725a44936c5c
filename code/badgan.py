"""Bad-GAN semi-supervised learning (Dai, Yang, Yang, Cohen and Salakhutdinov, "Good
Semi-supervised Learning That Requires a Bad GAN", NeurIPS 2017). The discriminator is a
(K+1)-class classifier: K real classes plus "generated". With the extra logit fixed at
zero, its K logits alone give both the class posterior and the probability that an input
is real, so labelled data, unlabelled data and generated samples all train the same
classifier. The paper shows that the generator helps when it is *bad*: a complement
generator whose samples lie in the low-density gaps between the classes, where the
discriminator learns to say "generated", so the decision boundaries move into the gaps.
Its MNIST recipe, followed here: the discriminator's supervised and unsupervised terms,
and a generator trained by feature matching plus a low-density term that penalises
samples a pretrained density model finds more likely than a threshold (a PixelCNN++ in
the paper; here a Gaussian kernel density on the unlabelled digits' leading principal
components, a density model that takes seconds, with the threshold chosen by the
caller).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Discriminator(nn.Module):
    """MLP classifier with K logits (the (K+1)-th is fixed at 0) and Gaussian
    input/hidden noise."""

    def __init__(self, n_in=784, k=10, hidden=(500, 250), noise=(0.3, 0.5)):
        super().__init__()
        dims = (n_in,) + tuple(hidden)
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])
        )
        self.out = nn.Linear(dims[-1], k)
        self.noise = noise

    def forward(self, x, features=False):
        h = x.flatten(1)
        for i, layer in enumerate(self.layers):
            if self.training:
                h = h + self.noise[min(i, 1)] * torch.randn_like(h)
            h = F.relu(layer(h))
        return (self.out(h), h) if features else self.out(h)


class Generator(nn.Module):
    """z (100, uniform) -> 500 -> 500 -> 784 pixels in [0, 1], batch norm in the hidden
    layers."""

    def __init__(self, z_dim=100, n_out=784, hidden=500):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.Softplus(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.Softplus(),
            nn.Linear(hidden, n_out),
            nn.Sigmoid(),
        )

    def forward(self, n):
        z = torch.rand(n, self.z_dim, device=self.net[0].weight.device)
        return self.net(z).view(n, 1, 28, 28)


class KernelDensity(nn.Module):
    """log p(x) up to a constant: a Gaussian kernel density on the top ``k`` principal
    components of ``x`` (N, ...), bandwidth ``h`` in units of their mean spread.
    Differentiable in x, so the generator can be pushed away from dense regions."""

    def __init__(self, x, k=30, h=0.5):
        super().__init__()
        flat = x.flatten(1)
        mean = flat.mean(0)
        _, s, v = torch.linalg.svd(flat - mean, full_matrices=False)
        basis = v[:k].T  # (D, k)
        self.register_buffer("mean", mean)
        self.register_buffer("basis", basis)
        self.register_buffer("bank", (flat - mean) @ basis)
        self.h = h * float((s[:k] ** 2 / len(flat)).mean().sqrt())

    def forward(self, x):
        z = (x.flatten(1) - self.mean) @ self.basis
        d2 = torch.cdist(z, self.bank).pow(2)
        return torch.logsumexp(-d2 / (2 * self.h**2), 1)


def kplus1_log_probs(logits):
    """log p(y=k|x) for k = 1..K+1 with l_{K+1} = 0: a softmax over [logits, 0]."""
    return F.log_softmax(torch.cat([logits, torch.zeros_like(logits[:, :1])], 1), 1)


def d_loss(D, x_lab, y_lab, x_unl, x_fake, w_unl=0.5):
    """L_D = CE on labels + w (-E_unl log(Z/(1+Z)) - E_fake log(1/(1+Z))), Z = sum_k
    exp l_k (w = 1/2 in the authors' code). ``x_fake=None``: no generated term (the
    ablation without a generator). Returns (loss, dict of its parts)."""
    sup = F.cross_entropy(D(x_lab), y_lab)
    lse_unl = torch.logsumexp(D(x_unl), 1)
    real = (F.softplus(lse_unl) - lse_unl).mean()  # -log D(x),  D = Z / (1 + Z)
    fake = torch.zeros(())
    if x_fake is not None:
        fake = F.softplus(torch.logsumexp(D(x_fake), 1)).mean()  # -log(1 - D(G(z)))
    loss = sup + w_unl * (real + fake)
    return loss, dict(sup=sup.item(), real=real.item(), fake=fake.item())


def g_loss(D, x_unl, x_fake, log_density=None, threshold=0.0, w_ld=1.0):
    """Feature matching: the mean squared gap between the mean features of real and
    generated batches (D's last hidden layer). Low density: over the samples whose
    log_density exceeds the threshold, the mean excess, times w_ld. Returns (loss,
    feature matching, low-density term)."""
    _, f_real = D(x_unl, features=True)
    _, f_fake = D(x_fake, features=True)
    fm = (f_real.detach().mean(0) - f_fake.mean(0)).pow(2).mean()
    ld = torch.zeros(())
    if log_density is not None:
        excess = F.relu(log_density(x_fake) - threshold)
        ld = excess.sum() / (excess > 0).sum().clamp(min=1)
    return fm + w_ld * ld, fm, ld


def train(
    D,
    G,
    x_lab,
    y_lab,
    x_unl,
    *,
    steps=1000,
    batch_size=100,
    lr=3e-3,
    lr_g=1e-3,
    w_unl=0.5,
    density=None,
    threshold=0.0,
    w_ld=1.0,
    ema=0.995,
    device="cpu",
    seed=None,
    log=None,
):
    """One D step and one G step per batch (Adam, beta1 = 0.5 for D and 0 for G, as in
    the authors' code); the rates fall linearly to 0 over the last third. D ends
    holding the moving average of its weights (decay ``ema``). ``G=None``: no generated
    samples (D on the labels and ``x_unl``'s real term, or on the labels alone when
    ``x_unl`` is None). Returns per-step ``d_loss``, ``g_loss``, ``sup`` and ``ld``."""
    if seed is not None:
        torch.manual_seed(seed)
    opts = [torch.optim.Adam(D.to(device).train().parameters(), lr, betas=(0.5, 0.999))]
    if G is not None:
        opts.append(
            torch.optim.Adam(
                G.to(device).train().parameters(), lr_g, betas=(0.0, 0.999)
            )
        )
    decay = lambda s: min(1.0, 3 * (1 - s / steps))  # noqa: E731
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in opts]
    avg = {k: v.detach().clone() for k, v in D.state_dict().items()}
    hist = dict(d_loss=[], g_loss=[], sup=[], ld=[])
    pick = lambda x: x[torch.randint(len(x), (batch_size,))].to(device)  # noqa: E731
    for step in range(steps):
        i = torch.randint(len(x_lab), (batch_size,))
        xl, yl = x_lab[i].to(device), y_lab[i].to(device)
        if x_unl is None:
            loss = F.cross_entropy(D(xl), yl)
            parts = dict(sup=loss.item())
        else:
            fake = G(batch_size).detach() if G is not None else None
            loss, parts = d_loss(D, xl, yl, pick(x_unl), fake, w_unl)
        opts[0].zero_grad(), loss.backward(), opts[0].step()
        if G is not None:
            lg, _, ld = g_loss(D, pick(x_unl), G(batch_size), density, threshold, w_ld)
            opts[1].zero_grad(), lg.backward(), opts[1].step()
            hist["g_loss"].append(lg.item()), hist["ld"].append(ld.item())
        for sc in scheds:
            sc.step()
        with torch.no_grad():
            for k, v in D.state_dict().items():
                avg[k].lerp_(v, 1 - ema) if v.is_floating_point() else avg[k].copy_(v)
        hist["d_loss"].append(loss.item()), hist["sup"].append(parts["sup"])
        if log is not None:
            log(step, {k: v[-1] for k, v in hist.items() if v})
    D.load_state_dict(avg)
    return hist


@torch.no_grad()
def accuracy(D, x, y):
    """Share of x whose arg-max over the K real classes is y."""
    D.eval()
    dev = next(D.parameters()).device
    pred = torch.cat([D(b.to(dev)).argmax(1).cpu() for b in x.split(1000)])
    D.train()
    return (pred == y).float().mean().item()


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.rand(200, 1, 28, 28)
    y = torch.randint(10, (200,))
    D, G = Discriminator(), Generator()
    density = KernelDensity(x[20:])
    hist = train(D, G, x[:20], y[:20], x[20:], steps=5, batch_size=16, density=density)
    print("Bad-GAN discriminator loss per step:", [round(v, 3) for v in hist["d_loss"]])
