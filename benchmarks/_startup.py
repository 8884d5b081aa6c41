"""Start-up costs: cold compilation and import plus a first fit from a warm cache.

:func:`measure_startup` starts this module three times per estimator as a
fresh Python process (``python -m benchmarks._startup ESTIMATOR``):

1. cold, serial: on a new, empty kernel cache (``SKRNN_CACHE_DIR``) and
   with ``SKRNN_COMPILE_WORKERS=0``, so the first fit compiles every kernel
   a default fit uses (and ``predict`` the ones it adds) in the fitting
   process alone; Numba's compile events give the time spent compiling each
   kernel;
2. cold: on another new, empty cache, with as many compile helper
   processes as a fit starts on an idle machine with these cores (see
   ``docs/install.rst``), whatever the load;
3. warm: the same script on the second cache, now loading every kernel.

The child times ``import skrnn`` from the very start of the process, then a
small fit of a default estimator (:class:`~skrnn.RNNRegressor`,
:class:`~skrnn.RNNClassifier`, :class:`~skrnn.SequenceTagger`,
:class:`~skrnn.SequenceTranslator` or :class:`~skrnn.SequenceTranscriber`;
only ``max_iter`` and ``random_state`` set) and a ``predict``, and prints
the figures as JSON.
"""

import time

_PROCESS_START = time.perf_counter()

# Only what the child needs is imported here, so that the child's clock
# counts little besides ``import skrnn``.
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

# The fit of the child: small enough to take a fraction of a second once the
# kernels are compiled, large enough to use the parallel kernels (batches of
# 32 sequences are split across threads) and, through the short last batch
# of predict, the single-chunk ones.
N_SEQUENCES = 100
N_STEPS = 20
MAX_ITER = 5

# Every estimator, each measured in processes of its own.
ESTIMATORS = (
    "RNNRegressor",
    "RNNClassifier",
    "SequenceTagger",
    "SequenceTranslator",
    "SequenceTranscriber",
)


def _compile_times(events):
    """Compile time per function from Numba's event record.

    Returns the self time (excluding nested compilations) of each compiled
    function, the signatures of skrnn's kernels, and the total time of the
    outermost compilations.
    """
    stack, self_time, signatures, total = [], {}, {}, 0.0
    for stamp, event in events:
        if event.is_start:
            stack.append([stamp, event, 0.0])
            continue
        start, start_event, nested = stack.pop()
        duration = stamp - start
        if stack:
            stack[-1][2] += duration
        else:
            total += duration
        func = start_event.data["dispatcher"].py_func
        name = f"{func.__module__}.{func.__qualname__}"
        if not name.startswith("skrnn."):
            # Numba's own helpers (array constructors, string formatting
            # of error messages, BLAS wrappers) are compiled on demand too.
            name = "numba internals"
        else:
            args = ", ".join(str(a) for a in start_event.data["args"])
            signatures.setdefault(name, []).append(args)
        self_time[name] = self_time.get(name, 0.0) + duration - nested
    return self_time, signatures, total


def _data(estimator):
    """Small training data for a default fit of ``estimator`` (a class name)."""
    import numpy as np

    t = np.arange(N_SEQUENCES + N_STEPS) * 0.3
    windows = np.lib.stride_tricks.sliding_window_view(np.cos(t), N_STEPS + 1)
    X, y = windows[:N_SEQUENCES, :-1].copy(), windows[:N_SEQUENCES, -1].copy()
    if estimator == "RNNRegressor":
        return X, y
    if estimator == "RNNClassifier":
        return X, (y > 0).astype(int)
    if estimator == "SequenceTagger":
        return X, (X > 0).astype(int)
    if estimator == "SequenceTranslator":
        # Reversal of short integer sequences, ragged, fed as numbers.
        rng = np.random.default_rng(0)
        lengths = rng.integers(2, 7, size=N_SEQUENCES)
        X = [rng.integers(1, 6, size=n).astype(float) for n in lengths]
        return X, [x[::-1].astype(int) for x in X]
    if estimator == "SequenceTranscriber":
        # Frames to short label sequences (at most three labels, 20 frames).
        rng = np.random.default_rng(0)
        return X[:, :, None], [rng.integers(0, 4, size=rng.integers(1, 4)) for _ in X]
    raise ValueError(f"unknown estimator {estimator!r}; expected one of {ESTIMATORS}")


