import torch
import torch.nn.functional as F

import _dates as D
from seq2seq_attention import (
    AdditiveAttention,
    Seq2Seq,
    exact_match,
    seq_loss,
    shift_right,
    train,
    translate,
)


def padded_batch(seed=0, n=4, width=9, vocab=12):
    """Random ids 1..vocab-1, right-padded with 0 to lengths 3..width."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([width, 3, 6, 5][:n])
    x = torch.randint(1, vocab, (n, width), generator=g)
    return x * (torch.arange(width) < lengths[:, None]), lengths


def reversal_task(n, seed):
    """Reverse 3 to 6 digits (ids 1..10, 0 padding); the output is padded with 11 to
    6 tokens, start token 12."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, 7, (n,), generator=g)
    x = torch.randint(1, 11, (n, 6), generator=g) * (torch.arange(6) < lengths[:, None])
    y = torch.full((n, 6), 11)
    for i in range(n):
        y[i, : lengths[i]] = x[i, : lengths[i]].flip(0)
    return x, y


def test_shapes():
    model = Seq2Seq(in_vocab=12, out_vocab=7, d_embed=8, hidden=16)
    x, _ = padded_batch()
    y = torch.randint(6, (4, 5))
    assert model(x, shift_right(y, 6)).shape == (4, 5, 7)
    assert model.weights.shape == (4, 5, 9)
    assert torch.equal(shift_right(y, 6)[:, 1:], y[:, :-1])
    assert torch.all(shift_right(y, 6)[:, 0] == 6)
    assert translate(model, x, 3).shape == (4, 3)
    ablation = Seq2Seq(12, 7, 8, 16, attention=False)
    assert ablation(x, y).shape == (4, 5, 7) and ablation.weights is None


def test_attention_weights_are_distributions_over_the_real_input():
    """Every output step's weights over the input positions sum to one, are positive
    on the real characters and exactly zero on the padding. Fails if the padding is
    not masked before the softmax, or the softmax runs over the wrong axis."""
    torch.manual_seed(0)
    model = Seq2Seq(12, 7, 8, 16).eval()
    x, lengths = padded_batch()
    with torch.no_grad():
        model(x, torch.randint(7, (4, 5)))
    w = model.weights  # (4, 5, 9)
    real = (torch.arange(9) < lengths[:, None])[:, None].expand_as(w)
    assert torch.allclose(w.sum(-1), torch.ones(4, 5), atol=1e-6)
    assert torch.all(w[~real] == 0) and torch.all(w[real] > 0)


def test_context_is_the_weighted_average_of_the_encoder_states():
    """The context is sum_j a_j h_j with the returned weights, and the weights follow
    the decoder state (not uniform, not the same for every query). Fails if the
    context is the plain mean of the states, or the unnormalised scores weight them."""
    torch.manual_seed(0)
    attend = AdditiveAttention(d_dec=6, d_enc=10, d_att=8)
    s, h = torch.randn(3, 6), torch.randn(3, 7, 10)
    mask = torch.arange(7) < torch.tensor([7, 4, 2])[:, None]
    with torch.no_grad():
        context, weights = attend(s, h, mask)
        _, other = attend(torch.randn(3, 6), h, mask)
    assert torch.allclose(context, torch.einsum("bs,bsd->bd", weights, h), atol=1e-6)
    assert not torch.allclose(weights[0], torch.full((7,), 1 / 7), atol=1e-3)
    assert not torch.allclose(weights, other, atol=1e-3)


def test_teacher_forced_output_at_t_ignores_later_targets():
    """With teacher forcing, the logits of step t depend on the targets before t and
    not on target t or any later one. Fails if the decoder inputs are not shifted
    (step t reads target t), or the decoder ignores the previous target."""
    torch.manual_seed(0)
    model = Seq2Seq(12, 7, 8, 16).eval()
    x, _ = padded_batch()
    y = torch.randint(6, (4, 8))
    t = 4
    later, earlier = y.clone(), y.clone()
    later[:, t:] = (y[:, t:] + 1) % 6
    earlier[:, t - 1] = (y[:, t - 1] + 1) % 6
    with torch.no_grad():
        a, b, c = (model(x, shift_right(v, 6)) for v in (y, later, earlier))
    assert torch.allclose(a[:, : t + 1], b[:, : t + 1], atol=1e-6)
    assert not torch.allclose(a[:, t], c[:, t], atol=1e-4)


