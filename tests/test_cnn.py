import torch
import torch.nn as nn

from cnn import CNN, LocallyConnected2d, cnn_loss, predict, random_shift, train


def test_shapes():
    model = CNN(n_classes=10, c1=4, c2=8, hidden=16)
    x = torch.rand(3, 1, 28, 28)
    assert model.features(x).shape == (3, 8, 7, 7)
    assert model(x).shape == (3, 10)
    assert predict(model, x).shape == (3,)
    assert random_shift(x).shape == x.shape


def test_loss_is_cross_entropy_by_hand():
    logits, y = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])
    by_hand = -torch.log(torch.exp(torch.tensor(2.0)) / torch.exp(logits).sum())
    assert torch.allclose(cnn_loss(logits, y), by_hand)


def _shift_moves_maps_one_cell(model):
    x = torch.zeros(2, 1, 28, 28)
    x[:, :, 8:20, 4:16] = torch.rand(2, 1, 12, 12)
    moved = torch.roll(x, shifts=4, dims=3)  # content stays clear of the border
    with torch.no_grad():
        a, b = model.eval().features(x), model.features(moved)
    assert not torch.allclose(b, a, atol=1e-3)
    # Cells whose receptive field reaches the zero padding of the second conv are
    # excluded.
    return torch.allclose(b[..., 2:-1], a[..., 1:-2], atol=1e-5)


def test_features_are_translation_equivariant_and_the_ablation_is_not():
    """Convolution shares its weights across positions: moving the digit 4 pixels (the
    total pooling factor) moves every feature map exactly one cell. A fully connected
    layer, a conv layer with a wrong padding or stride, or the locally connected
    ablation (``share=False``) breaks this; fails too if ``share`` is ignored."""
    torch.manual_seed(0)
    assert _shift_moves_maps_one_cell(CNN(c1=6, c2=8, hidden=16))
    assert not _shift_moves_maps_one_cell(CNN(c1=6, c2=8, hidden=16, share=False))


def test_locally_connected_layer_with_equal_filters_is_the_convolution():
    """The ablation changes the weight sharing and nothing else: with the same filter
    copied to every position, ``LocallyConnected2d`` computes ``nn.Conv2d`` exactly.
    Fails if its patches and weights are laid out in different orders, or its padding
    or window differs from the convolution's."""
    torch.manual_seed(0)
    for c_in, c_out, k, side in [(1, 4, 5, 12), (3, 5, 3, 7)]:
        conv = nn.Conv2d(c_in, c_out, k, padding=k // 2)
        local = LocallyConnected2d(c_in, c_out, k, side)
        with torch.no_grad():
            w = conv.weight.flatten(1).T  # (c_in*k*k, c_out)
            local.weight.copy_(w.expand(side * side, -1, -1))
            local.bias.copy_(conv.bias.view(-1, 1, 1).expand(-1, side, side))
            h = torch.randn(2, c_in, side, side)
            assert torch.allclose(local(h), conv(h), atol=1e-5)
        assert local.weight.numel() == side * side * conv.weight.numel()


def test_random_shift_moves_whole_image():
    x = torch.zeros(50, 1, 12, 12)
    x[:, :, 4:8, 4:8] = torch.rand(50, 1, 4, 4)
    s = random_shift(x, max_shift=2)
    assert torch.allclose(s.sum((1, 2, 3)), x.sum((1, 2, 3)))  # nothing cut off
    # Each output is the input translated by some (dy, dx) in [-2, 2]^2.
    for i in range(5):
        hits = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(torch.roll(x[i], (dy, dx), (1, 2)), s[i])
        ]
        assert len(hits) == 1


def test_train_learns():
    """The loss falls and the training images are classified: a constant prediction
    would score 1/2."""
    torch.manual_seed(0)
    x = 0.3 * torch.rand(64, 1, 28, 28)
    y = torch.arange(64) % 2
    x[y == 0, :, 12:16, 4:24] = 1.0  # class 0: a horizontal bar
    x[y == 1, :, 4:24, 12:16] = 1.0  # class 1: a vertical bar
    model = CNN(n_classes=2, c1=8, c2=8, hidden=32)
    hist = train(model, x, y, epochs=6, batch_size=16, seed=0)
    assert set(hist) == {"loss"} and len(hist["loss"]) == 6
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert (predict(model, x) == y).float().mean() > 0.95
