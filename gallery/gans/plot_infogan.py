"""
InfoGAN on 14x14 MNIST digits
=============================

An InfoGAN with one categorical code (10 values) and two continuous codes, trained
without labels on the 4,000 training digits of MNIST 5,000, average-pooled to 14x14 so
that the short budget goes into more training steps. The target: the categorical code
should pick the digit. For 100 samples of each code value, the family's digit classifier
reads the digits (after upsampling them to 28x28), and the codes are matched one-to-one
to classes in the way that agrees most (the Hungarian algorithm); the share that agrees
must reach 0.5 (chance: 0.1). Also shown: how well the Q head recovers its own code, how
well it sorts real held-out digits, and the Fréchet distance beside the floor and
ceiling from this run.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

import toydata
from _example import DEVICE, SMOKE, scale, start
from _measure import digit_classifier, fd_reference, frechet_distance
from infogan import InfoDiscriminator, InfoGenerator, generate, train

run = start("infogan")

# %%
# Data at 14x14: 2x2 average pooling keeps every digit readable and makes each step
# about four times cheaper than at 28x28 (a 28x28 trial reached only 0.29 in the same
# time). The labels are never used for training.
x, y, xt, yt = toydata.mnist()
if SMOKE:
    x = x[:512]
x14, xt14 = F.avg_pool2d(x, 2), F.avg_pool2d(xt, 2)
G = InfoGenerator(noise_dim=16, n_cat=10, n_cont=2, width=16)
D = InfoDiscriminator(n_cat=10, n_cont=2, width=16)
hist = train(
    G,
    D,
    x14,
    steps=scale(3200, 20),
    batch=64,
    lr_d=2e-4,
    lr_g=1e-3,
    info_weight=1.0,
    device=DEVICE,
)


def up(imgs):
    """14x14 samples to the 28x28 the classifier was trained on (bilinear)."""
    return F.interpolate(imgs, size=28, mode="bilinear", align_corners=False)


def best_match(codes, labels):
    """Confusion counts (code x class), the best one-to-one code -> class map, and its
    accuracy."""
    m = np.zeros((10, 10))
    np.add.at(m, (np.asarray(codes), np.asarray(labels)), 1)
    rows, cols = linear_sum_assignment(-m)
    return m, dict(zip(rows.tolist(), cols.tolist())), m[rows, cols].sum() / m.sum()


# %%
# Measure: 100 samples per value of the categorical code (fresh noise, continuous codes
# uniform).
torch.manual_seed(1)
codes = torch.arange(10).repeat_interleave(scale(100, 10))
samples = generate(G, codes, torch.rand(len(codes), 2) * 2 - 1, device=DEVICE)
clf = digit_classifier(DEVICE)
read = clf.predict(up(samples))
conf, mapping, cat_acc = best_match(codes, read)
D.eval()
with torch.no_grad():
    q_own = (D(samples.to(DEVICE))[1].argmax(1).cpu() == codes).float().mean().item()
    q_real = D(xt14.to(DEVICE))[1].argmax(1).cpu()
_, _, q_real_acc = best_match(q_real, yt)
fd = frechet_distance(clf.feats(up(samples)), clf.feats(xt))
ref = fd_reference(clf, n=scale(1000, 100))
fd_res = frechet_distance(clf.feats(up(x14[: scale(1000, 100)])), clf.feats(xt))
print(
    f"categorical code accuracy (best assignment) {cat_acc:.3f}; code -> digit "
    f"{mapping}"
)
print(
    f"Q head on its own code {q_own:.3f}; Q head clustering real test digits "
    f"{q_real_acc:.3f}"
)
print(
    f"Fréchet distance {fd:.1f} (floor {ref['floor']:.1f}, real 14x14 digits upsampled "
    f"{fd_res:.1f}, ceiling {ref['ceiling']:.1f})"
)

# %%
# One row per value of the categorical code, ten noise vectors across (the same in every
# row), continuous codes at zero. Rows are sorted by the digit each code was matched to;
# the right panel is the classifier's reading of the code's 100 samples.
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
    title=f"Share per code (accuracy {cat_acc:.2f})",
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
    cont = torch.zeros(len(show) * 9, 2)
    cont[:, i] = sweep.repeat(len(show))
    imgs = generate(G, torch.tensor(show).repeat_interleave(9), cont, z, DEVICE)
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
ax[0].plot(smooth(hist["d_loss"]), label="D loss")
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
    "categorical_code_accuracy",
    cat_acc,
    target=0.5,
    baseline=0.1,
    baseline_name="code ignored",
    headline=True,
)
run.metric("q_head_accuracy_own_code", q_own, baseline=0.1, baseline_name="chance")
run.metric(
    "q_head_clustering_real_digits", q_real_acc, baseline=0.1, baseline_name="chance"
)
run.metric(
    "frechet_distance",
    fd,
    higher_is_better=False,
    baseline=ref["ceiling"],
    baseline_name="noise",
    fmt=".1f",
)
run.metric("fd_real_14x14_upsampled", fd_res, higher_is_better=False, fmt=".1f")
run.metric("fd_floor_real_vs_real", ref["floor"], higher_is_better=False, fmt=".1f")
run.finish()
