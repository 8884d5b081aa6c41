"""The CTC loss and its gradient beside PyTorch's ``CTCLoss``, on warp-ctc's grid.

Shapes of warp-ctc's benchmark: ``T = 150`` frames, targets of ``L = 40``
labels, 28 labels plus the blank (``K = 29`` outputs per frame), batches of
``N`` in {1, 16, 64}; float32 scores (PyTorch's default dtype) and float64;
one thread and two.

- skrnn: :func:`skrnn._ctc.ctc_loss` on the logits, which returns the
  per-sequence losses and the gradient w.r.t. the logits (log-softmax,
  forward-backward and gradient in one kernel call, in float64 inside);
  threads: ``numba.set_num_threads``, the batch split into ranges of
  sequences.
- PyTorch: ``log_softmax``, ``torch.nn.functional.ctc_loss(...,
  reduction='none')``, then ``backward`` of the summed losses to the same
  gradient w.r.t. the logits; threads: ``torch.set_num_threads``.

Before timing, both sides are checked to give the same losses and gradients.
The two sides are timed alternately (``benchmarks/_timing.py``): two warm-up
calls each, then rounds of back-to-back calls lasting at least 20 ms after a
30 ms pause, the median round reported. The load average at the start and
the end is in the JSON: the machine is shared, and figures taken while other
work competes for the cores are slower on both sides.

Run from the root of a source checkout::

    python benchmarks/ctc.py                       # writes benchmarks/results/ctc.json
    python benchmarks/ctc.py --batch-sizes 16 --threads 1 --json ''
"""

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks._timing import TimingPolicy, interleaved  # noqa: E402
from skrnn._ctc import ctc_loss  # noqa: E402

FRAMES, TARGET_LENGTH, N_LABELS = 150, 40, 28


def _environment():
    """Machine, versions, BLAS libraries and the commit, for the JSON."""
    import llvmlite.binding as llvm
    from threadpoolctl import threadpool_info

    blas = [
        {
            "library": Path(info["filepath"]).name,
            "version": info.get("version"),
            "kernels": info.get("architecture"),
            "threads": info.get("num_threads"),
        }
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "machine": platform.processor() or platform.machine(),
        "cpu": llvm.get_host_cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "blas": blas,
        "commit": commit,
    }


def _problem(N, dtype, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(FRAMES, N, N_LABELS + 1)).astype(dtype)
    targets = rng.integers(0, N_LABELS, size=(N, TARGET_LENGTH))
    return logits, targets


def _torch_side(torch, logits, targets):
    """A callable running PyTorch's forward and backward, and its results."""
    N = logits.shape[1]
    z = torch.tensor(logits, requires_grad=True)
    flat = torch.tensor(targets.reshape(-1))
    input_lengths = torch.full((N,), FRAMES)
    target_lengths = torch.full((N,), TARGET_LENGTH)

    def step():
        z.grad = None
        losses = torch.nn.functional.ctc_loss(
            z.log_softmax(2), flat, input_lengths, target_lengths,
            blank=N_LABELS, reduction="none",
        )  # fmt: skip
        losses.sum().backward()
        return losses

    losses = step()
    return step, losses.detach().numpy(), z.grad.numpy()


def _threads(n, torch):
    """Context factory setting both libraries' thread counts."""
    import contextlib

    @contextlib.contextmanager
    def context():
        numba.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)
        yield

    return context


def run(batch_sizes=(1, 16, 64), threads=(1, 2), dtypes=("float32", "float64")):
    """Time every configuration; returns a list of rows."""
    try:
        import torch
    except ImportError:
        torch = None
    rows = []
    policy = TimingPolicy()
    for dtype in dtypes:
        for n_threads in threads:
            for N in batch_sizes:
                logits, targets = _problem(N, np.dtype(dtype))
                lengths = np.full(N, TARGET_LENGTH)
                context = _threads(n_threads, torch)
                with context():
                    losses, grad = ctc_loss(logits, targets, None, lengths)

                def ours(logits=logits, targets=targets, lengths=lengths):
                    ctc_loss(logits, targets, None, lengths)

                sides = [(ours, context)]
                row = {"dtype": dtype, "threads": n_threads, "batch_size": N}
                if torch is not None:
                    with context():
                        step, their_losses, their_grad = _torch_side(
                            torch, logits, targets
                        )
                    # PyTorch computes in the scores' dtype, skrnn in float64.
                    tol = 2e-3 if dtype == "float32" else 1e-9
                    row["max_loss_rel_diff"] = float(
                        np.max(np.abs(losses - their_losses) / np.abs(their_losses))
                    )
                    row["max_grad_abs_diff"] = float(np.max(np.abs(grad - their_grad)))
                    if row["max_loss_rel_diff"] > tol or row["max_grad_abs_diff"] > tol:
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
        f"{row['dtype']:>8} {row['threads']:>7} {row['batch_size']:>4} "
        f"{1e3 * row['skrnn']['median']:>9.3f}"
    )
    if "torch" in row:
        line += f" {1e3 * row['torch']['median']:>9.3f} {row['ratio']:>6.2f}"
    print(line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--dtypes", nargs="+", default=["float32", "float64"],
        choices=["float32", "float64"],
    )  # fmt: skip
    parser.add_argument(
        "--json",
        default=str(REPO_ROOT / "benchmarks" / "results" / "ctc.json"),
        help="file for the figures ('' for none)",
    )
    args = parser.parse_args(argv)
    results = {
        "grid": {"frames": FRAMES, "target_length": TARGET_LENGTH, "labels": N_LABELS},
        "environment": _environment(),
        "load_average": {"start": os.getloadavg()[0]},
    }
    print(f"{'dtype':>8} {'threads':>7} {'N':>4} {'skrnn ms':>9}", end="")
    print(f" {'torch ms':>9} {'ratio':>6}")
    rows, torch_version = run(tuple(args.batch_sizes), tuple(args.threads), args.dtypes)
    results["environment"]["torch"] = torch_version
    results["load_average"]["end"] = os.getloadavg()[0]
    results["rows"] = rows
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
