"""LSTM forward and backpropagation-through-time kernels.

Gates in PyTorch order ``i, f, g, o``::

    a = W_ih x + b_ih + W_hh h_prev + b_hh
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c = f * c_prev + i * g;  h = o * tanh(c)

States, gates and their gradients are unit-major, ``(units, rows)``, as in
every kernel (:mod:`skrnn._kernels._steps`).

Storage per slot and row (``store_width = 7 H``), as unit-major sections of
the chunk's flat storage (see :func:`skrnn._kernels._steps._unit_section`):
``h_prev`` (H), gate outputs ``i, f, g, o`` (4 H), ``c_prev`` (H) and
``tanh(c)`` (H).
"""

import numpy as np
from numba import njit

from ._arrays import _copy_transposed, _fill
from ._cells import CellSpec
from ._config import JIT_OPTIONS
from ._math import fast_sigmoid, fast_tanh
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

LSTM_STORE_WIDTH = 7


@njit(**JIT_OPTIONS)
def _lstm_forward_chunk(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, n_block,
    H_out, h_off, h_n, c_n, store,
):  # fmt: skip
    """Run one LSTM layer-direction over one chunk of the batch.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input in real time; steps ``t >= lengths[b]`` are never read.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing, in ``[0, T]``.
    W_ih : ndarray of shape (4 * H, I)
        Input weights, gate blocks ``i, f, g, o``.
    W_hh : ndarray of shape (4 * H, H)
        Recurrent weights.
    b_ih, b_hh : ndarray of shape (4 * H,)
        Input and recurrent biases.
    h0, c0 : ndarray of shape (B, H)
        Initial hidden and cell states.
    reverse : bool
        Process each row from its last real step to its first.
    n_block : int
        Number of global steps whose inputs are projected by one GEMM (at
        least 1).
    H_out : ndarray of shape (T, B, D * H) or (0, B, D * H)
        Output: hidden state at each real step in columns
        ``[h_off, h_off + H)``, zero at padded steps. Not written if empty.
    h_off : int
        First output column of this direction.
    h_n, c_n : ndarray of shape (B, H)
        Output: states after each row's last step (``h0``, ``c0`` for rows of
        length 0).
    store : ndarray of shape (N, B, 7 * H)
        Output: what the backward pass needs for the last ``N`` global steps.

    Notes
    -----
    One GEMM projects the inputs of every ``n_block`` steps; each global
    step does one GEMM on the active prefix of the state and one fused gate
    loop. Memory beyond ``store`` is ``O(n_block * B * H)``, whatever ``T``.
    """
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_slots = store.shape[0]
    dtype = W_hh.dtype
    has_out = H_out.shape[0] > 0

    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    proj_buffer = np.empty(4 * H * n_block * n_rows, dtype=dtype)
    X_proj = proj_buffer[:0].reshape(4 * H, 0)
    u_first = _first_active_step(lengths, n_steps)
    bias = b_ih + b_hh
    h = np.empty((H, n_rows), dtype=dtype)
    c = np.empty((H, n_rows), dtype=dtype)
    _copy_transposed(h0, h)
    _copy_transposed(c0, c)
    rec_buffer = np.empty(4 * H * n_rows, dtype=dtype)
    h_buffer = np.empty(H * n_rows, dtype=dtype)
    # Steps that are not stored write into these instead, so that the gate
    # loop itself has no branches.
    gates_scratch = np.empty((4 * H, n_rows), dtype=dtype)
    tanh_c_scratch = np.empty((H, n_rows), dtype=dtype)

    # 0 * H, not 0: an int64 like the other offsets, so that _unit_section
    # compiles once rather than once more for the literal 0.
    H_prev = _unit_section(store, 0 * H, H)
    gates_st = _unit_section(store, H, 4 * H)
    c_prev_st = _unit_section(store, 5 * H, H)
    tanh_c_st = _unit_section(store, 6 * H, H)

    for u in range(n_steps):
        n_act = _n_active(lengths, n_steps - u)
        slot = u - (n_steps - n_slots)
        if slot >= 0:
            _store_state(h, n_act, H_prev[slot])
            _store_state(c, n_act, c_prev_st[slot])
        if n_act == 0:
            continue
        k = (u - u_first) % n_block
        if k == 0:
            n = min(n_block, n_steps - u)
            X_proj = _project_block(
                X, lengths, reverse, u, W_ih, X_steps[:n], proj_buffer
            )
        rec = rec_buffer[: 4 * H * n_act].reshape(4 * H, n_act)
        np.dot(W_hh, _active_state(h, n_act, h_buffer), out=rec)
        col = k * n_rows
        for j in range(H):
            # One view per gate and unit: the inner loop then reads and
            # writes contiguous rows that LLVM vectorises.
            if slot >= 0:
                gate_i, gate_f = gates_st[slot, j], gates_st[slot, H + j]
                gate_g, gate_o = gates_st[slot, 2 * H + j], gates_st[slot, 3 * H + j]
                tanh_c = tanh_c_st[slot, j]
            else:
                gate_i, gate_f = gates_scratch[j], gates_scratch[H + j]
                gate_g, gate_o = gates_scratch[2 * H + j], gates_scratch[3 * H + j]
                tanh_c = tanh_c_scratch[j]
            x_i, x_f = X_proj[j, col:], X_proj[H + j, col:]
            x_g, x_o = X_proj[2 * H + j, col:], X_proj[3 * H + j, col:]
            r_i, r_f, r_g, r_o = rec[j], rec[H + j], rec[2 * H + j], rec[3 * H + j]
            bias_i, bias_f = bias[j], bias[H + j]
            bias_g, bias_o = bias[2 * H + j], bias[3 * H + j]
            h_j, c_j = h[j], c[j]
            for b in range(n_act):
                i = fast_sigmoid(x_i[b] + r_i[b] + bias_i)
                f = fast_sigmoid(x_f[b] + r_f[b] + bias_f)
                g = fast_tanh(x_g[b] + r_g[b] + bias_g)
                o = fast_sigmoid(x_o[b] + r_o[b] + bias_o)
                c_new = f * c_j[b] + i * g
                tc = fast_tanh(c_new)
                c_j[b] = c_new
                h_j[b] = o * tc
                gate_i[b] = i
                gate_f[b] = f
                gate_g[b] = g
                gate_o[b] = o
                tanh_c[b] = tc
        if has_out:
            _write_outputs(h, lengths, n_steps, u, reverse, n_act, H_out, h_off)
    _copy_transposed(h, h_n)
    _copy_transposed(c, c_n)
    if has_out:
        _zero_padding(lengths, H_out, h_off, H)


