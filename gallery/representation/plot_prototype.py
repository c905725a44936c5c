"""
Prototype network on MNIST digits
=================================

A prototype network (an autoencoder with 15 prototypes in its 40-d latent space) is
trained with the paper's four-term loss on the 4,000 training digits of MNIST 5,000 and
tested on the 1,000 held-out digits (target: accuracy >= 0.95), beside logistic
regression on the raw pixels. The decoder then shows what each prototype looks like, and
for a few test digits which prototypes the prediction rests on.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

import toydata
from _example import DEVICE, SMOKE, scale, start
from prototype import PrototypeNet, predict, prototype_images, train

run = start("prototype")

x_train, y_train, x_test, y_test = toydata.mnist()
if SMOKE:
    x_train, y_train = x_train[:500], y_train[:500]

# %%
# Training
# --------
# Adam on cross-entropy + 0.05 x reconstruction + 0.05 x R1 + 0.05 x R2, with random
# shifts of up to two pixels as augmentation.
model = PrototypeNet(n_prototypes=15)
hist = train(
    model, x_train, y_train, epochs=scale(30, 1), batch_size=128, lr=2e-3, device=DEVICE
)
pred, dist = predict(model, x_test, DEVICE)
acc = (pred == y_test).float().mean().item()
protos, proto_class = prototype_images(model)
nearest_acc = (proto_class[dist.argmin(1)] == y_test).float().mean().item()

logreg = LogisticRegression(max_iter=scale(200, 20))
logreg.fit(x_train.flatten(1).numpy(), y_train.numpy())
acc_logreg = logreg.score(x_test.flatten(1).numpy(), y_test.numpy())
print(
    f"prototype network {acc:.3f}, class of the nearest prototype {nearest_acc:.3f}, "
    f"logistic regression {acc_logreg:.3f}"
)

# %%
# The prototypes, decoded
# -----------------------
# Each prototype is a point in the latent space; the R1 term keeps it near some training
# code, so the decoder turns it into a recognisable digit. The label is the class whose
# logit the prototype raises most (the most negative weight in its column of the last
# layer).
m = len(protos)
fig, axes = plt.subplots(2, (m + 1) // 2, figsize=(8, 2.6))
for j, ax in enumerate(axes.flat):
    ax.axis("off")
    if j < m:
        ax.imshow(protos[j, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"p{j}: {int(proto_class[j])}", fontsize=9)
fig.suptitle(
    "The 15 prototypes decoded to images (label: the class each one votes for)"
)
fig.tight_layout()
plt.show()

# %%
# Explanations: this digit looks like those prototypes
# ----------------------------------------------------
# For a few test digits, the three nearest prototypes and their squared latent
# distances.
rows = [int((y_test == c).nonzero()[0, 0]) for c in (0, 2, 4, 7, 9)]
fig, axes = plt.subplots(len(rows), 4, figsize=(5.2, 6.5))
for r, i in enumerate(rows):
    axes[r, 0].imshow(x_test[i, 0], cmap="gray_r")
    axes[r, 0].set_title(f"test digit, predicted {int(pred[i])}", fontsize=8)
    for c, j in enumerate(dist[i].argsort()[:3].tolist(), start=1):
        axes[r, c].imshow(protos[j, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].set_title(
            f"p{j} ({int(proto_class[j])}), d = {dist[i, j]:.2f}", fontsize=8
        )
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("Nearest prototypes of five test digits")
fig.tight_layout()
plt.show()

# %%
# The four loss terms during training
# -----------------------------------
fig, ax = plt.subplots(figsize=(8, 3))
for k, label in [
    ("ce", "cross-entropy"),
    ("rec", "reconstruction x 0.05"),
    ("r1", "R1 (prototype -> code) x 0.05"),
    ("r2", "R2 (code -> prototype) x 0.05"),
]:
    ax.plot(
        np.arange(1, len(hist[k]) + 1),
        np.array(hist[k]) * (1 if k == "ce" else 0.05),
        marker=".",
        label=label,
    )
ax.set_xlabel("epoch")
ax.set_ylabel("weighted loss term")
ax.set_yscale("log")
ax.set_title("Prototype network: loss terms per epoch")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Metrics
# -------
run.metric(
    "test_accuracy",
    acc,
    target=0.95,
    baseline=acc_logreg,
    baseline_name="logistic regression on pixels",
    headline=True,
)
run.metric("nearest_prototype_class_accuracy", nearest_acc)
run.finish()
