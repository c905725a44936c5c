import torch
import torch.nn as nn

from vit import ViT, patchify, position_similarity, predict, train, vit_loss


def test_shapes():
    model = ViT(side=28, patch=7, d_model=32, n_heads=4, n_layers=2)
    x = torch.rand(3, 1, 28, 28)
    assert patchify(x, 7).shape == (3, 16, 49)
    assert model.encode(x).shape == (3, 17, 32)  # the class token and 16 patches
    assert model(x).shape == (3, 10)
    assert model.blocks[0].attn.weights.shape == (3, 4, 17, 17)
    assert predict(model, x).shape == (3,)
    assert ViT(patch=4, d_model=16, n_heads=2, positional=False).pos is None


def test_patches_are_the_crops_in_reading_order():
    """Patch k is the p x p crop at grid row k // n, column k % n, flattened row by row,
    and the patches put back in that order rebuild the image. Fails if ``patchify``
    reshapes without the permute (each "patch" a run of pixels across the image) or
    walks the grid column by column."""
    x = torch.randn(2, 1, 12, 12)
    p, n = 4, 3
    patches = patchify(x, p)
    for k in range(n * n):
        r, c = divmod(k, n)
        crop = x[:, 0, r * p : (r + 1) * p, c * p : (c + 1) * p]
        assert torch.equal(patches[:, k], crop.reshape(2, -1))
    grid = patches.view(2, n, n, p, p).permute(0, 1, 3, 2, 4).reshape(2, 1, 12, 12)
    assert torch.equal(grid, x)


def test_attention_weights_are_distributions_over_all_tokens():
    """Each query's weights over the keys sum to one, and with no mask every token
    sees every token (all weights positive). Fails if the softmax is taken over the
    queries (dim -2) instead of the keys, or if a causal mask is left in."""
    torch.manual_seed(0)
    model = ViT(patch=7, d_model=16, n_heads=2, n_layers=1).eval()
    with torch.no_grad():
        model(torch.rand(4, 1, 28, 28))
    w = model.blocks[0].attn.weights  # (4, 2, 17, 17)
    assert torch.allclose(w.sum(-1), torch.ones(4, 2, 17), atol=1e-6)
    assert torch.all(w > 0)


def shuffle_patches(x, perm, p):
    """The image with its p x p patches moved: patch k of the result is patch perm[k]
    of ``x`` (built with unfold/fold, independently of ``patchify``)."""
    cols = nn.functional.unfold(x, p, stride=p)  # (B, p*p, N)
    return nn.functional.fold(cols[:, :, perm], x.shape[-2:], p, stride=p)


def test_class_token_sees_patch_order_only_through_position_embeddings():
    """Without position embeddings the class token's encoder output is the same when
    the patches of the image are shuffled (the encoder sees a bag of patches); with
    them it changes. Fails if ``positional=False`` still adds a position embedding, or
    ``positional=True`` never adds it."""
    torch.manual_seed(0)
    x = torch.rand(2, 1, 28, 28)
    perm = torch.randperm(16)
    shuffled = shuffle_patches(x, perm, 7)
    assert not torch.allclose(x, shuffled)
    for positional in (False, True):
        model = ViT(patch=7, d_model=32, n_heads=4, n_layers=2, positional=positional)
        if positional:
            nn.init.normal_(model.pos)  # make the positions' effect plain
        with torch.no_grad():
            a, b = model.eval().encode(x)[:, 0], model.encode(shuffled)[:, 0]
        assert torch.allclose(a, b, atol=1e-5) == (not positional)


def test_position_similarity_is_over_the_patches():
    """A (N, N) cosine-similarity matrix of the patches' position embeddings, the class
    token's left out: ones on the diagonal, symmetric, and for embeddings set by hand
    the cosines by hand. Fails if the class token's embedding is included (17 x 17) or
    the embeddings are not normalised (dot products instead of cosines)."""
    model = ViT(patch=7, d_model=4, n_heads=1, n_layers=1)
    with torch.no_grad():
        model.pos.zero_()
        model.pos[0, 0] = 5.0  # the class token's, which must not appear
        model.pos[0, 1:, 0] = torch.arange(1.0, 17.0)  # all along one axis...
        model.pos[0, 2, 1] = 2.0  # ...but patch 1: (2, 2, 0, 0), 45 degrees off
    sim = position_similarity(model)
    assert sim.shape == (16, 16)
    assert torch.allclose(sim.diagonal(), torch.ones(16))
    assert torch.allclose(sim, sim.T)
    assert torch.isclose(sim[0, 5], torch.tensor(1.0))
    assert torch.isclose(sim[1, 5], torch.tensor(0.5**0.5))


def test_loss_is_cross_entropy_by_hand():
    logits, y = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])
    by_hand = -torch.log(torch.exp(torch.tensor(2.0)) / torch.exp(logits).sum())
    assert torch.allclose(vit_loss(logits, y), by_hand)


def which_half_is_bright(n, seed):
    """Noise images with one half (top or bottom) brighter; the label is 1 for the top.
    Both classes hold the same bag of patches (eight bright, eight dim), so only the
    patches' positions tell them apart."""
    g = torch.Generator().manual_seed(seed)
    x = 0.5 * torch.rand(n, 1, 28, 28, generator=g)
    y = torch.randint(2, (n,), generator=g)
    x[y == 1, :, :14] += 0.5
    x[y == 0, :, 14:] += 0.5
    return x, y


def test_train_learns_where_and_the_ablation_cannot():
    """The ViT learns a task that depends only on where patches are (a constant output
    gets about 0.5 on fresh images); the same ViT without position embeddings, which
    sees the same bag of patches for both classes, stays at chance. Fails if training
    does not train (a constant output), or if the position embeddings are not added."""
    x, y = which_half_is_bright(256, 0)
    x_new, y_new = which_half_is_bright(256, 1)
    acc = {}
    for positional in (True, False):
        torch.manual_seed(0)
        model = ViT(patch=7, d_model=32, n_heads=2, n_layers=2, positional=positional)
        hist = train(model, x, y, epochs=16, batch_size=32, lr=3e-3, seed=0)
        assert set(hist) == {"loss"} and len(hist["loss"]) == 16
        acc[positional] = (predict(model, x_new) == y_new).float().mean().item()
    assert acc[True] > 0.95
    assert acc[False] < 0.65
