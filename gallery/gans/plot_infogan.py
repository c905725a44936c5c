"""
InfoGAN on 14x14 MNIST digits
=============================

An InfoGAN with one categorical code (10 values) and two continuous codes, trained
without labels on the 4,000 training digits of MNIST 5,000, average-pooled to 14x14 so
that the short budget goes into more training steps. The paper's test of the
categorical code: used as a classifier, its Q head sorts real digits by class (5% error
on MNIST). Here the Q head sorts the 1,000 held-out test digits into ten groups, each
group is matched one-to-one to a digit (the Hungarian algorithm) and the share that
agrees is the headline. In the same run, with the same 14x14 inputs: k-means on the
pixels, fitted on the training digits (the baseline; the target is to beat it), and the
same network and budget trained without the information term, its discriminator's
features clustered by k-means (the ablation). Also shown: the family's digit classifier
reading 100 samples per code value (against ten k-means centroids, one constant image
per code), how the continuous codes move slant and width, and the Fréchet distance.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import toydata
from _example import DEVICE, SMOKE, scale, start
from _gan_baselines import cluster_accuracy, kmeans_labels
from _measure import digit_classifier, fd_reference, frechet_distance
from infogan import InfoDiscriminator, InfoGenerator, generate, train

run = start("infogan")

# %%
# Data at 14x14: 2x2 average pooling keeps every digit readable and makes each step
# about four times cheaper than at 28x28 (a 28x28 trial reached a code accuracy of only
# 0.29 in the same time). The labels are never used for training.
x, y, xt, yt = toydata.mnist()
if SMOKE:
    x = x[:512]
x14, xt14 = F.avg_pool2d(x, 2), F.avg_pool2d(xt, 2)
# 2,400 steps: on a validation split (500 training digits held out, seed 0) the Q head
# sorted them with 0.31, 0.56, 0.60 and 0.62 agreement after 800, 1,600, 2,400 and
# 3,200 steps (k-means on their pixels: 0.49); two trainings of 3,200 steps would not
# fit the time budget.
STEPS = scale(2400, 20)


def infogan(info_weight):
    torch.manual_seed(run.seed)
    G = InfoGenerator(noise_dim=16, n_cat=10, n_cont=2, width=16)
    D = InfoDiscriminator(n_cat=10, n_cont=2, width=16)
    hist = train(
        G,
        D,
        x14,
        steps=STEPS,
        batch_size=64,
        lr_d=2e-4,
        lr_g=1e-3,
        info_weight=info_weight,
        device=DEVICE,
        seed=run.seed,
    )
    return G, D.eval(), hist


G, D, hist = infogan(1.0)
G0, D0, _ = infogan(0.0)


def up(imgs):
    """14x14 samples to the 28x28 the classifier was trained on (bilinear)."""
    return F.interpolate(imgs, size=28, mode="bilinear", align_corners=False)


# %%
# The headline: the Q head's groups of the real test digits, against k-means on the
# pixels and k-means on the features of the discriminator trained without the
# information term.
with torch.no_grad():
    q_groups = D(xt14.to(DEVICE))[1].argmax(1).cpu()
    feats0 = [D0.body(v.to(DEVICE)).cpu() for v in (x14, xt14)]
q_acc, _ = cluster_accuracy(q_groups, yt)
km_groups, centroids = kmeans_labels(x14, xt14, seed=run.seed)
km_acc, _ = cluster_accuracy(km_groups, yt)
abl_acc, _ = cluster_accuracy(kmeans_labels(*feats0, seed=run.seed)[0], yt)
print(
    f"real test digits sorted by the Q head {q_acc:.3f}; k-means on pixels "
    f"{km_acc:.3f}; k-means on the features without the information term {abl_acc:.3f}"
)

# %%
# The generator's side: 100 samples per value of the categorical code (fresh noise,
# continuous codes uniform), read by the digit classifier, with the same matching.
torch.manual_seed(1000 * run.seed + 1)
codes = torch.arange(10).repeat_interleave(scale(100, 10))
cont = torch.rand(len(codes), 2) * 2 - 1
clf = digit_classifier(DEVICE)
samples = generate(G, codes, cont, device=DEVICE)
gen_acc, mapping = cluster_accuracy(codes, clf.predict(up(samples)))
gen_acc0, _ = cluster_accuracy(
    codes, clf.predict(up(generate(G0, codes, cont, device=DEVICE)))
)
cen_acc, _ = cluster_accuracy(torch.arange(10), clf.predict(up(centroids)))
fd = frechet_distance(clf.feats(up(samples)), clf.feats(xt))
fd_res = frechet_distance(clf.feats(up(x14[: scale(1000, 100)])), clf.feats(xt))
ref = fd_reference(clf, n=scale(1000, 100))
print(
    f"samples per code read by the classifier {gen_acc:.3f} (without the information "
    f"term {gen_acc0:.3f}, k-means centroids {cen_acc:.3f}); code -> digit {mapping}"
)
print(f"Fréchet distance {fd:.1f} (real 14x14 digits upsampled {fd_res:.1f})")

# %%
# The continuous codes: for each, the rank correlation with the slant (the intensity-
# weighted covariance of column and row over the row variance) and with the width (the
# spread of ink across columns) of the samples, codes drawn uniformly in [-1, 1].
rows, cols = torch.meshgrid(torch.arange(14.0), torch.arange(14.0), indexing="ij")


def shape(imgs):
    m = imgs[:, 0].sum((1, 2)).clamp_min(1e-6)
    mr = (imgs[:, 0] * rows).sum((1, 2)) / m
    mc = (imgs[:, 0] * cols).sum((1, 2)) / m
    dr, dc = rows - mr[:, None, None], cols - mc[:, None, None]
    cov = (imgs[:, 0] * dr * dc).sum((1, 2)) / m
    var_r = (imgs[:, 0] * dr**2).sum((1, 2)) / m
    var_c = (imgs[:, 0] * dc**2).sum((1, 2)) / m
    return {"slant": (cov / var_r).numpy(), "width": var_c.sqrt().numpy()}


def rank_corr(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


props = shape(samples)
cont_corr = {
    k: max(abs(rank_corr(cont[:, i].numpy(), v)) for i in range(2))
    for k, v in props.items()
}
print(
    "largest |rank correlation| of a continuous code with: "
    + ", ".join(f"{k} {v:.2f}" for k, v in cont_corr.items())
)

# %%
# One row per value of the categorical code, ten noise vectors across (the same in every
# row), continuous codes at zero. Rows are sorted by the digit each code was matched to;
# the right panel shows, for each code, the share of its samples read as each digit.
conf = np.zeros((10, 10))
np.add.at(conf, (codes.numpy(), clf.predict(up(samples)).numpy()), 1)
order = sorted(range(10), key=lambda k: mapping[k])
torch.manual_seed(2)
z = torch.randn(10, G.noise_dim).repeat(10, 1)
grid = generate(
    G, torch.tensor(order).repeat_interleave(10), torch.zeros(100, 2), z, DEVICE
)
fig, ax = plt.subplots(
    1, 2, figsize=(8.4, 4.4), gridspec_kw=dict(width_ratios=[1, 1.05])
)
ax[0].imshow(
    grid.view(10, 10, 14, 14).permute(0, 2, 1, 3).reshape(140, 140), cmap="gray"
)
ax[0].set(
    xticks=[],
    yticks=7 + 14 * np.arange(10),
    yticklabels=[f"c={k} ({mapping[k]})" for k in order],
    title="Rows: categorical code (matched digit)",
    xlabel="same noise z down each column",
)
share = conf[order] / conf[order].sum(1, keepdims=True)
im = ax[1].imshow(share, cmap="Blues", vmin=0, vmax=1)
ax[1].set(
    xticks=range(10),
    yticks=range(10),
    yticklabels=[f"c={k}" for k in order],
    xlabel="digit read by the classifier",
    title=f"Share per code (accuracy {gen_acc:.2f})",
)
for i in range(10):
    for j in range(10):
        if share[i, j] >= 0.1:
            txt = f"{share[i, j]:.1f}"
            ax[1].text(
                j,
                i,
                "1" if txt == "1.0" else txt[1:],
                ha="center",
                va="center",
                fontsize=7,
                color="white" if share[i, j] > 0.5 else "black",
            )
fig.colorbar(im, ax=ax[1], fraction=0.046)
fig.tight_layout()
plt.show()

# %%
# The continuous codes, each swept from -2 to 2 (twice the training range) with the
# other at zero, for five values of the categorical code and one noise vector per row.
sweep = torch.linspace(-2, 2, 9)
show = order[::2]
torch.manual_seed(3)
z = torch.randn(len(show), G.noise_dim).repeat_interleave(9, 0)
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
for i, ax in enumerate(axes):
    c = torch.zeros(len(show) * 9, 2)
    c[:, i] = sweep.repeat(len(show))
    imgs = generate(G, torch.tensor(show).repeat_interleave(9), c, z, DEVICE)
    ax.imshow(
        imgs.view(len(show), 9, 14, 14)
        .permute(0, 2, 1, 3)
        .reshape(14 * len(show), 126),
        cmap="gray",
    )
    ax.set(
        xticks=7 + 14 * np.arange(0, 9, 2),
        xticklabels=[f"{v:.0f}" for v in sweep[::2]],
        yticks=[],
        xlabel=f"continuous code c{i + 1}",
        title=f"Varying c{i + 1} (other code 0)",
    )
fig.tight_layout()
plt.show()

# %%
# Training: the two players' losses, and the lower bound on the mutual information
# between the categorical code and the sample, H(c) - CE, which approaches log 10 = 2.30
# nats as Q learns to read the code.
k = max(1, len(hist["d_loss"]) // 50)
smooth = lambda v: np.convolve(v, np.ones(k) / k, mode="valid")  # noqa: E731
fig, ax = plt.subplots(1, 2, figsize=(8, 3))
ax[0].plot(smooth(hist["d_loss"]), label="D loss (without info term)")
ax[0].plot(smooth(hist["g_loss"]), label="G loss (without info term)")
ax[0].set(xlabel="step", title="Adversarial losses")
ax[0].legend(fontsize=8)
ax[1].plot(smooth(hist["mi_bound"]), c="C2")
ax[1].axhline(np.log(10), ls="--", c="k", lw=1, label="H(c) = log 10")
ax[1].set(xlabel="step", ylabel="nats", title="Mutual-information lower bound")
ax[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

run.metric(
    "q_head_clustering_of_test_digits",
    q_acc,
    target=km_acc,
    baseline=km_acc,
    baseline_name="k-means on pixels",
    ablation=abl_acc,
    ablation_name="no info term, k-means on D features",
    headline=True,
)
run.metric(
    "categorical_code_accuracy_of_samples",
    gen_acc,
    baseline=cen_acc,
    baseline_name="k-means centroids (constant)",
    ablation=gen_acc0,
    ablation_name="no info term",
)
run.metric("continuous_code_rank_corr_slant", cont_corr["slant"], fmt=".2f")
run.metric("continuous_code_rank_corr_width", cont_corr["width"], fmt=".2f")
run.metric("frechet_distance", fd, higher_is_better=False, fmt=".1f")
run.metric("fd_real_14x14_upsampled", fd_res, higher_is_better=False, fmt=".1f")
run.metric("fd_floor_real_vs_real", ref["floor"], higher_is_better=False, fmt=".1f")
run.finish()
