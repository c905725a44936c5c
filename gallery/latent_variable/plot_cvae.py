"""
Conditional VAE: digits on demand
=================================

Trains a conditional VAE (encoder and decoder both given the one-hot label) on the 4,000
training digits of MNIST 5,000, binarized at 0.5, then asks it for 100 digits of each
class by sampling z ~ N(0, I) with a chosen label. A CNN classifier trained on the real
training digits in the same run labels the samples; the metric is the share of class-c
samples it labels c (target: at least 0.9). The classifier's accuracy on real held-out
digits is shown beside it as the ceiling.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, scale, start
from _measure import class_share, digit_classifier
from cvae import CVAE, sample, train

run = start("cvae")

# %%
# Data and the measuring classifier (trained on the real training digits, not on
# samples).
x_train, y_train, x_test, y_test = toydata.mnist()
n = scale(4000, 500)
x_bin, y_tr = (x_train[:n] > 0.5).float(), y_train[:n]
clf = digit_classifier(DEVICE)
real_acc = clf.test_accuracy
print(f"classifier accuracy on real held-out digits: {real_acc:.3f}")

# %%
# Train the CVAE: the same negative ELBO as the VAE, with y fed to both networks.
model = CVAE(z_dim=16, width=16, hidden=256)
hist = train(model, x_bin, y_tr, DEVICE, epochs=scale(30, 2), batch_size=100, lr=3e-3)

# %%
# Sample 100 digits per class and let the classifier read them.
torch.manual_seed(1)
labels = torch.arange(10).repeat_interleave(scale(100, 20))
samples = sample(model, labels, DEVICE).cpu()
share = class_share(clf, samples, labels)
pred = clf.predict(samples)
per_class = [(pred[labels == c] == c).float().mean().item() for c in range(10)]
print(
    "share labelled as asked, per class:",
    " ".join(f"{c}:{s:.2f}" for c, s in enumerate(per_class)),
)

# %%
# Left: ten samples per class (one row per requested digit, z drawn afresh each time).
# Right: the same z in every column, so a column holds one "style" written as ten
# different digits.
torch.manual_seed(2)
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
ax[2].bar(range(10), per_class, color="tab:blue")
ax[2].axhline(0.9, color="k", ls=":", lw=1, label="target 0.9 (overall)")
ax[2].set(
    xticks=range(10),
    ylim=(0, 1.05),
    xlabel="requested digit",
    ylabel="share labelled as requested",
    title=f"Classifier agreement: {share:.3f}",
)
ax[2].legend(frameon=False, loc="lower left", fontsize=8)
fig.tight_layout()

# %%
# Metrics.
run.metric(
    "class_share",
    share,
    target=0.9,
    baseline=real_acc,
    baseline_name="classifier on real test digits",
    headline=True,
)
run.metric("train_neg_elbo_nats", hist["loss"][-1], higher_is_better=False, fmt=".1f")
run.finish()
