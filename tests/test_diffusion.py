"""DDPM: shapes, the closed-form q(x_t | x_0) against the forward chain, the loss by
hand and learning."""

import math

import torch

from diffusion import (
    NoisyClassifier,
    UNet,
    cosine_schedule,
    ddpm_loss,
    q_sample,
    sample,
    train,
)


def test_shapes():
    net, clf = UNet(ch=8, t_dim=16), NoisyClassifier(ch=8, t_dim=16)
    x, t = torch.randn(3, 1, 16, 16), torch.tensor([0, 5, 19])
    assert net(x, t).shape == (3, 1, 16, 16)
    assert clf(x, t).shape == (3, 10)
    out, chain = sample(
        net,
        (2, 1, 16, 16),
        T=5,
        classifier=clf,
        y=torch.tensor([1, 2]),
        scale=2.0,
        keep=(5, 3),
    )
    assert out.shape == (2, 1, 16, 16) and set(chain) == {5, 3, 0}


def test_closed_form_matches_forward_chain():
    """x_t from q(x_t | x_0) in one jump has the mean and variance of t noising
    steps."""
    T = 20
    betas, abar = cosine_schedule(T)
    assert torch.allclose(abar, torch.cumprod(1 - betas, 0))
    torch.manual_seed(0)
    x0 = torch.tensor([-1.0, -0.3, 0.5, 1.0]).repeat(50000, 1).view(50000, 1, 2, 2)
    x = x0.clone()
    for t in range(T):
        x = (1 - betas[t]).sqrt() * x + betas[t].sqrt() * torch.randn_like(
            x
        )  # q(x_t | x_{t-1})
        if t in (0, 4, 12, 19):
            jump = q_sample(x0, torch.full((len(x0),), t), abar, torch.randn_like(x0))
            for a in (x, jump):  # both against the closed form's moments
                assert torch.allclose(a.mean(0), abar[t].sqrt() * x0[0], atol=0.02)
                assert torch.allclose(
                    a.var(0), (1 - abar[t]).expand(1, 2, 2), atol=0.02
                )


def test_loss_matches_formula():
    net = UNet(ch=8, t_dim=16)
    _, abar = cosine_schedule(30)
    x0 = torch.rand(6, 1, 8, 8) * 2 - 1
    torch.manual_seed(3)
    loss = ddpm_loss(net, x0, abar)
    torch.manual_seed(3)  # the same t and eps, drawn in the same order
    t = torch.randint(0, 30, (6,))
    eps = torch.randn_like(x0)
    a = abar[t].view(-1, 1, 1, 1)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    assert torch.allclose(loss, ((net(xt, t) - eps) ** 2).mean(), atol=1e-6)


def test_train_learns():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 8, 8)
    x[:32, :, 2:6, 3:5] = 1  # two clean classes: a bar and a blank
    x = x * 2 - 1
    y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
    net, clf = UNet(ch=8, t_dim=16), NoisyClassifier(n_classes=2, ch=8, t_dim=16)
    hist = train(net, clf, x, y, T=20, epochs=25, batch_size=32, lr=3e-3, seed=0)
    first, last = hist["ddpm"][:5], hist["ddpm"][-5:]
    assert sum(last) / 5 < 0.6 * sum(first) / 5
    assert sum(hist["classifier"][-5:]) / 5 < 0.8 * math.log(2)


class PointMassDenoiser(torch.nn.Module):
    """The exact noise predictor for data that is always the image ``c``:
    eps*(x_t, t) = (x_t - sqrt(abar_t) c) / sqrt(1 - abar_t)."""

    def __init__(self, c, T):
        super().__init__()
        self.c, self.abar = c, cosine_schedule(T)[1]

    def forward(self, x, t):
        a = self.abar[t].view(-1, 1, 1, 1)
        return (x - a.sqrt() * self.c) / (1 - a).sqrt()


