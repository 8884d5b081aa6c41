"""Compile skrnn's kernels ahead of time, into the kernel cache.

Run ``python -m skrnn.compile`` once where skrnn is installed (a Docker
image's build step, a CI job whose cache is kept): later processes load the
kernels from the cache and their first fit starts at once. Options:

``--dtype {float32,float64,both}``
    Precision of the data the kernels are compiled for (default both).
``--cells rnn,lstm,gru``
    The recurrent cells to compile (default all three).
``--quiet``
    Print nothing but errors.
``--write-plan PATH``
    For skrnn's maintainers: compile every cell and precision on a fresh,
    temporary cache, one process each, and write the kernels each first fit
    compiles, in order, as the JSON file ``PATH`` (the plan of the parallel
    compile, ``skrnn/_runtime/compile_plan.json``).

The kernels are compiled by small fits and predictions of every estimator
with default settings (and one with ``conv_layers``, for the convolution
kernels), so exactly what such fits use is compiled; settings
that use other kernels (bidirectional layers, token embeddings, truncated
backpropagation, L-BFGS) may compile a few more on their first use. The
cache folder is that of :mod:`skrnn._runtime._cache`: ``SKRNN_CACHE_DIR``,
else ``NUMBA_CACHE_DIR/skrnn``, else the per-user cache folder.
"""

import argparse
import sys
import time
import warnings

from ._runtime._cache import KernelCacheWarning

__all__ = ["KernelCacheWarning", "compile_kernels", "main"]

CELLS = ("rnn", "lstm", "gru")
DTYPES = ("float32", "float64")

# Enough sequences for batches split across threads, and a short last batch
# for the single-chunk path.
_N_SEQUENCES = 100
_N_STEPS = 6


