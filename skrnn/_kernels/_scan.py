"""The time loops of every cell: one forward scan and one backward scan.

A cell's chunk kernels (``_lstm.py``, ``_gru.py``, ``_rnn.py``) call
:func:`forward_scan` and :func:`backward_scan` with the cell's own step
functions; everything else about a chunk happens here, once for every cell:
the states entering each stored step, the block projection of the inputs,
the recurrent product on the active prefix, the outputs, and backwards the
output gradients, the carried gradient and its cuts, the block's weight,
bias and input gradients, and the gradients of the initial states.

The scans are inlined into each cell's kernel (``inline="always"``), where
the step function is a constant: the cell's kernel then compiles into one
function, as if the loop were written out in it, and a step function
passed as an argument never reaches the cache's signatures.

What a cell writes (see ``_lstm.py`` for an example):

States
    ``state`` ``(n_states * H, B)``, unit-major: the hidden state ``h`` in
    its first ``H`` rows, then the cell state ``c`` if the cell has one
    (``n_states == 2``).
Storage
    ``store`` is read as unit-major sections (see
    :func:`skrnn._kernels._steps._unit_section`): ``h_prev`` (H rows) and,
    for a cell state, ``c_prev`` (H), the states entering each stored step,
    which the scan stores; then the cell's own ``values`` (the rest of
    ``store_width * H``), written by its forward step and read by its
    gradient step.
Forward step
    ``step(X_proj, col, rec, b_ih, b_hh, act, state, values, n_act)``:
    ``X_proj[:, col + b]`` holds ``W_ih x`` of active row ``b`` and ``rec``
    ``(G * H, n_act)`` holds ``W_hh h_prev``; the step updates the active
    columns of ``state`` and writes ``values`` (a scratch array at steps
    that are not stored).
Gradient step
    ``step(h_prev, c_prev, values, d_state, da, dA_in, dA_rec, col, n_act,
    act, d_direct)``: from what was stored at the step (``c_prev`` is
    ``h_prev`` for a cell without a cell state) and the gradient
    ``d_state`` w.r.t. the states after it, write the gradient w.r.t. the
    pre-activations both into ``da`` ``(G * H, n_act)`` (active
    rows, for the recurrent product) and into the block's columns ``[col,
    col + B)`` of ``dA_in`` (zero for inactive rows). With
    ``split_gradients``, the gradient w.r.t. the recurrent pre-activation
    differs from that w.r.t. the input one: it goes to ``da`` and
    ``dA_rec``; without, ``dA_rec`` is ``dA_in``, written once. The step
    also updates the carries that do not go through ``W_hh``: the rows of
    the cell state in ``d_state`` in place, and, with ``direct_carry``, the
    part of the carried ``dh`` that bypasses ``W_hh``, written into
    ``d_direct`` ``(H, B)`` and added after the recurrent product.
"""

import numpy as np
from numba import njit

from ._arrays import _copy_transposed, _fill
from ._config import HELPER_OPTIONS
from ._steps import (
    _active_state,
    _add_block_gradients,
    _add_output_gradients,
    _cut_carry,
    _first_active_step,
    _initial_state_gradient_units,
    _n_active,
    _project_block,
    _recurrent_gradient,
    _store_state,
    _transposed_copy,
    _unit_section,
    _write_outputs,
    _zero_padding,
)


