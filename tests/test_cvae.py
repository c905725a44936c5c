"""Conditional VAE: shapes, the analytic KL of the encoder's posterior against a Monte
Carlo estimate, the conditional importance-weighted bound, and that training learns to
draw the requested class (which a decoder that ignores y cannot)."""

import torch

from cvae import CVAE, cvae_loss, iw_nll, kl_normal, sample, train


def test_shapes():
    model = CVAE(z_dim=3, width=4, hidden=32)
    x, y = torch.rand(5, 1, 28, 28).round(), torch.arange(5)
    logits, mu, logvar = model(x, y)
    assert logits.shape == (5, 784) and mu.shape == (5, 3) and logvar.shape == (5, 3)
    assert sample(model, [0, 9]).shape == (2, 1, 28, 28)


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


def test_importance_weighted_bound_lies_below_the_elbo():
    """k = 1 is the -ELBO in expectation and k = 200 is tighter, but only slightly at
    initialisation (the posterior is then close to the prior). Fails if the weights
    drop log p(z) or log q(z|x, y), or if log k is not subtracted (that lowers the
    estimate by log k)."""
    torch.manual_seed(0)
    model = CVAE(z_dim=2, width=4, hidden=32)
    x, y = (torch.rand(16, 1, 28, 28) > 0.5).float(), torch.arange(16) % 10
    with torch.no_grad():
        neg_elbo = torch.stack([cvae_loss(x, *model(x, y))[0] for _ in range(400)])
    one = sum(iw_nll(model, x, y, k=1) for _ in range(50)) / 50
    assert abs(one - neg_elbo.mean().item()) < 0.2
    assert 0 < one - iw_nll(model, x, y, k=200) < 0.5


def test_decoder_output_depends_on_the_label():
    """The same z decoded with two labels gives two images. Fails if the decoder
    ignores y (drops it, or zeroes its one-hot)."""
    torch.manual_seed(0)
    model = CVAE(z_dim=3, width=4, hidden=32)
    z = torch.randn(5, 3)
    with torch.no_grad():
        a, b = (
            model.decode(z, torch.zeros(5, dtype=torch.long)),
            model.decode(z, 1 + 0 * torch.arange(5)),
        )
    assert (a - b).abs().mean() > 1e-3


def test_training_learns_to_write_the_label():
    """Each of four labels fixes one random binary pattern (two patterns share about
    half their pixels). After training, a digit's posterior mean decoded with its own
    label gives back its pattern, and decoded with the next label gives (mostly) that
    label's pattern. Fails if the decoder ignores y (the label then changes nothing,
    and all the information must pass through z)."""
    torch.manual_seed(0)
    protos = (torch.rand(4, 784) > 0.6).float()
    y = torch.randint(4, (256,))
    x = protos[y].view(-1, 1, 28, 28)
    model = CVAE(z_dim=2, n_classes=4, width=8, hidden=64)
    hist = train(model, x, y, epochs=25, batch_size=32, lr=1e-2)
    assert set(hist) == {"loss", "kl"} and len(hist["loss"]) == 25
    with torch.no_grad():
        mu, _ = model.encode(x[:64], y[:64])
        own = torch.sigmoid(model.decode(mu, y[:64])) > 0.5
        swapped = torch.sigmoid(model.decode(mu, (y[:64] + 1) % 4)) > 0.5
    agree = lambda out, c: (out.float() == protos[c]).float().mean().item()  # noqa: E731
    assert agree(own, y[:64]) > 0.97
    assert agree(swapped, (y[:64] + 1) % 4) > agree(swapped, y[:64]) + 0.1
