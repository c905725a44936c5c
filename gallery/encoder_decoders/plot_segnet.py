"""
SegNet beside FCN and U-Net on cell nuclei
==========================================

Trains a small SegNet, whose decoder upsamples with the encoder's max-pooling indices,
to mark the nuclei in the same fluorescence image and on the same split as the U-Net and
FCN examples (training tiles from the left 384 columns, test tiles from the right 128
columns, never seen in training). For a fair comparison it also trains a small FCN-8s
and U-Net, imported from their own modules, for the same number of epochs with the same
optimiser, and tabulates each network's test IoU, parameter count and training seconds
beside the classical baseline from the same run (Otsu's threshold after a light Gaussian
blur).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from skimage.filters import gaussian, threshold_otsu

import fcn
import toydata
import unet
from _example import DEVICE, scale, start
from segnet import SegNet, iou, train

run = start("segnet")

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
# Three networks, each with its own module's ``train`` (Adam, cosine schedule, flips and
# rotations; the U-Net adds a soft Dice term to its loss, as in its own example), all
# for the same number of epochs from the same seed.
EPOCHS = scale(20, 1)
nets = {
    "SegNet": (lambda: SegNet(width=8, depth=3), train),
    "FCN-8s": (lambda: fcn.FCN8s(width=16), fcn.train),
    "U-Net": (lambda: unet.UNet(width=8, depth=3), unet.train),
}
results = {}
for name, (make, fit) in nets.items():
    torch.manual_seed(0)
    model = make()
    t0 = time.perf_counter()
    hist = fit(model, x_train, m_train, epochs=EPOCHS, device=DEVICE)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        prob = torch.sigmoid(model.to(DEVICE).eval()(x_test.to(DEVICE))).cpu()
    pred = (prob > 0.5).float()
    results[name] = dict(
        hist=hist,
        prob=prob,
        pred=pred,
        iou=iou(pred, m_test),
        seconds=seconds,
        params=sum(p.numel() for p in model.parameters()),
    )

print(f"{'model':8s} {'test IoU':>8s} {'params':>9s} {'train s':>8s}")
for name, r in results.items():
    print(f"{name:8s} {r['iou']:8.3f} {r['params']:9,d} {r['seconds']:8.1f}")
print(f"{'Otsu':8s} {otsu_iou:8.3f} {0:9,d} {'-':>8s}")

# %%
# The comparison: test IoU against parameters (marker area) and training time. SegNet's
# decoder has no upsampling weights and receives no feature maps from the encoder, only
# the positions of its maxima, which is why it is the smallest of the three.
fig, axes = plt.subplots(1, 2, figsize=(8, 3.3))
colors = dict(zip(results, ["C0", "C1", "C2"]))
for name, r in results.items():
    axes[0].bar(name, r["iou"], color=colors[name])
    axes[0].text(name, r["iou"] + 0.01, f"{r['iou']:.3f}", ha="center", fontsize=9)
    axes[1].scatter(
        r["seconds"], r["iou"], s=r["params"] / 1500, color=colors[name], alpha=0.7
    )
    axes[1].annotate(
        f"{name}\n{r['params'] / 1000:.0f}k params",
        (r["seconds"], r["iou"]),
        textcoords="offset points",
        xytext=(0, 10),
        ha="center",
        fontsize=8,
    )
axes[0].axhline(
    otsu_iou, color="gray", ls="--", label=f"Otsu after blur ({otsu_iou:.3f})"
)
axes[0].set_ylim(0, 1)
axes[0].set_ylabel("test IoU")
axes[0].set_title("Held-out IoU")
axes[0].legend(loc="lower right", fontsize=8)
axes[1].set_xlabel("training seconds")
axes[1].set_ylabel("test IoU")
axes[1].set_title("IoU vs time (area: parameters)")
axes[1].margins(x=0.3, y=0.4)
plt.tight_layout()
plt.show()

# %%
# The same four test tiles for every model: the image, the truth and each network's
# mask.
show = [1, 6, 9, 14]
rows = [("image", x_test), ("truth", m_test)] + [
    (f"{k} ({r['iou']:.2f})", r["pred"]) for k, r in results.items()
]
fig, axes = plt.subplots(len(rows), len(show), figsize=(8, 9.5))
for r, (label, data) in enumerate(rows):
    for c, i in enumerate(show):
        ax = axes[r, c]
        ax.imshow(data[i, 0], cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_ylabel(label, fontsize=9)
fig.suptitle("Held-out test tiles")
plt.tight_layout()
plt.show()

# %%
# Training loss per epoch (SegNet and FCN: cross-entropy; U-Net: cross-entropy plus soft
# Dice, so its curve sits higher).
fig, ax = plt.subplots(figsize=(8, 3))
for name, r in results.items():
    ax.plot(
        range(1, len(r["hist"]) + 1),
        r["hist"],
        marker=".",
        label=name,
        color=colors[name],
    )
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("Training loss")
ax.legend()
plt.tight_layout()
plt.show()

# %%
s = results["SegNet"]
run.metric(
    "test_iou",
    s["iou"],
    baseline=otsu_iou,
    baseline_name="Otsu after blur",
    headline=True,
)
run.metric(
    "parameters",
    s["params"],
    baseline=results["U-Net"]["params"],
    baseline_name="U-Net",
    higher_is_better=False,
    fmt=",.0f",
)
run.metric(
    "train_seconds",
    s["seconds"],
    baseline=results["U-Net"]["seconds"],
    baseline_name="U-Net",
    higher_is_better=False,
    fmt=".1f",
)
run.metric(
    "fcn8s_test_iou",
    results["FCN-8s"]["iou"],
    baseline=otsu_iou,
    baseline_name="Otsu after blur",
)
run.metric(
    "unet_test_iou",
    results["U-Net"]["iou"],
    baseline=otsu_iou,
    baseline_name="Otsu after blur",
)
run.finish()
