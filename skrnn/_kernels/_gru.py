"""GRU forward and backpropagation-through-time kernels.

Gates in PyTorch order ``r, z, n``::

    r = sigmoid(W_ir x + b_ir + W_hr h_prev + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h_prev + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn))
    h = (1 - z) * n + z * h_prev

Storage per slot and row (``store_width = 5 H``), as sections of the chunk's
flat storage: ``h_prev`` (H), gate outputs ``r, z, n`` (3 H) and
``W_hn h_prev + b_hn`` (H).
"""

import numpy as np
from numba import njit

from ._arrays import _copy_matrix
from ._config import JIT_OPTIONS
from ._math import fast_sigmoid, fast_tanh
from ._steps import (
    _add_input_gradients,
    _add_recurrent_gradients,
    _first_active_step,
    _initial_state_gradient,
    _n_active,
    _project_inputs,
    _real_step,
    _store_section,
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
    X_proj = np.empty((n_block * n_rows, 3 * H), dtype=dtype)
    u_first = _first_active_step(lengths, n_steps)
    # r and z see both biases next to each other; n keeps b_hn inside r * (.).
    bias = b_ih.copy()
    for j in range(2 * H):
        bias[j] += b_hh[j]
    h = h0.copy()
    rec = np.empty((n_rows, 3 * H), dtype=dtype)
    gates_scratch = np.empty(3 * H, dtype=dtype)
    unit_scratch = np.empty(H, dtype=dtype)
    hn_scratch = np.empty(H, dtype=dtype)

    H_prev = _store_section(store, 0, H)
    gates_st = _store_section(store, H, 3 * H)
    hn_st = _store_section(store, 4 * H, H)

    for u in range(n_steps):
        n_act = _n_active(lengths, n_steps - u)
        slot = u - (n_steps - n_slots)
        if slot >= 0:
            H_prev[slot, n_act:] = 0.0
            _copy_matrix(h[:n_act], H_prev[slot, :n_act])
        if n_act == 0:
            continue
        k = (u - u_first) % n_block
        if k == 0:
            n = min(n_block, n_steps - u)
            _project_inputs(
                X, lengths, reverse, u, W_ih, X_steps[:n], X_proj[: n * n_rows]
            )
        np.dot(h[:n_act], W_hh.T, out=rec[:n_act])
        for b in range(n_act):
            t, _ = _real_step(lengths[b], n_steps, u, reverse)
            x_row = k * n_rows + b
            gates = gates_st[slot, b] if slot >= 0 else gates_scratch
            hn_row = hn_st[slot, b] if slot >= 0 else hn_scratch
            out = H_out[t, b, h_off : h_off + H] if has_out else unit_scratch
            # One view per gate: stores at j, H + j, ... of a single array
            # defeat LLVM's dependence analysis (H is unknown at compile
            # time) and the loop would run much slower.
            gate_r, gate_z, gate_n = gates[:H], gates[H : 2 * H], gates[2 * H :]
            for j in range(H):
                r = fast_sigmoid(X_proj[x_row, j] + rec[b, j] + bias[j])
                z = fast_sigmoid(X_proj[x_row, H + j] + rec[b, H + j] + bias[H + j])
                hn = rec[b, 2 * H + j] + b_hh[2 * H + j]
                n = fast_tanh(X_proj[x_row, 2 * H + j] + bias[2 * H + j] + r * hn)
                h_new = (one - z) * n + z * h[b, j]
                h[b, j] = h_new
                out[j] = h_new
                gate_r[j] = r
                gate_z[j] = z
                gate_n[j] = n
                hn_row[j] = hn
    _copy_matrix(h, h_n)
    if has_out:
        _zero_padding(lengths, H_out, h_off, H)


@njit(**JIT_OPTIONS)
def _gru_backward_chunk(
    X,
    lengths,
    W_ih,
    W_hh,
    reverse,
    k_chunk,
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
    k_chunk : int
        0, or the length of the gradient chunks: the carry from processing
        step ``s`` to ``s - 1`` is cut when ``s % k_chunk == 0`` and ``s > 0``.
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
    has_out = dH_out.shape[0] > 0

    H_prev = _store_section(store, 0, H)
    gates_st = _store_section(store, H, 3 * H)
    hn_st = _store_section(store, 4 * H, H)

    # Gradients w.r.t. the input and recurrent pre-activations differ in the
    # n block only (the recurrent one is multiplied by r).
    dA_in = np.empty((n_block, n_rows, 3 * H), dtype=dtype)
    dA_rec = np.empty((n_block, n_rows, 3 * H), dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    dW_ih[:] = 0.0
    dW_hh[:] = 0.0
    db_ih[:] = 0.0
    db_hh[:] = 0.0
    dh = dh_n.copy()
    dh_direct = np.empty((n_rows, H), dtype=dtype)
    cut = np.zeros(n_rows, dtype=np.bool_)
    slot_first = max(0, _first_active_step(lengths, n_steps) - (n_steps - n_slots))
    for block_end in range(n_slots, slot_first, -n_block):
        block_start = max(slot_first, block_end - n_block)
        for slot in range(block_end - 1, block_start - 1, -1):
            u = n_steps - n_slots + slot
            n_act = _n_active(lengths, n_steps - u)
            din_slot = dA_in[slot - block_start]
            drec_slot = dA_rec[slot - block_start]
            # Inactive rows enter the block GEMMs with zero gradient.
            din_slot[n_act:] = 0.0
            drec_slot[n_act:] = 0.0
            for b in range(n_act):
                t, s = _real_step(lengths[b], n_steps, u, reverse)
                cut[b] = k_chunk > 0 and s > 0 and s % k_chunk == 0
                if has_out:
                    for j in range(H):
                        dh[b, j] += dH_out[t, b, h_off + j]
                gates = gates_st[slot, b]
                hn_row = hn_st[slot, b]
                h_prev = H_prev[slot, b]
                # One view per gate block, as in the forward pass.
                da_in, da_rec = din_slot[b], drec_slot[b]
                di_r, di_z, di_n = da_in[:H], da_in[H : 2 * H], da_in[2 * H :]
                dr_r, dr_z, dr_n = da_rec[:H], da_rec[H : 2 * H], da_rec[2 * H :]
                for j in range(H):
                    r = gates[j]
                    z = gates[H + j]
                    n = gates[2 * H + j]
                    dh_j = dh[b, j]
                    dn = dh_j * (one - z) * (one - n * n)
                    dz = dh_j * (h_prev[j] - n) * z * (one - z)
                    dr = dn * hn_row[j] * r * (one - r)
                    di_r[j] = dr
                    di_z[j] = dz
                    di_n[j] = dn
                    dr_r[j] = dr
                    dr_z[j] = dz
                    dr_n[j] = dn * r
                    dh_direct[b, j] = dh_j * z
            np.dot(drec_slot[:n_act], W_hh, out=dh[:n_act])
            for b in range(n_act):
                for j in range(H):
                    dh[b, j] += dh_direct[b, j]
            for b in range(n_act):
                if cut[b]:
                    dh[b] = 0.0
        n = block_end - block_start
        _add_input_gradients(
            dA_in[:n], X, lengths, reverse, n_steps - n_slots + block_start, W_ih,
            X_steps[:n], dX, dW_ih, db_ih,
        )  # fmt: skip
        _add_recurrent_gradients(
            dA_rec[:n], H_prev[block_start:block_end], dW_hh, db_hh
        )

    _initial_state_gradient(lengths, n_slots, dh, dh0)
