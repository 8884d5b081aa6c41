"""
Tagging every step of a sequence
================================

:class:`~skrnn.SequenceTagger` predicts one label per time step. Here each
step of a noisy signal is tagged as part of a *rise*, a *fall*, a *peak* or a
*trough*. Whether a step is a peak depends on the value before it **and** on
the value after it, so the right label needs both past and future context.

A bidirectional network (the tagger's default) reads every sequence forwards
and backwards and sees both; a unidirectional one reads the past only and can
at best guess whether the signal is about to turn. We train both and compare
their per-step and per-sequence accuracy.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from skrnn import SequenceTagger
from skrnn.metrics import (
    flat_accuracy_score,
    flat_classification_report,
    sequence_accuracy_score,
)

# %%
# Data: turning points of a noisy signal
# --------------------------------------
#
# Every sequence has its own length (8 to 24 steps), so ``X`` is a list of
# arrays of shape ``(n_steps, 1)`` and ``y`` a list of label arrays of the same
# lengths: no padding is needed. A step is a *peak* if it is higher than both
# neighbours, a *trough* if it is lower than both, and otherwise part of a
# *rise* or a *fall*. The first and last steps only have one neighbour.

LABELS = np.array(["fall", "peak", "rise", "trough"])


def make_signals(n_sequences, seed):
    """Random signals and the turning-point label of each step."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for length in rng.integers(8, 25, size=n_sequences):
        x = rng.normal(size=length)
        # A missing neighbour never makes a step look lower than it.
        padded = np.pad(x, 1, constant_values=-np.inf)
        above_previous = x > padded[:-2]
        above_next = x > padded[2:]
        labels = np.where(
            above_previous,
            np.where(above_next, "peak", "rise"),
            np.where(above_next, "fall", "trough"),
        )
        X.append(x[:, np.newaxis])
        y.append(labels)
    return X, y


X_train, y_train = make_signals(300, seed=0)
X_test, y_test = make_signals(200, seed=1)
print(f"{len(X_train)} training sequences, {sum(map(len, X_train))} steps")
print("first sequence:", " ".join(y_train[0]))

# %%
# Two taggers: reading both ways, and the past only
# --------------------------------------------------
#
# Both use one GRU layer of 16 units per direction. Early stopping holds out
# 10% of the training sequences and stops when their per-step accuracy stops
# improving.

params = dict(
    hidden_layer_sizes=(16,),
    cell="gru",
    learning_rate_init=0.01,
    max_iter=200,
    early_stopping=True,
    random_state=0,
)
taggers = {
    "bidirectional": SequenceTagger(**params),
    "unidirectional": SequenceTagger(bidirectional=False, **params),
}
predictions = {}
for name, tagger in taggers.items():
    tagger.fit(X_train, y_train)
    # List in, list out: one label array per test sequence.
    predictions[name] = tagger.predict(X_test)
    print(
        f"{name:>14}: {tagger.n_iter_:3d} epochs, "
        f"step accuracy {flat_accuracy_score(y_test, predictions[name]):.3f}, "
        f"sequence accuracy {sequence_accuracy_score(y_test, predictions[name]):.3f}"
    )

# %%
# Per-label scores
# ----------------
#
# The unidirectional tagger knows whether the signal went up into the current
# step, but not whether it goes on up: it mixes *rise* with *peak* and *fall*
# with *trough*. The bidirectional tagger only errs where two neighbouring
# values are nearly equal.

for name, pred in predictions.items():
    print(name)
    print(flat_classification_report(y_test, pred, digits=3))

# %%
# Inputs, true and predicted labels
# ---------------------------------
#
# For two test sequences: the signal with its true peaks (up triangles) and
# troughs (down triangles), then one coloured strip per labelling (the truth
# and each tagger), one cell per step.

# One colour per label, in the (sorted) order of LABELS and tagger.classes_.
colors = ListedColormap(["#4c72b0", "#c44e52", "#ccb974", "#55a868"])
strip_names = ["true", *taggers]
fig, axes = plt.subplots(
    2, 2, figsize=(10, 5), sharex="col", gridspec_kw={"height_ratios": [2, 1.2]}
)
for column, index in enumerate([0, 1]):
    x, truth = X_test[index][:, 0], y_test[index]
    steps = np.arange(len(x))
    top, bottom = axes[0, column], axes[1, column]
    top.plot(steps, x, color="0.4", marker="o", markersize=3)
    for label, marker in (("peak", "^"), ("trough", "v")):
        at = truth == label
        color = colors(int(np.searchsorted(LABELS, label)))
        top.scatter(steps[at], x[at], s=60, marker=marker, color=color, zorder=3)
    top.set_title(f"Test sequence {index}")
    rows = [truth] + [predictions[name][index] for name in taggers]
    codes = np.array([np.searchsorted(LABELS, row) for row in rows])
    bottom.imshow(codes, aspect="auto", cmap=colors, vmin=-0.5, vmax=len(LABELS) - 0.5)
    bottom.set_yticks(range(len(strip_names)), strip_names)
    bottom.set_xlabel("step")
axes[0, 0].set_ylabel("input")
handles = [plt.Rectangle((0, 0), 1, 1, color=colors(i)) for i in range(len(LABELS))]
fig.legend(handles, LABELS, loc="lower center", ncol=len(LABELS), frameon=False)
fig.tight_layout(rect=(0, 0.06, 1, 1))
plt.show()
