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

Each function is written once for both precisions. What differs between
float32 and float64 (the degree of the polynomial, the clamps, the split of
``ln(2)``, the bit widths) is a table of constants, :class:`_Precision`, one
instance per precision: :data:`_FLOAT64` and :data:`_FLOAT32`, whose float
constants have the precision's own type, so float32 arithmetic stays float32.
A function finds the table of its argument's type through
:func:`_precision_of`, at compile time; Numba compiles ``fast_exp``,
``fast_tanh`` and ``fast_sigmoid`` once per precision, so a kernel written once
computes in the precision of its arrays. With ``NUMBA_DISABLE_JIT=1`` the same
functions run as plain Python on NumPy scalars.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, typeof, types
from numba.extending import lower_builtin, type_callable

from ._config import HELPER_OPTIONS, JIT_OPTIONS


class _Precision(NamedTuple):
    """The constants of the functions below in one floating-point precision.

    Float fields have the precision's type; :func:`_precision` builds the
    table from the few numbers that are chosen per precision.
    """

    # Reciprocal factorials 1/k!, k = 0..degree, the Taylor coefficients of
    # exp(r): exact to the last bit.
    inv_fact: tuple
    log2e: float
    # ln(2) split in a high part with trailing zero bits (so that n * ln2_hi
    # is exact for every n used) and the remainder.
    ln2_hi: float
    ln2_lo: float
    # Clamps of the exponential's argument, just outside the range where
    # exp(x) is finite and nonzero: the results stay inf and 0 while the
    # exponent arithmetic stays bounded.
    exp_lo: float
    exp_hi: float
    # Where expm1 rounds to -1: tanh needs nothing beyond.
    expm1_lo: float
    # exp(a) for a <= 0 (the sigmoid's) is scaled by 2**(n + neg_offset) and
    # then by neg_unscale = 2**-neg_offset: the first product is exact (a
    # normal number even at the lowest clamped n), and the second rounds
    # once, as the two-factor scaling of the general exponential does, for
    # results down in the subnormals.
    neg_offset: int
    neg_unscale: float
    zero: float
    one: float
    two: float
    # The precision's two bit manipulations (compiled functions, see
    # :func:`_precision`): integer(n), the integer value of an integer-valued
    # float n, and pow2(k), 2.0**k for an exponent k of a normal number.
    integer: object
    pow2: object


def _precision(dtype, degree, ln2_hi, ln2_lo, exp_lo, exp_hi, expm1_lo, neg_offset):
    """The :class:`_Precision` of the float type ``dtype``.

    Parameters
    ----------
    dtype : {np.float32, np.float64}
        The precision.
    degree : int
        Degree of the Taylor polynomial of ``exp(r)`` on
        ``|r| <= ln(2) / 2``.
    ln2_hi, ln2_lo, exp_lo, exp_hi, expm1_lo, neg_offset : float or int
        The fields of the same names (floats are converted to ``dtype``).

    Returns
    -------
    precision : _Precision
    """
    int_type = np.dtype(f"i{np.dtype(dtype).itemsize}").type
    mantissa_bits = np.finfo(dtype).nmant
    exponent_bias = np.finfo(dtype).maxexp - 1
    # Adding 1.5 * 2**52 (1.5 * 2**23 in float32) to an integer-valued float
    # n with |n| < 2**51 (2**22) gives a float whose low mantissa bits hold n
    # in two's complement: its bits minus the constant's bits are n. Unlike a
    # float-to-integer conversion, which is undefined for NaN (and so needed
    # a NaN test before it), this is defined for every input and costs one
    # add and one integer subtraction; NaN gives some integer, and the result
    # is NaN through the polynomial anyway.
    shifter = dtype(1.5 * 2.0**mantissa_bits)
    shifter_bits = shifter.view(int_type)

    # Numba's ``view`` takes the NumPy types by name, hence a pair of
    # compiled functions per precision (told apart in Numba's cache by the
    # values they close over).
    @njit(**HELPER_OPTIONS)
    def integer(n):
        return dtype(n + shifter).view(int_type) - shifter_bits

    @njit(**HELPER_OPTIONS)
    def pow2(k):
        return int_type((k + exponent_bias) << mantissa_bits).view(dtype)

    return _Precision(
        inv_fact=tuple(dtype(1.0 / math.factorial(k)) for k in range(degree + 1)),
        log2e=dtype(1.4426950408889634),
        ln2_hi=dtype(ln2_hi),
        ln2_lo=dtype(ln2_lo),
        exp_lo=dtype(exp_lo),
        exp_hi=dtype(exp_hi),
        expm1_lo=dtype(expm1_lo),
        neg_offset=neg_offset,
        neg_unscale=dtype(2.0**-neg_offset),
        zero=dtype(0.0),
        one=dtype(1.0),
        two=dtype(2.0),
        integer=integer,
        pow2=pow2,
    )


# On |r| <= ln(2) / 2, degree 13 leaves a truncation error of 4e-18 and
# degree 7 one of 5e-9, below half an ulp of float64 and float32.
# exp overflows above 709.78 (88.72) and underflows below -745.13 (-103.97);
# expm1(-40) (expm1(-20)) rounds to -1.
_FLOAT64 = _precision(
    np.float64,
    degree=13,
    ln2_hi=6.93147180369123816490e-01,
    ln2_lo=1.90821492927058770002e-10,
    exp_lo=-746.0,
    exp_hi=710.0,
    expm1_lo=-40.0,
    neg_offset=55,
)
_FLOAT32 = _precision(
    np.float32,
    degree=7,
    ln2_hi=0.693359375,
    ln2_lo=-2.12194440e-4,
    exp_lo=-104.0,
    exp_hi=89.0,
    expm1_lo=-20.0,
    neg_offset=25,
)


