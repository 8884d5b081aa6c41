"""Run the kernels of :mod:`skrnn._kernels` over a batch split into chunks.

:func:`layer_forward` and :func:`layer_backward` run one recurrent
layer-direction: the kernel of each chunk, the first in the calling thread
and the others on the chunk workers (the kernels release the GIL). Each
chunk writes its parameter gradients into its own buffer; the buffers are
summed after all chunks are done, so there are no races. The dispatchers
check only cheap invariants; input validation belongs to the estimators.

Per-step arrays here have shape ``(C, T, Bc, features)`` (``C`` chunks of
``Bc`` rows), per-row arrays ``(C, Bc, H)`` and ``lengths`` ``(C, Bc)``.
"""

import inspect
import os
import threading
from typing import NamedTuple

import numba
import numpy as np

from .._kernels import cell_spec
from .._kernels._arrays import _product_into
from ._blas import concurrent_sessions
from ._workers import ChunkWorkers, spin_seconds_from

__all__ = [
    "KernelError",
    "LayerState",
    "LayerWeights",
    "forget_after_fork",
    "layer_backward",
    "layer_forward",
    "matmul",
    "matmul_tn",
    "max_threads",
    "n_chunks",
    "store_width",
]


# Blocks of steps: the forward pass projects the inputs of a block of global
# steps with one GEMM, and the backward pass keeps the gate gradients of a
# block and adds their weight gradients with one GEMM per block. The gate
# values of a block (steps x rows x G*H) are written by one side and read back
# by the other, so a block should fit in the core's L2 cache (a block that
# does not is read back from L3 or memory by every gate loop; see
# docs/performance.rst and benchmarks/block_size.py). The
# weight-gradient GEMMs need enough rows to run near the BLAS peak, so a block
# has at least _BLOCK_MIN_ROWS rows; beyond that, as many steps as fit in
# _BLOCK_BYTES. Memory beyond the stored state stays independent of T: with
# truncated BPTT it follows the stored window.
_BLOCK_MIN_ROWS = 256
_BLOCK_BYTES = 128 * 1024


