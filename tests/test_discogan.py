import math

import torch
import torch.nn as nn

from discogan import Discriminator, Generator, discogan_losses, train


def test_shapes():
    x = torch.rand(3, 1, 28, 28)
    out = Generator(8)(x)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    assert Discriminator(8)(x).shape == (3, 1)


class Const(nn.Module):
    """A discriminator that says logit 0 for every image."""

    def forward(self, x):
        return torch.zeros(len(x), 1)


def test_losses_match_the_paper_formula_by_hand():
    a, b = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    G_ab, G_ba = nn.Identity(), (lambda x: 1 - x)
    g_loss, d_loss, recon = discogan_losses(G_ab, G_ba, Const(), Const(), a, b)
    # reconstructions: 1 - a and 1 - b, squared error averaged per pixel
    want_recon = ((1 - a - a) ** 2).mean() + ((1 - b - b) ** 2).mean()
    assert torch.isclose(recon, want_recon)
    # D(.) = 1/2 everywhere: each BCE term is log 2
    assert math.isclose(
        g_loss.item(), 2 * math.log(2) + want_recon.item(), rel_tol=1e-5
    )
    assert math.isclose(d_loss.item(), 4 * math.log(2), rel_tol=1e-5)


def test_train_learns():
    torch.manual_seed(0)
    xa = torch.zeros(32, 1, 28, 28)
    xa[:, :, 8:20, 12:16] = 1
    xb = 1 - xa
    nets = Generator(8), Generator(8), Discriminator(8), Discriminator(8)
    hist = train(*nets, xa, xb, steps=40, batch_size=8, lr=2e-3)
    assert sum(hist["recon"][-5:]) < 0.8 * sum(hist["recon"][:5])
