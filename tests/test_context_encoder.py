import torch
import torch.nn.functional as F

from context_encoder import (
    ContextEncoder,
    PatchDiscriminator,
    center_mask,
    context_encoder_loss,
    hole_patch,
    inpaint,
    mean_fill,
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


def test_mean_fill_uses_training_means_in_the_hole_only():
    m = center_mask()
    x_train, x = torch.rand(10, 1, 28, 28), torch.rand(2, 1, 28, 28)
    out = mean_fill(x_train, x, m)
    assert torch.equal(out * (1 - m), x * (1 - m))
    assert torch.allclose(
        out[..., 8:20, 8:20], x_train.mean(0)[..., 8:20, 8:20].expand(2, 1, 12, 12)
    )


def test_train_learns():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[torch.arange(64), 0, :, torch.randint(4, 24, (64,))] = (
        1.0  # one vertical bar per image
    )
    m = center_mask()
    gen, disc = ContextEncoder(width=8), PatchDiscriminator(width=8)
    hist = train(gen, x, m, disc, epochs=20, batch_size=16)
    assert hist["rec"][-1] < 0.2 * hist["rec"][0]
    assert len(hist["d"]) == 20 and hist["d"][0] > 0
    mse = reconstruction_loss(inpaint(gen, x, m), x, m).item()
    assert mse < 0.5 * reconstruction_loss(mean_fill(x, x, m), x, m).item()
