"""
U-Net segmenting cell nuclei, with and without skips
====================================================

Trains a small U-Net to mark the nuclei in a real fluorescence microscopy image (the
512x512 image shipped with stardist, with its 125 hand-labelled nuclei). Training tiles
come from the left 384 columns; the test tiles cover the right 128 columns, a region the
network never saw. The metric is the intersection over union (IoU) of predicted and true
nucleus pixels on the test region; target 0.85. Baseline from the same run: Otsu's
threshold after a light Gaussian blur. The same network without its skip connections is
trained in the same run as an ablation.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from skimage.filters import gaussian, threshold_otsu

import toydata
from _example import DEVICE, scale, start
from unet import UNet, iou, train

run = start("unet")

# %%
# The data: 64x64 tiles, 165 overlapping ones for training and 16 disjoint ones for
# testing.
x_train, m_train, x_test, m_test = toydata.nuclei_tiles()
n = scale(len(x_train), 8)
x_train, m_train = x_train[:n], m_train[:n]
print(
    f"train tiles {tuple(x_train.shape)}, test tiles {tuple(x_test.shape)}, "
    f"nucleus pixels {m_train.mean():.0%}"
)


def otsu(x):
    """Classical baseline: blur the test region lightly, then threshold it at Otsu's
    level."""
    b = np.stack([gaussian(t[0].numpy(), sigma=1) for t in x])
    return torch.tensor(b > threshold_otsu(b), dtype=torch.float32)[:, None]


otsu_iou = iou(otsu(x_test), m_test)

# %%
# Train the U-Net and, with the same settings, the same network with its skips removed.
EPOCHS = scale(25, 1)
results = {}
for skips in (True, False):
    torch.manual_seed(0)
    model = UNet(width=8, depth=3, skips=skips)
    t0 = time.perf_counter()
    hist = train(model, x_train, m_train, epochs=EPOCHS, device=DEVICE)
    with torch.no_grad():
        prob = torch.sigmoid(model.to(DEVICE).eval()(x_test.to(DEVICE))).cpu()
    results[skips] = dict(
        hist=hist,
        prob=prob,
        pred=(prob > 0.5).float(),
        params=sum(p.numel() for p in model.parameters()),
        seconds=time.perf_counter() - t0,
    )
    results[skips]["iou"] = iou(results[skips]["pred"], m_test)
for skips, r in results.items():
    print(
        f"{'U-Net' if skips else 'no skips':9s} IoU {r['iou']:.3f}  params "
        f"{r['params']:,}  "
        f"{r['seconds']:.1f} s"
    )
print(f"Otsu      IoU {otsu_iou:.3f}")

# %%
# Four test tiles: the image, the truth, and both networks' predictions.
show = [1, 6, 9, 14]
rows = [
    ("image", x_test, "gray"),
    ("truth", m_test, "gray"),
    (f"U-Net (IoU {results[True]['iou']:.2f})", results[True]["pred"], "gray"),
    (f"no skips (IoU {results[False]['iou']:.2f})", results[False]["pred"], "gray"),
]
fig, axes = plt.subplots(len(rows), len(show), figsize=(8, 8))
for r, (label, data, cmap) in enumerate(rows):
    for c, i in enumerate(show):
        ax = axes[r, c]
        ax.imshow(data[i, 0], cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_ylabel(label, fontsize=9)
fig.suptitle("Held-out test tiles")
plt.tight_layout()
plt.show()

# %%
# A close-up of boundaries: the true outline (white) over each network's probability of
# "nucleus". Without skips the decoder has only the 8x8 bottleneck to go on, and its
# edges are blurred and blocky; the skips hand it the full-resolution features that
# place them.
i, (r0, c0), s = show[1], (8, 8), 32
fig, axes = plt.subplots(1, 3, figsize=(8, 3))
crop = lambda t: t[i, 0, r0 : r0 + s, c0 : c0 + s].numpy()  # noqa: E731
for ax, (title, img) in zip(
    axes,
    [
        ("image", crop(x_test)),
        ("U-Net P(nucleus)", crop(results[True]["prob"])),
        ("no skips P(nucleus)", crop(results[False]["prob"])),
    ],
):
    ax.imshow(img, cmap="magma" if "P" in title else "gray", vmin=0, vmax=1)
    ax.contour(crop(m_test), levels=[0.5], colors="white", linewidths=1)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"Boundary close-up ({s}x{s} pixels of a test tile; white: true outline)")
plt.tight_layout()
plt.show()

# %%
# Training loss per epoch.
fig, ax = plt.subplots(figsize=(8, 3))
for skips, r in results.items():
    ax.plot(
        range(1, len(r["hist"]) + 1),
        r["hist"],
        marker=".",
        label="U-Net" if skips else "no skips",
    )
ax.set_xlabel("epoch")
ax.set_ylabel("BCE + soft Dice")
ax.set_title("Training loss")
ax.legend()
plt.tight_layout()
plt.show()

# %%
run.metric(
    "test_iou",
    results[True]["iou"],
    target=0.85,
    baseline=otsu_iou,
    baseline_name="Otsu after blur",
    headline=True,
)
run.metric(
    "test_iou_without_skips",
    results[False]["iou"],
    baseline=otsu_iou,
    baseline_name="Otsu after blur",
)
run.finish()
