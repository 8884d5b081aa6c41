"""Run skrnn's benchmark suite: ``python -m benchmarks [--quick] [options]``.

Writes ``benchmark.json`` (every figure), ``benchmark.md`` (the report),
``benchmark.rst`` (the same report for the docs) and ``ratios.png`` (time
ratio per shape) into the output folder.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results"

FULL = {
    "cells": ["rnn", "lstm", "gru"],
    "dtypes": ["float32", "float64"],
    "threads": [1, 2],
    "batch_sizes": [32, 128],
    "hidden_sizes": [16, 64, 256],
    "steps": 100,
    "inputs": 8,
    "memory": {"batch": 128, "steps": 1000, "hidden": 128, "bptt_steps": 50},
    "end_to_end": {
        "n_train": 1024,
        "n_test": 256,
        "n_steps": 50,
        "hidden": 64,
        "batch_size": 32,
        "epochs": 20,
        "learning_rate": 1e-3,
        "seed": 0,
    },
    "end_to_end_rounds": 3,
    "profile_hidden": [16, 64, 256],
    "speedup_shape": {"batch": 128, "hidden": 64},
    "gemm": {"size": 1024, "repeats": 5},
}

QUICK = {
    "cells": ["rnn", "lstm", "gru"],
    "dtypes": ["float64"],
    "threads": [1, 2],
    "batch_sizes": [16],
    "hidden_sizes": [8],
    "steps": 10,
    "inputs": 3,
    "memory": {"batch": 16, "steps": 200, "hidden": 8, "bptt_steps": 20},
    "end_to_end": {
        "n_train": 64,
        "n_test": 32,
        "n_steps": 8,
        "hidden": 8,
        "batch_size": 16,
        "epochs": 2,
        "learning_rate": 1e-3,
        "seed": 0,
    },
    "end_to_end_rounds": 1,
    "profile_hidden": [8],
    "speedup_shape": {"batch": 16, "hidden": 8},
    "gemm": {"size": 256, "repeats": 3},
}

EXTRAS = ("speedup", "startup", "memory", "end-to-end", "profile")


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="skrnn against PyTorch (or NumPy) on the CPU: training "
        "step and inference per shape, start-up, memory, end to end.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny subset in seconds (smoke test)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help=f"default {DEFAULT_OUTPUT} (quick: its quick/ folder)",
    )
    parser.add_argument(
        "--peer",
        choices=["auto", "torch", "numpy"],
        default="auto",
        help="what skrnn is compared with (auto: PyTorch if "
        "installed, else the NumPy reference)",
    )
    parser.add_argument("--cells", nargs="+", choices=FULL["cells"])
    parser.add_argument("--dtypes", nargs="+", choices=FULL["dtypes"])
    parser.add_argument("--threads", nargs="+", type=int)
    parser.add_argument("--batch-sizes", nargs="+", type=int)
    parser.add_argument("--hidden-sizes", nargs="+", type=int)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="only re-render the report from benchmark.json in the output folder",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        choices=EXTRAS,
        default=[],
        help="measurements to leave out",
    )
    return parser.parse_args(argv)


def _grid(args):
    grid = dict(QUICK if args.quick else FULL)
    for key in ("cells", "dtypes", "threads", "batch_sizes", "hidden_sizes"):
        value = getattr(args, key)
        if value:
            grid[key] = value
    return grid


def _peer(choice):
    """Name of the peer and a note on how it was chosen."""
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    if choice == "torch" and not have_torch:
        sys.exit("--peer torch: PyTorch is not installed (pip install '.[bench]').")
    if choice == "numpy":
        return "NumPy", "chosen with --peer numpy"
    if have_torch:
        return "PyTorch", ""
    return "NumPy", "PyTorch was not found; install the bench extra to compare"


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("nan")


def _git_state():
    def git(*cmd):
        out = subprocess.run(
            ["git", *cmd], cwd=REPO_ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() if out.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "skrnn")
    return {
        "commit": git("rev-parse", "HEAD"),
        "skrnn_changes_not_committed": [
            line[3:] for line in changed.splitlines() if line
        ],
    }


def _meta(args, grid, peer, peer_note):
    import numba
    import numpy as np
    from threadpoolctl import threadpool_info

    import skrnn

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    np_blas = next(
        (i for i in blas if "numpy" in i["filepath"]), blas[0] if blas else None
    )
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "command": "python -m benchmarks" + "".join(f" {a}" for a in sys.argv[1:]),
        "quick": args.quick,
        "gemm_size": grid["gemm"]["size"],
        "peer": peer,
        "peer_note": peer_note,
        "grid": {
            k: grid[k]
            for k in (
                "cells",
                "dtypes",
                "threads",
                "batch_sizes",
                "hidden_sizes",
                "steps",
                "inputs",
            )
        },
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "memory_gib": _memory_gib(),
            "platform": platform.platform(),
        },
        "load_average": {"start": os.getloadavg()[0]},
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "blas": f"{np_blas['internal_api']} {np_blas['version']}"
            if np_blas
            else "?",
            "numba": numba.__version__,
            "kernel_vectors": _kernel_vectors(),
            "torch": torch_version,
            "skrnn": skrnn.__version__,
        },
        "git": _git_state(),
    }


def _kernel_vectors():
    import skrnn._runtime as runtime

    return "512-bit" if runtime.WIDE_VECTORS else "LLVM's default width"


_START = time.perf_counter()


def _log(message):
    print(f"[{time.perf_counter() - _START:6.1f} s] {message}", flush=True)


def _build_cases(shape, peer):
    """skrnn's and the peer's case for a shape, checked to compute the same."""
    from ._cases import (
        NumpyCase,
        SkrnnCase,
        TorchCase,
        agreement_tolerance,
        check_agreement,
        make_data,
    )

    X, Y = make_data(shape)
    ours = SkrnnCase(shape, X, Y)
    peer_class = TorchCase if peer == "PyTorch" else NumpyCase
    theirs = peer_class(shape, X, Y, ours.weights())
    agreement = check_agreement(ours, theirs)
    if max(agreement.values()) > agreement_tolerance(shape.dtype):
        raise RuntimeError(f"skrnn and {peer} disagree on {shape}: {agreement}")
    return ours, theirs, agreement


def _local_gemm_peak(grid, dtype, threads):
    """GEMM throughput now, then a pause so that BLAS's threads go idle.

    OpenBLAS's worker threads keep spinning for a while after a product;
    without the pause they would compete with the next timed call.
    """
    from ._timing import gemm_peak

    peak = gemm_peak(dtype, threads, **grid["gemm"])
    time.sleep(0.2)
    return peak


def _shapes(grid):
    import numba

    from ._cases import Shape

    max_threads = numba.config.NUMBA_NUM_THREADS
    for cell in grid["cells"]:
        for dtype in grid["dtypes"]:
            for threads in grid["threads"]:
                if threads > max_threads:
                    _log(f"skipping {threads} threads: Numba has {max_threads}")
                    continue
                for batch in grid["batch_sizes"]:
                    for hidden in grid["hidden_sizes"]:
                        yield Shape(cell, dtype, threads, batch, hidden,
                                    grid["steps"], grid["inputs"])  # fmt: skip


def _measure_table(grid, peer, policy):
    """One row per shape and mode; the GEMM peak is probed around each shape."""
    from ._cases import gemm_flops
    from ._timing import interleaved

    rows = []
    for shape in _shapes(grid):
        ours, theirs, agreement = _build_cases(shape, peer)
        before = _local_gemm_peak(grid, shape.dtype, shape.threads)
        timings = {}
        for mode in ("train", "infer"):
            method = "train_step" if mode == "train" else "infer"
            timings[mode] = interleaved(
                [
                    (getattr(ours, method), ours.context),
                    (getattr(theirs, method), theirs.context),
                ],
                policy,
            )
        after = _local_gemm_peak(grid, shape.dtype, shape.threads)
        # The higher of the two probes: a busy moment during one of them must
        # not make the efficiencies look better than they are.
        peak = max(before["gflops"], after["gflops"])
        for mode, (a, b) in timings.items():
            flops = gemm_flops(shape, mode)
            row = {
                **shape.to_dict(),
                "mode": mode,
                "gemm_flops": flops,
                "skrnn": a.to_dict(),
                "peer": b.to_dict(),
                "ratio": a.median / b.median,
                "skrnn_gflops": flops / a.median / 1e9,
                "peer_gflops": flops / b.median / 1e9,
                "gemm_peak_gflops": peak,
                "gemm_peak_probes": [before["gflops"], after["gflops"]],
                "agreement": agreement,
                "load_average": os.getloadavg()[0],
            }
            row["skrnn_peak_pct"] = 100 * row["skrnn_gflops"] / peak
            row["peer_peak_pct"] = 100 * row["peer_gflops"] / peak
            rows.append(row)
            _log(
                f"{shape.cell:4s} {shape.dtype} {shape.threads}T "
                f"B{shape.batch:<4d} H{shape.hidden:<4d} {mode:5s} skrnn "
                f"{a.median * 1e3:9.2f} ms  {peer} {b.median * 1e3:9.2f} ms  "
                f"ratio {row['ratio']:5.2f}  {row['skrnn_peak_pct']:4.0f}% of "
                f"{peak:.0f} GFLOP/s"
            )
        del ours, theirs
    return rows


def _gemm_summary(rows):
    """Spread of the GEMM peak probes of the run, per dtype and thread count."""
    import numpy as np

    out = {}
    for row in rows:
        if row["mode"] != "train":
            continue
        by_threads = out.setdefault(row["dtype"], {})
        by_threads.setdefault(str(row["threads"]), []).extend(row["gemm_peak_probes"])
    return {
        dtype: {
            t: {
                "median": float(np.median(v)),
                "min": float(np.min(v)),
                "max": float(np.max(v)),
                "probes": len(v),
            }
            for t, v in sorted(by_threads.items())
        }
        for dtype, by_threads in out.items()
    }


def _measure_speedups(grid, peer, policy):
    """2 threads over 1, both thread counts timed alternately in one loop."""
    import numba

    from ._cases import Shape
    from ._timing import interleaved

    if not {1, 2} <= set(grid["threads"]) or numba.config.NUMBA_NUM_THREADS < 2:
        return []
    out = []
    batch, hidden = grid["speedup_shape"]["batch"], grid["speedup_shape"]["hidden"]
    for cell in grid["cells"]:
        for dtype in grid["dtypes"]:
            cases = {}
            for threads in (1, 2):
                shape = Shape(cell, dtype, threads, batch, hidden, grid["steps"],
                              grid["inputs"])  # fmt: skip
                cases[threads] = _build_cases(shape, peer)[:2]
            for mode in ("train", "infer"):
                method = "train_step" if mode == "train" else "infer"
                sides = [
                    (getattr(case, method), case.context)
                    for k in (0, 1)
                    for case in (cases[1][k], cases[2][k])
                ]
                ours_1, ours_2, peer_1, peer_2 = interleaved(sides, policy)
                result = {
                    "cell": cell, "dtype": dtype, "mode": mode, "batch": batch,
                    "hidden": hidden, "skrnn_1": ours_1.median,
                    "skrnn_2": ours_2.median, "peer_1": peer_1.median,
                    "peer_2": peer_2.median,
                    "skrnn_speedup": ours_1.median / ours_2.median,
                    "peer_speedup": peer_1.median / peer_2.median,
                    "load_average": os.getloadavg()[0],
                }  # fmt: skip
                out.append(result)
                _log(
                    f"{cell:4s} {dtype} B{batch} H{hidden} {mode:5s} 2 threads "
                    f"over 1: skrnn {result['skrnn_speedup']:.2f}x, {peer} "
                    f"{result['peer_speedup']:.2f}x"
                )
    return out


def _measure_memory(grid):
    import numba

    from ._memory import available, measure_peak, store_mib

    if not available():
        _log("skipping memory: /proc/self/clear_refs is not writable here")
        return None
    cfg = grid["memory"]
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    common = {
        "cell": "lstm",
        "dtype": "float64",
        "batch": cfg["batch"],
        "steps": cfg["steps"],
        "hidden": cfg["hidden"],
        "inputs": grid["inputs"],
        "threads": threads,
    }
    result = dict(common, bptt_steps=cfg["bptt_steps"])
    for key, bptt in (("full", None), ("truncated", cfg["bptt_steps"])):
        _log(f"memory: {key} BPTT")
        measured = measure_peak(REPO_ROOT, bptt_steps=bptt, **common)
        measured["store_mib"] = store_mib(
            "lstm", "float64", cfg["batch"], cfg["steps"], cfg["hidden"], bptt
        )
        result[key] = measured
    result["reduction"] = (
        result["full"]["step_peak_mib"] / result["truncated"]["step_peak_mib"]
    )
    return result


def _measure_end_to_end(grid, peer):
    if peer != "PyTorch":
        _log("skipping end-to-end: it needs PyTorch")
        return []
    from ._end_to_end import compare

    out = []
    for dtype in grid["dtypes"]:
        _log(f"end-to-end: {dtype}")
        result = compare(grid["end_to_end"], dtype, rounds=grid["end_to_end_rounds"])
        result["rounds"] = grid["end_to_end_rounds"]
        out.append(result)
    return out


def _measure_profile(grid, peer, policy):
    from ._cases import Shape
    from ._profile import profile_step

    out = []
    for dtype in grid["dtypes"]:
        for hidden in grid["profile_hidden"]:
            shape = Shape(
                "lstm",
                dtype,
                1,
                max(grid["batch_sizes"]),
                hidden,
                grid["steps"],
                grid["inputs"],
            )
            _log(f"profile: lstm {dtype} H{hidden}")
            parts = profile_step(shape, policy, with_torch=peer == "PyTorch")
            out.append({**shape.to_dict(), "parts": parts})
    return out


def _render(results, output):
    """Write the Markdown, reStructuredText and plot of a run's results."""
    from . import _report

    (output / "benchmark.md").write_text(_report.to_markdown(results) + "\n")
    (output / "benchmark.rst").write_text(_report.to_rst(results) + "\n")
    try:
        _report.plot_ratios(results, output / "ratios.png")
    except ImportError:
        _log("no plot: matplotlib is not installed")


