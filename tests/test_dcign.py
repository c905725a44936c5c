"""DC-IGN: shapes, the clamp's forward value and replaced gradient (and the ablation's
ordinary one), batches that vary exactly one factor, the per-factor masks, the
renderer, and that training learns."""

import torch
import torch.nn.functional as F

from dcign import (
    DCIGN,
    FACTORS,
    ClampToMean,
    active_mask,
    clamped_batch,
    clamped_factors,
    train,
    transform,
)


def test_shapes():
    model = DCIGN(z_dim=5, width=4, hidden=32)
    logits, mu, logvar = model(
        torch.rand(6, 1, 28, 28), torch.tensor([True] + [False] * 4)
    )
    assert logits.shape == (6, 784) and mu.shape == logvar.shape == (6, 5)
    assert clamped_batch(torch.rand(10, 1, 28, 28), "angle", 7).shape == (7, 1, 28, 28)


def test_clamp_forward_and_replaced_gradient():
    torch.manual_seed(0)
    z = torch.randn(8, 4, requires_grad=True)
    active = torch.tensor([True, False, True, False]).expand(8, 4)
    out = ClampToMean.apply(z, active, 1.0)
    mean = z.detach().mean(0)
    assert torch.allclose(out[:, 1], mean[1].expand(8)) and torch.allclose(
        out[:, 0], z[:, 0]
    )
    upstream = torch.randn(8, 4)
    out.backward(upstream)
    assert torch.allclose(z.grad[:, [0, 2]], upstream[:, [0, 2]])  # true gradient
    assert torch.allclose(
        z.grad[:, [1, 3]], (z - z.mean(0)).detach()[:, [1, 3]]
    )  # replaced


def test_ablation_clamps_with_the_ordinary_gradient():
    """replace_grad=False: same forward values, but the clamped latents get the
    gradient through the batch mean. Fails if the flag is ignored (the ablation would
    be DC-IGN itself) or if it also stops clamping."""
    torch.manual_seed(0)
    model = DCIGN(z_dim=4, width=4, hidden=32)
    x, active = torch.rand(6, 1, 28, 28), torch.tensor([True, False, False, False])
    grads = []
    for replace in (True, False):
        torch.manual_seed(1)
        logits, _, _ = model(x, active, replace_grad=replace)
        grads.append(torch.autograd.grad(logits.sum(), model.enc[-1].weight)[0])
        torch.manual_seed(1)
        grads.append(logits.detach())
    assert torch.allclose(grads[1], grads[3], atol=1e-6)  # the same forward pass
    assert (grads[0] - grads[2]).abs().max() > 1e-4  # a different gradient


def test_batches_vary_exactly_one_factor():
    """Fails if a batch varies a second factor (or none): the clamp would then hold a
    latent constant while its factor changes."""
    torch.manual_seed(0)
    for factor in ("angle", "thickness", "identity"):
        idx, angle, thick = clamped_factors(50, factor, 16)
        varies = {
            "identity": len(set(idx.tolist())) > 1,
            "angle": angle.std() > 1,
            "thickness": thick.std() > 0.05,
        }
        assert varies[factor], factor
        for other, v in varies.items():
            if other != factor:
                assert not v, (factor, other)
        assert angle.abs().max() <= 60 and 0 <= thick.min() and thick.max() <= 2


def test_active_masks_per_factor():
    """The angle batch frees only the angle latent, the thickness batch only the
    thickness latent, the identity batch every other latent. Fails if the masks are
    swapped or the identity batch frees a named latent."""
    assert active_mask("angle", 6).tolist() == [i in FACTORS["angle"] for i in range(6)]
    assert active_mask("thickness", 6).tolist() == [
        i in FACTORS["thickness"] for i in range(6)
    ]
    named = sum(FACTORS.values(), [])
    assert active_mask("identity", 6).tolist() == [i not in named for i in range(6)]


def test_transform_identity_and_rotation():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 4:14, 13:15] = 1.0  # a vertical bar above centre
    same = transform(x, torch.zeros(1), torch.ones(1))
    assert torch.allclose(same, x, atol=1e-5)
    turned = transform(x, torch.tensor([90.0]), torch.ones(1))
    assert turned[0, 0, 13:15, :].sum() > 10 and turned[0, 0, 4:12, 13:15].sum() < 1
    assert transform(x, torch.zeros(1), torch.full((1,), 2.0)).sum() > x.sum()


def test_train_learns_what_a_constant_image_cannot():
    """Four binary digits-to-be under random rotations and thicknesses: after
    training, the loss must be well below that of the best constant output (the mean
    image of such batches). Fails for a decoder that ignores z."""
    torch.manual_seed(0)
    x = (torch.rand(4, 1, 28, 28) > 0.6).float()
    xs = torch.cat(
        [clamped_batch(x, f, 16) for f in ["angle", "thickness", "identity"] * 20]
    )
    m = xs.flatten(1).mean(0).clamp(1e-4, 1 - 1e-4).expand(len(xs), -1)
    const = F.binary_cross_entropy(m, xs.flatten(1), reduction="none").sum(1).mean()
    torch.manual_seed(0)
    hist = train(
        DCIGN(z_dim=4, width=8, hidden=64), x, steps=150, batch_size=16, lr=5e-3
    )
    assert set(hist) == {"loss"} and len(hist["loss"]) == 150
    assert sum(hist["loss"][-30:]) / 30 < const.item() - 40
