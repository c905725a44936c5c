import math

import torch
import torch.nn as nn
import torch.nn.functional as F

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
    """Fails if the reconstruction is an L1 (CycleGAN's) or is weighted other than
    w_recon, or a GAN term is missing."""
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
    g0, _, _ = discogan_losses(G_ab, G_ba, Const(), Const(), a, b, w_recon=0.0)
    assert math.isclose(g0.item(), 2 * math.log(2), rel_tol=1e-5)


def test_train_learns():
    """Bars at random places, thin in A and thick in B. The reconstruction error on the
    training images must fall below what one fixed output image reaches; fails if the
    generators stop learning or collapse to one image."""
    torch.manual_seed(0)
    xa = torch.zeros(32, 1, 28, 28)
    for i, (r, c) in enumerate(torch.randint(4, 16, (32, 2))):
        xa[i, :, r : r + 8, c : c + 4] = 1
    xb = F.max_pool2d(xa, 3, 1, 1)
    nets = Generator(16), Generator(16), Discriminator(16), Discriminator(16)
    hist = train(*nets, xa, xb, steps=200, batch_size=8, lr=2e-3)
    assert set(hist) == {"d_loss", "g_loss", "recon"} and len(hist["recon"]) == 200
    G_ab, G_ba = nets[0].eval(), nets[1].eval()
    with torch.no_grad():
        rec = F.mse_loss(G_ba(G_ab(xa)), xa) + F.mse_loss(G_ab(G_ba(xb)), xb)
    constant = sum(min((x**2).mean(), x.var(0).mean()) for x in (xa, xb))
    assert rec < 0.5 * constant
