"""Render a run's results: Markdown, reStructuredText (for the docs) and a plot.

The report is built once as a list of sections (title, paragraphs, table)
and rendered to both text formats, so the Markdown file and the docs page
always show the same figures.
"""

from dataclasses import dataclass, field

from ._targets import MODE_NAMES, row_target


@dataclass
class Section:
    title: str
    paragraphs: list = field(default_factory=list)
    headers: list = field(default_factory=list)
    rows: list = field(default_factory=list)


def _ms(seconds):
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def _met(met):
    return {True: "yes", False: "NO", None: "-"}[met]


def _machine_paragraphs(meta):
    m = meta["machine"]
    v = meta["versions"]
    load = meta["load_average"]
    return [
        f"Run of {meta['date']} (`{meta['command']}`), "
        f"{'quick mode, ' if meta['quick'] else ''}peer: {meta['peer']}"
        + (f" ({meta['peer_note']})" if meta.get("peer_note") else "")
        + ".",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB; "
        f"Linux load average (1 min) {load['start']:.2f} at the start and "
        f"{load['end']:.2f} at the end of the run (other work was running "
        "unless both are near 0).",
        f"Python {v['python']}, NumPy {v['numpy']} ({v['blas']}), Numba "
        f"{v['numba']} ({_kernel_vectors(v)}), PyTorch "
        f"{v['torch'] or 'not installed'}, skrnn {v['skrnn']}.",
    ]


def _kernel_vectors(versions):
    if "kernel_vectors" in versions:
        return f"kernels with {versions['kernel_vectors']} vectors"
    return f"threading layer {versions['threading_layer']}"  # earlier runs


def _gemm_section(results):
    rows = []
    for dtype, by_threads in results["gemm_peak"].items():
        for threads, peak in by_threads.items():
            rows.append(
                [dtype, threads, f"{peak['median']:.1f}", f"{peak['min']:.1f}",
                 f"{peak['max']:.1f}", peak["probes"]]
            )  # fmt: skip
    size = results["meta"]["gemm_size"]
    return Section(
        "GEMM peak",
        [
            f"NumPy `matmul` of two {size} x {size} matrices in the dtype and at "
            "the thread count of each shape, probed just before and just after "
            "the shape is timed; the higher of the two probes is the peak that "
            "the shape's efficiency refers to, so a busy machine lowers "
            "throughput and peak alike. GFLOP/s over all probes of the run:"
        ],
        ["dtype", "threads", "median", "lowest", "highest", "probes"],
        rows,
    )


def _table_section(results, mode):
    peer = results["meta"]["peer"]
    peer_is_torch = peer == "PyTorch"
    rows = []
    for r in results["rows"]:
        if r["mode"] != mode:
            continue
        target, met = row_target(r, peer_is_torch)
        rows.append(
            [
                r["cell"],
                r["dtype"],
                r["threads"],
                r["batch"],
                r["hidden"],
                _ms(r["skrnn"]["median"]),
                _ms(r["peer"]["median"]),
                f"{r['ratio']:.2f}",
                f"{r['skrnn_gflops']:.1f}",
                f"{r['skrnn_peak_pct']:.0f}",
                f"{r['peer_gflops']:.1f}",
                f"{r['peer_peak_pct']:.0f}",
                target,
                _met(met),
            ]
        )
    what = {
        "train": "forward, backpropagation through time, linear head on the "
        "final state, mean squared error; no optimiser step",
        "infer": "forward pass to the predictions",
    }[mode]
    shape = results["meta"]["grid"]
    return Section(
        f"{MODE_NAMES[mode]} (T = {shape['steps']}, I = {shape['inputs']})",
        [
            f"{MODE_NAMES[mode]}: {what}. Median milliseconds of interleaved "
            f"skrnn/{peer} rounds; GFLOP/s count the GEMMs of the recurrent "
            "layer; % peak is against the GEMM peak probed around the shape "
            "(same dtype and thread count)."
        ],
        [
            "cell",
            "dtype",
            "threads",
            "B",
            "H",
            "skrnn ms",
            f"{peer} ms",
            "ratio",
            "skrnn GFLOP/s",
            "skrnn % peak",
            f"{peer} GFLOP/s",
            f"{peer} % peak",
            "target",
            "met",
        ],
        rows,
    )


