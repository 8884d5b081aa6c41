"""Numba kernels of a 1-D temporal convolution followed by ReLU, as GEMMs.

One convolution layer over one chunk of a batch at a time, in the layout of
the recurrent kernels: per-step arrays ``(T, B, features)`` in real time and
``lengths`` ``(B,)`` int64 (any order; a row of length 0 is a dummy row).
Weights are in PyTorch's ``Conv1d`` layout, ``W`` of shape ``(F, I, w)``
(filters, input channels, width) and ``bias`` ``(F,)``.

Every row is convolved over its own steps only. With ``stride`` ``s`` and
``left`` zeros of padding before the first step, output step ``t`` of a row
of length ``L`` is

    ``Y[t] = relu(bias + sum_k W[:, :, k] @ x[t * s - left + k])``,

where ``x[j]`` is the row's input at step ``j`` for ``0 <= j < L`` and zero
otherwise (so whatever the batch holds at padded steps is never read), for
``t < ceil(L / s)``; output steps at or after ``ceil(L / s)`` are zero and
get no gradient. ``left = w // 2`` is PyTorch's ``padding=w // 2`` for an odd
width ("same"), ``left = w - 1`` a causal convolution (step ``t`` sees input
steps up to ``t * s``); both give ``ceil(L / s)`` output steps.

The products are GEMMs over blocks of ``n_block`` output steps (im2col): the
block's inputs are copied into a matrix ``cols`` of one row per output step
and batch row and one column per tap and input channel (column ``k * I + i``,
so that each tap's ``I`` inputs are one contiguous copy), and the filters
into ``W_t`` of shape ``(F, w * I)`` in the same order, so that

- forward: ``Z = cols @ W_t.T``, written straight into the output (whose rows
  ``t * B + b`` are the block's rows);
- backward: ``dW_t += dZ.T @ cols``, added back into ``dW`` in PyTorch's
  order, and ``dcols = dZ @ W_t``, whose entries are added into the input
  gradient at the steps they came from (col2im).

The backward pass rebuilds each block's ``cols`` from the input instead of
keeping them from the forward pass: a copy costs far less than the GEMMs
(``1 / (2 F)`` of their arithmetic) and the memory of the stored inputs is
``w`` times smaller.

Only the dtype varies between compiled signatures: strides, paddings and
block sizes are run-time integers, and the caller passes C-contiguous
arrays, so each kernel compiles once per dtype (float32, float64).
"""

import numpy as np
from numba import njit

from ._arrays import _fill
from ._config import HELPER_OPTIONS, JIT_OPTIONS


@njit(**HELPER_OPTIONS)
def _im2col(X, lengths, stride, left, width, t0, n_steps, cols):
    """Copy the inputs of output steps ``[t0, t0 + n_steps)`` into ``cols``.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
        Layer input.
    lengths : ndarray of shape (B,), int64
        Row lengths.
    stride, left, width : int
        Stride, zeros of padding before the first step, kernel width.
    t0, n_steps : int
        The block's first output step and its number of steps.
    cols : ndarray of shape (>= n_steps * B, width * I)
        Overwritten: row ``(t - t0) * B + b``, column ``k * I + i`` holds
        ``x[t * stride - left + k, b, i]`` of row ``b`` (zero outside its
        steps); rows of output steps at or after ``ceil(L / stride)`` are
        zero.
    """
    B, n_in = X.shape[1], X.shape[2]
    for t in range(t0, t0 + n_steps):
        for b in range(B):
            row = cols[(t - t0) * B + b]
            L = lengths[b]
            if t * stride >= L:
                _fill(row, 0.0)
                continue
            for k in range(width):
                j = t * stride - left + k
                base = k * n_in
                if j >= 0 and j < L:
                    x = X[j, b]
                    for i in range(n_in):
                        row[base + i] = x[i]
                else:
                    for i in range(n_in):
                        row[base + i] = 0.0


@njit(**HELPER_OPTIONS)
def _tap_major(W, out):
    """``out[f, k * I + i] = W[f, i, k]``: filters in the order of ``cols``."""
    F, n_in, width = W.shape
    for f in range(F):
        for k in range(width):
            for i in range(n_in):
                out[f, k * n_in + i] = W[f, i, k]


@njit(**HELPER_OPTIONS)
def _add_channel_major(G, dW):
    """``dW[f, i, k] += G[f, k * I + i]``: the inverse of :func:`_tap_major`."""
    F, n_in, width = dW.shape
    for f in range(F):
        for k in range(width):
            for i in range(n_in):
                dW[f, i, k] += G[f, k * n_in + i]


