"""The sequence translator beside PyTorch: training step, greedy decoding, addition.

The skrnn side of ``benchmarks/seq2seq_torch.py``, with the same shapes, run
in the same process right after it so that both sides see the same machine
state:

- ``steps``: a training step (loss, gradient and Adam update on one batch)
  and greedy decoding of a batch (all ``T_y`` steps), LSTM encoder and
  decoder of ``H = 64`` with Luong "general" attention, 20 input tokens,
  embeddings of 16, ``T_x = T_y = 10``, ``B`` in {32, 128}, 1 and 2 threads,
  float32 (PyTorch's default dtype), median of repeated calls, each
  configuration timed in ``--rounds`` rounds that alternate skrnn and
  PyTorch, the median round reported; and the matrix products of a
  training step alone (:func:`blas_floor`), the bound that BLAS sets;
- ``addition``: :class:`skrnn.SequenceTranslator` on the two-digit addition
  task of :func:`skrnn.datasets.make_addition` with the settings of the
  PyTorch script (5,000 training sums, 1,000 held out, LSTM 128, embeddings
  of 32, "general" attention, batches of 64, Adam at 1e-3, 60 epochs, one
  thread): held-out exact match and training time.

Run from the root of a source checkout::

    python benchmarks/seq2seq.py                  # both, PyTorch too if installed
    python benchmarks/seq2seq.py --task steps --no-torch
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skrnn import SequenceTranslator  # noqa: E402
from skrnn._batching import make_batch  # noqa: E402
from skrnn._kernels._arrays import _product_into  # noqa: E402
from skrnn._network import Workspace  # noqa: E402
from skrnn._optimizers import AdamOptimizer  # noqa: E402
from skrnn._runtime import session  # noqa: E402
from skrnn._runtime._dispatch import _block_steps  # noqa: E402
from skrnn._translation_network import (  # noqa: E402
    TranslationNetwork,
    make_decoder_batch,
)
from skrnn.datasets import make_addition  # noqa: E402

INPUT_CHARS = "0123456789+"


def _blas_description():
    """The CPU as LLVM names it and the BLAS libraries loaded, with their kernels."""
    import llvmlite.binding as llvm
    import scipy.linalg  # noqa: F401  (loads the BLAS that Numba calls)
    from threadpoolctl import threadpool_info

    blas = [
        {
            "library": Path(info["filepath"]).name,
            "version": info.get("version"),
            "kernels": info.get("architecture"),
        }
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {"cpu": llvm.get_host_cpu_name(), "blas": blas}


def _median_time(fn, warmup=3, repeats=15):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _time_batch(B, threads, hidden=64, vocab=20, steps=10, dtype=np.float32):
    """Seconds per training step and per greedy decoding, skrnn side."""
    numba.set_num_threads(threads)
    rng = np.random.default_rng(0)
    n_out = vocab - 1
    network = TranslationNetwork(
        "lstm", 1, (hidden,), n_out + 1, attention="general", n_tokens=vocab,
        embedding_dim=16, decoder_embedding_dim=16,
    )  # fmt: skip
    theta = network.init_params(0, dtype)
    X = [rng.integers(0, vocab, size=(steps, 1)).astype(dtype) for _ in range(B)]
    Y = [rng.integers(0, n_out, size=steps - 1) for _ in range(B)]
    batch = make_batch(X, threads, dtype)
    decoder, w = make_decoder_batch(
        batch, Y, np.ones(B), network.start_id, network.end_id
    )
    w = w / w.sum()
    optimizer = AdamOptimizer(theta.size, dtype, 1e-3, 0.9, 0.999, 1e-8)
    grad = np.empty_like(theta)
    workspace = Workspace()

    def train_step():
        network.loss_and_grad(theta, batch, decoder, w, grad=grad, workspace=workspace)
        optimizer.step(theta, grad)

    def decode():
        # As SequenceTranslator.predict decodes: parameter views made once.
        views = network.views(theta)
        state = network.initial_decoder_state(theta, batch)
        tokens = np.full(B, network.start_id)
        for _ in range(steps):
            log_probs, state = network.decoder_step(theta, tokens, state, views=views)
            tokens = log_probs.argmax(axis=1)

    with session():
        return _median_time(train_step), _median_time(decode)


def blas_floor(B, hidden=64, vocab=20, steps=10, embedding=16, dtype=np.float32):
    """Seconds of the matrix products alone of one training step, one thread.

    The GEMMs that a training step of :func:`_time_batch` makes (LSTM encoder
    and decoder forward and backward, blocks of steps as the runtime makes
    them; Luong "general" attention; output layer), each timed on its own
    at its shape and summed, with BLAS on one thread. No implementation of
    the same model on this BLAS trains faster than this.
    """
    numba.set_num_threads(1)
    rng = np.random.default_rng(0)
    G, H, E, V, T = 4 * hidden, hidden, embedding, vocab, steps
    n_block = _block_steps(B, T, B * G * np.dtype(dtype).itemsize)
    n_blocks, width = -(-T // n_block), n_block * B
    R = B * T  # decoder steps of the batch, all real here
    # (times per step, m, k, n, transposed first factor)
    products = [
        (2 * T, G, H, B, False),  # recurrent product, forward
        (2 * n_blocks, G, E, width, False),  # input projection of a block
        (2 * T, H, G, B, True),  # recurrent gradient
        (2 * n_blocks, G, width, H, False),  # dW_hh of a block
        (2 * n_blocks, G, width, E, False),  # dW_ih of a block
        (2 * n_blocks, width, G, E, True),  # input gradient of a block
        (1, R, H, H, False),  # attention: projected queries
        (1, R, 2 * H, H, False),  # attention: combine
        (1, H, R, 2 * H, True),  # attention: combine weight gradient
        (1, R, H, 2 * H, False),  # attention: combine input gradient
        (1, R, H, H, False),  # attention: query gradient
        (1, H, R, H, True),  # attention: weight gradient
        (1, R, H, V, False),  # output layer
        (1, V, R, H, True),  # output weight gradient
        (1, R, V, H, False),  # output input gradient
    ]
    total = 0.0
    with session():
        for count, m, k, n, transposed in products:
            A = rng.normal(size=(k, m) if transposed else (m, k)).astype(dtype)
            A = A.T if transposed else A
            W = rng.normal(size=(k, n)).astype(dtype)
            out = np.empty((m, n), dtype)
            seconds = _median_time(
                lambda A=A, W=W, out=out: _product_into(A, W, out), 5, 51
            )
            total += count * seconds
        # The stacked per-sequence products of the attention: scores,
        # context and their gradients.
        Q = rng.normal(size=(B, T, H)).astype(dtype)
        alpha = rng.random((B, T, T)).astype(dtype)
        total += 3 * _median_time(lambda: Q @ Q.transpose(0, 2, 1), 5, 51)
        total += 4 * _median_time(lambda: alpha @ Q, 5, 51)
    return total


def time_steps(batch_sizes=(32, 128), threads=(1, 2), torch_side=None, rounds=3):
    """Training step and greedy decoding, skrnn and (if given) PyTorch.

    Every configuration is timed ``rounds`` times, skrnn then PyTorch right
    after it, and each side reports the median of its rounds: the machine
    drifts over a run, and alternating puts both sides under the same drift.
    Returns the skrnn rows and the PyTorch rows (None without PyTorch).
    """
    ours = {}
    theirs = {}
    for _ in range(rounds):
        for n_threads in threads:
            for B in batch_sizes:
                ours.setdefault((n_threads, B), []).append(_time_batch(B, n_threads))
                if torch_side is not None:
                    (row,) = torch_side.time_steps((B,), (n_threads,))
                    theirs.setdefault((n_threads, B), []).append(
                        (row["train"], row["greedy"])
                    )

    def rows(times):
        out = []
        for (n_threads, B), values in times.items():
            train, greedy = np.median(np.array(values), axis=0)
            out.append(
                {
                    "batch_size": B,
                    "threads": n_threads,
                    "train": float(train),
                    "greedy": float(greedy),
                }
            )
        return out

    return rows(ours), (rows(theirs) if torch_side is not None else None)


def _ids(source):
    return np.array([INPUT_CHARS.index(c) for c in source], dtype=np.float32)


def train_addition(n_train=5000, n_test=1000, epochs=60, hidden=128, seed=0):
    """The addition task with :class:`skrnn.SequenceTranslator`, one thread."""
    numba.set_num_threads(1)
    pairs = make_addition(n_train + n_test, random_state=seed)
    train, test = pairs[:n_train], pairs[n_train:]
    X = [_ids(s) for s, _ in train]
    Y = [t for _, t in train]
    model = SequenceTranslator(
        hidden_layer_sizes=(hidden,), embedding_dim=32, decoder_embedding_dim=32,
        attention="general", batch_size=64, learning_rate_init=1e-3,
        max_iter=epochs, n_iter_no_change=epochs, tol=0.0, alpha=0.0,
        clip_norm=None, vocabulary_size=len(INPUT_CHARS), random_state=seed,
    )  # fmt: skip
    start = time.perf_counter()
    model.fit(X, Y)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = model.score([_ids(s) for s, _ in test], [t for _, t in test])
    predict_seconds = time.perf_counter() - start
    return {
        "accuracy": accuracy,
        "train_accuracy": model.score(X, Y),
        "seconds": seconds,
        "predict_seconds": predict_seconds,
        "final_loss": model.loss_,
        "n_train": n_train,
        "n_test": n_test,
        "epochs": epochs,
        "hidden": hidden,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["steps", "addition", "all"], default="all")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of the step timings"
    )
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    torch_side = None
    if not args.no_torch:
        try:
            import seq2seq_torch as torch_side
        except ImportError:
            torch_side = None
    results = {"machine": platform.processor() or platform.machine()}
    results.update(_blas_description())
    if args.task in ("steps", "all"):
        ours, theirs = time_steps(
            tuple(args.batch_sizes), tuple(args.threads), torch_side, args.rounds
        )
        results["steps"] = {"skrnn": ours, "rounds": args.rounds}
        if theirs is not None:
            results["steps"]["torch"] = theirs
        floors = {B: blas_floor(B) for B in args.batch_sizes}
        results["steps"]["blas_floor_one_thread"] = {
            str(B): v for B, v in floors.items()
        }
        print(f"{'B':>5} {'threads':>7} {'train ms':>9} {'greedy ms':>9}", end="")
        print("  torch train / greedy ms   ratio train / greedy" if theirs else "")
        for k, row in enumerate(ours):
            line = (
                f"{row['batch_size']:>5} {row['threads']:>7} "
                f"{1e3 * row['train']:>9.2f} {1e3 * row['greedy']:>9.2f}"
            )
            if theirs:
                t = theirs[k]
                line += (
                    f"  {1e3 * t['train']:>10.2f} / {1e3 * t['greedy']:<8.2f}"
                    f"  {row['train'] / t['train']:>8.2f} / "
                    f"{row['greedy'] / t['greedy']:.2f}"
                )
            print(line)
        print(
            "matrix products alone of a training step, one thread: "
            + ", ".join(f"B={B} {1e3 * v:.2f} ms" for B, v in floors.items())
        )
    if args.task in ("addition", "all"):
        result = train_addition(epochs=args.epochs)
        results["addition"] = {"skrnn": result}
        print(
            f"skrnn addition: exact match {result['accuracy']:.3f} on "
            f"{result['n_test']} held-out sums (train {result['train_accuracy']:.3f}), "
            f"{result['seconds']:.1f} s for {result['epochs']} epochs on 1 thread"
        )
        if torch_side is not None:
            theirs = torch_side.train_addition(epochs=args.epochs)
            results["addition"]["torch"] = theirs
            print(
                f"torch addition: exact match {theirs['accuracy']:.3f} "
                f"(train {theirs['train_accuracy']:.3f}), {theirs['seconds']:.1f} s"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
