import numpy as np
import pytest
from scipy.special import expit, softmax

from skrnn._losses import LOSS_ACTIVATION, loss_and_delta


def _finite_difference(loss, Z, Y, w, eps=1e-6):
    grad = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += eps
        Zm[idx] -= eps
        grad[idx] = (
            loss_and_delta(loss, Zp, Y, w)[0] - loss_and_delta(loss, Zm, Y, w)[0]
        ) / (2 * eps)
    return grad


@pytest.mark.parametrize("loss", sorted(LOSS_ACTIVATION))
def test_delta_is_gradient(loss):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(6, 3))
    if loss == "squared_error":
        Y = rng.normal(size=(6, 3))
    elif loss == "log_loss":
        Y = np.eye(3)[rng.integers(0, 3, size=6)]
    else:
        Y = rng.integers(0, 2, size=(6, 3)).astype(float)
    w = rng.uniform(0, 1, size=6)
    _, delta = loss_and_delta(loss, Z, Y, w)
    np.testing.assert_allclose(delta, _finite_difference(loss, Z, Y, w), atol=1e-7)


def test_values_match_textbook_formulas():
    Z = np.array([[0.5, -1.0], [2.0, 0.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    w = np.array([0.25, 0.75])
    value, _ = loss_and_delta("squared_error", Z, Y, w)
    assert value == pytest.approx(np.dot(w, 0.5 * ((Z - Y) ** 2).sum(1)))
    value, _ = loss_and_delta("log_loss", Z, Y, w)
    P = softmax(Z, axis=1)
    assert value == pytest.approx(-np.dot(w, np.log((P * Y).sum(1))))
    value, _ = loss_and_delta("binary_log_loss", Z, Y, w)
    P = expit(Z)
    expected = -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).sum(1)
    assert value == pytest.approx(np.dot(w, expected))


def test_log_losses_stay_finite_for_huge_logits():
    Z = np.array([[1000.0, -1000.0]])
    Y = np.array([[0.0, 1.0]])
    for loss in ("log_loss", "binary_log_loss"):
        value, delta = loss_and_delta(loss, Z, Y, np.ones(1))
        assert np.isfinite(value)
        assert value > 100
        assert np.isfinite(delta).all()
