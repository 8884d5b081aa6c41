"""Time-step bookkeeping shared by the Elman, LSTM and GRU kernels.

Conventions used throughout ``skrnn._kernels`` (one chunk of the batch):

- ``T`` steps, ``B`` rows, ``lengths`` sorted non-increasing.
- Global step ``u`` runs over ``0 .. T - 1``; row ``b`` is active at ``u`` when
  ``u >= T - lengths[b]``, at processing step ``s = u - (T - lengths[b])``,
  which visits real time ``s`` (forward) or ``lengths[b] - 1 - s``
  (reverse). The active rows form a prefix ``[0, n_active)``.
- The forward pass stores the last ``N = store.shape[0]`` global steps, slot
  ``k`` holding step ``u = T - N + k``.
- States, gates and their gradients are unit-major, ``(units, rows)``: the
  elementwise gate loops run over the rows of the batch innermost, so they
  vectorise fully at any ``H`` (row-major loops of ``H`` iterations spend
  most of their time outside the vector body at small ``H``), and the
  per-step GEMMs are ``W_hh @ h`` with ``h`` of shape ``(H, rows)``.

The helpers below are the pieces of the time loops that every cell runs
(:mod:`skrnn._kernels._scan`): storing the state entering a step, projecting
a block of inputs, the active part of the state, writing outputs, and in the
backward pass adding the output gradients, the recurrent carry, and the
block's parameter and input gradients.
"""

import numpy as np
from numba import njit

from ._arrays import (
    _add_matmul,
    _add_row_sums,
    _copy_matrix,
    _copy_transposed,
    _copy_vector,
)
from ._config import HELPER_OPTIONS, JIT_OPTIONS


@njit(**HELPER_OPTIONS)
def _n_active(lengths, min_length):
    """The size of the active prefix: the leading rows whose ``lengths`` are
    at least ``min_length`` (``T - u`` at global step ``u``)."""
    n_active = 0
    while n_active < lengths.shape[0] and lengths[n_active] >= min_length:
        n_active += 1
    return n_active


@njit(**HELPER_OPTIONS)
def _first_active_step(lengths, n_steps):
    """First global step at which any row is active: ``T - max(lengths)``,
    or ``T = n_steps`` when there are no rows."""
    if lengths.shape[0] == 0:
        return n_steps
    return n_steps - lengths[0]


@njit(**HELPER_OPTIONS)
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


@njit(**HELPER_OPTIONS)
def _unit_section(store, start, width):
    """One section of a chunk's storage, unit-major: ``(N, width, B)``.

    The storage of a chunk is used as one flat buffer split into sections of
    ``N * B * width`` floats, each viewed in the layout of the kernels: the
    elementwise loops run over the rows of the batch innermost, and each slot
    stays contiguous, so that a step touches few memory pages.

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
    section : ndarray of shape (N, width, B)
        A view into ``store``.
    """
    size = store.shape[0] * store.shape[1]
    values = store.reshape(store.size)[size * start : size * (start + width)]
    return values.reshape(store.shape[0], width, store.shape[1])


@njit(**HELPER_OPTIONS)
def _zero_padding(lengths, H_out, h_off, n_hidden):
    """Write zeros into the output columns ``[h_off, h_off + n_hidden)`` of
    ``H_out`` ``(T, B, D * H)`` at each row's padded steps,
    ``t >= lengths[b]``."""
    for b in range(lengths.shape[0]):
        for t in range(lengths[b], H_out.shape[0]):
            for j in range(h_off, h_off + n_hidden):
                H_out[t, b, j] = 0.0


