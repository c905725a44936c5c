import torch
import torch.nn as nn
import torch.nn.functional as F

from cyclegan import (
    Generator,
    PatchDiscriminator,
    cycle_loss,
    cyclegan_losses,
    d_loss,
    train,
)


def test_shapes():
    x = torch.rand(2, 1, 28, 28)
    out = Generator(8, 1)(x)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    assert PatchDiscriminator(8)(x).shape == (2, 1, 7, 7)


def test_cycle_loss_is_zero_for_identity_generators():
    a, b = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    loss, fake_a, fake_b = cycle_loss(nn.Identity(), nn.Identity(), a, b)
    assert loss.item() == 0.0 and torch.equal(fake_a, b) and torch.equal(fake_b, a)
    # and is not zero for generators that do not undo each other
    loss2, _, _ = cycle_loss(nn.Identity(), lambda x: 1 - x, a, b)
    assert loss2.item() > 0.1


def test_generator_loss_weights_and_identity_term_by_hand():
    """G_AB inverts, G_BA is the identity, D_A and D_B say 0.25 and 0.5 everywhere.
    Fails if the cycle and identity weights are swapped, or if the identity term feeds
    each generator its input domain (G_AB(a) instead of G_AB(b))."""
    a, b = torch.full((2, 1, 28, 28), 0.1), torch.full((2, 1, 28, 28), 0.7)
    G_ab, G_ba = (lambda x: 1 - x), nn.Identity()
    D_a, D_b = (
        (lambda x: torch.full((len(x), 1, 7, 7), 0.25)),
        (lambda x: torch.full((len(x), 1, 7, 7), 0.5)),
    )
    loss, parts, _, _ = cyclegan_losses(G_ab, G_ba, D_a, D_b, a, b, lam=3.0, lam_id=2.0)
    adv = (0.5 - 1) ** 2 + (0.25 - 1) ** 2
    cyc = abs((1 - 0.1) - 0.1) + abs((1 - 0.7) - 0.7)  # G_BA(G_AB(a)), G_AB(G_BA(b))
    idt = abs((1 - 0.7) - 0.7) + 0.0  # |G_AB(b) - b| + |G_BA(a) - a|
    assert torch.isclose(parts["cycle"], torch.tensor(cyc))
    assert torch.isclose(parts["identity"], torch.tensor(idt))
    assert torch.isclose(loss, torch.tensor(adv + 3.0 * cyc + 2.0 * idt))


def test_lsgan_discriminator_loss_by_hand():
    D = lambda x: x.mean((1, 2, 3), keepdim=True)  # noqa: E731
    real, fake = torch.full((3, 1, 28, 28), 0.25), torch.full((3, 1, 28, 28), 0.5)
    assert torch.isclose(
        d_loss(D, real, fake), torch.tensor(0.5 * ((0.25 - 1) ** 2 + 0.5**2))
    )


def test_train_learns():
    """Bars at random places, thin in A and thick in B. The cycle error on the training
    images must fall below what a constant output reaches (the mean image); fails if
    the generators stop learning or collapse to one image."""
    torch.manual_seed(0)
    xa = torch.zeros(32, 1, 28, 28)
    for i, (r, c) in enumerate(torch.randint(4, 16, (32, 2))):
        xa[i, :, r : r + 8, c : c + 4] = 1
    xb = F.max_pool2d(xa, 3, 1, 1)
    nets = (
        Generator(8, 1),
        Generator(8, 1),
        PatchDiscriminator(8),
        PatchDiscriminator(8),
    )
    hist = train(*nets, xa, xb, steps=200, batch_size=8, lr=2e-3, lam=10.0, lam_id=0.0)
    assert set(hist) >= {"d_loss", "g_loss", "cycle"} and len(hist["g_loss"]) == 200
    with torch.no_grad():
        cyc, _, _ = cycle_loss(nets[0].eval(), nets[1].eval(), xa, xb)
    assert cyc < 0.5 * best_constant_l1(xa, xb)


def best_constant_l1(*domains):
    """The cycle L1 of generators that output one fixed image (all black or the mean
    image, whichever is closer)."""
    return sum(min(x.abs().mean(), (x - x.mean(0)).abs().mean()) for x in domains)