def _speedup_section(results):
    peer = results["meta"]["peer"]
    rows = [
        [s["cell"], s["dtype"], MODE_NAMES[s["mode"]], _ms(s["skrnn_1"]),
         _ms(s["skrnn_2"]), f"{s['skrnn_speedup']:.2f}", _ms(s["peer_1"]),
         _ms(s["peer_2"]), f"{s['peer_speedup']:.2f}"]
        for s in results["speedup"]
    ]  # fmt: skip
    first = results["speedup"][0]
    return Section(
        f"2 threads over 1 (B = {first['batch']}, H = {first['hidden']})",
        [
            "Both thread counts of both libraries timed alternately in one "
            "loop; speedup is the time with 1 thread over the time with 2. "
            "Milliseconds."
        ],
        ["cell", "dtype", "mode", "skrnn 1 thread", "skrnn 2 threads",
         "skrnn speedup", f"{peer} 1 thread", f"{peer} 2 threads",
         f"{peer} speedup"],
        rows,
    )  # fmt: skip


def _startup_row(label, r):
    return [
        label,
        f"{r['import']:.2f}",
        f"{r['fit']:.2f}",
        f"{r['predict']:.2f}",
        f"{r['import_and_fit']:.2f}",
        f"{r['process_wall']:.2f}",
    ]


def _startup_section(results):
    s = results["startup"]
    rows = []
    if "estimators" in s:
        for name, e in s["estimators"].items():
            if "cold_serial" in e:
                rows.append(_startup_row(f"{name}, cold, no helpers", e["cold_serial"]))
            label = "cold, compile helpers" if "cold_serial" in e else "cold"
            rows.append(_startup_row(f"{name}, {label} (empty cache)", e["cold"]))
            rows.append(_startup_row(f"{name}, warm (cached kernels)", e["warm"]))
    else:
        if "cold" in s:
            rows.append(_startup_row("cold (empty cache)", s["cold"]))
        rows.append(_startup_row("warm (cached kernels)", s["warm"]))
    paragraphs = [
        f"A fresh process imports skrnn and fits a default estimator "
        f"(`max_iter={s['max_iter']}`; `RNNRegressor` on {s['n_sequences']} "
        f"cosine windows of {s['n_steps']} steps, the classifier and the "
        "tagger on labels of the same windows, the translator on the "
        "reversal of short integer sequences), then predicts; each estimator "
        "on an empty kernel cache of its own. Seconds; 'import + fit' "
        "counts from the start of the script, 'process' adds the "
        "interpreter's start-up."
    ]
    if "compile_seconds" in s:
        # The serial run compiles everything in the process that reports it.
        serial = s.get("cold_serial", s["cold"])
        kernels = sorted(serial["compile_self_seconds"].items(), key=lambda kv: -kv[1])
        named = [(n, sec) for n, sec in kernels if sec >= 0.5]
        rest = sum(sec for _, sec in kernels) - sum(sec for _, sec in named)
        listing = ", ".join(
            f"`{name.removeprefix('skrnn._kernels.')}` {sec:.1f} s"
            for name, sec in named
        )
        listing += f", {len(kernels) - len(named)} others {rest:.1f} s"
        paragraphs.append(
            f"`RNNRegressor`'s cold compile: {s['compile_seconds']:.1f} s "
            "(cold fit and predict "
            f"{'without compile helpers ' if 'cold_serial' in s else ''}"
            f"minus warm ones; Numba's compile events add up to "
            f"{serial['compile_events']:.1f} s). Compile time by function, "
            f"nested compilations excluded: {listing}."
        )
    return Section(
        "Start-up",
        paragraphs,
        ["run", "import", "fit", "predict", "import + fit", "process"],
        rows,
    )


