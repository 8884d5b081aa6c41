"""GRU forward and backpropagation-through-time kernels.

Gates in PyTorch order ``r, z, n``::

    r = sigmoid(W_ir x + b_ir + W_hr h_prev + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h_prev + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn))
    h = (1 - z) * n + z * h_prev

States, gates and their gradients are unit-major, ``(units, rows)``, as in
every kernel (:mod:`skrnn._kernels._steps`). Storage per slot and row
(``store_width = 5 H``), as unit-major sections of the chunk's flat storage:
``h_prev`` (H), gate outputs ``r, z, n`` (3 H) and ``W_hn h_prev + b_hn`` (H).
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

GRU_STORE_WIDTH = 5


@njit(**JIT_OPTIONS)
def _gru_forward_chunk(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse, n_block, H_out, h_off, h_n, store
):
    """Run one GRU layer-direction over one chunk of the batch.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input in real time; steps ``t >= lengths[b]`` are never read.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing, in ``[0, T]``.
    W_ih : ndarray of shape (3 * H, I)
        Input weights, gate blocks ``r, z, n``.
    W_hh : ndarray of shape (3 * H, H)
        Recurrent weights.
    b_ih, b_hh : ndarray of shape (3 * H,)
        Input and recurrent biases.
    h0 : ndarray of shape (B, H)
        Initial hidden state.
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
    h_n : ndarray of shape (B, H)
        Output: state after each row's last step (``h0`` for length 0).
    store : ndarray of shape (N, B, 5 * H)
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
    one = dtype.type(1.0)
    has_out = H_out.shape[0] > 0

    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    proj_buffer = np.empty(3 * H * n_block * n_rows, dtype=dtype)
    X_proj = proj_buffer[:0].reshape(3 * H, 0)
    u_first = _first_active_step(lengths, n_steps)
    # r and z see both biases next to each other; n keeps b_hn inside r * (.).
    bias = b_ih.copy()
    for j in range(2 * H):
        bias[j] += b_hh[j]
    h = np.empty((H, n_rows), dtype=dtype)
    _copy_transposed(h0, h)
    rec_buffer = np.empty(3 * H * n_rows, dtype=dtype)
    h_buffer = np.empty(H * n_rows, dtype=dtype)
    # Steps that are not stored write into these instead, so that the gate
    # loop itself has no branches.
    gates_scratch = np.empty((3 * H, n_rows), dtype=dtype)
    hn_scratch = np.empty((H, n_rows), dtype=dtype)

    # 0 * H, not 0: an int64 like the other offsets, so that _unit_section
    # compiles once rather than once more for the literal 0.
    H_prev = _unit_section(store, 0 * H, H)
    gates_st = _unit_section(store, H, 3 * H)
    hn_st = _unit_section(store, 4 * H, H)

    for u in range(n_steps):
        n_act = _n_active(lengths, n_steps - u)
        slot = u - (n_steps - n_slots)
        if slot >= 0:
            _store_state(h, n_act, H_prev[slot])
        if n_act == 0:
            continue
        k = (u - u_first) % n_block
        if k == 0:
            n = min(n_block, n_steps - u)
            X_proj = _project_block(
                X, lengths, reverse, u, W_ih, X_steps[:n], proj_buffer
            )
        rec = rec_buffer[: 3 * H * n_act].reshape(3 * H, n_act)
        np.dot(W_hh, _active_state(h, n_act, h_buffer), out=rec)
        col = k * n_rows
        for j in range(H):
            # One view per gate and unit: the inner loop then reads and
            # writes contiguous rows that LLVM vectorises.
            if slot >= 0:
                gate_r, gate_z = gates_st[slot, j], gates_st[slot, H + j]
                gate_n, hn_j = gates_st[slot, 2 * H + j], hn_st[slot, j]
            else:
                gate_r, gate_z = gates_scratch[j], gates_scratch[H + j]
                gate_n, hn_j = gates_scratch[2 * H + j], hn_scratch[j]
            x_r, x_z, x_n = (
                X_proj[j, col:],
                X_proj[H + j, col:],
                X_proj[2 * H + j, col:],
            )
            r_r, r_z, r_n = rec[j], rec[H + j], rec[2 * H + j]
            bias_r, bias_z, bias_n = bias[j], bias[H + j], bias[2 * H + j]
            b_hn = b_hh[2 * H + j]
            h_j = h[j]
            for b in range(n_act):
                r = fast_sigmoid(x_r[b] + r_r[b] + bias_r)
                z = fast_sigmoid(x_z[b] + r_z[b] + bias_z)
                hn = r_n[b] + b_hn
                cand = fast_tanh(x_n[b] + bias_n + r * hn)
                h_j[b] = (one - z) * cand + z * h_j[b]
                gate_r[b] = r
                gate_z[b] = z
                gate_n[b] = cand
                hn_j[b] = hn
        if has_out:
            _write_outputs(h, lengths, n_steps, u, reverse, n_act, H_out, h_off)
    _copy_transposed(h, h_n)
    if has_out:
        _zero_padding(lengths, H_out, h_off, H)