def test_padding_changes_nothing():
    """More padding columns after the input change neither the logits nor the
    attention on the real characters. Fails if the encoder runs over the padding
    (no packing: the backward GRU and the final state then read the pad ids)."""
    torch.manual_seed(0)
    for attention in (True, False):
        model = Seq2Seq(12, 7, 8, 16, attention=attention).eval()
        x, _ = padded_batch()
        wider = torch.cat([x, torch.zeros(4, 5, dtype=torch.long)], 1)
        y = torch.randint(7, (4, 5))
        with torch.no_grad():
            a, wa = model(x, y), model.weights
            b, wb = model(wider, y), model.weights
        assert torch.allclose(a, b, atol=1e-5)
        if attention:
            assert torch.allclose(wa, wb[..., :9], atol=1e-6)


def test_ablation_reads_no_attention():
    """``attention=False`` never uses the alignment model: changing its weights
    leaves the output unchanged, while with attention it changes the output. Fails
    if the flag is ignored."""
    x, _ = padded_batch()
    y = torch.randint(7, (4, 5))
    for attention in (False, True):
        torch.manual_seed(0)
        model = Seq2Seq(12, 7, 8, 16, attention=attention).eval()
        with torch.no_grad():
            a = model(x, y)
            model.attend.v.weight.mul_(-3.0)
            b = model(x, y)
        assert torch.allclose(a, b, atol=1e-6) == (not attention)


def test_loss_and_greedy_decoding():
    """seq_loss is the mean token cross-entropy; greedy decoding is consistent with
    teacher forcing on its own output (each token the argmax given the ones before).
    Fails if ``translate`` feeds the start token at every step or is off by one."""
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]])
    y = torch.tensor([[0, 2]])
    by_hand = -(F.log_softmax(logits[0, 0], -1)[0] + F.log_softmax(logits[0, 1], -1)[2])
    assert torch.allclose(seq_loss(logits, y), by_hand / 2)
    torch.manual_seed(0)
    model = Seq2Seq(12, 7, 8, 16)
    for p in model.emb.parameters():
        p.data.mul_(5.0)  # make each step depend strongly on the previous token
    x, _ = padded_batch()
    pred = translate(model, x, 6)
    with torch.no_grad():
        again = model.eval()(x, shift_right(pred, 6)).argmax(-1)
    assert torch.equal(again, pred)
    assert exact_match(pred, pred) == 1.0 and exact_match(pred, (pred + 1) % 7) == 0.0


def test_train_learns():
    """Reversing 3-6 digits: a constant output or a copy of the input gets almost
    no sequence exactly right; trained, the network must get most held-out ones."""
    torch.manual_seed(0)
    x, y = reversal_task(2000, seed=0)
    model = Seq2Seq(11, 13, d_embed=16, hidden=32)
    hist = train(model, x, y, steps=250, batch_size=32, lr=1e-2, seed=0)
    assert set(hist) == {"loss"} and len(hist["loss"]) == 250
    x_new, y_new = reversal_task(300, seed=1)
    assert exact_match(translate(model, x_new, 6), y_new) > 0.7


def test_dates_split_by_day_and_baseline_reads_them():
    """No test day appears in training; every family's strings translate to valid
    ISO dates, and the dateutil baseline with the day-first rule reads them back.
    Fails if the splits were drawn per string instead of per calendar day."""
    train_set, test_set = D.make_split(0, 400, seed=1), D.make_split(2, 200, seed=3)
    assert not {iso for _, iso, _ in train_set} & {iso for _, iso, _ in test_set}
    assert {f for _, _, f in test_set} == set(D.FORMATS)
    texts, isos, _ = zip(*test_set)
    assert D.decode_iso(D.encode_iso(isos)) == list(isos)
    rule = "day first unless slashes or year first"
    assert D.dateutil_iso(texts, rule) == list(isos)