@njit(**HELPER_OPTIONS, inline="always")
def forward_scan(
    step, X, lengths, W_ih, W_hh, b_ih, b_hh, act, reverse, n_block,
    H_out, h_off, h0, c0, h_n, c_n, n_states, store,
):  # fmt: skip
    """Run one layer-direction over one chunk, with the cell's ``step``.

    Parameters
    ----------
    step : function
        The cell's forward step (see the module's docstring).
    X, lengths, W_ih, W_hh, b_ih, b_hh, act, reverse, n_block, H_out, h_off
        As given to the cell's forward kernel (the layer interface of
        :mod:`skrnn._kernels`).
    h0, c0 : ndarray of shape (B, H)
        Initial states; ``c0`` is read only if ``n_states == 2``.
    h_n, c_n : ndarray of shape (B, H)
        Output: the states after each row's last step; ``c_n`` is written
        only if ``n_states == 2``.
    n_states : int
        1, or 2 for a cell with a cell state.
    store : ndarray of shape (N, B, store_width * H)
        Output: what the backward pass needs for the last ``N`` global steps.

    Notes
    -----
    One GEMM projects the inputs of every ``n_block`` steps; each global
    step does one GEMM on the active prefix of the state and the cell's
    step. Memory beyond ``store`` is ``O(n_block * B * H)``, whatever ``T``.
    """
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_gates = W_hh.shape[0]
    n_slots = store.shape[0]
    dtype = W_hh.dtype
    has_out = H_out.shape[0] > 0

    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    proj_buffer = np.empty(n_gates * n_block * n_rows, dtype=dtype)
    X_proj = proj_buffer[:0].reshape(n_gates, 0)
    u_first = _first_active_step(lengths, n_steps)
    state = np.empty((n_states * H, n_rows), dtype=dtype)
    h = state[:H]
    _copy_transposed(h0, h)
    if n_states == 2:
        _copy_transposed(c0, state[H:])
    rec_buffer = np.empty(n_gates * n_rows, dtype=dtype)
    h_buffer = np.empty(H * n_rows, dtype=dtype)
    # 0 * H, not 0: an int64 like the other offsets, so that _unit_section
    # compiles once rather than once more for the literal 0. C_prev is
    # H_prev for a cell without a cell state.
    H_prev = _unit_section(store, 0 * H, H)
    C_prev = _unit_section(store, (n_states - 1) * H, H)
    values_st = _unit_section(store, n_states * H, store.shape[2] - n_states * H)
    n_values = values_st.shape[1]
    # Steps that are not stored write their values here instead, so that
    # the cell's step has no branches.
    scratch = np.empty((n_values, n_rows), dtype=dtype)

    for u in range(n_steps):
        n_act = _n_active(lengths, n_steps - u)
        slot = u - (n_steps - n_slots)
        if slot >= 0:
            _store_state(h, n_act, H_prev[slot])
            if n_states == 2:
                _store_state(state[H:], n_act, C_prev[slot])
        if n_act == 0:
            continue
        k = (u - u_first) % n_block
        if k == 0:
            n = min(n_block, n_steps - u)
            X_proj = _project_block(
                X, lengths, reverse, u, W_ih, X_steps[:n], proj_buffer
            )
        rec = rec_buffer[: n_gates * n_act].reshape(n_gates, n_act)
        np.dot(W_hh, _active_state(h, n_act, h_buffer), out=rec)
        values = values_st[slot] if slot >= 0 else scratch
        step(X_proj, k * n_rows, rec, b_ih, b_hh, act, state, values, n_act)
        if has_out:
            _write_outputs(h, lengths, n_steps, u, reverse, n_act, H_out, h_off)
    _copy_transposed(h, h_n)
    if n_states == 2:
        _copy_transposed(state[H:], c_n)
    if has_out:
        _zero_padding(lengths, H_out, h_off, H)


