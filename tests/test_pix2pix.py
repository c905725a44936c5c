import math

import torch
import torch.nn as nn

from pix2pix import PatchDiscriminator, UNet, outline, pix2pix_losses, train


def test_shapes():
    x = torch.rand(3, 1, 28, 28)
    G, D = UNet(width=8), PatchDiscriminator(width=8)
    out = G(x)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert D(x, out).shape == (3, 1, 7, 7)


class ConstD(nn.Module):
    """A discriminator that says logit 0 (probability 1/2) for every patch."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, src, out):
        return self.w * out[:, :, :7, :7]


def test_losses_match_the_formula_by_hand():
    torch.manual_seed(0)
    src, tgt = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    G = UNet(width=8).eval()
    losses = pix2pix_losses(G, ConstD(), src, tgt, lambda_l1=100.0)
    l1 = (G(src) - tgt).abs().mean()
    # D: -log(1/2) for real and for fake; G: -log(1/2) + 100 * L1
    assert math.isclose(losses["d_loss"].item(), 2 * math.log(2), rel_tol=1e-6)
    assert math.isclose(
        losses["g_loss"].item(), math.log(2) + 100 * l1.item(), rel_tol=1e-5
    )


def test_outline_is_outside_the_strokes():
    x = torch.zeros(1, 1, 28, 28)
    x[..., 10:18, 10:18] = 1
    o = outline(x)
    assert (
        o * x
    ).sum() == 0 and o.sum() == 10 * 10 - 8 * 8  # the ring around an 8x8 square


def test_train_learns():
    torch.manual_seed(0)
    tgt = torch.zeros(32, 1, 28, 28)
    tgt[:, :, 8:20, 8:20] = 1
    src = outline(tgt)
    G, D = UNet(width=8), PatchDiscriminator(width=8)
    hist = train(G, D, src, tgt, epochs=5, batch_size=16, lr=2e-3)
    assert hist[-1] < 0.7 * hist[0]
