"""Compile a cold fit's kernels in helper processes beside this one.

Numba compiles one function at a time per process (a global lock), so on a
fresh cache a first fit compiles its kernels one after the other on one
core. The two largest kernels of a fit, a cell's forward and backward chunk,
are about equal; the forward one is needed first. So when this process
starts to compile a cell's first kernel (the trigger), up to
:func:`n_workers` helper processes compile the kernels the same fit needs
next (``compile_plan.json`` beside this module lists them per trigger and
precision; see :func:`load_plan`) into the
kernel cache, while this process compiles the trigger. When this process
then needs a kernel that a helper is compiling, it waits for the helper to
save it and loads it from the cache.

Robustness:

- helpers start only when the kernel cache is skrnn's own and writable
  (never for a read-only or in-memory cache), once per trigger per process,
  by default only on cores the load leaves idle, and not at all with
  ``SKRNN_COMPILE_WORKERS=0``;
- a wait is bounded (:data:`WAIT_SECONDS`) and ends when the helper saves
  the kernel, reports a failure or exits; whatever it did not deliver,
  this process compiles itself, as without helpers (a debug record on the
  ``"skrnn"`` logger says why);
- a helper reads its plan from its standard input and exits when that pipe
  closes, so it never outlives this process; helpers still running when
  this process exits are stopped;
- a helper imports only skrnn's runtime and kernels (not scikit-learn), and
  shares this process's cache folder and code generator target (checked:
  a helper that reports another cache folder is stopped).
"""

import atexit
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time

from . import _cache

ENV_VAR = "SKRNN_COMPILE_WORKERS"

# The plan: a JSON file written by ``python -m skrnn.compile --write-plan``.
PLAN_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "compile_plan.json"
)

# Longest wait for a helper to deliver one kernel. A helper compiles the
# largest kernel in a few seconds on an idle machine; far beyond that it is
# stuck or starved, and compiling here costs no more than waiting.
WAIT_SECONDS = 60.0

logger = logging.getLogger("skrnn")


def load_plan(path=PLAN_FILE):
    """The kernels a first fit compiles after each trigger, from ``path``.

    A mapping from ``"module.kernel:dtype"`` (the trigger: a cell's forward
    kernel in one precision) to the list of ``[name, argument types]`` the
    same fits compile next, in order (see :func:`encode_type`). An absent or
    unreadable file gives an empty plan: fits then compile everything
    themselves, as with ``SKRNN_COMPILE_WORKERS=0``.
    """
    try:
        with open(path, encoding="utf-8") as file:
            plan = json.load(file)
    except (OSError, ValueError) as error:
        logger.debug("skrnn: no compile plan (%s); no compile helpers", error)
        return {}
    return plan if isinstance(plan, dict) else {}


PLAN = load_plan()

_lock = threading.Condition()
_state = {
    "triggered": set(),  # plan keys whose helpers were started
    "helpers": [],  # running _Helper objects
    "compiling": {},  # kernel name -> the helper compiling it
}
_local = threading.local()


def n_workers(environ=None, cpu_count=None, load=None):
    """How many helper processes a cold fit starts.

    ``SKRNN_COMPILE_WORKERS`` if set (0 turns helpers off). Otherwise one
    fewer than the usable cores, at most 3, and no more than the cores left
    idle by the load: a helper on a busy machine takes its processor time
    from the fitting process (and, on Linux, from the same session's share)
    and adds its own start-up, so the first fit takes longer, not shorter.

    Parameters
    ----------
    environ : mapping or None, default=None
        Environment variables (``os.environ`` when None).
    cpu_count : int or None, default=None
        Usable cores (those of this process's CPU affinity when None).
    load : float or None, default=None
        Runnable processes on average, this one included (the one-minute
        load average when None, where the system reports one).

    Returns
    -------
    n : int
    """
    environ = os.environ if environ is None else environ
    text = environ.get(ENV_VAR, "").strip()
    if text:
        try:
            n = int(text)
        except ValueError:
            n = -1
        if n < 0:
            raise ValueError(
                f"{ENV_VAR} must be a number of helper processes (0 or more), "
                f"got {environ[ENV_VAR]!r}. Set it to 0 to compile kernels in "
                "the fitting process only, or unset it for the default."
            )
        return n
    if cpu_count is None:
        try:
            cpu_count = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpu_count = os.cpu_count() or 1
    n = max(min(cpu_count, 4) - 1, 0)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # Windows
            return n
    return min(n, max(int(cpu_count - load + 0.5), 0))


