"""
Convolution in front of the recurrence: GunPoint
================================================

A temporal convolution before the recurrent layer reads short windows of the
raw series and hands the recurrence features instead of single values; with a
stride, it also hands it fewer steps. Here an :class:`~skrnn.RNNClassifier`
with ``conv_layers`` and the same classifier without them learn the GunPoint
set of the UCR archive (an actor's hand moving up and down: drawing a gun
from a holster, or pointing a finger; 150 steps per series, 50 for training
and 150 for testing), which the ``aeon`` package ships
(``pip install aeon``). Both get the same recurrent layer, training budget
and seed; we compare their test accuracy and training time, then look at
what the learned filters respond to.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_gunpoint
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNClassifier

X_train, y_train = load_gunpoint(split="train")
X_test, y_test = load_gunpoint(split="test")
# aeon gives (n_series, n_channels, n_steps); skrnn reads batch-first steps.
X_train = X_train.transpose(0, 2, 1)
X_test = X_test.transpose(0, 2, 1)
mean, scale = X_train.mean(), X_train.std()
X_train = (X_train - mean) / scale
X_test = (X_test - mean) / scale
print(f"{len(X_train)} training and {len(X_test)} test series of "
      f"{X_train.shape[1]} steps; classes {sorted(set(y_train.tolist()))}")  # fmt: skip

# %%
# Two classifiers
# ---------------
#
# Both read the series with a GRU of 32 units. The second first convolves it
# with 16 filters of width 7 and stride 2, each followed by a ReLU: output
# step ``t`` sees input steps ``2t - 3`` to ``2t + 3`` ("same" padding), and
# the GRU runs over ``ceil(150 / 2) = 75`` steps of 16 features.

settings = dict(
    cell="gru", hidden_layer_sizes=(32,), batch_size=10, learning_rate_init=3e-3,
    max_iter=60, random_state=0,
)  # fmt: skip
models = {
    "GRU": RNNClassifier(**settings),
    "Conv1d + GRU": RNNClassifier(conv_layers=((16, 7, 2),), **settings),
}
scores, times = {}, {}
for name, model in models.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        times[name] = time.perf_counter() - start
    scores[name] = model.score(X_test, y_test)
    print(f"{name:>13}: test accuracy {scores[name]:.3f}, "
          f"trained in {times[name]:.1f} s")  # fmt: skip

# %%
# Side by side
# ------------

fig, axes = plt.subplots(1, 2, figsize=(8, 3))
names = list(models)
axes[0].bar(names, [scores[n] for n in names], color=["tab:gray", "tab:blue"])
axes[0].set_ylim(0.5, 1.0)
axes[0].set_ylabel("test accuracy")
axes[1].bar(names, [times[n] for n in names], color=["tab:gray", "tab:blue"])
axes[1].set_ylabel("training time (s)")
fig.tight_layout()

# %%
# What the filters respond to
# ---------------------------
#
# The convolution's weights are in PyTorch's ``Conv1d`` layout,
# ``conv.0.weight`` of shape ``(filters, in_channels, width)``. Convolving a
# test series with them (and the ReLU) by hand shows the features the GRU
# reads. Each ReLU keeps one side of its filter's response: here the
# strongest filters split the series by level, some firing while the hand is
# raised and others while it is down, and they hand over where the hand rises
# and falls. The GRU reads those features at every second step.

weights = models["Conv1d + GRU"].get_weights()
W, b = weights["conv.0.weight"], weights["conv.0.bias"]
filters, _, width = W.shape
series = X_test[0, :, 0]
padded = np.pad(series, width // 2)
windows = np.lib.stride_tricks.sliding_window_view(padded, width)[::2]
responses = np.maximum(windows @ W[:, 0, :].T + b, 0)  # (75, filters)
strongest = np.argsort(responses.max(axis=0))[::-1][:4]

fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
axes[0].plot(np.arange(len(series)), series, color="black")
axes[0].set_title(f"a test series (class {y_test[0]})")
for k in strongest:
    axes[1].plot(2 * np.arange(len(responses)), responses[:, k], label=f"filter {k}")
axes[1].set_title("the four strongest filters' responses (every second step)")
axes[1].set_xlabel("step")
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()
