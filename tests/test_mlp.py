import torch
import torch.nn as nn
import torch.nn.functional as F

from mlp import MLP, mlp_loss, predict, train


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


def test_hidden_layer_solves_xor_where_the_ablation_cannot():
    """The property an MLP has and a linear model lacks: it separates XOR. The same
    network with ``activation=nn.Identity`` (the example's ablation) stays at 3/4 or
    less. Fails if the nonlinearity is missing from the hidden layer, or if the
    ``activation`` argument is ignored (the ablation would then solve XOR too)."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).repeat(16, 1)
    y = (x[:, 0] != x[:, 1]).long()
    torch.manual_seed(0)
    mlp = MLP(n_in=2, hidden=(16,), n_classes=2, dropout=0.0)
    train(mlp, x, y, epochs=150, batch_size=64, lr=1e-2)
    assert (predict(mlp, x) == y).all()
    linear = MLP(n_in=2, hidden=(16,), n_classes=2, dropout=0.0, activation=nn.Identity)
    train(linear, x, y, epochs=150, batch_size=64, lr=1e-2)
    assert (predict(linear, x) == y).float().mean() <= 0.75


def test_without_activation_the_stack_is_one_affine_map():
    """With ``nn.Identity`` the layers multiply out to one map ``W x + c``: f(a + b) =
    f(a) + f(b) - f(0) for any inputs. Fails if a ReLU (or any nonlinearity) survives
    in the ablation; the ReLU network itself must break the identity."""
    torch.manual_seed(0)
    a, b, zero = torch.randn(8, 64), torch.randn(8, 64), torch.zeros(8, 64)
    for act, affine in [(nn.Identity, True), (nn.ReLU, False)]:
        f = MLP(n_in=64, hidden=(32, 16), activation=act).eval()
        with torch.no_grad():
            gap = (f(a + b) - f(a) - f(b) + f(zero)).abs().max().item()
        assert (gap < 1e-5) == affine, (act, gap)


def test_train_learns():
    """The loss falls and the predictions fit the labels: a network stuck on one class
    would score about 1/5 here."""
    torch.manual_seed(0)
    x = torch.randn(128, 20)
    y = x[:, :5].argmax(1)
    model = MLP(n_in=20, hidden=(64,), n_classes=5)
    hist = train(model, x, y, epochs=20, lr=1e-2, seed=0)
    assert set(hist) == {"loss"} and len(hist["loss"]) == 20
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert (predict(model, x) == y).float().mean() > 0.9
