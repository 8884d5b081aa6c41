"""Elman RNN forward and backpropagation-through-time kernels.

``h = act(W_ih x + b_ih + W_hh h_prev + b_hh)`` with ``act`` given by its code
in ``ACTIVATION_CODES``: 0 tanh, 1 relu, 2 logistic, 3 identity. Derivatives
are computed from the outputs, as in scikit-learn's MLP.

States and their gradients are unit-major, ``(units, rows)``, as in every
kernel (:mod:`skrnn._kernels._steps`). Storage per slot and row
(``store_width = 2 H``), as unit-major sections of the chunk's flat storage:
``h_prev`` (H) and ``h`` (H).
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

RNN_STORE_WIDTH = 2

# The Elman nonlinearity as the integer the kernels take (the one definition).
ACTIVATION_CODES = {"tanh": 0, "relu": 1, "logistic": 2, "identity": 3}
TANH = ACTIVATION_CODES["tanh"]
RELU = ACTIVATION_CODES["relu"]
LOGISTIC = ACTIVATION_CODES["logistic"]


@njit(**JIT_OPTIONS)
def _activate(a, act, h, out):
    """Apply the Elman activation to one unit's active rows.

    Parameters
    ----------
    a : ndarray of shape (n_act,)
        Pre-activations.
    act : int
        Activation code (0 tanh, 1 relu, 2 logistic, 3 identity).
    h : ndarray of shape (>= n_act,)
        Output: the unit's state, at the first ``n_act`` rows.
    out : ndarray of shape (>= n_act,)
        Output: a copy of the same values (the stored state).
    """
    # One loop per activation, so that each is branch-free and vectorised.
    zero = a.dtype.type(0.0)
    if act == TANH:
        for b in range(a.shape[0]):
            v = fast_tanh(a[b])
            h[b] = v
            out[b] = v
    elif act == RELU:
        for b in range(a.shape[0]):
            # Written so that NaN propagates, as in np.maximum.
            v = zero if a[b] < zero else a[b]
            h[b] = v
            out[b] = v
    elif act == LOGISTIC:
        for b in range(a.shape[0]):
            v = fast_sigmoid(a[b])
            h[b] = v
            out[b] = v
    else:
        for b in range(a.shape[0]):
            h[b] = a[b]
            out[b] = a[b]


@njit(**JIT_OPTIONS)
def _activation_gradient(h, dh, act, da, dA):
    """Backpropagate through the Elman activation, from its output.

    Parameters
    ----------
    h : ndarray of shape (>= n_act,)
        Activation outputs of one unit.
    dh : ndarray of shape (>= n_act,)
        Gradient w.r.t. the outputs.
    act : int
        Activation code (0 tanh, 1 relu, 2 logistic, 3 identity).
    da : ndarray of shape (n_act,)
        Output: gradient w.r.t. the pre-activations of the active rows.
    dA : ndarray of shape (B,)
        Output: the same gradients, and zero for the inactive rows (the
        unit's columns of the step in its block).
    """
    one = h.dtype.type(1.0)
    zero = h.dtype.type(0.0)
    n_act = da.shape[0]
    # One loop per activation, as in _activate.
    if act == TANH:
        for b in range(n_act):
            v = dh[b] * (one - h[b] * h[b])
            da[b] = v
            dA[b] = v
    elif act == RELU:
        for b in range(n_act):
            v = dh[b] if h[b] > zero else zero
            da[b] = v
            dA[b] = v
    elif act == LOGISTIC:
        for b in range(n_act):
            v = dh[b] * h[b] * (one - h[b])
            da[b] = v
            dA[b] = v
    else:
        for b in range(n_act):
            da[b] = dh[b]
            dA[b] = dh[b]
    for b in range(n_act, dA.shape[0]):
        dA[b] = 0.0


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
    proj_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    X_proj = proj_buffer[:0].reshape(H, 0)
    u_first = _first_active_step(lengths, n_steps)
    bias = b_ih + b_hh
    h = np.empty((H, n_rows), dtype=dtype)
    _copy_transposed(h0, h)
    rec_buffer = np.empty(H * n_rows, dtype=dtype)
    h_buffer = np.empty(H * n_rows, dtype=dtype)
    # Steps that are not stored write into this instead.
    h_scratch = np.empty((H, n_rows), dtype=dtype)
    # 0 * H, not 0: an int64 like the other offsets, so that _unit_section
    # compiles once rather than once more for the literal 0.
    H_prev = _unit_section(store, 0 * H, H)
    H_st = _unit_section(store, H, H)

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
        rec = rec_buffer[: H * n_act].reshape(H, n_act)
        np.dot(W_hh, _active_state(h, n_act, h_buffer), out=rec)
        col = k * n_rows
        for j in range(H):
            x_j, a_j, bias_j = X_proj[j, col:], rec[j], bias[j]
            for b in range(n_act):
                a_j[b] += x_j[b] + bias_j
            out = H_st[slot, j] if slot >= 0 else h_scratch[j]
            _activate(a_j, act, h[j], out)
        if has_out:
            _write_outputs(h, lengths, n_steps, u, reverse, n_act, H_out, h_off)
    _copy_transposed(h, h_n)
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
    segment_steps : int
        0, or the length of the gradient chunks: the carry from processing
        step ``s`` to ``s - 1`` is cut when ``s % segment_steps == 0`` and ``s > 0``.
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

    # 0 * H, not 0: an int64 like the other offsets, so that _unit_section
    # compiles once rather than once more for the literal 0.
    H_prev = _unit_section(store, 0 * H, H)
    H_st = _unit_section(store, H, H)

    dA_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    dA_step_buffer = np.empty(H * n_rows, dtype=dtype)
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
    cut = np.empty(n_rows, dtype=np.bool_)
    for b in range(n_rows):
        cut[b] = False
    slot_first = max(0, _first_active_step(lengths, n_steps) - (n_steps - n_slots))
    for block_end in range(n_slots, slot_first, -n_block):
        block_start = max(slot_first, block_end - n_block)
        width = (block_end - block_start) * n_rows
        dA = dA_buffer[: H * width].reshape(H, width)
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
            da = dA_step_buffer[: H * n_act].reshape(H, n_act)
            col = (slot - block_start) * n_rows
            for j in range(H):
                dA_j = dA[j, col : col + n_rows]
                _activation_gradient(H_st[slot, j], dh[j], act, da[j], dA_j)
            _recurrent_gradient(W_hh, W_hh_T, da, dh, dh_buffer)
            _cut_carry(dh, cut, n_act)
        # Both biases enter the same pre-activation: one gradient block.
        _add_block_gradients(
            dA, dA, H_prev, block_start, X, lengths, reverse,
            n_steps - n_slots + block_start, W_ih, X_steps, H_block_buffer, ones,
            dX, dW_ih, dW_hh, db_ih, db_hh,
        )  # fmt: skip

    _initial_state_gradient_units(lengths, n_slots, dh, dh0)


@njit(**JIT_OPTIONS)
def _rnn_stream_step(a, a_h, bias, b_h, act, h, c):
    """One step of one stream (:mod:`skrnn._kernels._stream`), in place.

    ``a`` holds ``W_ih x + W_hh h``, ``bias`` is ``b_ih + b_hh``, ``act``
    the activation code; ``h`` is the stream's state. ``a_h``, ``b_h`` and
    ``c`` are not read. One loop per activation keeps each one branch-free.
    """
    zero = h.dtype.type(0.0)
    if act == TANH:
        for j in range(h.shape[0]):
            h[j] = fast_tanh(a[j] + bias[j])
    elif act == RELU:
        for j in range(h.shape[0]):
            v = a[j] + bias[j]
            h[j] = zero if v < zero else v  # NaN propagates, as np.maximum
    elif act == LOGISTIC:
        for j in range(h.shape[0]):
            h[j] = fast_sigmoid(a[j] + bias[j])
    else:
        for j in range(h.shape[0]):
            h[j] = a[j] + bias[j]


RNN_CELL = CellSpec(
    name="rnn",
    gates=1,
    store_width=RNN_STORE_WIDTH,
    has_cell_state=False,
    forward_chunk=_rnn_forward_chunk,
    backward_chunk=_rnn_backward_chunk,
    stream_step=_rnn_stream_step,
    onnx_op="RNN",
    onnx_gate_order=(0,),
    torch_module="RNN",
    uses_activation=True,
)
