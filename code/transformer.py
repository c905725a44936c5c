"""Transformer language model: a stack of blocks, each a causal multi-head
self-attention followed by a position-wise MLP, both wrapped in a residual connection
with layer normalization (Vaswani et al., "Attention Is All You Need", NeurIPS 2017),
used decoder-only as a next-token predictor (Radford et al., "Improving Language
Understanding by Generative Pre-Training", 2018). Every position computes a query, a key
and a value; its output is the average of the values of the positions up to itself,
weighted by the softmax of query-key dot products, so any earlier character can be read
in one step instead of through a chain of recurrent states. Attention alone ignores
order, so a learned position embedding is added to each token embedding. The loss is
the cross-entropy of the next character. Simplifications: characters as tokens,
pre-norm blocks (as in GPT-2), no dropout, the output layer tied to the embedding.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    """Multi-head attention of each position to itself and the positions before it:
    (B, T, d) -> (B, T, d). The last attention weights (B, heads, T, T) are kept in
    ``self.weights`` for plotting."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.weights = None

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.d_head).unbind(2)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B,h,T,dh)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)  # (B, h, T, T)
        future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        weights = scores.masked_fill(future, float("-inf")).softmax(-1)
        self.weights = weights.detach()
        return self.out((weights @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    """Decoder-only language model: token ids (B, T) -> next-token logits (B, T, V).
    ``positional=False`` drops the position embedding (the ablation)."""

    def __init__(
        self, vocab, d_model=128, n_heads=4, n_layers=2, context=128, positional=True
    ):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model) if positional else None
        self.blocks = nn.Sequential(*[Block(d_model, n_heads) for _ in range(n_layers)])
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)
        self.head.weight = self.tok.weight  # tied input and output embeddings
        for emb in (self.tok, self.pos):
            if emb is not None:
                nn.init.normal_(emb.weight, std=0.02)

    def forward(self, idx):
        h = self.tok(idx)
        if self.pos is not None:
            h = h + self.pos(torch.arange(idx.shape[1], device=idx.device))
        return self.head(self.ln(self.blocks(h)))


def lm_loss(logits, targets):
    """Mean cross-entropy (nats) of the next token: logits (B, T, V), targets (B, T)."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def random_windows(data, batch_size, context, generator=None):
    """``batch_size`` random windows of a 1-D token tensor: inputs (B, T) and the
    targets shifted by one (B, T)."""
    start = torch.randint(len(data) - context - 1, (batch_size,), generator=generator)
    idx = start[:, None] + torch.arange(context + 1)
    w = data[idx]
    return w[:, :-1], w[:, 1:]


def train(
    model,
    data,
    *,
    steps=1000,
    batch_size=32,
    context=128,
    lr=3e-3,
    warmup=50,
    weight_decay=0.01,
    device="cpu",
    seed=None,
    log=None,
):
    """AdamW on the next-token cross-entropy of random windows of the 1-D token
    tensor ``data``, with a linear warm-up and a cosine decay of the learning rate.
    Works for any model mapping (B, T) ids to (B, T, V) logits. Returns
    ``{"loss": [...]}``, the training loss (nats per token) of every step."""
    model.to(device).train()
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    def schedule(s):  # multiplier of lr at step s
        return min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / steps))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    history = {"loss": []}
    for step in range(steps):
        x, y = random_windows(data, batch_size, context, gen)
        loss = lm_loss(model(x.to(device)), y.to(device))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history["loss"].append(loss.item())
        if log is not None and step % 100 == 0:
            log(f"step {step}: loss {loss.item():.3f}")
    return history


@torch.no_grad()
def bits_per_char(model, data, *, context=128, batch_size=64, device="cpu"):
    """Mean negative log2-likelihood of every token of ``data`` after the first, read
    in consecutive non-overlapping windows of ``context`` tokens."""
    model.to(device).eval()
    n = (len(data) - 1) // context * context
    x = data[:n].view(-1, context)
    y = data[1 : n + 1].view(-1, context)
    total = 0.0
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size].to(device))
        total += F.cross_entropy(
            logits.flatten(0, 1),
            y[i : i + batch_size].flatten().to(device),
            reduction="sum",
        ).item()
    return total / n / math.log(2)


@torch.no_grad()
def sample(model, prompt, n_new, *, temperature=0.8, generator=None, device="cpu"):
    """Extend the 1-D id tensor ``prompt`` by ``n_new`` ids drawn one at a time from
    the model's softmax at ``temperature``, reading at most ``model.context`` ids."""
    model.to(device).eval()
    ids = prompt.clone()
    for _ in range(n_new):
        logits = model(ids[-model.context :][None].to(device))[0, -1].cpu()
        p = torch.softmax(logits / temperature, -1)
        ids = torch.cat([ids, torch.multinomial(p, 1, generator=generator)])
    return ids


if __name__ == "__main__":
    torch.manual_seed(0)
    # a toy language: 0 1 2 ... 9 0 1 2 ..., each period starting at a random digit
    data = (torch.arange(4000) + torch.randint(10, (400,)).repeat_interleave(10)) % 10
    model = Transformer(vocab=10, d_model=32, n_heads=2, n_layers=1, context=16)
    hist = train(model, data, steps=60, batch_size=16, context=16, warmup=10)
    print(
        f"loss {hist['loss'][0]:.3f} -> {hist['loss'][-1]:.3f} nats; "
        f"{bits_per_char(model, data, context=16):.3f} bits per token"
    )
