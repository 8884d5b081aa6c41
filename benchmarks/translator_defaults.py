"""How SequenceTranslator's defaults learn: held-out exact match and fit time.

The table behind the defaults of :class:`skrnn.SequenceTranslator`. Each
candidate set of defaults is fitted, with nothing else set but
``embedding_dim=16`` and ``random_state``, in the pipeline the documentation
shows first::

    make_pipeline(TextTokenizer(), SequenceTranslator(embedding_dim=16, **candidate))

on three character-level tasks, each split into a training and a held-out
half of distinct pairs:

- ``reversal``: :func:`skrnn.datasets.make_reversal` ``(2000,
  random_state=0)``, the first 1,000 pairs to train on and the other 1,000
  held out (strings of 3 to 12 letters of 10);
- ``addition``: :func:`skrnn.datasets.make_addition` ``(2000,
  random_state=0)``, split 1,000/1,000 (two-digit sums, all distinct);
- ``dates``: a date between 1950 and 2049 written in one of eight formats
  (``"7/3/1999"``, ``"03.07.1999"``, ``"July 3, 1999"``, ``"3 July 1999"``,
  ``"Jul 3 1999"``, ``"1999/07/03"``, ``"03-Jul-1999"``, ``"Saturday, July 3,
  1999"``) -> ISO ``"1999-07-03"``, 1,000/1,000 distinct dates.

Each fit is timed (wall clock, the cores shared with whatever else runs) and
scored by exact match (:meth:`~skrnn.SequenceTranslator.score`) on both
halves. Run from the root of a source checkout::

    python benchmarks/translator_defaults.py              # every candidate
    python benchmarks/translator_defaults.py --candidates current new
    python benchmarks/translator_defaults.py --render-only
    python benchmarks/translator_defaults.py --beam      # beam search's cost

Results go to ``benchmarks/results/translator_defaults.json`` (appended
candidate by candidate, so a long run can be resumed with ``--resume``) and
the table to ``benchmarks/results/translator_defaults.rst``, which the user
guide includes. ``--beam`` fits the defaults once per task and times
``predict`` on the held-out half with ``beam_width`` 1, 2, 4 and 8, into
``translator_beam.json`` and ``translator_beam.rst``.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skrnn import SequenceTranslator  # noqa: E402
from skrnn.datasets import make_addition, make_reversal  # noqa: E402
from skrnn.preprocessing import TextTokenizer  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

# Candidate defaults: every parameter the translator's defaults could change.
# "current" is what the defaults were before this table; "new" is what they
# are now (written out, so that the table stays true if they change again).
CANDIDATES = {
    "current": dict(attention=None, learning_rate_init=1e-3),
    "general": dict(attention="general", learning_rate_init=1e-3),
    "general, lr 3e-3": dict(attention="general", learning_rate_init=3e-3),
    "additive, lr 3e-3": dict(attention="additive", learning_rate_init=3e-3),
    "general, lr 1e-2": dict(attention="general", learning_rate_init=1e-2),
    "general, lr 3e-3, (64,)": dict(
        attention="general", learning_rate_init=3e-3, hidden_layer_sizes=(64,)
    ),
    "none, lr 3e-3": dict(attention=None, learning_rate_init=3e-3),
}
# Row names in the table: which candidate were the defaults before, which now.
DISPLAY = {
    "current": "none, lr 1e-3 (before)",
    "general, lr 3e-3": "general, lr 3e-3 (now)",
}
# Parameters written out for every candidate: the defaults before the change,
# which a candidate overrides.
BASE = dict(
    hidden_layer_sizes=(100,), learning_rate_init=1e-3, attention=None, max_iter=200
)

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DATE_FORMATS = [
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{d.day:02d}-{MONTHS[d.month - 1][:3]}-{d.year}",
    lambda d: f"{DAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
]


def make_dates(n_samples, random_state=0):
    """``(written date, ISO date)`` pairs of distinct dates in eight formats."""
    rng = np.random.RandomState(random_state)
    start = datetime.date(1950, 1, 1)
    n_days = (datetime.date(2049, 12, 31) - start).days + 1
    offsets = rng.choice(n_days, size=n_samples, replace=False)
    formats = rng.randint(len(DATE_FORMATS), size=n_samples)
    pairs = []
    for offset, k in zip(offsets, formats):
        date = start + datetime.timedelta(days=int(offset))
        pairs.append((DATE_FORMATS[k](date), date.isoformat()))
    return pairs


def tasks():
    """``name -> (X_train, Y_train, X_test, Y_test)``."""
    out = {}
    for name, pairs in [
        ("reversal", make_reversal(2000, random_state=0)),
        ("addition", make_addition(2000, random_state=0)),
        ("dates", make_dates(2000, random_state=0)),
    ]:
        X = [source for source, _ in pairs]
        Y = [target for _, target in pairs]
        out[name] = (X[:1000], Y[:1000], X[1000:], Y[1000:])
    return out


def run_one(params, data, random_state):
    X_train, Y_train, X_test, Y_test = data
    model = make_pipeline(
        TextTokenizer(),
        SequenceTranslator(embedding_dim=16, random_state=random_state, **params),
    )
    start = time.perf_counter()
    model.fit(X_train, Y_train)
    fit_time = time.perf_counter() - start
    translator = model[-1]
    return {
        "fit_time": fit_time,
        "n_iter": int(translator.n_iter_),
        "train": float(model.score(X_train, Y_train)),
        "test": float(model.score(X_test, Y_test)),
        "dtype": str(translator.get_weights()["output.weight"].dtype),
    }


def _warm_up(candidates):
    """Compile every kernel the candidates use, so fit times leave compiling out."""
    X, Y = tasks()["reversal"][:2]
    for name in candidates:
        params = {**BASE, **CANDIDATES[name], "max_iter": 1}
        params["hidden_layer_sizes"] = (4,)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            run_one(params, (X[:20], Y[:20], X[:20], Y[:20]), 0)


def beam_costs(data, random_state, widths=(1, 2, 4, 8)):
    """Held-out exact match and decoding time of the defaults by beam width."""
    out = {}
    for task, (X_train, Y_train, X_test, Y_test) in data.items():
        model = make_pipeline(
            TextTokenizer(),
            SequenceTranslator(embedding_dim=16, random_state=random_state),
        ).fit(X_train, Y_train)
        rows = {}
        for width in widths:
            model[-1].set_params(beam_width=width)
            start = time.perf_counter()
            predicted = model.predict(X_test)
            elapsed = time.perf_counter() - start
            right = np.mean([p == t for p, t in zip(predicted, Y_test)])
            rows[width] = {"predict_time": elapsed, "test": float(right)}
            print(f"beam {task:9s} {width} {json.dumps(rows[width])}", flush=True)
        out[task] = rows
    return out


def render_beam(beam):
    """The reStructuredText table of :func:`beam_costs`' results."""
    tasks_ = list(beam)
    widths = list(beam[tasks_[0]])
    header = ["beam_width", *tasks_]
    rows = []
    for width in widths:
        cells = []
        for task in tasks_:
            run = beam[task][width]
            ratio = run["predict_time"] / beam[task][widths[0]]["predict_time"]
            cells.append(
                f"{run['test']:.3f}, {run['predict_time']:.2f} s ({ratio:.1f}x)"
            )
        rows.append([str(width), *cells])
    return _grid(header, rows)


