"""VAE with planar flows: shapes, the planar flow's log-determinant against autograd's
Jacobian, the full-covariance posterior against torch.distributions, the 2-D
flow's density through its base and flows, the epsilon in the
invertibility correction, the importance-weighted -log p(x) against numerical
integration, and that training learns."""

import math

import torch
import torch.nn.functional as F

from vae_nf import U1, VAENF, Flow2D, density_loss, iw_nll, planar_flow, train


def test_shapes():
    model = VAENF(z_dim=3, K=2, width=4, hidden=32)
    logits, log_q, z = model(torch.rand(5, 1, 28, 28).round())
    assert logits.shape == (5, 784) and log_q.shape == (5,) and z.shape == (5, 3)
    logits, log_q, z = model(torch.rand(5, 1, 28, 28).round(), samples=7)
    assert (
        logits.shape == (7, 5, 784) and log_q.shape == (7, 5) and z.shape == (7, 5, 3)
    )
    assert U1(torch.randn(7, 2)).shape == (7,)
    assert density_loss(Flow2D(K=3, restarts=4), U1, n=16).shape == (4,)


def test_logdet_matches_autograd_jacobian():
    torch.manual_seed(0)
    D = 4
    u, w, b = torch.randn(D), torch.randn(D), torch.randn(())
    for _ in range(5):
        z = torch.randn(D)
        jac = torch.autograd.functional.jacobian(
            lambda v: planar_flow(v, u, w, b)[0], z
        )
        _, logdet = planar_flow(z, u, w, b)
        assert torch.allclose(logdet, torch.linalg.slogdet(jac)[1], atol=1e-5)
        assert torch.linalg.det(jac) > 0  # the constraint on u keeps it invertible


def test_full_covariance_posterior_is_the_gaussian_it_samples():
    """With ``full_cov`` and no flows, log q0 is MultivariateNormal(mu, L L^T) at the
    sample, and the samples' covariance is L L^T. Fails if L is left out of the sample
    (z = mu + sigma eps, a diagonal posterior under another name) or if the log-density
    gets a wrong determinant (for example one that counts the off-diagonal entries)."""
    torch.manual_seed(0)
    D = 3
    model = VAENF(z_dim=D, K=0, width=4, hidden=32, full_cov=True)
    with torch.no_grad():  # make the off-diagonal part large enough to matter
        model.enc[-1].bias[2 * D :] += 1.5
    x = torch.rand(2, 1, 28, 28).round()
    with torch.no_grad():
        h = model.enc(x.flatten(1))
        _, log_q, z = model(x, samples=20000)
    mu, sigma = h[:, :D], torch.exp(0.5 * h[:, D : 2 * D])
    L = torch.diag_embed(sigma)
    i, j = torch.tril_indices(D, D, -1)
    L[:, i, j] = h[:, 2 * D :]
    q = torch.distributions.MultivariateNormal(mu, scale_tril=L)
    assert torch.allclose(log_q, q.log_prob(z), atol=1e-4)
    for n in range(2):
        cov = torch.cov(z[:, n].T)
        assert torch.allclose(cov, L[n] @ L[n].T, atol=0.1, rtol=0.05), (cov, L[n])
        assert (L[n] @ L[n].T - torch.diag(sigma[n] ** 2)).abs().max() > 0.5


def test_flow2d_density_is_change_of_variables():
    """log q_K(z_K) = log N(eps; 0, I) - log|det d z_K / d eps| through the learned
    Gaussian base and every flow. Fails if the base's log-scale or a flow's log-det is
    left out, or added with the wrong sign."""
    torch.manual_seed(1)
    flow = Flow2D(K=3, restarts=2)
    with torch.no_grad():
        for p in flow.parameters():
            p.normal_()
    eps = torch.randn(2, 1, 2)
    _, log_q = flow(eps)
    for r in range(2):

        def f(v, r=r):
            e = eps.clone()
            e[r, 0] = v
            return flow(e)[0][r, 0]

        jac = torch.autograd.functional.jacobian(f, eps[r, 0])
        log_n = -0.5 * (eps[r, 0] ** 2).sum() - math.log(2 * math.pi)
        want = log_n - torch.linalg.slogdet(jac)[1]
        assert torch.allclose(log_q[r, 0], want, atol=1e-4)


def test_invertibility_correction_stays_finite_as_w_vanishes():
    """u-hat = u + (softplus(w.u) - 1 - w.u) w / (|w|^2 + eps): with w = 0 the flow
    must be the identity, not NaN. Fails without the epsilon (0 / 0)."""
    z, u = torch.randn(5, 3), torch.randn(5, 3)
    out, logdet = planar_flow(z, u, torch.zeros(5, 3), torch.zeros(5))
    assert torch.isfinite(out).all() and torch.isfinite(logdet).all()
    assert torch.allclose(out, z) and torch.allclose(logdet, torch.zeros(5), atol=1e-6)


def test_importance_weighted_nll_matches_numerical_integration():
    """One latent dimension and two flows: -log p(x) is an integral over z computed on
    a grid; the k = 2,000 estimate must match it and lie well below the -ELBO. Fails if
    log q_K (with the flows' log-dets) or log p(z) is left out of the weights, or if
    the weights are averaged in log space."""
    torch.manual_seed(0)
    model = VAENF(z_dim=1, K=2, width=2, hidden=8)
    with torch.no_grad():
        for p in model.dec.parameters():
            p.mul_(2.5)  # a likelihood that depends on z, so the ELBO is loose
        z_true = torch.tensor([[1.0], [-0.5], [0.3]])
        x = torch.bernoulli(torch.sigmoid(model.dec(z_true))).view(3, 1, 28, 28)
    z = torch.linspace(-8, 8, 4001)[:, None]
    with torch.no_grad():
        log_px_z = -F.binary_cross_entropy_with_logits(
            model.dec(z)[None].expand(3, -1, -1),
            x.flatten(1)[:, None].expand(-1, len(z), -1),
            reduction="none",
        ).sum(-1)
    log_pz = -0.5 * z[:, 0] ** 2 - 0.5 * math.log(2 * math.pi)
    exact = -(torch.logsumexp(log_px_z + log_pz, 1) + math.log(z[1, 0] - z[0, 0]))
    torch.manual_seed(1)
    estimate = iw_nll(model, x, k=2000)
    assert abs(estimate - exact.mean().item()) < 0.2
    neg_elbo = sum(iw_nll(model, x, k=1) for _ in range(100)) / 100
    assert estimate < neg_elbo - 3


def test_train_learns_what_independent_pixels_cannot():
    """Four binary prototypes with 2% of pixels flipped: a decoder that ignores z can
    do no better than independent pixels; the trained model must beat that widely."""
    torch.manual_seed(0)
    protos = (torch.rand(4, 784) > 0.6).float()
    x = protos[torch.randint(4, (256,))]
    x = torch.where(torch.rand_like(x) < 0.02, 1 - x, x).view(-1, 1, 28, 28)
    p = x.flatten(1).mean(0).clamp(1e-3, 1 - 1e-3)
    xf = x.flatten(1)
    indep = -(xf * p.log() + (1 - xf) * (1 - p).log()).sum(1).mean().item()
    torch.manual_seed(0)
    model = VAENF(z_dim=4, K=2, width=8, hidden=64)
    hist = train(model, x, epochs=40, batch_size=32, lr=1e-2)
    assert set(hist) == {"train", "val"} and len(hist["train"]) == 40
    assert hist["train"][-1] < indep - 200