def _memory_section(results):
    m = results["memory"]
    rows = []
    for key, label in (
        ("full", "full BPTT"),
        ("truncated", f"bptt_steps={m['bptt_steps']}"),
    ):
        r = m[key]
        rows.append(
            [
                label,
                f"{r['step_peak_mib']:.0f}",
                f"{r['store_mib']:.0f}",
                f"{r['step_seconds']:.2f}",
            ]
        )
    return Section(
        "Peak memory of a training step",
        [
            f"{m['cell']} {m['dtype']}, B = {m['batch']}, T = {m['steps']}, "
            f"H = {m['hidden']}, {m['threads']} threads, one step in a fresh "
            "process: peak resident memory during the step above the resident "
            "memory before it, and the part of it that the forward pass stores "
            f"for the backward pass. Reduction: {m['reduction']:.1f}x."
        ],
        ["BPTT", "step peak MiB", "stored state MiB", "step seconds"],
        rows,
    )


def _end_to_end_section(results):
    rows = []
    for e in results["end_to_end"]:
        rows.append(
            [
                e["dtype"],
                e["threads"],
                f"{e['seconds']['skrnn']:.2f}",
                f"{e['seconds']['PyTorch']:.2f}",
                f"{e['ratio']:.2f}",
                f"{e['test_mse']['skrnn']:.2e}",
                f"{e['test_mse']['PyTorch']:.2e}",
            ]
        )
    p = results["end_to_end_params"]
    return Section(
        "End to end: cosine next-value task",
        [
            f"`RNNRegressor` (LSTM, H = {p['hidden']}) against the same model, "
            f"weights, optimiser (Adam, lr {p['learning_rate']:g}), batch size "
            f"{p['batch_size']} and {p['epochs']} epochs as a plain PyTorch "
            f"loop; {p['n_train']} training windows of {p['n_steps']} steps, "
            f"{p['n_test']} held out. Median wall time of "
            f"{results['end_to_end'][0]['rounds']} alternating trainings; "
            "held-out mean squared error (predicting the mean gives "
            f"{results['end_to_end'][0]['baseline_mse']:.2f})."
        ],
        [
            "dtype",
            "threads",
            "skrnn s",
            "PyTorch s",
            "ratio",
            "skrnn MSE",
            "PyTorch MSE",
        ],
        rows,
    )


def _profile_section(results):
    rows = []
    for p in results["profile"]:
        parts = p["parts"]
        step = parts["step"]
        gemm = parts["forward_gemm"] + parts["backward_gemm"]
        row = [
            p["dtype"],
            p["hidden"],
            _ms(step),
            f"{_ms(gemm)} ({100 * gemm / step:.0f}%)",
            f"{_ms(parts['elementwise'])} ({100 * parts['elementwise'] / step:.0f}%)",
            f"{_ms(parts['outside_kernels'])} "
            f"({100 * parts['outside_kernels'] / step:.0f}%)",
        ]
        if "torch_step" in parts:
            fwd = parts["torch_forward"]
            row += [_ms(parts["torch_step"]), _ms(fwd), _ms(parts["torch_step"] - fwd)]
        else:
            row += ["-", "-", "-"]
        rows.append(row)
    first = results["profile"][0]
    return Section(
        "Where the time goes",
        [
            f"One {first['cell']} training step, 1 thread, B = {first['batch']}, "
            f"T = {first['steps']}. skrnn's kernels are split into their "
            "GEMMs (a skeleton kernel making the same BLAS calls with the same "
            "shapes) and the rest of the kernel time (gate loops, "
            "transcendentals, state copies); 'outside' is Python and NumPy "
            "work in `loss_and_grad` around the kernels. Milliseconds."
        ],
        [
            "dtype",
            "H",
            "skrnn step",
            "GEMM",
            "elementwise",
            "outside kernels",
            "PyTorch step",
            "PyTorch forward",
            "PyTorch backward",
        ],
        rows,
    )


def _targets_section(results):
    rows = [
        [t["target"], t["requirement"], t["measured"], _met(t["met"])]
        for t in results["targets"]
    ]
    return Section(
        "Targets",
        ["Every target of the performance issue, checked against this run."],
        ["target", "required", "measured", "met"],
        rows,
    )


def sections(results):
    """The report's sections, in order."""
    out = [_targets_section(results), _gemm_section(results)]
    out += [_table_section(results, mode) for mode in ("train", "infer")]
    if results.get("speedup"):
        out.append(_speedup_section(results))
    if results.get("startup"):
        out.append(_startup_section(results))
    if results.get("memory"):
        out.append(_memory_section(results))
    if results.get("end_to_end"):
        out.append(_end_to_end_section(results))
    if results.get("profile"):
        out.append(_profile_section(results))
    return out


