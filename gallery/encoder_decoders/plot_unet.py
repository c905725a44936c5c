"""
U-Net segmenting cell nuclei: skips, border weights and boundaries
==================================================================

Trains a small U-Net to mark the nuclei in a real fluorescence microscopy image (the
512x512 image shipped with stardist, with its 125 hand-labelled nuclei). The image is
cut by columns: training tiles from the left 320 columns, a validation strip (the next
64) on which every choice was made, and the test strip (the right 128 columns), scored
once at the end. Where two nuclei touch, the pixels between them are background in the
mask, so a mask's connected components can be counted as nuclei.

Headline: the **boundary F-score** on the test strip (predicted outline pixels within 2
px of a true outline, and the reverse), where skip connections should matter most.
Beside it: pooled IoU, and an object count from connected components (object F1 at IoU
0.5, nuclei merged with a neighbour, nuclei split in pieces). Trained in the same run:
the same U-Net **without skips** (the ablation of the key idea) and **without the border
weight map** (class balancing only); the baseline is a classical pipeline (blur,
threshold, watershed split of touching blobs) tuned on the validation strip.
"""

# %%
import matplotlib.pyplot as plt
import torch

import _seg
from _example import DEVICE, SMOKE, scale, start
from unet import UNet, border_weights, train

run = start("unet")

# %%
# The data: 135 overlapping 64x64 training tiles; the validation (512x64) and test
# (512x128) strips are predicted whole. The border weight map is computed on the whole
# training region, then tiled with it.
tr, val, test = _seg.data()
n = scale(len(tr["x"]), 8)
img, mask, lab = tr["region"]
nuclei = torch.tensor(lab * (mask > 0))  # the gaps between touching nuclei: background
w_border = _seg.tiles(border_weights(nuclei, w0=10.0, sigma=5.0))[:n]
w_class = _seg.tiles(border_weights(nuclei, w0=0.0))[:n]  # class balancing only
x_train, m_train = tr["x"][:n], tr["m"][:n]
print(f"train tiles {tuple(x_train.shape)}, nucleus pixels {m_train.mean():.0%}")

# %%
# The baseline: Gaussian blur, a threshold and a watershed of the distance transform
# that splits touching blobs, with the blur, the threshold and the watershed's seed
# spacing chosen on the validation strip (by boundary F-score).
settings = (1, 0.15, 3) if SMOKE else _seg.tune_classical(val)
classical = {
    k: _seg.classical(r["x"], *settings) for k, r in (("val", val), ("test", test))
}
base = _seg.scores(classical["test"], test)
print(f"classical: blur {settings[0]}, threshold {settings[1]}, seeds {settings[2]}")

# %%
# Three U-Nets, the same widths (8 to 64 channels, 3 levels), seed, batches and epochs:
# the paper's (skips and border weights), one without skips, one without the border
# term of the weight map. Elastic deformation (implemented in ``augment``) was tried on
# the validation strip and did not help at this tile size, so only flips and rotations
# are used.
EPOCHS = scale(25, 1)
variants = {
    "U-Net": (True, w_border),
    "no skips": (False, w_border),
    "no border weights": (True, w_class),
}
res = {}
for name, (skips, weights) in variants.items():
    torch.manual_seed(run.seed)
    model = UNet(width=8, depth=3, skips=skips)
    hist = train(
        model, x_train, m_train, weights, epochs=EPOCHS, device=DEVICE, seed=run.seed
    )
    prob = {
        k: _seg.probability(model, r["x"], DEVICE)
        for k, r in (("val", val), ("test", test))
    }
    res[name] = dict(
        hist=hist["loss"],
        prob=prob["test"][0, 0],
        val=_seg.scores(prob["val"][0, 0] > 0.5, val),
        test=_seg.scores(prob["test"][0, 0] > 0.5, test),
    )
res["classical"] = dict(val=_seg.scores(classical["val"], val), test=base)

print(f"{'':18s} {'val bF':>7s} {'bF':>6s} {'IoU':>6s} {'obj F1':>7s} merged split")
for name, r in res.items():
    t = r["test"]
    print(
        f"{name:18s} {r['val']['boundary_f']:7.3f} {t['boundary_f']:6.3f} "
        f"{t['iou']:6.3f} {t['f1']:7.3f} {t['merged']:6d} {t['split']:5d}"
    )

# %%
# The test strip (rotated to lie flat): the image, the truth, the U-Net's mask and the
# masks of the ablation and the baseline, each coloured by connected component (merged
# nuclei share a colour; a split nucleus has two).
_seg.show_strips(
    test,
    {
        "U-Net": res["U-Net"]["prob"].numpy() > 0.5,
        "no skips": res["no skips"]["prob"].numpy() > 0.5,
        "no border w.": res["no border weights"]["prob"].numpy() > 0.5,
        "classical": classical["test"],
    },
    "Held-out test strip; masks coloured by connected component",
)

# %%
# A close-up of boundaries: the true outline (white) over each network's probability of
# "nucleus", on a crowded 48x48 patch of the test strip.
_seg.show_closeup(
    test, {k: res[k]["prob"] for k in ("U-Net", "no skips", "no border weights")}
)

# %%
# Training loss per epoch (weighted cross-entropy: the two weightings are on different
# scales).
fig, ax = plt.subplots(figsize=(8, 2.8))
for name in variants:
    ax.plot(range(1, EPOCHS + 1), res[name]["hist"], marker=".", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("weighted BCE")
ax.legend()
plt.tight_layout()
plt.show()

# %%
# Target (fixed before the final runs): the tuned classical pipeline's test boundary
# F-score plus 0.05. The pipeline is deterministic, so the bar is the same for every
# seed; 0.05 is several times the seed spread seen on the validation strip.
u, ns, nw = (res[k]["test"] for k in ("U-Net", "no skips", "no border weights"))
run.metric(
    "test_boundary_f",
    u["boundary_f"],
    target=base["boundary_f"] + 0.05,
    baseline=base["boundary_f"],
    baseline_name="blur + threshold + watershed, tuned",
    ablation=ns["boundary_f"],
    ablation_name="no skips",
    headline=True,
)
run.metric("test_boundary_f_no_skips", ns["boundary_f"])
run.metric("test_boundary_f_no_border_weights", nw["boundary_f"])
run.metric(
    "test_iou",
    u["iou"],
    baseline=base["iou"],
    baseline_name="classical",
    ablation=ns["iou"],
    ablation_name="no skips",
)
run.metric(
    "test_object_f1",
    u["f1"],
    baseline=base["f1"],
    baseline_name="classical",
    ablation=nw["f1"],
    ablation_name="no border weights",
)
for k in ("merged", "split"):
    run.metric(
        f"test_nuclei_{k}",
        u[k],
        higher_is_better=False,
        baseline=base[k],
        baseline_name="classical",
        ablation=nw[k],
        ablation_name="no border weights",
        fmt=".0f",
    )
run.metric(
    "test_nuclei_merged_no_skips", ns["merged"], higher_is_better=False, fmt=".0f"
)
run.finish()
