"""Reused against fresh memory for the stored states of a fit's steps.

A fit passes one :class:`skrnn._network.Workspace` to all its training steps,
so that the states stored for backpropagation through time reuse one memory
instead of being allocated, mapped and zeroed again at every mini-batch. This
script fits the same :class:`~skrnn.RNNRegressor` (LSTM, float32, batches of
128 sequences of 100 steps) with the workspace and with a workspace that
allocates afresh on every request, alternately in one process, optionally
right after a PyTorch training step at every fit (the situation of the
benchmark suite, where PyTorch's freed memory left the kernel assembling
large pages at every step), and prints the median wall time of each.

Run from the root of a source checkout::

    python benchmarks/workspace.py
    python benchmarks/workspace.py --after-torch
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import skrnn._network as network_module
import skrnn._training as training
from skrnn import RNNRegressor


class _FreshWorkspace(network_module.Workspace):
    def empty(self, key, shape, dtype):
        return np.empty(shape, dtype)


def _torch_step(hidden):
    import torch

    lstm = torch.nn.LSTM(8, hidden, batch_first=True)
    x = torch.randn(128, 100, 8)
    out, _ = lstm(x)
    out[:, -1].sum().backward()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--after-torch", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 100, 8)).astype(np.float32)
    y = X[:, -10:, 0].mean(axis=1)
    model = RNNRegressor(
        hidden_layer_sizes=(args.hidden,), cell="lstm", batch_size=128, max_iter=2,
        shuffle=False, random_state=0, tol=0.0, n_iter_no_change=10,
    )  # fmt: skip
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X, y)  # load the kernels
    times = {"reused (default)": [], "fresh per step": []}
    original = network_module.Workspace
    try:
        for _ in range(args.rounds):
            for name, workspace in (
                ("reused (default)", original),
                ("fresh per step", _FreshWorkspace),
            ):
                if args.after_torch:
                    _torch_step(args.hidden)
                # The estimators look the class up in their module at fit time.
                training.Workspace = workspace
                start = time.perf_counter()
                model.fit(X, y)
                times[name].append(time.perf_counter() - start)
    finally:
        training.Workspace = original
    for name, values in times.items():
        print(f"{name}: median {np.median(values):.2f} s over {len(values)} fits")
    ratio = np.median(times["reused (default)"]) / np.median(times["fresh per step"])
    print(f"reused / fresh: {ratio:.2f}")


if __name__ == "__main__":
    main()
