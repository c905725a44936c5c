"""Tests for code/gan.py: shapes, the losses against their formulas, mode counting,
learning."""

import math

import torch

from gan import (
    Discriminator,
    Generator,
    balanced_quality,
    discriminator_loss,
    generator_loss,
    mode_stats,
    ring,
    train,
)


def test_shapes():
    G, D = (
        Generator(z_dim=8, out_dim=784, hidden=32, depth=2, out="sigmoid", norm=True),
        Discriminator(in_dim=784, hidden=32, depth=2),
    )
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 784) and x.min() >= 0 and x.max() <= 1
    assert D(x.view(5, 1, 28, 28)).shape == (5,)


def test_losses_match_formulas():
    d_real, d_fake = torch.tensor([2.0, -0.5]), torch.tensor([0.3, -1.0])
    sig = torch.sigmoid
    by_hand_d = -(torch.log(sig(d_real)).mean() + torch.log(1 - sig(d_fake)).mean())
    by_hand_g = -torch.log(sig(d_fake)).mean()
    assert torch.allclose(discriminator_loss(d_real, d_fake), by_hand_d, atol=1e-6)
    assert torch.allclose(generator_loss(d_fake), by_hand_g, atol=1e-6)
    # at D's optimum for p_g = p_data (D = 1/2 everywhere) its loss is 2 log 2
    assert math.isclose(
        discriminator_loss(torch.zeros(3), torch.zeros(3)).item(),
        2 * math.log(2),
        rel_tol=1e-6,
    )


def test_mode_stats_counts_modes():
    data, centers = ring(4000, seed=1)
    q, k = mode_stats(data, centers)
    # radius of a 2-D isotropic Gaussian is Rayleigh: P(r <= 3 std) = 1 - exp(-9/2) =
    # 0.989
    assert abs(q - (1 - math.exp(-4.5))) < 0.01 and k == 8
    three = data[torch.cdist(data, centers).argmin(1) < 3]  # only modes 0, 1, 2
    assert mode_stats(three, centers)[1] == 3
    assert mode_stats(torch.zeros(100, 2), centers) == (0.0, 0)  # the centre is no mode


def test_balanced_quality_credits_each_mode_once():
    """Fails if samples piled onto one mode count in full (the plain share within 3 std,
    which a collapsed generator maxes out) or if the cap is not 1/modes."""
    data, centers = ring(8000, seed=2)
    assert abs(balanced_quality(data, centers) - (1 - math.exp(-4.5))) < 0.02
    collapsed = centers[3] + 0.02 * torch.randn(1000, 2)
    assert mode_stats(collapsed, centers)[0] > 0.95  # the plain share is fooled
    assert abs(balanced_quality(collapsed, centers) - 1 / 8) < 0.01
    half = data[torch.cdist(data, centers).argmin(1) < 4]  # four modes, evenly
    assert abs(balanced_quality(half, centers) - 0.5) < 0.02


def test_train_learns():
    """Fails for a generator that does not move, or one that collapses onto one point
    (even a mode's centre): the samples must come near the modes and cover several."""
    torch.manual_seed(0)
    data, centers = ring(2000)
    G, D = Generator(z_dim=2, hidden=64), Discriminator(hidden=64)
    z = torch.randn(500, 2)
    with torch.no_grad():
        before = torch.cdist(G(z), centers).min(1).values.mean()
    hist = train(G, D, data, steps=300, batch_size=64, lr=1e-3, seed=0)
    with torch.no_grad():
        after = torch.cdist(G(z), centers).min(1).values.mean()
        near = torch.cdist(G(z), centers).min(1).values < 0.3
        reached = torch.cdist(G(z)[near], centers).argmin(1).unique()
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 300
    assert after < 0.5 * before and len(reached) >= 4


def test_seed_makes_training_repeatable():
    """Fails if train draws its batches or noise from an unseeded generator."""
    data, _ = ring(500)
    out = []
    for other in (123, 456):
        torch.manual_seed(0)
        G, D = Generator(z_dim=2, hidden=16), Discriminator(hidden=16)
        torch.manual_seed(other)  # the global stream differs between the two runs
        out.append(train(G, D, data, steps=5, batch_size=32, seed=7)["g_loss"])
    assert out[0] == out[1]
