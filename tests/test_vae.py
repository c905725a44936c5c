"""VAE: shapes, the analytic KL against a Monte Carlo estimate, the ELBO's reductions,
and that training lowers the loss."""

import torch

from vae import VAE, kl_normal, sample, train, vae_loss


def test_shapes():
    model = VAE(z_dim=3, width=4, hidden=32)
    x = torch.rand(5, 1, 28, 28).round()
    logits, mu, logvar = model(x)
    assert logits.shape == (5, 784) and mu.shape == (5, 3) and logvar.shape == (5, 3)
    assert sample(model, 7, "cpu").shape == (7, 784)


def test_analytic_kl_matches_monte_carlo():
    torch.manual_seed(0)
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3) * 0.5
    std = torch.exp(0.5 * logvar)
    z = mu + std * torch.randn(200_000, 4, 3)
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    mc = (log_q - log_p).mean(0)
    assert torch.allclose(kl_normal(mu, logvar), mc, atol=0.03, rtol=0.01)


def test_elbo_sums_over_pixels_and_latents_and_averages_over_batch():
    torch.manual_seed(1)
    x = torch.rand(6, 1, 28, 28).round()
    logits, mu, logvar = torch.randn(6, 784), torch.randn(6, 5), torch.randn(6, 5)
    loss, recon, kl = vae_loss(x, logits, mu, logvar)
    p = torch.sigmoid(logits)
    xf = x.flatten(1)
    by_hand_recon = -(xf * p.log() + (1 - xf) * (1 - p).log()).sum() / 6
    by_hand_kl = (
        sum(
            -0.5 * (1 + logvar[i, j] - mu[i, j] ** 2 - logvar[i, j].exp())
            for i in range(6)
            for j in range(5)
        )
        / 6
    )
    assert torch.allclose(recon, by_hand_recon, rtol=1e-4)
    assert torch.allclose(kl, by_hand_kl, rtol=1e-4)
    assert torch.allclose(loss, recon + kl)


def test_train_lowers_the_loss():
    torch.manual_seed(0)
    x = (torch.rand(128, 1, 28, 28) > 0.7).float()
    hist = train(
        VAE(z_dim=4, width=4, hidden=32),
        x,
        torch.device("cpu"),
        epochs=6,
        batch_size=32,
    )
    assert hist["train"][-1] < hist["train"][0] - 5
