"""Numba kernels for the forward pass and backpropagation through time.

One layer-direction at a time, for the Elman RNN (``"rnn"``), LSTM (``"lstm"``)
and GRU (``"gru"``) cells, in PyTorch's weight layout and gate order.

Data layout ("chunk-major"): the batch is split into ``C`` chunks of ``Bc``
rows, one per thread. Per-step arrays have shape ``(C, T, Bc, features)`` in
real time coordinates, per-row arrays ``(C, Bc, H)``, and ``lengths`` is
``(C, Bc)`` int64, non-increasing within each chunk. Rows are processed
right-aligned: row ``b`` runs its ``lengths[b]`` processing steps during the
last ``lengths[b]`` of the ``T`` global steps, so the rows active at any
global step are a prefix of the chunk and all rows finish together. A row of
length 0 is a dummy row: its final state is its initial state and all its
gradients are zero.

The forward pass keeps what the backward pass needs for the last
``n_store = store.shape[1]`` global steps. ``n_store == T`` is full
backpropagation through time, ``0 < n_store < T`` truncates it (the state
entering the window and outputs before it are constants), ``n_store == 0`` is
inference. The backward pass can also cut the gradient every ``k_chunk``
processing steps (per-step losses in chunks).

The dispatchers below run the kernel of one chunk per chunk, the first in
the calling thread and the others on a pool of Python threads (the kernels
release the GIL). Each chunk writes its parameter gradients into its own
buffer; the buffers are summed after all chunks are done, so there are no
races. The dispatchers only check cheap invariants; input validation belongs
to the estimators. Callers run the kernels inside :func:`session`, which
keeps BLAS single-threaded (nested BLAS threads would oversubscribe the
cores).

Python threads rather than a Numba ``prange`` region: a ``parallel=True``
wrapper compiles the whole chunk kernel a second time (LLVM inlines it into
the parallel region), which doubled the cold compile time, and its OpenMP
workers spin or sleep outside our control. The pool's threads
(:mod:`skrnn._kernels._workers`) spin for a couple of milliseconds before
they sleep, and so does the caller waiting for their chunks: waking a
sleeping thread cost 0.1-0.5 ms per hand-off on the machines measured, a
quarter of a small-batch training step.
"""

import contextlib
import os
import threading

import numpy as np
from threadpoolctl import ThreadpoolController

try:
    from threadpoolctl import OpenBLASController
except ImportError:  # not a public name in every version
    OpenBLASController = None

from ._gru import GRU_STORE_WIDTH, _gru_backward_chunk, _gru_forward_chunk
from ._lstm import LSTM_STORE_WIDTH, _lstm_backward_chunk, _lstm_forward_chunk
from ._math import fast_exp, fast_sigmoid, fast_tanh
from ._rnn import RNN_STORE_WIDTH, _rnn_backward_chunk, _rnn_forward_chunk
from ._workers import default_workers

__all__ = [
    "ACTIVATION_CODES",
    "CELL_GATES",
    "fast_exp",
    "fast_sigmoid",
    "fast_tanh",
    "layer_backward",
    "layer_forward",
    "session",
    "store_width",
]

CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
ACTIVATION_CODES = {"tanh": 0, "relu": 1, "logistic": 2, "identity": 3}

_STORE_WIDTHS = {
    "rnn": RNN_STORE_WIDTH,
    "lstm": LSTM_STORE_WIDTH,
    "gru": GRU_STORE_WIDTH,
}


# Blocks of steps: the forward pass projects the inputs of a block of global
# steps with one GEMM, and the backward pass keeps the gate gradients of a
# block and adds their weight gradients with one GEMM per block. The gate
# values of a block (steps x rows x G*H) are written by one side and read back
# by the other, so a block should fit in the core's L2 cache: projecting 32
# steps at once (the earlier rule of 4096 rows, 16 MiB at H = 256, B = 128 in
# float32) made a forward pass up to 30% and a backward pass up to 35% slower
# than blocks of one or two steps (benchmarks/block_size.py). The
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


_pool = None
_pool_lock = threading.Lock()


