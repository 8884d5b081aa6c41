"""The streaming kernel: steps of every layer and the head, for each stream.

A stream advances the recurrent state of a fitted unidirectional network by a
few steps at a time (often one) and reads the head after each step. The
training kernels are laid out for many rows at once (units-major, one BLAS
product per step over the active rows); with one row their gate loops run one
element at a time. Here the state of each stream is a row, and every product
is a sum of columns of a transposed weight matrix (``acc += W.T[j] * v[j]``),
a loop over gate units that LLVM vectorises without reordering any sum, so
that one step of one stream costs about its arithmetic. From
:data:`BLAS_MIN_STREAMS` streams on, each layer and step makes one BLAS
product over all streams instead.

Parameters live in one flat vector ``params`` laid out by
:func:`skrnn._stream.pack_parameters`, and ``layout`` (int64) says where:

- row ``l`` for each recurrent layer ``l``: ``(I, H, W_ih.T, W_hh.T,
  bias, b_h, h, c)``: input and hidden size, the offsets in ``params`` of
  the transposed weights ``(I, G*H)`` and ``(H, G*H)``, of the bias
  ``(G*H,)`` (``b_ih + b_hh``, but ``b_ih`` alone for the gates the cell's
  spec keeps apart, ``stream_apart_gates``) and of ``b_h`` (those gates'
  ``b_hh``; ``H`` zeros without), then the offsets of ``h`` and ``c``
  (cells with a cell state; -1 otherwise) in a row of ``state``;
- the last row: ``(cell, activation, head, K, W_out.T, b_out, embedding,
  n_tokens)``: the cell code (:data:`CELL_CODES`), the Elman activation
  code, the head code (:data:`HEAD_CODES`), the number of outputs, the
  offsets of the transposed output weights ``(H_last, K)`` and bias
  ``(K,)``, and of the embedding ``(n_tokens, E)`` (-1 without one), and
  the number of token ids (0 without an embedding).
"""

import numpy as np
from numba import njit

from . import CELLS
from ._config import HELPER_OPTIONS, JIT_OPTIONS

# The cells by code, in the order of the registry; each step of each layer
# runs its cell's ``stream_step`` (see :class:`~skrnn._kernels.CellSpec`).
CELL_CODES = {name: code for code, name in enumerate(CELLS)}
_GATES = np.array([spec.gates for spec in CELLS.values()], dtype=np.int64)
_APART = np.array([spec.stream_apart_gates for spec in CELLS.values()], np.int64)


def _cell_step_by_code(steps):
    """A compiled ``step(code, a, a_h, bias, b_h, act, h, c)`` that runs
    ``steps[code]``: the registry's stream steps behind one call.

    Built as a chain, each link running its own step for code 0 and passing
    ``code - 1`` on, so that the streaming kernel compiles once for all cells
    and calls no function through a pointer.
    """
    first = steps[0]
    if len(steps) == 1:

        @njit(**{**HELPER_OPTIONS, "cache": False, "inline": "always"})
        def step(code, a, a_h, bias, b_h, act, h, c):
            first(a, a_h, bias, b_h, act, h, c)

        return step
    rest = _cell_step_by_code(steps[1:])

    @njit(**{**HELPER_OPTIONS, "cache": False, "inline": "always"})
    def step(code, a, a_h, bias, b_h, act, h, c):
        if code == 0:
            first(a, a_h, bias, b_h, act, h, c)
        else:
            rest(code - 1, a, a_h, bias, b_h, act, h, c)

    return step


_cell_step = _cell_step_by_code(tuple(spec.stream_step for spec in CELLS.values()))

# What the head writes: its pre-activations, or outputs through the identity,
# logistic, softmax or exponential function, or for a binary classifier the
# two columns ``1 - p, p`` of the one logistic output ``p``.
HEAD_CODES = {"identity": 0, "logistic": 1, "softmax": 2, "exponential": 3, "binary": 4}
_IDENTITY, _LOGISTIC_OUT, _SOFTMAX, _EXPONENTIAL, _BINARY = 0, 1, 2, 3, 4

# Columns of ``layout``.
_LAYOUT_WIDTH = 8


# Steps of a packing plan: copy, copy transposed, sum of two vectors, zeros.
PACK_COPY, PACK_TRANSPOSE, PACK_SUM, PACK_ZERO = 0, 1, 2, 3


