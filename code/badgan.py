"""Bad-GAN semi-supervised learning (Dai, Yang, Yang, Cohen and Salakhutdinov, "Good
Semi-supervised Learning That Requires a Bad GAN", NeurIPS 2017). The discriminator is a
(K+1)-class classifier: K real classes plus "generated". With the extra logit fixed at
zero, its K logits alone give both the class posterior and the probability that an input
is real, so labelled data, unlabelled data and generated samples all train the same
classifier. The paper shows that the generator helps most when it is *bad*: a complement
generator that puts samples in the low-density gaps between classes, where they push the
decision boundaries. Its generator matches the discriminator's mean features (feature
matching) and keeps its samples spread out with an entropy term (here the pull-away
surrogate the paper uses); the discriminator also minimises the conditional entropy of
its class posterior on unlabelled data.
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
    """z (100) -> 500 -> 500 -> 784 pixels in [0, 1], batch norm in the hidden
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


def kplus1_log_probs(logits):
    """log p(y=k|x) for k = 1..K+1 with l_{K+1} = 0: a softmax over [logits, 0]."""
    return F.log_softmax(torch.cat([logits, torch.zeros_like(logits[:, :1])], 1), 1)


def d_loss(D, x_lab, y_lab, x_unl, x_fake, w_ent=1.0):
    """L_D = CE on labels - E_unl log(Z/(1+Z)) - E_fake log(1/(1+Z)) + w *
    H(p(y|x_unl)), Z = sum_k exp l_k. Returns (loss, dict of its parts)."""
    sup = F.cross_entropy(D(x_lab), y_lab)
    l_unl, l_fake = D(x_unl), D(x_fake)
    lse_unl, lse_fake = torch.logsumexp(l_unl, 1), torch.logsumexp(l_fake, 1)
    real = (F.softplus(lse_unl) - lse_unl).mean()  # -log D(x),  D = Z / (1 + Z)
    fake = F.softplus(lse_fake).mean()  # -log(1 - D(G(z)))
    p = F.softmax(l_unl, 1)
    ent = (
        -(p * F.log_softmax(l_unl, 1)).sum(1).mean()
    )  # conditional entropy of p(y | x, real)
    loss = sup + real + fake + w_ent * ent
    return loss, dict(
        sup=sup.item(), real=real.item(), fake=fake.item(), ent=ent.item()
    )


def g_loss(D, x_unl, x_fake, w_pt=1.0):
    """Feature matching ||E f(x) - E f(G(z))||^2 plus the pull-away term (an entropy
    surrogate: mean squared cosine similarity between the features of distinct generated
    samples)."""
    _, f_real = D(x_unl, features=True)
    _, f_fake = D(x_fake, features=True)
    fm = (f_real.detach().mean(0) - f_fake.mean(0)).pow(2).mean()
    u = F.normalize(f_fake, dim=1)
    n = len(u)
    pt = ((u @ u.t()).pow(2).sum() - n) / (n * (n - 1))
    return fm + w_pt * pt


def train(
    D,
    G,
    x_lab,
    y_lab,
    x_unl,
    steps=1000,
    batch_size=100,
    lr=3e-3,
    w_ent=1.0,
    w_pt=1.0,
    ema=0.995,
):
    """One D step and one G step per batch (Adam, beta1 = 0.5); the learning rates fall
    linearly to 0 over the last third (as in Dai et al.'s code). D ends holding the
    exponential moving average of its weights (Polyak averaging, decay `ema`), which
    smooths the GAN's swings. G=None trains D on the labels alone (the baseline).
    Returns per-step losses."""
    dev = next(D.parameters()).device
    opts = [
        torch.optim.Adam(m.parameters(), lr=lr, betas=(0.5, 0.999)) for m in (D, G) if m
    ]
    decay = lambda s: min(1.0, 3 * (1 - s / steps))  # noqa: E731
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in opts]
    avg = {k: v.detach().clone() for k, v in D.state_dict().items()}
    hist = dict(d=[], g=[], sup=[])
    for _ in range(steps):
        i = torch.randint(len(x_lab), (batch_size,))
        xl, yl = x_lab[i].to(dev), y_lab[i].to(dev)
        if G is None:
            loss = F.cross_entropy(D(xl), yl)
            parts = dict(sup=loss.item())
            opts[0].zero_grad(), loss.backward(), opts[0].step()
        else:
            xu = x_unl[torch.randint(len(x_unl), (batch_size,))].to(dev)
            loss, parts = d_loss(D, xl, yl, xu, G(batch_size).detach(), w_ent)
            opts[0].zero_grad(), loss.backward(), opts[0].step()
            lg = g_loss(D, xu, G(batch_size), w_pt)
            opts[1].zero_grad(), lg.backward(), opts[1].step()
            hist["g"].append(lg.item())
        for sc in scheds:
            sc.step()
        with torch.no_grad():
            for k, v in D.state_dict().items():
                avg[k].lerp_(v, 1 - ema) if v.is_floating_point() else avg[k].copy_(v)
        hist["d"].append(loss.item()), hist["sup"].append(parts["sup"])
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
    hist = train(D, G, x[:20], y[:20], x[20:], steps=5, batch_size=16)
    print("Bad-GAN discriminator loss per step:", [round(v, 3) for v in hist["d"]])
