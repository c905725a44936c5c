import pytest
import torch
import torch.nn.functional as F

from unet import UNet, iou, predict, segmentation_loss, train


@pytest.mark.parametrize("size", [(16, 16), (32, 48), (64, 24)])
def test_output_size_equals_input_size(size):
    model = UNet(width=4, depth=3).eval()
    x = torch.rand(2, 1, *size)
    assert model(x).shape == (2, 1, *size)
    assert UNet(width=4, depth=3, skips=False).eval()(x).shape == (2, 1, *size)


def test_sizes_it_cannot_take_give_a_clear_error():
    with pytest.raises(ValueError, match="divisible by 8"):
        UNet(width=4, depth=3)(torch.rand(1, 1, 30, 32))


def test_loss_matches_formula():
    logits = torch.randn(2, 1, 8, 8)
    mask = (torch.rand(2, 1, 8, 8) > 0.5).float()
    p = torch.sigmoid(logits)
    bce = -(mask * torch.log(p) + (1 - mask) * torch.log(1 - p)).mean()
    dice = (2 * (p * mask).sum() + 1) / (p.sum() + mask.sum() + 1)
    assert torch.allclose(segmentation_loss(logits, mask), bce + 1 - dice, atol=1e-5)


def test_iou():
    a = torch.zeros(4, 4)
    a[:2] = 1  # 8 pixels
    b = torch.zeros(4, 4)
    b[1:3] = 1  # 8 pixels, 4 shared
    assert iou(a, b) == pytest.approx(4 / 12)


def test_train_learns():
    torch.manual_seed(0)
    x = torch.rand(8, 1, 16, 16)
    m = (F.avg_pool2d(x, 3, 1, 1) > 0.5).float()
    model = UNet(width=4, depth=2)
    hist = train(model, x, m, epochs=20, batch_size=8, lr=1e-2)
    assert hist[-1] < 0.8 * hist[0]
    assert iou(predict(model, x), m) > 0.3
