"""Vectorisable exponential, hyperbolic tangent and logistic sigmoid.

The llvmlite build that Numba uses here has no SVML, so ``np.exp`` and
``np.tanh`` inside a compiled loop are scalar calls into the C library that
LLVM cannot vectorise; in the gate loops of the recurrent kernels they cost as
much as the matrix products. The functions below are branch-free (clamps and
selects only) polynomial evaluations that LLVM inlines and vectorises.

Method: Cody-Waite range reduction ``x = n * ln(2) + r`` with
``|r| <= ln(2) / 2``, a Taylor polynomial for ``exp(r)`` (or ``expm1(r)``),
and scaling by ``2**n`` built from the exponent bits. The scale is applied as
two factors ``2**(n // 2) * 2**(n - n // 2)`` so that results that overflow to
inf or underflow into the subnormal range are still rounded correctly. The
sigmoid needs the exponential of non-positive arguments only, where the exact
product ``p * 2**(n + offset)`` followed by the constant ``2**-offset`` rounds
the same way with fewer operations. ``n`` is turned into an integer by adding
``1.5 * 2**52`` (``2**23`` in float32) and reading the low bits, which, unlike
a conversion instruction, is defined for NaN and needs no test for it. The
gate loops of the kernels spend most of their time here: these two changes
made the float32 sigmoid about a sixth faster, with results identical bit for
bit (checked over all 2**32 float32 inputs).

Accuracy (see ``tests/test_math.py``): float64 within 1 ulp of ``np.exp``
and 3 ulp of ``np.tanh``; float32 within 2 float32 ulp. NaN inputs give NaN, and
infinite inputs give the limits (``exp(inf) = inf``, ``exp(-inf) = 0``,
``tanh(+-inf) = +-1``, ``sigmoid(+-inf) = 1, 0``).

The generic ``fast_exp``, ``fast_tanh`` and ``fast_sigmoid`` pick the float32
or float64 implementation from the argument type at compile time (through
``numba.extending.overload``), so a kernel written once computes in the
precision of its arrays. With ``NUMBA_DISABLE_JIT=1`` the same functions run as
plain Python on NumPy scalars.
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._config import FASTMATH, HELPER_OPTIONS, JIT_OPTIONS

# Reciprocal factorials 1/k! for the Taylor polynomials. Taylor coefficients
# are exact to the last bit and, on |r| <= ln(2)/2, degree 13 leaves a
# truncation error of 4e-18 (float64) and degree 7 one of 5e-9 (float32).
_INV_FACT64 = tuple(1.0 / math.factorial(k) for k in range(14))
_INV_FACT32 = tuple(np.float32(1.0 / math.factorial(k)) for k in range(8))

_LOG2E64 = 1.4426950408889634
# ln(2) split in a high part with trailing zero bits (so that n * _LN2_HI is
# exact for every n used) and the remainder.
_LN2_HI64 = 6.93147180369123816490e-01
_LN2_LO64 = 1.90821492927058770002e-10
# exp overflows above 709.78 and underflows below -745.13: clamping just
# outside keeps those results while bounding the exponent arithmetic.
_EXP_HI64 = 710.0
_EXP_LO64 = -746.0
# expm1(-40) rounds to -1 in float64: tanh needs nothing beyond.
_EXPM1_LO64 = -40.0

_LOG2E32 = np.float32(1.4426950408889634)
_LN2_HI32 = np.float32(0.693359375)
_LN2_LO32 = np.float32(-2.12194440e-4)
_EXP_HI32 = np.float32(89.0)
_EXP_LO32 = np.float32(-104.0)
_EXPM1_LO32 = np.float32(-20.0)
_ZERO32 = np.float32(0.0)
_ONE32 = np.float32(1.0)
_TWO32 = np.float32(2.0)

# Adding 1.5 * 2**52 (1.5 * 2**23 in float32) to an integer-valued float n
# with |n| < 2**51 (2**22) gives a float whose low mantissa bits hold n in
# two's complement: its bits minus the constant's bits are n. Unlike a
# float-to-integer conversion, which is undefined for NaN (and so needed a
# NaN test before it), this is defined for every input and costs one add and
# one integer subtraction; NaN gives some integer, and the result is NaN
# through the polynomial anyway.
_SHIFTER64 = 6755399441055744.0
_SHIFTER64_BITS = np.int64(0x4338000000000000)
_SHIFTER32 = np.float32(12582912.0)
_SHIFTER32_BITS = np.int32(0x4B400000)
# exp(a) for a <= 0 (the sigmoid's) is scaled by 2**(n + offset) and then
# by 2**-offset: the first product is exact (a normal number even at the
# lowest clamped n), and the second rounds once, as the two-factor scaling
# of the general exponential does, for results down in the subnormals.
_NEG_OFFSET64 = 55
_NEG_UNSCALE64 = 2.0**-55
_NEG_OFFSET32 = 25
_NEG_UNSCALE32 = np.float32(2.0**-25)


@njit(**HELPER_OPTIONS)
def _pow2_64(k):
    """Return ``2.0**k`` as float64 for an integer ``k`` in [-1022, 1023].

    Parameters
    ----------
    k : int64
        Exponent, within the range of normal float64 numbers.

    Returns
    -------
    scale : float64
        The power of two, built directly from its exponent bits.
    """
    return np.int64((k + 1023) << 52).view(np.float64)


@njit(**HELPER_OPTIONS)
def _pow2_32(k):
    """Return ``2.0**k`` as float32 for an integer ``k`` in [-126, 127].

    Parameters
    ----------
    k : int32
        Exponent, within the range of normal float32 numbers.

    Returns
    -------
    scale : float32
        The power of two, built directly from its exponent bits.
    """
    return np.int32((k + 127) << 23).view(np.float32)


@njit(**HELPER_OPTIONS)
def _integer64(n):
    """The int64 value of an integer-valued float64 ``n`` (|n| < 2**51).

    Parameters
    ----------
    n : float64
        An integer, as returned by ``np.rint``; NaN gives an arbitrary
        integer instead of undefined behaviour.

    Returns
    -------
    k : int64
    """
    return np.float64(n + _SHIFTER64).view(np.int64) - _SHIFTER64_BITS


@njit(**HELPER_OPTIONS)
def _integer32(n):
    """The int32 value of an integer-valued float32 ``n`` (|n| < 2**22).

    Parameters
    ----------
    n : float32
        An integer, as returned by ``np.rint``; NaN gives an arbitrary
        integer instead of undefined behaviour.

    Returns
    -------
    k : int32
    """
    return np.float32(n + _SHIFTER32).view(np.int32) - _SHIFTER32_BITS


@njit(**HELPER_OPTIONS)
def _exp_reduced64(x):
    """Range reduction and polynomial of the float64 exponential.

    Parameters
    ----------
    x : float64
        Argument, already clamped to [-746, 710].

    Returns
    -------
    p : float64
        ``exp(r)`` for ``r = x - n * ln(2)``, ``|r| <= ln(2) / 2``.
    k : int64
        ``n``: ``exp(x) = p * 2**k``.
    """
    n = np.rint(x * _LOG2E64)
    r = (x - n * _LN2_HI64) - n * _LN2_LO64
    c = _INV_FACT64
    p = c[13]
    p = p * r + c[12]
    p = p * r + c[11]
    p = p * r + c[10]
    p = p * r + c[9]
    p = p * r + c[8]
    p = p * r + c[7]
    p = p * r + c[6]
    p = p * r + c[5]
    p = p * r + c[4]
    p = p * r + c[3]
    p = p * r + c[2]
    p = p * r + c[1]
    p = p * r + c[0]
    return p, _integer64(n)


@njit(**HELPER_OPTIONS)
def _exp_reduced32(x):
    """Range reduction and polynomial of the float32 exponential.

    Parameters
    ----------
    x : float32
        Argument, already clamped to [-104, 89].

    Returns
    -------
    p : float32
        ``exp(r)`` for ``r = x - n * ln(2)``, ``|r| <= ln(2) / 2``.
    k : int32
        ``n``: ``exp(x) = p * 2**k``.
    """
    n = np.rint(x * _LOG2E32)
    r = (x - n * _LN2_HI32) - n * _LN2_LO32
    c = _INV_FACT32
    p = c[7]
    p = p * r + c[6]
    p = p * r + c[5]
    p = p * r + c[4]
    p = p * r + c[3]
    p = p * r + c[2]
    p = p * r + c[1]
    p = p * r + c[0]
    return p, _integer32(n)


@njit(**JIT_OPTIONS)
def _exp64(x):
    """Exponential of a float64 scalar, branch-free.

    Parameters
    ----------
    x : float64
        Argument.

    Returns
    -------
    y : float64
        ``exp(x)`` within 1 ulp; inf above 709.78, 0 below -745.13, NaN for
        NaN.
    """
    # Comparisons are written so that NaN falls through unchanged.
    x = _EXP_LO64 if x < _EXP_LO64 else x
    x = _EXP_HI64 if x > _EXP_HI64 else x
    p, k = _exp_reduced64(x)
    k_half = k >> 1
    return p * _pow2_64(k_half) * _pow2_64(k - k_half)


@njit(**JIT_OPTIONS)
def _exp32(x):
    """Exponential of a float32 scalar, branch-free, computed in float32.

    Parameters
    ----------
    x : float32
        Argument.

    Returns
    -------
    y : float32
        ``exp(x)`` within 1 float32 ulp; inf above 88.72, 0 below
        -103.97, NaN for NaN.
    """
    x = _EXP_LO32 if x < _EXP_LO32 else x
    x = _EXP_HI32 if x > _EXP_HI32 else x
    p, k = _exp_reduced32(x)
    k_half = k >> 1
    return p * _pow2_32(k_half) * _pow2_32(k - k_half)


@njit(**JIT_OPTIONS)
def _exp_nonpositive64(x):
    """:func:`_exp64` for ``x <= 0`` (or NaN), with cheaper scaling.

    The same value as ``_exp64(x)``, bit for bit.
    """
    x = _EXP_LO64 if x < _EXP_LO64 else x
    p, k = _exp_reduced64(x)
    return (p * _pow2_64(k + _NEG_OFFSET64)) * _NEG_UNSCALE64


@njit(**JIT_OPTIONS)
def _exp_nonpositive32(x):
    """:func:`_exp32` for ``x <= 0`` (or NaN), with cheaper scaling.

    The same value as ``_exp32(x)``, bit for bit.
    """
    x = _EXP_LO32 if x < _EXP_LO32 else x
    p, k = _exp_reduced32(x)
    return (p * _pow2_32(k + _NEG_OFFSET32)) * _NEG_UNSCALE32


@njit(**JIT_OPTIONS)
def _tanh64(x):
    """Hyperbolic tangent of a float64 scalar, branch-free.

    Parameters
    ----------
    x : float64
        Argument.

    Returns
    -------
    y : float64
        ``tanh(x)`` within 3 ulp, also for tiny ``|x|``; +-1 for +-inf,
        NaN for NaN.
    """
    # tanh(|x|) = -expm1(-2|x|) / (2 + expm1(-2|x|)): expm1 instead of exp
    # keeps the relative accuracy for small |x|, where 1 - exp(-2|x|) would
    # cancel.
    a = -2.0 * np.abs(x)
    a = _EXPM1_LO64 if a < _EXPM1_LO64 else a
    n = np.rint(a * _LOG2E64)
    r = (a - n * _LN2_HI64) - n * _LN2_LO64
    c = _INV_FACT64
    p = c[13]
    p = p * r + c[12]
    p = p * r + c[11]
    p = p * r + c[10]
    p = p * r + c[9]
    p = p * r + c[8]
    p = p * r + c[7]
    p = p * r + c[6]
    p = p * r + c[5]
    p = p * r + c[4]
    p = p * r + c[3]
    p = p * r + c[2]
    q = r + (r * r) * p  # expm1(r)
    s = _pow2_64(_integer64(n))
    u = s * q + (s - 1.0)  # expm1(a) = 2**n * expm1(r) + (2**n - 1)
    return np.copysign(-u / (2.0 + u), x)


@njit(**JIT_OPTIONS)
def _tanh32(x):
    """Hyperbolic tangent of a float32 scalar, branch-free, in float32.

    Parameters
    ----------
    x : float32
        Argument.

    Returns
    -------
    y : float32
        ``tanh(x)`` within 2 float32 ulp; +-1 for +-inf, NaN for NaN.
    """
    a = -_TWO32 * np.abs(x)
    a = _EXPM1_LO32 if a < _EXPM1_LO32 else a
    n = np.rint(a * _LOG2E32)
    r = (a - n * _LN2_HI32) - n * _LN2_LO32
    c = _INV_FACT32
    p = c[7]
    p = p * r + c[6]
    p = p * r + c[5]
    p = p * r + c[4]
    p = p * r + c[3]
    p = p * r + c[2]
    q = r + (r * r) * p
    s = _pow2_32(_integer32(n))
    u = s * q + (s - _ONE32)
    return np.copysign(-u / (_TWO32 + u), x)


@njit(**JIT_OPTIONS)
def _sigmoid64(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` of a float64 scalar.

    Parameters
    ----------
    x : float64
        Argument.

    Returns
    -------
    y : float64
        The sigmoid, with small relative error over the whole range
        (including the subnormal results for x near -745); NaN for NaN.
    """
    # exp(-|x|) never overflows; for x < 0 the form exp(x) / (1 + exp(x))
    # keeps the relative accuracy of tiny results.
    e = _exp_nonpositive64(-np.abs(x))
    numerator = 1.0 if x >= 0.0 else e
    return numerator / (1.0 + e)


