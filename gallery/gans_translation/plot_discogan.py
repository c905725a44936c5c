"""
DiscoGAN between two unpaired digit styles
==========================================

The same two unpaired domains as the CycleGAN example (plain MNIST, and MNIST with thick
strokes, dark on white, built from different training digits), the same batch size and
learning rate, and the same measure: the share of held-out digits translated each way
that the shared digit classifier still reads as their class (target: at least 0.8).
DiscoGAN's smaller networks get 600 steps; CycleGAN's residual generators, several times
as slow per step, get 450. DiscoGAN's formulation differs from CycleGAN's: cross-entropy
GAN losses, a squared-error reconstruction loss with weight one, no identity loss,
encoder-decoder generators and one verdict per image. The CycleGAN example's numbers sit
beside these on the architectures page.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from _measure import class_share, digit_classifier
from cyclegan import restyle
from discogan import Discriminator, Generator, train

run = start("discogan")

# %%
# The same unpaired domains as the CycleGAN example.
x, y, xt, yt = toydata.mnist()
n = scale(2000, 128)
xa, xb = x[:n], restyle(x[n : 2 * n])
ta, tb = xt, restyle(xt)

# %%
# Train with the paper's losses (and the CycleGAN example's batch size and learning
# rate).
torch.manual_seed(0)
G_ab, G_ba = Generator(16).to(DEVICE), Generator(16).to(DEVICE)
D_a, D_b = Discriminator(16).to(DEVICE), Discriminator(16).to(DEVICE)
steps = scale(600, 5)
hist = train(G_ab, G_ba, D_a, D_b, xa, xb, steps=steps, batch_size=16, lr=1e-3)


@torch.no_grad()
def translate(G, imgs):
    G.eval()
    return torch.cat([G(b.to(DEVICE)).cpu() for b in imgs.split(500)])


to_a, to_b = translate(G_ba, tb), translate(G_ab, ta)

# %%
# The classifier reads digits translated into A as they are, and digits translated into
# B after inverting their colours (as it reads the real domain-B digits for reference).
clf = digit_classifier(DEVICE)
share_ba = class_share(clf, to_a, yt)
share_ab = class_share(clf, 1 - to_b, yt)
share_untranslated = class_share(clf, tb, yt)
share_real_b = class_share(clf, 1 - tb, yt)
rec = ((translate(G_ba, to_b) - ta) ** 2).mean().item()
print(
    f"B->A share {share_ba:.3f} (untranslated B: {share_untranslated:.3f}); "
    f"A->B share {share_ab:.3f} (real B inverted: {share_real_b:.3f}); test recon MSE "
    f"{rec:.4f}"
)

# %%
# Translations both ways on held-out digits (the same digits as in the CycleGAN
# example).
k = 8
rows = [("A (input)", ta), ("A -> B", to_b), ("B (input)", tb), ("B -> A", to_a)]
fig, axes = plt.subplots(4, k, figsize=(8, 4.4))
for r, (name, imgs) in enumerate(rows):
    for c in range(k):
        axes[r, c].imshow(imgs[c, 0], cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        if c == 0:
            axes[r, c].set_ylabel(name, fontsize=9)
fig.suptitle("DiscoGAN on held-out digits: plain (A) and thick inverted (B), both ways")
fig.tight_layout()

# %%
# Losses per step (smoothed over 20 steps).
smooth = lambda v: np.convolve(v, np.ones(20) / 20, mode="valid") if len(v) > 20 else v  # noqa
fig, ax = plt.subplots(figsize=(8, 3))
for key, label in [
    ("g", "generators total"),
    ("d", "discriminators"),
    ("recon", "reconstruction MSE"),
]:
    ax.plot(smooth(hist[key]), label=label)
ax.set_yscale("log"), ax.set_xlabel("step"), ax.set_ylabel("loss")
ax.set_title("DiscoGAN training"), ax.legend(ncol=3, fontsize=8)
fig.tight_layout()

# %%
run.metric(
    "class_share_b_to_a",
    share_ba,
    target=0.8,
    baseline=share_untranslated,
    baseline_name="untranslated",
    headline=True,
)
run.metric(
    "class_share_a_to_b",
    share_ab,
    target=0.8,
    baseline=share_real_b,
    baseline_name="real B digits",
)
run.metric("test_reconstruction_mse", rec, higher_is_better=False, fmt=".4f")
run.finish()
