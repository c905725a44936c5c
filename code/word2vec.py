"""word2vec: skip-gram with negative sampling (Mikolov, Sutskever, Chen, Corrado and
Dean, "Distributed Representations of Words and Phrases and their Compositionality",
NIPS 2013, arXiv:1310.4546). Every word gets two vectors: v (as a centre word) and u (as
a context word). For each (centre, context) pair seen within a small window, the model
raises sigma(u_o . v_c) and lowers sigma(u_k . v_c) for k "negative" words drawn from
the unigram distribution raised to the 3/4 power: a cheap stand-in for a softmax over
the whole vocabulary. Very frequent words are randomly dropped from the text first
(subsampling), which speeds training and helps rare words.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def build_vocab(words, min_count=5):
    """Vocabulary of words seen at least ``min_count`` times, most frequent first.
    Returns ``(itos, stoi, counts, ids)``: ids is the text as a LongTensor with rare
    words dropped."""
    uniq, inv, cnt = np.unique(np.array(words), return_inverse=True, return_counts=True)
    order = np.argsort(-cnt, kind="stable")
    keep = order[cnt[order] >= min_count]
    remap = np.full(len(uniq), -1)
    remap[keep] = np.arange(len(keep))
    ids = remap[inv]
    itos = [str(w) for w in uniq[keep]]
    return (
        itos,
        {w: i for i, w in enumerate(itos)},
        torch.tensor(cnt[keep]),
        torch.tensor(ids[ids >= 0]),
    )


def subsample(ids, counts, t=1e-4, generator=None):
    """Drop each occurrence of word w with probability 1 - sqrt(t / f(w)), f its
    frequency."""
    f = counts.double() / counts.sum()
    keep_p = (t / f).sqrt().clamp(max=1.0)
    return ids[
        torch.rand(len(ids), generator=generator, dtype=torch.float64) < keep_p[ids]
    ]


def skipgram_pairs(ids, window=5, generator=None):
    """All (centre, context) pairs, each centre with its own window size drawn from
    1..window (so nearer words are paired more often, as in the original code)."""
    n, centres, contexts = len(ids), [], []
    span = torch.randint(1, window + 1, (n,), generator=generator)
    for off in range(1, window + 1):
        for sign in (-1, 1):
            pos = torch.arange(max(0, -sign * off), min(n, n - sign * off))
            pos = pos[span[pos] >= off]
            centres.append(ids[pos])
            contexts.append(ids[pos + sign * off])
    return torch.cat(centres), torch.cat(contexts)


class SkipGram(nn.Module):
    """Two embedding tables: ``v`` for centre words (the vectors one keeps) and ``u``
    for context words. Sparse, so each step touches only the rows in its batch."""

    def __init__(self, vocab_size, dim=100):
        super().__init__()
        self.v = nn.Embedding(vocab_size, dim, sparse=True)
        self.u = nn.Embedding(vocab_size, dim, sparse=True)
        nn.init.uniform_(self.v.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.u.weight)

    def forward(self, centre, context, negatives):
        """Scores u_o . v_c of shape (B,) and u_k . v_c of shape (B, K)."""
        v_c = self.v(centre)  # (B, D)
        pos = (self.u(context) * v_c).sum(-1)  # (B,)
        neg = torch.bmm(self.u(negatives), v_c.unsqueeze(2)).squeeze(2)  # (B, K)
        return pos, neg


def sgns_loss(pos, neg):
    """-log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c), averaged over the batch."""
    return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()


def noise_distribution(counts, power=0.75):
    """The negatives' distribution P_n(w) = count(w)^power / sum: the unigram
    distribution raised to 3/4, which draws rare words more often than their frequency
    and frequent ones less."""
    p = counts.double() ** power
    return (p / p.sum()).float()


def train(
    model,
    ids,
    counts,
    *,
    epochs=1,
    window=5,
    n_neg=5,
    batch_size=4096,
    lr=3e-3,
    t=1e-4,
    noise_power=0.75,
    device="cpu",
    seed=None,
    log=None,
):
    """Each epoch: subsample the text, form skip-gram pairs, shuffle, and take
    SparseAdam steps with ``n_neg`` negatives per pair drawn from
    ``noise_distribution(counts, noise_power)``. Returns the ``loss`` of every step."""
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    noise = noise_distribution(counts, noise_power).to(device)
    model.to(device)
    opt = torch.optim.SparseAdam(model.parameters(), lr=lr)
    history = {"loss": []}
    for epoch in range(epochs):
        c, o = skipgram_pairs(subsample(ids, counts, t, g), window, g)
        for idx in torch.randperm(len(c), generator=g).split(batch_size):
            centre, context = c[idx].to(device), o[idx].to(device)
            negatives = torch.multinomial(noise, len(idx) * n_neg, replacement=True)
            loss = sgns_loss(*model(centre, context, negatives.view(len(idx), n_neg)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            history["loss"].append(loss.item())
        if log is not None:
            log(f"epoch {epoch + 1}: {len(c):,} pairs, loss {loss.item():.3f}")
    return history


@torch.no_grad()
def neighbours(model, stoi, itos, word, k=6, among=None):
    """The k words whose centre vectors have the highest cosine similarity to
    ``word``'s, among the ``among`` most frequent words (all words when None: rare words
    have noisy vectors)."""
    e = F.normalize(model.v.weight[:among], dim=1)
    sims = e @ F.normalize(model.v.weight[stoi[word]], dim=0)
    if stoi[word] < len(sims):
        sims[stoi[word]] = -1
    return [itos[i] for i in sims.topk(k).indices.tolist()]


@torch.no_grad()
def context_log_probs(model, centre, counts, noise_power=0.75):
    """log P(o | c) over the whole vocabulary, (B, V), for pairs drawn as in training
    (subsampled text, the same windows). At the optimum of the loss u_o . v_c =
    log[P(o | c) / (k P_n(o))] (Levy and Goldberg 2014), so P(o | c) is proportional to
    P_n(o) exp(u_o . v_c), normalised by the softmax. Approximate: vectors of far fewer
    dimensions than the vocabulary do not reach that optimum."""
    noise = noise_distribution(counts, noise_power).to(model.u.weight.device)
    return (model.v(centre) @ model.u.weight.T + noise.log()).log_softmax(-1)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    words = [
        f"w{int(i)}" for i in rng.zipf(1.5, 5000) if i < 200
    ]  # a toy Zipfian "text"
    itos, stoi, counts, ids = build_vocab(words, min_count=2)
    model = SkipGram(len(itos), dim=16)
    hist = train(model, ids, counts, epochs=3, batch_size=512, seed=0)["loss"]
    print(f"vocab {len(itos)}, loss {hist[0]:.3f} -> {hist[-1]:.3f}")