@njit(**JIT_OPTIONS)
def _sigmoid32(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` of a float32 scalar, in float32.

    Parameters
    ----------
    x : float32
        Argument.

    Returns
    -------
    y : float32
        The sigmoid, with small relative error over the whole range; NaN for
        NaN.
    """
    e = _exp_nonpositive32(-np.abs(x))
    numerator = _ONE32 if x >= _ZERO32 else e
    return numerator / (_ONE32 + e)


def _is_float32(x):
    return isinstance(x, types.Float) and x.bitwidth == 32


# Compiled code resolves the precision once, at typing time.
_OVERLOAD_OPTIONS = {"fastmath": FASTMATH, "error_model": "numpy"}


def _in_precision_of_x(name, what, result, kernel32, kernel64):
    """A scalar function that runs ``kernel32`` on float32 and ``kernel64``
    otherwise, in Python and, through an overload, in compiled code."""

    def function(x):
        if isinstance(x, np.float32):
            return kernel32(x)
        return kernel64(x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"""{what} computed in the precision of ``x``.

    Parameters
    ----------
    x : float32 or float64
        Argument (a scalar; use it inside compiled loops).

    Returns
    -------
    y : float32 or float64
        {result}, same type as ``x``.
    """

    @overload(function, jit_options=_OVERLOAD_OPTIONS)
    def _typed(x):
        if _is_float32(x):
            return lambda x: kernel32(x)
        return lambda x: kernel64(x)

    return function


fast_exp = _in_precision_of_x("fast_exp", "Exponential", "``exp(x)``", _exp32, _exp64)
fast_tanh = _in_precision_of_x(
    "fast_tanh", "Hyperbolic tangent", "``tanh(x)``", _tanh32, _tanh64
)
fast_sigmoid = _in_precision_of_x(
    "fast_sigmoid", "Logistic sigmoid", "``1 / (1 + exp(-x))``", _sigmoid32,
    _sigmoid64,
)  # fmt: skip
