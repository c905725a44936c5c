"""Sequence-to-sequence network with attention (Bahdanau, Cho and Bengio, "Neural
Machine Translation by Jointly Learning to Align and Translate", ICLR 2015). A
bidirectional GRU encoder reads the input sequence into one state per position; a GRU
decoder writes the output one token at a time. Before each output token the decoder
scores every encoder state against its own state with a small MLP (additive
attention), turns the scores into weights with a softmax over the input positions,
and reads the weighted average of the encoder states (the context vector). The
decoder therefore looks up the part of the input it needs at each step instead of
recovering it from one fixed-length summary, as in the encoder-decoder of Cho et al.
(2014) and Sutskever et al. (2014), which ``attention=False`` gives: the context is
then the encoder's final state at every step. The loss is the cross-entropy of each
target token, the decoder reading the previous target token (teacher forcing).
Simplifications: characters as tokens, GRU cells without the paper's maxout output
layer, greedy decoding instead of beam search.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    """Bidirectional GRU over right-padded ids (B, S), id 0 the padding: the states
    (B, S, 2H), zero on padding, and the final state (B, 2H) (the forward GRU after
    the last real token, the backward GRU after the first)."""

    def __init__(self, vocab, d_embed, hidden):
        super().__init__()
        self.emb = nn.Embedding(vocab, d_embed, padding_idx=0)
        self.gru = nn.GRU(d_embed, hidden, batch_first=True, bidirectional=True)

    def forward(self, x):
        lengths = (x != 0).sum(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.emb(x), lengths, batch_first=True, enforce_sorted=False
        )
        states, final = self.gru(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(
            states, batch_first=True, total_length=x.shape[1]
        )
        return states, torch.cat([final[0], final[1]], -1)


class AdditiveAttention(nn.Module):
    """Bahdanau's alignment model: score e_j = v^T tanh(W s + U h_j) of each encoder
    state h_j (B, S, 2H) for the decoder state s (B, D), weights a = softmax(e) over
    the real positions (mask (B, S), True on real tokens), context sum_j a_j h_j.
    Returns the context (B, 2H) and the weights (B, S)."""

    def __init__(self, d_dec, d_enc, d_att):
        super().__init__()
        self.W = nn.Linear(d_dec, d_att, bias=False)
        self.U = nn.Linear(d_enc, d_att)
        self.v = nn.Linear(d_att, 1, bias=False)

    def forward(self, s, h, mask):
        scores = self.v(torch.tanh(self.W(s)[:, None] + self.U(h))).squeeze(-1)
        weights = scores.masked_fill(~mask, float("-inf")).softmax(-1)
        context = (weights[:, :, None] * h).sum(1)
        return context, weights


class Seq2Seq(nn.Module):
    """Encoder, attention and GRU decoder: input ids (B, S) and decoder inputs
    (B, T) (the targets shifted right behind a start token) -> logits (B, T, V).
    The weights of the last call (B, T, S) are kept in ``self.weights``.
    ``attention=False`` feeds the encoder's final state as the context at every step
    (the ablation)."""

    def __init__(self, in_vocab, out_vocab, d_embed=32, hidden=64, attention=True):
        super().__init__()
        self.attention = attention
        self.encoder = Encoder(in_vocab, d_embed, hidden)
        self.attend = AdditiveAttention(hidden, 2 * hidden, hidden)
        self.init = nn.Linear(2 * hidden, hidden)  # s_0 from the encoder's final state
        self.emb = nn.Embedding(out_vocab, d_embed)
        self.cell = nn.GRUCell(d_embed + 2 * hidden, hidden)
        self.out = nn.Linear(hidden + 2 * hidden + d_embed, out_vocab)
        self.weights = None

    def forward(self, x, y_in):
        h, final = self.encoder(x)
        mask = x != 0
        s = torch.tanh(self.init(final))
        logits, weights = [], []
        for t in range(y_in.shape[1]):
            e = self.emb(y_in[:, t])
            if self.attention:
                c, a = self.attend(s, h, mask)
                weights.append(a)
            else:
                c = final
            s = self.cell(torch.cat([e, c], -1), s)
            logits.append(self.out(torch.cat([s, c, e], -1)))
        self.weights = torch.stack(weights, 1).detach() if weights else None
        return torch.stack(logits, 1)


def shift_right(y, bos):
    """Decoder inputs for teacher forcing: the start token, then the targets (B, T)
    without the last one, so that step t reads target t-1."""
    start = torch.full_like(y[:, :1], bos)
    return torch.cat([start, y[:, :-1]], 1)


def seq_loss(logits, y):
    """Mean cross-entropy of every target token: logits (B, T, V), targets (B, T)."""
    return F.cross_entropy(logits.flatten(0, 1), y.flatten())


def train(
    model,
    x,
    y,
    *,
    steps=2000,
    batch_size=64,
    lr=3e-3,
    bos=None,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam on the teacher-forced cross-entropy of random batches of the input ids
    ``x`` (N, S) and targets ``y`` (N, T), the learning rate decayed linearly to zero.
    ``bos`` is the start token (default: the last output id). Returns
    ``{"loss": [...]}``, the training loss of every step."""
    model.to(device).train()
    bos = model.out.out_features - 1 if bos is None else bos
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / steps)
    history = {"loss": []}
    for step in range(steps):
        i = torch.randint(len(x), (batch_size,), generator=gen)
        xb = x[i][:, : (x[i] != 0).sum(1).max()].to(device)  # drop all-pad columns
        yb = y[i].to(device)
        loss = seq_loss(model(xb, shift_right(yb, bos)), yb)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history["loss"].append(loss.item())
        if log is not None and step % 200 == 0:
            log(f"step {step}: loss {loss.item():.3f}")
    return history


@torch.no_grad()
def translate(model, x, length, *, bos=None, batch_size=500, device="cpu"):
    """Greedy decoding: ``length`` output ids (N, length) for the input ids (N, S),
    each step feeding back the most likely token. Re-running the decoder on the
    prefix at every step keeps the code short; ``model.weights`` ends up holding
    the last batch's attention weights of the whole output."""
    model.to(device).eval()
    bos = model.out.out_features - 1 if bos is None else bos
    out = []
    for xb in x.split(batch_size):
        xb = xb.to(device)
        y = torch.full((len(xb), 1), bos, dtype=torch.long, device=device)
        for _ in range(length):
            step = model(xb, y)[:, -1].argmax(-1)
            y = torch.cat([y, step[:, None]], 1)
        out.append(y[:, 1:].cpu())
    return torch.cat(out)


def exact_match(pred, y):
    """Fraction of rows of ``pred`` (N, T) equal to ``y`` in every position."""
    return (pred == y).all(1).float().mean().item()


if __name__ == "__main__":
    torch.manual_seed(0)
    # a toy translation: reverse 3 to 7 digits (ids 1..10, 0 padding), padded with
    # 11 ("end") to 7 outputs; start token 12
    n = 2000
    lengths = torch.randint(3, 8, (n,))
    x = torch.randint(1, 11, (n, 7)) * (torch.arange(7) < lengths[:, None])
    y = torch.full((n, 7), 11)
    for i in range(n):
        y[i, : lengths[i]] = x[i, : lengths[i]].flip(0)
    model = Seq2Seq(in_vocab=11, out_vocab=13, d_embed=16, hidden=32)
    hist = train(model, x, y, steps=60, batch_size=32, lr=1e-2)
    acc = exact_match(translate(model, x[:200], 7), y[:200])
    print(
        f"loss {hist['loss'][0]:.3f} -> {hist['loss'][-1]:.3f}; exact match {acc:.2f}"
    )
