"""The performance targets of the benchmark suite, checked against one run.

Each target is evaluated on every row it concerns; a target is met only if
every one of those rows meets it. Ratio targets need PyTorch: against the
NumPy reference they are reported as not evaluated.
"""

# Training and inference targets by hidden size: a ratio to PyTorch for the
# overhead-bound small and medium sizes, a share of the measured GEMM peak
# for the large one.
RATIO_TARGETS = {
    ("train", "float32"): 0.7,
    ("train", "float64"): 0.4,
    ("infer", "float32"): 1.0,
    ("infer", "float64"): 0.5,
}
RATIO_HIDDEN = (16, 64)
EFFICIENCY_HIDDEN = (256,)
EFFICIENCY_TARGET = 80.0  # percent of the GEMM peak
SPEEDUP_TARGET = 1.6
SPEEDUP_SHAPE = {"batch": 128, "hidden": 64}
COMPILE_TARGET = 30.0  # seconds
COLD_FIT_TARGET = 8.0  # seconds, first default fit of each estimator
WARM_START_TARGET = 1.5  # seconds
MEMORY_REDUCTION_TARGET = 5.0
END_TO_END_TARGET = 0.7
# "Equal or better error": the held-out error of skrnn may exceed PyTorch's
# by this factor (two trainings from the same start differ by rounding and
# shuffling order only).
END_TO_END_ERROR_SLACK = 1.1

MODE_NAMES = {"train": "Training step", "infer": "Inference"}


def row_target(row, peer_is_torch):
    """Target of one table row: ``(text, met)``; ``met`` is None if not evaluated."""
    key = (row["mode"], row["dtype"])
    if row["hidden"] in RATIO_HIDDEN:
        limit = RATIO_TARGETS[key]
        if not peer_is_torch:
            return f"ratio <= {limit} (PyTorch)", None
        return f"ratio <= {limit}", bool(row["ratio"] <= limit)
    if row["hidden"] in EFFICIENCY_HIDDEN:
        met = row["skrnn_peak_pct"] >= EFFICIENCY_TARGET
        return f">= {EFFICIENCY_TARGET:g}% of peak", bool(met)
    return "", None


def _summary(name, requirement, rows, measured, met):
    return {
        "target": name,
        "requirement": requirement,
        "measured": measured,
        "met": met,
        "rows": rows,
    }


def _table_targets(results, peer_is_torch):
    out = []
    rows = results["rows"]
    for mode in ("train", "infer"):
        for dtype in ("float32", "float64"):
            limit = RATIO_TARGETS[(mode, dtype)]
            sel = [
                r
                for r in rows
                if r["mode"] == mode
                and r["dtype"] == dtype
                and r["hidden"] in RATIO_HIDDEN
            ]
            if sel:
                name = f"{MODE_NAMES[mode]}, H in {{16, 64}}, {dtype}"
                if peer_is_torch:
                    worst = max(sel, key=lambda r: r["ratio"])
                    n_met = sum(r["ratio"] <= limit for r in sel)
                    measured = (
                        f"worst {worst['ratio']:.2f} ({_where(worst)}); "
                        f"{n_met}/{len(sel)} rows met"
                    )
                    met = n_met == len(sel)
                else:
                    measured, met = "not evaluated: PyTorch not found", None
                out.append(
                    _summary(name, f"skrnn/PyTorch <= {limit}", len(sel), measured, met)
                )
            sel = [
                r
                for r in rows
                if r["mode"] == mode
                and r["dtype"] == dtype
                and r["hidden"] in EFFICIENCY_HIDDEN
            ]
            if sel:
                worst = min(sel, key=lambda r: r["skrnn_peak_pct"])
                n_met = sum(r["skrnn_peak_pct"] >= EFFICIENCY_TARGET for r in sel)
                best = max(r["skrnn_peak_pct"] for r in sel)
                out.append(
                    _summary(
                        f"{MODE_NAMES[mode]}, H = 256, {dtype}",
                        f">= {EFFICIENCY_TARGET:g}% of the GEMM peak",
                        len(sel),
                        f"{worst['skrnn_peak_pct']:.0f}% to {best:.0f}% "
                        f"(worst {_where(worst)}); {n_met}/{len(sel)} rows met",
                        n_met == len(sel),
                    )
                )
    return out


