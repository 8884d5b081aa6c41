"""One notice per process when skrnn's kernels start compiling.

A first fit on a fresh cache spends seconds compiling kernels; without a word
it looks like a hang. When the first of skrnn's kernels starts to compile
(not when it loads from the cache), the ``"skrnn"`` logger says so once, at
level WARNING, so that Python prints it even where logging is not
configured. A log record rather than a warning: a notice must never become an
error under ``-W error`` or a test's warning filter.

Silence it with ``logging.getLogger("skrnn").setLevel(logging.ERROR)``.
"""

import logging
import threading

logger = logging.getLogger("skrnn")

MESSAGE = (
    "skrnn: compiling kernels for first use, once (about 9 s on an idle "
    "2-core machine with a helper process, 20 s for SequenceTranscriber); "
    "later runs load them from the cache in %s. To compile ahead of time, "
    "run `python -m skrnn.compile`."
)

_lock = threading.Lock()
_state = {"listener": None, "done": False}


def _is_skrnn_kernel(event):
    dispatcher = event.data.get("dispatcher") if event.data else None
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return module == "skrnn" or module.startswith("skrnn.")


def _make_listener():
    from numba.core import event

    class _FirstCompile(event.Listener):
        def on_start(self, event):
            if _state["done"] or not _is_skrnn_kernel(event):
                return
            with _lock:
                if _state["done"]:
                    return
                _state["done"] = True
            from ._cache import cache_dir

            logger.warning(MESSAGE, cache_dir())

        def on_end(self, event):
            pass

    return _FirstCompile()


def install():
    """Listen for the first compilation of one of skrnn's kernels.

    Idempotent; returns False if this Numba has no event API.

    Returns
    -------
    installed : bool
    """
    with _lock:
        if _state["listener"] is not None:
            return True
        try:
            from numba.core import event

            listener = _make_listener()
            event.register("numba:compile", listener)
        except (ImportError, AttributeError):
            return False
        _state["listener"] = listener
        return True


def silence():
    """Say nothing for the rest of the process (``python -m skrnn.compile``)."""
    with _lock:
        _state["done"] = True
