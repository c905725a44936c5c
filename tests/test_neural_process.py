"""Neural Process: shapes (with and without the latent path), invariance to the order
of the context set, the decoder's split first layer against the plain one, the KL
term against torch.distributions where context and targets
differ, that only unseen pixels are scored, and that training learns to use the
context."""

import torch

from neural_process import (
    NeuralProcess,
    context_split,
    gaussian_kl,
    log_likelihood,
    np_loss,
    pixel_grid,
    train,
)


def small(z_dim=4):
    torch.manual_seed(0)
    return NeuralProcess(h=32, r_dim=16, z_dim=z_dim)


def test_shapes():
    for model in (small(), small(z_dim=0)):
        xc, yc, xt = torch.randn(3, 10, 2), torch.rand(3, 10, 1), torch.randn(3, 7, 2)
        mean, std = model(xc, yc, xt)
        assert mean.shape == std.shape == (3, 7, 1) and (std >= 0.05).all()
        assert (
            np_loss(model, torch.cat([xc, xt], 1), torch.rand(3, 17, 1), 10).dim() == 0
        )
    assert pixel_grid().shape == (784, 2)


def test_decoder_reads_targets_and_code_as_one_input():
    """The split first layer gives what the decoder gives on the concatenation
    [x_t, r, z] repeated at every target. Fails if the weight's columns are split in
    the wrong place or order (the code's columns taken first), or if the bias is
    added twice."""
    for model in (small(), small(z_dim=0)):
        xc, yc, xt = torch.randn(3, 10, 2), torch.rand(3, 10, 1), torch.randn(3, 7, 2)
        z = torch.randn(3, model.z_dim) if model.z_dim else None
        mean, std = model(xc, yc, xt, z=z)
        r = model.det(torch.cat([xc, yc], -1)).mean(1)
        code = r if z is None else torch.cat([r, z], -1)
        h = torch.cat([xt, code[:, None].expand(-1, 7, -1)], -1)
        m, s = model.dec(h).chunk(2, -1)
        assert torch.allclose(mean, m, atol=1e-5)
        assert torch.allclose(std, 0.05 + 0.95 * torch.nn.functional.softplus(s))


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


def test_kl_matches_torch_distributions_when_context_and_targets_differ():
    """loss = NLL of the targets + KL(q(z|T) || q(z|C)), the KL checked against
    torch.distributions with 5 context points among 40 targets. Fails for the
    reversed KL(q(z|C) || q(z|T)), for a KL to N(0, I) instead of q(z|C), or for a
    wrong closed form."""
    model = small()
    with torch.no_grad():  # posteriors of different widths, so the KL is not symmetric
        model.lat[-1].weight.mul_(5.0)
    xt = torch.randn(3, 40, 2)
    yt = torch.cat([torch.zeros(3, 5, 1), 3 + torch.rand(3, 35, 1)], 1)
    xc, yc = xt[:, :5], yt[:, :5]
    torch.manual_seed(1)
    loss = np_loss(model, xt, yt, 5)
    torch.manual_seed(1)
    mu_t, sig_t = model.latent(xt, yt)
    mu_c, sig_c = model.latent(xc, yc)
    z = mu_t + sig_t * torch.randn_like(mu_t)
    mean, std = model(xc, yc, xt, z=z)
    nll = -torch.distributions.Normal(mean, std).log_prob(yt).sum((1, 2))
    normal = torch.distributions.Normal
    kl = torch.distributions.kl_divergence(normal(mu_t, sig_t), normal(mu_c, sig_c))
    reverse = torch.distributions.kl_divergence(
        normal(mu_c, sig_c), normal(mu_t, sig_t)
    )
    assert (kl - reverse).sum(-1).abs().min() > 1e-2  # the direction matters here
    assert torch.allclose(loss, (nll + kl.sum(-1)).mean(), atol=1e-4)
    assert torch.allclose(gaussian_kl(mu_t, sig_t, mu_c, sig_c), kl.sum(-1), atol=1e-5)


def test_log_likelihood_scores_only_unseen_pixels():
    """By hand for a CNP: the mean log-density of the pixels outside the context.
    Fails if the context pixels are scored too (they are given, so their scores
    flatter the model)."""
    model = small(z_dim=0)
    images = torch.rand(3, 1, 28, 28)
    got = log_likelihood(model, images, 50, seed=4)
    perm = context_split(3, 50, seed=4)
    grid, y = pixel_grid(), images.flatten(1)[..., None]
    ctx, tgt = perm[:, :50], perm[:, 50:]
    with torch.no_grad():
        mean, std = model(grid[ctx], torch.gather(y, 1, ctx[..., None]), grid[tgt])
        lp = torch.distributions.Normal(mean, std).log_prob(
            torch.gather(y, 1, tgt[..., None])
        )
    assert abs(got - lp.mean().item()) < 1e-5


def test_train_learns_to_use_the_context():
    """A bright square at a random place in each image: a model that ignores the
    context cannot know where it is. After training, the NP's log-likelihood of the
    unseen pixels from 100 context points must beat the best context-free model, an
    independent Gaussian per pixel fitted to the same images (the best any
    context-free Gaussian can do on them)."""
    torch.manual_seed(0)
    imgs = torch.zeros(64, 1, 28, 28)
    for i, (r, c) in enumerate(torch.randint(0, 18, (64, 2)).tolist()):
        imgs[i, 0, r : r + 10, c : c + 10] = 1.0
    model = small()
    hist = train(model, imgs, steps=800, batch_size=8, n_target=200, lr=3e-3)
    assert set(hist) == {"loss"} and len(hist["loss"]) == 800
    tgt = context_split(16, 100, seed=0)[:, 100:]
    y = imgs[:16].flatten(1)
    m, s = y.mean(0)[tgt], y.std(0).clamp(min=0.05)[tgt]
    pixel_gauss = torch.distributions.Normal(m, s).log_prob(torch.gather(y, 1, tgt))
    ll = log_likelihood(model, imgs[:16], 100, samples=4, seed=0)
    assert ll > pixel_gauss.mean().item() + 0.2