@njit(**HELPER_OPTIONS, inline="always")
def backward_scan(
    step, X, lengths, W_ih, W_hh, act, reverse, segment_steps, n_block, store,
    dH_out, h_off, dh_n, dc_n, dX, dW_ih, dW_hh, db_ih, db_hh, dh0, dc0,
    n_states, split_gradients, direct_carry,
):  # fmt: skip
    """Backpropagate through one layer-direction over one chunk.

    Parameters
    ----------
    step : function
        The cell's gradient step (see the module's docstring).
    X, lengths, W_ih, W_hh, act, reverse, segment_steps, n_block, store
        As given to the cell's backward kernel (the layer interface of
        :mod:`skrnn._kernels`).
    dH_out, h_off, dX, dW_ih, dW_hh, db_ih, db_hh
        As given to the cell's backward kernel.
    dh_n, dc_n : ndarray of shape (B, H)
        Gradients w.r.t. the final states; ``dc_n`` is read only if
        ``n_states == 2``.
    dh0, dc0 : ndarray of shape (B, H)
        Overwritten with the gradients w.r.t. the initial states (zero for
        truncated rows and rows of length 0); ``dc0`` only if ``n_states ==
        2``.
    n_states : int
        1, or 2 for a cell with a cell state.
    split_gradients : bool
        Whether the gradients w.r.t. the input and the recurrent
        pre-activations differ (the step writes ``dA_rec`` apart).
    direct_carry : bool
        Whether the step writes a carry of ``dh`` that bypasses ``W_hh``
        into ``d_direct``.

    Notes
    -----
    The stored steps are visited backwards in blocks of ``n_block``: the
    gate gradients of a block are kept until its first step is done, then
    enter the GEMMs of the weight gradients and of the input gradient. Memory
    beyond ``store`` is ``O(n_block * B * H)``, whatever ``T``.
    """
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_gates = W_hh.shape[0]
    n_slots = store.shape[0]
    dtype = W_hh.dtype

    # 0 * H, not 0: an int64 like the other offsets, so that _unit_section
    # compiles once rather than once more for the literal 0. C_prev is
    # H_prev for a cell without a cell state.
    H_prev = _unit_section(store, 0 * H, H)
    C_prev = _unit_section(store, (n_states - 1) * H, H)
    values_st = _unit_section(store, n_states * H, store.shape[2] - n_states * H)

    block_size = n_gates * n_block * n_rows
    din_buffer = np.empty(block_size, dtype=dtype)
    drec_buffer = np.empty(block_size if split_gradients else 0, dtype=dtype)
    da_buffer = np.empty(n_gates * n_rows, dtype=dtype)
    dh_buffer = np.empty(H * n_rows, dtype=dtype)
    H_block_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    ones = np.empty(n_block * n_rows, dtype=dtype)
    _fill(ones, 1.0)
    for grad in (dW_ih.reshape(dW_ih.size), dW_hh.reshape(dW_hh.size), db_ih, db_hh):
        _fill(grad, 0.0)
    d_state = np.empty((n_states * H, n_rows), dtype=dtype)
    dh = d_state[:H]
    _copy_transposed(dh_n, dh)
    if n_states == 2:
        _copy_transposed(dc_n, d_state[H:])
    d_direct = np.empty((H if direct_carry else 0, n_rows), dtype=dtype)
    W_hh_T = _transposed_copy(W_hh)
    cut = np.empty(n_rows, dtype=np.bool_)
    for b in range(n_rows):
        cut[b] = False
    slot_first = max(0, _first_active_step(lengths, n_steps) - (n_steps - n_slots))
    for block_end in range(n_slots, slot_first, -n_block):
        block_start = max(slot_first, block_end - n_block)
        width = (block_end - block_start) * n_rows
        dA_in = din_buffer[: n_gates * width].reshape(n_gates, width)
        dA_rec = (
            drec_buffer[: n_gates * width].reshape(n_gates, width)
            if split_gradients
            else dA_in
        )
        for slot in range(block_end - 1, block_start - 1, -1):
            u = n_steps - n_slots + slot
            n_act = _n_active(lengths, n_steps - u)
            _add_output_gradients(
                dh, lengths, n_steps, u, reverse, n_act, segment_steps, dH_out,
                h_off, cut,
            )  # fmt: skip
            da = da_buffer[: n_gates * n_act].reshape(n_gates, n_act)
            col = (slot - block_start) * n_rows
            step(
                H_prev[slot], C_prev[slot], values_st[slot], d_state, da, dA_in,
                dA_rec, col, n_act, act, d_direct,
            )  # fmt: skip
            _recurrent_gradient(W_hh, W_hh_T, da, dh, dh_buffer, d_direct)
            _cut_carry(d_state, cut, n_act)
        _add_block_gradients(
            dA_in, dA_rec, H_prev, block_start, X, lengths, reverse,
            n_steps - n_slots + block_start, W_ih, X_steps, H_block_buffer, ones,
            dX, dW_ih, dW_hh, db_ih, db_hh,
        )  # fmt: skip

    _initial_state_gradient_units(lengths, n_slots, dh, dh0)
    if n_states == 2:
        _initial_state_gradient_units(lengths, n_slots, d_state[H:], dc0)
