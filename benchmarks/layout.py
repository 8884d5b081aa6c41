"""Unit-major against row-major state layout for the GRU and Elman kernels.

The LSTM kernels keep states, gates and their gradients unit-major,
``(units, rows)``, so that the elementwise gate loops run over the rows of the
batch innermost; the GRU and Elman kernels keep them row-major, ``(rows,
units)``, with the loops over the units innermost. This script answers
whether the unit-major layout would serve the GRU and Elman cells as well: it
holds unit-major versions of their forward and backward chunk kernels (the
LSTM's structure, with the GRU's and Elman's gate maths), checks that they
compute what the library's kernels compute, and times both, interleaved (each
variant once per round, median of the rounds), on one chunk with BLAS on one
thread, ``T = 100`` steps of ``I = 8`` inputs, full-length rows. The forward
pass is timed as inference (nothing stored), the backward pass as full BPTT
from a stored forward pass. It prints unit-major time over row-major time.

Run from the root of a source checkout::

    python benchmarks/layout.py
    python benchmarks/layout.py --cells gru --dtypes float32 --rounds 15
"""

import argparse
import time

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from skrnn._kernels._arrays import _add_matmul, _add_row_sums, _copy_transposed
from skrnn._kernels._config import JIT_OPTIONS
from skrnn._kernels._gru import _gru_backward_chunk, _gru_forward_chunk
from skrnn._kernels._math import fast_sigmoid, fast_tanh
from skrnn._kernels._rnn import TANH, _rnn_backward_chunk, _rnn_forward_chunk
from skrnn._kernels._steps import (
    _gather_steps,
    _initial_state_gradient,
    _n_active,
    _real_step,
    _scatter_add_steps,
    _unit_section,
    _zero_padding,
)
from skrnn._runtime._dispatch import _block_steps

SHAPES = ((16, 32), (16, 128), (64, 32), (64, 128), (256, 32), (256, 128))
N_STEPS, N_INPUTS = 100, 8
GATES = {"gru": 3, "rnn": 1}
STORE = {"gru": 5, "rnn": 2}


@njit(**JIT_OPTIONS)
def _gru_forward_units(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse, n_block, H_out, h_off, h_n, store
):
    """GRU forward of one chunk with unit-major states (storage as the LSTM's)."""
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_slots = store.shape[0]
    dtype = W_hh.dtype
    one = dtype.type(1.0)
    has_out = H_out.shape[0] > 0
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    proj_buffer = np.empty(3 * H * n_block * n_rows, dtype=dtype)
    X_proj = proj_buffer[:0].reshape(3 * H, 0)
    bias = b_ih.copy()
    for j in range(2 * H):
        bias[j] += b_hh[j]
    h = np.empty((H, n_rows), dtype=dtype)
    _copy_transposed(h0, h)
    rec = np.empty((3 * H, n_rows), dtype=dtype)
    gates_scratch = np.empty((3 * H, n_rows), dtype=dtype)
    hn_scratch = np.empty((H, n_rows), dtype=dtype)
    H_prev = _unit_section(store, 0, H)
    gates_st = _unit_section(store, H, 3 * H)
    hn_st = _unit_section(store, 4 * H, H)
    for u in range(n_steps):
        n_act = _n_active(lengths, n_steps - u)
        slot = u - (n_steps - n_slots)
        if slot >= 0:
            for j in range(H):
                for b in range(n_rows):
                    H_prev[slot, j, b] = h[j, b] if b < n_act else 0.0
        if n_act == 0:
            continue
        k = u % n_block
        if k == 0:
            n = min(n_block, n_steps - u)
            X_proj = proj_buffer[: 3 * H * n * n_rows].reshape(3 * H, n * n_rows)
            _gather_steps(X, lengths, reverse, u, X_steps[:n])
            np.dot(W_ih, X_steps[:n].reshape(n * n_rows, n_inputs).T, out=X_proj)
        np.dot(W_hh, h, out=rec)
        col = k * n_rows
        for j in range(H):
            if slot >= 0:
                g_r, g_z, g_n = (
                    gates_st[slot, j],
                    gates_st[slot, H + j],
                    gates_st[slot, 2 * H + j],
                )
                hn_row = hn_st[slot, j]
            else:
                g_r, g_z, g_n = (
                    gates_scratch[j],
                    gates_scratch[H + j],
                    gates_scratch[2 * H + j],
                )
                hn_row = hn_scratch[j]
            x_r, x_z, x_n = (
                X_proj[j, col:],
                X_proj[H + j, col:],
                X_proj[2 * H + j, col:],
            )
            r_r, r_z, r_n = rec[j], rec[H + j], rec[2 * H + j]
            bias_r, bias_z, bias_n = bias[j], bias[H + j], bias[2 * H + j]
            b_hn = b_hh[2 * H + j]
            h_j = h[j]
            for b in range(n_act):
                r = fast_sigmoid(x_r[b] + r_r[b] + bias_r)
                z = fast_sigmoid(x_z[b] + r_z[b] + bias_z)
                hn = r_n[b] + b_hn
                nn = fast_tanh(x_n[b] + bias_n + r * hn)
                h_j[b] = (one - z) * nn + z * h_j[b]
                g_r[b] = r
                g_z[b] = z
                g_n[b] = nn
                hn_row[b] = hn
        if has_out:
            for b in range(n_act):
                t, _ = _real_step(lengths[b], n_steps, u, reverse)
                for j in range(H):
                    H_out[t, b, h_off + j] = h[j, b]
    _copy_transposed(h, h_n)
    if has_out:
        _zero_padding(lengths, H_out, h_off, H)


