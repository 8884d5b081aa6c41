"""
Early classification of a live stream
=====================================

A model that reads a sequence as it arrives need not wait for its end: once
the probability of one class is high enough, the sequence is *decided*. Here
an :class:`~skrnn.RNNClassifier` tells three kinds of noisy oscillation apart
by their frequency. A :meth:`~skrnn.RNNClassifier.stream` feeds it the steps
of a new sequence one at a time; after each step the stream returns the class
probabilities, equal to what ``predict_proba`` gives for the steps seen so
far, at the cost of one step of the network.

We plot those probabilities step by step and mark the step where the winning
class first crosses a threshold.
"""

import matplotlib.pyplot as plt
import numpy as np

from skrnn import RNNClassifier

# %%
# Data: oscillations of three frequencies
# ---------------------------------------
#
# Each sequence holds 40 noisy steps of a sine wave of random phase whose
# frequency gives its class: slow, medium or fast. One period of the slow
# wave takes 20 steps, so the first few steps of a sequence say little.

CLASSES = np.array(["slow", "medium", "fast"])
FREQUENCIES = np.array([0.05, 0.1, 0.2])  # cycles per step


def make_waves(n_sequences, seed, n_steps=40):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n_sequences)
    phase = rng.uniform(0, 2 * np.pi, size=(n_sequences, 1))
    t = np.arange(n_steps)
    waves = np.sin(2 * np.pi * FREQUENCIES[labels, None] * t + phase)
    waves += rng.normal(scale=0.1, size=waves.shape)
    return waves[:, :, None], CLASSES[labels]


X_whole, y_train = make_waves(300, seed=0)
X_test, y_test = make_waves(100, seed=1)

# %%
# A unidirectional classifier, trained on prefixes
# ------------------------------------------------
#
# A stream reads the past only, so the model is unidirectional (the
# classifier's default). A model trained on whole sequences only has never
# been asked about a few steps, and tends to answer them with too much
# confidence. Training on prefixes of random lengths (a ragged list, no
# padding needed) teaches it how much a short prefix says.

rng = np.random.default_rng(2)
X_train = [x[: rng.integers(5, 41)] for x in X_whole]
clf = RNNClassifier(
    hidden_layer_sizes=(16,),
    cell="gru",
    max_iter=60,
    learning_rate_init=0.01,
    random_state=0,
).fit(X_train, y_train)
print(f"accuracy on whole test sequences: {clf.score(X_test, y_test):.2f}")

# %%
# One sequence, step by step
# --------------------------
#
# The stream returns one row of probabilities per pushed step. Here the steps
# arrive one at a time, as from a sensor; the sequence is decided at the
# first step where a class reaches the threshold.

THRESHOLD = 0.95


def decide(stream, sequence):
    """Push the steps one by one; the probabilities and the deciding step."""
    stream.reset()
    proba = np.concatenate([stream.push(step[None]) for step in sequence])
    decided = np.flatnonzero(proba.max(axis=1) >= THRESHOLD)
    return proba, (int(decided[0]) if decided.size else None)


stream = clf.stream()
index = int(np.flatnonzero(y_test == "slow")[0])
proba, step = decide(stream, X_test[index])

fig, (ax_signal, ax_proba) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
ax_signal.plot(X_test[index, :, 0], color="black", lw=1)
ax_signal.set_ylabel("signal")
ax_signal.set_title(f"A '{y_test[index]}' sequence, streamed step by step")
for k, name in enumerate(clf.classes_):  # columns in the order of classes_
    ax_proba.plot(proba[:, k], label=name, lw=2)
ax_proba.axhline(THRESHOLD, color="grey", ls=":", lw=1)
if step is not None:
    winner = clf.classes_[proba[step].argmax()]
    for ax in (ax_signal, ax_proba):
        ax.axvline(step, color="red", ls="--", lw=1)
    ax_proba.annotate(
        f"decided: {winner}\nat step {step}",
        (step, THRESHOLD),
        xytext=(step + 2, 0.45),
        arrowprops={"arrowstyle": "->"},
    )
ax_proba.set_ylim(-0.02, 1.02)
ax_proba.set_xlabel("step")
ax_proba.set_ylabel("probability")
ax_proba.legend(loc="center right")
fig.tight_layout()

# %%
# The last row of the stream's output is ``predict_proba`` on the whole
# sequence:

print(np.allclose(proba[-1], clf.predict_proba(X_test[index : index + 1])[0]))

# %%
# How early, and how right?
# -------------------------
#
# Over the test set: the step at which each sequence is decided (its last
# step if it never is), and the accuracy of the early decisions beside that
# of the decisions on whole sequences. Deciding early trades accuracy for
# time: a higher threshold waits longer and errs less. Many streams at once:
# one stream object with ``n_streams`` serves all test sequences, one step
# per push.

many = clf.stream(n_streams=len(X_test))
steps = np.concatenate([many.push(X_test[:, t : t + 1]) for t in range(40)], axis=1)
confident = steps.max(axis=2) >= THRESHOLD
decided_at = np.where(confident.any(axis=1), confident.argmax(axis=1), 39)
early = clf.classes_[steps[np.arange(len(X_test)), decided_at].argmax(axis=1)]
print(f"median deciding step: {np.median(decided_at):.0f} of 40")
print(f"accuracy of early decisions: {np.mean(early == y_test):.2f}")

fig, ax = plt.subplots(figsize=(7, 3))
for name in clf.classes_:
    ax.hist(decided_at[y_test == name], bins=np.arange(0, 41, 2), alpha=0.6,
            label=name)  # fmt: skip
ax.set_xlabel("deciding step")
ax.set_ylabel("sequences")
ax.set_title("When each test sequence is decided")
ax.legend()
fig.tight_layout()
plt.show()
