"""Conditional VAE: shapes, the analytic KL of the encoder's posterior against a Monte
Carlo estimate, and that training lowers the loss."""

import torch

from cvae import CVAE, cvae_loss, kl_normal, sample, train


def test_shapes():
    model = CVAE(z_dim=3, width=4, hidden=32)
    x, y = torch.rand(5, 1, 28, 28).round(), torch.arange(5)
    logits, mu, logvar = model(x, y)
    assert logits.shape == (5, 784) and mu.shape == (5, 3) and logvar.shape == (5, 3)
    assert sample(model, [0, 9], "cpu").shape == (2, 1, 28, 28)


def test_analytic_kl_matches_monte_carlo():
    torch.manual_seed(0)
    model = CVAE(z_dim=3, width=4, hidden=32)
    with torch.no_grad():
        for p in model.enc[-1].parameters():  # spread the posteriors away from N(0, I)
            p.normal_(0, 0.3)
        mu, logvar = model.encode(torch.rand(4, 1, 28, 28), torch.arange(4))
    std = torch.exp(0.5 * logvar)
    z = mu + std * torch.randn(200_000, 4, 3)
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    assert torch.allclose(
        kl_normal(mu, logvar), (log_q - log_p).mean(0), atol=0.03, rtol=0.01
    )
    x = torch.rand(4, 1, 28, 28).round()
    loss, recon, kl = cvae_loss(x, torch.zeros(4, 784), mu, logvar)
    assert torch.allclose(
        recon, torch.tensor(784 * 0.6931472), rtol=1e-5
    )  # p = 1/2 per pixel
    assert torch.allclose(loss, recon + kl_normal(mu, logvar).mean())


def test_train_lowers_the_loss():
    torch.manual_seed(0)
    x, y = (torch.rand(128, 1, 28, 28) > 0.7).float(), torch.randint(0, 10, (128,))
    hist = train(
        CVAE(z_dim=4, width=4, hidden=32),
        x,
        y,
        torch.device("cpu"),
        epochs=6,
        batch_size=32,
    )
    assert hist["loss"][-1] < hist["loss"][0] - 5
