import subprocess
import sys
from pathlib import Path

import torch

from cnn import CNN, cnn_loss, predict, random_shift, train

CODE = Path(__file__).resolve().parent.parent / "code"


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


def test_features_are_translation_equivariant():
    """Convolution shares its weights across positions: moving the digit 4 pixels (the
    total pooling factor) moves every feature map exactly one cell. A fully connected
    layer, or a conv layer with a wrong padding or stride, breaks this."""
    torch.manual_seed(0)
    model = CNN(c1=6, c2=8, hidden=16).eval()
    x = torch.zeros(2, 1, 28, 28)
    x[:, :, 8:20, 4:16] = torch.rand(2, 1, 12, 12)
    moved = torch.roll(x, shifts=4, dims=3)  # content stays clear of the border
    with torch.no_grad():
        a, b = model.features(x), model.features(moved)
    # Cells whose receptive field reaches the zero padding of the second conv are
    # excluded.
    assert torch.allclose(b[..., 2:-1], a[..., 1:-2], atol=1e-5)
    assert not torch.allclose(b, a, atol=1e-3)


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
    torch.manual_seed(0)
    x = 0.3 * torch.rand(64, 1, 28, 28)
    y = torch.arange(64) % 2
    x[y == 0, :, 12:16, 4:24] = 1.0  # class 0: a horizontal bar
    x[y == 1, :, 4:24, 12:16] = 1.0  # class 1: a vertical bar
    hist = train(CNN(n_classes=2, c1=8, c2=8, hidden=32), x, y, epochs=6, batch_size=16)
    assert hist[-1] < 0.5 * hist[0]


def test_module_runs_alone():
    out = subprocess.run(
        [sys.executable, str(CODE / "cnn.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "loss" in out