def _block_steps(n_rows, n_steps, step_bytes):
    """Global steps per block of projection and gradient GEMMs (at least 1).

    Parameters
    ----------
    n_rows : int
        Rows of one chunk.
    n_steps : int
        Steps the block divides (global steps, or stored steps backward).
    step_bytes : int
        Bytes of the gate values of one step of the chunk
        (``n_rows * G * H * itemsize``).
    """
    by_rows = -(-_BLOCK_MIN_ROWS // max(n_rows, 1))
    by_bytes = _BLOCK_BYTES // max(step_bytes, 1)
    return max(1, min(n_steps, max(by_rows, by_bytes)))


def _chunk_block_steps(X, W_hh, n_steps):
    """:func:`_block_steps` for the chunks of ``X`` ``(C, T, Bc, I)``."""
    n_rows = X.shape[2]
    return _block_steps(n_rows, n_steps, n_rows * W_hh.shape[0] * X.itemsize)


# Rows per chunk below which splitting a batch across threads costs more than
# it saves.
MIN_ROWS_PER_CHUNK = 16


def max_threads():
    """The most threads the kernels may use: Numba's ``NUMBA_NUM_THREADS``."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def n_chunks(n_rows):
    """Number of chunks (threads) to split a batch of ``n_rows`` sequences into.

    As many as :func:`numba.get_num_threads` allows (``numba.set_num_threads``
    or ``NUMBA_NUM_THREADS`` set it), with at least
    :data:`MIN_ROWS_PER_CHUNK` rows each, and at least one chunk.
    """
    return max(1, min(numba.get_num_threads(), n_rows // MIN_ROWS_PER_CHUNK))


_pool = None
_pool_lock = threading.Lock()


def forget_after_fork():
    """Drop the chunk workers in a child process created by ``os.fork``.

    The child inherits the pool object but none of its threads: work posted
    to it would never run. The child starts a pool of its own instead.
    """
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


def _chunk_pool():
    """The worker threads that run the chunks after the first (created once)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ChunkWorkers(
                max(1, max_threads() - 1), spin_seconds_from(os.environ)
            )
    return _pool


def run_chunks(run_chunk, n_chunks):
    """Call ``run_chunk(c)`` for every chunk ``c``, concurrently.

    Chunk 0 runs in the calling thread, the others on the pool's workers (or
    in the calling thread too, if no worker has started them by the time
    chunk 0 is done); returns when all are done and re-raises the first
    exception. See :mod:`skrnn._runtime._workers` for how the threads wait.
    While several sessions run at once, each runs all its chunks in its own
    thread (see :func:`skrnn._runtime.session`).
    """
    if n_chunks == 1 or concurrent_sessions():
        for c in range(n_chunks):
            run_chunk(c)
        return
    _chunk_pool().run(run_chunk, n_chunks)


# Rows of a matrix product per chunk below which it runs in one thread: a
# hand-off to another thread costs about as much as a GEMM of 64 by 64
# weights over this many rows.
MIN_PRODUCT_ROWS = 256


def _product_chunks(A, B, n_rows):
    """Chunks to split a product over ``n_rows`` rows into (1: don't split)."""
    if (
        A.dtype != B.dtype
        or A.dtype not in (np.float32, np.float64)
        or A.ndim != 2
        or B.ndim != 2
        or not A.flags.c_contiguous
        or not (B.flags.c_contiguous or B.flags.f_contiguous)
        or concurrent_sessions()
    ):
        return 1
    return max(1, min(numba.get_num_threads(), n_rows // MIN_PRODUCT_ROWS))


def _row_bounds(n_rows, n_parts):
    return [n_rows * c // n_parts for c in range(n_parts + 1)]


def matmul(A, B):
    """``A @ B`` for matrices, the rows of ``A`` split over the chunk threads.

    The products of the translator's attention and output layer run between
    the recurrent layers, while the chunk threads would wait; each chunk
    multiplies a block of rows, so every element of the result is the same
    product as in one GEMM. Falls back to ``A @ B`` (one thread) for small
    or non-contiguous operands, other dtypes and concurrent sessions.
    """
    n_parts = _product_chunks(A, B, A.shape[0])
    if n_parts == 1:
        return A @ B
    out = np.empty((A.shape[0], B.shape[1]), dtype=A.dtype)
    bounds = _row_bounds(A.shape[0], n_parts)

    def run_chunk(c):
        rows = slice(bounds[c], bounds[c + 1])
        _product_into(A[rows], B, out[rows])

    run_chunks(run_chunk, n_parts)
    return out


def matmul_tn(A, B):
    """``A.T @ B`` for matrices with many rows (a weight gradient), split over threads.

    Each chunk multiplies a block of the shared rows; the partial products
    are summed in chunk order, so the result depends on the number of
    threads (as the recurrent layers' gradients do) but not on timing.
    """
    n_parts = _product_chunks(A, B, A.shape[0])
    if n_parts == 1 or not B.flags.c_contiguous:
        return A.T @ B
    bounds = _row_bounds(A.shape[0], n_parts)
    parts = [np.empty((A.shape[1], B.shape[1]), A.dtype) for _ in range(n_parts)]

    def run_chunk(c):
        rows = slice(bounds[c], bounds[c + 1])
        _product_into(A[rows].T, B[rows], parts[c])

    run_chunks(run_chunk, n_parts)
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def store_width(cell, hidden_size):
    """Number of floats the forward pass stores per row and stored step.

    Parameters
    ----------
    cell : str
        Cell type, a key of :data:`skrnn._kernels.CELLS`.
    hidden_size : int
        Number of hidden units ``H``.

    Returns
    -------
    width : int
        Last dimension ``S`` of the ``store`` array of shape
        ``(C, n_store, Bc, S)``.
    """
    return cell_spec(cell).store_width * hidden_size


class LayerWeights(NamedTuple):
    """The parameters of one layer-direction (or their gradients).

    Shapes ``(G * H, I)``, ``(G * H, H)``, ``(G * H,)`` and ``(G * H,)``,
    ``G`` the cell's gates, in PyTorch's gate order.
    """

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray


class LayerState(NamedTuple):
    """Per-row states of one layer-direction (or their gradients).

    ``h`` is ``(C, Bc, H)``; ``c`` is ``(C, Bc, H)`` for a cell with a cell
    state (LSTM) and ``(C, Bc, 0)`` otherwise.
    """

    h: np.ndarray
    c: np.ndarray


class KernelError(RuntimeError):
    """Arrays that would make a kernel read or write outside its memory.

    Raised by the dispatchers' checks, which stay on under ``python -O``:
    the kernels index without bounds checks. The estimators validate their
    input first, so this means a bug in skrnn: please report it.
    """


def _require(condition, what):
    if not condition:
        raise KernelError(
            f"Internal error: {what}. The recurrent kernels index without bounds "
            "checks and were not run. Please report this as a bug of skrnn."
        )


def _check_arrays(X, lengths, store, arrays):
    _require(X.ndim == 4, f"X must be (C, T, Bc, I), got shape {X.shape}")
    n_chunks, n_steps, n_rows, _ = X.shape
    _require(
        X.dtype in (np.float32, np.float64),
        f"X must be float32 or float64, got {X.dtype}",
    )
    _require(
        lengths.shape == (n_chunks, n_rows) and lengths.dtype == np.int64,
        f"lengths must be int64 of shape {(n_chunks, n_rows)}, got "
        f"{lengths.dtype} of shape {lengths.shape}",
    )
    # Lengths out of range or out of order would read and write outside the
    # arrays.
    _require(
        lengths.size == 0 or (lengths.min() >= 0 and lengths.max() <= n_steps),
        f"lengths must lie in [0, {n_steps}], got values from {lengths.min()} "
        f"to {lengths.max()}",
    )
    _require(
        bool(np.all(lengths[:, 1:] <= lengths[:, :-1])),
        "lengths must be non-increasing within each chunk",
    )
    _require(
        store.ndim == 4 and store.shape[0] == n_chunks and store.shape[1] <= n_steps,
        f"store must be (C={n_chunks}, n_store <= {n_steps}, Bc, S), got {store.shape}",
    )
    for array in (X, lengths, *arrays):
        # One dtype and C order everywhere: anything else would compile
        # another variant of the kernels (and outputs are written in place).
        _require(
            array.flags.c_contiguous,
            f"every array must be C-contiguous, got one of shape {array.shape}",
        )
        _require(
            array is lengths or array.dtype == X.dtype,
            f"every array must have X's dtype {X.dtype}, got {array.dtype}",
        )


# The layer interface's arguments that hold one entry per chunk (the others
# are the same for every chunk).
_PER_CHUNK = frozenset(
    {"X", "lengths", "h0", "c0", "H_out", "h_n", "c_n", "store", "dH_out",
     "dh_n", "dc_n", "dX", "dW_ih", "dW_hh", "db_ih", "db_hh", "dh0", "dc0"}
)  # fmt: skip

_kernel_parameters = {}


def _parameters(kernel):
    """The parameter names of a chunk kernel, in order (read once)."""
    names = _kernel_parameters.get(kernel)
    if names is None:
        function = getattr(kernel, "py_func", kernel)
        names = tuple(inspect.signature(function).parameters)
        _kernel_parameters[kernel] = names
    return names


def _run_kernel(kernel, arguments, n_chunks):
    """Run ``kernel`` on every chunk, passing the arguments it names.

    ``arguments`` maps the layer interface's names (:mod:`skrnn._kernels`)
    to values; those in :data:`_PER_CHUNK` are indexed by chunk.
    """
    names = _parameters(kernel)
    unknown = [name for name in names if name not in arguments]
    if unknown:
        raise TypeError(
            f"{kernel.__name__} takes {unknown}, which the layer interface "
            f"does not provide; its names are {sorted(arguments)} "
            "(see skrnn._kernels)."
        )
    shared = [None if name in _PER_CHUNK else arguments[name] for name in names]
    per_chunk = [arguments[name] if name in _PER_CHUNK else None for name in names]

    def run_chunk(c):
        kernel(*[v if a is None else a[c] for v, a in zip(shared, per_chunk)])

    run_chunks(run_chunk, n_chunks)


def layer_forward(
    cell, X, lengths, weights, initial, *, reverse, act, H_out, h_off, final, store
):
    """Forward pass of one recurrent layer-direction over a chunked batch.

    Parameters
    ----------
    cell : str
        Cell type, a key of :data:`skrnn._kernels.CELLS`.
    X : ndarray of shape (C, T, Bc, I), float32 or float64
        Layer input in real time; steps at or after a row's length are
        padding and never read.
    lengths : ndarray of shape (C, Bc), dtype int64
        Row lengths in ``[0, T]``, non-increasing within each chunk.
    weights : LayerWeights
        ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh`` of this layer-direction.
    initial : LayerState
        Initial states ``h0`` and ``c0``.
    reverse : bool
        Process each row from its last real step to its first.
    act : int
        Elman activation, a value of ``ACTIVATION_CODES`` (ignored by the
        cells that do not use it).
    H_out : ndarray of shape (C, T, Bc, D * H) or (C, 0, Bc, D * H)
        Written: hidden states at each real step in columns
        ``[h_off, h_off + H)``, zero at padded steps. Skipped if empty.
    h_off : int
        First output column of this direction.
    final : LayerState
        Written: the states after each row's last step.
    store : ndarray of shape (C, n_store, Bc, store_width(cell, H))
        Written: what :func:`layer_backward` needs for the last ``n_store``
        global steps.
    """
    spec = cell_spec(cell)
    _check_arrays(X, lengths, store, (*weights, *initial, H_out, *final, store))
    W_ih, W_hh, b_ih, b_hh = weights
    arguments = {
        "X": X, "lengths": lengths, "W_ih": W_ih, "W_hh": W_hh, "b_ih": b_ih,
        "b_hh": b_hh, "h0": initial.h, "c0": initial.c,
        # Plain Python scalars keep the compiled signatures stable.
        "reverse": bool(reverse), "act": int(act),
        "n_block": _chunk_block_steps(X, W_hh, X.shape[1]),
        "H_out": H_out, "h_off": int(h_off), "h_n": final.h, "c_n": final.c,
        "store": store,
    }  # fmt: skip
    _run_kernel(spec.forward_chunk, arguments, X.shape[0])


def layer_backward(
    cell, X, lengths, weights, *, reverse, act, segment_steps, store, dH_out,
    h_off, d_final, dX, d_weights, d_initial,
):  # fmt: skip
    """Backpropagation through time for one recurrent layer-direction.

    Parameters
    ----------
    cell : str
        Cell type, a key of :data:`skrnn._kernels.CELLS`.
    X, lengths, weights, reverse, act
        As given to :func:`layer_forward` (states come from ``store``).
    segment_steps : int
        0, or cut the recurrent gradient when going back from processing step
        ``s`` to ``s - 1`` whenever ``s % segment_steps == 0`` and ``s > 0``.
    store : ndarray of shape (C, n_store, Bc, store_width(cell, H))
        As written by :func:`layer_forward`. Gradients flow back through the
        last ``n_store`` global steps only.
    dH_out : ndarray of shape (C, T, Bc, D * H) or (C, 0, Bc, D * H)
        Gradient w.r.t. ``H_out`` (columns ``[h_off, h_off + H)``); padded
        steps are ignored. Empty means no output gradients.
    h_off : int
        First output column of this direction.
    d_final : LayerState
        Gradients w.r.t. the final states.
    dX : ndarray of shape (C, T, Bc, I) or (C, 0, Bc, I)
        Input gradient, ADDED to (the caller zeroes it, so that two
        directions can share it). Empty means do not compute it.
    d_weights : LayerWeights
        Overwritten with the parameter gradients summed over chunks and rows.
    d_initial : LayerState
        Overwritten with the gradients w.r.t. the initial states: zero for
        rows longer than ``n_store`` and for rows of length 0.
    """
    spec = cell_spec(cell)
    _check_arrays(
        X, lengths, store,
        (*weights, dH_out, *d_final, dX, *d_weights, *d_initial),
    )  # fmt: skip
    n_chunks = X.shape[0]
    # The first chunk writes the outputs, the others their own buffers.
    per_chunk = [d_weights] + [
        LayerWeights(*(np.empty_like(g) for g in d_weights))
        for _ in range(n_chunks - 1)
    ]
    arguments = {
        "X": X, "lengths": lengths, **weights._asdict(),
        "reverse": bool(reverse), "act": int(act),
        "segment_steps": int(segment_steps),
        "n_block": _chunk_block_steps(X, weights.W_hh, store.shape[1]),
        "store": store, "dH_out": dH_out, "h_off": int(h_off),
        "dh_n": d_final.h, "dc_n": d_final.c, "dX": dX,
        "dh0": d_initial.h, "dc0": d_initial.c,
    }  # fmt: skip
    for name in LayerWeights._fields:
        arguments["d" + name] = [g._asdict()[name] for g in per_chunk]
    _run_kernel(spec.backward_chunk, arguments, n_chunks)
    for chunk_grads in per_chunk[1:]:
        for total, g in zip(d_weights, chunk_grads):
            total += g
