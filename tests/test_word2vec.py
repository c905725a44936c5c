"""word2vec: vocabulary and pairs, the loss by hand, the 3/4-power noise, the
held-out read-out against known distributions, and learning."""

import math

import torch

import word2vec
from _words import TopicCorpus, pairs_within, perplexity
from word2vec import (
    SkipGram,
    build_vocab,
    context_log_probs,
    noise_distribution,
    sgns_loss,
    skipgram_pairs,
    subsample,
    train,
)


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
    hist = train(
        model, ids, counts, epochs=5, window=2, batch_size=256, lr=0.02, t=1.0, seed=0
    )["loss"]
    assert sum(hist[-3:]) / 3 < hist[0] - 0.5


def test_negatives_come_from_the_three_quarter_power(monkeypatch):
    """The noise distribution is counts^0.75 normalised, and train draws every negative
    from it. Fails if the exponent is 1 (or 0), or if train samples from another
    distribution than ``noise_distribution(counts)``."""
    counts = torch.tensor([1000, 100, 10, 1])
    p = noise_distribution(counts)
    expected = torch.tensor([1000, 100, 10, 1.0]) ** 0.75
    assert torch.allclose(p, expected / expected.sum())
    assert p[3] / p[0] > 2 * (1 / 1000)  # rare words drawn more than their frequency
    seen = []
    draw = torch.multinomial

    def spy(probs, *args, **kwargs):
        seen.append(probs.clone())
        return draw(probs, *args, **kwargs)

    monkeypatch.setattr(word2vec.torch, "multinomial", spy)
    ids = torch.tensor([0, 1, 0, 2, 0, 1, 3, 0] * 20)
    train(SkipGram(4, dim=4), ids, counts, epochs=1, window=2, t=1.0, seed=0)
    assert seen and all(torch.allclose(q, p) for q in seen)


def test_read_out_recovers_the_distribution_at_the_optimum():
    """With vectors at the loss's full-rank optimum, u_o . v_c = log P(o | c) - log(k
    P_n(o)), context_log_probs returns log P(o | c) exactly. Fails if the read-out
    leaves out P_n(o) or uses another power than the training noise."""
    torch.manual_seed(0)
    V, k = 6, 5
    counts = torch.tensor([50, 30, 20, 10, 5, 2])
    logp = torch.randn(V, V).log_softmax(1)  # a known P(o | c)
    log_noise = noise_distribution(counts).log()
    model = SkipGram(V, dim=V)
    with torch.no_grad():
        model.v.weight.copy_(torch.eye(V))
        model.u.weight.copy_((logp - math.log(k) - log_noise).T)
    got = context_log_probs(model, torch.arange(V), counts)
    assert torch.allclose(got, logp, atol=1e-5)


def test_pairs_within_keep_to_their_segment():
    """Held-out pairs never join two segments, and within one they are all the pairs of
    the window. Fails if segment ids are ignored."""
    ids, seg = torch.arange(40), torch.arange(40) // 10  # a word is its position
    c, o = pairs_within(ids, seg, torch.ones(40, dtype=torch.long), t=1.0, window=3)
    assert len(c) > 0 and bool((c // 10 == o // 10).all())
    assert bool(((c - o).abs() <= 3).all()) and bool((c != o).all())


def test_estimator_on_a_corpus_with_a_known_distribution():
    """Trained on a topic corpus whose pair distribution is known, the skip-gram read
    out with P_n(o) exp(u_o . v_c) comes within 3.5% of the true held-out perplexity
    (it is 1.8% above it) and well below the frequencies alone. Fails if the read-out
    and the training noise disagree (counts^1 at read-out: 5% above), or if the
    estimator ignores the centre word."""
    topics = TopicCorpus(vocab=60, n_topics=3, spread=2.0, seed=0)
    ids, _ = topics.sample(800, 100, seed=0)
    held, seg = topics.sample(100, 100, seed=1)
    counts = torch.bincount(ids, minlength=60).clamp(min=1)
    torch.manual_seed(0)
    model = SkipGram(60, dim=16)
    train(
        model, ids, counts, epochs=4, window=5, batch_size=512, lr=0.02, t=1e-2, seed=0
    )
    c, o = pairs_within(held, seg, counts, t=1e-2, window=5, seed=2)
    true_lp = topics.log_probs(counts, t=1e-2)
    est = perplexity(lambda x: context_log_probs(model, x, counts), c, o)
    true = perplexity(lambda x: true_lp[x], c, o)
    freq = torch.bincount(o, minlength=60).double() / len(o)
    uni = perplexity(lambda x: freq.log().float().expand(len(x), -1), c, o)
    assert true <= est < 1.035 * true and est < true + 0.5 * (uni - true)
