"""VAE with planar flows: shapes, the planar flow's log-determinant against autograd's
Jacobian, and that training lowers the loss."""

import torch

from vae_nf import U1, VAENF, Flow2D, density_loss, planar_flow, train, vae_nf_loss


def test_shapes():
    model = VAENF(z_dim=3, K=2, width=4, hidden=32)
    logits, log_q, z = model(torch.rand(5, 1, 28, 28).round())
    assert logits.shape == (5, 784) and log_q.shape == (5,) and z.shape == (5, 3)
    assert U1(torch.randn(7, 2)).shape == (7,)


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
        assert (
            torch.linalg.det(jac) > 0
        )  # the constraint on u keeps the flow invertible


def test_flow_sum_of_logdets():
    torch.manual_seed(1)
    flow = Flow2D(K=3)
    with torch.no_grad():
        for p in flow.parameters():
            p.normal_()
    z = torch.randn(2)
    jac = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], z)
    assert torch.allclose(flow(z[None])[1][0], torch.linalg.slogdet(jac)[1], atol=1e-4)
    assert density_loss(flow, U1, n=16).dim() == 0


def test_train_lowers_the_loss():
    torch.manual_seed(0)
    x = (torch.rand(128, 1, 28, 28) > 0.7).float()
    hist = train(
        VAENF(z_dim=4, K=2, width=4, hidden=32),
        x,
        torch.device("cpu"),
        epochs=6,
        batch_size=32,
    )
    assert hist[-1] < hist[0] - 5
    loss, recon, kl = vae_nf_loss(
        x[:4], torch.zeros(4, 784), torch.zeros(4), torch.zeros(4, 4)
    )
    assert torch.allclose(recon, torch.tensor(784 * 0.6931472), rtol=1e-5)
