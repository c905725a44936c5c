import torch

from resnet import Block, ResNet, predict, resnet_loss, train


def test_shapes():
    model = ResNet(n=2, width=4, n_classes=10)
    x = torch.rand(3, 1, 28, 28)
    assert model.blocks(model.stem(x)).shape == (3, 16, 4, 4)
    assert model(x).shape == (3, 10)
    assert predict(model, x).shape == (3,)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    # 6n + 2 weight layers: stem, 2 per block, the head (1x1 projections not counted)
    assert len([c for c in convs if c.kernel_size == (3, 3)]) + 1 == 6 * 2 + 2


def test_loss_is_cross_entropy_by_hand():
    logits, y = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])
    by_hand = -torch.log(torch.exp(torch.tensor(2.0)) / torch.exp(logits).sum())
    assert torch.allclose(resnet_loss(logits, y), by_hand)


def test_block_with_zero_residual_is_the_identity():
    """With its last batch-norm scale and shift at zero, F(x) = 0 and a residual block
    passes its (non-negative, post-ReLU) input through unchanged. Fails if the shortcut
    is missing (the block outputs zeros), or is added after the last ReLU or before
    the second conv instead of to the block's output."""
    torch.manual_seed(0)
    block = Block(6, 6, shortcut=True).eval()
    torch.nn.init.zeros_(block.bn2.weight)
    torch.nn.init.zeros_(block.bn2.bias)
    x = torch.relu(torch.randn(4, 6, 9, 9))
    with torch.no_grad():
        assert torch.allclose(block(x), x)
        # with negative inputs the final ReLU is visible: relu(0 + x) = relu(x)
        x2 = torch.randn(4, 6, 9, 9)
        assert torch.allclose(block(x2), torch.relu(x2))


def test_plain_block_is_not_the_identity_and_deep_resnet_starts_near_it():
    """The plain block (``shortcut=False``) with zero residual outputs zeros; a stack of
    residual blocks keeps the input's signal at initialisation (the output stays
    correlated with the input) where the plain stack of the same depth scrambles it.
    Fails if ``shortcut=False`` still adds the input, or ``shortcut=True`` drops it."""
    torch.manual_seed(0)
    plain = Block(6, 6, shortcut=False).eval()
    torch.nn.init.zeros_(plain.bn2.weight)
    torch.nn.init.zeros_(plain.bn2.bias)
    x = torch.relu(torch.randn(4, 6, 9, 9))
    with torch.no_grad():
        assert torch.count_nonzero(plain(x)) == 0

    def corr(n_blocks, shortcut):
        torch.manual_seed(1)
        stack = torch.nn.Sequential(
            *[Block(8, 8, shortcut=shortcut) for _ in range(n_blocks)]
        ).eval()
        x = torch.relu(torch.randn(16, 8, 7, 7))
        with torch.no_grad():
            y = stack(x)
        a, b = x.flatten() - x.mean(), y.flatten() - y.mean()
        return (a @ b / (a.norm() * b.norm())).item()

    assert corr(15, True) > 0.3 > abs(corr(15, False))


def test_train_learns():
    torch.manual_seed(0)
    x = 0.3 * torch.rand(64, 1, 28, 28)
    y = torch.arange(64) % 2
    x[y == 0, :, 12:16, 4:24] = 1.0  # class 0: a horizontal bar
    x[y == 1, :, 4:24, 12:16] = 1.0  # class 1: a vertical bar
    model = ResNet(n=1, width=4, n_classes=2)
    hist = train(model, x, y, epochs=6, batch_size=16, lr=0.05, seed=0)
    assert set(hist) == {"loss", "epoch_loss"} and len(hist["epoch_loss"]) == 6
    assert hist["epoch_loss"][-1] < 0.5 * hist["epoch_loss"][0]
    assert (predict(model, x) == y).float().mean() > 0.9  # a constant gets 0.5
