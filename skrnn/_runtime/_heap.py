"""The C heap kept through training: no page faults for a step's arrays.

A training step allocates and frees the same few dozen arrays of tens to
hundreds of KiB on every batch (the chunk kernels' buffers, the attention's
and the output layer's arrays). glibc's malloc serves blocks above its mmap
threshold (128 KiB at first, adapted as blocks are freed) with fresh
``mmap`` calls, and returns free memory at the top of the heap to the
system as soon as it exceeds its trim threshold. In a process that has
trained on batches of other shapes, the step's arrays then live in pages the
kernel maps and zeroes again on every batch (the page faults this costs are
measured in ``docs/performance.rst``, "Memory between batches").

:func:`keep_heap` raises both thresholds once, when the first session
starts, so that freed blocks stay in the heap for the next batch. The cost is
memory the process keeps mapped after freeing it: at most the trim
threshold beyond what it uses. Setting ``SKRNN_KEEP_HEAP=0`` leaves malloc
as it is; other C libraries (musl, macOS) are left alone.
"""

import ctypes
import os
import platform
import threading

from ._codegen import flag_from

# mallopt's parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to 32 MiB come from the heap (glibc's largest mmap threshold on
# 64-bit systems); larger ones (the stored states of long batches) still
# come from mmap, where the faults are small beside the work on them.
MMAP_THRESHOLD = 32 << 20
# Free memory at the top of a heap is kept up to this size.
TRIM_THRESHOLD = 64 << 20

_state = {"done": False, "applied": False}
_lock = threading.Lock()


def heap_allowed(environ):
    """Whether ``SKRNN_KEEP_HEAP`` (in ``environ``) lets skrnn tune malloc."""
    return flag_from(
        environ,
        "SKRNN_KEEP_HEAP",
        "Set it to 0 to leave the C library's malloc settings alone, or unset it.",
    )


def _glibc_mallopt():
    """glibc's ``mallopt``, or None under any other C library."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt


def keep_heap(environ=None):
    """Raise glibc's mmap and trim thresholds, once per process.

    Parameters
    ----------
    environ : mapping or None, default=None
        Environment variables (``os.environ`` if None), for
        ``SKRNN_KEEP_HEAP``.

    Returns
    -------
    applied : bool
        Whether the thresholds are raised (by this call or an earlier one).
        False when ``SKRNN_KEEP_HEAP`` is false or the C library is not glibc.
    """
    if _state["done"]:
        return _state["applied"]
    with _lock:
        if not _state["done"]:
            allowed = heap_allowed(os.environ if environ is None else environ)
            mallopt = _glibc_mallopt() if allowed else None
            if mallopt is not None:
                _state["applied"] = bool(
                    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                    and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                )
            _state["done"] = True
        return _state["applied"]
