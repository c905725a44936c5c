"""Tests for code/cgan.py: shapes, the projection discriminator's form, and that train
learns."""

import pytest
import torch

from cgan import (
    ConcatDiscriminator,
    CondGenerator,
    ProjectionDiscriminator,
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
    """Fails if the label term is missing or is not the inner product of the label's
    embedding with the image features: changing the label moves the logit by exactly
    <embed(y1) - embed(y2), h(x)>."""
    D = ProjectionDiscriminator(width=8).eval()
    x = torch.rand(5, 1, 28, 28)
    y1, y2 = torch.tensor([0, 1, 2, 3, 4]), torch.tensor([9, 8, 7, 6, 5])
    with torch.no_grad():
        h = D.features(x)
        by_hand = ((D.embed(y1) - D.embed(y2)) * h).sum(1)
        assert torch.allclose(D(x, y1) - D(x, y2), by_hand, atol=1e-5)


def test_concat_discriminator_reads_the_label_channels():
    """Fails if the one-hot label maps are not concatenated to the image (the logit
    would not depend on y) or are concatenated for the wrong class."""
    torch.manual_seed(0)
    D = ConcatDiscriminator(width=8).eval()
    x = torch.rand(4, 1, 28, 28)
    y1, y2 = torch.tensor([0, 1, 2, 3]), torch.tensor([9, 8, 7, 6])
    with torch.no_grad():
        assert (D(x, y1) - D(x, y2)).abs().min() > 1e-4
        # the input the first layer sees: the image, then a constant one at channel 1+y
        seen = []
        hook = D.features[0].register_forward_hook(lambda m, i, o: seen.append(i[0]))
        D(x, y1)
        hook.remove()
    assert torch.equal(seen[0][:, 0:1], x)
    assert torch.equal(seen[0][:, 1:].sum((2, 3)).argmax(1), y1)
    assert torch.equal(seen[0][:, 1:].sum((1, 2, 3)), torch.full((4,), 28.0 * 28))


@pytest.mark.parametrize("disc", [ProjectionDiscriminator, ConcatDiscriminator])
def test_train_learns_the_label(disc):
    """Fails if G ignores y (both classes would look alike) or outputs a constant: class
    0 is a dark image, class 1 a bright one, and G must follow the label."""
    torch.manual_seed(0)
    images = torch.cat(
        [torch.full((64, 1, 28, 28), 0.1), torch.full((64, 1, 28, 28), 0.9)]
    )
    labels = torch.cat([torch.zeros(64), torch.ones(64)]).long()
    G, D = CondGenerator(z_dim=8, n_classes=2, width=8), disc(2, width=8)
    hist = train(G, D, images, labels, steps=80, batch_size=32, lr=2e-3, seed=0)
    imgs, y = sample_grid(G, per_class=16)
    mean = imgs.mean((1, 2, 3))
    assert mean[y == 1].mean() - mean[y == 0].mean() > 0.4
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 80
