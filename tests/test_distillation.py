import torch
import torch.nn.functional as F

from distillation import Student, Teacher, distillation_loss, train


def test_shapes():
    x = torch.rand(5, 1, 28, 28)
    assert Teacher()(x).shape == (5, 10)
    assert Student(hidden=16)(x).shape == (5, 10)


def test_equals_cross_entropy_for_one_hot_teacher_at_T1():
    torch.manual_seed(0)
    s, y = torch.randn(8, 10), torch.randint(0, 10, (8,))
    one_hot_logits = 1e4 * F.one_hot(y, 10).float()  # softmax is exactly one-hot
    for alpha in (1.0, 0.3):
        loss = distillation_loss(s, one_hot_logits, y, T=1.0, alpha=alpha)
        assert torch.allclose(loss, F.cross_entropy(s, y), atol=1e-5)


def test_soft_term_against_formula_with_T_squared():
    torch.manual_seed(1)
    s, t, y = torch.randn(4, 10), torch.randn(4, 10), torch.randint(0, 10, (4,))
    T = 3.0
    p, q = (t / T).softmax(1), (s / T).softmax(1)
    kl = (p * (p.log() - q.log())).sum(1).mean()
    assert torch.allclose(
        distillation_loss(s, t, y, T=T, alpha=1.0), T**2 * kl, atol=1e-5
    )
    # the teacher gets no gradient
    s.requires_grad_(True)
    t.requires_grad_(True)
    distillation_loss(s, t, y, T=T).backward()
    assert t.grad is None


def test_train_smooths_the_labels_when_asked():
    """With lr = 0 the first epoch's loss is the loss of the initial network: the
    smoothed cross-entropy when ``label_smoothing`` is set. Fails if train ignores the
    option (the plain cross-entropy is lower than the smoothed one here)."""
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    student = Student(hidden=16)
    with torch.no_grad():
        student.net[-1].weight.mul_(30)  # confident predictions: smoothing matters
        smoothed = F.cross_entropy(student(x), y, label_smoothing=0.2).item()
        plain = F.cross_entropy(student(x), y).item()
    hist = train(student, x, y, label_smoothing=0.2, epochs=1, batch_size=64, lr=0.0)
    assert abs(hist["loss"][0] - smoothed) < 1e-5 and abs(smoothed - plain) > 1e-3


def test_train_learns():
    """Loss falls and the student fits the teacher's labels on a tiny batch (fails for
    a constant output: one class cannot fit ten)."""
    torch.manual_seed(0)
    y = torch.randint(0, 10, (64,))
    x = 0.3 * torch.rand(64, 1, 28, 28)
    x[torch.arange(64), 0, 2 * y + 4] = 1.0  # a bright row per class
    teacher = Teacher()
    hist = train(teacher, x, y, epochs=8, batch_size=32, lr=3e-3, seed=0)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    student = Student()
    hist = train(
        student, x, y, teacher=teacher, T=4.0, epochs=30, batch_size=32, lr=3e-3, seed=0
    )
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    with torch.no_grad():
        agree = (student(x).argmax(1) == teacher.eval()(x).argmax(1)).float().mean()
    assert agree > 0.8
