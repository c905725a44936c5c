"""
DiscoGAN between thin and thick digits
======================================

The same unpaired domains, splits and judges as the CycleGAN example: plain MNIST (A)
and MNIST with strokes about twice as thick (B), built from different training digits;
a translation of a held-out test digit succeeds when the shared digit classifier reads
it as the input's class and a classifier of real A against real B digits puts it in the
target domain. DiscoGAN's formulation is the plain one: cross-entropy GAN losses, a
squared-error reconstruction loss with weight one, no identity loss, encoder-decoder
generators and one verdict per image. It gets CycleGAN's steps, batch size and
learning rate, not tuned again (its smaller networks take fewer seconds for them: both
examples report their training seconds). In the same run: the fixed maps (identity,
colour inversion; the true map shows the ceiling), and the ablation of the
reconstruction loss (two plain GANs).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import DEVICE, scale, start
from _translation import FIXED_MAPS, as_map, domains, score_maps, thicken
from discogan import Discriminator, Generator, train

run = start("discogan")

# %%
# The same unpaired domains as the CycleGAN example.
xa, xb, _, (xt, yt) = domains()
xa, xb = xa[: scale(len(xa), 128)], xb[: scale(len(xb), 128)]

# %%
# DiscoGAN, and the same networks, seed and steps without the reconstruction loss.
# CycleGAN's steps, batch size and learning rate (Adam 1e-3), not tuned again for
# DiscoGAN: the comparison is at equal steps, and each example reports its seconds.
width, steps = 16, scale(200, 5)
hp = dict(steps=steps, batch_size=16, lr=1e-3, device=DEVICE)


def nets():
    return (
        Generator(width),
        Generator(width),
        Discriminator(width),
        Discriminator(width),
    )


disco_nets = nets()
t0 = time.process_time()
hist = train(*disco_nets, xa, xb, **hp)
train_seconds = time.process_time() - t0
torch.manual_seed(run.seed)
abl_nets = nets()
hist_abl = train(*abl_nets, xa, xb, w_recon=0.0, **hp)


# %%
# Every map scored by the same judges on the test digits.
maps = dict(FIXED_MAPS)
maps["DiscoGAN"] = (as_map(disco_nets[0], DEVICE), as_map(disco_nets[1], DEVICE))
maps["no reconstruction"] = (as_map(abl_nets[0], DEVICE), as_map(abl_nets[1], DEVICE))
res = score_maps(maps, xt, yt, DEVICE)
trivial = max(("identity", "inversion"), key=lambda k: res[k]["success"])

# %%
# Translations both ways on held-out digits (the same digits as in the CycleGAN
# example), and the ablation's.
to_b, to_a = maps["DiscoGAN"][0](xt[:8]), maps["DiscoGAN"][1](thicken(xt[:8]))
abl_b = maps["no reconstruction"][0](xt[:8])
rows = [
    ("A (input)", xt),
    ("A -> B", to_b),
    ("no recon.", abl_b),
    ("B (input)", thicken(xt)),
    ("B -> A", to_a),
]
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 5.2))
for r, (name, imgs) in enumerate(rows):
    for c in range(8):
        axes[r, c].imshow(imgs[c, 0], cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        if c == 0:
            axes[r, c].set_ylabel(name, fontsize=9)
fig.suptitle("DiscoGAN on held-out digits: thin (A) and thick (B), both ways")
fig.tight_layout()

# %%
# Losses per step (smoothed over 20 steps).
smooth = lambda v: np.convolve(v, np.ones(20) / 20, mode="valid") if len(v) > 20 else v  # noqa
fig, ax = plt.subplots(figsize=(8, 3))
for key, label in [
    ("g_loss", "generators total"),
    ("d_loss", "discriminators"),
    ("recon", "reconstruction MSE"),
]:
    ax.plot(smooth(hist[key]), label=label)
ax.set_yscale("log"), ax.set_xlabel("step"), ax.set_ylabel("loss")
ax.set_title("DiscoGAN training"), ax.legend(ncol=3, fontsize=8)
fig.tight_layout()

# %%
# The same bar as CycleGAN's, fixed before this run: the true map's success on the
# validation split (0.887), rounded up, so a pass means a translation at least as good
# as the map that knows how B was made.
run.metric(
    "translation_success",
    res["DiscoGAN"]["success"],
    target=0.89,
    baseline=res[trivial]["success"],
    baseline_name=f"best fixed map ({trivial})",
    ablation=res["no reconstruction"]["success"],
    ablation_name="no reconstruction loss",
    headline=True,
)
run.metric("translation_success_true_map", res["true map"]["success"])
for d, name in (("ab", "a_to_b"), ("ba", "b_to_a")):
    for part in ("content", "domain"):
        best = max(("identity", "inversion"), key=lambda k: res[k][d][part])
        run.metric(
            f"{part}_{name}",
            res["DiscoGAN"][d][part],
            baseline=res[best][d][part],
            baseline_name=best,
            ablation=res["no reconstruction"][d][part],
            ablation_name="no reconstruction loss",
        )
run.metric("train_cpu_seconds", train_seconds, higher_is_better=False, fmt=".1f")
run.finish()
