"""DC-IGN: shapes, the clamp's forward value and replaced gradient, the renderer, and
that training lowers the loss."""

import torch

from dcign import DCIGN, ClampToMean, clamped_batch, train, transform


def test_shapes():
    model = DCIGN(z_dim=5, width=4, hidden=32)
    logits, mu, logvar = model(
        torch.rand(6, 1, 28, 28), torch.tensor([True] + [False] * 4)
    )
    assert logits.shape == (6, 784) and mu.shape == logvar.shape == (6, 5)
    assert clamped_batch(torch.rand(10, 1, 28, 28), "angle", 7).shape == (7, 1, 28, 28)


def test_clamp_forward_and_replaced_gradient():
    torch.manual_seed(0)
    z = torch.randn(8, 4, requires_grad=True)
    active = torch.tensor([True, False, True, False]).expand(8, 4)
    out = ClampToMean.apply(z, active, 1.0)
    mean = z.detach().mean(0)
    assert torch.allclose(out[:, 1], mean[1].expand(8)) and torch.allclose(
        out[:, 0], z[:, 0]
    )
    upstream = torch.randn(8, 4)
    out.backward(upstream)
    assert torch.allclose(z.grad[:, [0, 2]], upstream[:, [0, 2]])  # true gradient
    assert torch.allclose(
        z.grad[:, [1, 3]], (z - z.mean(0)).detach()[:, [1, 3]]
    )  # replaced


def test_transform_identity_and_rotation():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 4:14, 13:15] = 1.0  # a vertical bar above centre
    same = transform(x, torch.zeros(1), torch.ones(1))
    assert torch.allclose(same, x, atol=1e-5)
    turned = transform(x, torch.tensor([90.0]), torch.ones(1))
    assert turned[0, 0, 13:15, :].sum() > 10 and turned[0, 0, 4:12, 13:15].sum() < 1
    assert transform(x, torch.zeros(1), torch.full((1,), 2.0)).sum() > x.sum()


def test_train_lowers_the_loss():
    torch.manual_seed(0)
    x = torch.rand(32, 1, 28, 28).pow(4)
    hist = train(
        DCIGN(z_dim=4, width=4, hidden=32),
        x,
        torch.device("cpu"),
        steps=60,
        batch_size=16,
    )
    assert sum(hist[-10:]) / 10 < sum(hist[:10]) / 10 - 5
