import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from badgan import Discriminator, Generator, d_loss, kplus1_log_probs, train


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
    _, parts = d_loss(D, xl, y, xu, xf, w_ent=0.0)
    p_real_u = 1 - lp[2:5, -1].exp()
    p_fake_f = lp[5:7, -1].exp()
    assert math.isclose(parts["real"], -p_real_u.log().mean().item(), rel_tol=1e-5)
    assert math.isclose(parts["fake"], -p_fake_f.log().mean().item(), rel_tol=1e-5)
    assert math.isclose(
        parts["sup"], F.cross_entropy(table[:2], y).item(), rel_tol=1e-5
    )


def test_train_learns():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28) * 0.2
    y = torch.arange(64) % 4
    for k in range(4):
        x[y == k, :, 7 * k : 7 * k + 7] += 0.8
    D, G = Discriminator(hidden=(64, 32)), Generator(hidden=64)
    hist = train(D, G, x[:16], y[:16], x, steps=25, batch_size=16)
    assert sum(hist["sup"][-5:]) < 0.5 * sum(hist["sup"][:5])
