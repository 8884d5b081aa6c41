import numpy as np
import pytest
from scipy.special import expit, softmax

from skrnn._losses import LOSS_ACTIVATION, OUT_ACTIVATIONS, loss_and_delta
from tests._helpers import finite_difference

# Every loss, the parametrised ones with a parameter away from the defaults.
LOSS_SPECS = [
    ("huber", 0.7) if name == "huber" else ("quantile", 0.3)
    if name == "quantile" else name
    for name in sorted(LOSS_ACTIVATION)
]  # fmt: skip


def _finite_difference(loss, Z, Y, w):
    Z = Z.copy()
    return finite_difference(lambda: loss_and_delta(loss, Z, Y, w)[0], Z)


@pytest.mark.parametrize("loss", LOSS_SPECS, ids=str)
def test_delta_is_gradient(loss):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(6, 3))
    if loss in ("squared_error", "absolute_error") or isinstance(loss, tuple):
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


def test_regression_losses_match_textbook_formulas():
    Z = np.array([[0.5, -1.0], [2.0, 0.0], [0.1, 3.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 0.5]])
    w = np.array([0.25, 0.75, 0.5])
    R = Y - Z
    value, _ = loss_and_delta("absolute_error", Z, Y, w)
    assert value == pytest.approx(np.dot(w, np.abs(R).sum(1)))
    d = 0.8
    huber = np.where(np.abs(R) <= d, 0.5 * R**2, d * np.abs(R) - 0.5 * d**2)
    value, _ = loss_and_delta(("huber", d), Z, Y, w)
    assert value == pytest.approx(np.dot(w, huber.sum(1)))
    q = 0.9
    pinball = np.where(R >= 0, q * R, (q - 1) * R)
    value, _ = loss_and_delta(("quantile", q), Z, Y, w)
    assert value == pytest.approx(np.dot(w, pinball.sum(1)))
    mu = np.exp(Z)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(Y > 0, Y * np.log(Y / mu), 0.0)
    value, delta = loss_and_delta("poisson", Z, Y, w)
    assert value == pytest.approx(np.dot(w, (ylogy - Y + mu).sum(1)))
    np.testing.assert_allclose(delta, w[:, None] * (mu - Y))


def test_subgradients_at_the_kinks():
    Z = np.array([[0.0, 1.0, 2.0]])
    Y = np.array([[0.0, 0.0, 0.0]])
    w = np.array([2.0])
    _, delta = loss_and_delta("absolute_error", Z, Y, w)
    np.testing.assert_array_equal(delta, [[0.0, 2.0, 2.0]])
    _, delta = loss_and_delta(("quantile", 0.25), Z, -Y + [[0.0, 2.0, 1.0]], w)
    np.testing.assert_allclose(delta, [[0.0, -0.5, 1.5]])
    _, delta = loss_and_delta(("huber", 1.5), Z, Y, w)
    np.testing.assert_allclose(delta, [[0.0, 2.0, 3.0]])


def test_poisson_activation_is_the_mean():
    Z = np.array([[-1.0, 0.0, 2.0]])
    P = OUT_ACTIVATIONS[LOSS_ACTIVATION["poisson"]](Z)
    np.testing.assert_allclose(P, np.exp(Z))
    assert LOSS_ACTIVATION[("huber", 1.0)] == "identity"


def test_deltas_keep_float32():
    Z = np.ones((2, 2), dtype=np.float32)
    Y = np.zeros((2, 2), dtype=np.float32)
    w = np.ones(2, dtype=np.float32)
    for loss in LOSS_SPECS:
        assert loss_and_delta(loss, Z, Y, w)[1].dtype == np.float32
