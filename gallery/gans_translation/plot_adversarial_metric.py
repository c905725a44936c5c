"""
Adversarial metric learning on held-out digit classes
=====================================================

A distance between digit images is learned from pairs of the digits 0 to 4 only, and
measured on the test digits 5 to 9, classes it never saw: Recall@1 is the share of those
test digits whose nearest neighbour in the learned metric has the same class. The same
embedding is trained twice in the same run with the same steps: on the original pairs
alone, and with a generator that turns each pair into a nearby confusing pair that the
metric must also get right. Euclidean distance on raw pixels is printed for reference.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from adversarial_metric import Embedding, PairGenerator, recall_at_1, train

run = start("adversarial_metric")

# %%
# Train on the digits 0-4, test on the held-out test digits 5-9.
x, y, xt, yt = toydata.mnist()
seen, unseen = y < 5, yt >= 5
x, y, xt, yt = x[seen], y[seen], xt[unseen], yt[unseen]
x, y = x[: scale(len(x), 200)], y[: scale(len(y), 200)]
steps = scale(600, 5)
dim, unit = 32, False

# %%
# The plain metric, then the same metric trained against the pair generator.
torch.manual_seed(0)
f0 = Embedding(dim=dim, unit=unit).to(DEVICE)
hist0 = train(f0, None, x, y, steps=steps)
r_plain = recall_at_1(f0, xt, yt)

torch.manual_seed(0)
f, G = Embedding(dim=dim, unit=unit).to(DEVICE), PairGenerator(eps=0.3).to(DEVICE)
hist = train(f, G, x, y, steps=steps)
r_aml = recall_at_1(f, xt, yt)

d = torch.cdist(xt.flatten(1), xt.flatten(1))
d.fill_diagonal_(float("inf"))
r_pixels = (yt[d.argmin(1)] == yt).float().mean().item()
print(
    f"Recall@1 on unseen classes 5-9: AML {r_aml:.3f}, plain metric {r_plain:.3f}, "
    f"raw pixels {r_pixels:.3f}"
)

# %%
# Generated pairs: each original pair (top) and the confusing pair the generator made
# from it (bottom). Similar pairs get pushed apart, dissimilar ones pulled together,
# within +-0.3 a pixel.
from adversarial_metric import sample_pairs  # noqa: E402

torch.manual_seed(1)
a, b, same = sample_pairs(x, y, 6)
with torch.no_grad():
    a2, b2 = (t.cpu() for t in G(a.to(DEVICE), b.to(DEVICE)))
fig, axes = plt.subplots(2, 12, figsize=(8, 1.9))
for k in range(6):
    for r, (p, q) in enumerate([(a, b), (a2, b2)]):
        for c, img in enumerate((p[k], q[k])):
            ax = axes[r, 2 * k + c]
            ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
    axes[0, 2 * k].set_title("same" if same[k] else "different", fontsize=8, loc="left")
(
    axes[0, 0].set_ylabel("pair", fontsize=8),
    axes[1, 0].set_ylabel("generated", fontsize=8),
)
fig.suptitle("Training pairs and the generator's confusing pairs", fontsize=10)
fig.tight_layout()

# %%
# Recall@1 on the unseen classes, and the training losses.
smooth = lambda v: np.convolve(v, np.ones(20) / 20, mode="valid") if len(v) > 20 else v  # noqa
fig, (a1, a2) = plt.subplots(
    1, 2, figsize=(8, 3.2), gridspec_kw=dict(width_ratios=[1, 1.6])
)
bars = a1.bar(
    ["pixels", "plain\nmetric", "AML"],
    [r_pixels, r_plain, r_aml],
    color=["tab:gray", "tab:orange", "tab:blue"],
)
a1.bar_label(bars, fmt="%.3f")
a1.set_ylim(0, 1), a1.set_ylabel("Recall@1"), a1.set_title("Test digits 5-9 (unseen)")
a2.plot(smooth(hist0["metric"]), label="plain: real pairs", color="tab:orange")
a2.plot(smooth(hist["metric"]), label="AML: real pairs", color="tab:blue")
a2.plot(smooth(hist["adv"]), label="AML: generated pairs", color="tab:blue", ls="--")
a2.set_yscale("log"), a2.set_xlabel("step"), a2.set_ylabel("contrastive loss")
a2.set_title("Training (digits 0-4)"), a2.legend(fontsize=8)
fig.tight_layout()

# %%
# The target is the comparison: beat the same metric trained without adversarial
# pairs.
run.metric(
    "recall_at_1_unseen",
    r_aml,
    target=r_plain,
    baseline=r_plain,
    baseline_name="metric without adversarial pairs",
    headline=True,
)
run.metric("recall_at_1_unseen_pixels", r_pixels)
run.finish()
