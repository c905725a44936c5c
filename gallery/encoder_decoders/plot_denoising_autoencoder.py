"""
Denoising autoencoder on noisy MNIST digits
===========================================

Trains one small convolutional denoising autoencoder on 4,000 MNIST digits, each
corrupted afresh at every step by Gaussian noise whose standard deviation is drawn
uniformly between 0.1 and 0.7 (pixel values run from 0 to 1), and asks it for the clean
digit. It is tested on the 1,000 held-out digits at two noise levels, sigma = 0.3 and
sigma = 0.6, by the PSNR of its outputs against the clean digits. Beside it: the PSNR of
the noisy inputs themselves (clipped to [0, 1]; the bar any denoiser must clear) and a
classical denoiser from the same run, a Gaussian blur whose width is chosen for each
noise level on training digits.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from denoising_autoencoder import (
    DenoisingAutoencoder,
    corrupt,
    denoise,
    gaussian_blur,
    psnr,
    train,
)

run = start("denoising_autoencoder")

# %%
# Data: 4,000 training and 1,000 test digits (smoke mode uses a few hundred). The test
# noise is drawn once with a fixed seed, so every method sees the same noisy digits.
x_train, _, x_test, y_test = toydata.mnist()
n = scale(len(x_train), 300)
x_train, x_test = x_train[:n], x_test[: scale(len(x_test), 200)]
LEVELS = (0.3, 0.6)
noisy = {s: corrupt(x_test, s, torch.Generator().manual_seed(1)) for s in LEVELS}

# %%
# One model for all noise levels: each time a digit is drawn its noise level is drawn
# too.
model = DenoisingAutoencoder(width=32)
history = train(
    model, x_train, sigma_range=(0.1, 0.7), epochs=scale(20, 1), device=DEVICE
)
print(
    f"{sum(p.numel() for p in model.parameters()):,} parameters; "
    f"training loss {history[0]:.4f} -> {history[-1]:.4f}"
)

# %%
# The classical baseline: blur the noisy image with a Gaussian of width s pixels. The
# best s for each noise level is picked on 500 noisy *training* digits, then applied to
# the test digits.
BLUR_WIDTHS = [0.4, 0.6, 0.8, 1.0, 1.2, 1.5]


def best_blur(sigma):
    xs = x_train[: scale(500, 100)]
    xn = corrupt(xs, sigma, torch.Generator().manual_seed(2))
    return max(BLUR_WIDTHS, key=lambda b: psnr(gaussian_blur(xn, b), xs))


results = {}
for s in LEVELS:
    b = best_blur(s)
    out = denoise(model, noisy[s], device=DEVICE)
    results[s] = dict(
        noisy=psnr(noisy[s].clamp(0, 1), x_test),
        blur=psnr(gaussian_blur(noisy[s], b), x_test),
        dae=psnr(out, x_test),
        width=b,
        out=out,
    )
    r = results[s]
    print(
        f"sigma {s}: PSNR noisy input {r['noisy']:.2f} dB, Gaussian blur (s={b}) "
        f"{r['blur']:.2f} dB, denoising autoencoder {r['dae']:.2f} dB"
    )

# %%
# Clean test digits, their noisy versions and the autoencoder's outputs at both noise
# levels.
idx = [int(np.flatnonzero(y_test.numpy() == d)[0]) for d in range(10)]
rows = [("clean", x_test)]
for s in LEVELS:
    rows += [
        (f"noisy\nσ={s}", noisy[s].clamp(0, 1)),
        (f"denoised\nσ={s}", results[s]["out"]),
    ]
fig, axes = plt.subplots(len(rows), 10, figsize=(8, 4.6))
for r, (label, imgs) in enumerate(rows):
    for j, i in enumerate(idx):
        ax = axes[r, j]
        ax.imshow(imgs[i, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if j == 0:
            ax.set_ylabel(label, fontsize=8)
fig.suptitle("Held-out digits: clean, noisy, and denoised by one autoencoder")
plt.tight_layout()
plt.show()

# %%
# PSNR across noise levels, including levels the model never saw in training (above
# 0.7), and the training loss. The blur width is re-chosen on training digits at every
# level.
sweep = np.round(np.arange(0.1, 0.91, scale(0.1, 0.4)), 2)
curves = {"noisy input": [], "best Gaussian blur": [], "denoising autoencoder": []}
for s in sweep:
    xn = corrupt(x_test, float(s), torch.Generator().manual_seed(3))
    curves["noisy input"].append(psnr(xn.clamp(0, 1), x_test))
    curves["best Gaussian blur"].append(
        psnr(gaussian_blur(xn, best_blur(float(s))), x_test)
    )
    curves["denoising autoencoder"].append(
        psnr(denoise(model, xn, device=DEVICE), x_test)
    )
fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
for (name, ys), m in zip(curves.items(), "osD"):
    axes[0].plot(sweep, ys, marker=m, label=name)
axes[0].axvspan(0.1, 0.7, color="gray", alpha=0.12, label="training noise range")
for s in LEVELS:
    axes[0].axvline(s, color="gray", ls=":", lw=1)
axes[0].set_xlabel("noise standard deviation σ")
axes[0].set_ylabel("test PSNR (dB)")
axes[0].set_title("PSNR against the clean digits")
axes[0].set_ylim(0, None)
axes[0].legend(fontsize=8, loc="lower left")
axes[1].plot(range(1, len(history) + 1), history, marker="o")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("cross-entropy per pixel")
axes[1].set_title("Training loss")
plt.tight_layout()
plt.show()

# %%
# The headline is the harder level, sigma = 0.6. The target is the noisy input's own
# PSNR: a denoiser must at least improve on doing nothing.
for s in sorted(LEVELS, reverse=True):
    r = results[s]
    run.metric(
        f"test_psnr_db_sigma{s}",
        r["dae"],
        target=r["noisy"],
        baseline=r["noisy"],
        baseline_name="noisy input",
        fmt=".2f",
        headline=s == max(LEVELS),
    )
for s in sorted(LEVELS, reverse=True):
    r = results[s]
    run.metric(
        f"blur_psnr_db_sigma{s}",
        r["blur"],
        baseline=r["noisy"],
        baseline_name=f"noisy input; blur width {r['width']} px",
        fmt=".2f",
    )
run.finish()