@njit(**JIT_OPTIONS)
def pack(theta, plan, params):
    """Lay the flat parameters ``theta`` out for :func:`stream_forward`.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        The network's flat parameters.
    plan : ndarray of shape (n_items, 5), dtype int64
        One row ``(step, source, a, b, destination)`` per piece of
        ``params``: ``PACK_COPY`` copies ``a`` values; ``PACK_TRANSPOSE``
        writes the transpose of the ``(a, b)`` matrix at ``source``;
        ``PACK_SUM`` writes ``theta[source + i] + theta[b + i]`` for ``i <
        a``; ``PACK_ZERO`` writes ``a`` zeros.
    params : ndarray
        Written.
    """
    for item in range(plan.shape[0]):
        step, src, a, b, dst = plan[item]
        if step == PACK_COPY:
            for i in range(a):
                params[dst + i] = theta[src + i]
        elif step == PACK_TRANSPOSE:
            # Blocks of rows, so that the strided writes stay in cache lines.
            for i0 in range(0, a, 16):
                i1 = min(i0 + 16, a)
                for j in range(b):
                    for i in range(i0, i1):
                        params[dst + j * a + i] = theta[src + i * b + j]
        elif step == PACK_SUM:
            for i in range(a):
                params[dst + i] = theta[src + i] + theta[b + i]
        else:
            for i in range(a):
                params[dst + i] = 0


@njit(**JIT_OPTIONS)
def repack(theta, seen, plan, params):
    """:func:`pack` ``theta`` into ``params`` unless ``seen`` equals ``theta``.

    ``seen`` is the ``theta`` that ``params`` was last packed from (NaN at
    first, which equals nothing); it is updated after packing. Returns
    whether it packed. The comparison reads every value without an early
    exit, so that it vectorises.
    """
    changed = 0
    for i in range(theta.shape[0]):
        changed += theta[i] != seen[i]
    if changed == 0:
        return False
    pack(theta, plan, params)
    for i in range(theta.shape[0]):
        seen[i] = theta[i]
    return True


@njit(**JIT_OPTIONS)
def _add_columns(WT, v, acc):
    """``acc += WT.T @ v`` as a sum of the rows of ``WT`` scaled by ``v``.

    Parameters
    ----------
    WT : ndarray of shape (n, m)
        A transposed weight matrix (C order).
    v : ndarray of shape (n,)
        The vector multiplied.
    acc : ndarray of shape (m,)
        Accumulator, added to. Each entry sums its terms in the order of
        ``j``, so the inner loop vectorises without reassociation.
    """
    n, m = WT.shape
    j = 0
    # Eight rows per pass, then four: one load and store of ``acc`` per
    # eight (four) products, each entry still summed in the order of ``j``.
    while j + 8 <= n:
        v0, v1, v2, v3 = v[j], v[j + 1], v[j + 2], v[j + 3]
        v4, v5, v6, v7 = v[j + 4], v[j + 5], v[j + 6], v[j + 7]
        r0, r1, r2, r3 = WT[j], WT[j + 1], WT[j + 2], WT[j + 3]
        r4, r5, r6, r7 = WT[j + 4], WT[j + 5], WT[j + 6], WT[j + 7]
        for g in range(m):
            a = acc[g] + r0[g] * v0
            a += r1[g] * v1
            a += r2[g] * v2
            a += r3[g] * v3
            a += r4[g] * v4
            a += r5[g] * v5
            a += r6[g] * v6
            acc[g] = a + r7[g] * v7
        j += 8
    while j + 4 <= n:
        v0, v1, v2, v3 = v[j], v[j + 1], v[j + 2], v[j + 3]
        r0, r1, r2, r3 = WT[j], WT[j + 1], WT[j + 2], WT[j + 3]
        for g in range(m):
            a = acc[g] + r0[g] * v0
            a += r1[g] * v1
            a += r2[g] * v2
            acc[g] = a + r3[g] * v3
        j += 4
    while j < n:
        v0 = v[j]
        r0 = WT[j]
        for g in range(m):
            acc[g] += r0[g] * v0
        j += 1


@njit(**JIT_OPTIONS)
def _fill(dst, value):
    for g in range(dst.shape[0]):
        dst[g] = value


