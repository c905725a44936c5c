"""
DC-IGN: a latent for the rotation angle
=======================================

Digits from the 4,000 training images of MNIST 5,000 are re-rendered at a known rotation
angle (-60 to 60 degrees) and stroke thickness. A DC-IGN is trained on clamped
mini-batches (one digit at many angles, one digit at many thicknesses, or many digits at
one angle and thickness), with latent 0 designated for the angle and latent 1 for
thickness. On held-out digits at random angles and thicknesses it reports the
correlation of latent 0 with the true angle, against latent 0 of a plain VAE trained on
the same batches with no clamping, and shows that traversing latent 0 turns the digit.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from dcign import DCIGN, train, transform

run = start("dcign")

x_train, _, x_test, _ = toydata.mnist()
x_train = x_train[: scale(4000, 300)]

# %%
# Train the DC-IGN and, on the same kind of batches without clamping, a plain VAE.
steps = scale(2400, 30)
torch.manual_seed(0)
model = DCIGN(z_dim=12)
hist = train(model, x_train, DEVICE, steps=steps, batch_size=32, clamp=True)
torch.manual_seed(0)
plain = DCIGN(z_dim=12)
hist_plain = train(plain, x_train, DEVICE, steps=steps, batch_size=32, clamp=False)

# %%
# Held-out digits at random angles and thicknesses: correlate each latent's posterior
# mean with the true angle.
g = torch.Generator().manual_seed(1)
n = scale(1000, 200)
angle, thick = (torch.rand(n, generator=g) * 2 - 1) * 60, 2 * torch.rand(n, generator=g)
x_eval = transform(x_test[:n], angle, thick)


def corr_with(m, target):
    m.eval()
    with torch.no_grad():
        mu = m.enc(x_eval.flatten(1).to(DEVICE)).chunk(2, dim=1)[0].cpu().numpy()
    return np.array(
        [np.corrcoef(mu[:, j], target)[0, 1] for j in range(mu.shape[1])]
    ), mu


c_dc, mu_dc = corr_with(model, angle.numpy())
c_plain, _ = corr_with(plain, angle.numpy())
t_dc, _ = corr_with(model, thick.numpy())
print(
    f"|corr(latent 0, angle)|: DC-IGN {abs(c_dc[0]):.3f}, plain VAE "
    f"{abs(c_plain[0]):.3f} "
    f"(plain VAE's best single latent: {np.abs(c_plain).max():.3f})"
)
print(f"|corr(latent 1, thickness)|: DC-IGN {abs(t_dc[1]):.3f}")

# %%
# Traverse latent 0 (all other latents fixed at a test digit's posterior mean), next to
# the posterior mean of latent 0 against the true angle.
with torch.no_grad():
    model.eval()
    base = model.enc(
        transform(x_test[:4], torch.zeros(4), torch.ones(4)).flatten(1).to(DEVICE)
    )
    mu0 = base.chunk(2, dim=1)[0]
    lo, hi = np.percentile(mu_dc[:, 0], [2, 98])
    vals = torch.linspace(float(lo), float(hi), 9, device=DEVICE)
    rows = []
    for i in range(4):
        z = mu0[i].repeat(9, 1)
        z[:, 0] = vals
        rows.append(torch.sigmoid(model.dec(z)).cpu().view(9, 28, 28))
grid = torch.stack(rows).permute(0, 2, 1, 3).reshape(4 * 28, 9 * 28).numpy()
fig, ax = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw=dict(width_ratios=[1.5, 1]))
ax[0].imshow(grid, cmap="gray_r")
ax[0].set(title="DC-IGN: traversing latent 0 (angle)", xticks=[], yticks=[])
ax[1].scatter(angle, mu_dc[:, 0], s=4, alpha=0.6)
ax[1].set(
    xlabel="true angle (degrees)",
    ylabel="posterior mean of latent 0",
    title=f"Held-out digits: r = {c_dc[0]:.2f}",
)
fig.tight_layout()

# %%
# Metrics.
run.metric(
    "angle_latent_abs_corr",
    abs(c_dc[0]),
    baseline=abs(c_plain[0]),
    baseline_name="plain VAE, latent 0",
    headline=True,
)
run.metric("thickness_latent_abs_corr", abs(t_dc[1]))
run.finish()
