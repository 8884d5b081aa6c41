"""End-to-end learning of RNNRegressor and RNNClassifier on three tasks.

Each task checks something the estimator tests cannot: that the networks
actually learn. The budgets (hidden units, epochs, step size) are tuned so the
whole file runs in well under a minute on two cores, with a margin on every
threshold across random seeds; ``random_state`` is fixed so results repeat.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from skrnn import RNNClassifier, RNNRegressor
from skrnn.datasets import make_adding_problem

# The budgets stop short of the convergence test on purpose: the thresholds
# are reached well before the loss flattens out.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


def cosine_windows(n_points=1200, width=50, step=0.1):
    """Windows of ``width`` values of a cosine wave and the value after each.

    The first 80% of the windows train and the last 20%, later in time, test.
    A period is not a whole number of samples, so test windows start at
    phases the training windows never had.
    """
    series = np.cos(step * np.arange(n_points))
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], width)
    y = series[width:]
    n_train = int(0.8 * len(X))
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cosine_next_value(cell):
    X_train, X_test, y_train, y_test = cosine_windows()
    reg = RNNRegressor(
        hidden_layer_sizes=(32,), cell=cell, max_iter=8, random_state=0
    ).fit(X_train, y_train)
    assert r2_score(y_test, reg.predict(X_test)) >= 0.99


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_digits_as_row_sequences(cell):
    X, y = load_digits(return_X_y=True)
    # Eight steps (the image rows) of eight pixels each, scaled to [0, 1].
    X = X.reshape(-1, 8, 8) / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = RNNClassifier(
        hidden_layer_sizes=(32,),
        cell=cell,
        learning_rate_init=0.01,
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.95


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_adding_problem_needs_memory_across_30_steps(cell):
    X_train, y_train = make_adding_problem(2000, 30, random_state=0)
    X_test, y_test = make_adding_problem(500, 30, random_state=1)
    # Predicting the training mean scores the variance of a sum of two
    # uniform values, 1/6: anything near it has learned nothing.
    baseline = mean_squared_error(y_test, np.full_like(y_test, y_train.mean()))
    assert baseline > 0.12
    # The loss sits on a plateau near the baseline for several epochs before
    # the network finds the markers; a larger step than the default shortens
    # the plateau.
    reg = RNNRegressor(
        hidden_layer_sizes=(32,),
        cell=cell,
        learning_rate_init=0.01,
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    assert mean_squared_error(y_test, reg.predict(X_test)) < 0.05
