"""The recurrent product written as Numba loops, against BLAS.

PyTorch's fastest LSTM inference on the CPU (oneDNN) packs the recurrent
weights once and runs a register-blocked product fused with the gates. The
same in Numba would need the product written as loops, since the gates cannot
be put inside a BLAS call. This script measures how fast such loops run on
the per-step product ``W_hh @ h`` of the kernels (``W_hh`` of shape
``(4 H, H)``, ``h`` of shape ``(H, B)``, unit-major as the kernels keep it)
against ``np.dot`` (OpenBLAS), on one thread:

- ``blocked``: rows in blocks of 4, columns in tiles of 64, the four output
  rows updated in place for each ``k`` (the inner loop vectorises over the
  tile);
- ``local tile``: the same with the tile accumulated in a small local array
  and written out at the end.

Numba has no SIMD types or register control: LLVM keeps the accumulators in
memory, so each multiply-add comes with a load and a store, and the loops run
at a fraction of the BLAS rate. Run from the root of a source checkout::

    python benchmarks/handwritten_product.py
"""

import time

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from skrnn._kernels._config import FASTMATH

_OPTIONS = {"nogil": True, "fastmath": FASTMATH, "error_model": "numpy"}
_TILE = 64


@njit(**_OPTIONS)
def _blocked(W, h, out, repeats):
    n_rows, n_inner = W.shape
    n_cols = h.shape[1]
    for _ in range(repeats):
        for r0 in range(0, n_rows, 4):
            for b0 in range(0, n_cols, _TILE):
                a0 = out[r0, b0 : b0 + _TILE]
                a1 = out[r0 + 1, b0 : b0 + _TILE]
                a2 = out[r0 + 2, b0 : b0 + _TILE]
                a3 = out[r0 + 3, b0 : b0 + _TILE]
                for b in range(_TILE):
                    a0[b] = 0.0
                    a1[b] = 0.0
                    a2[b] = 0.0
                    a3[b] = 0.0
                for k in range(n_inner):
                    w0, w1 = W[r0, k], W[r0 + 1, k]
                    w2, w3 = W[r0 + 2, k], W[r0 + 3, k]
                    hk = h[k, b0 : b0 + _TILE]
                    for b in range(_TILE):
                        x = hk[b]
                        a0[b] += w0 * x
                        a1[b] += w1 * x
                        a2[b] += w2 * x
                        a3[b] += w3 * x


@njit(**_OPTIONS)
def _local_tile(W, h, out, repeats):
    n_rows, n_inner = W.shape
    n_cols = h.shape[1]
    acc = np.empty((4, _TILE), dtype=W.dtype)
    for _ in range(repeats):
        for r0 in range(0, n_rows, 4):
            for b0 in range(0, n_cols, _TILE):
                acc[:] = 0.0
                for k in range(n_inner):
                    w0, w1 = W[r0, k], W[r0 + 1, k]
                    w2, w3 = W[r0 + 2, k], W[r0 + 3, k]
                    for b in range(_TILE):
                        x = h[k, b0 + b]
                        acc[0, b] += w0 * x
                        acc[1, b] += w1 * x
                        acc[2, b] += w2 * x
                        acc[3, b] += w3 * x
                for q in range(4):
                    for b in range(_TILE):
                        out[r0 + q, b0 + b] = acc[q, b]


@njit(**_OPTIONS)
def _blas(W, h, out, repeats):
    for _ in range(repeats):
        np.dot(W, h, out=out)


def _median_seconds(function, W, h, out, repeats, rounds=7):
    function(W, h, out, repeats)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function(W, h, out, repeats)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    print("| dtype | H | B | BLAS GFLOP/s | blocked | local tile |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(limits=1, user_api="blas"):
        for dtype in (np.float32, np.float64):
            for H, B in ((16, 128), (64, 64), (64, 128), (256, 128)):
                W = rng.standard_normal((4 * H, H)).astype(dtype)
                h = rng.standard_normal((H, B)).astype(dtype)
                outs = [np.empty((4 * H, B), dtype=dtype) for _ in range(3)]
                repeats = max(5, 3_000_000 // (4 * H * H * B))
                gflop = 2 * 4 * H * H * B * repeats / 1e9
                rates = []
                for function, out in zip((_blas, _blocked, _local_tile), outs):
                    seconds = _median_seconds(function, W, h, out, repeats)
                    rates.append(gflop / seconds)
                tolerance = 1e-3 if dtype == np.float32 else 1e-10
                for out in outs[1:]:
                    np.testing.assert_allclose(
                        out, outs[0], rtol=tolerance, atol=tolerance
                    )
                print(
                    f"| {np.dtype(dtype).name} | {H} | {B} | {rates[0]:.0f} "
                    f"| {rates[1]:.0f} | {rates[2]:.0f} |"
                )


if __name__ == "__main__":
    main()
