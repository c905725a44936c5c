"""
FCN-8s, 16s and 32s segmenting cell nuclei
==========================================

Trains a scaled-down FCN (a five-stage VGG-like network made fully convolutional, with
1x1 score layers fused by learned upsampling) to mark the nuclei in the same real
fluorescence image and on the same split as the U-Net example: training tiles from the
left 320 columns, a validation strip (the next 64) on which every choice was made, and
the test strip (the right 128 columns), scored once at the end. The backbone is trained
from scratch on these tiles (the paper converted an ImageNet classifier).

Headline: the **boundary F-score** of FCN-8s on the test strip (outline pixels within 2
px of the true outline, and the reverse), with pooled IoU and object counts beside it.
The paper's own evidence for its skips is the FCN-32s -> 16s -> 8s table; the same run
trains all three (same backbone, seed, batches and epochs): FCN-32s, with no skips, is
the ablation. The baseline is the classical pipeline of the U-Net example (blur,
threshold, watershed), tuned on the validation strip.
"""

# %%
import matplotlib.pyplot as plt
import torch

import _seg
from _example import DEVICE, SMOKE, scale, start
from fcn import FCN, train

run = start("fcn")

# %%
# The data: 135 overlapping 64x64 training tiles; the validation and test strips are
# predicted whole (their sides, 512 by 64 and 128, are multiples of 32).
tr, val, test = _seg.data()
n = scale(len(tr["x"]), 8)
x_train, m_train = tr["x"][:n], tr["m"][:n]
settings = (1, 0.15, 3) if SMOKE else _seg.tune_classical(val)
classical = _seg.classical(test["x"], *settings)
base = _seg.scores(classical, test)

# %%
# Train FCN-8s, 16s and 32s. A 64x64 tile shrinks to a 2x2 grid of scores at the top
# (1/32); FCN-16s adds pool4's 4x4 scores, FCN-8s also pool3's 8x8 ones, before the
# final fixed bilinear upsampling.
EPOCHS = scale(45, 1)  # chosen on the validation strip (30 did worse)
res = {}
for stride in (8, 16, 32):
    torch.manual_seed(run.seed)
    model = FCN(width=8, stride=stride)
    hist = train(model, x_train, m_train, epochs=EPOCHS, device=DEVICE, seed=run.seed)
    prob = {
        k: _seg.probability(model, r["x"], DEVICE)[0, 0]
        for k, r in (("val", val), ("test", test))
    }
    res[f"FCN-{stride}s"] = dict(
        hist=hist["loss"],
        prob=prob["test"],
        params=sum(p.numel() for p in model.parameters()),
        val=_seg.scores(prob["val"] > 0.5, val),
        test=_seg.scores(prob["test"] > 0.5, test),
    )
res["classical"] = dict(
    val=_seg.scores(_seg.classical(val["x"], *settings), val), test=base
)
print(f"{'':10s} {'val bF':>7s} {'bF':>6s} {'IoU':>6s} {'obj F1':>7s} merged split")
for name, r in res.items():
    t = r["test"]
    print(
        f"{name:10s} {r['val']['boundary_f']:7.3f} {t['boundary_f']:6.3f} "
        f"{t['iou']:6.3f} {t['f1']:7.3f} {t['merged']:6d} {t['split']:5d}"
    )

# %%
# The test strip (rotated to lie flat) and each model's mask, coloured by connected
# component. FCN-32s can only draw blobs as fine as its 1/32 score grid allows.
_seg.show_strips(
    test,
    {k: res[k]["prob"].numpy() > 0.5 for k in ("FCN-8s", "FCN-16s", "FCN-32s")},
    "Held-out test strip; masks coloured by connected component",
)

# %%
# A close-up: each model's probability of "nucleus" with the true outline on top.
_seg.show_closeup(test, {k: res[k]["prob"] for k in ("FCN-8s", "FCN-16s", "FCN-32s")})

# %%
# Training loss per epoch.
fig, ax = plt.subplots(figsize=(8, 2.8))
for name in ("FCN-8s", "FCN-16s", "FCN-32s"):
    ax.plot(range(1, EPOCHS + 1), res[name]["hist"], marker=".", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("binary cross-entropy")
ax.legend()
plt.tight_layout()
plt.show()

# %%
# Target (fixed before the final runs): the tuned classical pipeline's test boundary
# F-score plus 0.05, the same bar as the U-Net's (the pipeline is deterministic, so
# the bar is the same for every seed).
f8, f16, f32 = (res[k]["test"] for k in ("FCN-8s", "FCN-16s", "FCN-32s"))
run.metric(
    "test_boundary_f",
    f8["boundary_f"],
    target=base["boundary_f"] + 0.05,
    baseline=base["boundary_f"],
    baseline_name="blur + threshold + watershed, tuned",
    ablation=f32["boundary_f"],
    ablation_name="FCN-32s, no skips",
    headline=True,
)
run.metric("test_boundary_f_fcn16s", f16["boundary_f"])
run.metric("test_boundary_f_fcn32s", f32["boundary_f"])
run.metric(
    "test_iou",
    f8["iou"],
    baseline=base["iou"],
    baseline_name="classical",
    ablation=f32["iou"],
    ablation_name="FCN-32s",
)
run.metric("test_iou_fcn16s", f16["iou"])
run.metric("test_iou_fcn32s", f32["iou"])
run.metric(
    "test_object_f1",
    f8["f1"],
    baseline=base["f1"],
    baseline_name="classical",
    ablation=f32["f1"],
    ablation_name="FCN-32s",
)
run.metric("parameters", res["FCN-8s"]["params"], fmt=",.0f")
run.finish()
