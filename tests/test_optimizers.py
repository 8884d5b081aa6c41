import numpy as np
import pytest

from skrnn._optimizers import AdamOptimizer, SGDOptimizer, clip_grad_norm


def test_sgd_one_step_plain_momentum():
    params = np.array([1.0, -2.0])
    grad = np.array([0.5, 0.25])
    opt = SGDOptimizer(2, np.float64, 0.1, "constant", 0.9, False, 0.5)
    opt.step(params, grad)
    np.testing.assert_allclose(params, [1.0 - 0.05, -2.0 - 0.025])
    opt.step(params, grad)
    # v = 0.9 * v - lr * g
    v = 0.9 * np.array([-0.05, -0.025]) - 0.1 * grad
    np.testing.assert_allclose(params, [0.95, -2.025] + v)


def test_sgd_nesterov_step():
    params = np.zeros(1)
    grad = np.ones(1)
    opt = SGDOptimizer(1, np.float64, 0.1, "constant", 0.5, True, 0.5)
    opt.step(params, grad)
    # v = -0.1; update = momentum * v - lr * g = -0.05 - 0.1
    np.testing.assert_allclose(params, [-0.15])


def test_sgd_schedules():
    opt = SGDOptimizer(1, np.float64, 0.1, "invscaling", 0.0, False, 0.5)
    opt.iteration_ends(99)
    assert opt.learning_rate == pytest.approx(0.1 / 10)
    opt = SGDOptimizer(1, np.float64, 0.1, "adaptive", 0.0, False, 0.5)
    assert not opt.trigger_stopping("stalled.", verbose=False)
    assert opt.learning_rate == pytest.approx(0.02)
    opt.learning_rate = 1e-7
    assert opt.trigger_stopping("stalled.", verbose=False)
    opt = SGDOptimizer(1, np.float64, 0.1, "constant", 0.0, False, 0.5)
    assert opt.trigger_stopping("stalled.", verbose=False)


def test_adam_first_step_is_learning_rate_times_sign():
    params = np.array([0.0, 0.0, 0.0])
    grad = np.array([3.0, -0.5, 0.0])
    opt = AdamOptimizer(3, np.float64, 0.01, 0.9, 0.999, 1e-8)
    opt.step(params, grad)
    # m_hat = g, v_hat = g**2 after bias correction -> step = lr * g / (|g| + eps')
    lr_t = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expected = -lr_t * (0.1 * grad) / (np.sqrt(0.001 * grad**2) + 1e-8)
    np.testing.assert_allclose(params, expected)
    np.testing.assert_allclose(params[:2], [-0.01, 0.01], rtol=1e-5)


def test_adam_matches_two_step_recurrence():
    rng = np.random.default_rng(0)
    p = rng.normal(size=5)
    g1, g2 = rng.normal(size=5), rng.normal(size=5)
    opt = AdamOptimizer(5, np.float64, 0.003, 0.8, 0.99, 1e-7)
    q = p.copy()
    opt.step(q, g1)
    opt.step(q, g2)
    m = 0.2 * g1
    v = 0.01 * g1**2
    p1 = p - 0.003 * np.sqrt(1 - 0.99) / (1 - 0.8) * m / (np.sqrt(v) + 1e-7)
    m = 0.8 * m + 0.2 * g2
    v = 0.99 * v + 0.01 * g2**2
    p2 = p1 - 0.003 * np.sqrt(1 - 0.99**2) / (1 - 0.8**2) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(q, p2)


def test_clip_grad_norm():
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, None) == 5.0
    np.testing.assert_array_equal(g, [3.0, 4.0])
    assert clip_grad_norm(g, 10.0) == 5.0
    np.testing.assert_array_equal(g, [3.0, 4.0])
    assert clip_grad_norm(g, 1.0) == 5.0
    np.testing.assert_allclose(np.linalg.norm(g), 1.0, rtol=1e-6)
    assert np.linalg.norm(g) <= 1.0


def test_optimizers_keep_float32():
    params = np.ones(3, dtype=np.float32)
    for opt in (
        AdamOptimizer(3, np.float32, 0.01, 0.9, 0.999, 1e-8),
        SGDOptimizer(3, np.float32, 0.01, "constant", 0.9, True, 0.5),
    ):
        opt.step(params, np.ones(3, dtype=np.float32))
        assert params.dtype == np.float32


def _numpy_adam_step(opt, params, grad):
    """Adam's update as whole-vector NumPy operations (the reference)."""
    opt.t += 1
    b1, b2 = opt.beta_1, opt.beta_2
    opt.m *= b1
    opt.m += (1 - b1) * grad
    opt.v *= b2
    buffer = grad * grad
    buffer *= 1 - b2
    opt.v += buffer
    rate = opt.learning_rate_init * np.sqrt(1 - b2**opt.t) / (1 - b1**opt.t)
    np.sqrt(opt.v, out=buffer)
    buffer += opt.epsilon
    np.divide(opt.m, buffer, out=buffer)
    buffer *= rate
    params -= buffer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("beta_1", "beta_2", "epsilon"), [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3)]
)
def test_adam_kernel_equals_numpy_bit_for_bit(dtype, beta_1, beta_2, epsilon):
    rng = np.random.default_rng(0)
    n = 1001
    fused = AdamOptimizer(n, dtype, 1e-2, beta_1, beta_2, epsilon)
    reference = AdamOptimizer(n, dtype, 1e-2, beta_1, beta_2, epsilon)
    p_fused = rng.normal(size=n).astype(dtype)
    p_reference = p_fused.copy()
    for _ in range(5):
        grad = (rng.normal(size=n) * 10.0 ** rng.integers(-6, 3, n)).astype(dtype)
        fused.step(p_fused, grad)
        _numpy_adam_step(reference, p_reference, grad)
    np.testing.assert_array_equal(p_fused, p_reference)
    np.testing.assert_array_equal(fused.m, reference.m)
    np.testing.assert_array_equal(fused.v, reference.v)
    assert fused.learning_rate == pytest.approx(
        1e-2 * np.sqrt(1 - beta_2**5) / (1 - beta_1**5)
    )
