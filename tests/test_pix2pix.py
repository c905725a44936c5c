import math

import torch
import torch.nn as nn

from pix2pix import PatchDiscriminator, UNet, d_loss, g_loss, top_half, train, translate


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
    """Fails if the L1 weight is applied to the adversarial term, or a BCE term is
    dropped."""
    torch.manual_seed(0)
    src, tgt = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    G = UNet(width=8).eval()
    fake = G(src)
    l1 = (fake - tgt).abs().mean()
    # D: -log(1/2) for real and for fake; G: -log(1/2) + 100 * L1
    assert math.isclose(
        d_loss(ConstD(), src, tgt, fake).item(), 2 * math.log(2), rel_tol=1e-6
    )
    loss, l1_out = g_loss(ConstD(), src, tgt, fake, lambda_l1=100.0)
    assert math.isclose(loss.item(), math.log(2) + 100 * l1.item(), rel_tol=1e-5)
    assert torch.isclose(l1_out, l1)
    # without D, the loss is L1 alone
    assert torch.isclose(g_loss(None, src, tgt, fake)[0], l1)


def test_patch_receptive_field_is_18_pixels():
    """The docstring's 18x18 window: the centre logit's gradient reaches exactly an
    18-pixel span of the input. Fails if the patch is 10x10 (a last layer of kernel 1)
    or the whole image (a fully connected head)."""
    D = PatchDiscriminator(width=4).eval()
    src = torch.rand(1, 1, 28, 28, requires_grad=True)
    D(src, torch.rand(1, 1, 28, 28))[0, 0, 3, 3].backward()
    rows = torch.nonzero(src.grad[0, 0].abs().sum(1)).flatten()
    assert rows.max() - rows.min() + 1 == 18


def test_discriminator_is_conditional():
    """Fails if D judges the output alone (an unconditional GAN): the same output next
    to another input must get another verdict."""
    torch.manual_seed(0)
    D, out = PatchDiscriminator(width=8).eval(), torch.rand(2, 1, 28, 28)
    assert not torch.allclose(
        D(torch.rand(2, 1, 28, 28), out), D(torch.zeros_like(out), out)
    )


def test_top_half_blanks_the_bottom_only():
    x = torch.rand(2, 1, 28, 28)
    h = top_half(x)
    assert (
        torch.equal(h[..., :14, :], x[..., :14, :]) and h[..., 14:, :].abs().sum() == 0
    )


def test_train_learns_to_complete():
    """Squares at random columns, their top half in, the whole square out. Fails for a
    generator that outputs a constant image (the best constant is the mean target) or
    only copies the visible half: measured on the hidden half."""
    torch.manual_seed(0)
    tgt = torch.zeros(64, 1, 28, 28)
    for i, c in enumerate(torch.randint(2, 18, (64,))):
        tgt[i, :, 8:20, c : c + 8] = 1
    src = top_half(tgt)
    G, D = UNet(width=8), PatchDiscriminator(width=8)
    hist = train(G, D, src, tgt, epochs=10, batch_size=16, lr=3e-3)
    assert set(hist) == {"d_loss", "g_loss", "l1"} and len(hist["l1"]) == 10
    bottom = lambda o: (o - tgt)[..., 14:, :].abs().mean()  # noqa: E731
    constant, copy = bottom(tgt.mean(0, keepdim=True)), bottom(src)
    assert bottom(translate(G, src)) < 0.5 * min(constant, copy)
