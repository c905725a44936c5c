import pytest
import torch
import torch.nn.functional as F

from fcn import FCN, bilinear_kernel, iou, predict, segmentation_loss, train, upsampler


@pytest.mark.parametrize("stride", [8, 16, 32])
def test_shapes_and_size_check(stride):
    model = FCN(width=4, stride=stride).eval()
    assert model(torch.rand(2, 1, 64, 32)).shape == (2, 1, 64, 32)
    with pytest.raises(ValueError, match="divisible by 32"):
        model(torch.rand(1, 1, 48, 64))


def test_upsampler_starts_as_bilinear_interpolation():
    # FCN initialises its transposed convolutions to bilinear upsampling: away from the
    # border they must agree with F.interpolate (align_corners=False).
    x = torch.rand(1, 2, 6, 6)
    for factor in (2, 8, 32):
        up = upsampler(2, factor)(x)
        ref = F.interpolate(
            x, scale_factor=factor, mode="bilinear", align_corners=False
        )
        assert up.shape == ref.shape
        m = factor
        assert torch.allclose(up[..., m:-m, m:-m], ref[..., m:-m, m:-m], atol=1e-5)
    assert bilinear_kernel(1, 2)[0, 0].sum() == pytest.approx(4.0)


def test_fcn8s_fuses_the_scores_of_pool3_pool4_and_the_top():
    """The output must be up8(up2(up2(top) + s4(pool4)) + s3(pool3)). Fails for an
    FCN-32s or FCN-16s head (a forward that drops either skip), or for skips read off
    the wrong pooling level."""
    torch.manual_seed(0)
    model = FCN(width=4, stride=8).eval()
    with torch.no_grad():
        for m in (model.score_pool3, model.score_pool4):  # make the skips matter
            m.weight.normal_()
        x = torch.rand(2, 1, 64, 64)
        p3 = model.pool1_3(x)
        p4 = model.pool4(p3)
        top = model.score_top(model.fc(model.pool5(p4)))
        s16 = model.up2_top(top) + model.score_pool4(p4)
        s8 = model.up2_pool4(s16) + model.score_pool3(p3)
        out = model(x)
        assert torch.allclose(out, model.up_final(s8), atol=1e-5)
        assert not torch.allclose(out, F.interpolate(top, scale_factor=32), atol=1e-2)
        # and the finest skip changes the output: zeroing pool3's scores moves it
        model.score_pool3.weight.zero_()
        model.score_pool3.bias.zero_()
        assert (model(x) - out).abs().max() > 1e-2


def test_fcn32s_output_is_its_top_scores_upsampled():
    """FCN-32s (the ablation) has no skips: its output is a fixed bilinear 32x
    upsampling of the 1/32 scores, so it cannot place an edge more finely."""
    model = FCN(width=4, stride=32).eval()
    assert not hasattr(model, "score_pool3") and not hasattr(model, "score_pool4")
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        top = model.score_top(model.fc(model.pool5(model.pool4(model.pool1_3(x)))))
        assert torch.allclose(model(x), model.up_final(top), atol=1e-5)


def test_loss_matches_formula():
    logits, mask = torch.randn(2, 1, 8, 8), (torch.rand(2, 1, 8, 8) > 0.5).float()
    p = torch.sigmoid(logits)
    by_hand = -(mask * p.log() + (1 - mask) * (1 - p).log()).mean()
    assert torch.allclose(segmentation_loss(logits, mask), by_hand, atol=1e-5)


def test_train_learns():
    """Blobs at 1/8 resolution (the finest FCN-8s places): a constant mask scores the
    foreground share, about 0.5; fails if training does not reach the skips."""
    torch.manual_seed(0)
    x = F.interpolate(torch.rand(16, 1, 8, 8), size=(64, 64), mode="bilinear")
    m = (x > 0.5).float()
    model = FCN(width=4, stride=8)
    hist = train(model, x, m, epochs=30, batch_size=8, lr=1e-2, seed=0)
    assert len(hist["loss"]) == 30 and hist["loss"][-1] < 0.7 * hist["loss"][0]
    assert iou(predict(model, x), m) > 0.75
