"""Array primitives of the kernels: copies and accumulated matrix products.

Written as explicit loops or single ``np.dot`` calls because Numba's
array-to-array slice assignment and in-place operators (with their overlap
handling) cost seconds of compile time at every call site.
"""

import numpy as np
from numba import njit

from ._config import HELPER_OPTIONS, JIT_OPTIONS


@njit(**JIT_OPTIONS)
def _copy_vector(src, dst):
    """Copy a 1-D array into another of the same length.

    Parameters
    ----------
    src : ndarray of shape (n,)
        Source.
    dst : ndarray of shape (n,)
        Destination, overwritten.

    Notes
    -----
    Explicit loops instead of ``dst[:] = src``: Numba's array-to-array slice
    assignment and in-place operators (with their overlap handling) cost
    seconds of compile time at every call site, so the kernels avoid them.
    """
    for j in range(src.shape[0]):
        dst[j] = src[j]


@njit(**HELPER_OPTIONS)
def _fill(dst, value):
    """Set every element of a 1-D array to ``value``.

    The backward kernels clear their gradients and make their vector of
    ones with it: one small helper compiles faster than slice assignments
    (``dW[:] = 0.0``) and ``np.ones`` at each site.
    """
    for j in range(dst.shape[0]):
        dst[j] = value


@njit(**JIT_OPTIONS)
def _copy_matrix(src, dst):
    """Copy a 2-D array ``src`` into ``dst``, of the same shape."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@njit(**HELPER_OPTIONS)
def _copy_transposed(src, dst):
    """Overwrite ``dst`` ``(m, n)`` with the transpose of ``src`` ``(n, m)``."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[j, i] = src[i, j]


@njit(**HELPER_OPTIONS)
def _add_matmul(A, B, out):
    """Add ``A @ B`` into ``out`` (one GEMM, then an elementwise sum).

    Parameters
    ----------
    A : ndarray of shape (n, m)
        Left factor.
    B : ndarray of shape (m, p)
        Right factor.
    out : ndarray of shape (n, p)
        Added to.
    """
    # np.dot with out=: the two-argument form compiles a second wrapper
    # around the same BLAS call (and its own np.zeros and np.empty).
    product = np.empty((A.shape[0], B.shape[1]), dtype=out.dtype)
    np.dot(A, B, out=product)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] += product[i, j]


@njit(**HELPER_OPTIONS)
def _add_row_sums(A, ones, out):
    """Add the sum of each row of a matrix into a vector.

    Parameters
    ----------
    A : ndarray of shape (n, m)
        Matrix.
    ones : ndarray of shape (m,)
        Ones.
    out : ndarray of shape (n,)
        Added to: ``out += A.sum(axis=1)``.

    Notes
    -----
    A matrix-vector product: a sum along contiguous rows is a serial chain
    of additions that LLVM may not reorder (no 'reassoc' fast-math flag).
    """
    sums = np.empty(A.shape[0], dtype=out.dtype)
    np.dot(A, ones, out=sums)  # out=: as in _add_matmul
    for i in range(out.shape[0]):
        out[i] += sums[i]


@njit(**JIT_OPTIONS)
def _product_into(A, B, out):
    """Overwrite ``out`` ``(n, p)`` with ``A @ B`` (one GEMM)."""
    np.dot(A, B, out=out)