@njit(**JIT_OPTIONS)
def _gru_backward_units(
    X, lengths, W_ih, W_hh, reverse, n_block, store, dh_n, dX, dW_ih, dW_hh,
    db_ih, db_hh, dh0,
):  # fmt: skip
    """GRU full BPTT of one chunk with unit-major states and gradients."""
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_slots = store.shape[0]
    dtype = W_hh.dtype
    one = dtype.type(1.0)
    H_prev = _unit_section(store, 0, H)
    gates_st = _unit_section(store, H, 3 * H)
    hn_st = _unit_section(store, 4 * H, H)
    din_buffer = np.empty(3 * H * n_block * n_rows, dtype=dtype)
    drec_buffer = np.empty(3 * H * n_block * n_rows, dtype=dtype)
    H_prev_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    ones = np.ones(n_block * n_rows, dtype=dtype)
    dW_ih[:] = 0.0
    dW_hh[:] = 0.0
    db_ih[:] = 0.0
    db_hh[:] = 0.0
    dh = np.empty((H, n_rows), dtype=dtype)
    _copy_transposed(dh_n, dh)
    dh_direct = np.empty((H, n_rows), dtype=dtype)
    drec_step = np.empty((3 * H, n_rows), dtype=dtype)
    for block_end in range(n_slots, 0, -n_block):
        block_start = max(0, block_end - n_block)
        n = block_end - block_start
        width = n * n_rows
        dA_in = din_buffer[: 3 * H * width].reshape(3 * H, width)
        dA_rec = drec_buffer[: 3 * H * width].reshape(3 * H, width)
        for slot in range(block_end - 1, block_start - 1, -1):
            n_act = _n_active(lengths, n_slots - slot)
            col = (slot - block_start) * n_rows
            for j in range(H):
                r_g, z_g, n_g = (
                    gates_st[slot, j],
                    gates_st[slot, H + j],
                    gates_st[slot, 2 * H + j],
                )
                hn_row, h_prev = hn_st[slot, j], H_prev[slot, j]
                di_r = dA_in[j, col:]
                di_z = dA_in[H + j, col:]
                di_n = dA_in[2 * H + j, col:]
                dr_r, dr_z, dr_n = drec_step[j], drec_step[H + j], drec_step[2 * H + j]
                dh_j, direct = dh[j], dh_direct[j]
                for b in range(n_act):
                    r = r_g[b]
                    z = z_g[b]
                    nn = n_g[b]
                    d = dh_j[b]
                    dn = d * (one - z) * (one - nn * nn)
                    dz = d * (h_prev[b] - nn) * z * (one - z)
                    dr = dn * hn_row[b] * r * (one - r)
                    di_r[b] = dr
                    di_z[b] = dz
                    di_n[b] = dn
                    dr_r[b] = dr
                    dr_z[b] = dz
                    dr_n[b] = dn * r
                    direct[b] = d * z
            for r_ in range(3 * H):
                for b in range(n_act):
                    dA_rec[r_, col + b] = drec_step[r_, b]
            np.dot(W_hh.T, drec_step, out=dh)
            for j in range(H):
                for b in range(n_act):
                    dh[j, b] += dh_direct[j, b]
        H_block = H_prev_buffer[: H * width].reshape(width, H)
        for k in range(n):
            _copy_transposed(H_prev[block_start + k], H_block[k * n_rows :])
        _add_matmul(dA_rec, H_block, dW_hh)
        _add_row_sums(dA_rec, ones[:width], db_hh)
        _gather_steps(X, lengths, reverse, block_start, X_steps[:n])
        X_block = X_steps[:n].reshape(width, n_inputs)
        _add_matmul(dA_in, X_block, dW_ih)
        _add_row_sums(dA_in, ones[:width], db_ih)
        if dX.shape[0] > 0:
            dX_steps = np.dot(dA_in.T, W_ih).reshape(n, n_rows, n_inputs)
            _scatter_add_steps(dX_steps, lengths, reverse, block_start, dX)
    dh_rows = np.empty((n_rows, H), dtype=dtype)
    _copy_transposed(dh, dh_rows)
    _initial_state_gradient(lengths, n_slots, dh_rows, dh0)


