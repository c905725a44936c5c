"""
FCN-8s segmenting cell nuclei
=============================

Trains a scaled-down FCN-8s (a five-stage VGG-like classifier made fully convolutional,
with 1x1 score layers on three pooling levels fused by learned upsampling) to mark the
nuclei in the same real fluorescence image as the U-Net example, on the same split:
training tiles from the left 384 columns, test tiles from the right 128 columns, never
seen in training. The metric is the intersection over union (IoU) of predicted and true
nucleus pixels on the test region. Baseline from the same run: Otsu's threshold after a
light Gaussian blur.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from skimage.filters import gaussian, threshold_otsu

import toydata
from _example import DEVICE, scale, start
from fcn import FCN8s, iou, train

run = start("fcn")

# %%
# The data: 64x64 tiles, 165 overlapping ones for training and 16 disjoint ones for
# testing.
x_train, m_train, x_test, m_test = toydata.nuclei_tiles()
n = scale(len(x_train), 8)
x_train, m_train = x_train[:n], m_train[:n]
print(f"train tiles {tuple(x_train.shape)}, test tiles {tuple(x_test.shape)}")


def otsu(x):
    """Classical baseline: blur the test region lightly, then threshold it at Otsu's
    level."""
    b = np.stack([gaussian(t[0].numpy(), sigma=1) for t in x])
    return torch.tensor(b > threshold_otsu(b), dtype=torch.float32)[:, None]


otsu_iou = iou(otsu(x_test), m_test)

# %%
# Train. A 64x64 tile shrinks to a 2x2 grid of scores at the top (1/32); the two skips
# bring in the 4x4 (pool4) and 8x8 (pool3) score maps before the final 8x upsampling.
torch.manual_seed(0)
model = FCN8s(width=16)
params = sum(p.numel() for p in model.parameters())
t0 = time.perf_counter()
hist = train(model, x_train, m_train, epochs=scale(30, 1), device=DEVICE)
seconds = time.perf_counter() - t0

logits = model.eval()(x_test.to(DEVICE)).detach().cpu()
prob, pred = torch.sigmoid(logits), (logits > 0).float()
fcn_iou = iou(pred, m_test)
print(f"FCN-8s IoU {fcn_iou:.3f}  params {params:,}  {seconds:.1f} s")
print(f"Otsu IoU {otsu_iou:.3f}")

# %%
# Four test tiles: the image, the truth, the FCN-8s probability of "nucleus" and its
# mask. The final step is a fixed 8x bilinear upsampling of an 8x8 score map, so edges
# come out smooth and rounded: fine detail can only come from the pool3 skip, itself at
# 1/8 resolution.
show = [1, 6, 9, 14]
rows = [
    ("image", x_test),
    ("truth", m_test),
    ("P(nucleus)", prob),
    (f"FCN-8s (IoU {fcn_iou:.2f})", pred),
]
fig, axes = plt.subplots(len(rows), len(show), figsize=(8, 8))
for r, (label, data) in enumerate(rows):
    for c, i in enumerate(show):
        ax = axes[r, c]
        ax.imshow(data[i, 0], cmap="magma" if r == 2 else "gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_ylabel(label, fontsize=9)
fig.suptitle("Held-out test tiles")
plt.tight_layout()
plt.show()

# %%
# Training loss per epoch, and the FCN-8s probability of "nucleus" on one test tile with
# the true outline on top.
fig, axes = plt.subplots(
    1, 2, figsize=(8, 3.2), gridspec_kw=dict(width_ratios=[1.6, 1])
)
axes[0].plot(range(1, len(hist) + 1), hist, marker=".")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("binary cross-entropy")
axes[0].set_title("Training loss")
i = show[1]
axes[1].imshow(prob[i, 0], cmap="magma", vmin=0, vmax=1)
axes[1].contour(m_test[i, 0].numpy(), levels=[0.5], colors="white", linewidths=1)
axes[1].set_title("P(nucleus), true outline", fontsize=10)
axes[1].set_xticks([])
axes[1].set_yticks([])
plt.tight_layout()
plt.show()

# %%
run.metric(
    "test_iou",
    fcn_iou,
    baseline=otsu_iou,
    baseline_name="Otsu after blur",
    headline=True,
)
run.metric("parameters", params, fmt=",.0f")
run.finish()
