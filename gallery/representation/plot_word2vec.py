"""
word2vec on Shakespeare's plays
===============================

Skip-gram with negative sampling is trained on the first 90% of the words of
Shakespeare's 42 plays (about 0.8M tokens; the vocabulary is the words seen at least
five times there). The quantitative check is held-out context prediction: pairs are
drawn from the last 5% of the text exactly as training pairs are drawn (subsampled text,
windows of 1 to 5 words), and each model's probability of the context word given the
centre word is scored by its perplexity. The read-out from the vectors is first checked
on a synthetic corpus whose context distribution is known. In the same run: a
count-based model of the same dimension (shifted positive PMI factorised by SVD, chosen
on the 90-95% validation text), word frequencies alone, and the ablation: the same
skip-gram with negatives drawn from the plain unigram distribution instead of its 3/4
power. The nearest neighbours of a fixed list of words are printed as a qualitative
check.
"""

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import toydata
from _example import DEVICE, SMOKE, scale, start
from _words import (
    SVDContextModel,
    TopicCorpus,
    cooccurrence,
    pairs_within,
    perplexity,
    training_pairs,
    unigram_log_probs,
)
from word2vec import SkipGram, build_vocab, context_log_probs, neighbours, train

run = start("word2vec")
EPOCHS, DIM, K, WINDOW, SUB_T = scale(3, 1), 100, 5, 5, 1e-4


def fit(ids, counts, noise_power=0.75, dim=DIM, epochs=EPOCHS):
    torch.manual_seed(run.seed)
    model = SkipGram(len(counts), dim=dim)
    hist = train(
        model,
        ids,
        counts,
        epochs=epochs,
        window=WINDOW,
        n_neg=K,
        batch_size=4096,
        lr=5e-3,
        t=SUB_T,
        noise_power=noise_power,
        device=DEVICE,
        seed=run.seed,
    )
    return model.cpu(), hist["loss"]


def read_out(model, counts, noise_power=0.75):
    return lambda c: context_log_probs(model, c, counts, noise_power)


# %%
# First, the read-out on a corpus whose answer is known
# -----------------------------------------------------
# Segments of 200 words, each on one of 8 topics, words drawn i.i.d. from the topic's
# distribution over 400 words: for pairs inside a segment the true P(o | c) is known in
# closed form (``_words.TopicCorpus``). The skip-gram trained on it, read out with
# ``P(o | c) ∝ P_n(o) exp(u_o · v_c)``, should come close to the true perplexity; far
# above it, and the estimator (not the vectors) would be to blame on Shakespeare too.
topics = TopicCorpus(vocab=400, n_topics=8, seed=0)
syn_ids, _ = topics.sample(scale(2500, 250), 200, seed=0)
syn_held, syn_seg = topics.sample(scale(250, 50), 200, seed=1)
syn_counts = torch.bincount(syn_ids, minlength=400).clamp(min=1)
syn_model, _ = fit(syn_ids, syn_counts)
sc, so = pairs_within(syn_held, syn_seg, syn_counts, SUB_T, WINDOW, seed=2)
true_lp = topics.log_probs(syn_counts, SUB_T)
syn = {
    "skip-gram": perplexity(read_out(syn_model, syn_counts), sc, so),
    "true distribution": perplexity(lambda c: true_lp[c], sc, so),
    "frequencies alone": perplexity(
        unigram_log_probs(cooccurrence(*training_pairs(syn_ids, syn_counts), 400)),
        sc,
        so,
    ),
}
print(
    "synthetic corpus, held-out perplexity:", {k: round(v, 1) for k, v in syn.items()}
)

# %%
# Shakespeare: the split, the vocabulary and the held-out pairs
# -------------------------------------------------------------
words = toydata.shakespeare_words()
if SMOKE:
    words = words[:60000]
cut_val, cut_test = int(0.90 * len(words)), int(0.95 * len(words))
itos, stoi, counts, ids = build_vocab(words[:cut_val], min_count=5)


def heldout(part, seed):
    """Pairs of a held-out part of the text, drawn as training pairs are."""
    held = torch.tensor([stoi.get(w, -1) for w in part])
    held = held[held >= 0]  # out-of-vocabulary words are dropped, as in training
    c, o = pairs_within(held, torch.zeros_like(held), counts, SUB_T, WINDOW, seed)
    keep = torch.randperm(len(c), generator=torch.Generator().manual_seed(seed))
    keep = keep[: scale(40000, 3000)]
    return c[keep], o[keep]


