"""
IntroVAE against a plain VAE
============================

Trains an IntroVAE (the encoder doubles as the discriminator) and a plain VAE with the
same encoder and decoder sizes and about the same training seconds on the 4,000 training
digits of MNIST 5,000, binarized at 0.5. It compares their samples from the prior side
by side, their sharpness (the mean variance of each sample's Laplacian, beside that of
real held-out digits), and a Fréchet distance between samples and real digits in the
features of a digit classifier trained in the same run (lower is better).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
import vae
from _example import DEVICE, scale, start
from _measure import digit_classifier, frechet_distance
from introvae import Decoder, Encoder, laplacian_variance, sample, train

run = start("introvae")

x_train, _, x_test, _ = toydata.mnist()
x_train = (x_train[: scale(4000, 300)] > 0.5).float()
x_real = (x_test > 0.5).float()

# %%
# IntroVAE: margin m = 40 nats (above the KL a trained VAE gives real digits, about 20),
# alpha = 0.25 on the adversarial terms, the Bernoulli reconstruction at full weight.
t0 = time.perf_counter()
enc, dec = (
    Encoder(z_dim=16, width=16, hidden=256),
    Decoder(z_dim=16, width=16, hidden=256),
)
hist = train(
    enc, dec, x_train, DEVICE, epochs=scale(14, 1), lr=2e-3, margin=40.0, alpha=0.25
)
sec_intro = time.perf_counter() - t0

# %%
# The plain VAE: same layer sizes; an IntroVAE step costs about three VAE steps (three
# encoder and two decoder passes), so the VAE gets three times the epochs.
t0 = time.perf_counter()
plain = vae.VAE(z_dim=16, width=16, hidden=256)
vae.train(plain, x_train, DEVICE, epochs=scale(42, 3), lr=3e-3)
sec_vae = time.perf_counter() - t0
print(f"training seconds: IntroVAE {sec_intro:.1f}, VAE {sec_vae:.1f}")

# %%
# Samples from the prior (the decoders' pixel probabilities), their sharpness and
# Fréchet distance.
torch.manual_seed(1)
n = scale(1000, 100)
s_intro = sample(dec, n, DEVICE).cpu()
s_vae = vae.sample(plain, n, DEVICE).cpu().view(-1, 1, 28, 28)
sharp = {
    k: laplacian_variance(v).mean().item()
    for k, v in [("VAE", s_vae), ("IntroVAE", s_intro), ("real", x_real[:n])]
}
clf = digit_classifier(DEVICE)
real_f = clf.feats(x_real[:n])
fd = {
    "VAE": frechet_distance(clf.feats(s_vae), real_f),
    "IntroVAE": frechet_distance(clf.feats(s_intro), real_f),
}
for k in ("VAE", "IntroVAE"):
    print(
        f"{k:9s} sharpness {sharp[k]:.3f} (real {sharp['real']:.3f}), Fréchet distance "
        f"{fd[k]:.1f}"
    )


def tile(imgs, rows, cols):
    return (
        imgs[: rows * cols]
        .reshape(rows, cols, 28, 28)
        .permute(0, 2, 1, 3)
        .reshape(rows * 28, cols * 28)
        .numpy()
    )


fig, ax = plt.subplots(
    1, 4, figsize=(12, 3.6), gridspec_kw=dict(width_ratios=[1, 1, 1, 0.8])
)
for a, imgs, t in [
    (ax[0], s_vae, "VAE samples"),
    (ax[1], s_intro, "IntroVAE samples"),
    (ax[2], x_real, "real held-out digits"),
]:
    a.imshow(tile(imgs, 6, 6), cmap="gray_r", vmin=0, vmax=1)
    a.set_title(t)
    a.axis("off")
names = ["VAE", "IntroVAE", "real"]
ax[3].bar(names, [sharp[k] for k in names], color=["tab:blue", "tab:orange", "0.5"])
ax[3].set(ylabel="mean Laplacian variance", title="Sharpness")
fig.tight_layout()

# %%
# Training signals of the IntroVAE: reconstruction, and the KL the encoder gives real
# digits and prior samples (the encoder pushes the latter towards the margin, the
# decoder pulls it down).
fig, ax = plt.subplots(1, 2, figsize=(8, 3))
ep = np.arange(1, len(hist["recon"]) + 1)
ax[0].plot(ep, hist["recon"])
ax[0].set(xlabel="epoch", ylabel="nats / image", title="Reconstruction (last batch)")
ax[1].plot(ep, hist["kl_real"], label="KL, real digits")
ax[1].plot(ep, hist["kl_fake"], label="KL, prior samples")
ax[1].axhline(40, color="k", ls=":", lw=1, label="margin m")
ax[1].set(xlabel="epoch", ylabel="nats", title="The encoder as discriminator")
ax[1].legend(frameon=False, fontsize=8)
fig.tight_layout()

# %%
# Metrics: sharpness relative to real digits (1 = as sharp as real), and the Fréchet
# distance.
run.metric(
    "sharpness_vs_real",
    sharp["IntroVAE"] / sharp["real"],
    baseline=sharp["VAE"] / sharp["real"],
    baseline_name="plain VAE",
    headline=True,
)
run.metric(
    "frechet_distance",
    fd["IntroVAE"],
    baseline=fd["VAE"],
    baseline_name="plain VAE",
    higher_is_better=False,
    fmt=".1f",
)
run.metric(
    "train_seconds",
    sec_intro,
    baseline=sec_vae,
    baseline_name="plain VAE",
    higher_is_better=False,
    fmt=".1f",
)
run.finish()
