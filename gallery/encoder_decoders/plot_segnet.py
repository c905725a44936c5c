"""
SegNet segmenting cell nuclei: pooling indices against bilinear upsampling
==========================================================================

Trains a small SegNet, whose decoder upsamples with the encoder's max-pooling indices,
to mark the nuclei in the same fluorescence image and on the same split as the U-Net
and FCN examples: training tiles from the left 320 columns, a validation strip (the
next 64) on which every choice was made, and the test strip (the right 128 columns),
scored once at the end.

Headline: the **boundary F-score** on the test strip (outline pixels within 2 px of the
true outline, and the reverse), with pooled IoU and object counts beside it. The
ablation, trained in the same run with the same widths, seed, batches and epochs, is
the same network whose decoder upsamples by bilinear interpolation instead of
unpooling: the only difference is where the decoder puts each value. The baseline is
the classical pipeline of the U-Net example (blur, threshold, watershed), tuned on the
validation strip.
"""

# %%
import matplotlib.pyplot as plt
import torch

import _seg
from _example import DEVICE, SMOKE, scale, start
from segnet import SegNet, train

run = start("segnet")

# %%
# The data: 135 overlapping 64x64 training tiles; the validation and test strips are
# predicted whole.
tr, val, test = _seg.data()
n = scale(len(tr["x"]), 8)
x_train, m_train = tr["x"][:n], tr["m"][:n]
settings = (1, 0.15, 3) if SMOKE else _seg.tune_classical(val)
classical = _seg.classical(test["x"], *settings)
base = _seg.scores(classical, test)

# %%
# SegNet and its ablation: 3 levels, 8 to 32 channels, identical but for the
# upsampling (neither has upsampling weights, so they have the same parameters).
EPOCHS = scale(25, 1)
res = {}
for name, unpool in (("SegNet", True), ("bilinear", False)):
    torch.manual_seed(run.seed)
    model = SegNet(width=8, depth=3, unpool=unpool)
    hist = train(model, x_train, m_train, epochs=EPOCHS, device=DEVICE, seed=run.seed)
    prob = {
        k: _seg.probability(model, r["x"], DEVICE)[0, 0]
        for k, r in (("val", val), ("test", test))
    }
    res[name] = dict(
        hist=hist["loss"],
        prob=prob["test"],
        params=sum(p.numel() for p in model.parameters()),
        val=_seg.scores(prob["val"] > 0.5, val),
        test=_seg.scores(prob["test"] > 0.5, test),
    )
res["classical"] = dict(
    val=_seg.scores(_seg.classical(val["x"], *settings), val), test=base
)
print(f"parameters: {res['SegNet']['params']:,} (both)")
print(f"{'':10s} {'val bF':>7s} {'bF':>6s} {'IoU':>6s} {'obj F1':>7s} merged split")
for name, r in res.items():
    t = r["test"]
    print(
        f"{name:10s} {r['val']['boundary_f']:7.3f} {t['boundary_f']:6.3f} "
        f"{t['iou']:6.3f} {t['f1']:7.3f} {t['merged']:6d} {t['split']:5d}"
    )

# %%
# The test strip (rotated to lie flat) and each model's mask, coloured by connected
# component.
_seg.show_strips(
    test,
    {
        "SegNet": res["SegNet"]["prob"].numpy() > 0.5,
        "bilinear": res["bilinear"]["prob"].numpy() > 0.5,
        "classical": classical,
    },
    "Held-out test strip; masks coloured by connected component",
)

# %%
# A close-up: each model's probability of "nucleus" with the true outline on top.
_seg.show_closeup(test, {k: res[k]["prob"] for k in ("SegNet", "bilinear")})

# %%
# Training loss per epoch.
fig, ax = plt.subplots(figsize=(8, 2.8))
for name in ("SegNet", "bilinear"):
    ax.plot(range(1, EPOCHS + 1), res[name]["hist"], marker=".", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("binary cross-entropy")
ax.legend()
plt.tight_layout()
plt.show()

# %%
# Target (fixed before the final runs): the tuned classical pipeline's test boundary
# F-score plus 0.05, the bar of the U-Net and FCN examples.
s, b = res["SegNet"]["test"], res["bilinear"]["test"]
run.metric(
    "test_boundary_f",
    s["boundary_f"],
    target=base["boundary_f"] + 0.05,
    baseline=base["boundary_f"],
    baseline_name="blur + threshold + watershed, tuned",
    ablation=b["boundary_f"],
    ablation_name="bilinear upsampling, same widths",
    headline=True,
)
run.metric("test_boundary_f_bilinear", b["boundary_f"])
run.metric(
    "test_iou",
    s["iou"],
    baseline=base["iou"],
    baseline_name="classical",
    ablation=b["iou"],
    ablation_name="bilinear",
)
run.metric("test_iou_bilinear", b["iou"])
run.metric(
    "test_object_f1",
    s["f1"],
    baseline=base["f1"],
    baseline_name="classical",
    ablation=b["f1"],
    ablation_name="bilinear",
)
run.metric("parameters", res["SegNet"]["params"], fmt=",.0f")
run.finish()
