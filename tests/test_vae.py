"""VAE: shapes, the analytic KL against a Monte Carlo estimate, the ELBO's reductions,
the importance-weighted -log p(x) against numerical integration, the score-function
ablation's estimator by hand, and that training learns what independent pixels
cannot."""

import math

import torch
import torch.nn.functional as F

from vae import VAE, iw_nll, kl_normal, sample, score_function_loss, train, vae_loss


def test_shapes():
    model = VAE(z_dim=3, width=4, hidden=32)
    x = torch.rand(5, 1, 28, 28).round()
    logits, mu, logvar = model(x)
    assert logits.shape == (5, 784) and mu.shape == (5, 3) and logvar.shape == (5, 3)
    assert sample(model, 7).shape == (7, 784)


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


def test_importance_weighted_nll_matches_numerical_integration():
    """With one latent dimension, -log p(x) = -log of the integral of p(x|z) N(z; 0, 1)
    dz is computed on a grid; the k = 2,000 estimate must match it, and lie well below
    the -ELBO. Fails if log p(z) or log q(z|x) is left out of the weights, if the
    weights are averaged in log space (that is the ELBO again), or if log k is not
    subtracted."""
    torch.manual_seed(0)
    model = VAE(z_dim=1, width=2, hidden=8)
    with torch.no_grad():
        for p in model.dec.parameters():
            p.mul_(2.5)  # a likelihood that depends on z, so the ELBO is loose
        z_true = torch.tensor([[1.0], [-0.5], [0.3]])
        x = torch.bernoulli(torch.sigmoid(model.decode(z_true))).view(3, 1, 28, 28)
    z = torch.linspace(-8, 8, 4001)[:, None]
    with torch.no_grad():
        log_px_z = -F.binary_cross_entropy_with_logits(
            model.decode(z)[None].expand(3, -1, -1),
            x.flatten(1)[:, None].expand(-1, len(z), -1),
            reduction="none",
        ).sum(-1)
    log_pz = -0.5 * z[:, 0] ** 2 - 0.5 * math.log(2 * math.pi)
    exact = -(torch.logsumexp(log_px_z + log_pz, 1) + math.log(z[1, 0] - z[0, 0]))
    torch.manual_seed(1)
    estimate = iw_nll(model, x, k=2000)
    assert abs(estimate - exact.mean().item()) < 0.2
    torch.manual_seed(1)
    with torch.no_grad():
        neg_elbo = torch.stack([vae_loss(x, *model(x))[0] for _ in range(200)]).mean()
    assert estimate < neg_elbo.item() - 5


def test_score_function_ablation_has_no_pathwise_gradient():
    """The ablation's encoder gradient is the KL's plus (recon - batch mean) times the
    gradient of log q(z|x) at a z held fixed. Fails if z keeps its path to (mu, sigma)
    (the ablation would then be the reparameterised VAE), if the baseline is dropped,
    or if the sign of the score term is flipped."""
    torch.manual_seed(0)
    model = VAE(z_dim=3, width=4, hidden=32)
    x = (torch.rand(8, 1, 28, 28) > 0.6).float()
    enc = list(model.enc.parameters())
    torch.manual_seed(1)
    surrogate, neg_elbo, _ = score_function_loss(model, x)
    got = torch.autograd.grad(surrogate, enc)
    torch.manual_seed(1)
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    z = mu.detach() + std.detach() * torch.randn_like(mu)
    recon = F.binary_cross_entropy_with_logits(
        model.decode(z), x.flatten(1), reduction="none"
    ).sum(1)
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(1)
    by_hand = (kl_normal(mu, logvar) + (recon - recon.mean()).detach() * log_q).mean()
    want = torch.autograd.grad(by_hand, enc)
    assert all(torch.allclose(g, w, atol=1e-5) for g, w in zip(got, want))
    assert torch.allclose(neg_elbo, (recon + kl_normal(mu, logvar)).mean())


def test_train_learns_what_independent_pixels_cannot():
    """Four binary prototypes with 2% of pixels flipped: a decoder that ignores z (a
    constant output) can do no better than independent pixels; the trained VAE must
    beat that by a wide margin."""
    torch.manual_seed(0)
    protos = (torch.rand(4, 784) > 0.6).float()
    x = protos[torch.randint(4, (256,))]
    x = torch.where(torch.rand_like(x) < 0.02, 1 - x, x).view(-1, 1, 28, 28)
    p = x.flatten(1).mean(0).clamp(1e-3, 1 - 1e-3)
    xf = x.flatten(1)
    indep = -(xf * p.log() + (1 - xf) * (1 - p).log()).sum(1).mean().item()
    model = VAE(z_dim=4, width=8, hidden=64)
    hist = train(model, x, epochs=20, batch_size=32, lr=1e-2)
    assert set(hist) == {"train", "val"} and len(hist["train"]) == 20
    assert hist["train"][-1] < indep - 200
