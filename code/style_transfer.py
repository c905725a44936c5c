"""Neural style transfer (Gatys, Ecker and Bethge, "Image Style Transfer Using
Convolutional Neural Networks", CVPR 2016; first as "A Neural Algorithm of Artistic
Style", arXiv:1508.06576). The features of a network pretrained on ImageNet separate
content from style: the feature maps themselves say what is where (content), while their
Gram matrices, the correlations between channels summed over all positions, keep
textures and colours but forget the layout (style). The method optimises the pixels of
an image so that its deep features match a photo and its Gram matrices match a painting.
Here the feature network is EfficientNet-Lite0 (Tan and Le 2019, the variant without
squeeze-excitation and with ReLU6) instead of the paper's VGG-19, and, as in the paper,
the features are taken after a nonlinearity: each tapped block's depthwise activation
(ReLU6), not its linear-bottleneck output.
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
    (attribute names follow the released weights). Returns the block's output and its
    depthwise activation after ReLU6 (the features tapped for style and content)."""

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
        h = x
        if hasattr(self, "_expand_conv"):
            h = F.relu6(self._bn0(self._expand_conv(x)))
        act = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(act))
        return (x + h if self.residual else h), act


class EfficientNetLite0Features(nn.Module):
    """EfficientNet-Lite0; ``forward`` returns the depthwise activations (after ReLU6)
    of the blocks listed in ``taps`` (block 0: 1/2 resolution, 2: 1/4, 4: 1/8, 7 and
    10: 1/16), ``logits`` the ImageNet class scores (to check the weights). Inputs are
    RGB in [0, 1]; the network's own normalisation to [-1, 1] is applied inside."""

    def __init__(self, taps=(0, 2, 4, 7, 10)):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3)
        self._blocks = nn.ModuleList(
            MBConv(e, k, s if r == 0 else 1, c_in if r == 0 else c_out, c_out)
            for e, k, s, c_in, c_out, n in LITE0
            for r in range(n)
        )
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=1e-3)
        self._fc = nn.Linear(1280, 1000)
        self.taps = tuple(taps)

    def load_weights(self, path):
        """Load the released state dict (every weight must match); frozen, eval mode."""
        self.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return self.eval().requires_grad_(False)

    def _trunk(self, x, depth):
        h = F.relu6(self._bn0(self._conv_stem((x - 0.5) / 0.5)))
        feats = []
        for block in self._blocks[:depth]:
            h, act = block(h)
            feats.append(act)
        return h, feats

    def forward(self, x):
        _, feats = self._trunk(x, max(self.taps) + 1)
        return [feats[i] for i in self.taps]

    def logits(self, x):
        h, _ = self._trunk(x, len(self._blocks))
        h = F.relu6(self._bn1(self._conv_head(h)))
        return self._fc(h.mean((2, 3)))


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
    image,
    content_img,
    style_img,
    *,
    steps=200,
    lr=0.02,
    style_weight=1e5,
    content_layer=3,
    style_layers=(0, 1, 2, 3, 4),
    device="cpu",
    seed=None,
    log=None,
):
    """Optimise the pixels of ``image`` (3, H, W) in [0, 1], in place, with Adam on
    content + style_weight * style (``image`` usually starts as the content photo;
    nothing is random, so ``seed`` is unused). Returns both losses of every step."""
    net.to(device)
    with torch.no_grad():
        content_feats = net(content_img[None].to(device))
        style_grams = [gram(f) for f in net(style_img[None].to(device))]
    x = image[None].detach().to(device).clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    history = {"content": [], "style": []}
    for step in range(steps):
        c, s = style_transfer_losses(
            net(x), content_feats, style_grams, content_layer, style_layers
        )
        opt.zero_grad()
        (c + style_weight * s).backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        history["content"].append(c.item())
        history["style"].append(s.item())
        if log is not None and (step + 1) % 50 == 0:
            log(f"step {step + 1}: content {c.item():.4g}, style {s.item():.4g}")
    with torch.no_grad():
        image.copy_(x[0])
    return history


if __name__ == "__main__":
    torch.manual_seed(0)
    net = (
        EfficientNetLite0Features().eval().requires_grad_(False)
    )  # random weights here
    photo, painting = torch.rand(3, 64, 64), torch.rand(3, 64, 64)
    image = photo.clone()
    h = train(net, image, photo, painting, steps=5)
    print(
        f"content loss {h['content'][-1]:.4f}, style loss {h['style'][0]:.3g} -> "
        f"{h['style'][-1]:.3g}"
    )