@njit(**JIT_OPTIONS)
def _gru_backward_chunk(
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
    dX,
    dW_ih,
    dW_hh,
    db_ih,
    db_hh,
    dh0,
):
    """Backpropagate through one GRU layer-direction over one chunk.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input in real time, as given to the forward pass.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    W_ih : ndarray of shape (3 * H, I)
        Input weights.
    W_hh : ndarray of shape (3 * H, H)
        Recurrent weights.
    reverse : bool
        Direction, as in the forward pass.
    segment_steps : int
        0, or the length of the gradient chunks: the carry from processing
        step ``s`` to ``s - 1`` is cut when ``s % segment_steps == 0`` and ``s > 0``.
    n_block : int
        Number of stored steps whose parameter gradients are accumulated by
        one GEMM (at least 1).
    store : ndarray of shape (N, B, 5 * H)
        Written by the forward pass. Only the last ``N`` global steps are
        backpropagated through (truncated BPTT when ``N < T``).
    dH_out : ndarray of shape (T, B, D * H) or (0, B, D * H)
        Gradient w.r.t. the outputs, columns ``[h_off, h_off + H)``; padded
        steps and steps before the stored window are ignored.
    h_off : int
        First output column of this direction.
    dh_n : ndarray of shape (B, H)
        Gradient w.r.t. the final state.
    dX : ndarray of shape (T, B, I) or (0, B, I)
        Input gradient, added to (not computed if empty).
    dW_ih, dW_hh, db_ih, db_hh : ndarray
        Overwritten with the parameter gradients of this chunk.
    dh0 : ndarray of shape (B, H)
        Overwritten with the gradient w.r.t. the initial state (zero for
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
    gates_st = _unit_section(store, H, 3 * H)
    hn_st = _unit_section(store, 4 * H, H)

    # Gradients w.r.t. the input and recurrent pre-activations differ in the
    # n block only (the recurrent one is multiplied by r).
    din_buffer = np.empty(3 * H * n_block * n_rows, dtype=dtype)
    drec_buffer = np.empty(3 * H * n_block * n_rows, dtype=dtype)
    drec_step_buffer = np.empty(3 * H * n_rows, dtype=dtype)
    dh_buffer = np.empty(H * n_rows, dtype=dtype)
    H_block_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    ones = np.empty(n_block * n_rows, dtype=dtype)
    _fill(ones, 1.0)
    for grad in (dW_ih.reshape(dW_ih.size), dW_hh.reshape(dW_hh.size), db_ih, db_hh):
        _fill(grad, 0.0)
    dh = np.empty((H, n_rows), dtype=dtype)
    W_hh_T = _transposed_copy(W_hh)
    _copy_transposed(dh_n, dh)
    dh_direct = np.empty((H, n_rows), dtype=dtype)
    cut = np.empty(n_rows, dtype=np.bool_)
    for b in range(n_rows):
        cut[b] = False
    slot_first = max(0, _first_active_step(lengths, n_steps) - (n_steps - n_slots))
    for block_end in range(n_slots, slot_first, -n_block):
        block_start = max(slot_first, block_end - n_block)
        width = (block_end - block_start) * n_rows
        dA_in = din_buffer[: 3 * H * width].reshape(3 * H, width)
        dA_rec = drec_buffer[: 3 * H * width].reshape(3 * H, width)
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
            da = drec_step_buffer[: 3 * H * n_act].reshape(3 * H, n_act)
            col = (slot - block_start) * n_rows
            for j in range(H):
                # One view per gate and unit, as in the forward pass; the
                # recurrent gradients go to the step's matrix (for the
                # recurrent GEMM), both to the block's columns (for the weight
                # gradients). Only the n block differs between the two.
                gate_r, gate_z = gates_st[slot, j], gates_st[slot, H + j]
                gate_n, hn_j = gates_st[slot, 2 * H + j], hn_st[slot, j]
                h_prev = H_prev[slot, j]
                da_r, da_z, da_n = da[j], da[H + j], da[2 * H + j]
                dI_r = dA_in[j, col : col + n_rows]
                dI_z = dA_in[H + j, col : col + n_rows]
                dI_n = dA_in[2 * H + j, col : col + n_rows]
                dR_r = dA_rec[j, col : col + n_rows]
                dR_z = dA_rec[H + j, col : col + n_rows]
                dR_n = dA_rec[2 * H + j, col : col + n_rows]
                dh_j, direct_j = dh[j], dh_direct[j]
                for b in range(n_act):
                    r = gate_r[b]
                    z = gate_z[b]
                    cand = gate_n[b]
                    d = dh_j[b]
                    dn = d * (one - z) * (one - cand * cand)
                    dz = d * (h_prev[b] - cand) * z * (one - z)
                    dr = dn * hn_j[b] * r * (one - r)
                    a_n = dn * r
                    da_r[b] = dr
                    da_z[b] = dz
                    da_n[b] = a_n
                    dI_r[b] = dr
                    dI_z[b] = dz
                    dI_n[b] = dn
                    dR_r[b] = dr
                    dR_z[b] = dz
                    dR_n[b] = a_n
                    direct_j[b] = d * z
                for b in range(n_act, n_rows):
                    dI_r[b] = 0.0
                    dI_z[b] = 0.0
                    dI_n[b] = 0.0
                    dR_r[b] = 0.0
                    dR_z[b] = 0.0
                    dR_n[b] = 0.0
            _recurrent_gradient(W_hh, W_hh_T, da, dh, dh_buffer)
            # The carry that does not go through W_hh: h = ... + z * h_prev.
            for j in range(H):
                for b in range(n_act):
                    dh[j, b] += dh_direct[j, b]
            _cut_carry(dh, cut, n_act)
        _add_block_gradients(
            dA_in, dA_rec, H_prev, block_start, X, lengths, reverse,
            n_steps - n_slots + block_start, W_ih, X_steps, H_block_buffer, ones,
            dX, dW_ih, dW_hh, db_ih, db_hh,
        )  # fmt: skip

    _initial_state_gradient_units(lengths, n_slots, dh, dh0)


@njit(**JIT_OPTIONS)
def _gru_stream_step(a, a_h, bias, b_h, act, h, c):
    """One step of one stream (:mod:`skrnn._kernels._stream`), in place.

    The candidate gate needs ``W_hn h + b_hn`` apart (the spec's
    ``stream_apart_gates``): ``a`` holds ``W_ih x`` and ``a_h`` ``W_hh h``
    of the three gates; ``bias`` holds ``b_ih + b_hh`` for ``r`` and ``z``
    and ``b_in`` for ``n``, ``b_h`` is ``b_hn``. ``act`` and ``c`` are not
    read.
    """
    H = h.shape[0]
    one = h.dtype.type(1.0)
    for j in range(H):
        r = fast_sigmoid(a[j] + a_h[j] + bias[j])
        z = fast_sigmoid(a[H + j] + a_h[H + j] + bias[H + j])
        n = fast_tanh(a[2 * H + j] + bias[2 * H + j] + r * (a_h[2 * H + j] + b_h[j]))
        h[j] = (one - z) * n + z * h[j]


GRU_CELL = CellSpec(
    name="gru",
    gates=3,
    store_width=GRU_STORE_WIDTH,
    has_cell_state=False,
    forward_chunk=_gru_forward_chunk,
    backward_chunk=_gru_backward_chunk,
    stream_step=_gru_stream_step,
    stream_apart_gates=1,
    onnx_op="GRU",
    onnx_gate_order=(1, 0, 2),
    # n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), PyTorch's form.
    onnx_attributes=(("linear_before_reset", 1),),
    torch_module="GRU",
)
