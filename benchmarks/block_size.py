"""Steps per block of the projection and weight-gradient GEMMs, swept.

The forward pass projects the inputs of a block of global steps with one GEMM
and the gate loop of each step reads the block's projection back; the
backward pass keeps the gate gradients of a block and adds their weight
gradients with one GEMM per block (``skrnn/_kernels/__init__.py``). This
script times one layer-direction of each cell, one chunk, BLAS on one thread,
for several fixed block sizes and for the library's rule
(``_block_steps``), interleaved (every variant once per round, median of the
rounds), and prints each time relative to the earlier rule of 4096 rows per
block. The forward pass is timed as inference (nothing stored), the backward
pass as full BPTT from a stored forward pass.

Run from the root of a source checkout::

    python benchmarks/block_size.py
    python benchmarks/block_size.py --cells lstm --rounds 15
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import skrnn._runtime._dispatch as kernels
from skrnn._kernels import CELL_GATES
from skrnn._runtime import layer_backward, layer_forward, store_width
from skrnn._runtime._dispatch import LayerState, LayerWeights

SHAPES = ((16, 128), (64, 32), (64, 128), (256, 32), (256, 128))
FIXED = (1, 2, 4, 8, 16)
N_STEPS, N_INPUTS = 100, 8


def _old_rule(n_rows, n_steps):
    return max(1, min(n_steps, 4096 // max(n_rows, 1)))


class _Layer:
    def __init__(self, cell, H, B, dtype, rng):
        G, T, n_in = CELL_GATES[cell], N_STEPS, N_INPUTS
        c_size = H if cell == "lstm" else 0
        self.cell, self.G, self.H, self.B = cell, G, H, B
        self.X = rng.standard_normal((1, T, B, n_in)).astype(dtype)
        self.lengths = np.full((1, B), T, np.int64)
        self.W_ih = (0.3 * rng.standard_normal((G * H, n_in))).astype(dtype)
        self.W_hh = (rng.standard_normal((G * H, H)) / np.sqrt(H)).astype(dtype)
        self.b_ih = rng.standard_normal(G * H).astype(dtype)
        self.b_hh = np.zeros(G * H, dtype)
        self.h0 = np.zeros((1, B, H), dtype)
        self.c0 = np.zeros((1, B, c_size), dtype)
        self.h_n = np.empty((1, B, H), dtype)
        self.c_n = np.empty((1, B, c_size), dtype)
        self.no_out = np.empty((1, 0, B, H), dtype)
        self.no_store = np.empty((1, 0, B, store_width(cell, H)), dtype)
        self.store = np.empty((1, T, B, store_width(cell, H)), dtype)
        self.dh_n = rng.standard_normal((1, B, H)).astype(dtype)
        self.dc_n = np.zeros((1, B, c_size), dtype)
        self.no_dX = np.empty((1, 0, B, n_in), dtype)
        self.grads = [
            np.empty_like(a)
            for a in (self.W_ih, self.W_hh, self.b_ih, self.b_hh, self.h0, self.c0)
        ]
        self.forward(self.store)

    def forward(self, store):
        layer_forward(
            self.cell, self.X, self.lengths,
            LayerWeights(self.W_ih, self.W_hh, self.b_ih, self.b_hh),
            LayerState(self.h0, self.c0), reverse=False, act=0, H_out=self.no_out,
            h_off=0, final=LayerState(self.h_n, self.c_n), store=store,
        )  # fmt: skip

    def infer(self):
        self.forward(self.no_store)

    def backward(self):
        dW_ih, dW_hh, db_ih, db_hh, dh0, dc0 = self.grads
        layer_backward(
            self.cell, self.X, self.lengths,
            LayerWeights(self.W_ih, self.W_hh, self.b_ih, self.b_hh),
            reverse=False, act=0, segment_steps=0, store=self.store,
            dH_out=self.no_out, h_off=0, d_final=LayerState(self.dh_n, self.dc_n),
            dX=self.no_dX, d_weights=LayerWeights(dW_ih, dW_hh, db_ih, db_hh),
            d_initial=LayerState(dh0, dc0),
        )  # fmt: skip


def _sweep(layer, rounds):
    rule = kernels._block_steps
    B, T = layer.B, N_STEPS
    step_bytes = B * layer.G * layer.H * layer.X.itemsize
    variants = {"old": _old_rule(B, T), "rule": rule(B, T, step_bytes)}
    variants.update({str(n): n for n in FIXED})
    times = {(k, p): [] for k in variants for p in ("infer", "backward")}
    try:
        for _ in range(rounds):
            for key, n in variants.items():
                kernels._block_steps = lambda *args, n=n: n
                for part, run in (("infer", layer.infer), ("backward", layer.backward)):
                    start = time.perf_counter()
                    run()
                    times[key, part].append(time.perf_counter() - start)
    finally:
        kernels._block_steps = rule
    return variants, {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("time relative to the old rule (4096 rows per block); 1 chunk, 1 thread")
    header = ["cell", "dtype", "H", "B", "KiB/step", "part", "old ms", "rule (n)"]
    print(" | ".join(header + [f"n={n}" for n in FIXED]))
    with threadpool_limits(limits=1, user_api="blas"):
        for cell in args.cells:
            for dtype in args.dtypes:
                for H, B in SHAPES:
                    layer = _Layer(cell, H, B, np.dtype(dtype), rng)
                    variants, t = _sweep(layer, args.rounds)
                    kib = B * layer.G * H * layer.X.itemsize // 1024
                    for part in ("infer", "backward"):
                        old = t["old", part]
                        cols = [cell, dtype, str(H), str(B), str(kib), part]
                        cols += [f"{old * 1e3:.2f}"]
                        cols += [f"{t['rule', part] / old:.2f} ({variants['rule']})"]
                        cols += [f"{t[str(n), part] / old:.2f}" for n in FIXED]
                        print(" | ".join(cols), flush=True)


if __name__ == "__main__":
    main()