val_pairs = heldout(words[cut_val:cut_test], seed=11)
test_pairs = heldout(words[cut_test:], seed=12)
print(
    f"{len(words):,} words; vocabulary {len(itos):,}; {len(test_pairs[0]):,} held-out "
    f"test pairs"
)

# %%
# Baselines: word frequencies, and shifted PPMI factorised by SVD
# ---------------------------------------------------------------
# Both count the pairs of the same subsampling passes that the skip-gram trains on
# (drawn with a fixed generator, so the baselines are the same for every seed). The
# count model reconstructs max(PMI - shift, 0) from its rank-100 SVD and reads it out
# like the skip-gram, with a temperature; the shift, 0 (PPMI) or log 5 (SPPMI, the
# skip-gram's implicit shift, Levy and Goldberg 2014), and the temperature are chosen on
# 10,000 validation pairs. The skip-gram's read-out gets no such tuning.
n = cooccurrence(*training_pairs(ids, counts, SUB_T, WINDOW, 0, EPOCHS), len(itos))
unigram = unigram_log_probs(n)
svds = {s: SVDContextModel(n, DIM, shift=s) for s in (0.0, math.log(K))}
val_c, val_o = val_pairs[0][:10000], val_pairs[1][:10000]
val_svd = {
    (s, b): perplexity(lambda c, m=m, b=b: m.log_probs(c, b), val_c, val_o)
    for s, m in svds.items()
    for b in (0.35, 0.7, 1.0, 1.5, 2.0, 3.0)
}
shift, beta = min(val_svd, key=val_svd.get)
svd_name = "PPMI-SVD" if shift == 0 else "SPPMI-SVD (shift log 5)"
print(
    "validation perplexity of the count models:",
    {f"shift {s:.2f}, beta {b}": round(v, 1) for (s, b), v in val_svd.items()},
)


# %%
# The skip-gram, and the ablation
# -------------------------------
# 100-d vectors, windows of up to 5 words, 5 negatives per pair, subsampling with t =
# 1e-4, SparseAdam on batches of 4,096 pairs, three passes. The ablation draws its
# negatives from counts^1 (and is read out with that distribution).
model, hist = fit(ids, counts)
flat, _ = fit(ids, counts, noise_power=1.0)
ppl = {
    "skip-gram": perplexity(read_out(model, counts), *test_pairs),
    "skip-gram, unigram noise": perplexity(read_out(flat, counts, 1.0), *test_pairs),
    svd_name: perplexity(lambda c: svds[shift].log_probs(c, beta), *test_pairs),
    "frequencies alone": perplexity(unigram, *test_pairs),
}
for k, v in ppl.items():
    print(f"held-out context perplexity, {k}: {v:.1f}")

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
# Training loss and a 2-D map of word groups
# ------------------------------------------
# The map is a PCA of the normalised vectors of a few hand-picked groups of words (the
# groups are only used for the colours).
GROUPS = {
    "rank": "king queen prince duke lord lady earl emperor princess".split(),
    "family": "father mother son daughter brother sister wife husband uncle".split(),
    "body": "hand eye head heart face tongue arm lips brow".split(),
    "time": "night day morning hour tonight tomorrow yesterday evening".split(),
    "number": "two three four five six ten twenty hundred thousand".split(),
    "animal": "horse dog lion wolf bear fox ass serpent eagle".split(),
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
    E = F.normalize(model.v.weight[[stoi[x] for _, x in sel]], dim=1).numpy()
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
# The target, fixed before the run, is the count model's perplexity: at the same
# dimension, the skip-gram must predict held-out contexts better than the explicit
# factorisation of the matrix it factorises implicitly.
run.metric(
    "heldout_context_perplexity",
    ppl["skip-gram"],
    target=ppl[svd_name],
    higher_is_better=False,
    baseline=ppl[svd_name],
    baseline_name=f"{svd_name}, 100 dimensions",
    ablation=ppl["skip-gram, unigram noise"],
    ablation_name="negatives from counts^1",
    fmt=".1f",
    headline=True,
)
run.metric(
    "frequencies_alone_perplexity",
    ppl["frequencies alone"],
    higher_is_better=False,
    fmt=".1f",
)
run.metric(
    "synthetic_skipgram_perplexity",
    syn["skip-gram"],
    higher_is_better=False,
    baseline=syn["frequencies alone"],
    baseline_name="frequencies alone",
    fmt=".1f",
)
run.metric(
    "synthetic_true_perplexity",
    syn["true distribution"],
    higher_is_better=False,
    fmt=".1f",
)
run.metric("final_train_loss", float(np.mean(hist[-50:])), higher_is_better=False)
run.finish()
