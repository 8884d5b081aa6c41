"""
Reversing strings with attention
================================

:class:`~skrnn.SequenceTranslator` maps a sequence to another sequence of its
own length. Here the task is to reverse strings of 3 to 12 letters. Without
attention, the decoder has to rebuild the whole input from the encoder's final
state, a fixed-size summary that holds short strings better than long ones.
With attention, each output step looks back at every input step and only has
to find the right one: it should read the input from its last letter to its
first, which the heat map of the attention weights shows.
"""

import matplotlib.pyplot as plt
import numpy as np

from skrnn import SequenceTranslator
from skrnn.metrics import exact_match_score

# %%
# Data: random strings and their reversals
# ----------------------------------------
#
# Inputs are token ids (``embedding_dim`` makes the translator learn an
# embedding of them); targets are the reversed strings, so predictions come
# back as strings.

ALPHABET = "abcdefgh"
rng = np.random.RandomState(0)


def make_words(n):
    return [
        "".join(rng.choice(list(ALPHABET), size=rng.randint(3, 13))) for _ in range(n)
    ]


def to_ids(words):
    return [np.array([ALPHABET.index(c) for c in w], dtype=np.float32) for w in words]


train_words, test_words = make_words(3000), make_words(500)
X_train, X_test = to_ids(train_words), to_ids(test_words)
Y_train = [w[::-1] for w in train_words]
Y_test = [w[::-1] for w in test_words]

# %%
# Two translators, with and without attention
# -------------------------------------------

common = dict(
    hidden_layer_sizes=(64,), embedding_dim=16, batch_size=64,
    learning_rate_init=3e-3, max_iter=15, random_state=0,
)  # fmt: skip
models = {
    "attention='general'": SequenceTranslator(attention="general", **common),
    "no attention": SequenceTranslator(**common),
}
predictions = {}
for name, model in models.items():
    model.fit(X_train, Y_train)
    predictions[name] = model.predict(X_test)
    print(f"{name}: exact match {exact_match_score(Y_test, predictions[name]):.3f}")

# %%
# Exact match by input length
# ---------------------------
#
# Both are near perfect on short strings; without attention the accuracy
# falls as the strings grow.

lengths = np.array([len(w) for w in test_words])
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, predicted in predictions.items():
    right = np.array([p == t for p, t in zip(predicted, Y_test)])
    steps = np.arange(3, 13)
    ax.plot(steps, [right[lengths == n].mean() for n in steps], "o-", label=name)
ax.set_xlabel("input length")
ax.set_ylabel("exact match")
ax.set_ylim(0, 1.05)
ax.legend()
fig.tight_layout()

# %%
# Where the decoder looks
# -----------------------
#
# :meth:`~skrnn.SequenceTranslator.attention_weights` gives one row per
# output step (the last one emits the end token) over the input steps. The
# anti-diagonal says that output step ``t`` reads input step ``T - 1 - t``.

model = models["attention='general'"]
word = "abcdefghab"
weights = model.attention_weights(to_ids([word]))[0]
output = model.predict(to_ids([word]))[0]
fig, ax = plt.subplots(figsize=(5, 5))
ax.imshow(weights, cmap="viridis")
ax.set_xticks(range(len(word)), list(word))
ax.set_yticks(range(len(weights)), [*output, "<end>"])
ax.set_xlabel("input")
ax.set_ylabel("output")
ax.set_title(f"{word!r} -> {output!r}")
fig.tight_layout()
plt.show()
