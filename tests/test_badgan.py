import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from badgan import (
    Discriminator,
    Generator,
    KernelDensity,
    d_loss,
    g_loss,
    kplus1_log_probs,
    train,
)


def test_shapes():
    D, G = Discriminator(), Generator()
    x = G(5)
    assert x.shape == (5, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    logits, feats = D(x, features=True)
    assert logits.shape == (5, 10) and feats.shape == (5, 250)


class Fixed(nn.Module):
    """A 'discriminator' that returns given logits for each input row (indexed by x[:,
    0])."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, x):
        return self.table[x[:, 0].long()]


def test_kplus1_softmax_reduces_to_the_paper_formula():
    torch.manual_seed(0)
    table = torch.randn(12, 10) * 2
    lp = kplus1_log_probs(table)
    z = table.exp().sum(1)
    # p(K+1 | x) = 1 / (Z + 1) and p(k | x) = exp(l_k) / (Z + 1), with Z = sum_k
    # exp(l_k)
    assert torch.allclose(lp[:, -1].exp(), 1 / (z + 1), atol=1e-6)
    assert torch.allclose(lp[:, :-1].exp(), table.exp() / (z + 1)[:, None], atol=1e-6)
    # the class posterior given "real" is the plain K-way softmax
    assert torch.allclose(
        lp[:, :-1] - torch.log1p(-lp[:, -1].exp())[:, None],
        F.log_softmax(table, 1),
        atol=1e-5,
    )
    # d_loss's unsupervised terms equal -log D(x) = -log Z/(Z+1) and -log(1 - D) =
    # log(Z+1), with D computed from the explicit (K+1)-way softmax
    D = Fixed(table)
    xl, xu, xf = (
        torch.tensor([[0.0], [1.0]]),
        torch.tensor([[2.0], [3.0], [4.0]]),
        torch.tensor([[5.0], [6.0]]),
    )
    y = torch.tensor([3, 7])
    loss, parts = d_loss(D, xl, y, xu, xf, w_unl=0.5)
    p_real_u = 1 - lp[2:5, -1].exp()
    p_fake_f = lp[5:7, -1].exp()
    assert math.isclose(parts["real"], -p_real_u.log().mean().item(), rel_tol=1e-5)
    assert math.isclose(parts["fake"], -p_fake_f.log().mean().item(), rel_tol=1e-5)
    assert math.isclose(
        parts["sup"], F.cross_entropy(table[:2], y).item(), rel_tol=1e-5
    )
    want = parts["sup"] + 0.5 * (parts["real"] + parts["fake"])
    assert math.isclose(loss.item(), want, rel_tol=1e-5)
    # without a generator the fake term is gone, the rest unchanged
    loss0, parts0 = d_loss(D, xl, y, xu, None, w_unl=0.5)
    assert parts0["fake"] == 0 and math.isclose(
        loss0.item(), parts["sup"] + 0.5 * parts["real"], rel_tol=1e-5
    )


class Feats(nn.Module):
    """A 'discriminator' whose features are the input's first two pixels."""

    def forward(self, x, features=False):
        f = x.flatten(1)[:, :2]
        return (f, f) if features else f


def test_generator_loss_by_hand():
    """Feature matching is the mean squared gap of mean features, and the low-density
    term the mean excess of log density over the threshold among the samples above it.
    Fails if feature matching compares samples one by one instead of batch means, if
    the low-density term is signed the wrong way (it would reward dense samples), or if
    it averages over every sample instead of those above the threshold."""
    real = torch.tensor([[1.0, 0.0], [3.0, 2.0]])  # mean features (2, 1)
    fake = torch.tensor([[0.0, 0.0], [0.0, 4.0], [3.0, 0.0]])  # mean (1, 4/3)
    log_density = lambda x: x.flatten(1)[:, 1] - 1.0  # noqa: E731  -1, 3, -1
    loss, fm, ld = g_loss(Feats(), real, fake, log_density, threshold=0.5, w_ld=2.0)
    assert math.isclose(fm.item(), ((2 - 1) ** 2 + (1 - 4 / 3) ** 2) / 2, rel_tol=1e-5)
    assert math.isclose(ld.item(), 3 - 0.5, rel_tol=1e-5)  # one sample above: 2.5
    assert math.isclose(loss.item(), fm.item() + 2 * 2.5, rel_tol=1e-5)


def test_kernel_density_prefers_the_data_to_the_gaps():
    """A sample on a data point must be more likely than one halfway between two far
    clusters, and the gradient must point back into the data. Fails if the density is
    not a kernel sum over the data (e.g. a single Gaussian at the mean, which puts the
    gap at the peak) or if it is cut off from autograd."""
    torch.manual_seed(0)
    x = torch.cat([torch.randn(50, 4) * 0.1 - 2, torch.randn(50, 4) * 0.1 + 2])
    kde = KernelDensity(x, k=4, h=0.2)
    gap = torch.zeros(1, 4, requires_grad=True)
    assert kde(x[:1]) > kde(gap) + 5
    near = (torch.full((1, 4), 1.5)).requires_grad_()
    kde(near).sum().backward()
    assert (near.grad > 0).all()  # uphill is towards the cluster at +2


def test_train_learns():
    """Four classes, one bright band each, 16 labels. Fails if the discriminator does
    not learn the classes (a constant prediction scores 0.25 on all 64)."""
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28) * 0.2
    y = torch.arange(64) % 4
    for k in range(4):
        x[y == k, :, 7 * k : 7 * k + 7] += 0.8
    D, G = Discriminator(hidden=(64, 32)), Generator(hidden=64)
    kde = KernelDensity(x, k=8)
    hist = train(D, G, x[:16], y[:16], x, steps=25, batch_size=16, density=kde, ema=0.0)
    assert set(hist) == {"d_loss", "g_loss", "sup", "ld"} and len(hist["g_loss"]) == 25
    assert sum(hist["sup"][-5:]) < 0.5 * sum(hist["sup"][:5])
    with torch.no_grad():
        assert (D.eval()(x).argmax(1) == y).float().mean() > 0.9
