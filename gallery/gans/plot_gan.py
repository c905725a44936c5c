"""
GAN on a ring of eight Gaussians
================================

A small MLP GAN trained with the module's own ``train`` on a 2-D ring of eight Gaussians
(standard deviation 0.02, radius 2), where what a GAN is known to get wrong can be
counted: how many of the eight modes its samples cover, and how many of its samples lie
within 3 standard deviations of a mode. The headline counts both at once: the share of
samples within 3 standard deviations of a mode, no mode credited with more than its own
eighth, so a generator collapsed onto one mode scores 1/8 and the data itself about
0.99. Target: 0.8, fixed before the run. In the same run: the same generator and budget
trained without a discriminator, on a fixed kernel two-sample statistic (MMD, the
ablation), and a Gaussian mixture fitted by EM (the baseline a practitioner would fit to
2-D data).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import scale, start
from _gan_baselines import gmm_sampler, train_mmd
from gan import Discriminator, Generator, balanced_quality, mode_stats, ring, train

run = start("gan")

# %%
# Training: the settings of an earlier sweep
# ------------------------------------------
# The data is fixed (20,000 points, the same for every seed); the seed decides the
# networks' initialisation, the batches and the noise. The settings below came from a
# sweep over four settings made to pass the earlier target (0.8 of the samples within
# 3 standard deviations of a mode, a share that does not look at coverage): 3,000 steps
# of 128 points at learning rate 1e-3 had left it at 0.65-0.73, and 6,000 steps of 256
# points at 5e-4, both learning rates falling linearly to zero, is what the sweep chose.
# (A trial with a constant learning rate, seed 0, ended lower on the headline: 0.64
# against 0.79.)
STEPS, EVERY, BATCH, LR = scale(6000, 60), scale(300, 20), 256, 5e-4
data, centers = ring(20000, seed=0)
z_eval = torch.randn(10000, 2, generator=torch.Generator().manual_seed(run.seed))


def evaluate(G):
    with torch.no_grad():
        pts = G(z_eval)
    return pts, balanced_quality(pts, centers), *mode_stats(pts, centers)


def tracker(G, snaps=None):
    """A ``log`` that evaluates G every EVERY steps (and keeps three snapshots)."""
    curve = []

    def log(step, hist=None):
        if step % EVERY == 0:
            pts, bq, share, covered = evaluate(G)
            curve.append((step, bq, share, covered))
            if snaps is not None and step in (2 * EVERY, STEPS // 2, STEPS):
                snaps[step] = pts[:2000]

    return curve, log


torch.manual_seed(run.seed)
G, D = Generator(z_dim=2, hidden=128), Discriminator(hidden=128)
snaps = {}
curve, log = tracker(G, snaps)
train(G, D, data, steps=STEPS, batch_size=BATCH, lr=LR, seed=run.seed, log=log)

# %%
# The ablation: no discriminator. The same generator (the same initial weights), steps,
# batch and decaying Adam, trained to minimise the maximum mean discrepancy between a
# generated and a real batch under a fixed sum of Gaussian kernels (bandwidths 0.02,
# 0.1 and 1, from the modes' width to the ring's; not tuned): a critic that is never
# learned.
torch.manual_seed(run.seed)
G_mmd = Generator(z_dim=2, hidden=128)
curve_mmd, log = tracker(G_mmd)
train_mmd(G_mmd, data, steps=STEPS, batch_size=BATCH, lr=LR, seed=run.seed, log=log)
curve, curve_mmd = np.array(curve), np.array(curve_mmd)

# %%
# The baseline: a mixture of eight Gaussians fitted by EM to the same points, and two
# references: a generator collapsed onto one mode (the trivial map that the plain share
# within 3 standard deviations cannot tell from a good one) and fresh data.
gmm_pts = gmm_sampler(data, 8, len(z_eval), seed=run.seed)
collapsed = centers[0] + 0.02 * torch.randn(len(z_eval), 2)
fresh, _ = ring(len(z_eval), seed=1)
final = {"GAN": evaluate(G), "no discriminator (MMD)": evaluate(G_mmd)}
for name, pts in (("GMM (EM)", gmm_pts), ("one mode", collapsed), ("data", fresh)):
    final[name] = (pts, balanced_quality(pts, centers), *mode_stats(pts, centers))
for name, (_, bq, share, covered) in final.items():
    print(
        f"{name:24s} balanced {bq:.3f}  share within 3 std {share:.3f}  modes {covered}"
    )

# %%
# Modes covered during training, and what the GAN drew at three moments.
fig = plt.figure(figsize=(9, 3.4))
ax = fig.add_subplot(1, 4, 1)
ax.step(curve[:, 0], curve[:, 3], where="post", label="GAN")
ax.step(curve_mmd[:, 0], curve_mmd[:, 3], where="post", label="MMD")
ax.set(
    xlabel="step",
    ylabel="modes covered (of 8)",
    ylim=(-0.3, 8.3),
    title="Mode coverage",
)
ax.legend(fontsize=7, loc="lower right")
for i, (step, pts) in enumerate(sorted(snaps.items())):
    ax = fig.add_subplot(1, 4, i + 2)
    ax.scatter(data[:2000, 0], data[:2000, 1], s=2, c="0.8")
    ax.scatter(pts[:, 0], pts[:, 1], s=2, c="C3", alpha=0.5)
    ax.set(
        xlim=(-2.6, 2.6),
        ylim=(-2.6, 2.6),
        aspect="equal",
        xticks=[],
        yticks=[],
        title=f"GAN, step {step}",
    )
fig.tight_layout()
plt.show()

# %%
# The headline over training for the GAN and the ablation, beside the plain share within
# 3 standard deviations.
fig, ax = plt.subplots(1, 2, figsize=(8, 3))
for c, label in ((curve, "GAN"), (curve_mmd, "no discriminator (MMD)")):
    ax[0].plot(c[:, 0], c[:, 1], label=label)
    ax[1].plot(c[:, 0], c[:, 2], label=label)
ax[0].axhline(0.8, ls="--", c="k", lw=1, label="target 0.8")
ax[0].set(xlabel="step", ylabel="balanced share", title="Within 3 std, per mode capped")
ax[1].set(xlabel="step", ylabel="share", title="Within 3 std of any mode")
for a in ax:
    a.set_ylim(0, 1)
    a.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
# Final samples of the three samplers (2,000 points each).
fig, axes = plt.subplots(1, 3, figsize=(8, 2.9))
for ax, name in zip(axes, list(final)[:3]):
    pts, bq = final[name][0][:2000], final[name][1]
    ax.scatter(data[:2000, 0], data[:2000, 1], s=2, c="0.8")
    ax.scatter(pts[:, 0], pts[:, 1], s=2, c="C3", alpha=0.5)
    ax.set(
        xlim=(-2.6, 2.6),
        ylim=(-2.6, 2.6),
        aspect="equal",
        xticks=[],
        yticks=[],
        title=f"{name}\nbalanced share {bq:.2f}",
    )
    ax.title.set_fontsize(8)
fig.tight_layout()
plt.show()

# %%
# Results
# -------
run.series("balanced_quality", curve[:, 0], curve[:, 1], y_name="balanced share")
value = {name: v[1] for name, v in final.items()}
run.metric(
    "ring_balanced_share_within_3std",
    value["GAN"],
    target=0.8,
    baseline=value["GMM (EM)"],
    baseline_name="Gaussian mixture, EM",
    ablation=value["no discriminator (MMD)"],
    ablation_name="no discriminator, MMD",
    headline=True,
)
run.metric("ring_balanced_share_collapsed_generator", value["one mode"], fmt=".3f")
run.metric(
    "ring_share_within_3std",
    final["GAN"][2],
    baseline=final["one mode"][2],
    baseline_name="collapsed onto one mode",
    ablation=final["no discriminator (MMD)"][2],
    ablation_name="no discriminator, MMD",
)
run.metric(
    "ring_modes_covered_of_8",
    final["GAN"][3],
    baseline=final["GMM (EM)"][3],
    baseline_name="Gaussian mixture, EM",
    ablation=final["no discriminator (MMD)"][3],
    ablation_name="no discriminator, MMD",
    fmt=".0f",
)
run.metric("ring_balanced_share_fresh_data", value["data"])
run.finish()
