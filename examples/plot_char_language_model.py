"""
A character-level language model of Python's documentation
==========================================================

A language model gives the probability of the next character of a text
given the characters before it. Trained on a corpus, it learns the spelling,
the common words and the punctuation of that corpus, and, sampled one
character at a time, it writes text in the same style.

Our corpus ships with Python itself: the documentation strings of a few
standard-library modules, some 50,000 characters of English prose mixed with
code examples. A :class:`~skrnn.SequenceTagger` reading one character per
step learns to predict, at every step, the character that comes next. We
measure it in *bits per character* on documentation it has not read, against
a model that ignores the context, and let it write text at three
temperatures with :meth:`~skrnn.SequenceTagger.sample`.

The exact figures depend on the Python version, whose docstrings change
slightly between releases.
"""

import importlib
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np

from skrnn import SequenceTagger
from skrnn.preprocessing import TextTokenizer

# %%
# The corpus
# ----------
#
# Every docstring of the public functions and classes of eight modules, plus
# the docstring of each module. Every tenth document is held out: the model
# is scored on text it never saw, written in the same style.

MODULES = [
    "collections",
    "difflib",
    "functools",
    "heapq",
    "itertools",
    "json",
    "statistics",
    "textwrap",
]


def module_documents(name):
    """The module's docstring and those of its own public functions and classes."""
    module = importlib.import_module(name)
    documents = [inspect.getdoc(module) or ""]
    for attribute, value in sorted(vars(module).items()):
        # Names imported from other modules are documented there.
        if attribute.startswith("_") or getattr(value, "__module__", None) != name:
            continue
        if inspect.isfunction(value) or inspect.isclass(value):
            documents.append(inspect.getdoc(value) or "")
    return [document for document in documents if document]


documents = [doc for name in MODULES for doc in module_documents(name)]
held_out = [doc for i, doc in enumerate(documents) if i % 10 == 4]
training = [doc for i, doc in enumerate(documents) if i % 10 != 4]
train_text, test_text = "\n\n".join(training), "\n\n".join(held_out)
print(f"{len(documents)} documents: {len(train_text)} characters to train on,")
print(f"{len(test_text)} held out. The start of the training text:\n")
print(train_text[:300])

# %%
# Characters to token ids
# -----------------------
#
# :class:`~skrnn.preprocessing.TextTokenizer` learns the alphabet of the
# training text, lowercased. Characters seen fewer than three times share the
# unknown id 0, so that the model learns how often *something rare* comes
# instead of guessing at each rare character from one or two examples.

tokenizer = TextTokenizer(level="char", min_frequency=3)
train_ids = tokenizer.fit_transform([train_text])[0]
test_ids = tokenizer.transform([test_text])[0]
print(f"{tokenizer.n_tokens_} token ids:", repr("".join(tokenizer.tokens_[1:])))

# %%
# Next-character targets
# ----------------------
#
# The training text is cut into windows of 64 characters: the input ``X`` is
# a window of ids and its labels ``y`` are the same ids shifted by one, the
# character that follows each step. Passing the ids as float32 (they are
# still whole numbers) makes the network compute in float32, about twice as
# fast as in float64. ``X`` has shape ``(n_windows, 64, 1)``, one id per step,
# so that the model later reads sequences of any length.

WINDOW = 64
n_windows = (len(train_ids) - 1) // WINDOW
X = train_ids[: n_windows * WINDOW].reshape(n_windows, WINDOW, 1).astype(np.float32)
y = train_ids[1 : n_windows * WINDOW + 1].reshape(n_windows, WINDOW)
print(f"X: {X.shape}, y: {y.shape}")

# %%
# Bits per character
# ------------------
#
# A model that gives the next character probability ``p`` needs ``-log2 p``
# bits to encode it; the mean over a text is its *bits per character*, lower
# is better. The baseline is the unigram model, the frequency of each
# character in the training text (plus one, so that nothing has probability
# zero), which ignores the context. The recurrent model reads the held-out
# text as one sequence, carrying its state from the first character to the
# last.


def bits_per_character(model, ids):
    """Mean ``-log2`` probability of each character given those before it."""
    proba = model.predict_proba([ids[:-1, np.newaxis].astype(np.float32)])[0]
    # classes_ are all the ids, in order, so a column is an id.
    return -np.mean(np.log2(proba[np.arange(len(ids) - 1), ids[1:]]))


counts = np.bincount(train_ids, minlength=tokenizer.n_tokens_) + 1.0
unigram_bits = -np.mean(np.log2(counts[test_ids[1:]] / counts.sum()))
print(f"unigram model: {unigram_bits:.3f} bits per character on the held-out text")

# %%
# Training, one epoch at a time
# -----------------------------
#
# The model is a unidirectional tagger (a language model may not read the
# future) with a learned embedding of 16 numbers per character, one LSTM
# layer of 96 units, and dropout before the output layer against
# overfitting a corpus this small. :meth:`~skrnn.SequenceTagger.partial_fit`
# trains one epoch per call, so that we can score the held-out text after
# each one. The first call gets the full list of labels (``classes``): every
# id, so that even characters the training labels never hold keep some
# probability.

model = SequenceTagger(
    hidden_layer_sizes=(96,),
    cell="lstm",
    bidirectional=False,
    embedding_dim=16,
    dropout=0.2,
    learning_rate_init=0.01,
    batch_size=32,
    random_state=0,
)
classes = np.arange(tokenizer.n_tokens_)
held_out_bits = []
start = time.perf_counter()
for _ in range(20):
    model.partial_fit(X, y, classes=classes)
    held_out_bits.append(bits_per_character(model, test_ids))
print(f"20 epochs in {time.perf_counter() - start:.1f} s")
# The loss is the mean log-loss in nats; divide by log(2) for bits.
train_bits = np.asarray(model.loss_curve_) / np.log(2)
print(f"training text: {train_bits[-1]:.3f} bits per character (last epoch)")
print(f"held-out text: {held_out_bits[-1]:.3f} bits per character")
print(f"unigram model: {unigram_bits:.3f} bits per character")

# %%
# The recurrent model needs well over a bit per character less than the
# unigram model on text it has not read. The gap between the training and
# held-out curves is what the model has memorised of its 50,000 characters
# rather than learned about the style.

epochs = np.arange(1, len(held_out_bits) + 1)
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.plot(epochs, train_bits, "o-", ms=3, label="training text (loss during epoch)")
ax.plot(epochs, held_out_bits, "o-", ms=3, label="held-out text")
ax.axhline(unigram_bits, color="0.4", ls="--", label="unigram model, held-out text")
ax.set(
    xlabel="epoch",
    ylabel="bits per character",
    title="A character-level LSTM language model",
    ylim=(0, None),
)
ax.legend()
plt.show()

# %%
# Writing text
# ------------
#
# :meth:`~skrnn.SequenceTagger.sample` reads a seed, draws the next character
# from the predicted distribution, feeds it back and repeats, carrying the
# recurrent state. The temperature divides the log-probabilities before each
# draw: at 0.5 the model keeps to its most likely choices (common words,
# sometimes repeated), at 1.0 it samples its own distribution, at 1.5 rare
# characters get their chance and the text falls apart. ``random_state``
# makes the draws repeat.

seed_text = "return the "
seed = tokenizer.transform([seed_text])[0]
for temperature in (0.5, 1.0, 1.5):
    generated = model.sample(seed, 300, temperature=temperature, random_state=0)
    text = tokenizer.inverse_transform([np.concatenate([seed, generated])])[0]
    print(f"--- temperature {temperature} ---\n{text}\n")
