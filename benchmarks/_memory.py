"""Peak memory of one training step, full versus truncated BPTT.

Each configuration runs in a fresh process (``python -m benchmarks._memory``),
which builds the network and the batch, warms the kernels up on a tiny batch,
then resets the kernel's high-water mark of its resident set
(``/proc/self/clear_refs``), runs one ``loss_and_grad`` and reports the peak
resident memory above what the process held just before the step. The
resident set counts every allocation, including the kernels' own (Numba's
allocator is invisible to ``tracemalloc``).
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import time

import numpy as np

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kib(field):
    with open(_STATUS) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found in {_STATUS}")


def _reset_peak():
    # Writing 5 resets VmHWM, the peak resident set size, to the current one.
    with open(_CLEAR_REFS, "w") as f:
        f.write("5")


def available():
    """Whether this system lets a process reset and read its peak memory."""
    return os.path.exists(_STATUS) and os.access(_CLEAR_REFS, os.W_OK)


def _child(args):
    import numba
    from threadpoolctl import threadpool_limits

    from skrnn._batching import make_batch
    from skrnn._network import RecurrentNetwork

    numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    network = RecurrentNetwork(args.cell, args.inputs, (args.hidden,), 1)
    theta = network.init_params(0, np.dtype(args.dtype))
    bptt = args.bptt if args.bptt > 0 else None

    def step(n_rows, n_steps):
        X = rng.standard_normal((n_rows, n_steps, args.inputs))
        batch = make_batch(list(X), n_chunks=args.threads, dtype=args.dtype)
        Y = batch.gather(rng.standard_normal((n_rows, 1)))
        w = batch.gather(np.full(n_rows, 1.0 / n_rows))
        # Keep only the batch alive into the measured call.
        del X
        return batch, Y, w

    with threadpool_limits(limits=1, user_api="blas"):
        small = step(2 * args.threads, 12)
        network.loss_and_grad(theta, *small, bptt_steps=min(bptt or 12, 6))
        batch, Y, w = step(args.batch, args.steps)
        gc.collect()
        _reset_peak()
        before = _status_kib("VmRSS")
        start = time.perf_counter()
        network.loss_and_grad(theta, batch, Y, w, bptt_steps=bptt)
        seconds = time.perf_counter() - start
        peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "rss_before_mib": before / 1024,
                "peak_rss_mib": peak / 1024,
                "step_peak_mib": (peak - before) / 1024,
                "step_seconds": seconds,
                "batch_input_mib": batch.X.nbytes / 2**20,
            }
        )
    )


def measure_peak(
    repo_root, *, cell, dtype, batch, steps, hidden, inputs, threads, bptt_steps
):
    """Peak memory of one training step in a fresh process.

    Parameters
    ----------
    repo_root : path-like
        Folder from which ``python -m benchmarks._memory`` is run.
    cell, dtype : str
        Network cell and floating type.
    batch, steps, hidden, inputs, threads : int
        Shape of the step and the number of threads (batch chunks).
    bptt_steps : int or None
        Truncation of backpropagation through time (None: full).

    Returns
    -------
    result : dict
        ``step_peak_mib`` (peak resident memory during the step above the
        resident memory just before it), ``rss_before_mib``,
        ``peak_rss_mib``, ``step_seconds`` and ``batch_input_mib``.
    """
    command = [
        sys.executable,
        "-m",
        "benchmarks._memory",
        "--cell",
        cell,
        "--dtype",
        dtype,
        "--batch",
        str(batch),
        "--steps",
        str(steps),
        "--hidden",
        str(hidden),
        "--inputs",
        str(inputs),
        "--threads",
        str(threads),
        "--bptt",
        str(bptt_steps or 0),
    ]
    done = subprocess.run(
        command, cwd=repo_root, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def store_mib(cell, dtype, batch, steps, hidden, bptt_steps):
    """Size of what the forward pass stores for the backward pass, in MiB."""
    from skrnn._runtime import store_width

    n_store = steps if bptt_steps is None else min(bptt_steps, steps)
    itemsize = np.dtype(dtype).itemsize
    return batch * n_store * store_width(cell, hidden) * itemsize / 2**20


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bptt", type=int, default=0, help="0 means full BPTT")
    _child(parser.parse_args())
