"""
pix2pix: digit outlines to filled digits
========================================

A paired translation task made from MNIST: the input is the one-pixel ring just outside
a digit's strokes, the output is the digit itself. pix2pix (a U-Net generator and a
PatchGAN discriminator, L1 plus adversarial loss) is trained on 4,000 pairs and measured
on the 1,000 held-out test pairs by the mean L1 error per pixel (target: at most 0.05),
beside the same U-Net trained with L1 alone for the same number of steps. The shared
digit classifier also reads the outputs: the share it labels as the input digit's class,
and a Fréchet distance of its features to real test digits.
"""

# %%
import matplotlib.pyplot as plt
import torch

import toydata
from _example import DEVICE, scale, start
from _measure import class_share, digit_classifier, frechet_distance
from pix2pix import PatchDiscriminator, UNet, outline, train

run = start("pix2pix")

# %%
# Data: each digit's outline is the input, the digit is the target.
x, y, xt, yt = toydata.mnist()
n = scale(4000, 256)
src, tgt = outline(x[:n]), x[:n]
src_t, tgt_t = outline(xt), xt
epochs = scale(6, 1)

# %%
# Train pix2pix (L1 weight 100, as in the paper) and the L1-only baseline: same U-Net,
# same steps.
torch.manual_seed(0)
G, D = UNet(width=16).to(DEVICE), PatchDiscriminator(width=16).to(DEVICE)
hist_gan = train(G, D, src, tgt, epochs=epochs, lr=5e-4)
torch.manual_seed(0)
G_l1 = UNet(width=16).to(DEVICE)
hist_l1 = train(G_l1, None, src, tgt, epochs=epochs, lr=5e-4)


@torch.no_grad()
def translate(G, s):
    G.eval()
    return torch.cat([G(b.to(DEVICE)).cpu() for b in s.split(500)])


out_gan, out_l1 = translate(G, src_t), translate(G_l1, src_t)
l1_gan = (out_gan - tgt_t).abs().mean().item()
l1_l1 = (out_l1 - tgt_t).abs().mean().item()

# %%
# The classifier's view: do the outputs read as the right digit, and as real ones?
clf = digit_classifier(DEVICE)
acc_gan, acc_l1 = class_share(clf, out_gan, yt), class_share(clf, out_l1, yt)
real = clf.feats(tgt_t)
fd_gan = frechet_distance(clf.feats(out_gan), real)
fd_l1 = frechet_distance(clf.feats(out_l1), real)
# sharpness: the share of output pixels that are neither near 0 nor near 1 (blur)
grey = lambda o: ((o > 0.1) & (o < 0.9)).float().mean().item()  # noqa: E731
print(f"test L1: pix2pix {l1_gan:.4f}  L1 only {l1_l1:.4f}")
print(
    f"grey pixels: pix2pix {grey(out_gan):.4f}  L1 only {grey(out_l1):.4f}  "
    f"real {grey(tgt_t):.4f}"
)

# %%
# Figure: inputs, the two generators' outputs, and the targets, on held-out digits.
k = 8
rows = [
    ("outline (input)", src_t),
    ("L1 only", out_l1),
    ("pix2pix", out_gan),
    ("target", tgt_t),
]
fig, axes = plt.subplots(len(rows), k, figsize=(8, 4.4))
for r, (name, imgs) in enumerate(rows):
    for c in range(k):
        ax = axes[r, c]
        ax.imshow(imgs[c, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
        if c == 0:
            ax.set_ylabel(name, fontsize=9)
fig.suptitle("Held-out digits: outline in, filled digit out")
fig.tight_layout()

# %%
# Training curves: mean L1 to the target per epoch (the GAN's L1 need not be lower: its
# adversarial term trades a little L1 for sharper strokes).
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(range(1, epochs + 1), hist_gan, "o-", label="pix2pix (L1 + adversarial)")
ax.plot(range(1, epochs + 1), hist_l1, "s--", label="L1 only")
ax.set_xlabel("epoch"), ax.set_ylabel("train L1 per pixel"), ax.set_title("Training")
ax.legend()
fig.tight_layout()

# %%
run.metric(
    "test_l1",
    l1_gan,
    target=0.05,
    higher_is_better=False,
    baseline=l1_l1,
    baseline_name="L1 only",
    fmt=".4f",
    headline=True,
)
run.metric(
    "class_share_of_outputs",
    acc_gan,
    target=0.9,
    baseline=acc_l1,
    baseline_name="L1 only",
)
run.metric(
    "frechet_distance_to_real",
    fd_gan,
    higher_is_better=False,
    baseline=fd_l1,
    baseline_name="L1 only",
    fmt=".2f",
)
run.finish()
