"""
Vanishing gradients made visible: the adding problem as sequences grow
======================================================================

Hochreiter and Schmidhuber's *adding problem* is a classic test of memory in
recurrent networks. Each step of a sequence carries a random value and a
marker; exactly two steps are marked, and the target is the sum of their
values. The first marked value can sit anywhere in the first half of the
sequence, so the network must hold it for up to ``T`` steps while ignoring
every other value, and add the second when it comes.

What makes this hard is learning, not remembering: to find out that the first
marked value matters, the gradient of the error at the end must travel back
through every step in between. In an Elman network (``cell='rnn'``) it is
multiplied by the recurrent weights and the slope of ``tanh`` at each step,
and shrinks geometrically on the way: it *vanishes*. LSTM and GRU cells add
their new state to the old one through gates that can stay open, so the
gradient passes almost unchanged.

We train the three cells with the same budget on sequences of 10, 25, 50 and
100 steps, and compare them with the best model that remembers nothing:
predicting the mean.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_squared_error

from skrnn import RNNRegressor
from skrnn.datasets import make_adding_problem

# %%
# Data
# ----
#
# For each length, ``X`` has shape ``(n_sequences, T, 2)``: the values in
# the first feature, the markers in the second. The sum of two values uniform
# in [0, 1] has variance 1/6, about 0.167, the mean squared error of
# predicting the mean. float32 input makes the networks compute in float32,
# about twice as fast as in float64.

LENGTHS = [10, 25, 50, 100]
CELLS = ["rnn", "lstm", "gru"]

data = {}
for n_steps in LENGTHS:
    X_train, y_train = make_adding_problem(1000, n_steps, random_state=0)
    X_test, y_test = make_adding_problem(500, n_steps, random_state=1)
    data[n_steps] = (
        X_train.astype(np.float32),
        y_train,
        X_test.astype(np.float32),
        y_test,
    )
baseline = {
    n_steps: mean_squared_error(y_test, np.full_like(y_test, y_train.mean()))
    for n_steps, (_, y_train, _, y_test) in data.items()
}
print("mean-prediction MSE:", {T: round(mse, 3) for T, mse in baseline.items()})

# %%
# Three cells, four lengths, one budget
# -------------------------------------
#
# Each network has one layer of 32 units and trains for 45 epochs of Adam at
# a step size of 0.01, ten times the default, which shortens the plateau
# described below. ``n_iter_no_change=np.inf`` keeps training through that
# plateau instead of stopping at the first epochs without progress. The
# budget ends before the loss of the successful networks has flattened, which
# scikit-learn reports as a ``ConvergenceWarning`` that we silence.

results, curves = {}, {}
start = time.perf_counter()
for n_steps, (X_train, y_train, X_test, y_test) in data.items():
    for cell in CELLS:
        model = RNNRegressor(
            hidden_layer_sizes=(32,),
            cell=cell,
            learning_rate_init=0.01,
            max_iter=45,
            n_iter_no_change=np.inf,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            model.fit(X_train, y_train)
        results[cell, n_steps] = mean_squared_error(y_test, model.predict(X_test))
        # loss_ is half the squared error plus a small L2 penalty.
        curves[cell, n_steps] = 2 * np.asarray(model.loss_curve_)
print(f"12 networks trained in {time.perf_counter() - start:.0f} s\n")

print("test MSE    " + "".join(f"T={T:<8}" for T in LENGTHS))
for cell in CELLS:
    print(f"{cell:<12}" + "".join(f"{results[cell, T]:<10.4f}" for T in LENGTHS))
print(f"{'baseline':<12}" + "".join(f"{baseline[T]:<10.4f}" for T in LENGTHS))

# %%
# At 10 steps all three cells learn the task. From 25 steps on, the Elman
# network stays at the baseline: it predicts about the mean whatever the
# sequence, because its gradient never tells it which early value to keep.
# LSTM and GRU solve every length, with errors at least fifty times below
# the baseline.
#
# On the right, the training error epoch by epoch at 100 steps. The LSTM and
# GRU losses first sit on a plateau at the baseline: the networks predict the
# mean while the gradient slowly picks up which values the markers point at.
# Then the loss falls by two orders of magnitude within a few epochs. The
# plateau grows with the length of the sequences, and at 100 steps the LSTM
# spends two thirds of its budget on it; the Elman network never leaves it.

fig, (ax_length, ax_curve) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for cell in CELLS:
    ax_length.semilogy(LENGTHS, [results[cell, T] for T in LENGTHS], "o-", label=cell)
ax_length.semilogy(
    LENGTHS, [baseline[T] for T in LENGTHS], "--", color="0.4", label="predict the mean"
)
ax_length.set(
    xlabel="sequence length T",
    ylabel="test MSE",
    title="Remembering across T steps",
    xticks=LENGTHS,
)
ax_length.legend()
longest = LENGTHS[-1]
for cell in CELLS:
    curve = curves[cell, longest]
    ax_curve.semilogy(np.arange(1, len(curve) + 1), curve, label=cell)
ax_curve.axhline(baseline[longest], color="0.4", ls="--", label="predict the mean")
ax_curve.set(
    xlabel="epoch", ylabel="training MSE", title=f"Learning curves at T={longest}"
)
ax_curve.legend()
plt.show()