@njit(**JIT_OPTIONS)
def _lstm_backward_chunk(
    X,
    lengths,
    W_ih,
    W_hh,
    reverse,
    segment_steps,
    n_block,
    store,
    dH_out,
    h_off,
    dh_n,
    dc_n,
    dX,
    dW_ih,
    dW_hh,
    db_ih,
    db_hh,
    dh0,
    dc0,
):
    """Backpropagate through one LSTM layer-direction over one chunk.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input in real time, as given to the forward pass.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    W_ih : ndarray of shape (4 * H, I)
        Input weights.
    W_hh : ndarray of shape (4 * H, H)
        Recurrent weights.
    reverse : bool
        Direction, as in the forward pass.
    segment_steps : int
        0, or the length of the gradient chunks: the carry from processing
        step ``s`` to ``s - 1`` is cut when ``s % segment_steps == 0`` and ``s > 0``.
    n_block : int
        Number of stored steps whose parameter gradients are accumulated by
        one GEMM (at least 1).
    store : ndarray of shape (N, B, 7 * H)
        Written by the forward pass. Only the last ``N`` global steps are
        backpropagated through (truncated BPTT when ``N < T``).
    dH_out : ndarray of shape (T, B, D * H) or (0, B, D * H)
        Gradient w.r.t. the outputs, columns ``[h_off, h_off + H)``; padded
        steps and steps before the stored window are ignored.
    h_off : int
        First output column of this direction.
    dh_n, dc_n : ndarray of shape (B, H)
        Gradient w.r.t. the final states.
    dX : ndarray of shape (T, B, I) or (0, B, I)
        Input gradient, added to (not computed if empty).
    dW_ih, dW_hh, db_ih, db_hh : ndarray
        Overwritten with the parameter gradients of this chunk.
    dh0, dc0 : ndarray of shape (B, H)
        Overwritten with the gradient w.r.t. the initial states (zero for
        truncated rows and rows of length 0).

    Notes
    -----
    The stored steps are visited backwards in blocks of ``n_block``: the
    gate gradients of a block are kept until its first step is done, then
    enter the GEMMs of the weight gradients and of the input gradient. Memory
    beyond ``store`` is ``O(n_block * B * H)``, whatever ``T``.
    """
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_slots = store.shape[0]
    dtype = W_hh.dtype
    one = dtype.type(1.0)

    # 0 * H, not 0: an int64 like the other offsets, so that _unit_section
    # compiles once rather than once more for the literal 0.
    H_prev = _unit_section(store, 0 * H, H)
    gates_st = _unit_section(store, H, 4 * H)
    c_prev_st = _unit_section(store, 5 * H, H)
    tanh_c_st = _unit_section(store, 6 * H, H)

    dA_buffer = np.empty(4 * H * n_block * n_rows, dtype=dtype)
    dA_step_buffer = np.empty(4 * H * n_rows, dtype=dtype)
    dh_buffer = np.empty(H * n_rows, dtype=dtype)
    H_block_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    ones = np.empty(n_block * n_rows, dtype=dtype)
    _fill(ones, 1.0)
    for grad in (dW_ih.reshape(dW_ih.size), dW_hh.reshape(dW_hh.size), db_ih, db_hh):
        _fill(grad, 0.0)
    dh = np.empty((H, n_rows), dtype=dtype)
    dc = np.empty((H, n_rows), dtype=dtype)
    W_hh_T = _transposed_copy(W_hh)
    _copy_transposed(dh_n, dh)
    _copy_transposed(dc_n, dc)
    cut = np.empty(n_rows, dtype=np.bool_)
    for b in range(n_rows):
        cut[b] = False
    slot_first = max(0, _first_active_step(lengths, n_steps) - (n_steps - n_slots))
    for block_end in range(n_slots, slot_first, -n_block):
        block_start = max(slot_first, block_end - n_block)
        width = (block_end - block_start) * n_rows
        dA = dA_buffer[: 4 * H * width].reshape(4 * H, width)
        for slot in range(block_end - 1, block_start - 1, -1):
            u = n_steps - n_slots + slot
            n_act = _n_active(lengths, n_steps - u)
            _add_output_gradients(
                dh,
                lengths,
                n_steps,
                u,
                reverse,
                n_act,
                segment_steps,
                dH_out,
                h_off,
                cut,
            )
            da = dA_step_buffer[: 4 * H * n_act].reshape(4 * H, n_act)
            col = (slot - block_start) * n_rows
            for j in range(H):
                # One view per gate and unit, as in the forward pass; each
                # gradient goes to the step's matrix (for the recurrent GEMM)
                # and to the block's columns (for the weight gradients).
                gate_i, gate_f = gates_st[slot, j], gates_st[slot, H + j]
                gate_g, gate_o = gates_st[slot, 2 * H + j], gates_st[slot, 3 * H + j]
                c_prev, tanh_c = c_prev_st[slot, j], tanh_c_st[slot, j]
                da_i, da_f, da_g, da_o = da[j], da[H + j], da[2 * H + j], da[3 * H + j]
                dA_i, dA_f = dA[j, col : col + n_rows], dA[H + j, col : col + n_rows]
                dA_g = dA[2 * H + j, col : col + n_rows]
                dA_o = dA[3 * H + j, col : col + n_rows]
                dh_j, dc_j = dh[j], dc[j]
                for b in range(n_act):
                    i = gate_i[b]
                    f = gate_f[b]
                    g = gate_g[b]
                    o = gate_o[b]
                    tc = tanh_c[b]
                    dh_b = dh_j[b]
                    dc_b = dc_j[b] + dh_b * o * (one - tc * tc)
                    a_i = dc_b * g * i * (one - i)
                    a_f = dc_b * c_prev[b] * f * (one - f)
                    a_g = dc_b * i * (one - g * g)
                    a_o = dh_b * tc * o * (one - o)
                    da_i[b] = a_i
                    da_f[b] = a_f
                    da_g[b] = a_g
                    da_o[b] = a_o
                    dA_i[b] = a_i
                    dA_f[b] = a_f
                    dA_g[b] = a_g
                    dA_o[b] = a_o
                    dc_j[b] = dc_b * f
                for b in range(n_act, n_rows):
                    dA_i[b] = 0.0
                    dA_f[b] = 0.0
                    dA_g[b] = 0.0
                    dA_o[b] = 0.0
            _recurrent_gradient(W_hh, W_hh_T, da, dh, dh_buffer)
            _cut_carry(dh, cut, n_act)
            _cut_carry(dc, cut, n_act)
        # Both biases enter the same pre-activation: one gradient block.
        _add_block_gradients(
            dA, dA, H_prev, block_start, X, lengths, reverse,
            n_steps - n_slots + block_start, W_ih, X_steps, H_block_buffer, ones,
            dX, dW_ih, dW_hh, db_ih, db_hh,
        )  # fmt: skip

    _initial_state_gradient_units(lengths, n_slots, dh, dh0)
    _initial_state_gradient_units(lengths, n_slots, dc, dc0)


