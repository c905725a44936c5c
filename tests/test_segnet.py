import pytest
import torch
import torch.nn.functional as F

from segnet import SegNet, iou, predict, segmentation_loss, train


def test_shapes_and_size_check():
    model = SegNet(width=4, depth=3).eval()
    assert model(torch.rand(2, 1, 32, 40)).shape == (2, 1, 32, 40)
    with pytest.raises(ValueError, match="divisible by 8"):
        model(torch.rand(1, 1, 30, 32))


def test_max_unpooling_puts_values_back_at_the_pooled_positions():
    x = torch.randn(2, 3, 8, 8)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(pooled, idx, 2)
    kept = back != 0
    assert kept.sum() == pooled.numel()  # one value per 2x2 window
    assert torch.equal(back[kept], x[kept])  # each at its maximum's position
    windows = back.unfold(2, 2, 2).unfold(3, 2, 2).reshape(2, 3, 4, 4, 4)
    assert torch.equal(
        windows.abs().max(-1).values > 0, torch.ones(2, 3, 4, 4, dtype=torch.bool)
    )
    # the same holds inside the model: the decoder's unpooling sees the encoder's
    # indices
    model = SegNet(width=4, depth=1).eval()
    feats = model.enc[0](torch.rand(1, 1, 8, 8))
    p, i = F.max_pool2d(feats, 2, return_indices=True)
    assert torch.equal(
        F.max_unpool2d(p, i, 2)[F.max_unpool2d(p, i, 2) != 0],
        feats[F.max_unpool2d(p, i, 2) != 0],
    )


def test_loss_matches_formula():
    logits, mask = torch.randn(2, 1, 8, 8), (torch.rand(2, 1, 8, 8) > 0.5).float()
    p = torch.sigmoid(logits)
    by_hand = -(mask * p.log() + (1 - mask) * (1 - p).log()).mean()
    assert torch.allclose(segmentation_loss(logits, mask), by_hand, atol=1e-5)


def test_train_learns():
    torch.manual_seed(0)
    x = torch.rand(8, 1, 16, 16)
    m = (F.avg_pool2d(x, 3, 1, 1) > 0.5).float()
    model = SegNet(width=4, depth=2)
    hist = train(model, x, m, epochs=40, batch_size=8, lr=1e-2)
    assert hist[-1] < 0.8 * hist[0]
    assert iou(predict(model, x), m) > 0.3
