"""The tables of constants of skrnn._kernels._math, one per precision."""

import math

import numpy as np
import pytest
from numba import njit

from skrnn._kernels import _math

TABLES = {np.float32: _math._FLOAT32, np.float64: _math._FLOAT64}


@pytest.mark.parametrize("dtype", TABLES)
def test_float_constants_have_the_precision_type(dtype):
    # A float64 constant in float32 arithmetic would promote it to float64.
    table = TABLES[dtype]
    floats = list(table.inv_fact) + [
        value for value in table if isinstance(value, (float, np.floating))
    ]
    assert len(floats) > len(table.inv_fact)
    assert all(type(value) is dtype for value in floats)


@pytest.mark.parametrize("dtype", TABLES)
def test_taylor_polynomial_is_below_half_an_ulp(dtype):
    table = TABLES[dtype]
    degree = len(table.inv_fact) - 1
    assert (
        table.inv_fact
        == tuple(dtype(1 / math.factorial(k)) for k in range(14))[: degree + 1]
    )
    # Lagrange remainder of exp on |r| <= ln(2) / 2 (exp(r) < 1.5 there).
    r = math.log(2) / 2
    truncation = 1.5 * r ** (degree + 1) / math.factorial(degree + 1)
    assert truncation < np.finfo(dtype).eps / 2


@pytest.mark.parametrize("dtype", TABLES)
def test_ln2_split_is_exact_for_every_n(dtype):
    table = TABLES[dtype]
    assert float(table.ln2_hi) + float(table.ln2_lo) == pytest.approx(
        math.log(2), rel=float(np.finfo(dtype).eps) ** 1.5
    )
    # n * ln2_hi is exact when ln2_hi has as many trailing zero bits as the
    # largest |n| (the clamps over ln(2)) needs.
    n_max = math.ceil(max(-float(table.exp_lo), float(table.exp_hi)) / math.log(2))
    mantissa, _ = math.frexp(float(table.ln2_hi))
    significant = np.finfo(dtype).nmant + 1 - n_max.bit_length()
    assert (mantissa * 2**significant).is_integer()


@njit
def _pow2_all(pow2, ks, out):
    for i in range(ks.shape[0]):
        out[i] = pow2(ks[i])


@njit
def _integer_all(integer, n, out):
    for i in range(n.shape[0]):
        out[i] = integer(n[i])


@pytest.mark.parametrize("dtype", TABLES)
def test_bit_manipulations_match_numpy(dtype):
    table = TABLES[dtype]
    info = np.finfo(dtype)
    ks = np.arange(info.minexp, info.maxexp, dtype=np.int64)
    powers = np.empty(ks.size, dtype)
    _pow2_all(table.pow2, ks, powers)
    np.testing.assert_array_equal(powers, np.ldexp(dtype(1.0), ks))
    limit = 2 ** (info.nmant - 1)
    rng = np.random.default_rng(0)
    n = np.concatenate(
        [np.arange(-2000, 2001), rng.integers(-limit + 1, limit, 10_000)]
    ).astype(dtype)
    integers = np.empty(n.size, np.int64)
    _integer_all(table.integer, n, integers)
    np.testing.assert_array_equal(integers, n.astype(np.int64))