def _grid(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(char="-"):
        return "+" + "+".join(char * (w + 2) for w in widths) + "+"

    def row(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    out = [line(), row(header), line("=")]
    for r in rows:
        out += [row(r), line()]
    return "\n".join(out) + "\n"


def render(results):
    """The reStructuredText table of ``results``."""
    names = [name for name in CANDIDATES if name in results["runs"]]
    task_names = ["reversal", "addition", "dates"]
    header = ["candidate", *(f"{t}" for t in task_names), "total fit time"]
    rows = []
    for name in names:
        runs = results["runs"][name]
        cells = []
        total = 0.0
        for task in task_names:
            run = runs.get(task)
            if run is None:
                cells.append("")
                continue
            total += run["fit_time"]
            cells.append(
                f"{run['test']:.3f} ({run['train']:.2f}), "
                f"{run['fit_time']:.0f} s / {run['n_iter']} ep"
            )
        rows.append([DISPLAY.get(name, name), *cells, f"{total:.0f} s"])
    machine = results["machine"]
    caption = (
        f"random_state={results['random_state']}: held-out exact match "
        f"(training exact match), fit time and epochs run; {machine['cpu']}, "
        f"{machine['threads']} thread(s), load average {machine['load']} at the "
        "start of the run."
    )
    return caption + "\n\n" + _grid(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--tasks", nargs="*", default=["reversal", "addition", "dates"])
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--beam",
        action="store_true",
        help="measure beam search against greedy decoding with the defaults",
    )
    parser.add_argument("--output", default=str(RESULTS / "translator_defaults.json"))
    args = parser.parse_args(argv)
    output = Path(args.output)
    if args.beam:
        beam_output = output.with_name("translator_beam.json")
        if not args.render_only:
            beam = beam_costs(tasks(), args.random_state)
            beam_output.write_text(json.dumps(beam, indent=1))
        beam = json.loads(beam_output.read_text())
        table = render_beam(beam)
        beam_output.with_suffix(".rst").write_text(table)
        print(table)
        return
    if args.render_only or args.resume:
        results = json.loads(output.read_text())
    else:
        results = {"runs": {}}
    if not args.render_only:
        results["random_state"] = args.random_state
        results["machine"] = {
            "cpu": platform.processor() or platform.machine(),
            "threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
            "load": f"{os.getloadavg()[0]:.1f}",
        }
        data = tasks()
        _warm_up(args.candidates)
        for name in args.candidates:
            params = {**BASE, **CANDIDATES[name]}
            for task in args.tasks:
                if task in results["runs"].get(name, {}):
                    continue
                run = run_one(params, data[task], args.random_state)
                results["runs"].setdefault(name, {})[task] = run
                print(f"{name:28s} {task:9s} {json.dumps(run)}", flush=True)
                output.write_text(json.dumps(results, indent=1))
    table = render(results)
    output.with_suffix(".rst").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