@njit(**HELPER_OPTIONS)
def _col2im(dcols, lengths, stride, left, width, t0, n_steps, dX):
    """Add the gradients of a block's ``cols`` into ``dX`` (the inverse copy).

    ``dcols`` is laid out as :func:`_im2col`'s ``cols``; entries of steps
    outside a row's ``[0, L)`` and rows of output steps at or after
    ``ceil(L / stride)`` are not read. Taps are added in increasing ``k``
    order for every output step in turn, so the sums do not depend on the
    block size.
    """
    B, n_in = dX.shape[1], dX.shape[2]
    for t in range(t0, t0 + n_steps):
        for b in range(B):
            L = lengths[b]
            if t * stride >= L:
                continue
            row = dcols[(t - t0) * B + b]
            for k in range(width):
                j = t * stride - left + k
                if j >= 0 and j < L:
                    dx = dX[j, b]
                    base = k * n_in
                    for i in range(n_in):
                        dx[i] += row[base + i]


@njit(**HELPER_OPTIONS)
def _bias_relu(Z, lengths, stride, bias, t0, n_steps):
    """``Z = relu(Z + bias)`` at a block's real output steps, zero elsewhere.

    ``Z`` is ``(n_steps * B, F)``, row ``(t - t0) * B + b``. ReLU as
    ``z < 0 -> 0`` lets NaN through, so a diverging model still shows.
    """
    F = Z.shape[1]
    B = lengths.shape[0]
    zero = Z.dtype.type(0.0)
    for t in range(t0, t0 + n_steps):
        for b in range(B):
            z = Z[(t - t0) * B + b]
            if t * stride >= lengths[b]:
                _fill(z, 0.0)
                continue
            for f in range(F):
                v = z[f] + bias[f]
                z[f] = zero if v < zero else v


@njit(**HELPER_OPTIONS)
def _relu_gradient(Y, dY, lengths, stride, t0, n_steps, dZ, db):
    """Gradient through ReLU of a block's outputs, and its bias gradient.

    ``Y`` and ``dY`` are ``(n_steps * B, F)`` (the block's rows); ``dZ``
    ``(>= n_steps * B, F)`` is overwritten with ``dY`` where the output is
    positive at a real output step, zero elsewhere; ``db`` is added the sum
    of the rows of ``dZ``.
    """
    F = Y.shape[1]
    B = lengths.shape[0]
    zero = Y.dtype.type(0.0)
    for t in range(t0, t0 + n_steps):
        for b in range(B):
            r = (t - t0) * B + b
            dz = dZ[r]
            if t * stride >= lengths[b]:
                _fill(dz, 0.0)
                continue
            y, dy = Y[r], dY[r]
            for f in range(F):
                g = dy[f] if y[f] > zero else zero
                dz[f] = g
                db[f] += g


@njit(**JIT_OPTIONS)
def conv_forward(X, lengths, W, bias, stride, left, n_block, Y):
    """Convolution plus ReLU of one chunk.

    Parameters
    ----------
    X : ndarray of shape (T, B, I), C-contiguous
        Input in real time; steps at or after a row's length are not read.
    lengths : ndarray of shape (B,), int64
        Row lengths in ``[0, T]``.
    W : ndarray of shape (F, I, w), C-contiguous
        Filters (PyTorch's ``Conv1d.weight``).
    bias : ndarray of shape (F,)
        Biases.
    stride : int
        Stride ``s >= 1``.
    left : int
        Zeros of padding before the first step (``w // 2`` or ``w - 1``).
    n_block : int
        Output steps per GEMM (``>= 1``).
    Y : ndarray of shape (ceil(T / s), B, F), C-contiguous
        Overwritten with the outputs; zero at output steps at or after a
        row's ``ceil(L / s)``.
    """
    T_out, B, F = Y.shape
    n_in, width = W.shape[1], W.shape[2]
    W_t = np.empty((F, n_in * width), dtype=Y.dtype)
    _tap_major(W, W_t)
    cols = np.empty((n_block * B, n_in * width), dtype=Y.dtype)
    for t0 in range(0, T_out, n_block):
        n = min(n_block, T_out - t0)
        rows = n * B
        _im2col(X, lengths, stride, left, width, t0, n, cols)
        Z = Y[t0 : t0 + n].reshape((rows, F))
        np.dot(cols[:rows], W_t.T, out=Z)
        _bias_relu(Z, lengths, stride, bias, t0, n)