def _forget_pool():
    # A child forked by os.fork (multiprocessing's default start method on
    # Linux) inherits the pool object but none of its threads: work posted to
    # it would never run. The child starts a pool of its own instead.
    global _pool, _pool_lock, _sessions_lock, _restore_timer
    _pool = None
    _pool_lock = threading.Lock()
    # The timer thread that would restore the BLAS limit is not copied
    # either: the child's next session ending restores it.
    _sessions_lock = threading.Lock()
    _restore_timer = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _chunk_pool():
    """The worker threads that run the chunks after the first (created once)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = default_workers()
    return _pool


_sessions = 0
_sessions_lock = threading.Lock()
_blas_limiter = None
# Finding the loaded libraries costs milliseconds, setting a limit
# microseconds: find them once, at the first session (the BLAS the kernels
# call is loaded with skrnn).
_blas_controller = None
# Whether sessions have overlapped since the limit was set, and the timer
# that restores the limit once overlapping sessions are all over.
_overlapped = False
_restore_timer = None
# Seconds the limit outlives the last of overlapping sessions.
_LINGER_SECONDS = 1.0


def _release_openblas():
    """Let any thread set OpenBLAS's thread count (threadpoolctl >= 3.8).

    threadpoolctl lets only the first thread that sets a limit on a
    pthreads OpenBLAS change it afterwards, until that thread ends, and
    ignores the calls of every other thread. Fits in worker threads (joblib's
    threading backend), and the timer that restores a lingering limit, would
    then set and restore nothing: BLAS ran multi-threaded inside concurrent
    fits, and a threaded search became several times slower than a serial
    one. Releasing before and after each change makes the change happen,
    and leaves the control free for the user's own limits.
    """
    release = getattr(OpenBLASController, "clear_controlling_thread", None)
    if release is not None:
        release(force=True)


def _limit_blas():
    global _blas_limiter, _blas_controller
    if _blas_controller is None:
        _blas_controller = ThreadpoolController()
    _release_openblas()
    _blas_limiter = _blas_controller.limit(limits=1, user_api="blas")
    _release_openblas()


def _restore_blas():
    """Give BLAS its original thread count back (under ``_sessions_lock``)."""
    global _blas_limiter, _overlapped, _restore_timer
    if _blas_limiter is not None:
        _release_openblas()
        _blas_limiter.restore_original_limits()
        _release_openblas()
    _blas_limiter = None
    _overlapped = False
    _restore_timer = None


def _start_restore_timer():
    """Restore the limit in ``_LINGER_SECONDS`` unless a session starts."""

    def restore_if_idle():
        with _sessions_lock:
            if _sessions == 0 and _restore_timer is timer:
                _restore_blas()

    timer = threading.Timer(_LINGER_SECONDS, restore_if_idle)
    timer.daemon = True
    timer.start()
    return timer


@contextlib.contextmanager
def session():
    """Context of one fit or prediction that calls the kernels.

    Inside, BLAS runs single-threaded: the kernels' matrix products are small
    (one step of one chunk), and BLAS threads on top of them, or beside the
    chunk threads, only add synchronisation and oversubscription (a fit
    measured 3-5x slower with two BLAS threads and one kernel thread).
    threadpoolctl's limits are process-wide, so concurrent sessions share one
    limit: the first to enter sets it and the last to leave restores the
    original, instead of each restoring what another had set.

    Sessions that overlap (fits in threads, as on joblib's threading backend)
    keep the limit for :data:`_LINGER_SECONDS` after the last of them ends,
    and a session starting meanwhile keeps it on: a search sets it once and
    restores it once, instead of changing OpenBLAS's thread count between
    fits while other threads may be calling BLAS, which OpenBLAS does not
    support. A session that never overlapped another restores the limit at
    once.

    While several sessions run at once in one process, each runs all its
    chunks in its own thread: the fits already occupy the cores, and handing
    chunks to the pool would make the threads queue for the GIL around every
    kernel call. The chunks, and so the results, are the same either way.
    """
    global _sessions, _overlapped, _restore_timer
    with _sessions_lock:
        if _restore_timer is not None:
            # The limit from the last overlapping sessions is still on.
            _restore_timer.cancel()
            _restore_timer = None
        if _blas_limiter is None:
            _limit_blas()
        _sessions += 1
        if _sessions > 1:
            _overlapped = True
    try:
        yield
    finally:
        with _sessions_lock:
            _sessions -= 1
            if _sessions == 0:
                if _overlapped:
                    _restore_timer = _start_restore_timer()
                else:
                    _restore_blas()


def _run_chunks(run_chunk, n_chunks):
    """Call ``run_chunk(c)`` for every chunk ``c``, concurrently.

    Chunk 0 runs in the calling thread, the others on the pool's workers (or
    in the calling thread too, if no worker has started them by the time
    chunk 0 is done); returns when all are done and re-raises the first
    exception. See :mod:`skrnn._kernels._workers` for how the threads wait.
    """
    if n_chunks == 1 or _sessions > 1:
        for c in range(n_chunks):
            run_chunk(c)
        return
    _chunk_pool().run(run_chunk, n_chunks)


def store_width(cell, hidden_size):
    """Number of floats the forward pass stores per row and stored step.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        Cell type.
    hidden_size : int
        Number of hidden units ``H``.

    Returns
    -------
    width : int
        Last dimension ``S`` of the ``store`` array of shape
        ``(C, n_store, Bc, S)``.
    """
    return _STORE_WIDTHS[cell] * hidden_size


def _check_arrays(X, lengths, store, arrays):
    n_chunks, n_steps, n_rows, _ = X.shape
    assert X.dtype in (np.float32, np.float64)
    assert lengths.shape == (n_chunks, n_rows)
    assert lengths.dtype == np.int64
    # The kernels index without bounds checks: lengths out of range or out of
    # order would read and write outside the arrays.
    assert lengths.size == 0 or (lengths.min() >= 0 and lengths.max() <= n_steps)
    assert np.all(lengths[:, 1:] <= lengths[:, :-1])
    assert store.shape[0] == n_chunks
    assert store.shape[1] <= n_steps
    for array in (X, lengths, *arrays):
        # One dtype and C order everywhere: anything else would compile
        # another variant of the kernels (and outputs are written in place).
        assert array.flags.c_contiguous
        assert array is lengths or array.dtype == X.dtype


def layer_forward(
    cell, X, lengths, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, act,
    H_out, h_off, h_n, c_n, store,
):  # fmt: skip
    """Forward pass of one recurrent layer-direction over a chunked batch.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        Cell type.
    X : ndarray of shape (C, T, Bc, I), float32 or float64
        Layer input in real time; steps at or after a row's length are
        padding and never read.
    lengths : ndarray of shape (C, Bc), dtype int64
        Row lengths in ``[0, T]``, non-increasing within each chunk.
    W_ih : ndarray of shape (G * H, I)
        Input weights (``G`` = ``CELL_GATES[cell]``), PyTorch gate order.
    W_hh : ndarray of shape (G * H, H)
        Recurrent weights.
    b_ih, b_hh : ndarray of shape (G * H,)
        Input and recurrent biases.
    h0 : ndarray of shape (C, Bc, H)
        Initial hidden state.
    c0 : ndarray of shape (C, Bc, H) or (C, Bc, 0)
        Initial cell state (LSTM only; ignored otherwise).
    reverse : bool
        Process each row from its last real step to its first.
    act : int
        Elman activation, a value of ``ACTIVATION_CODES`` (ignored by LSTM and
        GRU).
    H_out : ndarray of shape (C, T, Bc, D * H) or (C, 0, Bc, D * H)
        Written: hidden states at each real step in columns
        ``[h_off, h_off + H)``, zero at padded steps. Skipped if empty.
    h_off : int
        First output column of this direction.
    h_n : ndarray of shape (C, Bc, H)
        Written: hidden state after each row's last step.
    c_n : ndarray of shape (C, Bc, H) or (C, Bc, 0)
        Written (LSTM only): cell state after each row's last step.
    store : ndarray of shape (C, n_store, Bc, store_width(cell, H))
        Written: what :func:`layer_backward` needs for the last ``n_store``
        global steps.
    """
    _check_arrays(
        X, lengths, store, (W_ih, W_hh, b_ih, b_hh, h0, c0, H_out, h_n, c_n, store)
    )
    # Plain Python scalars keep the compiled signatures stable.
    reverse, act, h_off = bool(reverse), int(act), int(h_off)
    n_block = _chunk_block_steps(X, W_hh, X.shape[1])
    if cell == "lstm":

        def run_chunk(c):
            _lstm_forward_chunk(
                X[c], lengths[c], W_ih, W_hh, b_ih, b_hh, h0[c], c0[c], reverse,
                n_block, H_out[c], h_off, h_n[c], c_n[c], store[c],
            )  # fmt: skip

    elif cell == "gru":

        def run_chunk(c):
            _gru_forward_chunk(
                X[c], lengths[c], W_ih, W_hh, b_ih, b_hh, h0[c], reverse, n_block,
                H_out[c], h_off, h_n[c], store[c],
            )  # fmt: skip

    elif cell == "rnn":

        def run_chunk(c):
            _rnn_forward_chunk(
                X[c], lengths[c], W_ih, W_hh, b_ih, b_hh, h0[c], reverse, act,
                n_block, H_out[c], h_off, h_n[c], store[c],
            )  # fmt: skip

    else:
        raise ValueError(f"cell must be one of {sorted(CELL_GATES)}, got {cell!r}.")
    _run_chunks(run_chunk, X.shape[0])


def layer_backward(
    cell, X, lengths, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, act, k_chunk,
    store, dH_out, h_off, dh_n, dc_n, dX, dW_ih, dW_hh, db_ih, db_hh, dh0, dc0,
):  # fmt: skip
    """Backpropagation through time for one recurrent layer-direction.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        Cell type.
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, act
        As given to :func:`layer_forward` (biases and initial states are not
        needed: everything comes from ``store``).
    k_chunk : int
        0, or cut the recurrent gradient when going back from processing step
        ``s`` to ``s - 1`` whenever ``s % k_chunk == 0`` and ``s > 0``.
    store : ndarray of shape (C, n_store, Bc, store_width(cell, H))
        As written by :func:`layer_forward`. Gradients flow back through the
        last ``n_store`` global steps only.
    dH_out : ndarray of shape (C, T, Bc, D * H) or (C, 0, Bc, D * H)
        Gradient w.r.t. ``H_out`` (columns ``[h_off, h_off + H)``); padded
        steps are ignored. Empty means no output gradients.
    h_off : int
        First output column of this direction.
    dh_n : ndarray of shape (C, Bc, H)
        Gradient w.r.t. ``h_n``.
    dc_n : ndarray of shape (C, Bc, H) or (C, Bc, 0)
        Gradient w.r.t. ``c_n`` (LSTM only).
    dX : ndarray of shape (C, T, Bc, I) or (C, 0, Bc, I)
        Input gradient, ADDED to (the caller zeroes it, so that two
        directions can share it). Empty means do not compute it.
    dW_ih, dW_hh, db_ih, db_hh : ndarray
        Overwritten with the parameter gradients summed over chunks and rows
        (shapes of the corresponding parameters).
    dh0 : ndarray of shape (C, Bc, H)
        Overwritten with the gradient w.r.t. ``h0``: zero for rows longer
        than ``n_store`` and for rows of length 0.
    dc0 : ndarray of shape (C, Bc, H) or (C, Bc, 0)
        Same for ``c0`` (LSTM only).
    """
    _check_arrays(
        X, lengths, store,
        (W_ih, W_hh, h0, c0, dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db_ih, db_hh,
         dh0, dc0),
    )  # fmt: skip
    reverse, act, h_off = bool(reverse), int(act), int(h_off)
    k_chunk = int(k_chunk)
    n_block = _chunk_block_steps(X, W_hh, store.shape[1])
    n_chunks = X.shape[0]
    # The first chunk writes the outputs, the others their own buffers.
    grads = (dW_ih, dW_hh, db_ih, db_hh)
    per_chunk = [grads] + [
        tuple(np.empty_like(g) for g in grads) for _ in range(n_chunks - 1)
    ]
    if cell == "lstm":

        def run_chunk(c):
            _lstm_backward_chunk(
                X[c], lengths[c], W_ih, W_hh, reverse, k_chunk, n_block, store[c],
                dH_out[c], h_off, dh_n[c], dc_n[c], dX[c], *per_chunk[c], dh0[c],
                dc0[c],
            )  # fmt: skip

    elif cell == "gru":

        def run_chunk(c):
            _gru_backward_chunk(
                X[c], lengths[c], W_ih, W_hh, reverse, k_chunk, n_block, store[c],
                dH_out[c], h_off, dh_n[c], dX[c], *per_chunk[c], dh0[c],
            )  # fmt: skip

    elif cell == "rnn":

        def run_chunk(c):
            _rnn_backward_chunk(
                X[c], lengths[c], W_ih, W_hh, reverse, act, k_chunk, n_block,
                store[c], dH_out[c], h_off, dh_n[c], dX[c], *per_chunk[c], dh0[c],
            )  # fmt: skip

    else:
        raise ValueError(f"cell must be one of {sorted(CELL_GATES)}, got {cell!r}.")
    _run_chunks(run_chunk, n_chunks)
    for chunk_grads in per_chunk[1:]:
        for total, g in zip(grads, chunk_grads):
            total += g
