"""Inference of an exported model in onnxruntime beside skrnn's ``predict``.

A typical model: an :class:`~skrnn.RNNClassifier` (one LSTM or GRU layer of
64 units, float32, 8 features per step, 3 classes) on ragged batches of 20 to
80 steps. For each batch size, both sides predict the same sequences:
skrnn's ``predict_proba`` on the list of arrays, and onnxruntime's session on
the padded batch and lengths (padding is timed on its side, since a caller
with ragged sequences pays for it). Both run with one thread and with two
(``numba.set_num_threads`` and the session's ``intra_op_num_threads``), in
alternating blocks of repeated calls, the median of all calls reported; the
outputs are checked to agree first.

Run from the root of a source checkout, with the ``onnx`` extra installed::

    python benchmarks/onnx_inference.py            # writes results/onnx_inference.json
    python benchmarks/onnx_inference.py --quick    # a smoke run, prints only
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# Both runtimes keep idle threads spinning for a while after a call, so the
# sides are timed in blocks of calls rather than call by call.
_BLOCKS = 4
RESULTS = Path(__file__).resolve().parent / "results" / "onnx_inference.json"


def _task(n, seed):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(k, 8)).astype(np.float32) for k in rng.randint(20, 81, n)]
    y = np.array([int(np.sign(x[:, 0].sum()) + 1) for x in X])
    return X, y


def _seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=10, help="calls per block")
    args = parser.parse_args(argv)

    import numba
    import onnxruntime as ort

    from skrnn import RNNClassifier
    from skrnn.onnx import pad_sequences, to_onnx

    hidden = 8 if args.quick else 64
    batch_sizes = [1, 16] if args.quick else [1, 32, 256]
    repeats = 3 if args.quick else args.repeats
    X_train, y_train = _task(64 if args.quick else 512, seed=0)
    rows = []
    for cell in ["lstm", "gru"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = RNNClassifier(
                hidden_layer_sizes=(hidden,), cell=cell, max_iter=2,
                random_state=0,
            ).fit(X_train, y_train)  # fmt: skip
        model_bytes = to_onnx(clf).SerializeToString()
        sessions = {}
        for threads in (1, 2):
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            sessions[threads] = ort.InferenceSession(
                model_bytes, options, providers=["CPUExecutionProvider"]
            )
        for batch in batch_sizes:
            X, _ = _task(batch, seed=batch)
            for threads in (1, 2):
                numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
                session = sessions[threads]

                def run_onnx(X=X, session=session):
                    X_padded, lengths = pad_sequences(X)
                    return session.run(None, {"X": X_padded, "lengths": lengths})[1]

                def run_skrnn(X=X, clf=clf):
                    return clf.predict_proba(X)

                np.testing.assert_allclose(
                    run_onnx(), run_skrnn(), rtol=1e-4, atol=1e-5
                )
                skrnn_times, onnx_times = [], []
                pair = [(skrnn_times, run_skrnn), (onnx_times, run_onnx)]
                for block in range(_BLOCKS):  # alternate blocks, so load hits both
                    for times, function in pair[:: 1 if block % 2 else -1]:
                        function()  # the other side's idle threads stop spinning
                        times.extend(_seconds(function) for _ in range(repeats))
                row = {
                    "cell": cell,
                    "hidden": hidden,
                    "batch": batch,
                    "threads": threads,
                    "skrnn_s": statistics.median(skrnn_times),
                    "onnxruntime_s": statistics.median(onnx_times),
                }
                row["onnxruntime_over_skrnn"] = row["onnxruntime_s"] / row["skrnn_s"]
                rows.append(row)
                print(
                    f"{cell} H={hidden} B={batch:4d} {threads}T: skrnn "
                    f"{row['skrnn_s'] * 1e3:8.2f} ms, onnxruntime "
                    f"{row['onnxruntime_s'] * 1e3:8.2f} ms, ratio "
                    f"{row['onnxruntime_over_skrnn']:.2f}"
                )
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    if args.quick:
        return rows
    result = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
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
