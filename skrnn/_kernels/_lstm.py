"""LSTM forward and backpropagation-through-time kernels.

Gates in PyTorch order ``i, f, g, o``::

    a = W_ih x + b_ih + W_hh h_prev + b_hh
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c = f * c_prev + i * g;  h = o * tanh(c)

Storage per slot and row (``store_width = 7 H``), as sections of the chunk's
flat storage (see :func:`skrnn._kernels._common._store_section`): ``h_prev``
(H), gate outputs ``i, f, g, o`` (4 H), ``c_prev`` (H) and ``tanh(c)`` (H).
"""

import numpy as np
from numba import njit, prange

from ._common import (
    _add_input_gradients,
    _add_recurrent_gradients,
    _copy_matrix,
    _first_active_step,
    _initial_state_gradient,
    _n_active,
    _project_inputs,
    _real_step,
    _store_section,
    _sum_chunks,
    _zero_padding,
)
from ._config import JIT_OPTIONS
from ._math import fast_sigmoid, fast_tanh

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
    X_proj = np.empty((n_block * n_rows, 4 * H), dtype=dtype)
    u_first = _first_active_step(lengths, n_steps)
    bias = b_ih + b_hh
    h = h0.copy()
    c = c0.copy()
    rec = np.empty((n_rows, 4 * H), dtype=dtype)
    # Rows that are not stored or output write into these instead, so that
    # the gate loop itself has no branches.
    gates_scratch = np.empty(4 * H, dtype=dtype)
    unit_scratch = np.empty(H, dtype=dtype)
    tanh_c_scratch = np.empty(H, dtype=dtype)

    H_prev = _store_section(store, 0, H)
    gates_st = _store_section(store, H, 4 * H)
    c_prev_st = _store_section(store, 5 * H, H)
    tanh_c_st = _store_section(store, 6 * H, H)

    for u in range(n_steps):
        n_act = _n_active(lengths, n_steps - u)
        slot = u - (n_steps - n_slots)
        if slot >= 0:
            # Inactive rows enter the weight-gradient GEMM with zero gradient;
            # zeros here keep them finite whatever the buffer held.
            H_prev[slot, n_act:] = 0.0
            _copy_matrix(h[:n_act], H_prev[slot, :n_act])
            _copy_matrix(c[:n_act], c_prev_st[slot, :n_act])
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
            tanh_c = tanh_c_st[slot, b] if slot >= 0 else tanh_c_scratch
            out = H_out[t, b, h_off : h_off + H] if has_out else unit_scratch
            # One view per gate: stores at j, H + j, ... of a single array
            # defeat LLVM's dependence analysis (H is unknown at compile
            # time) and the loop would run much slower.
            gate_i, gate_f = gates[:H], gates[H : 2 * H]
            gate_g, gate_o = gates[2 * H : 3 * H], gates[3 * H :]
            for j in range(H):
                a_i = X_proj[x_row, j] + rec[b, j] + bias[j]
                a_f = X_proj[x_row, H + j] + rec[b, H + j] + bias[H + j]
                a_g = X_proj[x_row, 2 * H + j] + rec[b, 2 * H + j] + bias[2 * H + j]
                a_o = X_proj[x_row, 3 * H + j] + rec[b, 3 * H + j] + bias[3 * H + j]
                i = fast_sigmoid(a_i)
                f = fast_sigmoid(a_f)
                g = fast_tanh(a_g)
                o = fast_sigmoid(a_o)
                c_new = f * c[b, j] + i * g
                tc = fast_tanh(c_new)
                h_new = o * tc
                c[b, j] = c_new
                h[b, j] = h_new
                out[j] = h_new
                gate_i[j] = i
                gate_f[j] = f
                gate_g[j] = g
                gate_o[j] = o
                tanh_c[j] = tc
    _copy_matrix(h, h_n)
    _copy_matrix(c, c_n)
    if has_out:
        _zero_padding(lengths, H_out, h_off, H)


