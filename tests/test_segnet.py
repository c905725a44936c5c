import pytest
import torch
import torch.nn.functional as F

from segnet import SegNet, iou, predict, segmentation_loss, train


@pytest.mark.parametrize("unpool", [True, False])
def test_shapes_and_size_check(unpool):
    model = SegNet(width=4, depth=3, unpool=unpool).eval()
    assert model(torch.rand(2, 1, 32, 40)).shape == (2, 1, 32, 40)
    with pytest.raises(ValueError, match="divisible by 8"):
        model(torch.rand(1, 1, 30, 32))


def unpooled_inputs(model, x):
    """Run ``model.forward`` and capture, for each decoder block, its input (the
    upsampled map) and the matching encoder block's output (before pooling)."""
    enc_out, dec_in = [], []
    hooks = [
        b.register_forward_hook(lambda m, i, o: enc_out.append(o)) for b in model.enc
    ]
    hooks += [
        b.register_forward_pre_hook(lambda m, i: dec_in.append(i[0])) for b in model.dec
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return list(reversed(enc_out)), dec_in


def test_forward_unpools_to_the_encoders_argmax_positions():
    """Inside ``SegNet.forward``, each decoder block's input is zero everywhere except
    at the positions where the mirror encoder stage's 2x2 maxima were; the first one
    holds those maxima there. Fails if the decoder upsamples by interpolation (or
    nearest neighbour), or unpools with another stage's indices."""
    torch.manual_seed(0)
    model = SegNet(width=4, depth=3).eval()
    x = torch.rand(2, 1, 32, 32)
    enc, dec = unpooled_inputs(model, x)
    for k, (feats, up) in enumerate(zip(enc, dec)):
        _, idx = F.max_pool2d(feats, 2, return_indices=True)
        at_max = torch.zeros_like(feats).flatten(2)
        at_max.scatter_(2, idx.flatten(2), 1.0)
        at_max = at_max.view_as(feats).bool()
        assert at_max.float().mean() == 0.25  # one position per 2x2 window
        assert up.shape == feats.shape
        assert not up[~at_max].any()  # nothing off the argmax positions
        assert up.ne(0).float().mean() > 0.05  # and not all zero
        if k == 0:  # the bottleneck's maxima go back exactly where they came from
            assert torch.equal(up[at_max], feats[at_max])
    # the ablation's decoder (bilinear upsampling) does not have this property
    enc, dec = unpooled_inputs(SegNet(width=4, depth=3, unpool=False).eval(), x)
    assert dec[0].ne(0).float().mean() > 0.5


def test_loss_matches_formula():
    logits, mask = torch.randn(2, 1, 8, 8), (torch.rand(2, 1, 8, 8) > 0.5).float()
    p = torch.sigmoid(logits)
    by_hand = -(mask * p.log() + (1 - mask) * (1 - p).log()).mean()
    assert torch.allclose(segmentation_loss(logits, mask), by_hand, atol=1e-5)


def test_train_learns():
    """A per-pixel mask (pixel > 0.5) of smooth random images: a constant mask scores
    about 0.5; fails if training does not learn."""
    torch.manual_seed(0)
    x = F.interpolate(torch.rand(16, 1, 8, 8), size=(32, 32), mode="bilinear")
    m = (x > 0.5).float()
    model = SegNet(width=4, depth=2)
    hist = train(model, x, m, epochs=30, batch_size=8, lr=1e-2, seed=0)
    assert len(hist["loss"]) == 30 and hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert iou(predict(model, x), m) > 0.85
