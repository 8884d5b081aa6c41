"""Tests of the vectorisable exp, tanh and sigmoid in skrnn._kernels._math."""

import platform
import re

import numba
import numpy as np
import pytest
from numba import from_dtype, njit

from skrnn._kernels import _math
from skrnn._kernels._config import FASTMATH, JIT_OPTIONS
from skrnn._kernels._math import fast_exp, fast_sigmoid, fast_tanh

# These inspect compiled code; with NUMBA_DISABLE_JIT=1 there is none.
requires_jit = pytest.mark.skipif(
    numba.config.DISABLE_JIT, reason="inspects compiled code"
)

# Uncached loops, so that the assembly can be inspected.
_LOOP_OPTIONS = {"fastmath": FASTMATH, "error_model": "numpy"}


@njit(**_LOOP_OPTIONS)
def _exp_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = fast_exp(x[i])


@njit(**_LOOP_OPTIONS)
def _tanh_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = fast_tanh(x[i])


@njit(**_LOOP_OPTIONS)
def _sigmoid_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = fast_sigmoid(x[i])


LOOPS = {"exp": _exp_loop, "tanh": _tanh_loop, "sigmoid": _sigmoid_loop}
SCALAR = {"exp": fast_exp, "tanh": fast_tanh, "sigmoid": fast_sigmoid}
_IMPLEMENTATIONS = {
    (name, dtype): getattr(_math, f"_{name}{bits}")
    for name in SCALAR
    for dtype, bits in [(np.float64, 64), (np.float32, 32)]
}
# Documented accuracy, in units in the last place of the result's dtype.
MAX_ULP = {
    ("exp", np.float64): 1,
    ("tanh", np.float64): 3,
    ("sigmoid", np.float64): 3,
    ("exp", np.float32): 1,
    ("tanh", np.float32): 2,
    ("sigmoid", np.float32): 2,
}


def _reference(name, x):
    """Accurate values in extended precision, rounded to x's dtype."""
    xl = x.astype(np.longdouble)
    with np.errstate(over="ignore"):
        if name == "exp":
            y = np.exp(xl)
        elif name == "tanh":
            y = np.tanh(xl)
        else:
            e = np.exp(-np.abs(xl))
            y = np.where(xl >= 0, 1.0, e) / (1.0 + e)
    with np.errstate(over="ignore"):
        return y.astype(x.dtype)


def _apply(name, x):
    out = np.empty_like(x)
    LOOPS[name](x, out)
    return out


def _test_points(dtype):
    big = 800.0 if dtype == np.float64 else 110.0
    tiny = np.geomspace(1e-300 if dtype == np.float64 else 1e-40, 1.0, 2001)
    x = np.concatenate(
        [
            np.linspace(-big, big, 200_001),
            np.linspace(-5.0, 5.0, 100_001),
            tiny,
            -tiny,
            [0.0, -0.0],
        ]
    )
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_accuracy_in_ulp(name, dtype):
    x = _test_points(dtype)
    got = _apply(name, x)
    want = _reference(name, x)
    assert got.dtype == dtype
    finite = np.isfinite(want)
    # Infinite results (exp overflow) must match exactly.
    np.testing.assert_array_equal(got[~finite], want[~finite])
    # One ulp of the smallest subnormal is the floor of the error scale, so
    # results that underflow are judged in absolute terms.
    ulp = np.spacing(np.abs(want[finite]).astype(dtype))
    error = np.abs(got[finite].astype(np.float64) - want[finite]) / ulp
    assert error.max() <= MAX_ULP[name, dtype]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_special_values(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0], dtype=dtype)
    np.testing.assert_array_equal(_apply("exp", x), [np.nan, np.inf, 0.0, 1.0])
    np.testing.assert_array_equal(_apply("tanh", x), [np.nan, 1.0, -1.0, 0.0])
    np.testing.assert_array_equal(_apply("sigmoid", x), [np.nan, 1.0, 0.0, 0.5])


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_nan_propagates_through_every_lane(name):
    # NaN in any vector lane, including the scalar remainder of the loop.
    x = np.linspace(-3.0, 3.0, 37)
    x[[0, 5, 17, 36]] = np.nan
    got = _apply(name, x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))


def test_tanh_is_odd_and_sigmoid_symmetric():
    x = np.linspace(-30.0, 30.0, 10_001)
    np.testing.assert_array_equal(_apply("tanh", -x), -_apply("tanh", x))
    np.testing.assert_allclose(
        _apply("sigmoid", x) + _apply("sigmoid", -x), 1.0, rtol=0, atol=4.5e-16
    )


@requires_jit
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_python_scalars_agree_with_compiled(name, dtype):
    # Without JIT the kernels call these functions on NumPy scalars.
    x = np.array([-50.0, -3.3, -1e-3, 0.0, 2e-5, 0.7, 4.0, 60.0], dtype=dtype)
    compiled = _apply(name, x)
    # The Python source of the implementation that the dispatcher picks for
    # this scalar type: what runs with NUMBA_DISABLE_JIT=1.
    implementation = _IMPLEMENTATIONS[name, dtype].py_func
    python = [implementation(value) for value in x]
    assert all(np.asarray(value).dtype == dtype for value in python)
    np.testing.assert_allclose(python, compiled, rtol=4 * np.finfo(dtype).eps)
    # From Python, the generic functions dispatch on the scalar type.
    generic = np.array([SCALAR[name](value) for value in x], dtype=dtype)
    np.testing.assert_array_equal(generic, compiled)


@requires_jit
def test_fastmath_flags_keep_nan_and_inf_semantics():
    # The kernels rely on NaN/inf behaving as in IEEE arithmetic so that a
    # diverging model produces non-finite values the estimators can detect.
    assert not FASTMATH & {"fast", "nnan", "ninf", "reassoc"}
    assert JIT_OPTIONS["fastmath"] is FASTMATH

    @njit(fastmath=FASTMATH)
    def is_nan_kept(x):
        return x != x

    @njit(fastmath={"nnan"})
    def is_nan_assumed_away(x):
        return x != x

    assert is_nan_kept(np.nan)
    # With 'nnan' LLVM may fold the self-comparison to False: this is what
    # the configuration avoids.
    assert not is_nan_assumed_away(np.nan)


@requires_jit
@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="x86 assembly check"
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_loops_are_vectorised(name, dtype):
    loop = LOOPS[name]
    x = np.ones(8, dtype=dtype)
    loop(x, np.empty_like(x))
    signature = [s for s in loop.signatures if s[0].dtype == from_dtype(dtype)][0]
    asm = loop.inspect_asm(signature)
    suffix = "d" if dtype == np.float64 else "s"
    # Packed (vector) multiplies on xmm/ymm/zmm registers.
    packed = re.findall(rf"\bv(?:fn?madd\w*|mul)p{suffix}\b", asm)
    assert len(packed) > 5
