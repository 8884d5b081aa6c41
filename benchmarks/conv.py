"""The convolution front end beside PyTorch's ``Conv1d`` + ReLU, forward and backward.

One layer of the shape of a speech front end: ``B = 32`` sequences of
``T = 200`` steps with 13 features (MFCCs), 64 filters of width 5, "same"
padding, stride 1 and 2; float32 (PyTorch's default dtype); one thread and
two.

- skrnn: :meth:`skrnn._conv.ConvFrontEnd.forward` then
  :meth:`~skrnn._conv.ConvFrontEnd.backward` to the weight and bias
  gradients, on a batch built once with ``make_batch(..., n_chunks=threads)``,
  inside a kernel session (BLAS on one thread, chunks on the chunk threads),
  as a network's training step runs it. The front end reads the data, so
  neither side computes the gradient w.r.t. the input unless
  ``--input-gradient`` is given.
- PyTorch: reset the gradients, ``relu(conv(x))`` on ``x`` of shape
  ``(B, 13, T)`` (its own layout, no transposes), ``backward`` of the same
  output gradient; threads: ``torch.set_num_threads``.

Before timing, both sides are checked to give the same outputs and
gradients. The two sides are timed alternately (``benchmarks/_timing.py``):
two warm-up calls each, then rounds of back-to-back calls lasting at least
20 ms after a 30 ms pause, the median round reported. The load average at
the start and the end is in the JSON: the machine is shared, and figures
taken while other work competes for the cores are slower on both sides.

Run from the root of a source checkout::

    python benchmarks/conv.py                      # writes benchmarks/results/conv.json
    python benchmarks/conv.py --strides 2 --threads 1 --json ''
"""

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

import numba
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks._timing import TimingPolicy, interleaved  # noqa: E402
from benchmarks.ctc import _environment  # noqa: E402
from skrnn._batching import make_batch  # noqa: E402
from skrnn._conv import ConvFrontEnd  # noqa: E402
from skrnn._runtime import session  # noqa: E402

BATCH, STEPS, FEATURES, FILTERS, WIDTH = 32, 200, 13, 64, 5


def _problem(stride, n_chunks, seed=0):
    rng = np.random.default_rng(seed)
    front = ConvFrontEnd(((FILTERS, WIDTH, stride),), "same", FEATURES)
    theta = front.init_params(seed, np.float32)
    sequences = [rng.normal(size=(STEPS, FEATURES)) for _ in range(BATCH)]
    batch = make_batch(sequences, n_chunks=n_chunks, dtype=np.float32)
    dY = rng.normal(
        size=(batch.n_chunks, front.output_steps(STEPS), batch.chunk_size, FILTERS)
    ).astype(np.float32)
    return front, theta, batch, dY


def _torch_side(torch, front, theta, batch, dY, input_gradient):
    """A callable running PyTorch's forward and backward, and its results."""
    P = front.views(theta)
    layer = front.layers[0]
    conv = torch.nn.Conv1d(
        FEATURES, FILTERS, WIDTH, stride=layer.stride, padding=WIDTH // 2
    )
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(P["conv.0.weight"]))
        conv.bias.copy_(torch.from_numpy(P["conv.0.bias"]))
    # (C, T, Bc, I) -> (B, I, T), rows in the batch's order.
    x = torch.from_numpy(
        np.ascontiguousarray(batch.X.transpose(0, 2, 3, 1).reshape(-1, FEATURES, STEPS))
    )
    x.requires_grad_(input_gradient)
    grad_out = torch.from_numpy(
        np.ascontiguousarray(dY.transpose(0, 2, 3, 1).reshape(-1, FILTERS, dY.shape[1]))
    )

    def step():
        conv.weight.grad = None
        conv.bias.grad = None
        x.grad = None
        y = torch.relu(conv(x))
        y.backward(grad_out)
        return y

    y = step()
    C, T_out, Bc = dY.shape[:3]
    Y = y.detach().numpy().reshape(C, Bc, FILTERS, T_out).transpose(0, 3, 1, 2)
    dX = None
    if input_gradient:
        dX = x.grad.numpy().reshape(C, Bc, FEATURES, STEPS).transpose(0, 3, 1, 2)
    grads = {
        "conv.0.weight": conv.weight.grad.numpy(),
        "conv.0.bias": conv.bias.grad.numpy(),
    }
    return step, Y, grads, dX


def _threads(n, torch):
    """Context factory setting both libraries' thread counts (and skrnn's session)."""

    @contextlib.contextmanager
    def context():
        numba.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)
        with session():
            yield

    return context


def _max_rel_diff(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def run(strides=(1, 2), threads=(1, 2), input_gradient=False):
    """Time every configuration; returns a list of rows."""
    try:
        import torch
    except ImportError:
        torch = None
    rows = []
    policy = TimingPolicy()
    for n_threads in threads:
        for stride in strides:
            front, theta, batch, dY = _problem(stride, n_threads)
            P = front.views(theta)
            context = _threads(n_threads, torch)

            def ours(front=front, P=P, batch=batch, dY=dY):
                Y, _, cache = front.forward(P, batch.X, batch.lengths)
                return Y, *front.backward(P, cache, dY, input_gradient=input_gradient)

            with context():
                Y, grads, dX = ours()
            sides = [(ours, context)]
            row = {
                "threads": n_threads,
                "stride": stride,
                "input_gradient": input_gradient,
            }
            if torch is not None:
                with context():
                    step, their_Y, their_grads, their_dX = _torch_side(
                        torch, front, theta, batch, dY, input_gradient
                    )
                diffs = [_max_rel_diff(Y, their_Y)]
                diffs += [_max_rel_diff(grads[k], their_grads[k]) for k in grads]
                if input_gradient:
                    diffs.append(_max_rel_diff(dX, their_dX))
                row["max_rel_diff"] = max(diffs)
                if row["max_rel_diff"] > 2e-3:
                    raise RuntimeError(f"skrnn and PyTorch disagree: {row}")
                sides.append((step, context))
            timings = interleaved(sides, policy)
            row["skrnn"] = timings[0].to_dict()
            if torch is not None:
                row["torch"] = timings[1].to_dict()
                row["ratio"] = timings[0].median / timings[1].median
            rows.append(row)
            _print_row(row)
    return rows, (torch.__version__ if torch is not None else None)


def _print_row(row):
    line = (
        f"{row['threads']:>7} {row['stride']:>6} {1e3 * row['skrnn']['median']:>9.3f}"
    )
    if "torch" in row:
        line += f" {1e3 * row['torch']['median']:>9.3f} {row['ratio']:>6.2f}"
    print(line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strides", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--input-gradient",
        action="store_true",
        help="also compute the gradient w.r.t. the input (a front end behind "
        "another layer would need it)",
    )
    parser.add_argument(
        "--json",
        default=str(REPO_ROOT / "benchmarks" / "results" / "conv.json"),
        help="file for the figures ('' for none)",
    )
    args = parser.parse_args(argv)
    results = {
        "grid": {
            "batch_size": BATCH,
            "steps": STEPS,
            "features": FEATURES,
            "filters": FILTERS,
            "width": WIDTH,
            "padding": "same",
            "dtype": "float32",
        },
        "environment": _environment(),
        "load_average": {"start": os.getloadavg()[0]},
    }
    print(f"{'threads':>7} {'stride':>6} {'skrnn ms':>9} {'torch ms':>9} {'ratio':>6}")
    rows, torch_version = run(
        tuple(args.strides), tuple(args.threads), args.input_gradient
    )
    results["environment"]["torch"] = torch_version
    results["load_average"]["end"] = os.getloadavg()[0]
    results["rows"] = rows
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