@njit(**HELPER_OPTIONS)
def _gather_steps(X, lengths, reverse, u_first, X_steps):
    """Copy the inputs of consecutive global steps into step coordinates.

    ``X_steps[k, b]`` ``(n, B, I)`` is overwritten with the input that row
    ``b`` consumes at global step ``u_first + k`` of ``X`` ``(T, B, I)`` (real
    time; ``lengths`` and ``reverse`` locate it), and zeros where the row is
    inactive. Padding values of ``X`` are never read, so they cannot leak
    into projections or gradients even when they are not finite.
    """
    n_steps, n_rows, n_inputs = X.shape
    for k in range(X_steps.shape[0]):
        u = u_first + k
        n_act = _n_active(lengths, n_steps - u)
        for b in range(n_act):
            t, _ = _real_step(lengths[b], n_steps, u, reverse)
            _copy_vector(X[t, b], X_steps[k, b])
        for b in range(n_act, n_rows):
            for i in range(n_inputs):
                X_steps[k, b, i] = 0.0


@njit(**HELPER_OPTIONS)
def _scatter_add_steps(dX_steps, lengths, reverse, u_first, dX):
    """Add input gradients of consecutive global steps into real time.

    The inverse of :func:`_gather_steps`: the active rows of ``dX_steps``
    ``(n, B, I)``, the gradients of global steps ``u_first .. u_first + n -
    1``, are added to ``dX`` ``(T, B, I)`` at their real steps.
    """
    n_steps = dX.shape[0]
    for k in range(dX_steps.shape[0]):
        u = u_first + k
        for b in range(_n_active(lengths, n_steps - u)):
            t, _ = _real_step(lengths[b], n_steps, u, reverse)
            for i in range(dX.shape[2]):
                dX[t, b, i] += dX_steps[k, b, i]


@njit(**HELPER_OPTIONS)
def _store_state(state, n_act, slot_values):
    """Store the state entering a step: active rows, zeros for the others.

    Parameters
    ----------
    state : ndarray of shape (H, B)
        State before the step (unit-major).
    n_act : int
        Active rows at the step.
    slot_values : ndarray of shape (H, B)
        Overwritten. Inactive rows enter the weight-gradient GEMM with zero
        gradient; zeros here keep them finite whatever the buffer held.
    """
    for j in range(state.shape[0]):
        for b in range(n_act):
            slot_values[j, b] = state[j, b]
        for b in range(n_act, state.shape[1]):
            slot_values[j, b] = 0.0


@njit(**HELPER_OPTIONS)
def _project_block(X, lengths, reverse, u_first, W_ih, X_steps, proj_buffer):
    """Input projection of a block of consecutive global steps, as one GEMM.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input of the chunk, in real time.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    reverse : bool
        Direction.
    u_first : int
        First global step of the block.
    W_ih : ndarray of shape (G * H, I)
        Input weights.
    X_steps : ndarray of shape (n, B, I)
        Workspace for the gathered inputs of the ``n`` steps of the block.
    proj_buffer : ndarray of shape (>= G * H * n * B,)
        Memory of the result.

    Returns
    -------
    X_proj : ndarray of shape (G * H, n * B)
        A view of ``proj_buffer``: column ``k * B + b`` holds ``W_ih x`` for
        the input that row ``b`` consumes at global step ``u_first + k``
        (zero where inactive).

    Notes
    -----
    Projecting a block of steps at a time instead of the whole sequence
    keeps the memory of the forward pass proportional to the block (and to
    what is stored for the backward pass), not to ``T``, while the GEMM still
    has enough columns to run near the BLAS peak.
    """
    n, n_rows, n_inputs = X_steps.shape
    n_gates = W_ih.shape[0]
    X_proj = proj_buffer[: n_gates * n * n_rows].reshape(n_gates, n * n_rows)
    _gather_steps(X, lengths, reverse, u_first, X_steps)
    np.dot(W_ih, X_steps.reshape(n * n_rows, n_inputs).T, out=X_proj)
    return X_proj


@njit(**HELPER_OPTIONS)
def _active_state(state, n_act, buffer):
    """The active rows of a state as a contiguous ``(H, n_act)`` matrix.

    The state itself when every row is active, else a copy in ``buffer``:
    the recurrent GEMM then reads only the rows still running.
    """
    if n_act == state.shape[1]:
        return state
    active = buffer[: state.shape[0] * n_act].reshape(state.shape[0], n_act)
    _copy_matrix(state[:, :n_act], active)
    return active


