"""Baselines for the character language models: a Kneser-Ney character n-gram model
and a GRU language model, and the character vocabulary they share with the Transformer.

Only the Transformer's example uses this file.
"""

import numpy as np
import torch
import torch.nn as nn


class Vocab:
    """Characters of the training text, id 0 reserved for any character not in it."""

    def __init__(self, text):
        self.chars = ["\ufffd"] + sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        return torch.tensor([self.index.get(c, 0) for c in text], dtype=torch.long)

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids.tolist())


class KneserNey:
    """Interpolated Kneser-Ney character n-gram models of every order up to
    ``max_order`` with one discount ``d`` for all levels (Chen and Goodman 1999): the
    highest level uses raw counts, the lower levels continuation counts (in how many
    distinct contexts a string follows a character), and the unigram level is
    interpolated with the uniform distribution."""

    def __init__(self, ids, vocab_size, max_order):
        assert vocab_size**max_order < 2**62, "n-gram codes would overflow int64"
        self.v, self.max_order = vocab_size, max_order
        ids = np.asarray(ids, dtype=np.int64)
        codes = ids  # base-V code of the n-gram ending at each position (n = 1, 2...)
        uniq = {}
        for n in range(1, max_order + 2):
            uniq[n] = np.unique(codes, return_counts=True)
            codes = codes[:-1] * vocab_size + ids[n:]
        self.raw, self.cont = {}, {}  # n -> (sorted codes, counts, context tables)
        for n in range(1, max_order + 1):
            self.raw[n] = self._table(*uniq[n])
            tails = uniq[n + 1][0] % vocab_size**n  # drop the oldest character
            self.cont[n] = self._table(*np.unique(tails, return_counts=True))

    def _table(self, keys, counts):
        """Counts of n-grams, and per context (the n-gram without its last char) the
        total count and the number of distinct next characters."""
        counts = counts.astype(np.float64)
        hk, first = np.unique(keys // self.v, return_index=True)
        total = np.add.reduceat(counts, first)
        distinct = np.diff(np.r_[first, len(keys)]).astype(np.float64)
        return keys, counts, hk, total, distinct

    @staticmethod
    def _lookup(keys, values, q):
        i = np.clip(np.searchsorted(keys, q), 0, len(keys) - 1)
        return np.where(keys[i] == q, values[i], 0.0)

    def probs(self, ids, order, d=0.75):
        """p(ids[i] | up to order-1 previous ids) for every position i."""
        ids = np.asarray(ids, dtype=np.int64)
        keys, counts, *_ = self.raw[1] if order == 1 else self.cont[1]
        c = self._lookup(keys, counts, ids)
        p = (np.maximum(c - d, 0) + d * len(keys) / self.v) / counts.sum()
        code = ids.copy()
        for n in range(2, order + 1):
            prev, code = code[:-1], np.full(len(ids), -1, dtype=np.int64)
            code[1:] = np.where(prev >= 0, prev * self.v + ids[1:], -1)
            keys, counts, hk, total, distinct = (self.raw if n == order else self.cont)[
                n
            ]
            h = code // self.v
            c = self._lookup(keys, counts, code)
            t = self._lookup(hk, total, h)
            u = self._lookup(hk, distinct, h)
            seen = (t > 0) & (code >= 0)
            mixed = (np.maximum(c - d, 0) + d * u * p) / np.where(seen, t, 1.0)
            p = np.where(seen, mixed, p)
        return p

    def bits_per_char(self, ids, order, d=0.75):
        """Mean -log2 p of every id of ``ids`` after the first (the early ones
        predicted from their shorter contexts)."""
        return float(-np.log2(self.probs(ids, order, d)[1:]).mean())


class GRULM(nn.Module):
    """Character GRU language model: ids (B, T) -> next-token logits (B, T, V)."""

    def __init__(self, vocab, d_embed=64, hidden=256, layers=1):
        super().__init__()
        self.context = None
        self.emb = nn.Embedding(vocab, d_embed)
        self.gru = nn.GRU(d_embed, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx):
        return self.head(self.gru(self.emb(idx))[0])


def unigram_bits(train_ids, test_ids, vocab_size):
    """Bits per character of the add-one unigram model: the floor any model must
    beat."""
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size) + 1.0
    p = counts / counts.sum()
    return float(-np.log2(p[np.asarray(test_ids)]).mean())
