"""Helpers shared by the Elman, LSTM and GRU kernels.

Conventions used throughout ``skrnn._kernels`` (one chunk of the batch):

- ``T`` steps, ``B`` rows, ``lengths`` sorted non-increasing.
- Global step ``u`` runs over ``0 .. T - 1``; row ``b`` is active at ``u`` when
  ``u >= T - lengths[b]``, at processing step ``s = u - (T - lengths[b])``,
  which visits real time ``s`` (forward) or ``lengths[b] - 1 - s``
  (reverse). The active rows form a prefix ``[0, n_active)``.
- The forward pass stores the last ``N = store.shape[0]`` global steps, slot
  ``k`` holding step ``u = T - N + k``.
"""

import numpy as np
from numba import njit

from ._config import JIT_OPTIONS


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


@njit(**JIT_OPTIONS)
def _copy_matrix(src, dst):
    """Copy a 2-D array into another of the same shape.

    Parameters
    ----------
    src : ndarray of shape (n, m)
        Source.
    dst : ndarray of shape (n, m)
        Destination, overwritten.
    """
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@njit(**JIT_OPTIONS)
def _n_active(lengths, min_length):
    """Count the leading rows whose length is at least ``min_length``.

    Parameters
    ----------
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    min_length : int
        Threshold; at global step ``u`` it is ``T - u``.

    Returns
    -------
    n_active : int
        Size of the active prefix.
    """
    n_active = 0
    while n_active < lengths.shape[0] and lengths[n_active] >= min_length:
        n_active += 1
    return n_active


@njit(**JIT_OPTIONS)
def _real_step(length, n_steps, u, reverse):
    """Real time step visited by a row at global step ``u``.

    Parameters
    ----------
    length : int
        Length of the row (the row must be active at ``u``).
    n_steps : int
        Number of global steps ``T``.
    u : int
        Global step.
    reverse : bool
        Whether the direction runs from the last real step to the first.

    Returns
    -------
    t : int
        Real time step in ``[0, length)``.
    s : int
        Processing step of the row.
    """
    s = u - (n_steps - length)
    if reverse:
        return length - 1 - s, s
    return s, s


@njit(**JIT_OPTIONS)
def _store_section(store, start, width):
    """View one section of a chunk's storage as an (N, B, width) array.

    The storage of a chunk is used as one flat buffer split into sections,
    each contiguous over (slot, row), so that a section can enter a GEMM over
    all stored steps at once.

    Parameters
    ----------
    store : ndarray of shape (N, B, S)
        Storage of one chunk (C-contiguous).
    start : int
        Offset of the section, in multiples of ``N * B`` floats.
    width : int
        Floats per slot and row in the section.

    Returns
    -------
    section : ndarray of shape (N, B, width)
        A view into ``store``.
    """
    n_slots, n_rows = store.shape[0], store.shape[1]
    size = n_slots * n_rows
    flat = store.reshape(store.size)
    return flat[size * start : size * (start + width)].reshape(n_slots, n_rows, width)


@njit(**JIT_OPTIONS)
def _zero_padding(lengths, H_out, h_off, n_hidden):
    """Write zeros into the output columns of a chunk at padded steps.

    Parameters
    ----------
    lengths : ndarray of shape (B,), dtype int64
        Row lengths.
    H_out : ndarray of shape (T, B, D * H)
        Output of the chunk; columns ``[h_off, h_off + n_hidden)`` are set to
        zero at steps ``t >= lengths[b]``.
    h_off : int
        First column of this direction.
    n_hidden : int
        Hidden size ``H``.
    """
    for b in range(lengths.shape[0]):
        for t in range(lengths[b], H_out.shape[0]):
            H_out[t, b, h_off : h_off + n_hidden] = 0.0


@njit(**JIT_OPTIONS)
def _gather_inputs(X, lengths, reverse, n_slots, X_slots):
    """Copy the inputs of the stored steps into slot coordinates.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input of the chunk, in real time.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    reverse : bool
        Direction.
    n_slots : int
        Number of stored steps ``N``.
    X_slots : ndarray of shape (N, B, I)
        Zero-initialised output: ``X_slots[k, b]`` receives the input that row
        ``b`` consumed at global step ``T - N + k``, and stays zero where the
        row was inactive. Padding values of ``X`` are never read, so they
        cannot leak into the gradients even when they are not finite.
    """
    n_steps = X.shape[0]
    for k in range(n_slots):
        u = n_steps - n_slots + k
        for b in range(_n_active(lengths, n_steps - u)):
            t, _ = _real_step(lengths[b], n_steps, u, reverse)
            _copy_vector(X[t, b], X_slots[k, b])


@njit(**JIT_OPTIONS)
def _scatter_add_inputs(dX_slots, lengths, reverse, dX):
    """Add input gradients from slot coordinates into real time.

    Parameters
    ----------
    dX_slots : ndarray of shape (N, B, I)
        Input gradients of the stored steps (only active rows are read).
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    reverse : bool
        Direction.
    dX : ndarray of shape (T, B, I)
        Input gradient of the chunk, added to.
    """
    n_steps, n_slots = dX.shape[0], dX_slots.shape[0]
    for k in range(n_slots):
        u = n_steps - n_slots + k
        for b in range(_n_active(lengths, n_steps - u)):
            t, _ = _real_step(lengths[b], n_steps, u, reverse)
            for i in range(dX.shape[2]):
                dX[t, b, i] += dX_slots[k, b, i]


