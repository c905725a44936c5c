"""
RNN: the language of a last name
================================

A bidirectional GRU reads a last name character by character and guesses which of ten
locales' name lists it comes from (faker's lists for American English, Austrian German,
French, Italian, Spanish, Dutch, Finnish, Swedish, Croatian and Slovak; names found in
more than one list are dropped). A stratified fifth of the names is held out for
testing. The baseline is a multinomial naive Bayes classifier on character 1- to
4-grams, fitted on the same split in the same run with its smoothing chosen by
cross-validation; the target is to beat it. Names of different lengths are batched
together: each batch is padded and packed, never fed one name at a time.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.naive_bayes import MultinomialNB

import toydata
from _example import DEVICE, SMOKE, scale, start
from rnn import CharRNN, encode, predict_proba, train

run = start("rnn")

# %%
# Data
# ----
LOCALES = [
    "en_US",
    "de_AT",
    "fr_FR",
    "it_IT",
    "es_ES",
    "nl_NL",
    "fi_FI",
    "sv_SE",
    "hr_HR",
    "sk_SK",
]
by_locale = toydata.last_names(LOCALES, min_names=200)
names = [n for loc in LOCALES for n in by_locale[loc]]
labels = np.array([k for k, loc in enumerate(LOCALES) for _ in by_locale[loc]])
n_train, n_test, y_train, y_test = train_test_split(
    names, labels, test_size=0.2, stratify=labels, random_state=0
)
if SMOKE:
    n_train, y_train = n_train[:600], y_train[:600]
print("distinct names per locale:", {loc: len(v) for loc, v in by_locale.items()})
print(f"train {len(n_train)}, test {len(n_test)}; e.g. {n_train[:6]}")

# %%
# Baseline: character n-gram naive Bayes
# --------------------------------------
# Counts of every 1- to 4-character substring (names padded by a space, so that
# beginnings and endings count as their own n-grams), multinomial naive Bayes, smoothing
# chosen by 5-fold cross-validation on the training names.
vec = CountVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False)
pad = lambda ns: [f" {n} " for n in ns]  # noqa: E731
x_nb_train, x_nb_test = vec.fit_transform(pad(n_train)), vec.transform(pad(n_test))
nb = GridSearchCV(MultinomialNB(), {"alpha": [0.03, 0.1, 0.3, 1.0]}, cv=5).fit(
    x_nb_train, y_train
)
pred_nb = nb.predict(x_nb_test)
acc_nb = float((pred_nb == y_test).mean())
print(f"naive Bayes (alpha={nb.best_params_['alpha']}): test accuracy {acc_nb:.4f}")

# %%
# Train the RNN
# -------------
# The RNN reads lowercased names (capitals carry little signal and would double the
# alphabet). Characters seen in training get ids (0 is padding, 1 unknown); ``encode``
# pads every name to the longest one and remembers the lengths, and ``train`` cuts each
# shuffled batch to its own longest name before packing it for the GRU.
low_train, low_test = [n.lower() for n in n_train], [n.lower() for n in n_test]
vocab = {c: i + 2 for i, c in enumerate(sorted(set("".join(low_train))))}
ids_train, len_train = encode(low_train, vocab)
ids_test, len_test = encode(low_test, vocab)
y_train_t, y_test_t = torch.tensor(y_train), torch.tensor(y_test)

CONFIG = dict(emb=64, hidden=192, layers=1, dropout=0.3)
torch.manual_seed(0)
model = CharRNN(n_chars=len(vocab) + 2, n_classes=len(LOCALES), **CONFIG)
history = train(
    model,
    ids_train,
    len_train,
    y_train_t,
    epochs=scale(20, 1),
    batch_size=128,
    lr=4e-3,
    device=DEVICE,
)
probs = predict_proba(model, ids_test, len_test, device=DEVICE)
pred = probs.argmax(1).numpy()
acc = float((pred == y_test).mean())
print(
    f"RNN test accuracy {acc:.4f} ({sum(p.numel() for p in model.parameters()):,} "
    f"parameters)"
)

# %%
# Confusion matrix
# ----------------
# Rows are the true locale, columns the RNN's guess, each row normalised to sum to one.
k = len(LOCALES)
conf = np.zeros((k, k))
np.add.at(conf, (y_test, pred), 1)
conf_norm = conf / conf.sum(1, keepdims=True)
fig, ax = plt.subplots(figsize=(7, 5.6))
im = ax.imshow(conf_norm, cmap="Blues", vmin=0, vmax=1)
for i in range(k):
    for j in range(k):
        if conf[i, j]:
            ax.text(
                j,
                i,
                f"{conf_norm[i, j]:.2f}".lstrip("0"),
                ha="center",
                va="center",
                fontsize=7.5,
                color="white" if conf_norm[i, j] > 0.5 else "#1f2937",
            )
ax.set_xticks(range(k), LOCALES, rotation=45, ha="right", fontsize=8)
ax.set_yticks(
    range(k),
    [f"{loc} (n={int(conf[i].sum())})" for i, loc in enumerate(LOCALES)],
    fontsize=8,
)
ax.set(
    xlabel="predicted locale",
    ylabel="true locale",
    title=f"Bidirectional GRU on held-out names: accuracy {acc:.3f}",
)
fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the row")
fig.tight_layout()

# %%
# Per locale, against the baseline
# --------------------------------
per_rnn = [(pred[y_test == c] == c).mean() for c in range(k)]
per_nb = [(pred_nb[y_test == c] == c).mean() for c in range(k)]
fig, (ax1, ax2) = plt.subplots(
    1, 2, figsize=(9, 3.4), gridspec_kw=dict(width_ratios=[1, 2.2])
)
ax1.plot(np.arange(1, len(history) + 1), history, lw=2, color="#2563eb")
ax1.set(xlabel="epoch", ylabel="training loss", title="RNN training loss")
ax1.grid(alpha=0.3)
xs = np.arange(k)
ax2.bar(
    xs - 0.2, per_nb, 0.4, color="#94a3b8", label=f"n-gram naive Bayes ({acc_nb:.3f})"
)
ax2.bar(xs + 0.2, per_rnn, 0.4, color="#2563eb", label=f"bidirectional GRU ({acc:.3f})")
ax2.set_xticks(xs, LOCALES, rotation=45, ha="right", fontsize=8)
ax2.set(ylabel="test accuracy", ylim=(0, 1.05), title="Accuracy per locale")
ax2.legend(fontsize=8, loc="lower left")
fig.tight_layout()

# %%
# A few test names
# ----------------
for i in range(0, len(n_test), max(1, len(n_test) // 12))[:12]:
    top = probs[i].topk(2)
    guess = ", ".join(
        f"{LOCALES[j]} {p:.2f}"
        for p, j in zip(top.values.tolist(), top.indices.tolist())
    )
    mark = "ok" if pred[i] == y_test[i] else f"wrong (is {LOCALES[y_test[i]]})"
    print(f"{n_test[i]:>18}: {guess:<26} {mark}")

# %%
# Metrics
# -------
# The target is the baseline itself: the RNN has to beat naive Bayes on the same test
# names.
run.metric(
    "test_accuracy",
    acc,
    target=acc_nb,
    baseline=acc_nb,
    baseline_name="char 1-4-gram naive Bayes",
    fmt=".4f",
    headline=True,
)
macro = float(np.mean(per_rnn))
run.metric(
    "macro_accuracy",
    macro,
    baseline=float(np.mean(per_nb)),
    baseline_name="naive Bayes",
    fmt=".4f",
)
run.finish()
