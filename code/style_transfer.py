"""Neural style transfer (Gatys, Ecker and Bethge, "Image Style Transfer Using
Convolutional Neural Networks", CVPR 2016; first as "A Neural Algorithm of Artistic
Style", arXiv:1508.06576). The features of a network pretrained on ImageNet separate
content from style: the feature maps themselves say what is where (content), while their
Gram matrices, the correlations between channels summed over all positions, keep
textures and colours but forget the layout (style). The method optimises the pixels of
an image so that its deep features match a photo and its Gram matrices match a painting.
Here the feature network is EfficientNet-Lite0 (Tan and Le 2019, the variant without
squeeze-excitation and with ReLU6) instead of the paper's VGG-19.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

# EfficientNet-Lite0's stages: (expansion, kernel, stride, in channels, out channels,
# repeats)
LITE0 = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expansion, depthwise kxk, 1x1 linear projection
    (attribute names follow the released weights)."""

    def __init__(self, expand, k, stride, c_in, c_out):
        super().__init__()
        mid = c_in * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3)
        self._depthwise_conv = nn.Conv2d(
            mid, mid, k, stride, k // 2, groups=mid, bias=False
        )
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3)
        self._project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, eps=1e-3)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        h = (
            F.relu6(self._bn0(self._expand_conv(x)))
            if hasattr(self, "_expand_conv")
            else x
        )
        h = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(h)))))
        return x + h if self.residual else h


class EfficientNetLite0Features(nn.Module):
    """The convolutional trunk of EfficientNet-Lite0; ``forward`` returns the outputs of
    the blocks listed in ``taps`` (block 0: 1/2 resolution, 2: 1/4, 4: 1/8, 7 and 10:
    1/16). Inputs are RGB in [0, 1]; the network's own normalisation to [-1, 1] is
    applied inside."""

    def __init__(self, taps=(0, 2, 4, 7, 10)):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3)
        self._blocks = nn.ModuleList(
            MBConv(e, k, s if r == 0 else 1, c_in if r == 0 else c_out, c_out)
            for e, k, s, c_in, c_out, n in LITE0
            for r in range(n)
        )
        self.taps = tuple(taps)

    def load_weights(self, path):
        """Load the released state dict (its head and classifier are not needed and
        skipped)."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        missing, _ = self.load_state_dict(state, strict=False)
        if missing:
            raise KeyError(f"weights file lacks {missing[:5]} ...")
        return self.eval().requires_grad_(False)

    def forward(self, x):
        h = F.relu6(self._bn0(self._conv_stem((x - 0.5) / 0.5)))
        feats = []
        for i, block in enumerate(self._blocks[: max(self.taps) + 1]):
            h = block(h)
            if i in self.taps:
                feats.append(h)
        return feats


def gram(f):
    """Gram matrix of feature maps (N, C, H, W): G = F F^T / (C H W), shape (N, C,
    C)."""
    n, c, h, w = f.shape
    f = f.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def style_transfer_losses(
    feats, content_feats, style_grams, content_layer, style_layers
):
    """Content: mean squared difference of the features at ``content_layer``. Style: sum
    over ``style_layers`` of the mean squared difference of the Gram matrices."""
    content = F.mse_loss(feats[content_layer], content_feats[content_layer])
    style = sum(F.mse_loss(gram(feats[i]), style_grams[i]) for i in style_layers)
    return content, style


def train(
    net,
    content_img,
    style_img,
    steps=200,
    lr=0.02,
    style_weight=1e5,
    content_layer=3,
    style_layers=(0, 1, 2, 3, 4),
    device="cpu",
):
    """Optimise the pixels, starting from the content photo, with Adam on content +
    style_weight * style. Images are (3, H, W) in [0, 1]. Returns the final image and a
    history of both losses."""
    net.to(device)
    with torch.no_grad():
        content_feats = net(content_img[None].to(device))
        style_grams = [gram(f) for f in net(style_img[None].to(device))]
    x = content_img[None].clone().to(device).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    history = {"content": [], "style": []}
    for _ in range(steps):
        c, s = style_transfer_losses(
            net(x), content_feats, style_grams, content_layer, style_layers
        )
        loss = c + style_weight * s
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        history["content"].append(c.item())
        history["style"].append(s.item())
    return x.detach()[0].cpu(), history


if __name__ == "__main__":
    torch.manual_seed(0)
    net = (
        EfficientNetLite0Features().eval().requires_grad_(False)
    )  # random weights here
    out, h = train(net, torch.rand(3, 64, 64), torch.rand(3, 64, 64), steps=5)
    print(
        f"content loss {h['content'][-1]:.4f}, style loss {h['style'][0]:.3g} -> "
        f"{h['style'][-1]:.3g}"
    )
