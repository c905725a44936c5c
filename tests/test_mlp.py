import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from mlp import MLP, mlp_loss, predict, train

CODE = Path(__file__).resolve().parent.parent / "code"


def test_shapes():
    model = MLP(n_in=64, hidden=(32, 16), n_classes=10)
    assert model(torch.randn(5, 64)).shape == (5, 10)
    assert model(torch.randn(5, 8, 8)).shape == (5, 10)  # flattens its input
    assert predict(model, torch.randn(7, 64)).shape == (7,)


def test_loss_matches_formula_and_torch():
    torch.manual_seed(0)
    logits, y = torch.randn(6, 4), torch.tensor([0, 3, 1, 2, 2, 0])
    by_hand = (
        -sum(
            torch.log(torch.exp(logits[i, y[i]]) / torch.exp(logits[i]).sum())
            for i in range(6)
        )
        / 6
    )
    assert torch.allclose(mlp_loss(logits, y), by_hand, atol=1e-6)
    assert torch.allclose(mlp_loss(logits, y), F.cross_entropy(logits, y), atol=1e-6)
    # Stable for huge logits, where a naive softmax overflows.
    big = torch.tensor([[1000.0, 0.0], [0.0, 1000.0]])
    assert torch.isfinite(mlp_loss(big, torch.tensor([1, 1])))


def test_hidden_layer_solves_xor_where_linear_cannot():
    """The property an MLP has and a linear model lacks: it separates XOR."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).repeat(16, 1)
    y = (x[:, 0] != x[:, 1]).long()
    torch.manual_seed(0)
    mlp = MLP(n_in=2, hidden=(16,), n_classes=2, dropout=0.0)
    train(mlp, x, y, epochs=150, batch_size=64, lr=1e-2)
    assert (predict(mlp, x) == y).all()
    linear = MLP(n_in=2, hidden=(), n_classes=2)
    train(linear, x, y, epochs=150, batch_size=64, lr=1e-2)
    assert (predict(linear, x) == y).float().mean() <= 0.75


def test_train_learns():
    torch.manual_seed(0)
    x = torch.randn(128, 20)
    y = x[:, :5].argmax(1)
    hist = train(MLP(n_in=20, hidden=(64,), n_classes=5), x, y, epochs=20, lr=1e-2)
    assert len(hist) == 20 and hist[-1] < 0.5 * hist[0]


def test_module_runs_alone():
    out = subprocess.run(
        [sys.executable, str(CODE / "mlp.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "loss" in out
