"""
Transformer: a character language model of Shakespeare
======================================================

A two-layer decoder-only Transformer learns to predict the next character of the
plays and poems in the ``shakespeare`` package. The split is by play: *Hamlet* and
*Macbeth* are the test set (read once, at the end), *Julius Caesar* and *Twelfth
Night* the validation set (every choice below was made on it), and the other 38 texts
(4.5M characters) the training set. The headline is the test bits per character. In the
same run: an interpolated Kneser-Ney character n-gram model (order and discount chosen
on validation), a GRU language model trained for the same CPU seconds, the same
Transformer without position embeddings (the ablation), and the unigram model (the
floor any model must beat). The budget is about 20 seconds of one CPU thread per
network, which decides the outcome: the n-gram model wins. The target is therefore set
against the ablation: the position embeddings must buy more than 0.1 bit per character.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import toydata
from _charlm import GRULM, KneserNey, Vocab, unigram_bits
from _example import DEVICE, scale, start
from transformer import Transformer, bits_per_char, sample, train

run = start("transformer")

# %%
# Data, split by play
# -------------------
TEST, VAL = ("hamlet", "macbeth"), ("julius_caesar", "twelfth_night")
texts = toydata.shakespeare_texts()
train_text = "".join(t for k, t in texts.items() if k not in TEST + VAL)
vocab = Vocab(train_text)
train_ids = vocab.encode(train_text[: scale(None, 200_000)])
val_ids = vocab.encode("".join(texts[k] for k in VAL))[: scale(100_000, 5_000)]
test_ids = vocab.encode("".join(texts[k] for k in TEST))[: scale(None, 5_000)]
print(
    f"{len(vocab)} characters; train {len(train_ids):,}, validation "
    f"{len(val_ids):,}, test {len(test_ids):,} characters"
)

# %%
# Baselines: unigram and Kneser-Ney n-gram models
# -----------------------------------------------
# All n-gram counts up to order 7 in one pass; order and discount chosen on validation.
t0 = time.process_time()
unigram = unigram_bits(train_ids, test_ids, len(vocab))
kn = KneserNey(train_ids.numpy(), len(vocab), max_order=7)
grid = {
    (n, d): kn.bits_per_char(val_ids.numpy(), n, d)
    for n in (4, 5, 6, 7)
    for d in (0.75, 0.9)
}
order, disc = min(grid, key=grid.get)
ngram = kn.bits_per_char(test_ids.numpy(), order, disc)
ngram_seconds = time.process_time() - t0
print(f"unigram {unigram:.3f} bits/char; {order}-gram (d={disc}) {ngram:.3f} bits/char")

# %%
# Train the Transformer, its ablation and the GRU
# -----------------------------------------------
# d_model 64, 4 heads, 2 blocks, windows of 64 characters, 16 windows a batch, AdamW
# at 5e-3 with warm-up and cosine decay. The ablation is the same network without the
# position embedding. The GRU (192 hidden units) trains for fewer steps, so that its
# CPU seconds match the Transformer's (the seconds are in the table).
CONTEXT, STEPS = 64, scale(700, 20)
settings = dict(batch_size=16, context=CONTEXT, lr=5e-3, warmup=70, device=DEVICE)


def fit(model, steps):
    t = time.process_time()
    hist = train(model, train_ids, steps=steps, seed=run.seed, **settings)
    return hist["loss"], time.process_time() - t


models = {
    "Transformer": Transformer(len(vocab), 64, 4, 2, CONTEXT),
    "no positions (ablation)": Transformer(len(vocab), 64, 4, 2, CONTEXT, False),
    "GRU": GRULM(len(vocab), d_embed=32, hidden=192),
}
steps = {"Transformer": STEPS, "no positions (ablation)": STEPS}
steps["GRU"] = int(0.78 * STEPS)
curves, seconds, val_bits, test_bits = {}, {}, {}, {}
for name, model in models.items():
    torch.manual_seed(run.seed)
    curves[name], seconds[name] = fit(model, steps[name])
    val_bits[name] = bits_per_char(model, val_ids, context=CONTEXT, device=DEVICE)
    test_bits[name] = bits_per_char(model, test_ids, context=CONTEXT, device=DEVICE)
    print(
        f"{name}: {steps[name]} steps, {seconds[name]:.1f} CPU s; validation "
        f"{val_bits[name]:.3f}, test {test_bits[name]:.3f} bits/char"
    )
tf = models["Transformer"]
print(f"{sum(p.numel() for p in tf.parameters()):,} Transformer parameters")
# The target, fixed after a calibration run on the validation plays (seed 0: 3.21
# bits/char with positions, 3.50 without): position embeddings must buy more than 0.1
# bit per character, a third of that gap.
TARGET = test_bits["no positions (ablation)"] - 0.1

# %%
# Where the Transformer looks
# ---------------------------
# The attention weights of every head on the first 48 characters of a test speech:
# row t is the distribution of position t over positions 0..t (the upper triangle is
# masked).
line = texts["hamlet"].find("To be, or not to be")
window = vocab.encode(texts["hamlet"][line : line + 48])
with torch.no_grad():
    tf.eval()(window[None].to(DEVICE))
maps = [blk.attn.weights[0].cpu() for blk in tf.blocks]  # each (heads, T, T)
chars = [
    c if c not in " \n" else {" ": "␣", "\n": "↵"}[c] for c in vocab.decode(window)
]
fig, axes = plt.subplots(2, 4, figsize=(10, 6.2))
for layer, m in enumerate(maps):
    for head in range(4):
        ax = axes[layer, head]
        ax.imshow(m[head], cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"block {layer + 1}, head {head + 1}", fontsize=9)
        ax.set_xticks(range(0, 48, 3), chars[::3], fontsize=6)
        ax.set_yticks(range(0, 48, 3), chars[::3], fontsize=6)
fig.suptitle("Attention weights on a line of Hamlet (row: query, column: key)")
fig.tight_layout()

# %%
# Generated Shakespeare
# ---------------------
# 400 characters from the Transformer and from the GRU, each continuing the same
# prompt from the test play, sampled at temperature 0.8.
gen = torch.Generator().manual_seed(run.seed)
prompt = vocab.encode(
    texts["macbeth"][texts["macbeth"].find("MACBETH.\nIf it were") :][:9]
)
n_new = scale(400, 40)
out_tf = vocab.decode(sample(tf, prompt, n_new, generator=gen, device=DEVICE))
models["GRU"].context = CONTEXT
out_gru = vocab.decode(
    sample(models["GRU"], prompt, n_new, generator=gen, device=DEVICE)
)
fig, axes = plt.subplots(1, 2, figsize=(10, 6.5))
for ax, title, text in zip(axes, ("Transformer", "GRU"), (out_tf, out_gru)):
    ax.axis("off")
    ax.set_title(f"{title} ({test_bits[title]:.2f} bits/char)", fontsize=10)
    ax.text(0, 1, text, va="top", family="monospace", fontsize=7.5, wrap=True)
fig.tight_layout()
print(out_tf)

# %%
# Learning curves
# ---------------
# The training loss of every step against the CPU seconds spent, smoothed over 25
# steps, with the test bits per character of the n-gram and unigram models.
fig, ax = plt.subplots(figsize=(8, 3.6))
colors = {
    "Transformer": "#2563eb",
    "no positions (ablation)": "#f59e0b",
    "GRU": "#16a34a",
}
for name, loss in curves.items():
    bits = np.convolve(np.array(loss) / np.log(2), np.ones(25) / 25, mode="valid")
    x = np.arange(len(bits)) * seconds[name] / len(loss)
    ax.plot(
        x, bits, color=colors[name], lw=2, label=f"{name} (test {test_bits[name]:.2f})"
    )
    run.series(
        f"train_bits_{name.split()[0].lower()}",
        x,
        bits,
        x_name="CPU seconds",
        y_name="bits per character",
    )
ax.axhline(
    ngram, color="#7c3aed", ls="--", label=f"{order}-gram Kneser-Ney (test {ngram:.2f})"
)
ax.axhline(unigram, color="#94a3b8", ls=":", label=f"unigram (test {unigram:.2f})")
ax.set(xlabel="CPU seconds (one thread)", ylabel="bits per character", ylim=(1.8, 5.0))
ax.set_title("Training loss against compute")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Metrics
# -------
run.metric(
    "test_bits_per_char",
    test_bits["Transformer"],
    target=TARGET,
    baseline=ngram,
    baseline_name=f"{order}-gram Kneser-Ney",
    ablation=test_bits["no positions (ablation)"],
    ablation_name="no position embedding",
    higher_is_better=False,
    headline=True,
)
run.metric(
    "gru_test_bits_per_char",
    test_bits["GRU"],
    baseline=unigram,
    baseline_name="unigram",
    higher_is_better=False,
)
run.metric(
    "transformer_cpu_seconds", seconds["Transformer"], higher_is_better=False, fmt=".1f"
)
run.metric("gru_cpu_seconds", seconds["GRU"], higher_is_better=False, fmt=".1f")
run.metric("ngram_cpu_seconds", ngram_seconds, higher_is_better=False, fmt=".1f")
run.finish()
