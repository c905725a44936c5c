"""
Bad-GAN semi-supervised learning on MNIST with 100 labels
=========================================================

Ten labelled digits per class (100 in all) and 3,500 training digits without labels;
the last 500 training digits are a validation split, kept out of training. A
(K+1)-class discriminator learns from the labels, from the unlabelled digits and from a
generator trained by the authors' MNIST recipe: feature matching plus a low-density
term that penalises samples a density model of the digits finds too likely (here a
Gaussian kernel density on the leading principal components; the threshold is the 10%
quantile of its log density on the validation digits). The measure is the accuracy on
the 1,000 held-out test digits. In the same run, with the same network, steps,
schedule and weight averaging: the baseline, the network trained on the 100 labels
alone, and the ablation, the same discriminator losses on the same labelled and
unlabelled digits with no generator (so nothing is ever "generated").
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from badgan import Discriminator, Generator, KernelDensity, accuracy, train

run = start("badgan")

# %%
# The data: the validation split first, then 10 labelled digits per class among the
# unlabelled ones. Splits stay the same whatever the seed.
x, y, xt, yt = toydata.mnist()
xv, yv = x[-500:], y[-500:]
n_unl = scale(3500, 300)
x, y = x[:n_unl], y[:n_unl]
lab = torch.cat([torch.nonzero(y == k)[:10, 0] for k in range(10)])
x_lab, y_lab = x[lab], y[lab]
steps = scale(1200, 8)

# %%
# The density model and its threshold.
density = KernelDensity(x, k=30, h=0.5).to(DEVICE)
with torch.no_grad():
    log_p_val = torch.cat([density(b.to(DEVICE)).cpu() for b in xv.split(500)])
threshold = float(log_p_val.quantile(0.1))

# %%
# The baseline (labels alone), the ablation (no generator) and Bad-GAN, each from the
# run's seed.
hp = dict(steps=steps, device=DEVICE)
D0 = Discriminator()
hist0 = train(D0, None, x_lab, y_lab, None, **hp)
torch.manual_seed(run.seed)
D1 = Discriminator()
hist1 = train(D1, None, x_lab, y_lab, x, **hp)
torch.manual_seed(run.seed)
D, G = Discriminator(), Generator()
hist = train(D, G, x_lab, y_lab, x, density=density, threshold=threshold, **hp)
acc_base, acc_abl, acc = (accuracy(d, xt, yt) for d in (D0, D1, D))
print(
    f"test accuracy: Bad-GAN {acc:.3f}, no generator {acc_abl:.3f}, "
    f"labels alone {acc_base:.3f}"
)

# %%
# Settings: those of the earlier version of this example (Adam 3e-3 for D, the
# Improved-GAN noise, weight averaging, the rate falling over the last third), which
# were chosen on the test digits before this split existed; only the generator's
# recipe changed (no entropy or pull-away term, the low-density term added, Adam 1e-3
# with beta1 = 0 for G as in the authors' code), and none was re-tuned. Earlier runs of
# the old recipe kept improving with steps (0.87 at 1,200, 0.92 at 3,000 in one long
# run), so within this budget the discriminator is undertrained.
#
# Is the generator bad? The share of its samples below the density threshold (10% of
# validation digits are), and the discriminator's mean probability that they are real.
with torch.no_grad():
    G.eval(), D.eval()
    fake = G(1000)
    log_p_fake = density(fake).cpu()
    logits = D(fake)
    p_real = (torch.logsumexp(logits, 1).sigmoid()).mean().item()
    p_real_test = torch.logsumexp(D(xt[:1000].to(DEVICE)), 1).sigmoid().mean().item()
low = (log_p_fake < threshold).float().mean().item()
print(f"G's samples below the threshold: {low:.3f}; D(real) on them {p_real:.3f}")

fig, axes = plt.subplots(2, 16, figsize=(8, 1.6))
for i, ax in enumerate(axes.flat):
    ax.imshow(fake[i, 0].cpu(), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
fig.suptitle("Bad-GAN generator samples (complement samples, not digits)", fontsize=10)
fig.tight_layout()

# %%
# Test accuracy of the three, and the supervised loss on the labelled batches.
smooth = lambda v: np.convolve(v, np.ones(20) / 20, mode="valid") if len(v) > 20 else v  # noqa
fig, (a1, a2) = plt.subplots(
    1, 2, figsize=(8, 3.2), gridspec_kw=dict(width_ratios=[1.2, 2])
)
names = ["labels\nalone", "no\ngenerator", "Bad-GAN"]
bars = a1.bar(
    names, [acc_base, acc_abl, acc], color=["tab:gray", "tab:orange", "tab:blue"]
)
a1.bar_label(bars, fmt="%.3f")
a1.set_ylim(0, 1), a1.set_ylabel("test accuracy"), a1.set_title("1,000 test digits")
for h, name, c in [
    (hist0, "labels alone", "tab:gray"),
    (hist1, "no generator", "tab:orange"),
    (hist, "Bad-GAN", "tab:blue"),
]:  # noqa: E501
    a2.plot(smooth(h["sup"]), label=name, color=c)
a2.set_yscale("log"), a2.set_xlabel("step")
a2.set_ylabel("cross-entropy on labelled batch")
a2.set_title("Supervised loss"), a2.legend(fontsize=8)
fig.tight_layout()

# %%
# The target is the one this example had before its recipe changed (never loosened):
# 0.9, about the accuracy the old recipe reached with more steps.
run.metric(
    "test_accuracy",
    acc,
    target=0.9,
    baseline=acc_base,
    baseline_name="100 labels alone",
    ablation=acc_abl,
    ablation_name="no generator",
    headline=True,
)
run.metric("generated_below_density_threshold", low)
run.metric(
    "d_real_on_generated", p_real, baseline=p_real_test, baseline_name="test digits"
)
run.finish()
