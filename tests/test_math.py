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


_SCALAR_POINTS = [-50.0, -3.3, -1e-3, 0.0, 2e-5, 0.7, 4.0, 60.0, -200.0, 200.0]

# Run in a process with NUMBA_DISABLE_JIT=1: every helper then runs as Python
# on NumPy scalars, as in a debugging session.
_PYTHON_MODE_SCRIPT = """
import json, numpy as np
from skrnn._kernels._math import fast_exp, fast_sigmoid, fast_tanh
out = {}
for name, f in [("exp", fast_exp), ("tanh", fast_tanh), ("sigmoid", fast_sigmoid)]:
    for dtype in (np.float64, np.float32):
        with np.errstate(over="ignore"):
            ys = [f(dtype(v)) for v in POINTS]
        out[name + "-" + np.dtype(dtype).name] = [
            [float(y), np.asarray(y).dtype.name] for y in ys
        ]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def python_mode_values():
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    script = _PYTHON_MODE_SCRIPT.replace("POINTS", repr(_SCALAR_POINTS))
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@requires_jit
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
@pytest.mark.subprocess
def test_python_scalars_agree_with_compiled(name, dtype, python_mode_values):
    # Without JIT the kernels call these functions on NumPy scalars: the
    # results keep the argument's dtype and agree with the compiled ones (to
    # rounding: compiled code fuses multiply-adds).
    x = np.array(_SCALAR_POINTS, dtype=dtype)
    compiled = _apply(name, x)
    python = python_mode_values[f"{name}-{np.dtype(dtype).name}"]
    assert [kind for _, kind in python] == [np.dtype(dtype).name] * len(x)
    values = np.array([value for value, _ in python], dtype=dtype)
    np.testing.assert_allclose(values, compiled, rtol=4 * np.finfo(dtype).eps)
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


@njit(**_LOOP_OPTIONS)
def _nonpositive_loop32(x, general, nonpositive):
    for i in range(x.shape[0]):
        general[i] = _math._exp32(x[i])
        nonpositive[i] = _math._exp_nonpositive32(x[i])


@njit(**_LOOP_OPTIONS)
def _nonpositive_loop64(x, general, nonpositive):
    for i in range(x.shape[0]):
        general[i] = _math._exp64(x[i])
        nonpositive[i] = _math._exp_nonpositive64(x[i])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_of_nonpositive_arguments_equals_the_general_one(dtype):
    # The sigmoid's exponential scales once by 2**(n + offset) instead of
    # twice: same bits, down through the subnormals to the underflow to 0.
    lowest = -760.0 if dtype == np.float64 else -110.0
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            np.linspace(lowest, 0.0, 400_001),
            rng.uniform(lowest, 0.0, 200_000),
            -np.geomspace(1e-300 if dtype == np.float64 else 1e-40, 1.0, 2001),
            [0.0, -0.0, -np.inf, np.nan],
        ]
    ).astype(dtype)
    general, nonpositive = np.empty_like(x), np.empty_like(x)
    loop = _nonpositive_loop32 if dtype == np.float32 else _nonpositive_loop64
    loop(x, general, nonpositive)
    np.testing.assert_array_equal(nonpositive, general)
    assert np.any((general > 0) & (general < np.finfo(dtype).tiny))  # subnormals
