"""
word2vec on Shakespeare's plays
===============================

Skip-gram with negative sampling is trained on the first 95% of the words of
Shakespeare's 42 plays (about 0.87M tokens, vocabulary of words seen at least five
times). The page shows the nearest neighbours of a fixed list of words, a 2-D projection
of a few groups of words, and one quantitative check: how well the vectors predict the
context words of the held-out last 5% of the text, against a baseline that knows only
word frequencies.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import toydata
from _example import DEVICE, SMOKE, scale, start
from word2vec import (
    SkipGram,
    build_vocab,
    context_log_probs,
    neighbours,
    skipgram_pairs,
    train,
)

run = start("word2vec")

words = toydata.shakespeare_words()
if SMOKE:
    words = words[:60000]
cut = int(0.95 * len(words))
itos, stoi, counts, ids = build_vocab(words[:cut], min_count=5)
print(
    f"{len(words):,} words; vocabulary {len(itos):,} words seen >= 5 times in the "
    f"training part"
)

# %%
# Training
# --------
# 100-d vectors, windows of up to 5 words, 5 negatives per pair from counts^0.75,
# subsampling with t = 1e-4, SparseAdam on batches of 4,096 pairs.
model = SkipGram(len(itos), dim=100)
hist = train(
    model,
    ids,
    counts,
    epochs=scale(4, 1),
    window=5,
    n_neg=5,
    batch_size=4096,
    lr=5e-3,
    device=DEVICE,
)

# %%
# Nearest neighbours
# ------------------
# Cosine similarity between centre vectors, among the 3,000 most frequent words (a word
# seen five times gets few updates and a noisy vector). Words absent from the vocabulary
# (possible in smoke mode) are skipped.
QUERY = [
    "king",
    "love",
    "sword",
    "night",
    "father",
    "thou",
    "blood",
    "horse",
    "eyes",
    "death",
]
for w in QUERY:
    if w in stoi:
        print(f"{w:>8}: {', '.join(neighbours(model, stoi, itos, w, k=6, among=3000))}")

# %%
# Held-out context prediction
# ---------------------------
# For every (centre, context) pair within two words of each other in the held-out text
# (both words in the vocabulary), the model's probability of the context word is ``P(o |
# c) ∝ P_n(o) exp(u_o · v_c) / keep(o)``: at the optimum of the negative-sampling loss
# ``u_o · v_c = log P(o | c) - log(k P_n(o))`` for the subsampled training pairs
# (``P_n`` the noise distribution), and dividing by the subsampling keep-probability
# undoes the subsampling. The baseline predicts the frequency ``P(o)`` whatever the
# centre word. Both are scored by their perplexity on the held-out pairs (lower is
# better).
held = torch.tensor([stoi.get(w, -1) for w in words[cut:]])
held = held[held >= 0]
c, o = skipgram_pairs(held, window=2, generator=torch.Generator().manual_seed(1))
keep = torch.randperm(len(c), generator=torch.Generator().manual_seed(2))[
    : scale(20000, 2000)
]
c, o = c[keep], o[keep]
nll = torch.cat(
    [
        -context_log_probs(model, c[i : i + 2000].to(DEVICE), counts)
        .gather(1, o[i : i + 2000, None].to(DEVICE))
        .squeeze(1)
        .cpu()
        for i in range(0, len(c), 2000)
    ]
)
log_unigram = (counts.double() / counts.sum()).log().float()
ppl = nll.mean().exp().item()
ppl_unigram = (-log_unigram[o]).mean().exp().item()
print(
    f"held-out context perplexity: skip-gram {ppl:.1f}, word frequencies alone "
    f"{ppl_unigram:.1f}"
)

# %%
# Training loss and a 2-D map of word groups
# ------------------------------------------
# The map is a PCA of the normalised vectors of a few hand-picked groups of words (the
# groups are only used for the colours).
GROUPS = {
    "rank": [
        "king",
        "queen",
        "prince",
        "duke",
        "lord",
        "lady",
        "earl",
        "emperor",
        "princess",
    ],
    "family": [
        "father",
        "mother",
        "son",
        "daughter",
        "brother",
        "sister",
        "wife",
        "husband",
        "uncle",
    ],
    "body": ["hand", "eye", "head", "heart", "face", "tongue", "arm", "lips", "brow"],
    "time": [
        "night",
        "day",
        "morning",
        "hour",
        "tonight",
        "tomorrow",
        "yesterday",
        "evening",
    ],
    "number": [
        "two",
        "three",
        "four",
        "five",
        "six",
        "ten",
        "twenty",
        "hundred",
        "thousand",
    ],
    "animal": [
        "horse",
        "dog",
        "lion",
        "wolf",
        "bear",
        "fox",
        "ass",
        "serpent",
        "eagle",
    ],
}
fig, axes = plt.subplots(
    1, 2, figsize=(10, 4.2), gridspec_kw=dict(width_ratios=[1, 1.4])
)
steps = np.arange(len(hist))
w = max(1, len(hist) // 50)
axes[0].plot(steps, hist, color="0.8", lw=0.6)
axes[0].plot(
    steps[w - 1 :], np.convolve(hist, np.ones(w) / w, mode="valid"), color="C0"
)
axes[0].set_xlabel("step (4,096 pairs each)")
axes[0].set_ylabel("negative-sampling loss")
axes[0].set_title("Training loss")
sel = [(g, x) for g, ws in GROUPS.items() for x in ws if x in stoi]
with torch.no_grad():
    E = F.normalize(model.v.weight.cpu()[[stoi[x] for _, x in sel]], dim=1).numpy()
E = E - E.mean(0)
xy = E @ np.linalg.svd(E, full_matrices=False)[2][:2].T
for k, g in enumerate(GROUPS):
    idx = [i for i, (gg, _) in enumerate(sel) if gg == g]
    axes[1].scatter(xy[idx, 0], xy[idx, 1], color=f"C{k}", label=g, s=18)
    for i in idx:
        axes[1].annotate(
            sel[i][1], xy[i], fontsize=7, xytext=(2, 2), textcoords="offset points"
        )
axes[1].set_xticks([])
axes[1].set_yticks([])
axes[1].set_title("Word vectors, first two principal components")
axes[1].legend(fontsize=7, loc="best")
fig.tight_layout()
plt.show()

# %%
# Metrics
# -------
# The headline is the held-out context perplexity; the target asks the vectors to cut
# the frequency baseline's perplexity by at least 10%.
run.metric(
    "heldout_context_perplexity",
    ppl,
    target=0.9 * ppl_unigram,
    higher_is_better=False,
    baseline=ppl_unigram,
    baseline_name="word frequencies alone",
    fmt=".1f",
    headline=True,
)
run.metric("final_train_loss", float(np.mean(hist[-50:])), higher_is_better=False)
run.finish()
