import torch
import torch.nn as nn

from cyclegan import Generator, PatchDiscriminator, cycle_loss, d_loss, restyle, train


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


def test_lsgan_discriminator_loss_by_hand():
    D = lambda x: x.mean((1, 2, 3), keepdim=True)  # noqa: E731
    real, fake = torch.full((3, 1, 28, 28), 0.25), torch.full((3, 1, 28, 28), 0.5)
    assert torch.isclose(
        d_loss(D, real, fake), torch.tensor(0.5 * ((0.25 - 1) ** 2 + 0.5**2))
    )


def test_train_learns():
    torch.manual_seed(0)
    xa = torch.zeros(32, 1, 28, 28)
    xa[:, :, 10:18, 12:16] = 1
    xb = restyle(xa)
    nets = (
        Generator(8, 1),
        Generator(8, 1),
        PatchDiscriminator(8),
        PatchDiscriminator(8),
    )
    hist = train(*nets, xa, xb, steps=30, batch_size=8, lr=2e-3)
    assert sum(hist["cycle"][-5:]) < 0.5 * sum(hist["cycle"][:5])
