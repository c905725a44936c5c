"""Neural Process: shapes, invariance to the order of the context set, the KL term
against its formula, and that training lowers the loss."""

import torch

from neural_process import NeuralProcess, log_likelihood, np_loss, pixel_grid, train


def small():
    torch.manual_seed(0)
    return NeuralProcess(h=32, r_dim=16, z_dim=4)


def test_shapes():
    model = small()
    xc, yc, xt = torch.randn(3, 10, 2), torch.rand(3, 10, 1), torch.randn(3, 7, 2)
    mean, std = model(xc, yc, xt)
    assert mean.shape == std.shape == (3, 7, 1) and (std > 0).all()
    assert pixel_grid().shape == (784, 2)


def test_permutation_invariance_of_context():
    model = small()
    xc, yc, xt = torch.randn(2, 20, 2), torch.rand(2, 20, 1), torch.randn(2, 5, 2)
    z = torch.randn(2, 4)
    perm = torch.randperm(20)
    m1, s1 = model(xc, yc, xt, z=z)
    m2, s2 = model(xc[:, perm], yc[:, perm], xt, z=z)
    assert torch.allclose(m1, m2, atol=1e-6) and torch.allclose(s1, s2, atol=1e-6)
    mu1, sg1 = model.latent(xc, yc)
    mu2, sg2 = model.latent(xc[:, perm], yc[:, perm])
    assert torch.allclose(mu1, mu2, atol=1e-6) and torch.allclose(sg1, sg2, atol=1e-6)


def test_kl_vanishes_when_targets_equal_context():
    model = small()
    x, y = torch.randn(2, 30, 2), torch.rand(2, 30, 1)
    torch.manual_seed(1)
    loss = np_loss(model, x, y, x, y)
    torch.manual_seed(1)
    mu, sigma = model.latent(x, y)
    z = mu + sigma * torch.randn_like(mu)
    mean, std = model(x, y, x, z=z)
    nll = -torch.distributions.Normal(mean, std).log_prob(y).sum((1, 2)).mean()
    assert torch.allclose(loss, nll, atol=1e-5)


def test_train_lowers_the_loss():
    torch.manual_seed(0)
    imgs = torch.zeros(16, 1, 28, 28)
    imgs[:, :, 8:20, 8:20] = 1.0
    model = small()
    hist = train(
        model, imgs, torch.device("cpu"), steps=60, batch_size=4, n_target=100, lr=2e-3
    )
    assert sum(hist[-10:]) / 10 < sum(hist[:10]) / 10 - 10
    assert log_likelihood(model, imgs[:2], 20, "cpu", samples=2) < 5