def _tasks(dtype):
    """(estimator name, X, y, parameters) of one small fit per estimator,
    then of a convolution front end (whose kernels do not depend on the
    cell: compiled with the first cell only)."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(_N_SEQUENCES, _N_STEPS)).astype(dtype)
    y = X.sum(axis=1)
    lengths = rng.integers(2, 6, size=_N_SEQUENCES)
    tokens = [rng.integers(1, 5, size=n).astype(dtype) for n in lengths]
    return [
        ("RNNRegressor", X, y, {}),
        ("RNNClassifier", X, (y > 0).astype(int), {}),
        ("RNNClassifier", X, np.digitize(y, [-1.0, 1.0]), {}),
        ("SequenceTagger", X, (X > 0).astype(int), {}),
        ("SequenceTranslator", tokens, [t[::-1].astype(int) for t in tokens], {}),
        ("SequenceTranscriber", X, [rng.integers(0, 3, size=2) for _ in X], {}),
        ("RNNRegressor", X, y, {"conv_layers": ((4, 3, 2),)}),
    ]


def compile_kernels(dtypes=DTYPES, cells=CELLS, log=None):
    """Compile (or load) the kernels of default fits into the kernel cache.

    Parameters
    ----------
    dtypes : sequence of {'float32', 'float64'}, default=('float32', 'float64')
        Precisions to compile for.
    cells : sequence of {'rnn', 'lstm', 'gru'}, default=('rnn', 'lstm', 'gru')
        Recurrent cells to compile for.
    log : callable or None, default=None
        Called with one line of progress per step; None says nothing.

    Returns
    -------
    report : dict
        ``cache_dir``: the folder of the cache; ``compiled``: how many
        kernel signatures were compiled (the others loaded from the cache);
        ``seconds``: the time taken.
    """
    from numba.core import event

    import skrnn

    from ._runtime import _cache, _notice

    _notice.silence()
    start = time.perf_counter()
    compiled = 0
    with warnings.catch_warnings():
        # Convergence and the like mean nothing for these tiny fits.
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", KernelCacheWarning)
        for dtype in dtypes:
            for cell in cells:
                for name, X, y, parameters in _tasks(dtype):
                    if parameters and cell != cells[0]:
                        continue
                    model = getattr(skrnn, name)(
                        cell=cell, hidden_layer_sizes=(4,), max_iter=1,
                        random_state=0, **parameters,
                    )  # fmt: skip
                    step = time.perf_counter()
                    with event.install_recorder("numba:compile") as record:
                        model.fit(X, y)
                        model.predict(X)
                    new = sum(
                        1
                        for _, e in record.buffer
                        if e.is_start and _notice._is_skrnn_kernel(e)
                    )
                    compiled += new
                    if log is not None:
                        if parameters:
                            name = f"{name}+conv"
                        log(
                            f"{name:<18} {cell:<4} {dtype}: {new:3d} compiled, "
                            f"{time.perf_counter() - step:5.1f} s"
                        )
    return {
        "cache_dir": _cache.cache_dir(),
        "compiled": compiled,
        "seconds": time.perf_counter() - start,
    }


# The plan's writers run in fresh interpreters (--write-plan, for maintainers),
# where coverage does not trace them.
def _record_order(dtype, cell):  # pragma: no cover
    """Print, as JSON, the kernels a cold run of :func:`compile_kernels` compiles.

    Only the outermost compilations, in order, each as ``[name, [argument
    types]]`` (see :func:`skrnn._runtime._parallel.encode_type`).
    """
    import json

    from numba.core import event

    from ._runtime import _parallel

    depth, order = [0], []

    class _Outermost(event.Listener):
        def on_start(self, event):
            if depth[0] == 0:
                name = _parallel.kernel_name(event.data["dispatcher"].py_func)
                args = [_parallel.encode_type(a) for a in event.data["args"]]
                if [name, args] not in order:
                    order.append([name, args])
            depth[0] += 1

        def on_end(self, event):
            depth[0] -= 1

    event.register("numba:compile", _Outermost())
    compile_kernels((dtype,), (cell,))
    print(json.dumps(order))


def write_plan(path, dtypes=DTYPES, cells=CELLS):  # pragma: no cover
    """Write the parallel compile's plan (see ``--write-plan``) to ``path``."""
    import json
    import os
    import subprocess
    import tempfile

    from ._runtime import _parallel

    plan = {}
    for dtype in dtypes:
        for cell in cells:
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "SKRNN_CACHE_DIR": cache, _parallel.ENV_VAR: "0"}
                done = subprocess.run(
                    [sys.executable, "-c", _RECORD, dtype, cell],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
            order = json.loads(done.stdout.strip().splitlines()[-1])
            for i, (name, args) in enumerate(order):
                key = _parallel.plan_key(name, [_parallel.decode_type(a) for a in args])
                if name.startswith("skrnn._kernels.") and key is not None:
                    plan[key] = order[i + 1 :]
                    break
    # One entry a line, keys sorted: a regenerated plan diffs line by line.
    lines = ["{"]
    for i, key in enumerate(sorted(plan)):
        entries = [f"    {json.dumps(entry)}" for entry in plan[key]]
        comma = "," if i < len(plan) - 1 else ""
        lines += [f"  {json.dumps(key)}: [", ",\n".join(entries), f"  ]{comma}"]
    lines.append("}")
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


_RECORD = (
    "import sys; from skrnn.compile import _record_order; "
    "_record_order(sys.argv[1], sys.argv[2])"
)


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m skrnn.compile",
        description="Compile skrnn's kernels ahead of time into the kernel cache.",
    )
    parser.add_argument(
        "--dtype",
        choices=[*DTYPES, "both"],
        default="both",
        help="precision of the data to compile for (default: both)",
    )
    parser.add_argument(
        "--cells",
        default=",".join(CELLS),
        help="comma-separated recurrent cells (default: rnn,lstm,gru)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    parser.add_argument("--write-plan", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cells = tuple(c.strip() for c in args.cells.split(",") if c.strip())
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        parser.error(
            f"--cells got {args.cells!r}; expected a comma-separated list of "
            f"{', '.join(CELLS)}, for example --cells lstm,gru"
        )
    dtypes = DTYPES if args.dtype == "both" else (args.dtype,)
    return dtypes, cells, args.quiet, args.write_plan


def main(argv=None):
    """Command line entry point: ``python -m skrnn.compile [options]``.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    status : int
        0 on success.
    """
    dtypes, cells, quiet, plan_path = _parse(argv)
    if plan_path:
        write_plan(plan_path, dtypes, cells)
        return 0

    def log(line):
        print(line, flush=True)

    report = compile_kernels(dtypes, cells, log=None if quiet else log)
    if not quiet:
        log(
            f"skrnn kernels ready in {report['cache_dir']}: {report['compiled']} "
            f"compiled, {report['seconds']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
