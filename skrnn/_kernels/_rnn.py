"""Elman RNN forward and backpropagation-through-time kernels.

``h = act(W_ih x + b_ih + W_hh h_prev + b_hh)`` with ``act`` given by its code
in ``ACTIVATION_CODES``: 0 tanh, 1 relu, 2 logistic, 3 identity. Derivatives
are computed from the outputs, as in scikit-learn's MLP.

Storage per slot and row (``store_width = 2 H``), as sections of the chunk's
flat storage: ``h_prev`` (H) and ``h`` (H).
"""

import numpy as np
from numba import njit

from ._arrays import _copy_matrix, _copy_vector
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

RNN_STORE_WIDTH = 2

# The Elman nonlinearity as the integer the kernels take (the one definition).
ACTIVATION_CODES = {"tanh": 0, "relu": 1, "logistic": 2, "identity": 3}
TANH = ACTIVATION_CODES["tanh"]
RELU = ACTIVATION_CODES["relu"]
LOGISTIC = ACTIVATION_CODES["logistic"]


@njit(**JIT_OPTIONS)
def _activate(a, act, h):
    """Apply the Elman activation elementwise.

    Parameters
    ----------
    a : ndarray of shape (H,)
        Pre-activations.
    act : int
        Activation code (0 tanh, 1 relu, 2 logistic, 3 identity).
    h : ndarray of shape (H,)
        Output.
    """
    # One loop per activation, so that each is branch-free and vectorised.
    zero = a.dtype.type(0.0)
    if act == TANH:
        for j in range(a.shape[0]):
            h[j] = fast_tanh(a[j])
    elif act == RELU:
        for j in range(a.shape[0]):
            # Written so that NaN propagates, as in np.maximum.
            h[j] = zero if a[j] < zero else a[j]
    elif act == LOGISTIC:
        for j in range(a.shape[0]):
            h[j] = fast_sigmoid(a[j])
    else:
        _copy_vector(a, h)


@njit(**JIT_OPTIONS)
def _activation_gradient(h, dh, act, da):
    """Backpropagate through the Elman activation, from its output.

    Parameters
    ----------
    h : ndarray of shape (H,)
        Activation outputs.
    dh : ndarray of shape (H,)
        Gradient w.r.t. the outputs.
    act : int
        Activation code (0 tanh, 1 relu, 2 logistic, 3 identity).
    da : ndarray of shape (H,)
        Output: gradient w.r.t. the pre-activations.
    """
    one = h.dtype.type(1.0)
    zero = h.dtype.type(0.0)
    if act == TANH:
        for j in range(h.shape[0]):
            da[j] = dh[j] * (one - h[j] * h[j])
    elif act == RELU:
        for j in range(h.shape[0]):
            da[j] = dh[j] if h[j] > zero else zero
    elif act == LOGISTIC:
        for j in range(h.shape[0]):
            da[j] = dh[j] * h[j] * (one - h[j])
    else:
        _copy_vector(dh, da)


@njit(**JIT_OPTIONS)
def _rnn_forward_chunk(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse, act, n_block,
    H_out, h_off, h_n, store,
):  # fmt: skip
    """Run one Elman layer-direction over one chunk of the batch.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input in real time; steps ``t >= lengths[b]`` are never read.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing, in ``[0, T]``.
    W_ih : ndarray of shape (H, I)
        Input weights.
    W_hh : ndarray of shape (H, H)
        Recurrent weights.
    b_ih, b_hh : ndarray of shape (H,)
        Input and recurrent biases.
    h0 : ndarray of shape (B, H)
        Initial hidden state.
    reverse : bool
        Process each row from its last real step to its first.
    act : int
        Activation code (0 tanh, 1 relu, 2 logistic, 3 identity).
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
    store : ndarray of shape (N, B, 2 * H)
        Output: what the backward pass needs for the last ``N`` global steps.

    Notes
    -----
    One GEMM projects the inputs of every ``n_block`` steps; each global
    step does one GEMM on the active prefix of the state and one activation
    loop. Memory beyond ``store`` is ``O(n_block * B * H)``, whatever ``T``.
    """
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_slots = store.shape[0]
    dtype = W_hh.dtype
    has_out = H_out.shape[0] > 0

    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    X_proj = np.empty((n_block * n_rows, H), dtype=dtype)
    u_first = _first_active_step(lengths, n_steps)
    bias = b_ih + b_hh
    h = h0.copy()
    rec = np.empty((n_rows, H), dtype=dtype)
    H_prev = _store_section(store, 0, H)
    H_st = _store_section(store, H, H)

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
            for j in range(H):
                rec[b, j] += X_proj[x_row, j] + bias[j]
            _activate(rec[b], act, h[b])
            if slot >= 0:
                _copy_vector(h[b], H_st[slot, b])
            if has_out:
                _copy_vector(h[b], H_out[t, b, h_off : h_off + H])
    _copy_matrix(h, h_n)
    if has_out:
        _zero_padding(lengths, H_out, h_off, H)


@njit(**JIT_OPTIONS)
def _rnn_backward_chunk(
    X,
    lengths,
    W_ih,
    W_hh,
    reverse,
    act,
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
    """Backpropagate through one Elman layer-direction over one chunk.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input in real time, as given to the forward pass.
    lengths : ndarray of shape (B,), dtype int64
        Row lengths, sorted non-increasing.
    W_ih : ndarray of shape (H, I)
        Input weights.
    W_hh : ndarray of shape (H, H)
        Recurrent weights.
    reverse : bool
        Direction, as in the forward pass.
    act : int
        Activation code, as in the forward pass.
    k_chunk : int
        0, or the length of the gradient chunks: the carry from processing
        step ``s`` to ``s - 1`` is cut when ``s % k_chunk == 0`` and ``s > 0``.
    n_block : int
        Number of stored steps whose parameter gradients are accumulated by
        one GEMM (at least 1).
    store : ndarray of shape (N, B, 2 * H)
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
    has_out = dH_out.shape[0] > 0

    H_prev = _store_section(store, 0, H)
    H_st = _store_section(store, H, H)

    dA = np.empty((n_block, n_rows, H), dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    dW_ih[:] = 0.0
    dW_hh[:] = 0.0
    db_ih[:] = 0.0
    db_hh[:] = 0.0
    dh = dh_n.copy()
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
                _activation_gradient(H_st[slot, b], dh[b], act, da_slot[b])
            np.dot(da_slot[:n_act], W_hh, out=dh[:n_act])
            for b in range(n_act):
                if cut[b]:
                    dh[b] = 0.0
        n = block_end - block_start
        _add_input_gradients(
            dA[:n], X, lengths, reverse, n_steps - n_slots + block_start, W_ih,
            X_steps[:n], dX, dW_ih, db_ih,
        )  # fmt: skip
        _add_recurrent_gradients(dA[:n], H_prev[block_start:block_end], dW_hh, db_hh)

    _initial_state_gradient(lengths, n_slots, dh, dh0)
