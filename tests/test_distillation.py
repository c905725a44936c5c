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


def test_train_learns():
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    teacher = Teacher()
    hist = train(teacher, x, y, epochs=8, batch_size=32)
    assert hist[-1] < hist[0]
    hist = train(Student(), x, y, teacher=teacher, T=4.0, epochs=8, batch_size=32)
    assert hist[-1] < hist[0]
