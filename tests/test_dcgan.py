"""Tests for code/dcgan.py: shapes, the paper's architecture rules, slerp, and that
train learns."""

import torch
import torch.nn as nn

from dcgan import DCDiscriminator, DCGenerator, discriminator_loss, slerp, train


def test_shapes():
    G, D = DCGenerator(z_dim=8, width=8), DCDiscriminator(width=8)
    x = G(torch.randn(3, 8))
    assert x.shape == (3, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert D(x).shape == (3,)


def test_architecture_rules():
    G, D = DCGenerator(z_dim=8, width=8), DCDiscriminator(width=8)
    for net in (G, D):
        kinds = [type(m) for m in net.modules()]
        assert (
            nn.Linear not in kinds
            and nn.MaxPool2d not in kinds
            and nn.AvgPool2d not in kinds
        )
        assert nn.BatchNorm2d in kinds
    assert isinstance(D.net[0], nn.Conv2d) and D.net[0].stride == (
        2,
        2,
    )  # no BN on D's input
    assert not isinstance(D.net[1], nn.BatchNorm2d)
    assert isinstance(G.net[-1], nn.Sigmoid) and not isinstance(
        G.net[-2], nn.BatchNorm2d
    )


def test_slerp_stays_on_the_sphere():
    z0, z1 = torch.randn(2, 16)
    z1 = z1 * z0.norm() / z1.norm()  # same radius
    path = slerp(z0, z1, torch.linspace(0, 1, 7))
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(
        path[-1], z1, atol=1e-5
    )
    assert torch.allclose(path.norm(dim=1), z0.norm().expand(7), rtol=1e-4)


def test_train_learns():
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 28, 28)
    images[:, :, 10:18, 10:18] = 1.0  # one white square
    G, D = DCGenerator(z_dim=8, width=8), DCDiscriminator(width=8)
    z = torch.randn(32, 8)
    err = lambda: (G.eval()(z) - images[:32]).abs().mean().item()  # noqa: E731
    before = err()
    hist = train(G, D, images, steps=60, batch=32, lr=2e-3)
    assert len(hist["d_loss"]) == 60 and err() < 0.5 * before
    assert discriminator_loss(D, images[:4], G(z[:4])).item() > 0
