"""Knowledge distillation (Hinton, Vinyals and Dean, "Distilling the Knowledge in a
Neural Network", NIPS 2014 Deep Learning Workshop, arXiv:1503.02531). A large trained
teacher's class probabilities, softened by dividing its logits by a temperature T > 1,
carry "dark knowledge": how much a 7 looks like a 1 or a 2. A small student is trained
to match those soft targets (a KL divergence between the two softened distributions,
multiplied by T^2 so that its gradients keep the same size as T changes) together with
the usual cross-entropy on the true labels.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Teacher(nn.Module):
    """A CNN for 1x28x28 digits: two conv blocks and a 128-unit hidden layer (about 420k
    weights)."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 32 x 14 x 14
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 64 x 7 x 7
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Linear(128, n_classes),
        )

    def forward(self, x):
        return self.net(x)


class Student(nn.Module):
    """A small MLP on the flattened image: 784 -> hidden -> 10 (about 25k weights for
    hidden=32)."""

    def __init__(self, hidden=32, n_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.net(x)


def distillation_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.9):
    """alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) *
    CE(student, y).

    The T^2 factor undoes the 1/T^2 by which softening shrinks the soft-target
    gradients, so alpha keeps its meaning whatever the temperature. ``teacher_logits``
    carry no gradient."""
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student and teacher logits differ in shape: "
            f"{tuple(student_logits.shape)} vs {tuple(teacher_logits.shape)}"
        )
    log_q = F.log_softmax(student_logits / T, dim=1)  # student, softened
    log_p = F.log_softmax(teacher_logits.detach() / T, dim=1)  # teacher, softened
    soft = F.kl_div(log_q, log_p, log_target=True, reduction="batchmean") * T**2
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard


def train(
    model,
    x,
    y,
    *,
    teacher=None,
    T=4.0,
    alpha=0.9,
    label_smoothing=0.0,
    epochs=10,
    batch_size=64,
    lr=1e-3,
    device="cpu",
    seed=None,
    log=None,
):
    """Train ``model`` on (x, y). With a ``teacher``, the distillation loss (its logits
    computed once, in eval mode); without one, cross-entropy on the labels, smoothed by
    ``label_smoothing``. Returns the per-epoch mean ``loss``."""
    model.to(device)
    x, y = x.to(device), y.to(device)
    teacher_logits = None
    if teacher is not None:
        teacher.to(device).eval()
        with torch.no_grad():
            teacher_logits = torch.cat([teacher(xb) for xb in x.split(500)])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    history = {"loss": []}
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x), generator=gen).to(device).split(batch_size):
            logits = model(x[idx])
            if teacher_logits is None:
                loss = F.cross_entropy(logits, y[idx], label_smoothing=label_smoothing)
            else:
                loss = distillation_loss(logits, teacher_logits[idx], y[idx], T, alpha)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history["loss"].append(total / len(x))
        if log is not None:
            log(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}")
    return history


@torch.no_grad()
def accuracy(model, x, y, device="cpu"):
    """Share of correctly classified items."""
    model.to(device).eval()
    pred = torch.cat(
        [
            model(x[i : i + 500].to(device)).argmax(1).cpu()
            for i in range(0, len(x), 500)
        ]
    )
    return (pred == y.cpu()).float().mean().item()


if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    teacher = Teacher()
    print("teacher loss", train(teacher, x, y, epochs=2, seed=0)["loss"][-1])
    hist = train(Student(), x, y, teacher=teacher, epochs=2, seed=0)
    print("student distillation loss", hist["loss"][-1])
