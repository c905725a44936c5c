"""Tests for code/dcgan.py: shapes, the paper's architecture rules, slerp, and that
train learns."""

import torch
import torch.nn as nn

from dcgan import DCDiscriminator, DCGenerator, slerp, train


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


def test_init_follows_the_paper():
    """Fails if the N(0, 0.02) initialisation is not applied (PyTorch's default gives a
    convolution's weights a spread that depends on its fan-in)."""
    torch.manual_seed(0)
    G, D = DCGenerator(z_dim=16, width=16), DCDiscriminator(width=16)
    for m in list(G.modules()) + list(D.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            assert abs(m.weight.std().item() - 0.02) < 0.004
        if isinstance(m, nn.BatchNorm2d):
            assert abs(m.weight.mean().item() - 1) < 0.01 and m.bias.abs().max() == 0


def test_no_norm_ablation_drops_every_batch_norm():
    """Fails if the ablation keeps a batch norm somewhere."""
    for net in (DCGenerator(8, 8, norm=False), DCDiscriminator(8, norm=False)):
        assert nn.BatchNorm2d not in [type(m) for m in net.modules()]


def test_train_learns():
    """Fails for an all-black, constant-grey or untrained generator: after training, the
    samples must be bright inside the square and dark outside it."""
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 28, 28)
    images[:, :, 10:18, 10:18] = 1.0  # one white square
    inside = images[0, 0].bool()
    G, D = DCGenerator(z_dim=8, width=8), DCDiscriminator(width=8)
    hist = train(G, D, images, steps=60, batch_size=32, lr=5e-3, seed=0)
    with torch.no_grad():
        x = G.eval()(torch.randn(32, 8))[:, 0]
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 60
    assert x[:, inside].mean() > 0.7 and x[:, ~inside].mean() < 0.2
