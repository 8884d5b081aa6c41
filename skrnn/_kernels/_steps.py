"""Time-step bookkeeping shared by the Elman, LSTM and GRU kernels.

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

from ._arrays import _add_column_sums, _add_product, _copy_vector
from ._config import JIT_OPTIONS


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
def _first_active_step(lengths, n_steps):
    """First global step at which any row is active.

    Parameters
    ----------
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    n_steps : int
        Number of global steps ``T``.

    Returns
    -------
    u_first : int
        ``T - max(lengths)``, or ``T`` when there are no rows.
    """
    if lengths.shape[0] == 0:
        return n_steps
    return n_steps - lengths[0]


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
def _section_values(store, start, width):
    """The flat values of one section of a chunk's storage.

    The storage of a chunk is used as one flat buffer split into sections of
    ``N * B * width`` floats; :func:`_store_section` and
    :func:`_unit_section` view a section in the two layouts of the kernels.

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
    values : ndarray of shape (N * B * width,)
        A view into ``store``.
    """
    size = store.shape[0] * store.shape[1]
    return store.reshape(store.size)[size * start : size * (start + width)]


@njit(**JIT_OPTIONS)
def _store_section(store, start, width):
    """One section of a chunk's storage, row-major: ``(N, B, width)``.

    Each section is contiguous over (slot, row), so that it can enter a GEMM
    over all stored steps at once. Parameters as :func:`_section_values`.
    """
    values = _section_values(store, start, width)
    return values.reshape(store.shape[0], store.shape[1], width)


@njit(**JIT_OPTIONS)
def _unit_section(store, start, width):
    """One section of a chunk's storage, unit-major: ``(N, width, B)``.

    For kernels whose elementwise loops run over the rows of the batch
    innermost; each slot stays contiguous, so that a step touches few memory
    pages. Parameters as :func:`_section_values`.
    """
    values = _section_values(store, start, width)
    return values.reshape(store.shape[0], width, store.shape[1])


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
def _gather_steps(X, lengths, reverse, u_first, X_steps):
    """Copy the inputs of consecutive global steps into step coordinates.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input of the chunk, in real time.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    reverse : bool
        Direction.
    u_first : int
        First global step to gather.
    X_steps : ndarray of shape (n, B, I)
        Overwritten: ``X_steps[k, b]`` receives the input that row ``b``
        consumes at global step ``u_first + k``, and zeros where the row is
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


@njit(**JIT_OPTIONS)
def _project_inputs(X, lengths, reverse, u_first, W_ih, X_steps, X_proj):
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
    X_proj : ndarray of shape (n * B, G * H)
        Overwritten: row ``k * B + b`` holds ``W_ih x`` for the input that row
        ``b`` consumes at global step ``u_first + k`` (zero where inactive).

    Notes
    -----
    Projecting a block of steps at a time instead of the whole sequence
    keeps the memory of the forward pass proportional to the block (and to
    what is stored for the backward pass), not to ``T``, while the GEMM still
    has enough rows to run near the BLAS peak.
    """
    n, n_rows, n_inputs = X_steps.shape
    _gather_steps(X, lengths, reverse, u_first, X_steps)
    np.dot(X_steps.reshape(n * n_rows, n_inputs), W_ih.T, out=X_proj)


@njit(**JIT_OPTIONS)
def _scatter_add_steps(dX_steps, lengths, reverse, u_first, dX):
    """Add input gradients of consecutive global steps into real time.

    Parameters
    ----------
    dX_steps : ndarray of shape (n, B, I)
        Input gradients of global steps ``u_first .. u_first + n - 1`` (only
        active rows are read).
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    reverse : bool
        Direction.
    u_first : int
        First global step.
    dX : ndarray of shape (T, B, I)
        Input gradient of the chunk, added to.
    """
    n_steps = dX.shape[0]
    for k in range(dX_steps.shape[0]):
        u = u_first + k
        for b in range(_n_active(lengths, n_steps - u)):
            t, _ = _real_step(lengths[b], n_steps, u, reverse)
            for i in range(dX.shape[2]):
                dX[t, b, i] += dX_steps[k, b, i]


@njit(**JIT_OPTIONS)
def _add_input_gradients(
    dA, X, lengths, reverse, u_first, W_ih, X_steps, dX, dW_ih, db_ih
):
    """Add the input-projection gradients of a block of global steps.

    Parameters
    ----------
    dA : ndarray of shape (n, B, G * H)
        Gradient of the loss w.r.t. ``W_ih x + b_ih`` at global steps
        ``u_first .. u_first + n - 1``, zero for inactive rows.
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
        Workspace for the gathered inputs.
    dX : ndarray of shape (T, B, I) or (0, B, I)
        Input gradient of the chunk, added to; not computed when empty.
    dW_ih : ndarray of shape (G * H, I)
        Gradient of the input weights, added to.
    db_ih : ndarray of shape (G * H,)
        Gradient of the input bias, added to.
    """
    n, n_rows, n_gates = dA.shape
    n_inputs = X_steps.shape[2]
    _gather_steps(X, lengths, reverse, u_first, X_steps)
    dA_2d = dA.reshape(n * n_rows, n_gates)
    _add_product(dA_2d, X_steps.reshape(n * n_rows, n_inputs), dW_ih)
    _add_column_sums(dA_2d, db_ih)
    if dX.shape[0] > 0:
        dX_steps = np.dot(dA_2d, W_ih).reshape(n, n_rows, n_inputs)
        _scatter_add_steps(dX_steps, lengths, reverse, u_first, dX)


@njit(**JIT_OPTIONS)
def _add_recurrent_gradients(dA, H_prev, dW_hh, db_hh):
    """Add the recurrent-projection gradients of a block of stored steps.

    Parameters
    ----------
    dA : ndarray of shape (n, B, G * H)
        Gradient w.r.t. ``W_hh h_prev + b_hh`` per step and row, zero for
        inactive rows.
    H_prev : ndarray of shape (n, B, H)
        State entering each of these steps (finite for inactive rows).
    dW_hh : ndarray of shape (G * H, H)
        Gradient of the recurrent weights, added to.
    db_hh : ndarray of shape (G * H,)
        Gradient of the recurrent bias, added to.
    """
    n, n_rows, n_gates = dA.shape
    dA_2d = dA.reshape(n * n_rows, n_gates)
    _add_product(dA_2d, H_prev.reshape(n * n_rows, H_prev.shape[2]), dW_hh)
    _add_column_sums(dA_2d, db_hh)


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
