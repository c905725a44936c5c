"""Recurrent neural network: one cell applied at every step of a sequence, carrying a
hidden state from step to step (Elman, "Finding Structure in Time", Cognitive Science
1990). Here the cell is a gated recurrent unit (GRU; Cho et al., "Learning Phrase
Representations using RNN Encoder-Decoder for Statistical Machine Translation", EMNLP
2014), whose gates decide how much of the state to keep at each step, so gradients
survive across the whole sequence. Two GRUs read each name, one left to right and one
right to left (a bidirectional RNN); their final states and a max over their outputs
feed a linear classifier. Names have different lengths: a batch is padded to its longest
name and packed, so the GRU never runs over the padding. ``recurrent=False`` runs the
same cell on every character alone (no state carried from step to step): the ablation
of the one idea. PyTorch's GRU applies the reset gate after the recurrent matrix,
``tanh(W x + r * (U h + b))``; Cho et al. apply it before, ``tanh(W x + U (r * h))``.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def encode(names, vocab):
    """Names -> (padded int64 tensor (N, max_len) of character ids, lengths (N,)). Id 0
    is the padding, id 1 an unknown character; ``vocab`` maps each known character to an
    id >= 2."""
    lengths = torch.tensor([len(n) for n in names])
    ids = torch.zeros(len(names), int(lengths.max()), dtype=torch.long)
    for i, n in enumerate(names):
        ids[i, : len(n)] = torch.tensor([vocab.get(c, 1) for c in n])
    return ids, lengths


def read_packed(rnn, x, lengths):
    """Run the GRU over the packed batch ``x`` (B, T, emb): returns the final states of
    both directions, (B, 2H), and the outputs at every step, (B, T, 2H) with -inf at the
    pads."""
    packed = pack_padded_sequence(
        x, lengths.cpu(), batch_first=True, enforce_sorted=False
    )
    out, h = rnn(packed)  # h: (layers*2, B, H)
    out, _ = pad_packed_sequence(out, batch_first=True, padding_value=float("-inf"))
    return torch.cat([h[-2], h[-1]], dim=1), out  # h[-2:]: the last layer, both ways


def read_each_alone(rnn, x, lengths):
    """The ablation: the same GRU run on every character as a sequence of one, so
    h_{t-1} = 0 at every step. The "final states" are the outputs at the last
    (forward) and the first (backward) character. Same shapes as ``read_packed``."""
    b, t, e = x.shape
    out = rnn(x.reshape(b * t, 1, e))[0].reshape(b, t, -1)
    n = lengths.to(x.device)
    pad = torch.arange(t, device=x.device)[None] >= n[:, None]
    out = out.masked_fill(pad[..., None], float("-inf"))
    h = out.shape[-1] // 2
    return torch.cat([out[torch.arange(b), n - 1, :h], out[:, 0, h:]], dim=1), out


class CharRNN(nn.Module):
    """Character embedding -> bidirectional multi-layer GRU over the packed batch ->
    [final forward state, final backward state, max over time of the outputs] -> dropout
    -> logits. ``recurrent=False``: every character read alone (the ablation)."""

    def __init__(
        self,
        n_chars,
        n_classes,
        emb=64,
        hidden=128,
        layers=2,
        dropout=0.3,
        recurrent=True,
    ):
        super().__init__()
        self.read = read_packed if recurrent else read_each_alone
        self.embed = nn.Embedding(n_chars, emb, padding_idx=0)
        self.rnn = nn.GRU(
            emb,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(4 * hidden, n_classes)

    def forward(self, ids, lengths):
        x = self.drop(self.embed(ids))  # (B, T, emb)
        final, out = self.read(self.rnn, x, lengths)
        pooled = out.max(dim=1).values  # (B, 2H), pads ignored
        return self.head(self.drop(torch.cat([final, pooled], dim=1)))


def rnn_loss(logits, y, label_smoothing=0.0):
    """Cross-entropy of the softmax over languages, averaged over the batch."""
    return F.cross_entropy(logits, y, label_smoothing=label_smoothing)


def train(
    model,
    ids,
    lengths,
    y,
    *,
    epochs=16,
    batch_size=128,
    lr=4e-3,
    weight_decay=1e-2,
    label_smoothing=0.1,
    device="cpu",
    seed=None,
    log=None,
):
    """AdamW with a one-cycle schedule over shuffled variable-length batches (each batch
    trimmed to its longest name). ``seed`` (if given) fixes batches and dropout; ``log``
    (if given) gets a line per epoch. Returns ``{"loss": [mean loss per epoch]}``."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(y) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    hist = {"loss": []}
    for epoch in range(epochs):
        perm, total = torch.randperm(len(y)), 0.0
        for i in range(0, len(y), batch_size):
            idx = perm[i : i + batch_size]
            n = lengths[idx]
            x = ids[idx, : int(n.max())].to(device)
            loss = rnn_loss(model(x, n), y[idx].to(device), label_smoothing)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        hist["loss"].append(total / len(y))
        if log:
            log(f"epoch {epoch + 1}: loss {hist['loss'][-1]:.4f}")
    return hist


@torch.no_grad()
def predict_proba(model, ids, lengths, device="cpu", batch_size=512):
    """Class probabilities for every encoded name, computed in padded, packed
    batches."""
    model.to(device).eval()
    out = []
    for i in range(0, len(lengths), batch_size):
        n = lengths[i : i + batch_size]
        x = ids[i : i + batch_size, : int(n.max())].to(device)
        out.append(torch.softmax(model(x, n), dim=1).cpu())
    return torch.cat(out)


if __name__ == "__main__":
    torch.manual_seed(0)
    # Synthetic task: is a random string of a's and b's (length 3 to 12) mostly a's?
    names = [
        "".join("ab"[int(b)] for b in torch.randint(0, 2, (int(k),)))
        for k in torch.randint(3, 13, (256,))
    ]
    y = torch.tensor([int(n.count("a") > len(n) / 2) for n in names])
    ids, lengths = encode(names, {"a": 2, "b": 3})
    model = CharRNN(n_chars=4, n_classes=2, emb=8, hidden=16, layers=1, dropout=0.0)
    hist = train(model, ids, lengths, y, epochs=8, batch_size=32, label_smoothing=0.0)
    acc = (predict_proba(model, ids, lengths).argmax(1) == y).float().mean()
    loss = hist["loss"]
    print(f"loss {loss[0]:.3f} -> {loss[-1]:.3f}; train accuracy {acc:.2f}")