def test_sampler_with_a_point_mass_oracle_runs_the_exact_reverse_chain():
    """Given a point mass's exact noise predictor, ancestral sampling is the exact
    reverse of q: every x_t must have the marginal N(sqrt(abar_t) c, 1 - abar_t) and
    x_0 must be c. Fails if the posterior mean's coefficients are wrong or swapped
    (abar_{t-1} for abar_t), if the variance is not beta~_t = beta_t (1 - abar_{t-1}) /
    (1 - abar_t), or if the step index passed to the model is off by one."""
    T, c = 20, 0.3
    _, abar = cosine_schedule(T)
    torch.manual_seed(0)
    out, chain = sample(
        PointMassDenoiser(c, T), (20000, 1, 2, 2), T=T, keep=(20, 15, 10, 5, 2, 1)
    )
    assert torch.allclose(out, torch.full_like(out, c), atol=1e-5)
    for t, x in chain.items():
        if t == 0:
            continue
        mean, var = abar[t - 1].sqrt() * c, 1 - abar[t - 1]
        assert abs(x.mean() - mean) < 0.01, t
        assert abs(x.var() / var - 1) < 0.03, t


class LogisticClassifier(torch.nn.Module):
    """Analytic two-class classifier: logits (a sum x, -a sum x), so d/dx log p(0 | x)
    = 2a (1 - sigmoid(2a sum x)) in every pixel."""

    def __init__(self, a):
        super().__init__()
        self.a = a

    def forward(self, x, t):
        z = self.a * x.flatten(1).sum(1)
        return torch.stack([z, -z], 1)


def test_guidance_shifts_the_mean_by_scale_times_variance_times_gradient():
    """One guided step from the same x_T and the same noise moves x_{T-1} by exactly
    s * beta~_T * grad log p(y | x_T) against the unguided step. Fails if the gradient
    is of the logit instead of the log-probability, if its sign is flipped, or if it is
    scaled by beta_T or by nothing instead of the posterior variance beta~_T."""
    T, s, a = 6, 2.5, 0.4
    betas, abar = cosine_schedule(T)
    var = betas[-1] * (1 - abar[-2]) / (1 - abar[-1])
    net, clf = PointMassDenoiser(0.0, T), LogisticClassifier(a)
    y = torch.zeros(64, dtype=torch.long)
    chains = []
    for scale in (0.0, s):
        torch.manual_seed(1)
        _, chain = sample(
            net, (64, 1, 3, 3), T=T, classifier=clf, y=y, scale=scale, keep=(T, T - 1)
        )
        chains.append(chain)
    x_T = chains[0][T]
    grad = 2 * a * (1 - torch.sigmoid(2 * a * x_T.flatten(1).sum(1)))
    shift = chains[1][T - 1] - chains[0][T - 1]
    assert torch.allclose(
        shift, s * var * grad.view(-1, 1, 1, 1).expand_as(x_T), atol=1e-5
    )


class TwoPointMasses(torch.nn.Module):
    """Data: the image +c or -c with equal odds. ``forward`` is the exact noise
    predictor; ``classifier`` the exact Bayes classifier p(sign | x_t, t), class 0 for
    +c: logits +-u/2 with u = 2 sqrt(abar_t) c sum(x_t) / (1 - abar_t)."""

    def __init__(self, c, T):
        super().__init__()
        self.c, self.abar = c, cosine_schedule(T)[1]

    def _u(self, x, t):
        a = self.abar[t]
        return 2 * a.sqrt() * self.c * x.flatten(1).sum(1) / (1 - a), a.view(
            -1, 1, 1, 1
        )

    def forward(self, x, t):
        u, a = self._u(x, t)
        x0 = self.c * torch.tanh(u / 2).view(-1, 1, 1, 1)  # E[x_0 | x_t]
        return (x - a.sqrt() * x0) / (1 - a).sqrt()

    def classifier(self, x, t):
        u, _ = self._u(x, t)
        return torch.stack([u / 2, -u / 2], 1)


def test_guidance_steers_samples_to_the_requested_mode():
    """With the exact denoiser and the exact classifier of two point masses, unguided
    samples split about evenly, and guided ones land on the requested mode. Fails if
    guidance pushes away from the requested class or ignores ``y``."""
    T, c, n = 20, 0.5, 2000
    data = TwoPointMasses(c, T)
    torch.manual_seed(2)
    out, _ = sample(data, (n, 1, 2, 2), T=T)
    assert 0.4 < (out.mean((1, 2, 3)) > 0).float().mean() < 0.6
    assert torch.allclose(out.abs(), torch.full_like(out, c), atol=1e-3)
    for label, sign in ((0, 1), (1, -1)):
        y = torch.full((n,), label)
        out, _ = sample(
            data, (n, 1, 2, 2), T=T, classifier=data.classifier, y=y, scale=1.0
        )
        assert (sign * out.mean((1, 2, 3)) > 0).float().mean() > 0.97
