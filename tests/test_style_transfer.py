import torch

import toydata
from style_transfer import EfficientNetLite0Features, gram, style_transfer_losses, train


def test_feature_shapes_and_post_activation_taps():
    """The taps are the depthwise activations after ReLU6, so they lie in [0, 6] and
    have the expanded widths. Fails if the taps are the blocks' linear-bottleneck
    outputs (signed, and 16/24/40/80/112 channels wide)."""
    net = EfficientNetLite0Features(taps=(0, 2, 4, 7, 10))
    net.load_weights(toydata.efficientnet_lite0_weights())  # every weight must match
    with torch.no_grad():
        feats = net(torch.rand(1, 3, 64, 64))
    assert [tuple(f.shape[1:]) for f in feats] == [
        (32, 32, 32),
        (144, 16, 16),
        (240, 8, 8),
        (480, 4, 4),
        (672, 4, 4),
    ]
    assert all(float(f.min()) >= 0 and float(f.max()) <= 6 for f in feats)
    assert all(float((f > 0).float().mean()) > 0.05 for f in feats)


def test_port_recognises_a_cat_and_an_espresso():
    """The whole network with the released weights names skimage's photos: the cat as
    a cat (ImageNet 281-285), the coffee as espresso (967). Fails if a block is
    mis-wired (its residual dropped); a missing or misnamed weight fails the load."""
    net = EfficientNetLite0Features().load_weights(toydata.efficientnet_lite0_weights())
    x = torch.stack(
        [toydata.photo(n, 224)[:, :224, :224] for n in ("chelsea", "coffee")]
    )
    with torch.no_grad():
        p = net.logits(x).softmax(1)
    assert int(p[0].argmax()) in range(281, 286) and float(p[0, 281:286].sum()) > 0.7
    assert int(p[1].argmax()) == 967


def test_gram_symmetric_and_scaling():
    torch.manual_seed(0)
    f = torch.randn(2, 5, 4, 3)
    g = gram(f)
    assert g.shape == (2, 5, 5)
    assert torch.allclose(g, g.transpose(1, 2))
    # by hand: G_ij = sum_p F_ip F_jp / (C H W)
    flat = f[0].reshape(5, 12)
    assert torch.allclose(g[0, 1, 3], (flat[1] * flat[3]).sum() / 60)
    # scaling the features by a multiplies the Gram matrix by a^2; it ignores the layout
    assert torch.allclose(gram(3 * f), 9 * g, atol=1e-5)
    perm = torch.randperm(12)
    shuffled = f.reshape(2, 5, 12)[:, :, perm].reshape(2, 5, 4, 3)
    assert torch.allclose(gram(shuffled), g, atol=1e-6)


def test_losses_zero_at_targets_and_train_lowers_style():
    torch.manual_seed(0)
    net = EfficientNetLite0Features(taps=(0, 2)).eval().requires_grad_(False)
    x = torch.rand(1, 3, 32, 32)
    feats = net(x)
    c, s = style_transfer_losses(feats, feats, [gram(f) for f in feats], 1, (0, 1))
    assert c.item() == 0 and s.item() == 0
    photo = torch.rand(3, 32, 32)
    image = photo.clone()
    hist = train(
        net,
        image,
        photo,
        torch.rand(3, 32, 32),
        steps=15,
        lr=0.05,
        style_weight=1e3,
        content_layer=1,
        style_layers=(0, 1),
    )
    assert hist["style"][-1] < 0.5 * hist["style"][0]
    # the image passed in is the one optimised, in place, and stays in [0, 1]
    assert (image - photo).abs().max() > 1e-3 and 0 <= image.min() <= image.max() <= 1
