import torch
import torch.nn.functional as F

from capsnet import CapsNet, dynamic_routing, margin_loss, squash, train


def test_shapes():
    model = CapsNet(conv_ch=16, n_primary=4)
    lengths, v, x_rec = model(torch.rand(3, 1, 28, 28))
    assert (
        lengths.shape == (3, 10)
        and v.shape == (3, 10, 16)
        and x_rec.shape == (3, 1, 28, 28)
    )
    v = dynamic_routing(torch.randn(2, 50, 10, 16), iterations=3)
    assert v.shape == (2, 10, 16)


def test_squash_norm_below_one_and_direction_kept():
    torch.manual_seed(0)
    s = torch.randn(100, 16) * torch.logspace(-3, 3, 100)[:, None]
    v = squash(s)
    n_s, n_v = s.norm(dim=-1), v.norm(dim=-1)
    assert (n_v < 1).all()
    assert torch.allclose(n_v, n_s**2 / (1 + n_s**2), rtol=1e-4, atol=1e-6)
    assert torch.allclose(F.cosine_similarity(s, v, dim=-1), torch.ones(100), atol=1e-5)


def test_routing_follows_agreement():
    # 9 input capsules agree on output 0's direction; for output 1 they point randomly.
    torch.manual_seed(0)
    u_hat = torch.randn(1, 9, 2, 8)
    u_hat[0, :, 0] = torch.tensor([1.0] * 8) + 0.05 * torch.randn(9, 8)
    v1 = dynamic_routing(u_hat, iterations=1)
    v3 = dynamic_routing(u_hat, iterations=3)
    assert (
        v3[0, 0].norm() > v1[0, 0].norm()
    )  # agreement raises the coupling to output 0
    assert v3[0, 1].norm() < v1[0, 1].norm()


def test_margin_loss_by_hand():
    lengths, y = torch.tensor([[0.95, 0.05, 0.3]]), torch.tensor([0])
    expected = 0.0 + 0.5 * 0.0 + 0.5 * (0.3 - 0.1) ** 2
    assert torch.allclose(margin_loss(lengths, y), torch.tensor(expected))
    lengths = torch.tensor([[0.5, 0.05, 0.05]])
    assert torch.allclose(margin_loss(lengths, y), torch.tensor((0.9 - 0.5) ** 2))


def test_train_learns():
    torch.manual_seed(0)
    x, y = torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,))
    hist = train(CapsNet(conv_ch=16, n_primary=4), x, y, epochs=5, batch_size=16)
    assert hist[-1] < hist[0]
