"""Tests for code/biggan.py: shapes, spectral norm, truncation, hinge loss by hand,
orthogonal regularization, and that train learns the label."""

import torch
import torch.nn as nn

from biggan import (
    SN,
    BigDiscriminator,
    BigGenerator,
    hinge_d_loss,
    hinge_g_loss,
    ortho_reg,
    sample,
    train,
    truncated_noise,
)


def test_shapes():
    G, D = BigGenerator(chunk=4, width=8), BigDiscriminator(width=8)
    y = torch.tensor([0, 1, 2, 9])
    x = G(torch.randn(4, G.z_dim), y)
    assert x.shape == (4, 1, 28, 28) and D(x, y).shape == (4,)
    assert sample(G, y, threshold=0.5).shape == (4, 1, 28, 28)


def test_spectral_norm_brings_largest_singular_value_to_one():
    torch.manual_seed(0)
    layer = SN(nn.Linear(40, 30))
    with torch.no_grad():
        layer.parametrizations.weight.original.mul_(5)
        for _ in range(30):  # each training-mode forward runs one power iteration
            layer(torch.randn(2, 40))
    layer.eval()
    raw = torch.linalg.matrix_norm(layer.parametrizations.weight.original.detach(), 2)
    sigma = torch.linalg.matrix_norm(layer.weight.detach(), 2)
    assert raw > 3 and abs(sigma.item() - 1) < 0.02


def test_truncated_noise_stays_inside_threshold():
    g = torch.Generator().manual_seed(0)
    z = truncated_noise(2000, 16, threshold=0.5, generator=g)
    assert z.shape == (2000, 16) and z.abs().max() <= 0.5
    assert z.std() < 0.35  # uniform-ish inside [-0.5, 0.5], not N(0, 1)
    assert (
        truncated_noise(2000, 16, generator=g).abs().max() > 2
    )  # no threshold: plain normal


def test_hinge_loss_by_hand():
    d_real, d_fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, 0.0, 0.2])
    # real: max(0, 1 - d) = 0, 0.5, 2 -> mean 2.5/3; fake: max(0, 1 + d) = 0, 1, 1.2 ->
    # mean 2.2/3
    assert abs(hinge_d_loss(d_real, d_fake).item() - (2.5 + 2.2) / 3) < 1e-6
    assert abs(hinge_g_loss(d_fake).item() - 2.8 / 3) < 1e-6


def test_ortho_reg_ignores_the_diagonal():
    """Fails if the diagonal (the rows' norms) is penalised, or the off-diagonal terms
    are not squared inner products counted on both sides."""
    lin = nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 2.0, 0]]))
    assert (
        ortho_reg(lin, beta=1.0).item() == 0
    )  # orthogonal rows, any norms: no penalty
    with torch.no_grad():
        lin.weight[1, 0] = 1.0  # rows 0 and 1 now have inner product 3
    assert abs(ortho_reg(lin, beta=1.0).item() - 2 * 3.0**2) < 1e-5


def test_ortho_reg_uses_a_transposed_convolutions_output_filters():
    """Fails if a transposed convolution's weight (in, out, kh, kw) is read with its
    input channels as the rows: the output filters are orthogonal in the first case
    (no penalty) while the input channels' slices are not, and the other way round in
    the second."""
    e1, e2, zero = torch.eye(4)[0], torch.eye(4)[1], torch.zeros(4)
    conv = nn.ConvTranspose2d(2, 2, 2, bias=False)  # weight (in 2, out 2, 2, 2)
    for kernels, expected in (((e1, zero, e1, e2), 0.0), ((e1, e1, e2, zero), 2.0)):
        # kernels (in 0 -> out 0, in 0 -> out 1, in 1 -> out 0, in 1 -> out 1)
        with torch.no_grad():
            conv.weight.copy_(torch.stack(kernels).view(2, 2, 2, 2))
        assert abs(ortho_reg(conv, beta=1.0).item() - expected) < 1e-6


def test_train_learns_the_label():
    torch.manual_seed(0)
    images = torch.cat(
        [torch.full((64, 1, 28, 28), 0.1), torch.full((64, 1, 28, 28), 0.9)]
    )
    labels = torch.cat([torch.zeros(64), torch.ones(64)]).long()
    G, D = BigGenerator(chunk=4, n_classes=2, width=8), BigDiscriminator(2, width=8)
    hist = train(
        G, D, images, labels, steps=80, batch_size=32, lr_g=2e-3, lr_d=2e-3, seed=0
    )
    y = torch.tensor([0] * 16 + [1] * 16)
    mean = sample(G, y, threshold=1.0).mean((1, 2, 3))
    assert mean[y == 1].mean() - mean[y == 0].mean() > 0.4
    assert len(hist["g_loss"]) == 80
