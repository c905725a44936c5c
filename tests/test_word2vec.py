import math

import torch

from word2vec import SkipGram, build_vocab, sgns_loss, skipgram_pairs, subsample, train


def test_vocab_and_pairs():
    itos, stoi, counts, ids = build_vocab("a b a c a b d".split(), min_count=2)
    assert (
        itos == ["a", "b"]
        and counts.tolist() == [3, 2]
        and ids.tolist() == [0, 1, 0, 0, 1]
    )
    c, o = skipgram_pairs(torch.arange(10), window=1)
    assert len(c) == 18 and set(zip(c.tolist(), o.tolist())) == {
        (i, i + 1) for i in range(9)
    } | {(i + 1, i) for i in range(9)}
    # subsampling keeps every word when t is large, and drops frequent ones when it is
    # small
    ids = torch.zeros(1000, dtype=torch.long)
    assert len(subsample(ids, torch.tensor([1000]), t=1.0)) == 1000
    assert len(subsample(ids, torch.tensor([1000]), t=1e-4)) < 100


def test_negative_sampling_loss_by_hand():
    model = SkipGram(vocab_size=4, dim=2)
    with torch.no_grad():
        model.v.weight.copy_(
            torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, -1.0]])
        )
        model.u.weight.copy_(
            torch.tensor([[0.2, 0.1], [-0.3, 0.4], [0.5, 0.5], [1.0, -1.0]])
        )
    centre, context, neg = torch.tensor([2]), torch.tensor([0]), torch.tensor([[1, 3]])
    pos, negs = model(centre, context, neg)
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    # v_2 = (1, 1): u_0.v = 0.3, u_1.v = 0.1, u_3.v = 0.0
    expected = -math.log(sig(0.3)) - math.log(sig(-0.1)) - math.log(sig(-0.0))
    assert abs(sgns_loss(pos, negs).item() - expected) < 1e-6
    assert pos.shape == (1,) and negs.shape == (1, 2)


def test_train_learns():
    torch.manual_seed(0)
    # two "topics": words 0-4 only ever appear next to each other, and words 5-9
    # likewise
    g = torch.Generator().manual_seed(0)
    blocks = [torch.randint(0, 5, (20,), generator=g) + 5 * (k % 2) for k in range(100)]
    words = [f"w{i}" for i in torch.cat(blocks).tolist()]
    itos, stoi, counts, ids = build_vocab(words, min_count=1)
    model = SkipGram(len(itos), dim=8)
    hist = train(model, ids, counts, epochs=5, window=2, batch_size=256, lr=0.02, t=1.0)
    assert sum(hist[-3:]) / 3 < hist[0] - 0.5
