"""
Rewriting dates: a translator in a Pipeline, and where it looks
===============================================================

A :class:`~sklearn.pipeline.Pipeline` of a
:class:`~skrnn.preprocessing.TextTokenizer` and a
:class:`~skrnn.SequenceTranslator` with its defaults (attention included)
learns to rewrite dates written in eight formats, ``"Saturday, July 3,
1999"`` or ``"03.07.1999"``, as ISO dates, ``"1999-07-03"``, from raw strings.
The attention weights, read from inside the pipeline, show which input
characters each output character comes from.
"""

import datetime

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from skrnn import SequenceTranslator
from skrnn.metrics import sequence_accuracy
from skrnn.preprocessing import TextTokenizer

# %%
# Dates in eight formats
# ----------------------
#
# 2,000 different dates between 1950 and 2049, each written in a format drawn
# at random; half to train on, half held out.

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FORMATS = [
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{d.day:02d}-{MONTHS[d.month - 1][:3]}-{d.year}",
    lambda d: f"{DAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
]

rng = np.random.RandomState(0)
start = datetime.date(1950, 1, 1)
offsets = rng.choice(36525, size=2000, replace=False)
dates = [start + datetime.timedelta(days=int(k)) for k in offsets]
X = [FORMATS[rng.randint(len(FORMATS))](d) for d in dates]
Y = [d.isoformat() for d in dates]
X_train, X_test, Y_train, Y_test = X[:1000], X[1000:], Y[:1000], Y[1000:]
for source, target in zip(X[:4], Y[:4]):
    print(f"{source!r:>30} -> {target!r}")

# %%
# The pipeline, with the translator's defaults
# --------------------------------------------
#
# Only ``embedding_dim`` is set: the tokenizer's character ids need an
# embedding. The translator's defaults (``attention="general"``,
# ``learning_rate_init=0.003``, 100 LSTM units) come from the table in the
# user guide (:ref:`ug_translation_defaults`).

model = make_pipeline(
    TextTokenizer(), SequenceTranslator(embedding_dim=16, random_state=0)
)
model.fit(X_train, Y_train)
predicted = model.predict(X_test)
print(f"epochs: {model[-1].n_iter_}")
print(f"held-out exact match: {sequence_accuracy(Y_test, predicted):.3f}")

# %%
# Where the decoder looks
# -----------------------
#
# :meth:`~skrnn.SequenceTranslator.attention_weights` takes token ids, the
# translator's own input: the steps before it in the pipeline,
# ``model[:-1]``, make them from the strings. Each row is an output character
# (the last one the end token), each column an input character. The year's
# digits are read from wherever the format puts them, and the month mostly
# from the end of its name or from its digits.

examples = ["Saturday, July 3, 1999", "03.07.1999", "Jul 3 1999", "1999/07/03"]
fig, axes = plt.subplots(2, 2, figsize=(10, 7), layout="constrained")
for ax, source in zip(axes.ravel(), examples):
    output = model.predict([source])[0]
    weights = model[-1].attention_weights(model[:-1].transform([source]))[0]
    ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source)), list(source))
    ax.set_yticks(range(len(weights)), [*output, "<end>"])
    ax.set_title(f"{source!r} -> {output!r}")
fig.supxlabel("input character")
fig.supylabel("output character")
plt.show()
