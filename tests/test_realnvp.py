"""RealNVP: shapes, exact invertibility, log-determinant against autograd's Jacobian,
learning."""

import torch

from realnvp import RealNVP, nll_loss, train


def random_flow(seed=0, **kw):
    """A flow with every parameter randomised (a fresh one starts as the identity
    map)."""
    torch.manual_seed(seed)
    flow = RealNVP(**kw)
    with torch.no_grad():
        for p in flow.parameters():
            p.normal_(0, 0.5)
    return flow.double()


def test_shapes():
    flow = RealNVP(dim=2, n_layers=4, hidden=16)
    z, logdet = flow(torch.randn(7, 2))
    assert z.shape == (7, 2) and logdet.shape == (7,)
    assert flow.log_prob(torch.randn(7, 2)).shape == (7,)
    assert flow.sample(5).shape == (5, 2)


def test_inverse_undoes_forward():
    flow = random_flow(n_layers=6, hidden=32)
    x = torch.randn(500, 2, dtype=torch.float64) * 2
    z, _ = flow(x)
    assert not torch.allclose(z, x, atol=1e-2)  # the map is not the identity
    assert (flow.inverse(z) - x).abs().max() < 1e-5
    assert (flow(flow.inverse(x))[0] - x).abs().max() < 1e-5


def test_logdet_matches_autograd_jacobian():
    flow = random_flow(seed=1, n_layers=6, hidden=32)
    x = torch.randn(10, 2, dtype=torch.float64)
    _, logdet = flow(x)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], x[i])
        assert torch.allclose(logdet[i], torch.linalg.slogdet(jac)[1], atol=1e-8)


def test_train_learns():
    torch.manual_seed(0)
    x = torch.randn(256, 2) * torch.tensor([2.0, 0.3]) + torch.tensor([1.0, -1.0])
    flow = RealNVP(n_layers=4, hidden=32)
    before = nll_loss(flow, x).item()
    hist = train(flow, x, "cpu", epochs=30, batch_size=64, lr=5e-3)
    assert hist["train"][-1] < before - 0.5
