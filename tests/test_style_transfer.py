import torch

import toydata
from style_transfer import EfficientNetLite0Features, gram, style_transfer_losses, train


def test_feature_shapes_and_released_weights_load():
    net = EfficientNetLite0Features(taps=(0, 2, 4, 7, 10))
    net.load_weights(toydata.efficientnet_lite0_weights())  # every trunk weight present
    with torch.no_grad():
        feats = net(torch.rand(1, 3, 64, 64))
    assert [tuple(f.shape[1:]) for f in feats] == [
        (16, 32, 32),
        (24, 16, 16),
        (40, 8, 8),
        (80, 4, 4),
        (112, 4, 4),
    ]


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
    _, hist = train(
        net,
        torch.rand(3, 32, 32),
        torch.rand(3, 32, 32),
        steps=15,
        lr=0.05,
        style_weight=1e3,
        content_layer=1,
        style_layers=(0, 1),
    )
    assert hist["style"][-1] < hist["style"][0]
