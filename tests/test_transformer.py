import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from transformer import (
    Transformer,
    bits_per_char,
    lm_loss,
    random_windows,
    sample,
    train,
)


def toy_sequence(n=3000, seed=0):
    """Runs of 10 consecutive digits (mod 10), each run starting at a random digit:
    the next digit is certain except at the start of a run."""
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(10, (n // 10,), generator=g).repeat_interleave(10)
    return (torch.arange(n) + starts) % 10


def test_shapes():
    model = Transformer(vocab=11, d_model=16, n_heads=2, n_layers=2, context=12)
    x = torch.randint(11, (3, 10))
    assert model(x).shape == (3, 10, 11)
    assert model.blocks[0].attn.weights.shape == (3, 2, 10, 10)
    data = torch.arange(100)
    xb, yb = random_windows(data, 5, 12)
    assert xb.shape == yb.shape == (5, 12)
    assert torch.equal(yb, xb + 1)  # targets are the inputs shifted by one
    out = sample(model, torch.randint(11, (20,)), 5)  # prompt longer than context
    assert out.shape == (25,)


def test_output_at_t_ignores_later_tokens():
    """Causal attention: the logits at position t do not change when any token after t
    changes, and do change when an earlier one does. Fails if the mask is missing or
    lets position t see t+1 (``triu(2)`` instead of ``triu(1)``)."""
    torch.manual_seed(0)
    model = Transformer(vocab=13, d_model=32, n_heads=4, n_layers=2, context=16).eval()
    x = torch.randint(13, (2, 16))
    t = 7
    later, earlier = x.clone(), x.clone()
    later[:, t + 1 :] = torch.randint(13, (2, 16 - t - 1))
    earlier[:, t - 3] = (x[:, t - 3] + 1) % 13
    with torch.no_grad():
        a, b, c = model(x), model(later), model(earlier)
    assert torch.allclose(a[:, : t + 1], b[:, : t + 1], atol=1e-5)
    assert not torch.allclose(a[:, t], c[:, t], atol=1e-4)


def test_attention_weights_are_causal_distributions():
    """Each query's weights over the keys sum to one and are zero on future keys. Fails
    if the softmax is taken over the queries (dim -2) instead of the keys."""
    torch.manual_seed(0)
    model = Transformer(vocab=9, d_model=16, n_heads=2, n_layers=1, context=10).eval()
    with torch.no_grad():
        model(torch.randint(9, (4, 10)))
    w = model.blocks[0].attn.weights  # (4, 2, 10, 10)
    assert torch.allclose(w.sum(-1), torch.ones(4, 2, 10), atol=1e-6)
    assert torch.all(w.triu(1) == 0)
    assert torch.all(w[..., torch.ones(10, 10, dtype=torch.bool).tril()] > 0)


def test_position_embedding_is_what_tells_order():
    """Without position embeddings a one-block model is blind to the order of the
    earlier tokens: its last output is unchanged when the prefix is permuted. With
    them, it changes. Fails if ``positional=True`` never adds the position
    embedding, or the ablation still adds it."""
    torch.manual_seed(0)
    x = torch.randint(10, (1, 12))
    perm = torch.cat([torch.randperm(11), torch.tensor([11])])
    for positional in (False, True):
        model = Transformer(10, 32, 4, 1, 12, positional=positional).eval()
        if positional:
            nn.init.normal_(model.pos.weight)  # make the positions' effect plain
        with torch.no_grad():
            same = torch.allclose(model(x)[0, -1], model(x[:, perm])[0, -1], atol=1e-5)
        assert same == (not positional)


def test_loss_and_bits_by_hand():
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]])
    y = torch.tensor([[0, 2]])
    by_hand = (
        -(
            torch.log(torch.exp(torch.tensor(2.0)) / torch.exp(logits[0, 0]).sum())
            + torch.log(1.0 / torch.exp(logits[0, 1]).sum())
        )
        / 2
    )
    assert torch.allclose(lm_loss(logits, y), by_hand)
    # bits_per_char is the mean next-token cross-entropy over the windows, in bits
    torch.manual_seed(0)
    model = Transformer(vocab=7, d_model=16, n_heads=2, n_layers=1, context=8)
    data = torch.randint(7, (33,))  # four windows of 8, plus the last target
    with torch.no_grad():
        nats = F.cross_entropy(
            model.eval()(data[:32].view(4, 8)).flatten(0, 1), data[1:33]
        )
    assert math.isclose(
        bits_per_char(model, data, context=8), nats / math.log(2), rel_tol=1e-5
    )


def test_train_learns():
    """On runs of consecutive digits the best model needs about 0.33 bits a digit and a
    constant (or unigram) one log2(10) = 3.32: training must get below 1 bit."""
    torch.manual_seed(0)
    data = toy_sequence()
    model = Transformer(vocab=10, d_model=32, n_heads=2, n_layers=1, context=16)
    hist = train(model, data, steps=80, batch_size=16, context=16, warmup=10, seed=0)
    assert set(hist) == {"loss"} and len(hist["loss"]) == 80
    assert bits_per_char(model, toy_sequence(seed=1), context=16) < 1.0
