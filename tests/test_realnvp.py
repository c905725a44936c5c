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
    """Fails if a coupling's log-determinant is not the sum of its masked s, or if the
    final diagonal scaling's log-determinant is left out."""
    for affine in (True, False):
        flow = random_flow(seed=1, n_layers=6, hidden=32, affine=affine)
        x = torch.randn(10, 2, dtype=torch.float64)
        _, logdet = flow(x)
        for i in range(len(x)):
            jac = torch.autograd.functional.jacobian(
                lambda v, f=flow: f(v[None])[0][0], x[i]
            )
            assert torch.allclose(logdet[i], torch.linalg.slogdet(jac)[1], atol=1e-8)


def test_additive_couplings_preserve_volume():
    """NICE's couplings (affine=False) have unit Jacobian: the only volume change is the
    final diagonal scaling, the same at every point. Fails if affine=False still
    applies the scale s."""
    flow = random_flow(seed=2, n_layers=4, hidden=16, affine=False)
    _, logdet = flow(torch.randn(50, 2, dtype=torch.float64))
    assert torch.allclose(logdet, flow.log_scale.sum().expand(50), atol=1e-12)
    affine = random_flow(seed=2, n_layers=4, hidden=16)
    assert affine(torch.randn(50, 2, dtype=torch.float64))[1].std() > 1e-3


def test_train_keeps_the_best_validation_epoch():
    """With x_val the flow ends with the weights of its best validation epoch. Fails if
    train returns the last epoch's weights (here the flow overfits 16 points, so the
    last epoch is not the best)."""
    torch.manual_seed(0)
    x, x_val = torch.randn(16, 2), torch.randn(400, 2)
    flow = RealNVP(n_layers=4, hidden=64)
    hist = train(flow, x, epochs=150, batch_size=16, lr=1e-2, x_val=x_val, seed=0)
    assert min(hist["val"]) < hist["val"][-1] - 0.05
    assert abs(nll_loss(flow, x_val).item() - min(hist["val"])) < 1e-5


def test_train_learns():
    torch.manual_seed(0)
    x = torch.randn(256, 2) * torch.tensor([2.0, 0.3]) + torch.tensor([1.0, -1.0])
    flow = RealNVP(n_layers=4, hidden=32)
    before = nll_loss(flow, x).item()
    hist = train(flow, x, epochs=30, batch_size=64, lr=5e-3, seed=0)
    assert hist["train"][-1] < before - 0.5
    assert set(hist) == {"train", "val"} and len(hist["train"]) == 30