# -- Signatures as plain data, for the plan and the helpers' standard input --


def encode_type(numba_type):
    """A JSON-able description of one argument type of a kernel."""
    from numba import types

    if isinstance(numba_type, types.Array):
        return [
            "array",
            str(numba_type.dtype),
            numba_type.ndim,
            numba_type.layout,
            bool(numba_type.mutable),
        ]
    if isinstance(numba_type, (types.Integer, types.Float, types.Boolean)):
        return str(numba_type)
    raise TypeError(f"no plain description of the kernel argument type {numba_type}")


def decode_type(description):
    """The Numba type that :func:`encode_type` described."""
    import numpy as np
    from numba import types
    from numba.np.numpy_support import from_dtype

    if isinstance(description, list):
        _, dtype, ndim, layout, mutable = description
        return types.Array(
            from_dtype(np.dtype(dtype)), ndim, layout, readonly=not mutable
        )
    return types.boolean if description == "bool" else getattr(types, description)


def kernel_name(py_func):
    """``module.qualname`` of a kernel's Python function."""
    return f"{py_func.__module__}.{py_func.__qualname__}"


def plan_key(name, args):
    """The key of :data:`PLAN` for a kernel compiled for ``args``, or None.

    ``name:dtype``, with the dtype of the first floating-point array among
    the arguments.
    """
    from numba import types

    for arg in args:
        if isinstance(arg, types.Array) and isinstance(arg.dtype, types.Float):
            return f"{name}:{arg.dtype}"
    return None


# -- This process: start helpers, wait for what they compile --------------


