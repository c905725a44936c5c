"""
BigGAN in miniature on MNIST digits
===================================

A toy BigGAN: class-conditional batch norm fed by a shared class embedding and chunks of
the noise, a projection discriminator with spectral norm on its layers, the hinge loss,
and orthogonal regularization of the generator, trained on the 4,000 training digits of
MNIST 5,000. The headline is the intra-class Fréchet distance of its samples (for each
class, 100 samples asked for it against the 100 held-out test digits of it, in the
digit classifier's feature space, averaged over classes). In the same run, for the same
steps and batch: the conditional GAN of the previous section at the same width (the
baseline; the target is to beat it) and the same BigGAN without orthogonal
regularization (the ablation). After training, the truncation trick is swept for both
BigGANs: noise entries beyond a threshold are redrawn, and each threshold's 1,000
samples are scored by the classifier (the share read as the class asked for) and by the
intra-class distance. Orthogonal regularization is BigGAN's answer to making a generator
"amenable to truncation", so the ablation is compared on that curve.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import cgan
import toydata
from _example import DEVICE, SMOKE, scale, start
from _gan_baselines import intra_fd, intra_fd_floor
from _measure import class_share, digit_classifier
from biggan import BigDiscriminator, BigGenerator, sample, train

run = start("biggan")

x, y, xt, yt = toydata.mnist()
if SMOKE:
    x, y = x[:512], y[:512]
STEPS, BATCH = scale(800, 20), 64


def biggan(beta):
    torch.manual_seed(run.seed)
    G, D = BigGenerator(chunk=16, emb=16, width=16), BigDiscriminator(width=16)
    hist = train(
        G,
        D,
        x,
        y,
        steps=STEPS,
        batch_size=BATCH,
        lr_g=1e-3,
        lr_d=2e-3,
        beta=beta,
        betas=(0.0, 0.999),
        device=DEVICE,
        seed=run.seed,
    )
    return G, hist


G, hist = biggan(1e-4)
G_noortho, _ = biggan(0.0)

# %%
# The baseline: the conditional GAN of the previous section (label embedding beside the
# noise, projection discriminator, cross-entropy loss), at the same width and with as
# much noise (48 numbers), for the same steps and batch, at its section's learning rate.
torch.manual_seed(run.seed)
G_c = cgan.CondGenerator(z_dim=G.z_dim, width=16)
cgan.train(
    G_c,
    cgan.ProjectionDiscriminator(width=16),
    x,
    y,
    steps=STEPS,
    batch_size=BATCH,
    lr=3e-4,
    device=DEVICE,
    seed=run.seed,
)

# %%
# The truncation sweep, on each trained generator: thresholds from 0.25 to 2, and plain
# normal noise ("none"). Each threshold gets the same 100 requests per class and the
# same noise stream.
thresholds = [0.25, 0.5, 1.0, 1.5, 2.0, None]
clf = digit_classifier(DEVICE)
PER = scale(100, 10)
asked = torch.arange(10).repeat_interleave(PER)


def score(s):
    return class_share(clf, s, asked), intra_fd(clf, s, asked, xt, yt)


curves = {}
for name, g in (("BigGAN", G), ("without orthogonal reg.", G_noortho)):
    curves[name] = {}
    for t in thresholds:
        s = sample(g, asked, threshold=t, device=DEVICE, seed=1000 * run.seed + 1)
        curves[name][t] = (*score(s), s)
        print(
            f"{name}, threshold {t}: class accuracy {curves[name][t][0]:.3f}, "
            f"intra-class FD {curves[name][t][1]:.1f}"
        )
G_c.eval()
with torch.no_grad():
    z = torch.randn(
        len(asked),
        G_c.z_dim,
        generator=torch.Generator().manual_seed(1000 * run.seed + 1),
    )
    s_c = G_c(z.to(DEVICE), asked.to(DEVICE)).cpu()
acc_c, fd_c = score(s_c)
means = torch.stack([x[y == c].mean(0) for c in range(10)])
acc_means, fd_means = score(means[asked])
floor = intra_fd_floor(clf, x, y, xt, yt, per_class=PER)
print(f"cGAN baseline: class accuracy {acc_c:.3f}, intra-class FD {fd_c:.1f}")
print(
    f"class means: class accuracy {acc_means:.3f}, intra-class FD {fd_means:.1f}; "
    f"training digits: intra-class FD {floor:.1f}"
)

# %%
# The trade-off: a smaller threshold keeps the noise near the mode of the prior, where
# the generator was trained most, so samples read more clearly as their class; it also
# narrows their variety, which the intra-class distance (it compares whole
# distributions) penalises.
xs = np.arange(len(thresholds))
labels = ["none" if t is None else f"{t:g}" for t in thresholds]
fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
for name, style in (("BigGAN", "o-"), ("without orthogonal reg.", "s--")):
    c = curves[name]
    ax[0].plot(xs, [c[t][0] for t in thresholds], style, label=name)
    ax[1].plot(xs, [c[t][1] for t in thresholds], style, label=name)
ax[0].axhline(acc_c, c="C2", lw=1, ls=":", label="cGAN, untruncated")
ax[1].axhline(fd_c, c="C2", lw=1, ls=":", label="cGAN, untruncated")
ax[0].set(ylabel="class accuracy", ylim=(0, 1.02))
ax[1].set(ylabel="intra-class Fréchet distance")
for a in ax:
    a.set(xticks=xs, xticklabels=labels, xlabel="truncation threshold")
    a.legend(fontsize=7)
fig.suptitle("Truncation trade-off", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# One row per class asked for: BigGAN at threshold 0.5 and without truncation, and the
# conditional GAN baseline.
fig, axes = plt.subplots(1, 3, figsize=(9, 4))
panels = (
    ("BigGAN, threshold 0.5", curves["BigGAN"][0.5][2]),
    ("BigGAN, no truncation", curves["BigGAN"][None][2]),
    ("cGAN baseline", s_c),
)
for ax, (title, s) in zip(axes, panels):
    rows = s.view(10, PER, 28, 28)[:, :6].permute(0, 2, 1, 3).reshape(280, 168)
    ax.imshow(rows, cmap="gray")
    ax.set(
        xticks=[], yticks=14 + 28 * np.arange(10), yticklabels=range(10), title=title
    )
    ax.title.set_fontsize(9)
axes[0].set_ylabel("class asked for")
fig.tight_layout()
plt.show()

# %%
# The hinge losses over training (moving mean).
k = max(1, len(hist["d_loss"]) // 50)
smooth = lambda v: np.convolve(v, np.ones(k) / k, mode="valid")  # noqa: E731
fig, ax = plt.subplots(figsize=(8, 2.8))
ax.plot(smooth(hist["d_loss"]), label="D hinge loss")
ax.plot(smooth(hist["g_loss"]), label="G loss -D(G(z, y))")
ax.set(xlabel="step", title="Training losses")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

big, abl = curves["BigGAN"], curves["without orthogonal reg."]
run.metric(
    "intra_class_frechet_distance",
    big[None][1],
    target=fd_c,
    higher_is_better=False,
    baseline=fd_c,
    baseline_name="cGAN, same width and steps",
    ablation=abl[None][1],
    ablation_name="no orthogonal reg.",
    fmt=".1f",
    headline=True,
)
run.metric(
    "intra_fd_at_truncation_0.5",
    big[0.5][1],
    higher_is_better=False,
    ablation=abl[0.5][1],
    ablation_name="no orthogonal reg.",
    fmt=".1f",
)
run.metric(
    "class_accuracy_at_truncation_0.5",
    big[0.5][0],
    baseline=acc_means,
    baseline_name="class means (constant)",
    ablation=abl[0.5][0],
    ablation_name="no orthogonal reg.",
)
run.metric(
    "class_accuracy_untruncated",
    big[None][0],
    baseline=acc_c,
    baseline_name="cGAN",
    ablation=abl[None][0],
    ablation_name="no orthogonal reg.",
)
run.metric("intra_fd_trivial_class_means", fd_means, higher_is_better=False, fmt=".1f")
run.metric("intra_fd_floor_training_digits", floor, higher_is_better=False, fmt=".1f")
run.finish()
