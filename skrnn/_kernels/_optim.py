"""The Adam update as one pass over the parameters.

NumPy runs Adam's update as a chain of whole-vector operations (eight passes
over the moments, the gradient and the parameters); this kernel makes one,
with the same operations in the same order on every element, rounded the
same way: it is compiled without fast-math flags (no fused multiply-adds,
no reciprocal for the division), so its results equal NumPy's bit for bit.
"""

import numpy as np
from numba import njit

from ._config import JIT_OPTIONS

# Exactly IEEE arithmetic, unlike the other kernels.
_EXACT = {**JIT_OPTIONS, "fastmath": False}


@njit(**_EXACT)
def adam_update(params, grad, m, v, beta_1, beta_2, epsilon, learning_rate):
    """One Adam step in place, for vectors of one dtype.

    ``m = beta_1 * m + (1 - beta_1) * grad``, ``v = beta_2 * v + (1 - beta_2)
    * grad**2`` and ``params -= learning_rate * m / (sqrt(v) + epsilon)``.
    ``beta_1``, ``beta_2`` and ``epsilon`` are rounded to the dtype first, as
    NumPy rounds Python floats that meet an array; the product with
    ``learning_rate`` (a float64 that includes the bias corrections) is
    computed in float64 and rounded, as NumPy does for a float64 scalar.
    """
    dtype = params.dtype.type
    b1, b2 = dtype(beta_1), dtype(beta_2)
    c1, c2 = dtype(1.0 - beta_1), dtype(1.0 - beta_2)
    eps = dtype(epsilon)
    for i in range(params.shape[0]):
        g = grad[i]
        m_i = m[i] * b1 + c1 * g
        v_i = v[i] * b2 + (g * g) * c2
        m[i] = m_i
        v[i] = v_i
        ratio = m_i / (np.sqrt(v_i) + eps)
        params[i] -= dtype(np.float64(ratio) * learning_rate)
