import math

import pytest
import torch
import torch.nn.functional as F

from unet import (
    UNet,
    augment,
    border_weights,
    elastic_grid,
    iou,
    predict,
    segmentation_loss,
    train,
)


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
    w = torch.rand(2, 1, 8, 8) * 5
    p = torch.sigmoid(logits)
    bce = -(mask * torch.log(p) + (1 - mask) * torch.log(1 - p))
    assert torch.allclose(segmentation_loss(logits, mask, w), (w * bce).mean())


def test_border_weights_match_the_formula_by_brute_force():
    """Fails if d2 is not the second-nearest object's distance (e.g. d1 twice), if the
    border term also lands on object pixels, or if w_c does not balance the classes."""
    lab = torch.zeros(16, 20, dtype=torch.int64)
    lab[3:9, 2:8], lab[3:9, 10:16], lab[12:15, 5:9] = 1, 2, 3  # gaps of 2 and 3 px
    w = border_weights(lab, w0=10.0, sigma=3.0)
    fg = lab > 0
    objs = [(lab == i).nonzero().float() for i in (1, 2, 3)]
    for r in range(16):
        for c in range(20):
            wc = 0.5 / fg.float().mean() if fg[r, c] else 0.5 / (~fg).float().mean()
            if fg[r, c]:
                assert w[r, c] == pytest.approx(float(wc), rel=1e-5)
                continue
            p = torch.tensor([[r, c]], dtype=torch.float32)
            d = sorted(float(torch.cdist(p, o).min()) for o in objs)
            ref = wc + 10.0 * math.exp(-((d[0] + d[1]) ** 2) / (2 * 3.0**2))
            assert w[r, c] == pytest.approx(float(ref), rel=1e-4, abs=1e-4)
    assert w[5, 8] > 6 > 1 > w[0, 19]  # in the 2-pixel gap, and far from every object


def test_skips_carry_per_pixel_detail():
    """A random per-pixel mask (pixel > 0.5) does not fit through a bottleneck that
    holds 512 numbers for 1,024 pixels. Fails if the skips are not wired into the
    decoder (a U-Net without them cannot fit it), or if training does not learn."""
    torch.manual_seed(0)
    x = torch.rand(16, 1, 32, 32)
    m = (x > 0.5).float()
    ones = torch.ones_like(m)
    fit = {}
    for skips in (True, False):
        torch.manual_seed(0)
        model = UNet(width=4, depth=3, skips=skips)  # bottleneck 32 x 4 x 4
        hist = train(model, x, m, ones, epochs=60, batch_size=8, lr=1e-2, seed=0)
        fit[skips] = iou(predict(model, x), m)
    assert len(hist["loss"]) == 60 and hist["loss"][-1] < hist["loss"][0]
    assert fit[True] > 0.9  # a constant mask scores 0.5 at best
    assert fit[False] < 0.75


def test_elastic_grid_is_the_identity_at_zero_and_moves_pixels_otherwise():
    x = torch.rand(2, 1, 16, 16)
    g = elastic_grid(2, 16, 16, sd=0.0)
    assert torch.allclose(F.grid_sample(x, g, align_corners=False), x, atol=1e-5)
    g = elastic_grid(64, 16, 16, sd=4.0, generator=torch.Generator().manual_seed(0))
    shift = (g - elastic_grid(64, 16, 16, sd=0.0)) * 16 / 2  # in pixels
    assert 2.5 < shift.std() < 5.0  # about 4 px, smooth between the 3x3 grid points


def test_augment_moves_image_mask_and_weights_together():
    """Fails if the mask or the weight map get a different rotation, flip or
    deformation than the image."""
    torch.manual_seed(0)
    x = F.interpolate(torch.rand(4, 1, 6, 6), size=(48, 48), mode="bilinear")
    m = (x > 0.5).float()
    g = torch.Generator().manual_seed(1)
    xa, ma, wa = augment(x, m, 2 * m + 1, elastic_sd=4.0, generator=g)
    assert ((xa > 0.5).float() == ma).float().mean() > 0.97
    assert torch.equal(wa, 2 * ma + 1)