@njit(**JIT_OPTIONS)
def _lstm_stream_step(a, a_h, bias, b_h, act, h, c):
    """One step of one stream (:mod:`skrnn._kernels._stream`), in place.

    ``a`` holds ``W_ih x + W_hh h`` of the four gates, ``bias`` is
    ``b_ih + b_hh``; ``h`` and ``c`` are the stream's states. ``a_h``,
    ``b_h`` and ``act`` are not read.
    """
    H = h.shape[0]
    for j in range(H):
        i = fast_sigmoid(a[j] + bias[j])
        f = fast_sigmoid(a[H + j] + bias[H + j])
        g = fast_tanh(a[2 * H + j] + bias[2 * H + j])
        o = fast_sigmoid(a[3 * H + j] + bias[3 * H + j])
        c_new = f * c[j] + i * g
        c[j] = c_new
        h[j] = o * fast_tanh(c_new)


LSTM_CELL = CellSpec(
    name="lstm",
    gates=4,
    store_width=LSTM_STORE_WIDTH,
    has_cell_state=True,
    forward_chunk=_lstm_forward_chunk,
    backward_chunk=_lstm_backward_chunk,
    stream_step=_lstm_stream_step,
    forget_gate=1,
    onnx_op="LSTM",
    onnx_gate_order=(0, 3, 1, 2),
    torch_module="LSTM",
)