@njit(**JIT_OPTIONS)
def _rnn_forward_units(X, lengths, W_ih, W_hh, b_ih, b_hh, h0, n_block, h_n, store):
    """Elman (tanh) forward of one chunk with unit-major states."""
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    n_slots = store.shape[0]
    dtype = W_hh.dtype
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    proj_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    X_proj = proj_buffer[:0].reshape(H, 0)
    bias = b_ih + b_hh
    h = np.empty((H, n_rows), dtype=dtype)
    _copy_transposed(h0, h)
    rec = np.empty((H, n_rows), dtype=dtype)
    H_prev = _unit_section(store, 0, H)
    H_st = _unit_section(store, H, H)
    for u in range(n_steps):
        k = u % n_block
        if k == 0:
            n = min(n_block, n_steps - u)
            X_proj = proj_buffer[: H * n * n_rows].reshape(H, n * n_rows)
            _gather_steps(X, lengths, False, u, X_steps[:n])
            np.dot(W_ih, X_steps[:n].reshape(n * n_rows, n_inputs).T, out=X_proj)
        np.dot(W_hh, h, out=rec)
        col = k * n_rows
        slot = u - (n_steps - n_slots)
        for j in range(H):
            x_j, r_j, h_j, bias_j = X_proj[j, col:], rec[j], h[j], bias[j]
            if slot >= 0:
                for b in range(n_rows):
                    H_prev[slot, j, b] = h_j[b]
            for b in range(n_rows):
                h_j[b] = fast_tanh(x_j[b] + r_j[b] + bias_j)
            if slot >= 0:
                for b in range(n_rows):
                    H_st[slot, j, b] = h_j[b]
    _copy_transposed(h, h_n)


