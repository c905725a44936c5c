"""
Planar flows: 2-D densities and a VAE on MNIST
==============================================

First the paper's 2-D experiment: a standard normal pushed through K = 2, 8 and 32
planar flows is fitted to two unnormalized densities exp(-U(z)) by minimizing KL(q_K ||
p); for the ring-shaped U1 the exact KL (with log Z computed on a grid) is reported.
Then the VAE's posterior is given 8 amortized planar flows and trained on the 4,000
training digits of MNIST 5,000 (binarized at 0.5); its held-out negative ELBO is
reported beside a plain VAE with the same encoder and decoder trained for the same
number of epochs in the same run.
"""

# %%
import math

import matplotlib.pyplot as plt
import torch

import toydata
import vae
from _example import DEVICE, scale, start
from vae_nf import U1, U2, VAENF, Flow2D, evaluate, train, train_density

run = start("vae_nf")

# %%
# 2-D: fit each density with K = 2, 8, 32 flows (the flows run on the CPU: they are
# tiny).
Ks, energies = [2, 8, 32], {"U1": U1, "U2": U2}
flows = {}
for name, U in energies.items():
    for K in Ks:
        torch.manual_seed(K)
        flows[name, K] = Flow2D(K)
        train_density(flows[name, K], U, steps=scale(1500, 50), lr=1e-2)

# Exact KL(q_K || p) for U1: E_q[log q_K(z_K) + U1(z_K)] + log Z, log Z on a fine grid.
g = torch.linspace(-5, 5, 501)
zz = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1).view(-1, 2)
log_z = (torch.logsumexp(-U1(zz), 0) + 2 * math.log(g[1] - g[0])).item()
kl_u1 = {}
with torch.no_grad():
    for K in Ks:
        z0 = torch.randn(20000, 2)
        zk, logdet = flows["U1", K](z0)
        log_q = -0.5 * (z0**2).sum(1) - math.log(2 * math.pi) - logdet
        kl_u1[K] = (log_q + U1(zk)).mean().item() + log_z
print("exact KL(q_K || p) for U1:", {K: round(v, 3) for K, v in kl_u1.items()})

fig, ax = plt.subplots(2, 4, figsize=(9, 4.6))
for r, (name, U) in enumerate(energies.items()):
    ax[r, 0].imshow(
        torch.exp(-U(zz)).view(501, 501).numpy(),
        extent=(-5, 5, -5, 5),
        origin="lower",
        cmap="magma",
    )
    ax[r, 0].set_title(f"exp(-{name})")
    for c, K in enumerate(Ks, 1):
        with torch.no_grad():
            zk = flows[name, K](torch.randn(20000, 2))[0].numpy()
        ax[r, c].hist2d(
            zk[:, 0], zk[:, 1], bins=100, range=[[-5, 5], [-5, 5]], cmap="magma"
        )
        ax[r, c].set_title(
            f"K = {K}" + (f"  (KL {kl_u1[K]:.2f})" if name == "U1" else "")
        )
for a in ax.flat:
    a.set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", xticks=[], yticks=[])
fig.suptitle("Samples of q_K after fitting: N(0, I) through K planar flows")
fig.tight_layout()

# %%
# MNIST: the same budget (epochs, layer sizes, optimizer) for the plain VAE and the VAE
# with 8 planar flows.
x_train, _, x_test, _ = toydata.mnist()
x_train = (x_train[: scale(4000, 300)] > 0.5).float()
x_test = (x_test[: scale(1000, 200)] > 0.5).float()
epochs = scale(25, 2)
torch.manual_seed(0)
plain = vae.VAE(z_dim=16, width=16, hidden=256)
vae.train(plain, x_train, DEVICE, epochs=epochs, lr=2e-3)
torch.manual_seed(0)
nf = VAENF(z_dim=16, K=8, width=16, hidden=256)
hist = train(nf, x_train, DEVICE, epochs=epochs, lr=2e-3)
torch.manual_seed(1)
neg_elbo_plain, kl_plain = vae.evaluate(plain, x_test, DEVICE)
neg_elbo_nf, kl_nf = evaluate(nf, x_test, DEVICE)
print(
    f"test -ELBO: plain VAE {neg_elbo_plain:.1f} (KL {kl_plain:.1f}), "
    f"8 planar flows {neg_elbo_nf:.1f} (KL {kl_nf:.1f})"
)

# %%
# Metrics: the flows' held-out bound beside the plain VAE's; the 2-D fit's exact KL.
run.metric(
    "test_neg_elbo_nats",
    neg_elbo_nf,
    baseline=neg_elbo_plain,
    baseline_name="plain VAE",
    higher_is_better=False,
    fmt=".1f",
    headline=True,
)
run.metric(
    "test_kl_nats",
    kl_nf,
    baseline=kl_plain,
    baseline_name="plain VAE",
    higher_is_better=False,
    fmt=".1f",
)
run.metric(
    "U1_kl_K32",
    kl_u1[32],
    baseline=kl_u1[2],
    baseline_name="K = 2",
    higher_is_better=False,
)
run.finish()
