"""
Quickstart
==========

skrnn's estimators work like scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor` and
:class:`~sklearn.neural_network.MLPClassifier`, except that each sample is a
sequence. This example fits

1. an :class:`~skrnn.RNNRegressor` that reads the last 50 values of a cosine
   wave and predicts the next one, and
2. an :class:`~skrnn.RNNClassifier` that reads each image of scikit-learn's
   handwritten digits as a sequence of 8 rows of 8 pixels, inside a
   :class:`~sklearn.pipeline.Pipeline` tuned by
   :class:`~sklearn.model_selection.GridSearchCV`,

and plots the forecast errors and the loss curves. Run as a script, it
shows the figure in a window; ``python examples/quickstart.py quickstart.png``
writes it to that file instead (any format matplotlib knows by the suffix).
"""

import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrnn import RNNClassifier, RNNRegressor

# %%
# Predicting the next value of a series
# -------------------------------------
#
# A 2-D array is a table of univariate sequences, one step per column, so the
# sliding windows of a series can be passed as they are: row ``i`` holds
# values ``i`` to ``i + 49`` and its target is value ``i + 50``. The last 20%
# of the windows, later in time than all the others, are held out.

WIDTH = 50
series = np.cos(0.1 * np.arange(1200))
X = np.lib.stride_tricks.sliding_window_view(series[:-1], WIDTH)
y = series[WIDTH:]
n_train = int(0.8 * len(X))
X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
print(f"{X_train.shape[0]} training windows of {X_train.shape[1]} steps")

# %%
# One LSTM layer of 32 units (the default cell). Early stopping holds out 10%
# of the training windows and stops once their :math:`R^2` has not improved
# for three epochs, then restores the best weights.

regressor = RNNRegressor(
    hidden_layer_sizes=(32,),
    early_stopping=True,
    n_iter_no_change=3,
    max_iter=50,
    random_state=0,
)
regressor.fit(X_train, y_train)
print(f"stopped after {regressor.n_iter_} epochs")
print(f"held-out R^2: {regressor.score(X_test, y_test):.5f}")

# %%
# The scores above are for one step ahead, from true past values. A harder
# test is to let the model run free: start from the first held-out window and
# feed each prediction back in as the newest value.

n_free = 200
window = list(X_test[0])
free_running = []
for _ in range(n_free):
    next_value = regressor.predict(np.array(window[-WIDTH:])[np.newaxis])[0]
    free_running.append(next_value)
    window.append(next_value)
free_running = np.array(free_running)
free_error = np.abs(free_running - y_test[:n_free]).mean()
print(f"free-running mean absolute error over {n_free} steps: {free_error:.4f}")

# %%
# Classifying digits read row by row
# ----------------------------------
#
# The classifier takes 3-D input ``(n_sequences, n_steps, n_features)``. A
# :class:`~sklearn.preprocessing.FunctionTransformer` turns the flat 64-pixel
# rows of the digits data into 8 steps of 8 pixels scaled to [0, 1], so the
# whole model is one pipeline that takes the data as scikit-learn ships it.


def pixel_rows(images):
    """Read flat 8x8 images as sequences of 8 rows of 8 pixels in [0, 1]."""
    return np.asarray(images).reshape(-1, 8, 8) / 16.0


digits_X, digits_y = load_digits(return_X_y=True)
Xd_train, Xd_test, yd_train, yd_test = train_test_split(
    digits_X, digits_y, test_size=0.25, stratify=digits_y, random_state=0
)
pipeline = make_pipeline(
    FunctionTransformer(pixel_rows),
    RNNClassifier(learning_rate_init=0.01, max_iter=15, random_state=0),
)

# %%
# The grid search compares two layer sizes by 3-fold cross-validation on the
# training set, then refits the best on all of it. Fifteen epochs are enough
# for this data although the loss is still falling, so the warning that says
# so is silenced.

search = GridSearchCV(
    pipeline, {"rnnclassifier__hidden_layer_sizes": [(16,), (32,)]}, cv=3
)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    search.fit(Xd_train, yd_train)
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"]
):
    print(f"{params}: cross-validated accuracy {score:.3f}")
print(f"test accuracy of the best pipeline: {search.score(Xd_test, yd_test):.3f}")

# %%
# Forecast errors and loss curves
# -------------------------------
#
# Top: the error of the one-step-ahead predictions and of the free-running
# forecast on the held-out part of the wave (the predictions themselves lie on
# the wave, too close to tell apart at the wave's scale). Both stay near
# 1e-3 on values in [-1, 1]: fed its own predictions for 200 steps, the
# free-running forecast drifts no further than the one-step predictions from
# true values. Bottom: the loss of each
# model per epoch. The regressor's training loss includes the L2 penalty
# (``alpha``), which is all that is left of it once the fit is this close; the
# validation loss, on the windows held out for early stopping, has no penalty.

classifier = search.best_estimator_[-1]
test_steps = np.arange(n_train, n_train + len(y_test)) + WIDTH
one_step_error = np.abs(regressor.predict(X_test) - y_test)
free_running_error = np.abs(free_running - y_test[:n_free])

fig = plt.figure(figsize=(10, 6.5), layout="constrained")
top, bottom_left, bottom_right = fig.subplot_mosaic(
    [["top", "top"], ["l", "r"]]
).values()
top.semilogy(test_steps, one_step_error, color="C0", lw=1.5, label="one step ahead")
top.semilogy(
    test_steps[:n_free], free_running_error, "--", color="C3", lw=1.5,
    label=f"free running (first {n_free} steps)",
)  # fmt: skip
top.set(
    xlabel="time step",
    ylabel="absolute error",
    title="Forecast error on the held-out part of the cosine wave (values in [-1, 1])",
)
top.legend(loc="lower right", ncols=2)

epochs = np.arange(1, regressor.n_iter_ + 1)
bottom_left.semilogy(
    epochs, regressor.loss_curve_, "o-", label="training (with L2 penalty)"
)
bottom_left.semilogy(
    epochs, regressor.validation_loss_curve_, "s--", label="validation"
)
bottom_left.set(
    xlabel="epoch", ylabel="loss (half squared error)", title="RNNRegressor"
)
bottom_left.legend()

epochs = np.arange(1, classifier.n_iter_ + 1)
bottom_right.semilogy(epochs, classifier.loss_curve_, "o-", color="C2")
bottom_right.set(
    xlabel="epoch",
    ylabel="loss (log-loss)",
    title=f"RNNClassifier, hidden_layer_sizes={classifier.hidden_layer_sizes}",
)
if __name__ == "__main__" and len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
    print(f"saved {sys.argv[1]}")
elif plt.get_backend().lower() != "agg":
    plt.show()