def main(argv=None):
    args = _parse_args(argv)
    grid = _grid(args)
    output = args.output_dir or (
        DEFAULT_OUTPUT / "quick" if args.quick else DEFAULT_OUTPUT
    )
    output.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        _render(json.loads((output / "benchmark.json").read_text()), output)
        _log(f"rendered {output}")
        return
    started = time.perf_counter()

    from . import _targets
    from ._timing import TimingPolicy

    peer, peer_note = _peer(args.peer)
    _log(f"skrnn benchmarks: peer {peer}{' (' + peer_note + ')' if peer_note else ''}")
    policy = (
        TimingPolicy(
            warmup=1,
            min_repeats=3,
            max_repeats=3,
            budget=0.0,
            min_round=0.0,
            settle=0.005,
        )
        if args.quick
        else TimingPolicy()
    )
    results = {"meta": _meta(args, grid, peer, peer_note)}

    rows = _measure_table(grid, peer, policy)
    results["speedup"] = (
        [] if "speedup" in args.skip else _measure_speedups(grid, peer, policy)
    )

    results["startup"] = None
    if "startup" not in args.skip:
        from ._startup import measure_startup, measure_warm_startup

        if args.quick:
            _log("start-up: warm")
            results["startup"] = {"warm": measure_warm_startup(REPO_ROOT)}
            from ._startup import MAX_ITER, N_SEQUENCES, N_STEPS

            results["startup"].update(
                n_sequences=N_SEQUENCES, n_steps=N_STEPS, max_iter=MAX_ITER
            )
        else:
            _log("start-up: cold, then warm (fresh processes)")
            results["startup"] = measure_startup(REPO_ROOT)
    results["memory"] = None if "memory" in args.skip else _measure_memory(grid)
    results["end_to_end_params"] = grid["end_to_end"]
    results["end_to_end"] = (
        [] if "end-to-end" in args.skip else _measure_end_to_end(grid, peer)
    )
    results["profile"] = (
        [] if "profile" in args.skip else _measure_profile(grid, peer, policy)
    )

    results["gemm_peak"] = _gemm_summary(rows)
    results["rows"] = rows
    results["meta"]["load_average"]["end"] = os.getloadavg()[0]
    results["meta"]["seconds"] = time.perf_counter() - started
    results["targets"] = _targets.evaluate(results)

    (output / "benchmark.json").write_text(json.dumps(results, indent=1) + "\n")
    _render(results, output)
    _log(f"wrote {output} in {results['meta']['seconds']:.0f} s")
    for t in results["targets"]:
        status = {True: "met", False: "MISSED", None: "not evaluated"}[t["met"]]
        _log(f"  {status:13s} {t['target']}: {t['measured']}")


if __name__ == "__main__":
    main()
