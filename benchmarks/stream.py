"""Live streams beside PyTorch and onnxruntime, one thread each.

Two measurements, on an :class:`~skrnn.RNNClassifier` of one LSTM or GRU
layer of 64 units, 8 features per step and 3 classes, in float32:

- **one step into one stream**: ``stream.push(x)`` for one new step, beside a
  PyTorch ``nn.LSTM``/``nn.GRU`` call on that step with its state, plus the
  ``Linear`` head and a softmax (under ``torch.inference_mode``), and beside
  onnxruntime's session of ``to_onnx(clf, stateful=True)`` run on that step
  with the state fed back. Targets: push at most 0.25 of PyTorch's time, and
  no slower than onnxruntime. Two kernels of the same step are timed as well,
  to show why the streaming kernel sums columns in plain loops: one BLAS
  matrix-vector product per step (``np.dot`` inside ``@njit``) and the
  streaming kernel itself, both called directly.
- **one sequence of 50 steps**: ``predict_proba`` beside onnxruntime on the
  exported model (padding and lengths included, as in
  ``benchmarks/onnx_inference.py``). Target: no slower.

Everything runs on one thread: ``NUMBA_NUM_THREADS=1``, BLAS limited to one
thread by threadpoolctl, ``torch.set_num_threads(1)`` and onnxruntime's
``intra_op_num_threads=1``. Sides are timed in alternating blocks of calls;
the median of all calls is reported. Outputs are checked to agree first.

Run from the root of a source checkout::

    python benchmarks/stream.py           # writes results/stream.json
    python benchmarks/stream.py --quick   # a smoke run, prints only
"""

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "stream.json"
_BLOCKS = 4


@njit(cache=True, nogil=True)
def _blas_lstm_step(W, b, W_out, b_out, x, h, c, v, a, out):
    """One LSTM step by one BLAS product over ``[x, h]``, then the head."""
    n_in, H = x.shape[0], h.shape[0]
    for j in range(n_in):
        v[j] = x[j]
    for j in range(H):
        v[n_in + j] = h[j]
    np.dot(W, v, out=a)
    for j in range(H):
        i = 1.0 / (1.0 + np.exp(-(a[j] + b[j])))
        f = 1.0 / (1.0 + np.exp(-(a[H + j] + b[H + j])))
        g = np.tanh(a[2 * H + j] + b[2 * H + j])
        o = 1.0 / (1.0 + np.exp(-(a[3 * H + j] + b[3 * H + j])))
        c[j] = f * c[j] + i * g
        h[j] = o * np.tanh(c[j])
    z = np.dot(W_out, h) + b_out
    e = np.exp(z - z.max())
    out[:] = e / e.sum()


@njit(cache=True, nogil=True)
def _blas_gru_step(W_ih, W_hh, b_ih, b_hh, W_out, b_out, x, h, ax, ah, out):
    """One GRU step by two BLAS products, then the head."""
    H = h.shape[0]
    np.dot(W_ih, x, out=ax)
    np.dot(W_hh, h, out=ah)
    for j in range(H):
        r = 1.0 / (1.0 + np.exp(-(ax[j] + b_ih[j] + ah[j] + b_hh[j])))
        z = 1.0 / (1.0 + np.exp(-(ax[H + j] + b_ih[H + j] + ah[H + j] + b_hh[H + j])))
        n = np.tanh(
            ax[2 * H + j] + b_ih[2 * H + j] + r * (ah[2 * H + j] + b_hh[2 * H + j])
        )
        h[j] = (1.0 - z) * n + z * h[j]
    s = np.dot(W_out, h) + b_out
    e = np.exp(s - s.max())
    out[:] = e / e.sum()


def _task(n, n_steps, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, n_steps, 8)).astype(np.float32)
    y = np.digitize(X[:, :, 0].sum(axis=1), [-2.0, 2.0])  # three classes
    return X, y


def _time_pair(functions, repeats):
    """Median seconds per call of each function, timed in alternating blocks."""
    times = {name: [] for name in functions}
    names = list(functions)
    for block in range(_BLOCKS):
        for name in names[:: 1 if block % 2 else -1]:
            function = functions[name]
            function()
            for _ in range(repeats):
                start = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _torch_step(clf, cell):
    import torch

    W = clf.get_weights()
    module = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(
        8, 64, batch_first=True
    )
    head = torch.nn.Linear(64, W["output.weight"].shape[0])
    with torch.no_grad():
        for name, value in W.items():
            if name.startswith("output."):
                getattr(head, name.split(".")[1]).copy_(torch.from_numpy(value))
            else:
                getattr(module, name).copy_(torch.from_numpy(value))
    state = [None]

    def step(x):
        with torch.inference_mode():
            y, state[0] = module(torch.from_numpy(x[None]), state[0])
            return torch.softmax(head(y[:, -1]), dim=-1).numpy()[0]

    return step


def _onnx_step(session, clf, cell):
    feeds = {"initial_h_0": np.zeros((1, 1, 64), np.float32)}
    if cell == "lstm":
        feeds["initial_c_0"] = np.zeros((1, 1, 64), np.float32)
    names = [o.name for o in session.get_outputs()]

    def step(x):
        outputs = dict(zip(names, session.run(None, {"X": x[None], **feeds})))
        for name in list(feeds):
            feeds[name] = outputs["final" + name[len("initial") :]]
        return outputs["probabilities"][0]

    return step


