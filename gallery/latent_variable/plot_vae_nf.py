"""
Planar flows: 2-D densities and a VAE on MNIST
==============================================

First the paper's 2-D experiment: a diagonal Gaussian pushed through K = 2, 8 and 32
planar flows is fitted to two unnormalized densities exp(-U(z)) by minimizing KL(q_K ||
p), three restarts per K, the best kept by its own objective; for the ring-shaped U1 the
KL itself (a Monte Carlo average over 20,000 samples, with log Z computed on a grid)
is reported beside the flow-free Gaussian (K = 0), the ablation. Then the VAE's
posterior is given 8 amortized planar flows and trained on 3,500 training digits of
MNIST 5,000 (binarized at 0.5) beside the same VAE with no flows (K = 0, the
ablation) and with a full-covariance Gaussian posterior (the baseline); on 500
held-out digits each is scored by the negative ELBO and by an importance-weighted
estimate of -log p(x) (k = 100), whose difference is the part of the bound the
posterior leaves loose (the headline: the flows should make it smaller).
"""

# %%
import math

import matplotlib.pyplot as plt
import torch

from _example import DEVICE, scale, start
from _latent import mnist_splits
from vae_nf import U1, U2, VAENF, Flow2D, evaluate, iw_nll, train, train_density

run = start("vae_nf")

# %%
# 2-D: fit each density with K = 0 (the Gaussian alone), 2, 8 and 32 flows, three
# restarts side by side; keep the restart with the lowest objective, which is the KL
# up to the constant log Z, estimated on fresh samples (the flows run on the CPU: they
# are tiny). Both densities are fitted in one batch of six restarts, the first three
# on U1 and the others on U2: the restarts share no parameter and Adam updates each
# parameter on its own, so this is six independent fits at the price of three.
Ks, energies, R = [0, 2, 8, 32], {"U1": U1, "U2": U2}, 3


def both(z):
    """U1 on the first half of the samples (restarts 0 to R - 1), U2 on the rest."""
    h = len(z) // 2
    return torch.cat([U1(z[:h]), U2(z[h:])])


best = {}
for K in Ks:
    flow = Flow2D(K, restarts=2 * R)
    train_density(flow, both, steps=scale(1500, 50), lr=1e-2)
    with torch.no_grad():
        zk, log_q = flow(torch.randn(2 * R, 20000, 2))
        obj = (log_q + both(zk.flatten(0, 1)).view(2 * R, -1)).mean(1)
    for e, name in enumerate(energies):
        mine = obj[e * R : (e + 1) * R]  # this density's three restarts
        best[name, K] = (flow, e * R + int(mine.argmin()), mine)

# KL(q_K || p) for U1: E_q[log q_K(z_K) + U1(z_K)] + log Z, log Z on a fine grid.
g = torch.linspace(-5, 5, 501)
zz = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1).view(-1, 2)
log_z = (torch.logsumexp(-U1(zz), 0) + 2 * math.log(g[1] - g[0])).item()
kl_u1 = {K: best["U1", K][2].min().item() + log_z for K in Ks}
spread = {K: (best["U1", K][2].max() - best["U1", K][2].min()).item() for K in Ks}
print("KL(q_K || p) for U1, best of 3:", {K: round(v, 3) for K, v in kl_u1.items()})
print("  worst minus best restart:", {K: round(v, 3) for K, v in spread.items()})

fig, ax = plt.subplots(2, 5, figsize=(11, 4.6))
for r, (name, U) in enumerate(energies.items()):
    ax[r, 0].imshow(
        torch.exp(-U(zz)).view(501, 501).numpy(),
        extent=(-5, 5, -5, 5),
        origin="lower",
        cmap="magma",
    )
    ax[r, 0].set_title(f"exp(-{name})")
    for c, K in enumerate(Ks, 1):
        flow, i, _ = best[name, K]
        with torch.no_grad():
            zk = flow(torch.randn(2 * R, 20000, 2))[0][i].numpy()
        ax[r, c].hist2d(
            zk[:, 0], zk[:, 1], bins=100, range=[[-5, 5], [-5, 5]], cmap="magma"
        )
        ax[r, c].set_title(
            f"K = {K}" + (f"  (KL {kl_u1[K]:.2f})" if name == "U1" else ""), fontsize=9
        )
