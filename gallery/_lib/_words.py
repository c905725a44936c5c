"""Held-out context prediction for word vectors: pairs, a count-based baseline, and a
synthetic corpus whose context distribution is known (used by the word2vec example and
its tests).

The quantity every model here predicts is the distribution of the context word of a
skip-gram pair drawn exactly as word2vec draws its training pairs: subsample the text
(each occurrence of w kept with probability min(1, sqrt(t / f(w)))), give each centre a
window of 1..W words, pair it with every word in the window. Held-out pairs are drawn
the same way from text never trained on, with a fixed generator.
"""

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.extmath import randomized_svd

from word2vec import skipgram_pairs, subsample


def pairs_within(ids, segments, counts, t=1e-4, window=5, seed=0):
    """Skip-gram pairs of ``ids`` drawn as in training (subsampled, dynamic window),
    keeping only pairs whose two words lie in the same segment (``segments``: one id per
    token; all zeros for one running text)."""
    g = torch.Generator().manual_seed(seed)
    f = counts.double() / counts.sum()
    keep = torch.rand(len(ids), generator=g, dtype=torch.float64) < (t / f).sqrt()[ids]
    ids, segments = ids[keep], torch.as_tensor(segments)[keep]
    n = len(ids)
    code = segments.long() * n + torch.arange(n)  # unique, and orders the segments
    c, o = skipgram_pairs(code, window, g)
    same = c // n == o // n
    return ids[c[same] % n], ids[o[same] % n]


def training_pairs(ids, counts, t=1e-4, window=5, seed=0, passes=1):
    """The pairs of ``passes`` subsampling passes over the training text (as
    ``word2vec.train`` forms them), concatenated."""
    g = torch.Generator().manual_seed(seed)
    out = [
        skipgram_pairs(subsample(ids, counts, t, g), window, g) for _ in range(passes)
    ]
    return torch.cat([c for c, _ in out]), torch.cat([o for _, o in out])


def cooccurrence(c, o, V):
    """Sparse V x V matrix of pair counts n(c, o)."""
    data = np.ones(len(c), np.float64)
    return sp.csr_matrix((data, (c.numpy(), o.numpy())), shape=(V, V))


class SVDContextModel:
    """Count-based baseline (Levy, Goldberg and Dagan 2015): shifted positive PMI with
    context-distribution smoothing, PMI(c, o) = log[n(c, o) N / (n(c) n_a(o))] with
    n_a(o) the context counts raised to ``alpha``, then max(PMI - shift, 0), factorised
    by a truncated SVD of rank ``dim``. It scores a context as P(o | c) proportional to
    P_a(o) exp(beta S(c, o)), S the rank-``dim`` reconstruction: the skip-gram's
    read-out, P_n(o) exp(u_o . v_c), with a temperature ``beta`` (clipping the negative
    PMIs leaves S badly calibrated at beta = 1)."""

    def __init__(self, counts_matrix, dim, shift=0.0, alpha=0.75, seed=0):
        m = counts_matrix.tocoo()
        n_c = np.asarray(counts_matrix.sum(1)).ravel()
        n_o = np.asarray(counts_matrix.sum(0)).ravel()
        p_a = n_o**alpha / (n_o**alpha).sum()
        pmi = np.log(m.data * n_c.sum() / n_c[m.row]) - np.log(p_a[m.col] * n_c.sum())
        pmi = np.maximum(pmi - shift, 0)
        s = sp.csr_matrix((pmi, (m.row, m.col)), shape=m.shape)
        s.eliminate_zeros()
        u, sig, vt = randomized_svd(s, dim, n_iter=4, random_state=seed)
        self.w = torch.tensor(u * sig, dtype=torch.float32)
        self.c = torch.tensor(vt.T, dtype=torch.float32)
        self.log_prior = torch.tensor(
            np.log(np.maximum(p_a, 1e-30)), dtype=torch.float32
        )

    def log_probs(self, centre, beta=1.0):
        """log P(o | c) over the vocabulary, (B, V)."""
        return (beta * (self.w[centre] @ self.c.T) + self.log_prior).log_softmax(-1)


def perplexity(log_prob_fn, c, o, batch=2000):
    """exp of the mean negative log-probability of the context words ``o`` given the
    centres ``c``, ``log_prob_fn(centres) -> (B, V)`` log-probabilities."""
    nll = [
        -log_prob_fn(c[i : i + batch]).gather(1, o[i : i + batch, None]).squeeze(1)
        for i in range(0, len(c), batch)
    ]
    return float(torch.cat(nll).double().mean().exp())


def unigram_log_probs(counts_matrix):
    """The frequency baseline: log P(o) of the context words of the training pairs,
    whatever the centre."""
    n_o = np.asarray(counts_matrix.sum(0)).ravel() + 0.5  # add-half: no zeros
    lp = torch.tensor(np.log(n_o / n_o.sum()), dtype=torch.float32)
    return lambda centre: lp.expand(len(centre), -1)


# ------------------------------------------------------------------ synthetic corpus


class TopicCorpus:
    """Text whose pair distribution is known: segments of ``seg_len`` words, each with a
    topic z drawn uniformly from ``n_topics``, its words i.i.d. from the topic's
    distribution phi_z over ``vocab`` words (a Zipf law reweighted per topic).
    Subsampling keeps the words of a segment i.i.d., from phi_z(w) keep(w) / kappa_z,
    and a centre c tells its segment's topic with P(z | c) proportional to phi_z(c), so
    for pairs inside one segment P(o | c) = sum_z P(z | c) phi_z(o) keep(o) / kappa_z
    exactly."""

    def __init__(self, vocab=400, n_topics=8, spread=1.5, seed=0):
        rng = np.random.default_rng(seed)
        zipf = 1.0 / np.arange(1, vocab + 1)
        phi = zipf * np.exp(spread * rng.standard_normal((n_topics, vocab)))
        self.phi = phi / phi.sum(1, keepdims=True)
        self.vocab, self.n_topics = vocab, n_topics

    def sample(self, n_segments, seg_len, seed):
        """Word ids (n_segments * seg_len,) and the segment of each word."""
        rng = np.random.default_rng(seed)
        z = rng.integers(self.n_topics, size=n_segments)
        cdf = np.cumsum(self.phi, 1)
        u = rng.random((n_segments, seg_len))
        words = np.stack([np.searchsorted(cdf[k], u[i]) for i, k in enumerate(z)])
        words = np.minimum(words, self.vocab - 1)
        seg = np.repeat(np.arange(n_segments), seg_len)
        return torch.tensor(words.ravel()), torch.tensor(seg)

    def log_probs(self, counts, t=1e-4):
        """The true log P(o | c), (V, V), for pairs of subsampled text inside one
        segment, with keep(w) computed from ``counts`` as the pipeline does."""
        f = counts.double().numpy() / counts.sum().item()
        keep = np.minimum(1.0, np.sqrt(t / np.maximum(f, 1e-300)))
        post = self.phi / self.phi.sum(0, keepdims=True)  # P(z | c), uniform topics
        ctx = self.phi * keep / (self.phi * keep).sum(1, keepdims=True)  # (K, V)
        return torch.tensor(np.log(post.T @ ctx), dtype=torch.float32)