# Coverage cannot trace what follows where it runs: tests/test_parallel_compile.py
# runs the helpers and their hand-over in fresh interpreters.
class _Helper:  # pragma: no cover
    """One helper process, and the thread that reads its reports."""

    def __init__(self, entries):
        env = dict(os.environ)
        env[ENV_VAR] = "0"
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, _cache.PACKAGE_DIR],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )
        self.compiling = set()
        self.delivered = []
        self.failed = []
        self.alive = True
        spec = {
            "version": _cache._skrnn_version(),
            "cache_dir": _cache.cache_dir(),
            "entries": entries,
        }
        self.reader = threading.Thread(
            target=self._read, name="skrnn-compile-helper", daemon=True
        )
        self.reader.start()
        try:
            self.process.stdin.write(json.dumps(spec) + "\n")
            self.process.stdin.flush()
        except OSError as error:  # it exited already: the reader sees it
            logger.debug("skrnn: a compile helper exited at start (%s)", error)
            self.stop()

    def _read(self):
        try:
            for line in self.process.stdout:
                self._report(*line.rstrip("\n").split(" ", 1))
        except (OSError, ValueError, TypeError):
            pass
        finally:
            with _lock:
                self._forget_compiling()
                self.alive = False
                _lock.notify_all()

    def _report(self, what, name=""):
        with _lock:
            if what == "cache" and name != _cache.cache_dir():
                logger.debug(
                    "skrnn: a compile helper uses the cache %s, not %s; stopped",
                    name,
                    _cache.cache_dir(),
                )
                self.stop()
            elif what == "start":
                self.compiling.add(name)
                _state["compiling"][name] = self
            elif what == "saved":
                self.delivered.append(name)
                self.compiling.discard(name)
                _state["compiling"].pop(name, None)
            elif what == "failed":
                self.failed.append(name)
                logger.debug("skrnn: a compile helper failed on %s", name)
                # A failure unwinds every compilation the helper had open.
                self._forget_compiling()
            _lock.notify_all()

    def _forget_compiling(self):
        for name in self.compiling:
            if _state["compiling"].get(name) is self:
                del _state["compiling"][name]
        self.compiling.clear()

    def stop(self):
        """Stop the process if it still runs (idempotent)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()


def share_plan(entries, module, n):
    """Split a plan's ``entries`` between ``n`` helpers.

    The first helper compiles the kernels of the trigger's ``module`` (the
    cell's backward pass, as long to compile as the forward pass that this
    process compiles meanwhile). The small kernels of the plan (thread
    signals, the optimizer, the translator's output layer) go to the other
    helpers, if any: with one helper, this process compiles those it needs,
    while it would wait anyway, and no helper spends a core on kernels that
    this fit may not use.

    Returns
    -------
    shares : list of lists of entries
        One non-empty list per helper to start (at most ``n``).
    """
    own = [e for e in entries if e[0].startswith(module + ".")]
    rest = [e for e in entries if not e[0].startswith(module + ".")]
    shares = [own] + [rest[i :: n - 1] for i in range(n - 1)] if n > 0 else []
    return [share for share in shares if share]


def _start_helpers(key, exclude):
    """Start the helpers of plan ``key``; called with the first compile."""
    n = n_workers()
    if n == 0 or not _cache.INSTALLED:
        return
    if not _cache._probe_writable(_cache.cache_dir()):
        return
    entries = [e for e in PLAN.get(key, ()) if e[0] not in exclude]
    shares = share_plan(entries, key.split(":")[0].rpartition(".")[0], n)
    for share in shares:
        try:
            helper = _Helper(share)
        except OSError as error:
            logger.debug("skrnn: no compile helper (%s)", error)
            return
        _state["helpers"].append(helper)


def wait_for_helper(name):
    """If a helper is compiling kernel ``name``, wait until it is saved.

    Returns at once otherwise. The wait ends when the helper saves the
    kernel, fails, or exits, and after :data:`WAIT_SECONDS` at most.

    Returns
    -------
    waited : bool
        Whether a helper was compiling it.
    """
    with _lock:
        if name not in _state["compiling"]:
            return False
        start = time.monotonic()
        deadline = start + WAIT_SECONDS
        while name in _state["compiling"]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.debug("skrnn: gave up waiting for a compile helper on %s", name)
                helper = _state["compiling"].pop(name)
                helper.compiling.discard(name)
                break
            _lock.wait(remaining)
        logger.debug(
            "skrnn: waited %.2f s for a compile helper to deliver %s",
            time.monotonic() - start,
            name,
        )
        return True


def _on_compile_start(event):
    """Numba compile event: start helpers at a plan's trigger."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    if depth:
        return
    dispatcher = event.data.get("dispatcher") if event.data else None
    py_func = getattr(dispatcher, "py_func", None)
    if py_func is None:
        return
    name = kernel_name(py_func)
    key = plan_key(name, event.data.get("args", ()))
    if key is None or key not in PLAN:
        return
    with _lock:
        if key in _state["triggered"]:
            return
        _state["triggered"].add(key)
        try:
            _start_helpers(key, exclude={name})
        except Exception as error:  # never let helpers break a fit
            logger.debug("skrnn: no compile helpers (%r)", error)


def _on_compile_end(event):
    _local.depth = max(getattr(_local, "depth", 1) - 1, 0)


def shutdown(timeout=5.0):
    """Wait up to ``timeout`` seconds for the helpers, then stop them.

    Runs at exit; tests call it to leave no process behind.
    """
    deadline = time.monotonic() + timeout
    with _lock:
        helpers = list(_state["helpers"])
        _state["helpers"].clear()
    for helper in helpers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            helper.process.wait(max(deadline - time.monotonic(), 0))
        helper.stop()
        helper.process.wait()
        helper.reader.join(timeout=1.0)
        for stream in (helper.process.stdout,):
            with contextlib.suppress(OSError, ValueError):
                stream.close()


def reset():
    """Forget which plans started helpers (tests), after stopping them."""
    shutdown(timeout=0.0)
    with _lock:
        _state["triggered"].clear()
        _state["compiling"].clear()


def forget_after_fork():
    """In a forked child: the helpers belong to the parent."""
    global _lock
    _lock = threading.Condition()
    _state["helpers"] = []
    _state["compiling"] = {}
    _local.depth = 0


_installed = []


def install():
    """Listen for compilations and start helpers at a plan's trigger.

    Idempotent; returns False if this Numba has no event API. Raises a
    ``ValueError`` for a bad ``SKRNN_COMPILE_WORKERS`` (see :func:`n_workers`),
    on import rather than in the middle of a fit.
    """
    if _installed:
        return True
    n_workers()
    try:
        from numba.core import event

        class _Trigger(event.Listener):
            def on_start(self, event):
                _on_compile_start(event)

            def on_end(self, event):
                _on_compile_end(event)

        event.register("numba:compile", _Trigger())
    except (ImportError, AttributeError):
        return False
    _cache.before_load = wait_for_helper
    atexit.register(shutdown, 0.0)
    _installed.append(True)
    return True


# -- The helper process -----------------------------------------------------

# Run by ``python -c``: a bare ``skrnn`` package, without its ``__init__``
# (which imports scikit-learn, a second or more of start-up), whose runtime
# then sets up the cache and the code generator as in the fitting process.
_BOOTSTRAP = (
    "import sys, types; "
    "package = types.ModuleType('skrnn'); "
    "package.__path__ = [sys.argv[1]]; "
    "sys.modules['skrnn'] = package; "
    "import json; spec = json.loads(sys.stdin.readline()); "
    "package.__version__ = spec['version']; "
    "from skrnn._runtime import _parallel; "
    "_parallel.helper_main(spec)"
)


def _exit_when_orphaned():  # pragma: no cover
    # The fitting process holds the other end of standard input: end of
    # file means it closed it, exited or died.
    try:
        sys.stdin.read()
    finally:
        os._exit(0)


def _say(*words):  # pragma: no cover
    sys.stdout.write(" ".join(words) + "\n")
    sys.stdout.flush()


def helper_main(spec):  # pragma: no cover
    """Compile ``spec["entries"]`` into the kernel cache, reporting each.

    Reports, one line each on standard output: ``cache <folder>``, then per
    kernel (nested ones included) ``start <name>`` when it starts to compile
    and ``saved <name>`` once it is in the cache, ``failed <name>`` when an
    entry fails, and ``exit`` at the end.
    """
    import importlib

    from numba.core import caching, event

    from . import _notice

    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    _notice.silence()
    _say("cache", _cache.cache_dir())

    class _Report(event.Listener):
        def on_start(self, event):
            py_func = getattr(event.data["dispatcher"], "py_func", None)
            if py_func is not None:
                _say("start", kernel_name(py_func))

        def on_end(self, event):
            pass

    event.register("numba:compile", _Report())
    original_save = caching.Cache.save_overload

    def save_and_report(self, sig, data):
        original_save(self, sig, data)
        py_func = getattr(self, "_py_func", None)
        if py_func is not None:
            _say("saved", kernel_name(py_func))

    caching.Cache.save_overload = save_and_report
    for name, args in spec["entries"]:
        module_name, _, qualname = name.rpartition(".")
        try:
            dispatcher = getattr(importlib.import_module(module_name), qualname)
            dispatcher.compile(tuple(decode_type(a) for a in args))
        except Exception as error:
            _say("failed", f"{name} {type(error).__name__}")
    _say("exit")