for a in ax.flat:
    a.set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", xticks=[], yticks=[])
fig.suptitle("Samples of q_K after fitting: a Gaussian through K planar flows")
fig.tight_layout()

# %%
# MNIST: the same network, budget and optimiser for K = 8 flows and for none
# (K = 0: the same code, so the same Monte Carlo estimate of the KL), and, as the
# baseline, the simplest richer posterior without flows: a Gaussian with a full
# covariance. The epochs, batch size and learning rate are the VAE example's, chosen on
# its validation split.
x_train, _, _, _, x_test, _ = mnist_splits(
    n_train=scale(3500, 300), n_test=scale(500, 200)
)
opts = dict(epochs=scale(16, 2), batch_size=32, lr=1.5e-3, device=DEVICE)
scores, k_iw = {}, scale(100, 10)
posteriors = {0: dict(K=0), 8: dict(K=8), "full": dict(K=0, full_cov=True)}
for key, kw in posteriors.items():
    m = VAENF(z_dim=16, width=16, hidden=256, **kw)
    train(m, x_train, **opts)
    neg_elbo, kl = evaluate(m, x_test, device=DEVICE)
    iw = iw_nll(m, x_test, k=k_iw, device=DEVICE)
    scores[key] = dict(neg_elbo=neg_elbo, kl=kl, iw=iw, gap=neg_elbo - iw)
    print(
        f"{'K = ' + str(key) if key != 'full' else 'full covariance'}: test -ELBO "
        f"{neg_elbo:.1f} (KL {kl:.1f}), -log p(x) (k = {k_iw}) {iw:.1f}, bound gap "
        f"{neg_elbo - iw:.2f} nats"
    )

# %%
# Metrics: the bound's gap with flows beside the gap of the full-covariance Gaussian
# and of the diagonal one; the two bounds, and the KL each model's posterior pays (a
# small gap can also mean a latent the decoder has learnt to need less of); the 2-D
# fit's KL with 32 flows beside the Gaussian alone.
# The target, fixed before the final run as a rule on the ablation: the flows must
# close at least a tenth of the gap the Gaussian posterior leaves.
run.metric(
    "test_bound_gap_nats",
    scores[8]["gap"],
    target=0.9 * scores[0]["gap"],
    higher_is_better=False,
    baseline=scores["full"]["gap"],
    baseline_name="full-covariance Gaussian, no flows",
    ablation=scores[0]["gap"],
    ablation_name="no flows (K = 0)",
    fmt=".2f",
    headline=True,
)
run.metric(
    "test_nll_iw100_nats",
    scores[8]["iw"],
    higher_is_better=False,
    baseline=scores["full"]["iw"],
    baseline_name="full-covariance Gaussian, no flows",
    ablation=scores[0]["iw"],
    ablation_name="no flows (K = 0)",
    fmt=".1f",
)
run.metric(
    "test_neg_elbo_nats",
    scores[8]["neg_elbo"],
    higher_is_better=False,
    baseline=scores["full"]["neg_elbo"],
    baseline_name="full-covariance Gaussian, no flows",
    ablation=scores[0]["neg_elbo"],
    ablation_name="no flows (K = 0)",
    fmt=".1f",
)
run.metric(
    "U1_kl_K32",
    kl_u1[32],
    higher_is_better=False,
    baseline=kl_u1[2],
    baseline_name="K = 2",
    ablation=kl_u1[0],
    ablation_name="Gaussian alone (K = 0)",
)
run.metric("U1_kl_K8", kl_u1[8], higher_is_better=False)
run.metric(
    "test_kl_nats",
    scores[8]["kl"],
    higher_is_better=False,
    baseline=scores["full"]["kl"],
    baseline_name="full-covariance Gaussian, no flows",
    ablation=scores[0]["kl"],
    ablation_name="no flows (K = 0)",
    fmt=".1f",
)
run.finish()
