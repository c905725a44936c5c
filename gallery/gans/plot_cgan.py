"""
Conditional GAN on MNIST digits
===============================

A conditional DCGAN: the generator gets a label embedding beside its noise, the
discriminator a projection of the label onto its image features. Trained on the 4,000
training digits of MNIST 5,000. The headline is the intra-class Fréchet distance (the
measure of Miyato and Koyama): for each class, the distance in the digit classifier's
feature space between 100 samples asked for that class and the 100 held-out test digits
of it, averaged over the ten classes; it punishes samples of the wrong class and samples
without variety alike. The share of samples that the classifier reads as the class
asked for is shown beside it, but it cannot be the headline: one constant image per
class (the class's mean digit) scores 1.0 on it. In the same run: the same generator and
budget with the label concatenated to the discriminator's input instead (the ablation,
the conditioning of Mirza and Osindero) and a Gaussian per class in a PCA space of the
pixels (the classical baseline). Target: below both.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from _gan_baselines import class_gaussian_sampler, intra_fd, intra_fd_floor
from _measure import class_share, digit_classifier, frechet_distance
from cgan import (
    ConcatDiscriminator,
    CondGenerator,
    ProjectionDiscriminator,
    sample_grid,
    train,
)

run = start("cgan")

x, y, xt, yt = toydata.mnist()
if SMOKE:
    x, y = x[:512], y[:512]
clf = digit_classifier(DEVICE)
# Settings chosen on a validation split (50 training digits per class held out, the
# test digits untouched), seed 0: width 24 with 700 steps of 64 left the projection
# generator's class accuracy falling after an early peak; width 32 with steps of 32
# digits reached an intra-class distance (to the validation digits) of 182 at 900 steps
# and 164 at 1,200 against the Gaussian baseline's 208. 1,000 steps keep both
# generators within the time budget.
STEPS, EVERY, WIDTH = scale(1000, 20), scale(100, 5), 32
asked = torch.arange(10).repeat_interleave(100)


def train_with(disc):
    """The same generator (same initialisation) against one of the two
    discriminators; the class accuracy of 500 samples every EVERY steps."""
    torch.manual_seed(run.seed)
    G, D = CondGenerator(z_dim=64, width=WIDTH), disc(width=WIDTH)
    curve = []

    def log(step, hist):
        if step % EVERY == 0:
            s, a = sample_grid(G, per_class=50, device=DEVICE)
            curve.append((step, class_share(clf, s, a)))
            G.train()

    train(
        G,
        D,
        x,
        y,
        steps=STEPS,
        batch_size=32,
        lr=3e-4,
        device=DEVICE,
        seed=run.seed,
        log=log,
    )
    torch.manual_seed(1000 * run.seed + 1)  # the same evaluation noise for both
    return sample_grid(G, per_class=100, device=DEVICE)[0], np.array(curve)


samples, curve = train_with(ProjectionDiscriminator)
samples_cat, curve_cat = train_with(ConcatDiscriminator)

# %%
# The baseline: one Gaussian per class (probabilistic PCA on the pixels), its number of
# components chosen on a validation split of the training digits; and the references:
# the class means (one constant image per class) and real training digits (what
# copying the training set scores).
gauss, k = class_gaussian_sampler(clf, x, y, seed=run.seed)
samples_gauss = gauss(asked)
means = torch.stack([x[y == c].mean(0) for c in range(10)])
models = {
    "projection D": samples,
    "concatenation D": samples_cat,
    f"Gaussian per class (k={k})": samples_gauss,
    "class means": means[asked],
}
score = {}
for name, s in models.items():
    score[name] = (intra_fd(clf, s, asked, xt, yt), class_share(clf, s, asked))
    fd_c, acc = score[name]
    print(f"{name:26s} intra-class FD {fd_c:7.1f}  class accuracy {acc:.3f}")
floor = intra_fd_floor(clf, x, y, xt, yt)
fd_all = frechet_distance(clf.feats(samples), clf.feats(xt))
print(f"copying training digits: intra-class FD {floor:.1f}")

# %%
# One row per class for each discriminator, and the class accuracy over training.
fig, ax = plt.subplots(1, 3, figsize=(9, 4), gridspec_kw=dict(width_ratios=[1, 1, 1.2]))
for a, (name, s) in zip(ax, list(models.items())[:2]):
    rows = s.view(10, 100, 28, 28)[:, :8].permute(0, 2, 1, 3).reshape(280, 224)
    a.imshow(rows, cmap="gray")
    a.set(
        xticks=[],
        yticks=14 + 28 * np.arange(10),
        yticklabels=range(10),
        title=f"{name}\nintra-class FD {score[name][0]:.0f}",
    )
    a.title.set_fontsize(9)
ax[0].set_ylabel("class asked for")
ax[2].plot(curve[:, 0], curve[:, 1], "o-", ms=3, label="projection D")
ax[2].plot(curve_cat[:, 0], curve_cat[:, 1], "s-", ms=3, label="concatenation D")
ax[2].axhline(0.1, ls=":", c="k", lw=1, label="label ignored")
ax[2].set(
    xlabel="step",
    ylabel="share read as the class asked",
    ylim=(0, 1.02),
    title="Follows the label",
)
ax[2].title.set_fontsize(9)
ax[2].legend(fontsize=7, loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The baseline's samples: blurred, noisy digits of the right class.
fig, ax = plt.subplots(figsize=(4.5, 2.2))
rows = samples_gauss.view(10, 100, 28, 28)[:, :4].permute(1, 2, 0, 3).reshape(112, 280)
ax.imshow(rows, cmap="gray")
ax.set(xticks=[], yticks=[], title=f"Gaussian per class (k = {k})")
ax.title.set_fontsize(9)
fig.tight_layout()
plt.show()

run.series("class_accuracy", curve[:, 0], curve[:, 1], y_name="class accuracy")
run.series("class_accuracy_concat", curve_cat[:, 0], curve_cat[:, 1])
base, abl = score[f"Gaussian per class (k={k})"], score["concatenation D"]
run.metric(
    "intra_class_frechet_distance",
    score["projection D"][0],
    target=min(base[0], abl[0]),
    higher_is_better=False,
    baseline=base[0],
    baseline_name="Gaussian per class",
    ablation=abl[0],
    ablation_name="concatenation D",
    fmt=".1f",
    headline=True,
)
run.metric(
    "class_accuracy",
    score["projection D"][1],
    baseline=score["class means"][1],
    baseline_name="class means (constant)",
    ablation=abl[1],
    ablation_name="concatenation D",
)
run.metric(
    "class_accuracy_at_a_quarter_of_training",
    curve[len(curve) // 4, 1],
    ablation=curve_cat[len(curve) // 4, 1],
    ablation_name="concatenation D",
)
run.metric(
    "intra_fd_trivial_class_means",
    score["class means"][0],
    higher_is_better=False,
    fmt=".1f",
)
run.metric("intra_fd_floor_training_digits", floor, higher_is_better=False, fmt=".1f")
run.metric("frechet_distance_all_classes", fd_all, higher_is_better=False, fmt=".1f")
run.finish()
