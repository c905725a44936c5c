"""Tests for code/wgan.py: shapes, the gradient penalty on a quadratic critic, the
critic's loss, weight clipping, and that train learns."""

import torch
import torch.nn as nn

from wgan import Critic, Generator, critic_loss, gradient_penalty, train


def test_shapes():
    G, f = Generator(z_dim=8, width=8), Critic(width=8)
    x = G(torch.randn(3, 8))
    assert x.shape == (3, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert f(x).shape == (3,)
    assert nn.BatchNorm2d not in [type(m) for m in f.modules()]


def test_gradient_penalty_at_points_between_real_and_fake():
    """Fails if the penalty is taken at the real or the fake samples, with one epsilon
    for the whole batch, with epsilon not uniform on [0, 1], or without a graph for the
    critic's own gradient. The critic f(x) = a/2 |x|^2 has gradient a x, so with real
    samples at 2 e_1 and fakes at 0 the penalty is E(2 a eps - 1)^2: 1/3 at a = 1
    (at the reals or the fakes it would be 1, with eps = 1/2 zero), and its derivative
    in a is 2 E[(2 a eps - 1) 2 eps] = 2/3."""
    torch.manual_seed(0)
    a = torch.tensor(1.0, requires_grad=True)
    f = lambda x: 0.5 * a * x.flatten(1).pow(2).sum(1)  # noqa: E731
    real = torch.zeros(20000, 1, 2, 2)
    real[:, 0, 0, 0] = 2.0
    fake = torch.zeros_like(real)
    values = [gradient_penalty(f, real[i::4], fake[i::4]) for i in range(4)]
    for v in values:  # one epsilon per batch would miss 1/3 in most of four batches
        assert abs(v.item() - 1 / 3) < 0.02
    (grad,) = torch.autograd.grad(sum(values) / 4, a)
    assert abs(grad.item() - 2 / 3) < 0.02


def test_critic_loss_is_the_negative_wasserstein_estimate():
    """Fails if the signs of E f(real) and E f(fake) are swapped or the estimate is not
    their difference."""
    torch.manual_seed(0)
    lin = nn.Linear(20, 1)
    f = lambda x: lin(x).squeeze(1)  # noqa: E731
    real, fake = torch.randn(16, 20) + 1, torch.randn(16, 20)
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
        batch_size=16,
        clip=0.01,
        lr=1e-2,
    )
    assert max(p.abs().max().item() for p in f.parameters()) <= 0.01 + 1e-7


def test_train_learns():
    """Fails for an all-black, constant-grey or untrained generator: after training, the
    samples must be bright inside the square and dark outside it."""
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 28, 28)
    images[:, :, 10:18, 10:18] = 1.0  # one white square
    inside = images[0, 0].bool()
    G, f = Generator(z_dim=8, width=8), Critic(width=8)
    hist = train(
        G,
        f,
        images,
        variant="gp",
        steps=120,
        n_critic=2,
        batch_size=32,
        lr=1e-2,
        seed=0,
    )
    with torch.no_grad():
        x = G.eval()(torch.randn(32, 8))[:, 0]
    assert len(hist["w_estimate"]) == len(hist["d_loss"]) == len(hist["g_loss"]) == 120
    assert x[:, inside].mean() > 0.7 and x[:, ~inside].mean() < 0.2
