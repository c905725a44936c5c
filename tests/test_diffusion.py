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
        "cpu",
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
    hist = train(net, clf, x, y, "cpu", T=20, epochs=25, batch_size=32, lr=3e-3)
    first, last = hist["ddpm"][:5], hist["ddpm"][-5:]
    assert sum(last) / 5 < 0.6 * sum(first) / 5
    assert sum(hist["classifier"][-5:]) / 5 < 0.8 * math.log(2)
