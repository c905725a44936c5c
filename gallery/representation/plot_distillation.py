"""
Knowledge distillation on MNIST digits
======================================

A CNN teacher (about 420k weights) is trained on the 4,000 training digits of MNIST
5,000. A small MLP student (one hidden layer of 128 units, about 100k weights) is then
trained twice for the same number of steps: once on the labels alone, once on the
teacher's softened outputs (T = 4, alpha = 0.9) plus the labels. Both are tested on the
1,000 held-out digits, averaged over two seeds; a sweep over the temperature shows where
the soft targets help.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _example import DEVICE, SMOKE, scale, start
from distillation import Student, Teacher, accuracy, train

run = start("distillation")

x_train, y_train, x_test, y_test = toydata.mnist()
if SMOKE:
    x_train, y_train = x_train[:500], y_train[:500]

# %%
# The teacher
# -----------
# A two-block CNN trained with cross-entropy on the labels.
teacher = Teacher()
teacher_hist = train(
    teacher,
    x_train,
    y_train,
    epochs=scale(10, 1),
    batch_size=128,
    lr=2e-3,
    device=DEVICE,
)
acc_teacher = accuracy(teacher, x_test, y_test, DEVICE)
print(f"teacher test accuracy {acc_teacher:.3f}")

# %%
# Students: labels alone against distillation, same steps
# --------------------------------------------------------
# Every student has the same architecture, the same seed-controlled initialisation and
# batch order, and the same number of epochs; only the loss differs. ``T = 1`` with
# ``alpha = 0.9`` is distillation without softening.
EPOCHS = scale(40, 1)
SEEDS = range(scale(2, 1))
TEMPS = scale([1, 2, 4, 8, 16], [1, 4])


def student_accuracy(T=None):
    accs = []
    for s in SEEDS:
        torch.manual_seed(s)
        student = Student(hidden=128)
        train(
            student,
            x_train,
            y_train,
            teacher=None if T is None else teacher,
            T=T or 1.0,
            alpha=0.9,
            epochs=EPOCHS,
            batch_size=128,
            lr=3e-3,
            device=DEVICE,
            seed=s,
        )
        accs.append(accuracy(student, x_test, y_test, DEVICE))
    return float(np.mean(accs)), float(np.std(accs))


acc_labels, sd_labels = student_accuracy(None)
sweep = {T: student_accuracy(T) for T in TEMPS}
for T, (m, sd) in sweep.items():
    print(f"T = {T:>2}: distilled student {m:.3f} +- {sd:.3f}")
print(f"labels only:  student {acc_labels:.3f} +- {sd_labels:.3f}")
acc_kd = sweep[4][0]

# %%
# Accuracy against temperature
# ----------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
ax = axes[0]
ms = np.array([sweep[T][0] for T in TEMPS])
sds = np.array([sweep[T][1] for T in TEMPS])
ax.errorbar(
    TEMPS, ms, yerr=sds, marker="o", capsize=3, color="C0", label="distilled student"
)
ax.axhline(acc_labels, color="C3", ls="--", label="student, labels only")
ax.axhline(acc_teacher, color="0.4", ls=":", label="teacher (CNN)")
ax.set_xscale("log", base=2)
ax.set_xticks(TEMPS, [str(t) for t in TEMPS])
ax.set_xlabel("temperature T")
ax.set_ylabel("test accuracy")
ax.set_title("Student accuracy against temperature")
ax.legend(fontsize=8, loc="lower right")

# The teacher's soft targets for one test digit: higher T reveals the runner-up classes.
ax = axes[1]
i = int((y_test == 7).nonzero()[0, 0])
teacher.eval()
with torch.no_grad():
    logits = teacher(x_test[i : i + 1].to(DEVICE)).cpu()[0]
for k, T in enumerate([1, 4, 16]):
    ax.bar(
        np.arange(10) + (k - 1) * 0.27,
        (logits / T).softmax(0).numpy(),
        width=0.27,
        label=f"T = {T}",
    )
ax.set_yscale("log")
ax.set_ylim(1e-6, 1.5)
ax.set_xticks(range(10))
ax.set_xlabel("class")
ax.set_ylabel("softmax(z / T)")
ax.set_title("Teacher's soft targets for a test '7'")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Metrics
# -------
# The headline is the distilled student (T = 4) against the same student trained on the
# labels alone; the target asks distillation to add at least half a point of accuracy.
run.metric(
    "student_distilled_test_acc",
    acc_kd,
    baseline=acc_labels,
    baseline_name="same student, labels only",
    headline=True,
)
run.metric(
    "distillation_gain_acc",
    acc_kd - acc_labels,
    target=0.005,
    baseline=0.0,
    baseline_name="no gain",
)
run.metric("teacher_test_acc", acc_teacher)
run.finish()