@njit(**JIT_OPTIONS)
def conv_backward(X, lengths, W, stride, left, n_block, Y, dY, dX, dW, db):
    """Gradients of one chunk's convolution plus ReLU.

    Parameters
    ----------
    X, lengths, W, stride, left, n_block
        As given to :func:`conv_forward`.
    Y : ndarray of shape (ceil(T / s), B, F), C-contiguous
        The outputs :func:`conv_forward` wrote (ReLU's gradient is read from
        them).
    dY : ndarray of shape (ceil(T / s), B, F), C-contiguous
        Gradient w.r.t. ``Y``; entries at output steps at or after a row's
        ``ceil(L / s)`` are not read.
    dX : ndarray of shape (T, B, I), C-contiguous or (0, B, I)
        Overwritten with the gradient w.r.t. ``X``: zero at steps at or
        after a row's length. Not computed if it has no steps.
    dW : ndarray of shape (F, I, w), C-contiguous
        Overwritten with the gradient w.r.t. ``W``.
    db : ndarray of shape (F,)
        Overwritten with the gradient w.r.t. ``bias``.
    """
    T_out, B, F = Y.shape
    n_in, width = W.shape[1], W.shape[2]
    K = n_in * width
    W_t = np.empty((F, K), dtype=Y.dtype)
    _tap_major(W, W_t)
    input_gradient = dX.shape[0] > 0
    for j in range(dX.shape[0]):
        for b in range(B):
            _fill(dX[j, b], 0.0)
    for f in range(F):
        for i in range(n_in):
            _fill(dW[f, i], 0.0)
    _fill(db, 0.0)
    cols = np.empty((n_block * B, K), dtype=Y.dtype)
    dcols = np.empty((n_block * B, K), dtype=Y.dtype)
    dZ = np.empty((n_block * B, F), dtype=Y.dtype)
    product = np.empty((F, K), dtype=Y.dtype)
    for t0 in range(0, T_out, n_block):
        n = min(n_block, T_out - t0)
        rows = n * B
        _im2col(X, lengths, stride, left, width, t0, n, cols)
        _relu_gradient(
            Y[t0 : t0 + n].reshape((rows, F)),
            dY[t0 : t0 + n].reshape((rows, F)),
            lengths, stride, t0, n, dZ, db,
        )  # fmt: skip
        np.dot(dZ[:rows].T, cols[:rows], out=product)
        _add_channel_major(product, dW)
        if input_gradient:
            np.dot(dZ[:rows], W_t, out=dcols[:rows])
            _col2im(dcols, lengths, stride, left, width, t0, n, dX)


@njit(**JIT_OPTIONS)
def conv_stream_push(X, counts, W, bias, stride, history, seen, Y, out_counts):
    """Causal convolution plus ReLU of the next steps of ``N`` live streams.

    The same outputs as :func:`conv_forward` with ``left = w - 1`` over each
    stream's whole sequence so far: output step ``t`` comes out when input
    step ``t * stride`` arrives, and reads input steps ``t * stride - w + 1``
    to ``t * stride``, the earliest ``w - 1`` of them from ``history``.

    Parameters
    ----------
    X : ndarray of shape (N, k, I)
        The next input steps of each stream; stream ``n`` has ``counts[n]``
        of them (the rest is not read).
    counts : ndarray of shape (N,), int64
        New steps of each stream, in ``[0, k]``.
    W : ndarray of shape (F, I, w), C-contiguous
        Filters.
    bias : ndarray of shape (F,)
        Biases.
    stride : int
        Stride.
    history : ndarray of shape (N, max(w - 1, 1), I)
        Ring buffer of each stream's last ``w - 1`` input steps: step ``g``
        in slot ``g % (w - 1)``, zeros for the steps before the first (a
        fresh or reset stream is all zeros: the causal padding). Updated.
    seen : ndarray of shape (N,), int64
        Input steps each stream has had before this call. Updated.
    Y : ndarray of shape (N, >= ceil(k / stride), F)
        Written: stream ``n``'s new output steps in ``Y[n, :out_counts[n]]``
        (the rest is left as it was).
    out_counts : ndarray of shape (N,), int64
        Written: new output steps of each stream.
    """
    N = X.shape[0]
    F, n_in, width = W.shape
    depth = width - 1
    total = 0
    for n in range(N):
        made = 0
        for j in range(counts[n]):
            if (seen[n] + j) % stride == 0:
                made += 1
        out_counts[n] = made
        total += made
    W_t = np.empty((F, width * n_in), dtype=Y.dtype)
    _tap_major(W, W_t)
    cols = np.empty((total, width * n_in), dtype=Y.dtype)
    row = 0
    for n in range(N):
        for j in range(counts[n]):
            g = seen[n] + j
            x = X[n, j]
            if g % stride == 0:
                dst = cols[row]
                for k in range(depth):
                    src = history[n, (g + k) % depth]
                    for i in range(n_in):
                        dst[k * n_in + i] = src[i]
                for i in range(n_in):
                    dst[depth * n_in + i] = x[i]
                row += 1
            if depth > 0:
                slot = history[n, g % depth]
                for i in range(n_in):
                    slot[i] = x[i]
        seen[n] += counts[n]
    if total == 0:
        return
    Z = np.empty((total, F), dtype=Y.dtype)
    np.dot(cols, W_t.T, out=Z)
    zero = Y.dtype.type(0.0)
    row = 0
    for n in range(N):
        for t in range(out_counts[n]):
            z, y = Z[row], Y[n, t]
            for f in range(F):
                v = z[f] + bias[f]
                y[f] = zero if v < zero else v
            row += 1