@njit(**JIT_OPTIONS)
def _head(WT, b, h, z, head, out):
    """Output layer on the top state ``h``; writes one row of ``out``."""
    K = b.shape[0]
    for q in range(K):
        z[q] = b[q]
    _add_columns(WT, h, z)
    one = z.dtype.type(1.0)
    if head == _LOGISTIC_OUT:
        for q in range(K):
            out[q] = one / (one + np.exp(-z[q]))
    elif head == _BINARY:
        p = one / (one + np.exp(-z[0]))
        out[0] = one - p
        out[1] = p
    elif head == _SOFTMAX:
        top = z[0]
        for q in range(1, K):
            top = max(top, z[q])
        total = z.dtype.type(0.0)
        for q in range(K):
            e = np.exp(z[q] - top)
            out[q] = e
            total += e
        for q in range(K):
            out[q] = out[q] / total
    elif head == _EXPONENTIAL:
        for q in range(K):
            out[q] = np.exp(z[q])
    else:
        for q in range(K):
            out[q] = z[q]


@njit(**JIT_OPTIONS)
def first_bad_input(X, ids, n_tokens):
    """Flat index of the first non-finite value or unknown token id, or -1."""
    if n_tokens > 0:
        flat_ids = ids.ravel()
        for i in range(flat_ids.shape[0]):
            if flat_ids[i] < 0 or flat_ids[i] >= n_tokens:
                return i
        return -1
    flat = X.ravel()
    for i in range(flat.shape[0]):
        # x - x is 0 for finite values, NaN for NaN and infinity.
        if flat[i] - flat[i] != 0:
            return i
    return -1


# Streams from which one BLAS product per layer and step, over all streams,
# beats the per-stream sums of columns (benchmarks/stream.py measures both).
BLAS_MIN_STREAMS = 32


@njit(**JIT_OPTIONS)
def _streams_by_products(X, ids, params, layout, state, out, G, width, n_steps):
    """:func:`stream_forward` for many streams: one matrix product per layer
    and step over all streams (BLAS), then each stream's gate loop."""
    L = layout.shape[0] - 1
    cell, act, head = layout[L, 0], layout[L, 1], layout[L, 2]
    K, off_w, off_b, off_e = layout[L, 3], layout[L, 4], layout[L, 5], layout[L, 6]
    n_streams = state.shape[0]
    dtype = params.dtype
    apart = _APART[cell]
    widest = 0
    for layer in range(L):
        widest = max(widest, layout[layer, 0], layout[layer, 1])
    A_buffer = np.empty(n_streams * width, dtype=dtype)
    Ah_buffer = np.empty(n_streams * width, dtype=dtype)
    x_buffer = np.empty(n_streams * widest, dtype=dtype)
    h_buffer = np.empty(n_streams * widest, dtype=dtype)
    z = np.empty(K, dtype=dtype)
    H_top = layout[L - 1, 1]
    W_out = params[off_w : off_w + H_top * K].reshape(H_top, K)
    b_out = params[off_b : off_b + K]
    all_steps = out.shape[1] == n_steps
    for t in range(n_steps):
        for layer in range(L):
            n_in, H = layout[layer, 0], layout[layer, 1]
            GH = G * H
            o_h, o_c = layout[layer, 6], layout[layer, 7]
            x_in = x_buffer[: n_streams * n_in].reshape(n_streams, n_in)
            for s in range(n_streams):
                if layer > 0:
                    x = state[s, layout[layer - 1, 6] : layout[layer - 1, 6] + n_in]
                elif off_e >= 0:
                    x = params[
                        off_e + ids[s, t] * n_in : off_e + (ids[s, t] + 1) * n_in
                    ]
                else:
                    x = X[s, t]
                for j in range(n_in):
                    x_in[s, j] = x[j]
            h_all = h_buffer[: n_streams * H].reshape(n_streams, H)
            for s in range(n_streams):
                for j in range(H):
                    h_all[s, j] = state[s, o_h + j]
            A = A_buffer[: n_streams * GH].reshape(n_streams, GH)
            Ah = Ah_buffer[: n_streams * GH].reshape(n_streams, GH)
            o_ih, o_hh = layout[layer, 2], layout[layer, 3]
            np.dot(x_in, params[o_ih : o_ih + n_in * GH].reshape(n_in, GH), A)
            np.dot(h_all, params[o_hh : o_hh + H * GH].reshape(H, GH), Ah)
            bias = params[layout[layer, 4] : layout[layer, 4] + GH]
            b_h = params[layout[layer, 5] : layout[layer, 5] + max(apart, 1) * H]
            for s in range(n_streams):
                a, a_h = A[s], Ah[s]
                if apart == 0:
                    for g in range(GH):
                        a[g] += a_h[g]
                h = state[s, o_h : o_h + H]
                # A cell without a cell state is given h there, unread.
                c = state[s, o_c : o_c + H] if o_c >= 0 else h
                _cell_step(cell, a, a_h, bias, b_h, act, h, c)
        if all_steps or t == n_steps - 1:
            for s in range(n_streams):
                top = state[s, layout[L - 1, 6] : layout[L - 1, 6] + H_top]
                _head(W_out, b_out, top, z, head, out[s, t if all_steps else 0])