def _child(estimator):
    import warnings

    import skrnn

    imported, imported_cpu = time.perf_counter(), time.process_time()
    from numba.core import event

    X, y = _data(estimator)
    model = getattr(skrnn, estimator)(max_iter=MAX_ITER, random_state=0)
    with event.install_recorder("numba:compile") as record:
        start, start_cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        fitted, fitted_cpu = time.perf_counter(), time.process_time()
        model.predict(X)
        predicted = time.perf_counter()
    self_time, signatures, compiling = _compile_times(record.buffer)
    print(
        json.dumps(
            {
                "estimator": estimator,
                "import": imported - _PROCESS_START,
                "import_cpu": imported_cpu,
                "fit": fitted - start,
                "fit_cpu": fitted_cpu - start_cpu,
                "predict": predicted - fitted,
                "import_and_fit": fitted - _PROCESS_START,
                "compile_events": compiling,
                "compile_self_seconds": self_time,
                "kernel_signatures": signatures,
            }
        )
    )


def _run_child(repo_root, cache_dir=None, estimator="RNNRegressor", workers=None):
    import subprocess

    env = dict(os.environ)
    env.pop("SKRNN_COMPILE_WORKERS", None)
    if workers is not None:
        env["SKRNN_COMPILE_WORKERS"] = str(workers)
    if cache_dir is not None:
        # Both variables: skrnn's own kernels follow SKRNN_CACHE_DIR, and a
        # tree whose kernels Numba locates itself follows NUMBA_CACHE_DIR.
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
        env["SKRNN_CACHE_DIR"] = str(cache_dir)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._startup", estimator],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    return result


def _helpers():
    """The compile helpers of an idle machine with these cores.

    By default a fit starts none on a busy machine; the benchmark measures
    them whatever the load, beside the serial compile.
    """
    from skrnn._runtime._parallel import n_workers

    return n_workers({}, load=0.0)


def _cold_and_warm(repo_root, estimator):
    import tempfile

    with tempfile.TemporaryDirectory(prefix="skrnn_bench_cache_") as cache_dir:
        serial_result = _run_child(repo_root, cache_dir, estimator, workers=0)
    with tempfile.TemporaryDirectory(prefix="skrnn_bench_cache_") as cache_dir:
        cold_result = _run_child(repo_root, cache_dir, estimator, _helpers())
        warm_result = _run_child(repo_root, cache_dir, estimator)
    compile_seconds = (serial_result["fit"] + serial_result["predict"]) - (
        warm_result["fit"] + warm_result["predict"]
    )
    return {
        "cold": cold_result,
        "cold_serial": serial_result,
        "warm": warm_result,
        "compile_seconds": compile_seconds,
    }


def measure_startup(repo_root, estimators=ESTIMATORS):
    """Cold compile and warm start-up figures, each from a fresh process.

    Each estimator is measured on its own empty cache, so that its cold
    figures include every kernel its first fit needs.

    Parameters
    ----------
    repo_root : path-like
        Folder from which ``python -m benchmarks._startup`` is run.
    estimators : sequence of str, default=ESTIMATORS
        Names of skrnn's estimators to measure.

    Returns
    -------
    result : dict
        ``estimators``: per estimator name, ``cold_serial`` (no compile
        helpers), ``cold`` (the default compile helpers) and ``warm`` child
        reports (``import``, ``fit``, ``predict``, ``import_and_fit``,
        ``compile_events``, ``compile_self_seconds``, ``kernel_signatures``,
        ``process_wall``; wall-clock seconds, and ``import_cpu``, ``fit_cpu``:
        CPU seconds of the process, all threads, which a busy shared machine
        inflates less than wall-clock time) and ``compile_seconds`` (the
        cold run's fit plus predict minus the warm run's). The first
        estimator's entries are also at the top level (``cold``, ``warm``,
        ``compile_seconds``).
    """
    per_estimator = {name: _cold_and_warm(repo_root, name) for name in estimators}
    first = per_estimator[estimators[0]]
    return {
        **first,
        "cold_serial": first["cold_serial"],
        "estimators": per_estimator,
        "n_sequences": N_SEQUENCES,
        "n_steps": N_STEPS,
        "max_iter": MAX_ITER,
    }


def measure_warm_startup(repo_root):
    """Import plus first fit in a fresh process with the current cache.

    The quick mode's way to measure a warm start without paying a cold
    compile: the child uses the environment's cache folder (``SKRNN_CACHE_DIR``,
    ``NUMBA_CACHE_DIR`` or skrnn's per-user default), which the benchmark run
    has just filled.

    Parameters
    ----------
    repo_root : path-like
        Folder from which ``python -m benchmarks._startup`` is run.

    Returns
    -------
    result : dict
        The child's report, as the ``warm`` entry of :func:`measure_startup`.
    """
    result = _run_child(repo_root)
    result["cache_dir"] = os.environ.get("SKRNN_CACHE_DIR") or os.environ.get(
        "NUMBA_CACHE_DIR"
    )
    return result


if __name__ == "__main__":
    _child(sys.argv[1] if len(sys.argv) > 1 else "RNNRegressor")