@njit(**JIT_OPTIONS)
def _rnn_backward_units(
    X, lengths, W_ih, W_hh, n_block, store, dh_n, dW_ih, dW_hh, db_ih, db_hh
):
    """Elman (tanh) full BPTT of one chunk with unit-major states, full rows."""
    n_steps, n_rows, n_inputs = X.shape
    H = W_hh.shape[1]
    dtype = W_hh.dtype
    one = dtype.type(1.0)
    H_prev = _unit_section(store, 0, H)
    H_st = _unit_section(store, H, H)
    dA_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    H_prev_buffer = np.empty(H * n_block * n_rows, dtype=dtype)
    X_steps = np.empty((n_block, n_rows, n_inputs), dtype=dtype)
    ones = np.ones(n_block * n_rows, dtype=dtype)
    dW_ih[:] = 0.0
    dW_hh[:] = 0.0
    db = np.zeros(H, dtype=dtype)
    dh = np.empty((H, n_rows), dtype=dtype)
    _copy_transposed(dh_n, dh)
    da = np.empty((H, n_rows), dtype=dtype)
    for block_end in range(n_steps, 0, -n_block):
        block_start = max(0, block_end - n_block)
        n = block_end - block_start
        width = n * n_rows
        dA = dA_buffer[: H * width].reshape(H, width)
        H_block = H_prev_buffer[: H * width].reshape(width, H)
        for u in range(block_end - 1, block_start - 1, -1):
            col = (u - block_start) * n_rows
            for j in range(H):
                h_j, dh_j, da_j, dA_j = H_st[u, j], dh[j], da[j], dA[j, col:]
                for b in range(n_rows):
                    d = dh_j[b] * (one - h_j[b] * h_j[b])
                    da_j[b] = d
                    dA_j[b] = d
            _copy_transposed(H_prev[u], H_block[col:])
            np.dot(W_hh.T, da, out=dh)
        _add_matmul(dA, H_block, dW_hh)
        _add_row_sums(dA, ones[:width], db)
        _gather_steps(X, lengths, False, block_start, X_steps[:n])
        _add_matmul(dA, X_steps[:n].reshape(width, n_inputs), dW_ih)
    for r in range(H):
        db_ih[r] = db[r]
        db_hh[r] = db[r]


