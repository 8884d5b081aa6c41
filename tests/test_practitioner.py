"""Practitioner options of the estimators: regression losses."""

import numpy as np
import pytest
from sklearn.base import clone

from skrnn import RNNRegressor
from skrnn.testing import check_gradients

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(8,), cell="gru", learning_rate_init=0.01)


def _sequences(n=40, T=5, F=2, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, T, F))


# ------------------------------------------------------------ regression loss
@pytest.mark.parametrize(
    "params",
    [
        dict(loss="absolute_error"),
        dict(loss="huber", huber_delta=0.3),
        dict(loss="quantile", quantile=0.8),
        dict(loss="poisson"),
    ],
    ids=lambda p: p["loss"],
)
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_regression_loss_gradients(params, cell):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(6, 4, 2))
    y = rng.normal(size=(6, 2)) * 2
    if params["loss"] == "poisson":
        y = rng.poisson(2.0, size=(6, 2)).astype(float)
    est = RNNRegressor(hidden_layer_sizes=(3,), cell=cell, alpha=0.1, **params)
    w = rng.uniform(0.5, 2, size=6)
    result = check_gradients(est, X, y, sample_weight=w)
    assert result.worst < 1e-5, result


def test_quantile_coverage_on_held_out_data():
    rng = np.random.RandomState(0)
    n = 1200
    X = rng.uniform(-1, 1, size=(n, 4, 1))
    scale = 0.2 + 0.4 * (X[:, -1, 0] > 0)  # noise depends on the input
    y = X.sum(axis=(1, 2)) + scale * rng.normal(size=n)
    train, test = slice(0, 800), slice(800, None)
    coverage = {}
    for q in (0.1, 0.9):
        reg = RNNRegressor(
            loss="quantile", quantile=q, max_iter=40, random_state=0, **FAST
        ).fit(X[train], y[train])
        coverage[q] = np.mean(y[test] <= reg.predict(X[test]))
    assert abs(coverage[0.1] - 0.1) < 0.05, coverage
    assert abs(coverage[0.9] - 0.9) < 0.05, coverage


def test_absolute_and_huber_resist_outliers():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 4, 1))
    y = X.sum(axis=(1, 2))
    y_dirty = y.copy()
    y_dirty[:30] += 40.0  # a tenth of the targets are gross outliers
    errors = {}
    for loss in ("squared_error", "absolute_error", "huber"):
        reg = RNNRegressor(loss=loss, max_iter=40, random_state=0, **FAST)
        reg.fit(X, y_dirty)
        errors[loss] = np.median(np.abs(reg.predict(X[30:]) - y[30:]))
    assert errors["absolute_error"] < errors["squared_error"] / 2, errors
    assert errors["huber"] < errors["squared_error"] / 2, errors


def test_poisson_predicts_a_positive_mean():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 3, 1))
    mean = np.exp(X.sum(axis=(1, 2)))
    y = rng.poisson(mean).astype(float)
    reg = RNNRegressor(loss="poisson", max_iter=40, random_state=0, **FAST)
    reg.fit(X, y)
    pred = reg.predict(X)
    assert reg.out_activation_ == "exponential"
    assert (pred > 0).all()
    # The mean is learned: closer to the true mean than the constant fit.
    assert np.mean((pred - mean) ** 2) < 0.5 * np.var(mean)
    # score stays R^2 of the predicted mean, as for MLPRegressor.
    from sklearn.metrics import r2_score

    assert reg.score(X, y) == pytest.approx(r2_score(y, pred))


def test_poisson_rejects_negative_targets():
    X = _sequences(10)
    y = np.arange(10.0) - 1
    reg = RNNRegressor(loss="poisson", max_iter=2, **FAST)
    with pytest.raises(ValueError, match=r"loss='poisson' needs non-negative.*-1"):
        reg.fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(loss="pinball"), "'loss' parameter of RNNRegressor must be"),
        (dict(huber_delta=0.0), "'huber_delta' parameter of RNNRegressor must be"),
        (dict(quantile=1.0), "'quantile' parameter of RNNRegressor must be"),
        (dict(quantile=0), "'quantile' parameter of RNNRegressor must be"),
    ],
)
def test_regression_loss_parameters_are_validated(params, match):
    X, y = _sequences(10), np.arange(10.0)
    with pytest.raises(ValueError, match=match):
        RNNRegressor(max_iter=2, **params).fit(X, y)


def test_squared_error_is_the_default_and_unchanged():
    X, y = _sequences(20), np.arange(20.0) / 20
    a = RNNRegressor(max_iter=3, random_state=0, **FAST).fit(X, y)
    b = clone(a).set_params(loss="squared_error", huber_delta=7.0).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.get_params()["loss"] == "squared_error"


def test_huber_with_large_delta_is_squared_error():
    X, y = _sequences(20), np.arange(20.0) / 20
    a = RNNRegressor(max_iter=3, random_state=0, **FAST).fit(X, y)
    b = clone(a).set_params(loss="huber", huber_delta=1e6).fit(X, y)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6)
