"""Tests of skrnn.datasets: shapes, the tasks' definitions, reproducibility."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from skrnn.datasets import make_adding_problem, make_cosine_windows, make_parity
from skrnn.preprocessing import make_windows


def _assert_same(a, b):
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_array_equal(x, y)
    else:
        assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (make_adding_problem, {"n_sequences": 20, "n_steps": 9}),
        (make_cosine_windows, {"n_samples": 20, "window": 5, "noise": 0.1}),
        (make_parity, {"n_sequences": 20, "n_steps": 7}),
        (make_parity, {"n_sequences": 20, "n_steps": 7, "min_steps": 3}),
    ],
)
def test_deterministic_for_a_random_state(make, kwargs):
    X1, y1 = make(**kwargs, random_state=0)
    X2, y2 = make(**kwargs, random_state=0)
    X3, y3 = make(**kwargs, random_state=np.random.RandomState(0))
    for a, b in [(X1, X2), (y1, y2), (X1, X3), (y1, y3)]:
        _assert_same(a, b)
    X4, _ = make(**kwargs, random_state=1)
    assert not all(np.array_equal(a, b) for a, b in zip(X1, X4))


@pytest.mark.parametrize("n_steps", [2, 3, 10, 11])
def test_adding_problem_definition(n_steps):
    X, y = make_adding_problem(200, n_steps, random_state=0)
    assert X.shape == (200, n_steps, 2)
    assert y.shape == (200,)
    values, markers = X[:, :, 0], X[:, :, 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = n_steps // 2
    # Exactly one marker in each half.
    assert_array_equal(markers[:, :half].sum(axis=1), 1.0)
    assert_array_equal(markers[:, half:].sum(axis=1), 1.0)
    assert_allclose(y, (values * markers).sum(axis=1))


def test_adding_problem_baseline():
    _, y = make_adding_problem(20000, 20, random_state=0)
    # Predicting the mean scores the variance of a sum of two uniforms, 1/6.
    assert y.mean() == pytest.approx(1.0, abs=0.02)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.01)


def test_cosine_windows_are_windows_of_a_cosine():
    X, y = make_cosine_windows(50, 8, period=10.0, random_state=0)
    assert X.shape == (50, 8, 1)
    assert y.shape == (50,)
    series = np.concatenate([X[0, :, 0], y])
    X_again, y_again = make_windows(series, 8)
    assert_array_equal(X, X_again)
    assert_array_equal(y, y_again)
    # A cosine of period 10 repeats every 10 steps.
    assert_allclose(series[10:], series[:-10], atol=1e-12)


def test_cosine_windows_noise_and_persistence_baseline():
    X, y = make_cosine_windows(5000, 3, period=25.0, random_state=0)
    persistence = np.mean((X[:, -1, 0] - y) ** 2)
    assert persistence == pytest.approx(1 - np.cos(2 * np.pi / 25), rel=0.05)
    X_noisy, y_noisy = make_cosine_windows(
        5000, 3, period=25.0, noise=0.1, random_state=0
    )
    assert_allclose(np.std(y_noisy - y), 0.1, rtol=0.1)


def test_parity_fixed_length():
    X, y = make_parity(50, 12, random_state=0)
    assert X.shape == (50, 12, 1)
    assert y.shape == (50, 12)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    assert_array_equal(y, np.cumsum(X[:, :, 0], axis=1) % 2)
    assert 0.4 < y.mean() < 0.6


def test_parity_ragged():
    X, y = make_parity(100, 9, min_steps=4, random_state=0)
    assert isinstance(X, list)
    assert isinstance(y, list)
    lengths = [len(bits) for bits in X]
    assert min(lengths) >= 4
    assert max(lengths) <= 9
    assert len(set(lengths)) > 1
    for bits, labels in zip(X, y):
        assert bits.shape == (len(labels), 1)
        assert_array_equal(labels, np.cumsum(bits[:, 0]) % 2)


def test_parity_min_steps_equal_to_n_steps():
    X, _ = make_parity(5, 4, min_steps=4, random_state=0)
    assert [len(bits) for bits in X] == [4] * 5


def test_parity_min_steps_too_large():
    with pytest.raises(ValueError, match="min_steps=5 is greater than n_steps=4"):
        make_parity(5, 4, min_steps=5)


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (make_adding_problem, {"n_sequences": 0}),
        (make_adding_problem, {"n_steps": 1}),
        (make_cosine_windows, {"noise": -1.0}),
        (make_cosine_windows, {"period": 0.0}),
        (make_cosine_windows, {"window": 0}),
        (make_parity, {"n_steps": 0}),
        (make_parity, {"min_steps": 0}),
    ],
)
def test_invalid_parameters(make, kwargs):
    with pytest.raises(InvalidParameterError):
        make(**kwargs)
