"""
Conditional VAE: digits on demand
=================================

Trains a conditional VAE (encoder and decoder both given the one-hot label) on 3,500
training digits of MNIST 5,000, binarized at 0.5 (the last 500 training digits are the
validation split), then asks it for 100 digits of each class by sampling z ~ N(0, I)
with a chosen label. The shared digit classifier labels the samples; the headline is
the share of class-c samples it labels c (target: at least 0.9; chance is 0.1). In the
same run: the ablation, the same network trained and sampled with the label withheld
(every label set to 0, so the model is unconditional); and the strongest simple
baseline, that label-free model sampled from a Gaussian fitted, per class, to the
posterior means of its training digits of that class. On the 1,000 held-out digits, the
conditional -ELBO and an importance-weighted -log p(x|y) (k = 100) stand beside the
label-free model's bounds on -log p(x) and beside a class-conditional mixture of
Bernoullis fitted by EM.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import DEVICE, scale, start
from _latent import bernoulli_mixture, mixture_nll, mnist_splits
from _measure import class_share, digit_classifier
from cvae import CVAE, evaluate, iw_nll, sample, train

run = start("cvae")

# %%
# Data (binarized; the split does not depend on the seed) and the measuring classifier
# (trained once on the real training digits, never on samples).
x_train, y_train, x_val, y_val, x_test, y_test = mnist_splits(
    n_train=scale(3500, 500), n_test=scale(1000, 200)
)
clf = digit_classifier(DEVICE)
print(f"classifier accuracy on real held-out digits: {clf.test_accuracy:.3f}")

# %%
# Train the CVAE and the ablation with the same network, epochs and optimiser (chosen
# by the validation -ELBO among a few settings of about 30 s: 24 epochs, batch 50, lr
# 2e-3). The ablation sees the label 0 for every digit, so its one-hot input carries
# no information.
opts = dict(epochs=scale(24, 2), batch_size=50, lr=2e-3, device=DEVICE)
model = CVAE(z_dim=16, width=16, hidden=256)
hist = train(model, x_train, y_train, **opts)
blind = CVAE(z_dim=16, width=16, hidden=256)
train(blind, x_train, torch.zeros_like(y_train), **opts)

# %%
# Sample 100 digits per class and let the classifier read them: the CVAE (z ~ N(0, I)
# with the requested label), the ablation (the same, but its label carries nothing),
# and the baseline (the label-free model, z drawn from a Gaussian fitted to the
# posterior means of the training digits of the requested class). The last trick is
# also applied to the CVAE itself, to see whether its misses come from the decoder or
# from regions of N(0, I) that no training digit's posterior covers.
labels = torch.arange(10).repeat_interleave(scale(100, 20))
zeros = torch.zeros_like(labels)


@torch.no_grad()
def class_gaussian_samples(m, train_labels, asked, decode_labels):
    """Decode z drawn, for each requested class c, from a Gaussian fitted to the
    posterior means of the training digits of class c."""
    m.eval()
    mu, _ = m.encode(x_train.to(DEVICE), train_labels.to(DEVICE))
    mu = mu.cpu().double()
    z = torch.zeros(len(asked), mu.shape[1], dtype=torch.float64)
    for c in range(10):
        m_c = mu[y_train == c]
        cov = torch.cov(m_c.T) + 1e-4 * torch.eye(mu.shape[1], dtype=torch.float64)
        gauss = torch.distributions.MultivariateNormal(m_c.mean(0), cov)
        z[asked == c] = gauss.sample((int((asked == c).sum()),))
    out = m.decode(z.float().to(DEVICE), decode_labels.to(DEVICE))
    return torch.sigmoid(out).cpu().view(-1, 1, 28, 28)


samples = sample(model, labels, device=DEVICE).cpu()
share = class_share(clf, samples, labels)
share_blind = class_share(clf, sample(blind, zeros, device=DEVICE).cpu(), labels)
x_base = class_gaussian_samples(blind, torch.zeros_like(y_train), labels, zeros)
share_base = class_share(clf, x_base, labels)
x_agg = class_gaussian_samples(model, y_train, labels, labels)
share_agg = class_share(clf, x_agg, labels)
pred = clf.predict(samples)
per_class = [(pred[labels == c] == c).float().mean().item() for c in range(10)]
print(
    f"class share: CVAE {share:.3f}, label withheld {share_blind:.3f}, label-free VAE "
    f"with per-class latent Gaussians {share_base:.3f}, chance 0.100; the CVAE with "
    f"z from its own per-class posterior Gaussians {share_agg:.3f}"
)

# %%
# Held-out bounds: the CVAE's on -log p(x|y), the label-free model's on -log p(x), and
# a mixture of 20 Bernoullis per class (exact -log p(x|y); its size and Beta prior
# chosen on the validation split).
k = scale(100, 10)
neg_elbo, kl = evaluate(model, x_test, y_test, device=DEVICE)
iw = iw_nll(model, x_test, y_test, k=k, device=DEVICE)
neg_elbo_blind, _ = evaluate(blind, x_test, torch.zeros_like(y_test), device=DEVICE)
iw_blind = iw_nll(blind, x_test, torch.zeros_like(y_test), k=k, device=DEVICE)
mix_nll = 0.0
for c in range(10):
    mix = bernoulli_mixture(
        x_train[y_train == c],
        scale(20, 3),
        iters=scale(60, 5),
        prior=0.05,
        seed=run.seed,
    )
    mix_nll += mixture_nll(mix, x_test[y_test == c]) * int((y_test == c).sum())
mix_nll /= len(x_test)
print(
    f"test, nats per image: CVAE -ELBO {neg_elbo:.1f}, -log p(x|y) {iw:.1f}; label "
    f"withheld -ELBO {neg_elbo_blind:.1f}, -log p(x) {iw_blind:.1f}; class-conditional "
    f"Bernoulli mixture {mix_nll:.1f}"
)

# %%
# Left: ten samples per class (one row per requested digit, z drawn afresh each time).
# Middle: the same z in every column, so a column holds one "style" written as ten
# different digits. Right: the share read as requested, per class.
grid = torch.cat([samples[labels == c][:10] for c in range(10)]).view(10, 10, 28, 28)
with torch.no_grad():
    z = torch.randn(10, model.z_dim, device=DEVICE).repeat(10, 1)
    y = torch.arange(10, device=DEVICE).repeat_interleave(10)
    style = torch.sigmoid(model.decode(z, y)).cpu().view(10, 10, 28, 28)
fig, ax = plt.subplots(
    1, 3, figsize=(11, 3.8), gridspec_kw=dict(width_ratios=[1, 1, 0.9])
)
for a, g, t in [
    (ax[0], grid, "Samples, one row per label"),
    (ax[1], style, "Same z per column, label per row"),
]:
    a.imshow(g.permute(0, 2, 1, 3).reshape(280, 280).numpy(), cmap="gray_r")
    a.set_yticks(np.arange(10) * 28 + 14, [str(c) for c in range(10)])
    a.set_xticks([])
    a.set_title(t)
ax[2].bar(range(10), per_class, color="tab:blue", label="CVAE")
ax[2].axhline(0.9, color="k", ls=":", lw=1, label="target 0.9 (overall)")
ax[2].axhline(share_base, color="tab:orange", ls="--", lw=1, label="baseline (overall)")
ax[2].axhline(0.1, color="0.5", ls="-", lw=1, label="chance")
ax[2].set(
    xticks=range(10),
    ylim=(0, 1.05),
    xlabel="requested digit",
    ylabel="share labelled as requested",
    title="Classifier agreement",
)
ax[2].legend(frameon=False, loc="lower left", fontsize=7)
fig.tight_layout()

# %%
# Metrics.
run.metric(
    "class_share",
    share,
    target=0.9,
    baseline=share_base,
    baseline_name="label-free VAE, per-class latent Gaussian",
    ablation=share_blind,
    ablation_name="label withheld (chance is 0.1)",
    headline=True,
)
run.metric("class_share_z_from_class_posteriors", share_agg)
run.metric(
    "test_nll_iw100_nats",
    iw,
    higher_is_better=False,
    baseline=mix_nll,
    baseline_name="20 Bernoullis per class, EM",
    ablation=iw_blind,
    ablation_name="label withheld: -log p(x)",
    fmt=".1f",
)
run.metric(
    "test_neg_elbo_nats",
    neg_elbo,
    higher_is_better=False,
    ablation=neg_elbo_blind,
    ablation_name="label withheld: -ELBO of x",
    fmt=".1f",
)
run.metric("test_kl_nats", kl, higher_is_better=False, fmt=".1f")
run.finish()