def _blas_step(clf, cell):
    W = {k: v.astype(np.float32) for k, v in clf.get_weights().items()}
    h = np.zeros(64, np.float32)
    out = np.empty(W["output.bias"].shape[0], np.float32)
    if cell == "lstm":
        W_cat = np.ascontiguousarray(np.hstack([W["weight_ih_l0"], W["weight_hh_l0"]]))
        b = W["bias_ih_l0"] + W["bias_hh_l0"]
        c = np.zeros(64, np.float32)
        v, a = np.empty(72, np.float32), np.empty(256, np.float32)
        return lambda x: _blas_lstm_step(
            W_cat, b, W["output.weight"], W["output.bias"], x[0], h, c, v, a, out
        )
    ax, ah = np.empty(192, np.float32), np.empty(192, np.float32)
    return lambda x: _blas_gru_step(
        W["weight_ih_l0"], W["weight_hh_l0"], W["bias_ih_l0"], W["bias_hh_l0"],
        W["output.weight"], W["output.bias"], x[0], h, ax, ah, out,
    )  # fmt: skip


def _session(clf, options, **kwargs):
    import onnxruntime as ort

    from skrnn.onnx import to_onnx

    model = to_onnx(clf, **kwargs).SerializeToString()
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _one_step(clf, cell, options, rng, repeats):
    """One new step into one stream: push, PyTorch, onnxruntime, two kernels."""
    from skrnn._kernels._stream import stream_forward

    stream = clf.stream()
    sides = {
        "skrnn_push": stream.push,
        "pytorch": _torch_step(clf, cell),
        "onnxruntime": _onnx_step(
            _session(clf, options, stateful=True, lengths=False), clf, cell
        ),
    }
    steps = rng.normal(size=(8, 1, 8)).astype(np.float32)
    for x in steps:  # every side reads the same steps: same outputs
        outputs = [np.ravel(side(x)) for side in sides.values()]
        for other in outputs[1:]:
            np.testing.assert_allclose(outputs[0], other, rtol=1e-4, atol=1e-5)
    x = steps[0]
    ids = np.zeros((0, 0), np.int64)
    out = np.empty((1, 1, 3), np.float32)
    x_kernel = x.reshape(1, 1, 8)
    params, layout, state = stream._params, stream._layout, stream._state
    sides["kernel_loops"] = lambda x: stream_forward(
        x_kernel, ids, params, layout, state, out
    )
    sides["kernel_blas"] = _blas_step(clf, cell)
    timed = _time_pair(
        {name: partial(side, x) for name, side in sides.items()}, repeats
    )
    row = {"case": "push one step", "cell": cell, **timed}
    row["push_over_pytorch"] = timed["skrnn_push"] / timed["pytorch"]
    row["push_over_onnxruntime"] = timed["skrnn_push"] / timed["onnxruntime"]
    return row


def _one_sequence(clf, cell, options, rng, repeats):
    """predict_proba on one sequence of 50 steps beside onnxruntime."""
    from skrnn.onnx import pad_sequences

    plain = _session(clf, options)
    sequence = [rng.normal(size=(50, 8)).astype(np.float32)]

    def run_onnx():
        X_padded, lengths = pad_sequences(sequence)
        return plain.run(None, {"X": X_padded, "lengths": lengths})[1]

    def run_skrnn():
        return clf.predict_proba(sequence)

    np.testing.assert_allclose(run_onnx(), run_skrnn(), rtol=1e-4, atol=1e-5)
    timed = _time_pair(
        {"skrnn_predict_proba": run_skrnn, "onnxruntime": run_onnx}, repeats
    )
    row = {"case": "predict_proba, 1 x 50 steps", "cell": cell, **timed}
    row["skrnn_over_onnxruntime"] = timed["skrnn_predict_proba"] / timed["onnxruntime"]
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=2000, help="calls per block")
    args = parser.parse_args(argv)

    import numba
    import onnxruntime as ort
    import torch
    from threadpoolctl import threadpool_limits

    from skrnn import RNNClassifier

    numba.set_num_threads(1)
    torch.set_num_threads(1)
    repeats = 50 if args.quick else args.repeats
    X_train, y_train = _task(64, 30, seed=0)
    rng = np.random.RandomState(1)
    rows = []
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    with threadpool_limits(limits=1, user_api="blas"):
        for cell in ("lstm", "gru"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf = RNNClassifier(
                    hidden_layer_sizes=(64,), cell=cell, max_iter=1, random_state=0
                ).fit(X_train, y_train)
            rows.append(_one_step(clf, cell, options, rng, repeats))
            rows.append(_one_sequence(clf, cell, options, rng, max(repeats // 10, 10)))

    for row in rows:
        figures = ", ".join(
            f"{k} {v * 1e6:.1f} us" if k.startswith(("skrnn", "pytorch", "onnx",
                                                       "kernel")) and "_over_" not in k
            else f"{k} {v:.3f}"
            for k, v in row.items() if k not in ("case", "cell")
        )  # fmt: skip
        print(f"{row['case']:30s} {row['cell']}: {figures}")
    if args.quick:
        return rows
    result = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "numba": numba.__version__,
        "load_average": os.getloadavg(),
        "rows": rows,
    }
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {RESULTS}")
    return rows


if __name__ == "__main__":
    main()
