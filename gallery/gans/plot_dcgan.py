"""
DCGAN on MNIST digits
=====================

A small DCGAN (strided convolutions, batch norm, ReLU/leaky ReLU, N(0, 0.02) weights,
Adam at 2e-4 with beta1 0.5) trained on the 4,000 training digits of MNIST 5,000.
Measured with the family's stick: the Fréchet distance between 1,000 generated digits
and the 1,000 held-out test digits in a digit classifier's feature space. In the same
run, on the same data and for the same number of steps: the plain MLP GAN of the
previous section (the baseline; the target is to beat its distance) and the same DCGAN
without batch norm (the ablation of the rule the paper credits most). Beside them: a
constant image (the mean training digit), real training digits (what copying the
training set scores), and how close the samples come to their nearest training digits.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import gan
import toydata
from _example import DEVICE, SMOKE, scale, start
from _measure import digit_classifier, fd_reference, frechet_distance
from dcgan import DCDiscriminator, DCGenerator, slerp, train

run = start("dcgan")

x, y, xt, yt = toydata.mnist()
if SMOKE:
    x = x[:512]
Z, STEPS, BATCH = 64, scale(800, 20), 64
clf = digit_classifier(DEVICE)
real_feats = clf.feats(xt)
z_eval = torch.randn(1000, Z, generator=torch.Generator().manual_seed(run.seed))


def fd_of(images):
    return frechet_distance(clf.feats(images), real_feats)


def dcgan(norm):
    torch.manual_seed(run.seed)
    G, D = DCGenerator(z_dim=Z, width=32, norm=norm), DCDiscriminator(32, norm=norm)
    hist = train(G, D, x, steps=STEPS, batch_size=BATCH, device=DEVICE, seed=run.seed)
    with torch.no_grad():
        return G.eval(), G(z_eval.to(DEVICE)).cpu(), hist


G, samples, hist = dcgan(norm=True)
_, samples_nobn, hist_nobn = dcgan(norm=False)

# %%
# The baseline: the plain GAN's two MLPs (batch norm in the generator), with the
# learning rate and decay of its own section, for the same steps and batch.
torch.manual_seed(run.seed)
G_mlp = gan.Generator(
    z_dim=Z, out_dim=784, hidden=256, depth=2, out="sigmoid", norm=True
)
D_mlp = gan.Discriminator(in_dim=784, hidden=256, depth=2)
gan.train(
    G_mlp,
    D_mlp,
    x.flatten(1),
    steps=STEPS,
    batch_size=BATCH,
    lr=5e-4,
    device=DEVICE,
    seed=run.seed,
)
with torch.no_grad():
    samples_mlp = G_mlp.eval()(z_eval.to(DEVICE)).view(-1, 1, 28, 28).cpu()

# %%
# Measure: Fréchet distances to the held-out digits; a constant image and real training
# digits as references; and, against memorising, each sample's pixel distance to its
# nearest training digit over that of the test digits (1: as far from the training set
# as new real digits are; 0: copies).
ref = fd_reference(clf)
fd = {
    "DCGAN": fd_of(samples),
    "without batch norm": fd_of(samples_nobn),
    "MLP GAN": fd_of(samples_mlp),
    "mean training digit": fd_of(x.mean(0, keepdim=True).expand(1000, -1, -1, -1)),
}


def nearest(images):
    d = torch.cdist(images.flatten(1), x.flatten(1))
    return d.min(1)


nn_dist, nn_idx = nearest(samples)
nn_ratio = (nn_dist.median() / nearest(xt)[0].median()).item()
for name, v in fd.items():
    print(f"Fréchet distance, {name}: {v:.1f}")
print(
    f"floor (training digits) {ref['floor']:.1f}, ceiling (noise) {ref['ceiling']:.1f}"
    f"; nearest-neighbour distance ratio {nn_ratio:.2f}"
)

# %%
# DCGAN samples, and a walk along a great circle between two noise vectors (slerp).
torch.manual_seed(1)
ends = torch.randn(4, 2, Z)
walk = torch.cat([slerp(a, b, torch.linspace(0, 1, 10)) for a, b in ends])
with torch.no_grad():
    walk_img = G(walk.to(DEVICE)).cpu()


def grid(images, rows, cols):
    return (
        images[: rows * cols]
        .view(rows, cols, 28, 28)
        .permute(0, 2, 1, 3)
        .reshape(rows * 28, cols * 28)
    )


fig, ax = plt.subplots(1, 2, figsize=(9, 4), gridspec_kw=dict(width_ratios=[1, 1.25]))
ax[0].imshow(grid(samples, 8, 8), cmap="gray")
ax[0].set(xticks=[], yticks=[], title="64 DCGAN samples")
ax[1].imshow(grid(walk_img, 4, 10), cmap="gray")
ax[1].set(xticks=[], yticks=[], title="Latent walks (slerp, left to right)")
fig.tight_layout()
plt.show()

# %%
# The baseline and the ablation, and DCGAN samples above their nearest training digits.
fig, ax = plt.subplots(
    1, 3, figsize=(9, 3.6), gridspec_kw=dict(width_ratios=[1, 1, 1.6])
)
ax[0].imshow(grid(samples_mlp, 6, 6), cmap="gray")
ax[0].set(xticks=[], yticks=[], title=f"MLP GAN\nFD {fd['MLP GAN']:.0f}")
ax[1].imshow(grid(samples_nobn, 6, 6), cmap="gray")
ax[1].set(
    xticks=[],
    yticks=[],
    title=f"DCGAN without batch norm\nFD {fd['without batch norm']:.0f}",
)
pairs = torch.cat([samples[:8], x[nn_idx[:8]]])
ax[2].imshow(grid(pairs, 2, 8), cmap="gray")
ax[2].set(
    xticks=[],
    yticks=[14, 42],
    yticklabels=["DCGAN", "nearest\ntraining"],
    title="Samples and their nearest training digits",
)
for a in ax:
    a.title.set_fontsize(9)
fig.tight_layout()
plt.show()

# %%
# The two losses over training (25-step means), with and without batch norm.
smooth = lambda v: np.convolve(v, np.ones(25) / 25, mode="valid")  # noqa: E731
fig, ax = plt.subplots(figsize=(8, 3))
for h, style, label in ((hist, "-", ""), (hist_nobn, "--", ", no batch norm")):
    ax.plot(smooth(h["d_loss"]), style, c="C0", label="discriminator" + label)
    ax.plot(smooth(h["g_loss"]), style, c="C1", label="generator" + label)
ax.set(xlabel="step", ylabel="loss", title="DCGAN losses")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

run.metric(
    "frechet_distance",
    fd["DCGAN"],
    target=fd["MLP GAN"],
    higher_is_better=False,
    baseline=fd["MLP GAN"],
    baseline_name="MLP GAN, same steps",
    ablation=fd["without batch norm"],
    ablation_name="no batch norm",
    fmt=".1f",
    headline=True,
)
run.metric(
    "fd_trivial_mean_digit",
    fd["mean training digit"],
    higher_is_better=False,
    fmt=".1f",
)
run.metric("fd_floor_real_vs_real", ref["floor"], higher_is_better=False, fmt=".1f")
run.metric("nearest_training_distance_ratio", nn_ratio, fmt=".2f")
run.finish()
