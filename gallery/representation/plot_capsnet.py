"""
CapsNet on MNIST digits
=======================

A CapsNet with three routing iterations, a margin loss and a reconstruction decoder is
trained on 3,500 training digits of MNIST 5,000 with the paper's augmentation (random
shifts of up to two pixels); 500 more digits, carved from the training split, served
for every choice, and the 1,000 held-out digits are scored once, at the end. In the
same run: the same CapsNet with **one routing iteration** (the ablation of routing by
agreement: each primary capsule splits its vote evenly, as in the paper's Table 1), and
the Foundation CNN (``code/cnn.py``) with the same augmentation for about the same CPU
seconds (the baseline). Finally, as in the paper, one dimension of a digit capsule is
perturbed at a time and the decoder redraws the digit.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import cnn
import toydata
from _example import DEVICE, scale, start
from capsnet import CapsNet, predict, train

run = start("capsnet")

x_train, y_train, x_val, y_val, x_test, y_test = toydata.mnist_with_validation()
x_train, y_train = x_train[: scale(3500, 256)], y_train[: scale(3500, 256)]
n_eval = scale(1000, 100)  # smoke mode: fewer digits to score
x_val, y_val, x_test, y_test = (
    x_val[:n_eval],
    y_val[:n_eval],
    x_test[:n_eval],
    y_test[:n_eval],
)


def accuracy(pred, y):
    return int((pred == y).sum()) / len(y)


# %%
# Training the CapsNet and its one-iteration ablation
# ---------------------------------------------------
# The same seed, batches and shifts for both; only the number of routing iterations
# differs.
EPOCHS = scale(6, 1)
CNN_EPOCHS = 15  # about the CPU seconds of 6 CapsNet epochs (timed in the pilot)
caps = {}
for iters in (3, 1):
    torch.manual_seed(run.seed)
    m = CapsNet(conv_ch=32, n_primary=8, routing_iters=iters)
    t0 = time.process_time()
    h = train(m, x_train, y_train, epochs=EPOCHS, lr=3e-3, device=DEVICE, seed=run.seed)
    seconds = time.process_time() - t0
    pred, v = predict(m, x_test, device=DEVICE)
    caps[iters] = dict(
        model=m,
        hist=h["loss"],
        seconds=seconds,
        val=accuracy(predict(m, x_val, device=DEVICE)[0], y_val),
        test=accuracy(pred, y_test),
        pred=pred,
        v=v,
    )
    print(
        f"CapsNet, {iters} routing iteration(s): validation {caps[iters]['val']:.4f}, "
        f"test {caps[iters]['test']:.4f}, {seconds:.0f} CPU s"
    )
model, pred, caps3 = caps[3]["model"], caps[3]["pred"], caps[3]["v"]

# %%
# The Foundation CNN for about the same CPU seconds
# -------------------------------------------------
# Its epoch count was fixed from a timing in the pilot runs (15 CNN epochs took 32 CPU
# seconds, 6 CapsNet epochs 31), so that the comparison does not depend on the load of
# the machine; its own one-cycle schedule spans them all.
torch.manual_seed(run.seed)
baseline = cnn.CNN()
t0 = time.process_time()
cnn.train(baseline, x_train, y_train, epochs=scale(CNN_EPOCHS, 1), device=DEVICE)
cnn_seconds = time.process_time() - t0
acc_cnn = accuracy(cnn.predict(baseline, x_test, device=DEVICE), y_test)
print(f"CNN: test accuracy {acc_cnn:.4f} after {cnn_seconds:.0f} CPU s")

# %%
# Capsule lengths and training loss
# ---------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
for iters, c in caps.items():
    label = f"{iters} routing iteration{'s' if iters > 1 else ''}"
    axes[0].plot(np.arange(1, len(c["hist"]) + 1), c["hist"], marker="o", label=label)
axes[0].legend(fontsize=8)
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("margin + reconstruction loss")
axes[0].set_title("CapsNet training loss")
lengths = caps3.norm(dim=-1)
correct = lengths[torch.arange(len(y_test)), y_test]
others = lengths.clone()
others[torch.arange(len(y_test)), y_test] = float("nan")
bins = np.linspace(0, 1, 41)
axes[1].hist(
    others.flatten()[~others.flatten().isnan()].numpy(),
    bins=bins,
    alpha=0.7,
    label="other capsules",
    color="C7",
)
axes[1].hist(
    correct.numpy(), bins=bins, alpha=0.8, label="true-class capsule", color="C0"
)
axes[1].axvline(0.9, ls="--", color="k", lw=0.8)
axes[1].axvline(0.1, ls="--", color="k", lw=0.8)
axes[1].set_yscale("log")
axes[1].set_xlabel("capsule length |v| (test digits)")
axes[1].set_title("Lengths vs the margins 0.1 and 0.9")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Perturbing one capsule dimension
# --------------------------------
# Take a test digit's capsule for its predicted class, add -0.25 ... 0.25 to one of its
# 16 dimensions, and decode. Each row is one dimension: the decoder reads pose
# properties (stroke width, slant, scale, local shape) off single directions of the
# capsule.
i = int(
    torch.cat([((pred == y_test) & (y_test == 3)).nonzero()[:, 0], torch.tensor([0])])[
        0
    ]
)
dims = list(range(6))
steps = torch.linspace(-0.25, 0.25, 11)
model.eval()
fig, axes = plt.subplots(len(dims), len(steps), figsize=(7.5, 4.4))
with torch.no_grad():
    for r, d in enumerate(dims):
        v = caps3[i : i + 1].repeat(len(steps), 1, 1).to(DEVICE)
        v[:, pred[i], d] += steps.to(DEVICE)
        imgs = model.reconstruct(v, pred[i : i + 1].repeat(len(steps)).to(DEVICE)).cpu()
        for c in range(len(steps)):
            ax = axes[r, c]
            ax.imshow(imgs[c, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(f"dim {d}", fontsize=8)
            if r == len(dims) - 1:
                ax.set_xlabel(f"{steps[c]:+.2f}", fontsize=7)
fig.suptitle("Reconstructions as one dimension of the digit capsule is perturbed")
fig.tight_layout()
plt.show()

# %%
# Metrics
# -------
# Target (fixed before the final runs): the CNN baseline's validation accuracy in the
# pilot runs (0.980 and 0.984 for seeds 0 and 1), rounded down to 0.98: the paper's
# claim is that a CapsNet beats a CNN baseline, so it must at least match one given
# the same CPU seconds.
run.metric(
    "test_accuracy",
    caps[3]["test"],
    target=0.98,
    baseline=acc_cnn,
    baseline_name="Foundation CNN, same CPU seconds and augmentation",
    ablation=caps[1]["test"],
    ablation_name="one routing iteration",
    fmt=".3f",
    headline=True,
)
run.metric("test_accuracy_one_iteration", caps[1]["test"], fmt=".3f")
run.metric("test_accuracy_cnn", acc_cnn, fmt=".3f")
run.metric("val_accuracy", caps[3]["val"], fmt=".3f")
run.metric("train_cpu_seconds_capsnet", caps[3]["seconds"], fmt=".0f")
run.metric("train_cpu_seconds_cnn", cnn_seconds, fmt=".0f")
run.finish()