@njit(**JIT_OPTIONS)
def stream_forward(X, ids, params, layout, state, out):
    """Advance every stream by its steps; write the head's outputs.

    Parameters
    ----------
    X : ndarray of shape (N, k, I)
        The next ``k`` steps of each of ``N`` streams (any shape for a
        network with an embedding, which reads ``ids``).
    ids : ndarray of shape (N, k), dtype int64
        Token ids of the steps, for a network with an embedding (any shape
        otherwise).
    params : ndarray of shape (n_params,)
        Packed parameters (see the module docstring).
    layout : ndarray of shape (L + 1, 8), dtype int64
        Where the parameters and states are (see the module docstring).
    state : ndarray of shape (N, S)
        Each stream's recurrent state: every layer's ``h`` (and ``c``),
        updated in place.
    out : ndarray of shape (N, k, n_out) or (N, 1, n_out)
        Written: the head's outputs after every step, or after the last step
        only. ``n_out`` is ``K``, or 2 for the binary head.

    Returns
    -------
    bad : int
        -1; or, leaving ``state`` and ``out`` untouched, the flat index into
        ``X`` (``ids``) of the first value that is not finite (id that is
        out of the vocabulary).
    """
    L = layout.shape[0] - 1
    cell, act, head = layout[L, 0], layout[L, 1], layout[L, 2]
    K, off_w, off_b, off_e = layout[L, 3], layout[L, 4], layout[L, 5], layout[L, 6]
    n_tokens = layout[L, 7]
    n_streams = state.shape[0]
    embeds = off_e >= 0
    n_steps = ids.shape[1] if embeds else X.shape[1]
    bad = first_bad_input(X, ids, n_tokens)
    if bad >= 0:
        return bad
    all_steps = out.shape[1] == n_steps
    dtype = params.dtype
    G = _GATES[cell]
    apart = _APART[cell]
    width = 0
    for layer in range(L):
        width = max(width, G * layout[layer, 1])
    if n_streams >= BLAS_MIN_STREAMS:
        _streams_by_products(X, ids, params, layout, state, out, G, width, n_steps)
        return -1
    ax = np.empty(width, dtype=dtype)
    ah = np.empty(width, dtype=dtype)
    z = np.empty(K, dtype=dtype)
    H_top = layout[L - 1, 1]
    W_out = params[off_w : off_w + H_top * K].reshape(H_top, K)
    b_out = params[off_b : off_b + K]
    zero = dtype.type(0.0)
    for s in range(n_streams):
        row = state[s]
        for t in range(n_steps):
            for layer in range(L):
                n_in, H = layout[layer, 0], layout[layer, 1]
                GH = G * H
                o_ih, o_hh = layout[layer, 2], layout[layer, 3]
                o_bx, o_bh = layout[layer, 4], layout[layer, 5]
                o_h, o_c = layout[layer, 6], layout[layer, 7]
                if layer > 0:
                    x = row[layout[layer - 1, 6] : layout[layer - 1, 6] + n_in]
                elif embeds:
                    token = ids[s, t]
                    x = params[off_e + token * n_in : off_e + (token + 1) * n_in]
                else:
                    x = X[s, t]
                h = row[o_h : o_h + H]
                W_ih = params[o_ih : o_ih + n_in * GH].reshape(n_in, GH)
                W_hh = params[o_hh : o_hh + H * GH].reshape(H, GH)
                bias = params[o_bx : o_bx + GH]
                a = ax[:GH]
                _fill(a, zero)
                _add_columns(W_ih, x, a)
                # What the cell does not read is given arrays at hand (no
                # slicing per step): a for a_h, bias for b_h, h for c.
                a_h, b_h = a, bias
                if apart > 0:
                    a_h = ah[:GH]
                    _fill(a_h, zero)
                    _add_columns(W_hh, h, a_h)
                    b_h = params[o_bh : o_bh + apart * H]
                else:
                    _add_columns(W_hh, h, a)
                c = row[o_c : o_c + H] if o_c >= 0 else h
                _cell_step(cell, a, a_h, bias, b_h, act, h, c)
            if all_steps or t == n_steps - 1:
                top = row[layout[L - 1, 6] : layout[L - 1, 6] + H_top]
                _head(W_out, b_out, top, z, head, out[s, t if all_steps else 0])
    return -1
