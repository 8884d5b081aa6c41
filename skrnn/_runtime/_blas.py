"""BLAS held to one thread while kernels run: the kernel session.

The kernels' matrix products are small (one step of one chunk), and BLAS
threads on top of them, or beside the chunk threads, only add
synchronisation and oversubscription. threadpoolctl's limits are
process-wide, so concurrent sessions share one limit, counted here.
"""

import contextlib
import threading

from threadpoolctl import ThreadpoolController

from ._heap import keep_heap

try:
    from threadpoolctl import OpenBLASController
except ImportError:  # not a public name in every version
    OpenBLASController = None

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
    then set and restore nothing, and BLAS would run multi-threaded inside
    concurrent fits (what that cost is in ``docs/scale_out.rst``).
    Releasing before and after each change makes the change happen, and
    leaves the control free for the user's own limits.
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
    chunk threads, only add synchronisation and oversubscription.
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

    The first session also keeps freed memory in the C heap
    (:func:`skrnn._runtime._heap.keep_heap`).
    """
    global _sessions, _overlapped, _restore_timer
    keep_heap()
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


def concurrent_sessions():
    """Whether more than one session is running in this process now."""
    return _sessions > 1


def forget_after_fork():
    """Reset the session state in a child process created by ``os.fork``.

    The timer thread that would restore the BLAS limit is not copied into
    the child: the child's next session ending restores it.
    """
    global _sessions_lock, _restore_timer
    _sessions_lock = threading.Lock()
    _restore_timer = None
