"""Tests for code/cgan.py: shapes, the projection discriminator's form, and that train
learns."""

import torch

from cgan import (
    CondGenerator,
    ProjectionDiscriminator,
    generator_loss,
    sample_grid,
    train,
)


def test_shapes():
    G, D = CondGenerator(z_dim=8, width=8), ProjectionDiscriminator(width=8)
    x = G(torch.randn(4, 8), torch.tensor([0, 1, 2, 9]))
    assert x.shape == (4, 1, 28, 28) and D(x, torch.tensor([0, 1, 2, 9])).shape == (4,)
    imgs, y = sample_grid(G, per_class=2)
    assert imgs.shape == (20, 1, 28, 28) and y.tolist() == [
        c for c in range(10) for _ in (0, 1)
    ]


def test_projection_label_term():
    # changing the label moves the logit by exactly <embed(y1) - embed(y2), h(x)>
    D = ProjectionDiscriminator(width=8).eval()
    x = torch.rand(5, 1, 28, 28)
    y1, y2 = torch.tensor([0, 1, 2, 3, 4]), torch.tensor([9, 8, 7, 6, 5])
    with torch.no_grad():
        h = D.features(x)
        by_hand = ((D.embed(y1) - D.embed(y2)) * h).sum(1)
        assert torch.allclose(D(x, y1) - D(x, y2), by_hand, atol=1e-5)


def test_train_learns_the_label():
    # two classes: class 0 is a dark image, class 1 a bright one; G must follow the
    # label
    torch.manual_seed(0)
    images = torch.cat(
        [torch.full((64, 1, 28, 28), 0.1), torch.full((64, 1, 28, 28), 0.9)]
    )
    labels = torch.cat([torch.zeros(64), torch.ones(64)]).long()
    G, D = (
        CondGenerator(z_dim=8, n_classes=2, width=8),
        ProjectionDiscriminator(2, width=8),
    )
    hist = train(G, D, images, labels, steps=80, batch=32, lr=2e-3)
    imgs, y = sample_grid(G, per_class=16)
    mean = imgs.mean((1, 2, 3))
    assert mean[y == 1].mean() - mean[y == 0].mean() > 0.4
    assert len(hist["g_loss"]) == 80 and generator_loss(D, imgs[:2], y[:2]).item() > 0
