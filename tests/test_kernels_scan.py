"""The scans of every cell (skrnn._kernels._scan) run a cell that only fills
in its parts: a minimal gated unit, written here as the architecture page's
"How to add a cell" says, against a NumPy reference and finite differences."""

import dataclasses

import numpy as np
import pytest
from numba import njit

from skrnn._kernels import CELLS
from skrnn._kernels._config import JIT_OPTIONS
from skrnn._kernels._scan import backward_scan, forward_scan
from skrnn._runtime import layer_backward, layer_forward, store_width
from skrnn._runtime._dispatch import LayerState, LayerWeights

# Compiled for this test only: not cached next to the tests.
OPTIONS = {**JIT_OPTIONS, "cache": False}


@njit(**OPTIONS, inline="always")
def _mgu_step(X_proj, col, rec, b_ih, b_hh, act, state, values, n_act):
    H = rec.shape[0] // 2
    one = values.dtype.type(1.0)
    for j in range(H):
        gate_f, gate_n, hn_j = values[j], values[H + j], values[2 * H + j]
        x_f, x_n = X_proj[j, col:], X_proj[H + j, col:]
        r_f, r_n = rec[j], rec[H + j]
        bias_f, bias_n, b_hn = b_ih[j] + b_hh[j], b_ih[H + j], b_hh[H + j]
        h_j = state[j]
        for b in range(n_act):
            f = one / (one + np.exp(-(x_f[b] + r_f[b] + bias_f)))
            hn = r_n[b] + b_hn
            n = np.tanh(x_n[b] + bias_n + f * hn)
            h_j[b] = (one - f) * h_j[b] + f * n
            gate_f[b] = f
            gate_n[b] = n
            hn_j[b] = hn


@njit(**OPTIONS, inline="always")
def _mgu_gradient(
    h_prev, c_prev, values, d_state, da, dA_in, dA_rec, col, n_act, act, d_direct
):
    H = da.shape[0] // 2
    n_rows = values.shape[1]
    one = values.dtype.type(1.0)
    for j in range(H):
        gate_f, gate_n, hn_j = values[j], values[H + j], values[2 * H + j]
        h_prev_j, dh_j, direct_j = h_prev[j], d_state[j], d_direct[j]
        dI_f, dI_n = dA_in[j, col : col + n_rows], dA_in[H + j, col : col + n_rows]
        dR_f, dR_n = dA_rec[j, col : col + n_rows], dA_rec[H + j, col : col + n_rows]
        for b in range(n_act):
            f, n, d = gate_f[b], gate_n[b], dh_j[b]
            dp = d * f * (one - n * n)
            a_f = (d * (n - h_prev_j[b]) + dp * hn_j[b]) * f * (one - f)
            da[j, b] = a_f
            da[H + j, b] = dp * f
            dI_f[b] = a_f
            dI_n[b] = dp
            dR_f[b] = a_f
            dR_n[b] = dp * f
            direct_j[b] = d * (one - f)
        for b in range(n_act, n_rows):
            dI_f[b] = 0.0
            dI_n[b] = 0.0
            dR_f[b] = 0.0
            dR_n[b] = 0.0


@njit(**OPTIONS)
def _mgu_forward_chunk(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse, n_block, H_out, h_off, h_n, store
):
    forward_scan(
        _mgu_step, X, lengths, W_ih, W_hh, b_ih, b_hh, 0, reverse, n_block,
        H_out, h_off, h0, h0, h_n, h_n, 1, store,
    )  # fmt: skip


@njit(**OPTIONS)
def _mgu_backward_chunk(
    X, lengths, W_ih, W_hh, reverse, segment_steps, n_block, store, dH_out,
    h_off, dh_n, dX, dW_ih, dW_hh, db_ih, db_hh, dh0,
):  # fmt: skip
    backward_scan(
        _mgu_gradient, X, lengths, W_ih, W_hh, 0, reverse, segment_steps,
        n_block, store, dH_out, h_off, dh_n, dh_n, dX, dW_ih, dW_hh, db_ih,
        db_hh, dh0, dh0, 1, True, True,
    )  # fmt: skip


