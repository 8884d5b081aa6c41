"""Spinning against sleeping waits of the chunk threads, on a small-batch fit.

A training step hands chunks to skrnn's worker threads twice per layer. The
threads wait for work, and the caller for their chunks, by spinning for up
to ``SKRNN_SPIN_SECONDS`` (2 ms by default) before sleeping
(:mod:`skrnn._runtime._workers`). This script times the end-to-end cosine fit
of the benchmark suite (an LSTM with 64 units, batches of 32 sequences of 50
steps, so two chunks of 16 rows per step) with the default spin and with
``SKRNN_SPIN_SECONDS=0`` (waits that sleep at once), each in fresh processes,
alternately, and optionally with busy processes competing for the cores.

Run from the root of a source checkout::

    python benchmarks/hand_off.py               # idle machine, 3 repeats
    python benchmarks/hand_off.py --load 2      # two busy processes beside
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

_FIT = """
import json, time, warnings
import numpy as np
from benchmarks._end_to_end import _skrnn_model, cosine_task
params = dict(n_train=1024, n_steps=50, hidden=64, batch_size=32,
              learning_rate=1e-3, seed=0)
X, y = cosine_task(params["n_train"], params["n_steps"], seed=1)
X, y = X.astype(np.float32), y.astype(np.float32)
warnings.simplefilter("ignore")
_skrnn_model(params, X.dtype, 1).fit(X, y)  # load the kernels
times = []
for _ in range({fits}):
    model = _skrnn_model(params, X.dtype, {epochs})
    start = time.perf_counter()
    model.fit(X, y)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""

_BUSY = "while True: pass"


def _fit_times(spin, fits, epochs):
    env = dict(os.environ)
    env.pop("SKRNN_SPIN_SECONDS", None)
    if spin is not None:
        env["SKRNN_SPIN_SECONDS"] = spin
    code = _FIT.format(fits=fits, epochs=epochs)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fits", type=int, default=3, help="fits per process")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--load", type=int, default=0, help="busy processes running beside"
    )
    args = parser.parse_args(argv)
    settings = {"spinning (default)": None, "sleeping (SKRNN_SPIN_SECONDS=0)": "0"}
    times = {name: [] for name in settings}
    busy = [subprocess.Popen([sys.executable, "-c", _BUSY]) for _ in range(args.load)]
    try:
        for repeat in range(args.repeats):
            order = list(settings.items())
            if repeat % 2:
                order.reverse()
            for name, spin in order:
                times[name] += _fit_times(spin, args.fits, args.epochs)
    finally:
        for process in busy:
            process.kill()
    print(f"cosine fit, {args.epochs} epochs, {args.load} busy processes beside")
    print("| waits | median s | lowest s | highest s | fits |")
    print("|---|---|---|---|---|")
    for name, values in times.items():
        print(
            f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} "
            f"| {max(values):.2f} | {len(values)} |"
        )
    spin_s, sleep_s = (statistics.median(v) for v in times.values())
    print(f"spinning / sleeping: {spin_s / sleep_s:.2f}")


if __name__ == "__main__":
    main()
