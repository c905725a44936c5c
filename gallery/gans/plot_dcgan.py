"""
DCGAN on MNIST digits
=====================

A small DCGAN (strided convolutions, batch norm, ReLU/leaky ReLU, Adam at 2e-4 with
beta1 0.5) trained on the 4,000 training digits of MNIST 5,000. Measured with the
family's stick: the Fréchet distance between 1,000 generated digits and the 1,000
held-out test digits in a digit classifier's feature space. Target: less than 12% of the
way from the floor (real against real) to the ceiling (noise against real), both
computed in this run.
"""

# %%
import matplotlib.pyplot as plt
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from _measure import digit_classifier, fd_reference, frechet_distance
from dcgan import DCDiscriminator, DCGenerator, slerp, train

run = start("dcgan")

x, y, xt, yt = toydata.mnist()
if SMOKE:
    x = x[:512]
Z = 64
G, D = DCGenerator(z_dim=Z, width=32), DCDiscriminator(width=32)
hist = train(G, D, x, steps=scale(800, 20), batch=64, device=DEVICE)

# %%
# Measure: Fréchet distance against held-out digits, with floor and ceiling from the
# same run.
G.eval()
with torch.no_grad():
    samples = G(torch.randn(1000, Z, device=DEVICE)).cpu()
clf = digit_classifier(DEVICE)
fd = frechet_distance(clf.feats(samples), clf.feats(xt))
ref = fd_reference(clf)
bar = ref["floor"] + 0.12 * (ref["ceiling"] - ref["floor"])
print(
    f"Fréchet distance {fd:.1f}; floor {ref['floor']:.1f}, ceiling "
    f"{ref['ceiling']:.1f}, "
    f"target <= {bar:.1f} (12% of the way)"
)

# %%
# Samples, and a walk along a great circle between two noise vectors (slerp).
torch.manual_seed(1)
ends = torch.randn(4, 2, Z)
walk = torch.cat([slerp(a, b, torch.linspace(0, 1, 10)) for a, b in ends])
with torch.no_grad():
    walk_img = G(walk.to(DEVICE)).cpu()
fig, ax = plt.subplots(1, 2, figsize=(9, 4), gridspec_kw=dict(width_ratios=[1, 1.25]))
ax[0].imshow(
    samples[:64].view(8, 8, 28, 28).permute(0, 2, 1, 3).reshape(224, 224), cmap="gray"
)
ax[0].set(xticks=[], yticks=[], title="64 DCGAN samples")
ax[1].imshow(
    walk_img.view(4, 10, 28, 28).permute(0, 2, 1, 3).reshape(112, 280), cmap="gray"
)
ax[1].set(xticks=[], yticks=[], title="Latent walks (slerp, left to right)")
fig.tight_layout()
plt.show()

# %%
# The two losses over training (25-step means).
import numpy as np  # noqa: E402

smooth = lambda v: np.convolve(v, np.ones(25) / 25, mode="valid")  # noqa: E731
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(smooth(hist["d_loss"]), label="discriminator")
ax.plot(smooth(hist["g_loss"]), label="generator")
ax.set(xlabel="step", ylabel="loss", title="DCGAN losses")
ax.legend()
fig.tight_layout()
plt.show()

run.metric(
    "frechet_distance",
    fd,
    target=bar,
    higher_is_better=False,
    baseline=ref["ceiling"],
    baseline_name="noise",
    fmt=".1f",
    headline=True,
)
run.metric(
    "fd_share_floor_to_ceiling",
    (fd - ref["floor"]) / (ref["ceiling"] - ref["floor"]),
    target=0.12,
    higher_is_better=False,
)
run.metric("fd_floor_real_vs_real", ref["floor"], higher_is_better=False, fmt=".1f")
run.finish()