def _precision_of(x):
    """The :class:`_Precision` of ``x``: float32's for float32, else float64's."""
    return _FLOAT32 if isinstance(x, np.float32) else _FLOAT64


def _table_of_type(x):
    """The :class:`_Precision` of the Numba type ``x``."""
    return _FLOAT32 if isinstance(x, types.Float) and x.bitwidth == 32 else _FLOAT64


# In compiled code the table is a constant, chosen from the argument's type
# while typing: nothing is computed and no function is compiled for it.
@type_callable(_precision_of)
def _type_precision_of(context):
    return lambda x: typeof(_table_of_type(x))


@lower_builtin(_precision_of, types.Any)
def _lower_precision_of(context, builder, signature, args):
    table = _table_of_type(signature.args[0])
    return context.get_constant_generic(builder, signature.return_type, table)


def _in_precision_of_x(what, result):
    """Give a scalar function of this module its docstring."""

    def document(function):
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
        return function

    return document


@njit(**HELPER_OPTIONS)
def _exp_tail(r):
    """The Taylor polynomial of ``(exp(r) - 1 - r) / r**2``.

    ``sum(r**(k - 2) / k! for k = 2..degree)``, by Horner's rule: ``exp(r)``
    and ``expm1(r)`` both continue from it.

    Parameters
    ----------
    r : float32 or float64
        The reduced argument, ``|r| <= ln(2) / 2``.

    Returns
    -------
    p : float32 or float64
    """
    c = _precision_of(r).inv_fact
    p = c[len(c) - 1]
    # A constant trip count: the loop unrolls.
    for k in range(len(c) - 2, 1, -1):
        p = p * r + c[k]
    return p


@njit(**HELPER_OPTIONS)
def _reduced(x):
    """Cody-Waite range reduction ``x = n * ln(2) + r``.

    Parameters
    ----------
    x : float32 or float64
        Argument, already clamped.

    Returns
    -------
    r : float32 or float64
        ``x - n * ln(2)``, with ``|r| <= ln(2) / 2``.
    n : float32 or float64
        The integer ``rint(x / ln(2))``.
    """
    c = _precision_of(x)
    n = np.rint(x * c.log2e)
    return (x - n * c.ln2_hi) - n * c.ln2_lo, n


@njit(**HELPER_OPTIONS)
def _exp_reduced(x):
    """Range reduction and polynomial of the exponential.

    Parameters
    ----------
    x : float32 or float64
        Argument, already clamped to ``[exp_lo, exp_hi]``.

    Returns
    -------
    p : float32 or float64
        ``exp(r)`` for ``r = x - n * ln(2)``, ``|r| <= ln(2) / 2``.
    k : int
        ``n``: ``exp(x) = p * 2**k``.
    """
    c = _precision_of(x)
    r, n = _reduced(x)
    p = (_exp_tail(r) * r + c.inv_fact[1]) * r + c.inv_fact[0]
    return p, c.integer(n)


@njit(**JIT_OPTIONS)
@_in_precision_of_x("Exponential", "``exp(x)``")
def fast_exp(x):
    # Within 1 ulp; inf above 709.78 (float32: 88.72), 0 below -745.13
    # (float32: -103.97).
    c = _precision_of(x)
    # Comparisons are written so that NaN falls through unchanged.
    x = c.exp_lo if x < c.exp_lo else x
    x = c.exp_hi if x > c.exp_hi else x
    p, k = _exp_reduced(x)
    k_half = k >> 1
    return p * c.pow2(k_half) * c.pow2(k - k_half)


@njit(**JIT_OPTIONS)
def _exp_nonpositive(x):
    """:func:`fast_exp` for ``x <= 0`` (or NaN), with cheaper scaling.

    The same value as ``fast_exp(x)``, bit for bit.
    """
    c = _precision_of(x)
    x = c.exp_lo if x < c.exp_lo else x
    p, k = _exp_reduced(x)
    return (p * c.pow2(k + c.neg_offset)) * c.neg_unscale


@njit(**JIT_OPTIONS)
@_in_precision_of_x("Hyperbolic tangent", "``tanh(x)``")
def fast_tanh(x):
    # Within 3 ulp (float32: 2), also for tiny |x|.
    c = _precision_of(x)
    # tanh(|x|) = -expm1(-2|x|) / (2 + expm1(-2|x|)): expm1 instead of exp
    # keeps the relative accuracy for small |x|, where 1 - exp(-2|x|) would
    # cancel.
    a = -c.two * np.abs(x)
    a = c.expm1_lo if a < c.expm1_lo else a
    r, n = _reduced(a)
    q = r + (r * r) * _exp_tail(r)  # expm1(r)
    s = c.pow2(c.integer(n))
    u = s * q + (s - c.one)  # expm1(a) = 2**n * expm1(r) + (2**n - 1)
    return np.copysign(-u / (c.two + u), x)


@njit(**JIT_OPTIONS)
@_in_precision_of_x("Logistic sigmoid", "``1 / (1 + exp(-x))``")
def fast_sigmoid(x):
    # Small relative error over the whole range, including the subnormal
    # results for x near -745 (float32: -104).
    c = _precision_of(x)
    # exp(-|x|) never overflows; for x < 0 the form exp(x) / (1 + exp(x))
    # keeps the relative accuracy of tiny results.
    e = _exp_nonpositive(-np.abs(x))
    numerator = c.one if x >= c.zero else e
    return numerator / (c.one + e)


# Both precisions are one function; the names by precision stay for callers
# that state the precision they check (tests/test_math.py).
_exp64 = _exp32 = fast_exp
_exp_nonpositive64 = _exp_nonpositive32 = _exp_nonpositive
