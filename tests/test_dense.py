"""Softmax kernels of the translator against NumPy references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax

from skrnn._kernels._dense import (
    add_rows,
    log_softmax_rows,
    masked_softmax,
    softmax_cross_entropy,
)


def naive_masked_softmax(scores, lengths):
    """Row by row: the softmax of the first ``lengths[i]`` scores, zeros after."""
    out = np.zeros_like(scores)
    for i, L in enumerate(lengths):
        for t in range(scores.shape[1]):
            if L:
                row = scores[i, t, :L].astype(np.float64)
                e = np.exp(row - row.max())
                out[i, t, :L] = e / e.sum()
    return out


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 5),
    T_y=st.integers(1, 4),
    T_x=st.integers(1, 9),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_masked_softmax_matches_reference(n, T_y, T_x, dtype, seed):
    rng = np.random.default_rng(seed)
    scores = (3 * rng.normal(size=(n, T_y, T_x))).astype(dtype)
    lengths = rng.integers(0, T_x + 1, size=n).astype(np.int64)
    # Padding is never read: NaN there must not reach any weight.
    for i, L in enumerate(lengths):
        scores[i, :, L:] = np.nan
    out = np.empty_like(scores)
    masked_softmax(scores, lengths, out)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, naive_masked_softmax(scores, lengths), atol=tol)
    assert np.isfinite(out).all()
    for i, L in enumerate(lengths):
        np.testing.assert_allclose(out[i].sum(axis=-1), 1.0 if L else 0.0, atol=tol)


def test_masked_softmax_in_place_and_extreme_scores():
    scores = np.array([[[1000.0, 0.0, -1000.0, 5.0]]])
    expected = naive_masked_softmax(scores, [3])
    masked_softmax(scores, np.array([3]), scores)
    np.testing.assert_allclose(scores, expected)
    assert scores[0, 0, 3] == 0.0


def naive_cross_entropy(Z, targets, weights):
    log_p = log_softmax(Z.astype(np.float64), axis=1)
    loss = -np.sum(weights * log_p[np.arange(len(targets)), targets])
    onehot = np.eye(Z.shape[1])[targets]
    return loss, weights[:, None] * (np.exp(log_p) - onehot)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 7),
    n_classes=st.integers(1, 12),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_softmax_cross_entropy_matches_reference(n, n_classes, dtype, seed):
    rng = np.random.default_rng(seed)
    Z = (4 * rng.normal(size=(n, n_classes))).astype(dtype)
    targets = rng.integers(0, n_classes, size=n)
    weights = rng.random(n).astype(dtype)
    dZ = np.empty_like(Z)
    loss = softmax_cross_entropy(Z, targets, weights, dZ)
    ref_loss, ref_dZ = naive_cross_entropy(Z, targets, weights)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(ref_loss, rel=rtol, abs=rtol)
    np.testing.assert_allclose(dZ, ref_dZ, rtol=rtol, atol=rtol)


def test_softmax_cross_entropy_gradient_by_finite_differences():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(4, 5))
    targets, weights = np.array([0, 4, 2, 2]), rng.random(4)
    dZ = np.empty_like(Z)
    softmax_cross_entropy(Z, targets, weights, dZ)
    eps = 1e-6
    numeric = np.empty_like(Z)
    scratch = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        up, down = Z.copy(), Z.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (
            softmax_cross_entropy(up, targets, weights, scratch)
            - softmax_cross_entropy(down, targets, weights, scratch)
        ) / (2 * eps)
    np.testing.assert_allclose(dZ, numeric, rtol=1e-6, atol=1e-8)


def test_softmax_cross_entropy_propagates_nan():
    Z = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]])
    dZ = np.empty_like(Z)
    loss = softmax_cross_entropy(Z, np.array([0, 1]), np.ones(2), dZ)
    assert np.isnan(loss)
    assert np.isnan(dZ[0]).all()
    assert np.isfinite(dZ[1]).all()


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 40),
    V=st.integers(1, 6),
    D=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_add_rows_sums_like_np_add_at_bit_for_bit(n, V, D, dtype, seed):
    """Same additions in the same order as ``np.add.at``: equal bits."""
    rng = np.random.default_rng(seed)
    dX = rng.normal(size=(n, D)).astype(dtype) * 10.0 ** rng.integers(-3, 4, (n, 1))
    ids = rng.integers(0, V, size=n)
    start = rng.normal(size=(V, D)).astype(dtype)
    expected = start.copy()
    np.add.at(expected, ids, dX)
    got = start.copy()
    add_rows(dX, ids, got)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [10, 600, 1281])
def test_products_split_over_threads_match_numpy(dtype, n_rows):
    """Row blocks give the single GEMM's bits; weight gradients sum blocks."""
    import numba

    from skrnn._runtime import session
    from skrnn._runtime._dispatch import matmul, matmul_tn

    rng = np.random.default_rng(n_rows)
    A = rng.normal(size=(n_rows, 24)).astype(dtype)
    W = rng.normal(size=(7, 24)).astype(dtype)
    dY = rng.normal(size=(n_rows, 7)).astype(dtype)
    before = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    try:
        with session():
            product = matmul(A, W.T)
            gradient = matmul_tn(dY, A)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(product, A @ W.T)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gradient, dY.T @ A, rtol=tol, atol=tol * n_rows)
    assert product.dtype == gradient.dtype == dtype


def test_products_fall_back_to_numpy_for_other_operands():
    from skrnn._runtime._dispatch import matmul, matmul_tn

    A = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(matmul(A.astype(int), A.T.astype(int)), A @ A.T)
    np.testing.assert_array_equal(matmul(A[:, ::-1], A.T), A[:, ::-1] @ A.T)
    np.testing.assert_array_equal(matmul_tn(A, A.astype(np.float32)), A.T @ A)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 6),
    n_classes=st.integers(1, 12),
    dtype=st.sampled_from([np.float32, np.float64]),
    scale=st.sampled_from([1.0, 50.0]),
    seed=st.integers(0, 2**16),
)
def test_log_softmax_rows_matches_scipy_in_float64(n, n_classes, dtype, scale, seed):
    Z = (scale * np.random.default_rng(seed).normal(size=(n, n_classes))).astype(dtype)
    out = np.empty(Z.shape, np.float64)
    log_softmax_rows(Z, out)
    expected = log_softmax(Z.astype(np.float64), axis=1)
    np.testing.assert_allclose(out, expected, atol=1e-13)
