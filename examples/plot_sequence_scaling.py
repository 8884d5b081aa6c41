"""
Scaling sensor sequences, with missing readings
===============================================

Recurrent cells squash their inputs through ``tanh`` and logistic gates.
Raw measurements, such as a temperature near 290 kelvin and an air pressure
near 101 000 pascal, saturate those functions from the first step: the
gradients vanish and training stalls. This example trains the same
network on the same sensor sequences, raw and standardised by
:class:`~skrnn.preprocessing.SequenceScaler`, after
:class:`~skrnn.preprocessing.SequenceImputer` has filled the readings that
the sensors missed.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skrnn import RNNRegressor
from skrnn.preprocessing import SequenceImputer, SequenceScaler

# %%
# Sensor sequences of different lengths
# --------------------------------------
#
# Each sequence is a stretch of hourly readings of temperature (K) and
# pressure (Pa) from one station, between 12 and 36 hours long. The target is
# the temperature change over the stretch, in kelvin: the network has to
# compare the last reading with the first. One reading in ten is missing
# (NaN), which the estimators refuse.

rng = np.random.default_rng(0)


def make_station(n_hours):
    temperature = (
        290 + 5 * rng.standard_normal() + np.cumsum(0.4 * rng.standard_normal(n_hours))
    )
    pressure = (
        101_325
        + 300 * rng.standard_normal()
        + np.cumsum(20 * rng.standard_normal(n_hours))
    )
    return np.column_stack([temperature, pressure])


X = [make_station(n) for n in rng.integers(12, 37, size=300)]
y = np.array([x[-1, 0] - x[0, 0] for x in X])
X = [np.where(rng.random(x.shape) < 0.1, np.nan, x) for x in X]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
print(f"{len(X_train)} training and {len(X_test)} test sequences")
print(f"missing readings: {np.isnan(np.concatenate(X)).mean():.1%}")

# %%
# The same network, with and without scaling
# ------------------------------------------
#
# Both pipelines fill the gaps by linear interpolation in time; the second
# also standardises each feature over all steps of all training sequences.
# The scaler learns its statistics in ``fit``, from the training sequences
# only, and applies them to the test sequences.

network = dict(
    hidden_layer_sizes=(16,),
    cell="gru",
    learning_rate_init=0.01,
    max_iter=150,
    n_iter_no_change=30,
    random_state=0,
)
pipelines = {
    "raw": make_pipeline(SequenceImputer(strategy="linear"), RNNRegressor(**network)),
    "scaled": make_pipeline(
        SequenceImputer(strategy="linear"), SequenceScaler(), RNNRegressor(**network)
    ),
}
scores = {}
for name, pipeline in pipelines.items():
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X_train, y_train)
    scores[name] = pipeline.score(X_test, y_test)
    print(
        f"{name:>6}: test R^2 {scores[name]:.3f}, "
        f"fitted in {time.perf_counter() - start:.1f} s"
    )

scaler = pipelines["scaled"][1]
print("learned means:", np.round(scaler.mean_, 1))
print("learned scales:", np.round(scaler.scale_, 1))

# %%
# Training curves
# ---------------
#
# On raw inputs the loss barely moves and training stops early: the pressure
# of about 10^5 drives the gates into saturation, where their gradients are
# almost zero, and the network predicts little more than the mean. On
# standardised inputs the same network learns the temperature change.

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, pipeline in pipelines.items():
    ax.plot(pipeline[-1].loss_curve_, label=f"{name} (test R^2 {scores[name]:.2f})")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()
plt.show()
