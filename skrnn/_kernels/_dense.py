"""Row-wise kernels outside the recurrent layers: softmaxes, embedding gradients.

The translator's attention normalises every decoder step's scores over the
real steps of its encoder sequence, and its output layer takes the
cross-entropy of a softmax over the output vocabulary at every real decoder
step. In NumPy each is a chain of temporaries (mask, maximum, exponential,
sum, division, logarithm, gathering the targets, the gradient); the kernels
below make one pass over each row, with the vectorisable exponential of
:mod:`skrnn._kernels._math`. :func:`add_rows` scatters the input gradient of
every step into its token's row of an embedding's gradient, in the order of
the steps (as ``np.add.at`` does, without its per-element dispatch).

Both compute in the dtype of their arrays (the loss itself is summed in
float64); sums along a row run in a fixed order (no 'reassoc' flag), so
results do not depend on the vector width.
"""

import numpy as np
from numba import njit

from ._config import HELPER_OPTIONS, JIT_OPTIONS
from ._math import fast_exp


@njit(**JIT_OPTIONS)
def _shifted_exp(row, n, dst):
    """``dst[:n] = exp(row[:n] - max(row[:n]))``; returns the maximum and the sum."""
    top = row[0]
    for j in range(1, n):
        top = max(top, row[j])
    total = row.dtype.type(0.0)
    for j in range(n):
        e = fast_exp(row[j] - top)
        dst[j] = e
        total += e
    return top, total


@njit(**JIT_OPTIONS)
def masked_softmax(scores, lengths, out):
    """Softmax over the first ``lengths[i]`` entries of every row of ``scores[i]``.

    ``scores`` and ``out`` are (n, T_y, T_x); entries at or beyond
    ``lengths[i]`` are never read and get weight 0, and a sequence of length
    0 gets weights 0 throughout. ``out`` may be ``scores``.
    """
    n, n_rows, n_cols = scores.shape
    for i in range(n):
        L = lengths[i]
        for t in range(n_rows):
            row, dst = scores[i, t], out[i, t]
            if L > 0:
                _, total = _shifted_exp(row, L, dst)
                scale = row.dtype.type(1.0) / total
                for s in range(L):
                    dst[s] *= scale
            for s in range(L, n_cols):
                dst[s] = 0.0


@njit(**HELPER_OPTIONS)
def _log_softmax_row(row, dst):
    """``dst = row - max(row) - log(sum(exp(row - max(row))))``, in float64.

    Parameters
    ----------
    row : ndarray of shape (C,)
        Scores (float32 or float64).
    dst : ndarray of shape (C,), float64
        Output.
    """
    n_classes = row.shape[0]
    top = np.float64(row[0])
    for j in range(1, n_classes):
        top = max(top, np.float64(row[j]))
    total = 0.0
    for j in range(n_classes):
        shifted = np.float64(row[j]) - top
        dst[j] = shifted
        total += fast_exp(shifted)
    log_total = np.log(total)
    for j in range(n_classes):
        dst[j] -= log_total


@njit(**JIT_OPTIONS)
def log_softmax_rows(Z, out):
    """Log-softmax of every row of ``Z`` (n, C), computed and written in float64.

    ``out`` (n, C) float64 receives ``Z[i] - max(Z[i]) - log(sum(exp(...)))``;
    the scores of a decoding step in the precision that beam search adds them
    up in.
    """
    for i in range(Z.shape[0]):
        _log_softmax_row(Z[i], out[i])


@njit(**JIT_OPTIONS)
def softmax_cross_entropy(Z, targets, weights, dZ):
    """Weighted cross-entropy of softmax outputs, and its gradient.

    Parameters
    ----------
    Z : ndarray of shape (n, C)
        Scores (logits).
    targets : ndarray of shape (n,), dtype int
        Class of every row, in ``[0, C)``.
    weights : ndarray of shape (n,)
        Weight of every row in the sum.
    dZ : ndarray of shape (n, C)
        Overwritten with the gradient of the loss w.r.t. ``Z``:
        ``weights[i] * (softmax(Z[i]) - onehot(targets[i]))``.

    Returns
    -------
    loss : float
        ``-sum_i weights[i] * log softmax(Z[i])[targets[i]]``, summed in
        float64.
    """
    n, n_classes = Z.shape
    loss = 0.0
    for i in range(n):
        row, grad = Z[i], dZ[i]
        top, total = _shifted_exp(row, n_classes, grad)
        w = weights[i]
        target = targets[i]
        loss -= np.float64(w) * (
            np.float64(row[target] - top) - np.log(np.float64(total))
        )
        scale = w / total
        for j in range(n_classes):
            grad[j] *= scale
        grad[target] -= w
    return loss


@njit(**JIT_OPTIONS)
def add_rows(dX, ids, dE):
    """``dE[ids[j]] += dX[j]`` for ``j = 0, 1, ...`` in turn.

    Parameters
    ----------
    dX : ndarray of shape (n, D)
        Gradients of the embedded steps.
    ids : ndarray of shape (n,), dtype int
        Token of every step, in ``[0, len(dE))``.
    dE : ndarray of shape (V, D)
        Embedding gradient, added to.
    """
    for j in range(ids.shape[0]):
        row, src = dE[ids[j]], dX[j]
        for k in range(src.shape[0]):
            row[k] += src[k]