@njit(**HELPER_OPTIONS)
def _write_outputs(h, lengths, n_steps, u, reverse, n_act, H_out, h_off):
    """Write the state ``h`` ``(H, B)`` after global step ``u`` into ``H_out``.

    Each of the ``n_act`` active rows writes its real step of ``H_out``
    ``(T, B, D * H)``, columns ``[h_off, h_off + H)``; ``lengths``,
    ``n_steps`` and ``reverse`` locate it, as in the module's conventions.
    """
    for b in range(n_act):
        t, _ = _real_step(lengths[b], n_steps, u, reverse)
        for j in range(h.shape[0]):
            H_out[t, b, h_off + j] = h[j, b]


@njit(**HELPER_OPTIONS)
def _add_output_gradients(
    dh, lengths, n_steps, u, reverse, n_act, segment_steps, dH_out, h_off, cut
):
    """Start the backward step ``u``: output gradients and gradient cuts.

    For each of the ``n_act`` active rows (located by ``lengths``,
    ``n_steps`` and ``reverse``, as in :func:`_write_outputs`): add the
    gradient of its output at that step (``dH_out`` ``(T, B, D * H)``,
    columns from ``h_off``; nothing when empty) into ``dh`` ``(H, B)``, and
    set ``cut[b]`` to whether the carry to the previous step is cut after
    this one (every ``segment_steps`` processing steps; never when it is 0).
    """
    has_out = dH_out.shape[0] > 0
    for b in range(n_act):
        t, s = _real_step(lengths[b], n_steps, u, reverse)
        cut[b] = segment_steps > 0 and s > 0 and s % segment_steps == 0
        if has_out:
            for j in range(dh.shape[0]):
                dh[j, b] += dH_out[t, b, h_off + j]


@njit(**HELPER_OPTIONS)
def _cut_carry(d_state, cut, n_act):
    """Zero the carried gradient of the rows whose chunk starts at this step."""
    for b in range(n_act):
        if cut[b]:
            for j in range(d_state.shape[0]):
                d_state[j, b] = 0.0


@njit(**JIT_OPTIONS)
def _transposed_copy(W):
    """A C-contiguous copy of ``W.T``, made once per chunk for the backward
    recurrent GEMM (BLAS runs a little faster on it than on the transposed
    view, with the same result)."""
    W_T = np.empty((W.shape[1], W.shape[0]), dtype=W.dtype)
    _copy_transposed(W, W_T)
    return W_T


@njit(**JIT_OPTIONS)
def _recurrent_product(W_hh, W_hh_T, da, out):
    """Overwrite ``out`` ``(H, n_act)`` with ``W_hh.T @ da``.

    ``da`` is ``(G * H, n_act)`` and ``W_hh_T`` is ``W_hh.T`` copied
    C-contiguous (:func:`_transposed_copy`). A single active row keeps the
    transposed view: OpenBLAS hands a one-column GEMM to GEMV, whose
    transposed and plain variants sum in different orders, and the result
    must not depend on which copy is used.
    """
    if da.shape[1] == 1:
        np.dot(W_hh.T, da, out=out)
    else:
        np.dot(W_hh_T, da, out=out)


@njit(**HELPER_OPTIONS)
def _recurrent_gradient(W_hh, W_hh_T, da, dh, dh_buffer, d_direct):
    """Overwrite the active columns of ``dh`` ``(H, B)`` with the carried
    gradient, ``W_hh.T @ da`` plus the direct carry.

    The product (:func:`_recurrent_product`) goes straight into ``dh`` when
    every row is active, else through ``dh_buffer``. ``d_direct`` ``(H, B)``
    is the part of the carry that bypasses ``W_hh`` (the GRU's ``z * dh``),
    added after the product; a cell without one passes it with 0 rows.
    """
    H, n_act = dh.shape[0], da.shape[1]
    full = n_act == dh.shape[1]
    target = dh if full else dh_buffer[: H * n_act].reshape(H, n_act)
    _recurrent_product(W_hh, W_hh_T, da, target)
    if not full:
        for j in range(H):
            for b in range(n_act):
                dh[j, b] = target[j, b]
    for j in range(d_direct.shape[0]):
        for b in range(n_act):
            dh[j, b] += d_direct[j, b]