def _where(row):
    return f"{row['cell']} T{row['threads']} B{row['batch']}"


def evaluate(results):
    """List every target with its measured figure and whether it is met.

    Parameters
    ----------
    results : dict
        The run's results (``rows``, ``speedup``, ``startup``, ``memory``,
        ``end_to_end``, ``meta``).

    Returns
    -------
    targets : list of dict
        ``target``, ``requirement``, ``measured`` (text), ``met`` (bool, or
        None when not measured in this run) and ``rows`` (rows concerned).
    """
    peer_is_torch = results["meta"]["peer"] == "PyTorch"
    out = _table_targets(results, peer_is_torch)

    speedups = [
        s
        for s in results.get("speedup", [])
        if s["batch"] == SPEEDUP_SHAPE["batch"]
        and s["hidden"] == SPEEDUP_SHAPE["hidden"]
    ]
    if speedups:
        worst = min(speedups, key=lambda s: s["skrnn_speedup"])
        n_met = sum(s["skrnn_speedup"] >= SPEEDUP_TARGET for s in speedups)
        out.append(
            _summary(
                "2 threads over 1, B = 128, H = 64",
                f">= {SPEEDUP_TARGET}x",
                len(speedups),
                f"{worst['skrnn_speedup']:.2f}x to "
                f"{max(s['skrnn_speedup'] for s in speedups):.2f}x (worst "
                f"{worst['cell']} {worst['dtype']} {worst['mode']}); "
                f"{n_met}/{len(speedups)} met",
                n_met == len(speedups),
            )
        )

    startup = results.get("startup") or {}
    if "compile_seconds" in startup:
        seconds = startup["compile_seconds"]
        out.append(
            _summary(
                "Cold compile of a default fit's kernels",
                f"<= {COMPILE_TARGET:g} s",
                1,
                f"{seconds:.1f} s",
                seconds <= COMPILE_TARGET,
            )
        )
    if "estimators" in startup:
        cold = {n: e["cold"]["fit"] for n, e in startup["estimators"].items()}
        worst = max(cold, key=cold.get)
        n_met = sum(seconds <= COLD_FIT_TARGET for seconds in cold.values())
        out.append(
            _summary(
                "First default fit of each estimator, empty kernel cache",
                f"<= {COLD_FIT_TARGET:g} s",
                len(cold),
                f"{min(cold.values()):.1f} s to {cold[worst]:.1f} s (worst "
                f"{worst}); {n_met}/{len(cold)} met",
                n_met == len(cold),
            )
        )
    if "warm" in startup:
        seconds = startup["warm"]["import_and_fit"]
        out.append(
            _summary(
                "Import plus first small fit, warm cache, fresh process",
                f"<= {WARM_START_TARGET:g} s",
                1,
                f"{seconds:.2f} s (import {startup['warm']['import']:.2f} s)",
                seconds <= WARM_START_TARGET,
            )
        )

    memory = results.get("memory")
    if memory:
        factor = memory["reduction"]
        out.append(
            _summary(
                f"bptt_steps={memory['bptt_steps']} cuts peak training memory "
                f"(T = {memory['steps']})",
                f">= {MEMORY_REDUCTION_TARGET:g}x",
                1,
                f"{factor:.1f}x ({memory['full']['step_peak_mib']:.0f} MiB -> "
                f"{memory['truncated']['step_peak_mib']:.0f} MiB)",
                factor >= MEMORY_REDUCTION_TARGET,
            )
        )

    for e2e in results.get("end_to_end", []):
        ratio = e2e["ratio"]
        err = e2e["test_mse"]
        error_ok = err["skrnn"] <= END_TO_END_ERROR_SLACK * err["PyTorch"]
        out.append(
            _summary(
                f"End-to-end cosine task, {e2e['dtype']}",
                f"time ratio <= {END_TO_END_TARGET}, equal or better error",
                1,
                f"{ratio:.2f}; test MSE skrnn {err['skrnn']:.2e}, "
                f"PyTorch {err['PyTorch']:.2e}",
                bool(ratio <= END_TO_END_TARGET and error_ok),
            )
        )
    return out
