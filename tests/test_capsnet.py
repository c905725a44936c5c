import torch
import torch.nn.functional as F

from capsnet import (
    CapsNet,
    capsnet_loss,
    dynamic_routing,
    margin_loss,
    predict,
    squash,
    train,
)


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


def test_combined_loss_by_hand():
    torch.manual_seed(0)
    lengths, y = torch.rand(4, 10), torch.randint(0, 10, (4,))
    x, x_rec = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    sse = ((x_rec - x) ** 2).sum() / 4  # summed over pixels, mean over images
    expected = margin_loss(lengths, y) + 0.0005 * sse
    assert torch.allclose(capsnet_loss(lengths, x_rec, x, y), expected)


def test_decoder_sees_only_the_chosen_capsule():
    """Fails if the decoder is fed all ten capsules instead of the masked one."""
    torch.manual_seed(0)
    model = CapsNet(conv_ch=16, n_primary=4).eval()
    v, labels = torch.randn(2, 10, 16), torch.tensor([3, 7])
    other = v.clone()
    other[:, [0, 1, 2, 4, 5, 6, 8, 9]] = torch.randn(2, 8, 16)
    other[1, 3] = torch.randn(16)  # image 1's class is 7: its capsule 3 is masked
    with torch.no_grad():
        assert torch.allclose(
            model.reconstruct(v, labels), model.reconstruct(other, labels)
        )
        v2 = v.clone()
        v2[0, 3] += 1.0
        assert not torch.allclose(
            model.reconstruct(v2, labels)[0], model.reconstruct(v, labels)[0]
        )


def test_train_learns():
    """Three classes of bars (horizontal, vertical, diagonal) at random positions:
    a constant prediction gets a third right; fails if training does not learn."""
    torch.manual_seed(0)
    x, y = torch.zeros(48, 1, 28, 28), torch.arange(48) % 3
    pos = torch.randint(6, 22, (48,))
    for i in range(48):
        p = int(pos[i])
        if y[i] == 0:
            x[i, 0, p, 4:24] = 1
        elif y[i] == 1:
            x[i, 0, 4:24, p] = 1
        else:
            x[i, 0, torch.arange(4, 24), torch.arange(4, 24)] = 1
    model = CapsNet(conv_ch=16, n_primary=4)
    hist = train(model, x, y, epochs=10, batch_size=8, seed=0)
    assert len(hist["loss"]) == 10 and hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert (predict(model, x)[0] == y).float().mean() > 0.9