class _Case:
    """Weights, data and output buffers of one layer-direction and chunk."""

    def __init__(self, cell, H, B, dtype, rng):
        G, T, n_in = GATES[cell], N_STEPS, N_INPUTS
        self.cell, self.H, self.B = cell, H, B
        self.X = rng.standard_normal((T, B, n_in)).astype(dtype)
        self.lengths = np.full(B, T, np.int64)
        self.W_ih = (0.3 * rng.standard_normal((G * H, n_in))).astype(dtype)
        self.W_hh = (rng.standard_normal((G * H, H)) / np.sqrt(H)).astype(dtype)
        self.b_ih = (0.1 * rng.standard_normal(G * H)).astype(dtype)
        self.b_hh = (0.1 * rng.standard_normal(G * H)).astype(dtype)
        self.h0 = (0.5 * rng.standard_normal((B, H))).astype(dtype)
        self.dh_n = rng.standard_normal((B, H)).astype(dtype)
        width = STORE[cell] * H
        self.store = {
            "rows": np.empty((T, B, width), dtype),
            "units": np.empty((T, B, width), dtype),
        }
        self.no_store = np.empty((0, B, width), dtype)
        self.no_out = np.empty((0, B, H), dtype)
        self.no_dX = np.empty((0, B, n_in), dtype)
        self.h_n = np.empty((B, H), dtype)
        self.grads = {
            key: [
                np.empty_like(a)
                for a in (self.W_ih, self.W_hh, self.b_ih, self.b_hh, self.h0)
            ]
            for key in ("rows", "units")
        }
        self.n_block = _block_steps(B, T, B * G * H * self.X.itemsize)

    def forward(self, layout, store):
        a = self
        if self.cell == "gru":
            kernel = _gru_forward_chunk if layout == "rows" else _gru_forward_units
            kernel(
                a.X, a.lengths, a.W_ih, a.W_hh, a.b_ih, a.b_hh, a.h0, False,
                a.n_block, a.no_out, 0, a.h_n, store,
            )  # fmt: skip
        elif layout == "rows":
            _rnn_forward_chunk(
                a.X, a.lengths, a.W_ih, a.W_hh, a.b_ih, a.b_hh, a.h0, False, TANH,
                a.n_block, a.no_out, 0, a.h_n, store,
            )  # fmt: skip
        else:
            _rnn_forward_units(
                a.X, a.lengths, a.W_ih, a.W_hh, a.b_ih, a.b_hh, a.h0, a.n_block,
                a.h_n, store,
            )  # fmt: skip
        return a.h_n.copy()

    def infer(self, layout):
        return self.forward(layout, self.no_store)

    def backward(self, layout):
        a, store = self, self.store[layout]
        dW_ih, dW_hh, db_ih, db_hh, dh0 = self.grads[layout]
        if layout == "rows" and self.cell == "gru":
            _gru_backward_chunk(
                a.X, a.lengths, a.W_ih, a.W_hh, False, 0, a.n_block, store, a.no_out,
                0, a.dh_n, a.no_dX, dW_ih, dW_hh, db_ih, db_hh, dh0,
            )  # fmt: skip
        elif self.cell == "gru":
            _gru_backward_units(
                a.X, a.lengths, a.W_ih, a.W_hh, False, a.n_block, store, a.dh_n,
                a.no_dX, dW_ih, dW_hh, db_ih, db_hh, dh0,
            )  # fmt: skip
        elif layout == "rows":
            _rnn_backward_chunk(
                a.X, a.lengths, a.W_ih, a.W_hh, False, TANH, 0, a.n_block, store,
                a.no_out, 0, a.dh_n, a.no_dX, dW_ih, dW_hh, db_ih, db_hh, dh0,
            )  # fmt: skip
        else:
            _rnn_backward_units(
                a.X, a.lengths, a.W_ih, a.W_hh, a.n_block, store, a.dh_n,
                dW_ih, dW_hh, db_ih, db_hh,
            )  # fmt: skip
        return [g.copy() for g in self.grads[layout][:4]]


def _check(case):
    """Both layouts compute the same final state and parameter gradients."""
    rtol = 1e-3 if case.X.dtype == np.float32 else 1e-9
    results = {}
    for layout in ("rows", "units"):
        h_n = case.forward(layout, case.store[layout])
        results[layout] = [h_n, *case.backward(layout)]
    for a, b in zip(results["rows"], results["units"]):
        scale = np.abs(a).max() + 1e-30
        assert np.abs(a - b).max() <= rtol * scale, np.abs(a - b).max() / scale


def _time(case, rounds):
    times = {(k, p): [] for k in ("rows", "units") for p in ("infer", "backward")}
    for _ in range(rounds):
        for layout in ("rows", "units"):
            for part, run in (("infer", case.infer), ("backward", case.backward)):
                start = time.perf_counter()
                run(layout)
                times[layout, part].append(time.perf_counter() - start)
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["gru", "rnn"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("unit-major time / row-major time; 1 chunk, BLAS on 1 thread, T=100, I=8")
    print("cell | dtype | H | B | part | row-major ms | unit-major / row-major")
    with threadpool_limits(limits=1, user_api="blas"):
        for cell in args.cells:
            for dtype in args.dtypes:
                for H, B in SHAPES:
                    case = _Case(cell, H, B, np.dtype(dtype), rng)
                    _check(case)
                    t = _time(case, args.rounds)
                    for part in ("infer", "backward"):
                        rows, units = t["rows", part], t["units", part]
                        print(
                            f"{cell} | {dtype} | {H} | {B} | {part} | "
                            f"{rows * 1e3:.3f} | {units / rows:.2f}",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