@pytest.fixture
def mgu(monkeypatch):
    spec = dataclasses.replace(
        CELLS["gru"], name="mgu", gates=2, store_width=4,
        forward_chunk=_mgu_forward_chunk, backward_chunk=_mgu_backward_chunk,
        onnx_op=None, torch_module=None,
    )  # fmt: skip
    monkeypatch.setitem(CELLS, "mgu", spec)
    return spec


def _reference(X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse):
    """Outputs (T, B, H) and final states (B, H), one row at a time."""
    H = W_hh.shape[1]
    H_out = np.zeros((X.shape[0], X.shape[1], H))
    h_n = h0.copy()
    for b, length in enumerate(lengths):
        h = h0[b].copy()
        steps = range(length - 1, -1, -1) if reverse else range(length)
        for t in steps:
            a_x, a_h = W_ih @ X[t, b] + b_ih, W_hh @ h + b_hh
            f = 1.0 / (1.0 + np.exp(-(a_x[:H] + a_h[:H])))
            n = np.tanh(a_x[H:] + f * a_h[H:])
            h = (1.0 - f) * h + f * n
            H_out[t, b] = h
        h_n[b] = h
    return H_out, h_n


def _run(X, lengths, weights, h0, reverse, dH_out, dh_n):
    """The kernels through the runtime, one chunk: outputs and gradients."""
    T, B, _ = X.shape
    H = h0.shape[1]
    empty = np.zeros((1, B, 0))
    H_out, h_n = np.empty((1, T, B, H)), np.empty((1, B, H))
    store = np.full((1, T, B, store_width("mgu", H)), np.nan)
    layer_forward(
        "mgu", X[None], lengths[None], weights, LayerState(h0[None], empty),
        reverse=reverse, act=0, H_out=H_out, h_off=0,
        final=LayerState(h_n, empty), store=store,
    )  # fmt: skip
    dX = np.zeros((1, *X.shape))
    d_weights = LayerWeights(*(np.empty_like(w) for w in weights))
    dh0 = np.empty((1, B, H))
    layer_backward(
        "mgu", X[None], lengths[None], weights, reverse=reverse, act=0,
        segment_steps=0, store=store, dH_out=dH_out[None], h_off=0,
        d_final=LayerState(dh_n[None], empty), dX=dX, d_weights=d_weights,
        d_initial=LayerState(dh0, empty),
    )  # fmt: skip
    return H_out[0], h_n[0], dX[0], d_weights, dh0[0]


@pytest.mark.parametrize("reverse", [False, True])
def test_a_cell_made_of_its_step_and_gradient(mgu, reverse):
    rng = np.random.default_rng(3)
    T, B, n_inputs, H = 5, 4, 2, 3
    X = rng.normal(size=(T, B, n_inputs))
    lengths = np.array([5, 4, 2, 0])
    shapes = [(2 * H, n_inputs), (2 * H, H), (2 * H,), (2 * H,)]
    weights = LayerWeights(*(rng.normal(scale=0.6, size=s) for s in shapes))
    h0 = rng.normal(size=(B, H))
    dH_out, dh_n = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))
    got = _run(X, lengths, weights, h0, reverse, dH_out, dh_n)
    H_out, h_n, dX, d_weights, dh0 = got

    want_out, want_n = _reference(X, lengths, *weights, h0, reverse)
    np.testing.assert_allclose(H_out, want_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n, want_n, rtol=1e-12, atol=1e-12)

    def loss(X, W_ih, W_hh, b_ih, b_hh, h0):
        out, final = _reference(X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse)
        return np.sum(out * dH_out) + np.sum(final * dh_n)

    arguments = [X, *weights, h0]
    for k, got in enumerate([dX, *d_weights, dh0]):
        want = np.zeros_like(got)
        for index in np.ndindex(got.shape):
            shifted = [a.copy() for a in arguments]
            shifted[k][index] += 1e-6
            up = loss(*shifted)
            shifted[k][index] -= 2e-6
            want[index] = (up - loss(*shifted)) / 2e-6
        if k == len(arguments) - 1:
            # A row of length 0 is a dummy row: no gradient (see below).
            got, want = got[:3], want[:3]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    # The row of length 0 keeps its initial state and has no gradient.
    np.testing.assert_array_equal(h_n[3], h0[3])
    np.testing.assert_array_equal(dh0[3], 0.0)