def to_markdown(results):
    """The whole report as Markdown."""
    lines = ["# skrnn benchmark results", ""]
    for p in _machine_paragraphs(results["meta"]):
        lines += [p, ""]
    for s in sections(results):
        lines += [f"## {s.title}", ""]
        for p in s.paragraphs:
            lines += [p, ""]
        if s.headers:
            lines.append("| " + " | ".join(s.headers) + " |")
            lines.append("|" + "|".join("---" for _ in s.headers) + "|")
            for row in s.rows:
                lines.append("| " + " | ".join(str(c) for c in row) + " |")
            lines.append("")
    return "\n".join(lines)


def _rst_text(text):
    # Markdown code spans become reStructuredText literals.
    return text.replace("`", "``").replace("````", "``")


def to_rst(results):
    """The report as reStructuredText, to be included in the docs page."""
    lines = []
    for p in _machine_paragraphs(results["meta"]):
        lines += [_rst_text(p), ""]
    for s in sections(results):
        lines += [s.title, "-" * len(s.title), ""]
        for p in s.paragraphs:
            lines += [_rst_text(p), ""]
        if s.headers:
            lines += [".. list-table::", "   :header-rows: 1", ""]
            for row in [s.headers] + s.rows:
                cells = [_rst_text(str(c)) or " " for c in row]
                lines.append(f"   * - {cells[0]}")
                lines += [f"     - {c}" for c in cells[1:]]
            lines.append("")
    return "\n".join(lines)


def plot_ratios(results, path):
    """Plot skrnn/peer time ratios per shape, one panel per mode and dtype."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._targets import RATIO_HIDDEN, RATIO_TARGETS

    peer = results["meta"]["peer"]
    rows = results["rows"]
    dtypes = sorted({r["dtype"] for r in rows})
    shapes = sorted(
        {(r["batch"], r["hidden"]) for r in rows}, key=lambda s: (s[1], s[0])
    )
    labels = [f"B{b}\nH{h}" for b, h in shapes]
    fig, axes = plt.subplots(
        2, len(dtypes), figsize=(5.5 * len(dtypes), 7), squeeze=False, sharey=True
    )
    colors = {"rnn": "tab:blue", "lstm": "tab:orange", "gru": "tab:green"}
    markers = {1: "o", 2: "s"}
    for i, mode in enumerate(("train", "infer")):
        for j, dtype in enumerate(dtypes):
            ax = axes[i, j]
            for cell in colors:
                for threads in markers:
                    pts = [
                        (shapes.index((r["batch"], r["hidden"])), r["ratio"])
                        for r in rows
                        if r["mode"] == mode
                        and r["dtype"] == dtype
                        and r["cell"] == cell
                        and r["threads"] == threads
                    ]
                    if not pts:
                        continue
                    xs, ys = zip(*sorted(pts))
                    label = f"{cell}, {threads} thread" + "s" * (threads > 1)
                    ax.plot(
                        xs,
                        ys,
                        marker=markers[threads],
                        color=colors[cell],
                        linestyle="-" if threads == 1 else "--",
                        label=label,
                    )
            limit = RATIO_TARGETS[(mode, dtype)]
            small = [k for k, (_, h) in enumerate(shapes) if h in RATIO_HIDDEN]
            if small and peer == "PyTorch":
                ax.hlines(
                    limit,
                    min(small) - 0.3,
                    max(small) + 0.3,
                    colors="k",
                    linestyles=":",
                    label="target (H in {16, 64})",
                )
            ax.axhline(1.0, color="0.6", linewidth=0.8)
            ax.set_yscale("log")
            ax.set_xticks(range(len(shapes)), labels)
            title = f"{MODE_NAMES[mode]}, {dtype}"
            if peer == "PyTorch":
                title += f" (target {limit})"
            ax.set_title(title)
            if j == 0:
                ax.set_ylabel(f"time skrnn / {peer} (lower is better)")
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, frameon=False)
    fig.suptitle(
        f"skrnn vs {peer}, T = {results['meta']['grid']['steps']}, "
        f"{results['meta']['date'][:10]}"
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