@njit(**JIT_OPTIONS)
def _column_sums(A, out):
    """Sum the rows of a matrix.

    Parameters
    ----------
    A : ndarray of shape (n, m)
        Matrix.
    out : ndarray of shape (m,)
        Overwritten with ``A.sum(axis=0)``.
    """
    out[:] = 0.0
    # Row-major traversal keeps the inner loop contiguous and vectorised.
    for r in range(A.shape[0]):
        for j in range(A.shape[1]):
            out[j] += A[r, j]


@njit(**JIT_OPTIONS)
def _input_gradients(dA, X_slots, W_ih, lengths, reverse, dX, dW_ih, db_ih):
    """Gradients of the input projection, as GEMMs over all stored steps.

    Parameters
    ----------
    dA : ndarray of shape (N, B, G * H)
        Gradient of the loss w.r.t. ``W_ih x + b_ih`` per slot and row, zero
        for inactive rows.
    X_slots : ndarray of shape (N, B, I)
        Inputs per slot and row (see :func:`_gather_inputs`).
    W_ih : ndarray of shape (G * H, I)
        Input weights.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    reverse : bool
        Direction.
    dX : ndarray of shape (T, B, I)
        Input gradient of the chunk, added to; not computed when ``T == 0``.
    dW_ih : ndarray of shape (G * H, I)
        Overwritten with the gradient of the input weights.
    db_ih : ndarray of shape (G * H,)
        Overwritten with the gradient of the input bias.
    """
    n_slots, n_rows, n_gates = dA.shape
    n_inputs = X_slots.shape[2]
    if n_slots == 0:
        dW_ih[:] = 0.0
        db_ih[:] = 0.0
        return
    dA_2d = dA.reshape(n_slots * n_rows, n_gates)
    np.dot(dA_2d.T, X_slots.reshape(n_slots * n_rows, n_inputs), out=dW_ih)
    _column_sums(dA_2d, db_ih)
    if dX.shape[0] > 0:
        dX_slots = np.dot(dA_2d, W_ih).reshape(n_slots, n_rows, n_inputs)
        _scatter_add_inputs(dX_slots, lengths, reverse, dX)


@njit(**JIT_OPTIONS)
def _recurrent_gradients(dA, H_prev, dW_hh, db_hh):
    """Gradients of the recurrent projection, as one GEMM over stored steps.

    Parameters
    ----------
    dA : ndarray of shape (N, B, G * H)
        Gradient w.r.t. ``W_hh h_prev + b_hh`` per slot and row, zero for
        inactive rows.
    H_prev : ndarray of shape (N, B, H)
        State entering each stored step (finite for inactive rows).
    dW_hh : ndarray of shape (G * H, H)
        Overwritten with the gradient of the recurrent weights.
    db_hh : ndarray of shape (G * H,)
        Overwritten with the gradient of the recurrent bias.
    """
    n_slots, n_rows, n_gates = dA.shape
    if n_slots == 0:
        dW_hh[:] = 0.0
        db_hh[:] = 0.0
        return
    dA_2d = dA.reshape(n_slots * n_rows, n_gates)
    np.dot(dA_2d.T, H_prev.reshape(n_slots * n_rows, H_prev.shape[2]), out=dW_hh)
    _column_sums(dA_2d, db_hh)


@njit(**JIT_OPTIONS)
def _initial_state_gradient(lengths, n_slots, d_state, d_state0):
    """Copy the carried gradient to the initial state where it is defined.

    Parameters
    ----------
    lengths : ndarray of shape (B,), dtype int64
        Row lengths.
    n_slots : int
        Number of stored steps ``N``.
    d_state : ndarray of shape (B, H)
        Gradient carried back to before each row's first processed step.
    d_state0 : ndarray of shape (B, H)
        Overwritten: ``d_state`` for rows processed entirely within the stored
        window, zero for truncated rows (the state entering the window is a
        constant) and for dummy rows of length 0.
    """
    for b in range(lengths.shape[0]):
        if 0 < lengths[b] <= n_slots:
            _copy_vector(d_state[b], d_state0[b])
        else:
            d_state0[b, :] = 0.0


@njit(**JIT_OPTIONS)
def _sum_chunks(per_chunk, out):
    """Sum per-chunk buffers into ``out`` (serially, after a parallel loop).

    Parameters
    ----------
    per_chunk : ndarray of shape (C, n)
        One flattened gradient per chunk.
    out : ndarray of shape (n,)
        Overwritten with the sum over chunks.
    """
    _copy_vector(per_chunk[0], out)
    for c in range(1, per_chunk.shape[0]):
        for j in range(out.shape[0]):
            out[j] += per_chunk[c, j]