@njit(**JIT_OPTIONS)
def _lstm_backward_chunk(
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
    k_chunk : int
        0, or the length of the gradient chunks: the carry from processing
        step ``s`` to ``s - 1`` is cut when ``s % k_chunk == 0`` and ``s > 0``.
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
    has_out = dH_out.shape[0] > 0

    H_prev = _store_section(store, 0, H)
    gates_st = _store_section(store, H, 4 * H)
    c_prev_st = _store_section(store, 5 * H, H)
    tanh_c_st = _store_section(store, 6 * H, H)

    dA = np.empty((n_block, n_rows, 4 * H), dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    dW_ih[:] = 0.0
    dW_hh[:] = 0.0
    db_ih[:] = 0.0
    db_hh[:] = 0.0
    dh = dh_n.copy()
    dc = dc_n.copy()
    cut = np.zeros(n_rows, dtype=np.bool_)
    slot_first = max(0, _first_active_step(lengths, n_steps) - (n_steps - n_slots))
    for block_end in range(n_slots, slot_first, -n_block):
        block_start = max(slot_first, block_end - n_block)
        for slot in range(block_end - 1, block_start - 1, -1):
            u = n_steps - n_slots + slot
            n_act = _n_active(lengths, n_steps - u)
            da_slot = dA[slot - block_start]
            # Inactive rows enter the block GEMMs with zero gradient.
            da_slot[n_act:] = 0.0
            for b in range(n_act):
                t, s = _real_step(lengths[b], n_steps, u, reverse)
                cut[b] = k_chunk > 0 and s > 0 and s % k_chunk == 0
                if has_out:
                    for j in range(H):
                        dh[b, j] += dH_out[t, b, h_off + j]
                gates = gates_st[slot, b]
                c_prev = c_prev_st[slot, b]
                tanh_c = tanh_c_st[slot, b]
                # One view per gate block, as in the forward pass.
                da = da_slot[b]
                da_i, da_f = da[:H], da[H : 2 * H]
                da_g, da_o = da[2 * H : 3 * H], da[3 * H :]
                for j in range(H):
                    i = gates[j]
                    f = gates[H + j]
                    g = gates[2 * H + j]
                    o = gates[3 * H + j]
                    tc = tanh_c[j]
                    dh_j = dh[b, j]
                    dc_j = dc[b, j] + dh_j * o * (one - tc * tc)
                    da_i[j] = dc_j * g * i * (one - i)
                    da_f[j] = dc_j * c_prev[j] * f * (one - f)
                    da_g[j] = dc_j * i * (one - g * g)
                    da_o[j] = dh_j * tc * o * (one - o)
                    dc[b, j] = dc_j * f
            np.dot(da_slot[:n_act], W_hh, out=dh[:n_act])
            for b in range(n_act):
                if cut[b]:
                    dh[b] = 0.0
                    dc[b] = 0.0
        n = block_end - block_start
        _add_input_gradients(
            dA[:n], X, lengths, reverse, n_steps - n_slots + block_start, W_ih,
            X_steps[:n], dX, dW_ih, db_ih,
        )  # fmt: skip
        _add_recurrent_gradients(dA[:n], H_prev[block_start:block_end], dW_hh, db_hh)

    _initial_state_gradient(lengths, n_slots, dh, dh0)
    _initial_state_gradient(lengths, n_slots, dc, dc0)


@njit(parallel=True, **JIT_OPTIONS)
def _lstm_forward_parallel(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, n_block,
    H_out, h_off, h_n, c_n, store,
):  # fmt: skip
    """Run an LSTM layer-direction over all chunks, one thread per chunk.

    Parameters
    ----------
    X, lengths, h0, c0, H_out, h_n, c_n, store
        As in :func:`_lstm_forward_chunk`, with a leading chunk axis ``C``.
    W_ih, W_hh, b_ih, b_hh, reverse, n_block, h_off
        As in :func:`_lstm_forward_chunk`.

    Notes
    -----
    Chunks write disjoint outputs, so no reduction is needed. BLAS must be
    single-threaded inside the parallel region (the caller limits it).
    """
    for c in prange(X.shape[0]):
        _lstm_forward_chunk(
            X[c], lengths[c], W_ih, W_hh, b_ih, b_hh, h0[c], c0[c], reverse,
            n_block, H_out[c], h_off, h_n[c], c_n[c], store[c],
        )  # fmt: skip


@njit(parallel=True, **JIT_OPTIONS)
def _lstm_backward_parallel(
    X, lengths, W_ih, W_hh, reverse, k_chunk, n_block, store, dH_out, h_off,
    dh_n, dc_n, dX, dW_ih, dW_hh, db_ih, db_hh, dh0, dc0,
):  # fmt: skip
    """Backpropagate through a layer-direction, one thread per chunk.

    Parameters
    ----------
    X : ndarray of shape (C, T, Bc, I)
        Layer input, as given to the forward pass.
    lengths : ndarray of shape (C, Bc), dtype int64
        Row lengths, non-increasing within each chunk.
    W_ih, W_hh : ndarray
        Weights (see :func:`_lstm_backward_chunk`).
    reverse : bool
        Direction.
    k_chunk : int
        Gradient chunk length, 0 for none.
    n_block : int
        Stored steps per block of weight-gradient GEMMs.
    store : ndarray of shape (C, N, Bc, 7 * H)
        Written by the forward pass.
    dH_out : ndarray of shape (C, T, Bc, D * H) or (C, 0, Bc, D * H)
        Output gradient.
    h_off : int
        First output column of this direction.
    dh_n, dc_n : ndarray of shape (C, Bc, H)
        Gradient w.r.t. the final states.
    dX : ndarray of shape (C, T, Bc, I) or (C, 0, Bc, I)
        Input gradient, added to.
    dW_ih, dW_hh, db_ih, db_hh : ndarray
        Overwritten with the parameter gradients summed over chunks.
    dh0, dc0 : ndarray of shape (C, Bc, H)
        Overwritten with the gradient w.r.t. the initial states.

    Notes
    -----
    Each chunk writes its parameter gradients into its own buffer; the
    buffers are summed serially after the parallel loop, so there are no
    races. BLAS must be single-threaded inside the parallel region (the
    caller limits it).
    """
    n_chunks = X.shape[0]
    dtype = W_hh.dtype
    dW_ih_c = np.empty((n_chunks, dW_ih.size), dtype=dtype)
    dW_hh_c = np.empty((n_chunks, dW_hh.size), dtype=dtype)
    db_ih_c = np.empty((n_chunks, db_ih.size), dtype=dtype)
    db_hh_c = np.empty((n_chunks, db_hh.size), dtype=dtype)
    for c in prange(n_chunks):
        _lstm_backward_chunk(
            X[c], lengths[c], W_ih, W_hh, reverse, k_chunk, n_block, store[c],
            dH_out[c], h_off, dh_n[c], dc_n[c], dX[c],
            dW_ih_c[c].reshape(dW_ih.shape), dW_hh_c[c].reshape(dW_hh.shape),
            db_ih_c[c], db_hh_c[c], dh0[c], dc0[c],
        )  # fmt: skip
    _sum_chunks(dW_ih_c, dW_ih.reshape(dW_ih.size))
    _sum_chunks(dW_hh_c, dW_hh.reshape(dW_hh.size))
    _sum_chunks(db_ih_c, db_ih)
    _sum_chunks(db_hh_c, db_hh)
