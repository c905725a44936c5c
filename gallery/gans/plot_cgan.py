"""
Conditional GAN on MNIST digits
===============================

A conditional DCGAN: the generator gets a label embedding beside its noise, the
discriminator a projection of the label onto its image features. Trained on the 4,000
training digits of MNIST 5,000. The target: of 1,000 samples (100 asked for per class),
the digit classifier reads at least 90% as the class that was asked for. The Fréchet
distance to held-out digits is shown beside the floor and ceiling from the same run.
"""

# %%
import matplotlib.pyplot as plt
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from _measure import class_share, digit_classifier, fd_reference, frechet_distance
from cgan import CondGenerator, ProjectionDiscriminator, sample_grid, train

run = start("cgan")

x, y, xt, yt = toydata.mnist()
if SMOKE:
    x, y = x[:512], y[:512]
G, D = CondGenerator(z_dim=64, width=32), ProjectionDiscriminator(width=32)
# 1,200 steps: at 900 the class accuracy was 0.926 with one torch thread and 0.895 with
# two (the thread count changes the order of floating-point sums, and a GAN's path with
# it); at 1,200 it was 0.954 and 0.976.
hist = train(G, D, x, y, steps=scale(1200, 20), batch=64, lr=3e-4, device=DEVICE)

# %%
# Measure: ask for 100 digits of every class and let the classifier read them.
samples, asked = sample_grid(G, per_class=100, device=DEVICE)
clf = digit_classifier(DEVICE)
acc = class_share(clf, samples, asked)
read = clf.predict(samples)
per_class = [(read[asked == c] == c).float().mean().item() for c in range(10)]
fd = frechet_distance(clf.feats(samples), clf.feats(xt))
ref = fd_reference(clf)
print(
    f"class accuracy {acc:.3f}; per class: "
    + ", ".join(f"{c}: {a:.2f}" for c, a in enumerate(per_class))
)
print(
    f"Fréchet distance {fd:.1f} (floor {ref['floor']:.1f}, ceiling "
    f"{ref['ceiling']:.1f})"
)

# %%
# One row per class: eight samples each, the classifier's per-class accuracy on the
# right.
fig, ax = plt.subplots(1, 2, figsize=(8, 4.6), gridspec_kw=dict(width_ratios=[1.6, 1]))
rows = samples.view(10, 100, 28, 28)[:, :8].permute(0, 2, 1, 3).reshape(280, 224)
ax[0].imshow(rows, cmap="gray")
ax[0].set(
    xticks=[],
    yticks=14 + 28 * torch.arange(10),
    yticklabels=range(10),
    ylabel="class asked for",
    title="Conditional samples, one row per class",
)
ax[1].barh(range(10), per_class, color="C0")
ax[1].axvline(0.9, ls="--", c="k", lw=1, label="target 0.9 (overall)")
ax[1].set(
    ylim=(9.5, -0.5),
    xlim=(0, 1),
    yticks=range(10),
    xlabel="share read as the class asked",
    title="Classifier's verdict",
)
ax[1].legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()

run.metric(
    "class_accuracy",
    acc,
    target=0.9,
    baseline=0.1,
    baseline_name="label ignored",
    headline=True,
)
run.metric(
    "frechet_distance",
    fd,
    higher_is_better=False,
    baseline=ref["ceiling"],
    baseline_name="noise",
    fmt=".1f",
)
run.metric("fd_floor_real_vs_real", ref["floor"], higher_is_better=False, fmt=".1f")
run.finish()
