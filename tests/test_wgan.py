"""Tests for code/wgan.py: shapes, the gradient penalty against a hand computation on a
linear critic, weight clipping, and that train learns."""

import torch
import torch.nn as nn

from wgan import Critic, Generator, critic_loss, gradient_penalty, train


def test_shapes():
    G, f = Generator(z_dim=8, width=8), Critic(width=8)
    x = G(torch.randn(3, 8))
    assert x.shape == (3, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert f(x).shape == (3,)
    assert nn.BatchNorm2d not in [type(m) for m in f.modules()]


def test_gradient_penalty_on_linear_critic():
    # f(x) = w . x + b has gradient w everywhere, so the penalty is exactly (|w| - 1)^2
    torch.manual_seed(0)
    lin = nn.Linear(20, 1)
    f = lambda x: lin(x).squeeze(1)  # noqa: E731
    real, fake = torch.randn(16, 20), torch.randn(16, 20)
    expected = (lin.weight.norm() - 1) ** 2
    assert torch.allclose(gradient_penalty(f, real, fake), expected, atol=1e-5)
    with torch.no_grad():
        lin.weight.mul_(1 / lin.weight.norm())  # a 1-Lipschitz critic
    assert gradient_penalty(f, real, fake).item() < 1e-10
    loss, w_est = critic_loss(f, real, fake, gp_weight=0.0)
    hand = (lin(real).mean() - lin(fake).mean()).item()
    assert abs(w_est - hand) < 1e-5 and abs(loss.item() + hand) < 1e-5


def test_clipping_keeps_weights_in_range():
    G, f = Generator(z_dim=8, width=8), Critic(width=8)
    train(
        G,
        f,
        torch.rand(64, 1, 28, 28),
        variant="clip",
        steps=2,
        n_critic=2,
        batch=16,
        clip=0.01,
        lr=1e-2,
    )
    assert max(p.abs().max().item() for p in f.parameters()) <= 0.01 + 1e-7


def test_train_learns():
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 28, 28)
    images[:, :, 10:18, 10:18] = 1.0  # one white square
    G, f = Generator(z_dim=8, width=8), Critic(width=8)
    z = torch.randn(32, 8)
    err = lambda: (G.eval()(z) - images[:32]).abs().mean().item()  # noqa: E731
    before = err()
    hist = train(G, f, images, variant="gp", steps=40, n_critic=2, batch=32, lr=2e-3)
    assert len(hist["w_estimate"]) == 40 and err() < 0.7 * before
