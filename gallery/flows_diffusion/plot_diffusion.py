"""
DDPM with classifier guidance on MNIST digits
=============================================

A small U-Net learns to predict the noise that the forward diffusion process added to
4,000 MNIST training digits, downscaled to 16x16 pixels so that training and sampling
fit in about a minute on a laptop CPU. On the same batches, a small classifier learns to
name the digit in a *noisy* image. Ancestral sampling then turns pure noise into digits;
adding the classifier's gradient to every reverse step (classifier guidance) asks for a
particular digit. A separate classifier trained on clean digits (``_measure.py``) judges
the samples: the share of guided samples it labels as the requested class (target >=
0.9), the share of unguided samples it labels with confidence above 0.9 next to the same
share for real test digits, and how the class share and the sample diversity move with
the guidance scale.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import toydata
from _example import DEVICE, SMOKE, scale, start
from _measure import digit_classifier
from diffusion import NoisyClassifier, UNet, cosine_schedule, q_sample, sample, train

run = start("diffusion")

RES, T = 16, scale(50, 10)  # image side (downscaled from 28) and diffusion steps
GUIDE = 30.0  # the guidance scale of the headline number
SCALES = [0.0, 3.0, 10.0, GUIDE]  # the sweep (0 = unguided)

# %%
# Data: digits downscaled to 16x16 and mapped to [-1, 1]
# ------------------------------------------------------
# To be judged, samples are scaled back up to 28x28; real test digits take the same
# round trip, so the reference numbers below describe what a perfect 16x16 model would
# score.
x_tr, y_tr, x_te, y_te = toydata.mnist()
if SMOKE:
    x_tr, y_tr = x_tr[:256], y_tr[:256]


def down(img):
    return F.interpolate(img, size=RES, mode="bilinear", antialias=True) * 2 - 1


def up(img):
    return F.interpolate((img.cpu() + 1) / 2, size=28, mode="bilinear").clamp(0, 1)


x16, xt16 = down(x_tr), down(x_te)

# %%
# Train the noise predictor and the noisy classifier
# --------------------------------------------------
net, clf = UNet(ch=scale(24, 8)), NoisyClassifier(ch=scale(16, 8))
hist = train(
    net, clf, x16, y_tr, DEVICE, T=T, epochs=scale(5, 1), batch_size=64, lr=3e-3
)
print(
    f"{sum(p.numel() for p in net.parameters()):,} U-Net parameters, "
    f"{sum(p.numel() for p in clf.parameters()):,} classifier parameters; "
    f"final DDPM loss {np.mean(hist['ddpm'][-50:]):.3f}"
)

# %%
# Sample: unguided, then guided at each scale
# -------------------------------------------
judge = digit_classifier(DEVICE)
n_un, n_per = scale(200, 20), scale(10, 2)
keep = sorted({T, *[round(T * f) for f in (0.8, 0.6, 0.4, 0.3, 0.2, 0.1)], 0})
samples, labels, chains = {}, {}, None
for s in SCALES:
    per = n_un // 10 if s in (0.0, GUIDE) else n_per
    want = torch.arange(10).repeat_interleave(per).to(DEVICE)
    out, chain = sample(
        net,
        (len(want), 1, RES, RES),
        DEVICE,
        T=T,
        classifier=clf,
        y=want,
        scale=s,
        keep=keep if s == 0.0 else (),
    )
    samples[s], labels[s] = up(out), want.cpu()
    chains = chains or chain

real = up(xt16)
p_real, p_un = judge.probs(real), judge.probs(samples[0.0])
share = {
    s: float((judge.predict(samples[s]) == labels[s]).float().mean()) for s in SCALES
}


def diversity(imgs, ys):
    """Mean pairwise distance of the judge's features within each class, averaged over
    classes."""
    f = torch.tensor(judge.feats(imgs))
    return float(
        np.mean(
            [torch.pdist(f[ys == c]).mean() for c in range(10) if (ys == c).sum() > 1]
        )
    )


div_real = diversity(real, y_te)
div = {s: diversity(samples[s], labels[s]) / div_real for s in SCALES}

# %%
# The forward process on one digit and the reverse process from noise
# -------------------------------------------------------------------
# Top row: :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`
# for one test digit; the other rows: three unguided reverse chains, from pure noise
# (left) to a sample (right).
_, abar = cosine_schedule(T)
x0 = xt16[:1]
fwd = [x0[0]] + [
    q_sample(x0, torch.tensor([t - 1]), abar, torch.randn_like(x0))[0] for t in keep[1:]
]
steps = [0] + keep[1:]
fig, axes = plt.subplots(4, len(steps), figsize=(8, 4.6))
for j, t in enumerate(steps):
    axes[0, j].imshow(fwd[j][0], cmap="gray_r", vmin=-1, vmax=1)
    axes[0, j].set_title(f"t = {t}", fontsize=9)
    for r in range(3):
        axes[r + 1, j].imshow(
            chains[keep[::-1][j]][r, 0], cmap="gray_r", vmin=-1, vmax=1
        )
for ax in axes.flat:
    ax.set_xticks([]), ax.set_yticks([])
axes[0, 0].set_ylabel("forward\nq(x_t | x_0)", fontsize=9)
for r in range(3):
    axes[r + 1, 0].set_ylabel("reverse" if r == 1 else "", fontsize=9)
for j, t in enumerate(keep[::-1]):
    axes[3, j].set_xlabel(f"t = {t}", fontsize=9)
fig.suptitle(f"Forward noising (top) and reverse sampling (below), T = {T} steps")
fig.tight_layout()
plt.show()

# %%
# Unguided samples next to real test digits
# -----------------------------------------
conf_un = float((p_un.max(1).values > 0.9).float().mean())
conf_real = float((p_real.max(1).values > 0.9).float().mean())


def grid(imgs, rows, cols):
    g = imgs[: rows * cols, 0].reshape(rows, cols, 28, 28).permute(0, 2, 1, 3)
    return g.reshape(rows * 28, cols * 28)


fig, axes = plt.subplots(
    1, 3, figsize=(8, 3.2), gridspec_kw=dict(width_ratios=[1.2, 1, 1])
)
k = max(1, len(hist["ddpm"]) // 100)
smooth = lambda v: np.convolve(v, np.ones(k) / k, mode="valid")  # noqa: E731
axes[0].plot(smooth(hist["ddpm"]), label="DDPM (noise MSE)")
axes[0].plot(smooth(hist["classifier"]), label="noisy classifier (CE)")
(
    axes[0].set_yscale("log"),
    axes[0].set_xlabel("step"),
    axes[0].set_title("training loss"),
)
axes[0].legend(fontsize=8)
side = min(8, int(n_un**0.5))
axes[1].imshow(grid(samples[0.0][torch.randperm(n_un)], side, side), cmap="gray_r")
axes[1].set_title(f"samples: {conf_un:.0%} confident", fontsize=10)
axes[2].imshow(grid(real, side, side), cmap="gray_r")
axes[2].set_title(f"real (16x16): {conf_real:.0%} confident", fontsize=10)
for ax in axes[1:]:
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
# Guided samples for each class, and the effect of the guidance scale
# -------------------------------------------------------------------
# Left: ten guided samples per requested digit at scale ``GUIDE``. Right: as the scale
# grows, the judge agrees with the request more often, while the samples of one class
# grow more alike (diversity: mean feature distance within a class, relative to real
# test digits).
fig, axes = plt.subplots(
    1, 2, figsize=(8, 3.8), gridspec_kw=dict(width_ratios=[1, 1.1])
)
g = samples[GUIDE].reshape(10, n_un // 10, 1, 28, 28)[:, :10].reshape(-1, 1, 28, 28)
axes[0].imshow(grid(g, 10, min(10, n_un // 10)), cmap="gray_r")
axes[0].set_title(f"guided, scale {GUIDE:g}: rows = requested digit 0-9", fontsize=10)
axes[0].axis("off")
ax = axes[1]
ax.plot(
    SCALES,
    [share[s] for s in SCALES],
    "o-",
    color="C0",
    label="share labelled as requested",
)
ax.axhline(0.9, color="C0", ls=":", lw=1)
(
    ax.set_xlabel("guidance scale s"),
    ax.set_ylabel("class share", color="C0"),
    ax.set_ylim(0, 1.05),
)
ax2 = ax.twinx()
ax2.plot(
    SCALES, [div[s] for s in SCALES], "s--", color="C3", label="diversity (real = 1)"
)
(
    ax2.set_ylabel("within-class diversity", color="C3"),
    ax2.set_ylim(0, max(1.5, max(div.values()) * 1.1)),
)
ax.set_title("class share and diversity vs guidance scale", fontsize=10)
fig.legend(loc="lower right", fontsize=8, bbox_to_anchor=(0.97, 0.18))
fig.tight_layout()
plt.show()

# %%
# Numbers
# -------
run.metric(
    "guided_class_share",
    share[GUIDE],
    target=0.9,
    baseline=share[0.0],
    baseline_name="unguided",
    headline=True,
)
run.metric(
    "unguided_confident_share", conf_un, baseline=conf_real, baseline_name="real 16x16"
)
run.metric(
    "guided_diversity_vs_real", div[GUIDE], baseline=div[0.0], baseline_name="unguided"
)
run.metric("judge_test_accuracy", judge.test_accuracy)
run.finish()
