"""Vision Transformer (ViT): an image is cut into a grid of p x p patches, each patch is
flattened and mapped by one shared linear layer to a d-dimensional token, a learned
class token is put in front, a learned position embedding is added to every token, and
a standard Transformer encoder reads the sequence; the class token's final state is
classified by an MLP head (Dosovitskiy et al., "An Image is Worth 16x16 Words:
Transformers for Image Recognition at Scale", ICLR 2021). Nothing in it knows that
pixels have neighbours: apart from cutting the patches, every spatial relation must be
learned, the layout from the position embeddings, which is why the paper needs
ImageNet-21k or JFT-300M pre-training to beat convolutional networks. The loss is the
cross-entropy of the class scores. Simplifications: one channel, 10 classes, no
dropout, trained from scratch on small images without augmentation.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def patchify(x, p):
    """Cut images (B, C, H, W) into their (H/p)(W/p) patches, row by row, left to
    right: (B, N, C*p*p). Patch k is the crop at row k // (W/p), column k % (W/p)."""
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // p, p, w // p, p)  # (B, C, rows, p, cols, p)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)


class Attention(nn.Module):
    """Multi-head self-attention of every token to every token: (B, T, d) -> (B, T, d).
    The last attention weights (B, heads, T, T) are kept in ``self.weights``."""

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
        weights = (q @ k.transpose(-2, -1) / math.sqrt(self.d_head)).softmax(-1)
        self.weights = weights.detach()
        return self.out((weights @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm encoder block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model, n_heads, mlp_ratio=2):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads)
        hidden = mlp_ratio * d_model
        self.mlp = nn.Sequential(
            nn.Linear(d_model, hidden), nn.GELU(), nn.Linear(hidden, d_model)
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    """Digits (B, 1, side, side) -> logits (B, 10). ``positional=False`` drops
    the position embeddings (the ablation): the encoder then sees a bag of patches."""

    def __init__(
        self, side=28, patch=4, d_model=64, n_heads=4, n_layers=4, positional=True
    ):
        super().__init__()
        self.patch, n = patch, (side // patch) ** 2
        self.embed = nn.Linear(patch * patch, d_model)  # the patch embedding
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos = (
            nn.Parameter(0.02 * torch.randn(1, n + 1, d_model)) if positional else None
        )
        self.blocks = nn.Sequential(*[Block(d_model, n_heads) for _ in range(n_layers)])
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Sequential(  # the MLP head: one hidden tanh layer
            nn.Linear(d_model, d_model), nn.Tanh(), nn.Linear(d_model, 10)
        )

    def encode(self, x):
        """The encoder's output for every token, the class token first: (B, N+1, d)."""
        tokens = self.embed(patchify(x, self.patch))  # (B, N, d)
        h = torch.cat([self.cls.expand(len(x), -1, -1), tokens], 1)
        if self.pos is not None:
            h = h + self.pos
        return self.ln(self.blocks(h))

    def forward(self, x):
        return self.head(self.encode(x)[:, 0])


def vit_loss(logits, y):
    """Cross-entropy of the softmax of the logits, averaged over the batch."""
    return F.cross_entropy(logits, y)


def train(
    model,
    x_train,
    y_train,
    *,
    epochs=10,
    batch_size=64,
    lr=2e-3,
    weight_decay=0.3,
    warmup=1,
    device="cpu",
    seed=None,
    log=None,
):
    """AdamW with the paper's weight decay of 0.3, a linear warm-up over ``warmup``
    epochs and a cosine decay to zero, gradients clipped at norm 1. ``seed`` (if given)
    fixes the batches. Returns ``{"loss": [...]}``, the mean training loss of each
    epoch."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    per_epoch = (len(x_train) + batch_size - 1) // batch_size
    steps, warm = epochs * per_epoch, max(1, warmup * per_epoch)

    def schedule(s):  # multiplier of lr at step s
        return min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * s / steps))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    hist = {"loss": []}
    for epoch in range(epochs):
        perm, total = torch.randperm(len(x_train), generator=gen), 0.0
        for i in range(0, len(x_train), batch_size):
            idx = perm[i : i + batch_size]
            x, y = x_train[idx].to(device), y_train[idx].to(device)
            loss = vit_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        hist["loss"].append(total / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: loss {hist['loss'][-1]:.4f}")
    return hist


@torch.no_grad()
def predict(model, x, device="cpu", batch_size=500):
    """Predicted class of each image in ``x``."""
    model.to(device).eval()
    return torch.cat(
        [
            model(x[i : i + batch_size].to(device)).argmax(1).cpu()
            for i in range(0, len(x), batch_size)
        ]
    )


@torch.no_grad()
def position_similarity(model):
    """Cosine similarity of every patch's position embedding with every other's
    (N, N), the class token's left out (the paper's Figure 7)."""
    pos = F.normalize(model.pos[0, 1:], dim=-1)
    return (pos @ pos.T).cpu()


if __name__ == "__main__":
    torch.manual_seed(0)
    y = torch.randint(2, (256,))  # is the top half brighter than the bottom?
    x = 0.5 * torch.rand(256, 1, 28, 28)
    x[y == 1, :, :14] += 0.5
    x[y == 0, :, 14:] += 0.5
    model = ViT(patch=7, d_model=32, n_heads=2, n_layers=2)  # 10 logits, 2 used
    hist = train(model, x, y, epochs=16, batch_size=32, lr=3e-3, seed=0)
    acc = (predict(model, x) == y).float().mean()
    print(
        f"loss {hist['loss'][0]:.3f} -> {hist['loss'][-1]:.3f}, accuracy {acc:.2f}; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )
