import torch
import torch.nn.functional as F

from context_encoder import (
    ChannelwiseFC,
    ContextEncoder,
    PatchDiscriminator,
    center_mask,
    context_encoder_loss,
    hole_patch,
    inpaint,
    mean_fill,
    nearest_fill,
    pca_fill,
    reconstruction_loss,
    train,
)


def test_mask_shape_and_placement():
    m = center_mask(28, 12)
    assert m.shape == (1, 1, 28, 28) and m.sum() == 144
    rows, cols = m[0, 0].nonzero(as_tuple=True)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (
        8,
        19,
        8,
        19,
    )  # centred: 8 + 12 + 8
    x = torch.arange(28 * 28, dtype=torch.float32).view(1, 1, 28, 28)
    assert torch.equal(hole_patch(x, m), x[..., 8:20, 8:20])


def test_shapes():
    gen, disc = ContextEncoder(width=8), PatchDiscriminator(width=8)
    x, m = torch.rand(4, 1, 28, 28), center_mask()
    out = gen(x * (1 - m))
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    assert disc(hole_patch(out, m)).shape == (4,)
    filled = inpaint(gen, x, m)
    assert torch.equal(filled * (1 - m), x * (1 - m))  # the context is kept as it was


def test_loss_counts_only_the_hole():
    torch.manual_seed(0)
    m = center_mask()
    x, pred = torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    rec = reconstruction_loss(pred, x, m)
    # the mean squared error over the 3 * 144 hole pixels, by hand
    by_hand = ((pred[..., 8:20, 8:20] - x[..., 8:20, 8:20]) ** 2).mean()
    assert abs(rec.item() - by_hand.item()) < 1e-6
    # changing pixels outside the hole, in the prediction or the target, changes nothing
    noise = torch.randn_like(x) * (1 - m)
    assert (
        abs(reconstruction_loss(pred + noise, x - noise, m).item() - rec.item()) < 1e-6
    )
    # the joint loss weighs the terms 0.999 / 0.001
    logits = torch.randn(3)
    total, r, adv = context_encoder_loss(pred, x, m, logits)
    assert (
        abs(adv.item() - F.softplus(-logits).mean().item()) < 1e-6
    )  # -log sigmoid(logit)
    assert abs(total.item() - (0.999 * r + 0.001 * adv).item()) < 1e-6


def test_loss_with_one_mask_per_image_is_the_mean_over_their_hole_pixels():
    """Fails if the loss divides by one mask's size times the batch size (right only
    for one shared mask: per-image masks would be divided by N twice)."""
    torch.manual_seed(0)
    x, pred = torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    masks = torch.zeros(3, 1, 28, 28)
    masks[0, :, 8:20, 8:20] = 1  # 144 pixels
    masks[1, :, 0:5, 0:5] = 1  # 25
    masks[2, :, 10:12, 3:20] = 1  # 34
    sq = [((pred[i] - x[i])[masks[i] > 0] ** 2) for i in range(3)]
    by_hand = torch.cat(sq).mean()
    assert torch.allclose(reconstruction_loss(pred, x, masks), by_hand)
    shared = center_mask()
    assert torch.allclose(
        reconstruction_loss(pred, x, shared),
        reconstruction_loss(pred, x, shared.expand(3, 1, 28, 28)),
    )


def test_channelwise_fc_is_dense_within_each_channel_and_blind_across():
    """The Jacobian of the layer's output with respect to its input is block-diagonal:
    within a channel every output cell depends on every input cell (by exactly that
    channel's weights), across channels on nothing. Fails for a full fully connected
    layer (it mixes channels) and for a per-position one such as a 1x1 convolution
    (each cell sees only itself)."""
    torch.manual_seed(0)
    layer = ChannelwiseFC(channels=3, hw=4)
    h = torch.randn(1, 3, 2, 2)
    jac = torch.autograd.functional.jacobian(layer, h).reshape(3, 4, 3, 4)
    for c in range(3):
        for d in range(3):
            block = jac[c, :, d, :]  # d(out[c, j]) / d(in[d, i])
            if c == d:
                assert torch.allclose(block, layer.weight[c].T.detach())
                assert (block.abs() > 0).all()
            else:
                assert not block.any()


def test_mean_fill_uses_training_means_in_the_hole_only():
    m = center_mask()
    x_train, x = torch.rand(10, 1, 28, 28), torch.rand(2, 1, 28, 28)
    out = mean_fill(x_train, x, m)
    assert torch.equal(out * (1 - m), x * (1 - m))
    assert torch.allclose(
        out[..., 8:20, 8:20], x_train.mean(0)[..., 8:20, 8:20].expand(2, 1, 12, 12)
    )


def test_baselines_read_only_the_context():
    """Fails if a baseline peeks at the hole it is asked to fill (its output must not
    change when the hole's true pixels do) or alters the context."""
    torch.manual_seed(0)
    m = center_mask()
    x_train, x = torch.rand(50, 1, 28, 28), torch.rand(4, 1, 28, 28)
    other = x * (1 - m) + torch.rand_like(x) * m  # same context, another hole
    for fill in (nearest_fill, pca_fill):
        out = fill(x_train, x, m)
        assert torch.equal(out * (1 - m), x * (1 - m))
        assert torch.allclose(out, fill(x_train, other, m) * m + x * (1 - m))


def test_nearest_fill_copies_the_hole_of_the_best_context_match():
    torch.manual_seed(0)
    m = center_mask()
    x_train = torch.rand(20, 1, 28, 28)
    x = x_train[[7, 3]] * (1 - m) + 0.01 * torch.randn(2, 1, 28, 28) * (1 - m)
    assert torch.allclose(nearest_fill(x_train, x, m) * m, x_train[[7, 3]] * m)


def test_pca_fill_recovers_images_from_a_low_dimensional_family():
    """Images that lie exactly in a 5-d affine subspace are completed exactly from
    their context. Fails if the components are not the leading principal ones, or if
    the training mean is not taken out before fitting them."""
    torch.manual_seed(0)
    basis = torch.rand(5, 28 * 28) * 0.2
    x_all = (0.3 + torch.rand(200, 5) @ basis).view(200, 1, 28, 28)
    x_train, x = x_all[:190], x_all[190:]
    m = center_mask()
    out = pca_fill(x_train, x, m, k=5, ridge=1e-8)
    assert torch.allclose(out, x, atol=1e-4)


def test_train_learns():
    """Fails for a constant or blank fill: it must beat the mean fill by half."""
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[torch.arange(64), 0, :, torch.randint(4, 24, (64,))] = (
        1.0  # one vertical bar per image
    )
    m = center_mask()
    gen, disc = ContextEncoder(width=8), PatchDiscriminator(width=8)
    hist = train(gen, disc, x, m, epochs=20, batch_size=16, seed=0)
    assert hist["rec"][-1] < 0.2 * hist["rec"][0]
    assert len(hist["d"]) == 20 and len(hist["adv"]) == 20
    mse = reconstruction_loss(inpaint(gen, x, m), x, m).item()
    assert mse < 0.5 * reconstruction_loss(mean_fill(x, x, m), x, m).item()
