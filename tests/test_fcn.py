import pytest
import torch
import torch.nn.functional as F

from fcn import (
    FCN8s,
    bilinear_kernel,
    predict,
    segmentation_loss,
    train,
    upsampler,
)


def test_shapes_and_size_check():
    model = FCN8s(width=4).eval()
    assert model(torch.rand(2, 1, 64, 32)).shape == (2, 1, 64, 32)
    with pytest.raises(ValueError, match="divisible by 32"):
        model(torch.rand(1, 1, 48, 64))


def test_upsampler_starts_as_bilinear_interpolation():
    # FCN initialises its transposed convolutions to bilinear upsampling: away from the
    # border they must agree with F.interpolate (align_corners=False).
    x = torch.rand(1, 2, 6, 6)
    for factor in (2, 8):
        up = upsampler(2, factor)(x)
        ref = F.interpolate(
            x, scale_factor=factor, mode="bilinear", align_corners=False
        )
        assert up.shape == ref.shape
        m = factor
        assert torch.allclose(up[..., m:-m, m:-m], ref[..., m:-m, m:-m], atol=1e-5)
    assert bilinear_kernel(1, 2)[0, 0].sum() == pytest.approx(4.0)


def test_loss_matches_formula():
    logits, mask = torch.randn(2, 1, 8, 8), (torch.rand(2, 1, 8, 8) > 0.5).float()
    p = torch.sigmoid(logits)
    by_hand = -(mask * p.log() + (1 - mask) * (1 - p).log()).mean()
    assert torch.allclose(segmentation_loss(logits, mask), by_hand, atol=1e-5)


def test_train_learns():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 32, 32)
    m = (F.avg_pool2d(x, 5, 1, 2) > 0.5).float()
    model = FCN8s(width=4)
    hist = train(model, x, m, epochs=12, batch_size=4, lr=1e-2)
    assert hist[-1] < 0.95 * hist[0]
    assert predict(model, x).shape == m.shape