@njit(**HELPER_OPTIONS)
def _add_block_gradients(
    dA_in, dA_rec, H_prev, block_start, X, lengths, reverse, u_first, W_ih,
    X_steps, H_block_buffer, ones, dX, dW_ih, dW_hh, db_ih, db_hh,
):  # fmt: skip
    """Add the parameter and input gradients of a block of stored steps.

    Parameters
    ----------
    dA_in, dA_rec : ndarray of shape (G * H, n * B)
        Gradients w.r.t. the input and the recurrent pre-activations
        (``W_ih x + b_ih`` and ``W_hh h_prev + b_hh``) of the block's steps,
        column ``k * B + b`` for its ``k``-th step, zero for inactive rows.
        The same array for cells where the two coincide (Elman, LSTM).
    H_prev : ndarray of shape (N, H, B)
        Stored states entering each step (unit-major).
    block_start : int
        First slot of the block.
    X, lengths, reverse, W_ih
        As given to :func:`_project_block`.
    u_first : int
        Global step of the block's first slot.
    X_steps : ndarray of shape (>= n, B, I)
        Workspace for the gathered inputs.
    H_block_buffer : ndarray of shape (>= n * B * H,)
        Workspace for the block's states, row-major.
    ones : ndarray of shape (>= n * B,)
        Ones.
    dX : ndarray of shape (T, B, I) or (0, B, I)
        Input gradient of the chunk, added to; not computed when empty.
    dW_ih, dW_hh : ndarray
        Weight gradients, added to.
    db_ih, db_hh : ndarray of shape (G * H,)
        Bias gradients, added to.
    """
    n_rows, n_inputs = X.shape[1], X.shape[2]
    H = H_prev.shape[1]
    width = dA_in.shape[1]
    n = width // n_rows
    H_block = H_block_buffer[: H * width].reshape(width, H)
    for k in range(n):
        _copy_transposed(H_prev[block_start + k], H_block[k * n_rows :])
    _add_matmul(dA_rec, H_block, dW_hh)
    _add_row_sums(dA_rec, ones[:width], db_hh)
    _gather_steps(X, lengths, reverse, u_first, X_steps[:n])
    X_block = X_steps[:n].reshape(width, n_inputs)
    _add_matmul(dA_in, X_block, dW_ih)
    _add_row_sums(dA_in, ones[:width], db_ih)
    if dX.shape[0] > 0:
        # out=: as in _add_matmul, the same GEMM as np.dot(dA_in.T, W_ih).
        dX_flat = np.empty((width, n_inputs), dtype=W_ih.dtype)
        np.dot(dA_in.T, W_ih, out=dX_flat)
        dX_steps = dX_flat.reshape(n, n_rows, n_inputs)
        _scatter_add_steps(dX_steps, lengths, reverse, u_first, dX)


@njit(**HELPER_OPTIONS)
def _initial_state_gradient_units(lengths, n_slots, d_state, d_state0):
    """Copy the carried gradient to the initial state where it is defined.

    Parameters
    ----------
    lengths : ndarray of shape (B,), dtype int64
        Row lengths.
    n_slots : int
        Number of stored steps ``N``.
    d_state : ndarray of shape (H, B)
        Gradient carried back to before each row's first processed step
        (unit-major).
    d_state0 : ndarray of shape (B, H)
        Overwritten: ``d_state`` for rows processed entirely within the stored
        window, zero for truncated rows (the state entering the window is a
        constant) and for dummy rows of length 0.
    """
    for b in range(lengths.shape[0]):
        defined = 0 < lengths[b] <= n_slots
        for j in range(d_state.shape[0]):
            d_state0[b, j] = d_state[j, b] if defined else 0.0
