"""Wall time of a small grid search under joblib's backends.

Times two :class:`~sklearn.model_selection.GridSearchCV` searches, 3 folds
each: ``digits`` (:class:`skrnn.RNNClassifier` on the digits read as 8 rows of
8 pixels; 9 candidates, short sequences, so each fit is mostly Python work
between small kernel calls) and ``adding`` (:class:`skrnn.RNNRegressor` on
the adding problem over 100 steps; 4 candidates, long sequences, so each fit
is mostly kernel time), with

- ``serial``: ``n_jobs=1``;
- ``threading``: ``n_jobs=2`` on joblib's threading backend (the kernels release
  the GIL, so two fits run at once in one process);
- ``loky``: ``n_jobs=2`` on joblib's default process backend.

Each backend is timed in a fresh process per repeat, once with the default
thread counts (a fit splits its batches across both cores) and once with
``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` set
to 1 (one core per fit). Processes, settings and the
order of the backends rotate from repeat to repeat, so that load from other
work on a shared machine spreads over all of them. Every run checks that the
cross-validation scores are identical to the serial ones.

Run from the root of a source checkout::

    python benchmarks/scale_out.py            # 3 repeats, a few minutes
    python benchmarks/scale_out.py --repeats 1 --quick   # seconds
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import warnings

BACKENDS = ("serial", "threading", "loky")
KERNEL_THREADS = ("default", "1")
# One core per fit means one thread for the kernels and for BLAS alike: with
# the kernels on one thread, fits leave BLAS at its default thread count.
_THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _uptime():
    """The ``uptime`` line (load averages over 1, 5 and 15 minutes)."""
    try:
        out = subprocess.run(["uptime"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: %.2f, %.2f, %.2f" % os.getloadavg()


def _digits(quick):
    """Short sequences: digits as 8 rows of 8 pixels, 9 candidates."""
    from sklearn.datasets import load_digits

    from skrnn import RNNClassifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 8, 8)
    grid = {"cell": ["rnn", "lstm", "gru"], "hidden_layer_sizes": [(16,), (32,), (64,)]}
    if quick:
        X, y = X[:300], y[:300]
        grid = {"cell": ["rnn", "lstm", "gru"], "hidden_layer_sizes": [(8,)]}
    model = RNNClassifier(learning_rate_init=0.01, max_iter=15, random_state=0)
    return model, grid, X, y


def _adding(quick):
    """Long sequences: the adding problem over 100 steps, 4 candidates."""
    from skrnn import RNNRegressor
    from skrnn.datasets import make_adding_problem

    X, y = make_adding_problem(600, 100, random_state=0)
    grid = {"cell": ["lstm", "gru"], "hidden_layer_sizes": [(32,), (64,)]}
    if quick:
        X, y = X[:120, :20], y[:120]
        grid = {"cell": ["lstm", "gru"], "hidden_layer_sizes": [(8,)]}
    model = RNNRegressor(learning_rate_init=0.01, max_iter=5, random_state=0)
    return model, grid, X, y


PROBLEMS = {"digits": _digits, "adding": _adding}


def _search(problem, backend, quick):
    """Run a grid search on ``backend``; return (seconds, mean test scores)."""
    import joblib
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    model, grid, X, y = PROBLEMS[problem](quick)
    n_jobs = 1 if backend == "serial" else 2
    search = GridSearchCV(model, grid, cv=3, n_jobs=n_jobs)
    start = time.perf_counter()
    with (
        warnings.catch_warnings(),
        joblib.parallel_backend("loky" if backend == "serial" else backend),
    ):
        # The budget is deliberately short; the warning says so every fit.
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, np.asarray(search.cv_results_["mean_test_score"]).tolist()


def _worker(order, quick):
    """Time each search on each backend once, after warming every one up."""
    for problem in PROBLEMS:
        for backend in BACKENDS:
            # Every kernel loaded (compiled on the first run), loky workers
            # started and skrnn imported in them: the timed runs measure the
            # search, not the start-up.
            _search(problem, backend, quick=True)
    result = {}
    for problem in PROBLEMS:
        for backend in order:
            seconds, scores = _search(problem, backend, quick)
            result[f"{problem}/{backend}"] = {"seconds": seconds, "scores": scores}
    return result


def _run_worker(kernel_threads, order, quick):
    env = dict(os.environ)
    for name in _THREAD_VARIABLES:
        if kernel_threads == "default":
            env.pop(name, None)
        else:
            env[name] = kernel_threads
    command = [sys.executable, __file__, "--worker", ",".join(order)]
    if quick:
        command.append("--quick")
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny search")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker.split(","), args.quick)))
        return

    started = datetime.datetime.now(datetime.timezone.utc)
    uptime_start = _uptime()
    times = {(p, k, b): [] for p in PROBLEMS for k in KERNEL_THREADS for b in BACKENDS}
    # Largest difference of a mean test score from the serial search's.
    worst = dict.fromkeys(PROBLEMS, 0.0)
    for rep in range(args.repeats):
        shift = rep % len(BACKENDS)
        order = BACKENDS[shift:] + BACKENDS[:shift]
        settings = KERNEL_THREADS if rep % 2 == 0 else KERNEL_THREADS[::-1]
        for kernel_threads in settings:
            run = _run_worker(kernel_threads, order, args.quick)
            for problem in PROBLEMS:
                reference = run[f"{problem}/serial"]["scores"]
                for backend in BACKENDS:
                    entry = run[f"{problem}/{backend}"]
                    times[problem, kernel_threads, backend].append(entry["seconds"])
                    worst[problem] = max(
                        [worst[problem]]
                        + [abs(a - b) for a, b in zip(entry["scores"], reference)]
                    )
                line = ", ".join(
                    f"{b} {run[f'{problem}/{b}']['seconds']:.2f} s" for b in order
                )
                print(
                    f"repeat {rep + 1}, {problem}, threads per fit "
                    f"{kernel_threads}: {line}",
                    flush=True,
                )
    uptime_end = _uptime()

    print()
    print(f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; median of "
          f"{args.repeats} repeats")  # fmt: skip
    print(f"uptime at the start: {uptime_start}")
    print(f"uptime at the end:   {uptime_end}")
    print()
    print("| search | threads per fit | serial s | threading n_jobs=2 s "
          "| loky n_jobs=2 s | threading speedup | loky speedup |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for problem in PROBLEMS:
        for kernel_threads in KERNEL_THREADS:
            med = {b: _median(times[problem, kernel_threads, b]) for b in BACKENDS}
            print(
                f"| {problem} | {kernel_threads} | {med['serial']:.2f} "
                f"| {med['threading']:.2f} | {med['loky']:.2f} "
                f"| {med['serial'] / med['threading']:.2f}x "
                f"| {med['serial'] / med['loky']:.2f}x |"
            )
    print()
    print("Largest difference of a mean test score from the serial search's "
          "(different thread counts per fit split batches differently, which "
          "changes rounding):")  # fmt: skip
    for problem in PROBLEMS:
        print(f"- {problem}: {worst[problem]:.1e}")


if __name__ == "__main__":
    main()
