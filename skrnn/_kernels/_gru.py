"""GRU forward and backpropagation-through-time kernels.

Gates in PyTorch order ``r, z, n``::

    r = sigmoid(W_ir x + b_ir + W_hr h_prev + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h_prev + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn))
    h = (1 - z) * n + z * h_prev

The time loops are those of every cell (:mod:`skrnn._kernels._scan`); this
module holds the GRU's step, its gradient and its spec. Storage per slot and
row (``store_width = 5 H``), as unit-major sections of the chunk's flat
storage: ``h_prev`` (H), stored by the scan, then the values of the step:
gate outputs ``r, z, n`` (3 H) and ``W_hn h_prev + b_hn`` (H).
"""

from numba import njit

from ._cells import CellSpec
from ._config import HELPER_OPTIONS, JIT_OPTIONS
from ._math import fast_sigmoid, fast_tanh
from ._scan import backward_scan, forward_scan

GRU_STORE_WIDTH = 5


@njit(**HELPER_OPTIONS, inline="always")
def _gru_step(X_proj, col, rec, b_ih, b_hh, act, state, values, n_act):
    """One GRU step of the active rows: the gates and ``h``.

    The forward step of :mod:`skrnn._kernels._scan`; ``act`` is not read.
    """
    H = rec.shape[0] // 3
    one = values.dtype.type(1.0)
    for j in range(H):
        # One view per gate and unit: the inner loop then reads and writes
        # contiguous rows that LLVM vectorises.
        gate_r, gate_z = values[j], values[H + j]
        gate_n, hn_j = values[2 * H + j], values[3 * H + j]
        x_r, x_z, x_n = X_proj[j, col:], X_proj[H + j, col:], X_proj[2 * H + j, col:]
        r_r, r_z, r_n = rec[j], rec[H + j], rec[2 * H + j]
        # r and z see both biases next to each other; n keeps b_hn inside
        # r * (.).
        bias_r, bias_z = b_ih[j] + b_hh[j], b_ih[H + j] + b_hh[H + j]
        bias_n, b_hn = b_ih[2 * H + j], b_hh[2 * H + j]
        h_j = state[j]
        for b in range(n_act):
            r = fast_sigmoid(x_r[b] + r_r[b] + bias_r)
            z = fast_sigmoid(x_z[b] + r_z[b] + bias_z)
            hn = r_n[b] + b_hn
            cand = fast_tanh(x_n[b] + bias_n + r * hn)
            h_j[b] = (one - z) * cand + z * h_j[b]
            gate_r[b] = r
            gate_z[b] = z
            gate_n[b] = cand
            hn_j[b] = hn


@njit(**HELPER_OPTIONS, inline="always")
def _gru_gradient(
    h_prev, c_prev, values, d_state, da, dA_in, dA_rec, col, n_act, act, d_direct
):
    """The gradient of one GRU step w.r.t. its gates, and the carry ``z * dh``.

    The gradient step of :mod:`skrnn._kernels._scan`, with split gradients
    (the recurrent one of the ``n`` block is multiplied by ``r``) and a
    direct carry (``h = ... + z * h_prev``). ``c_prev`` and ``act`` are not
    read.
    """
    H = da.shape[0] // 3
    n_rows = values.shape[1]
    one = values.dtype.type(1.0)
    for j in range(H):
        # One view per gate and unit, as in the forward step; the recurrent
        # gradients go to the step's matrix (for the recurrent GEMM), both
        # to the block's columns (for the weight gradients). Only the n
        # block differs between the two.
        gate_r, gate_z = values[j], values[H + j]
        gate_n, hn_j = values[2 * H + j], values[3 * H + j]
        h_prev_j = h_prev[j]
        da_r, da_z, da_n = da[j], da[H + j], da[2 * H + j]
        dI_r = dA_in[j, col : col + n_rows]
        dI_z = dA_in[H + j, col : col + n_rows]
        dI_n = dA_in[2 * H + j, col : col + n_rows]
        dR_r = dA_rec[j, col : col + n_rows]
        dR_z = dA_rec[H + j, col : col + n_rows]
        dR_n = dA_rec[2 * H + j, col : col + n_rows]
        dh_j, direct_j = d_state[j], d_direct[j]
        for b in range(n_act):
            r = gate_r[b]
            z = gate_z[b]
            cand = gate_n[b]
            d = dh_j[b]
            dn = d * (one - z) * (one - cand * cand)
            dz = d * (h_prev_j[b] - cand) * z * (one - z)
            dr = dn * hn_j[b] * r * (one - r)
            a_n = dn * r
            da_r[b] = dr
            da_z[b] = dz
            da_n[b] = a_n
            dI_r[b] = dr
            dI_z[b] = dz
            dI_n[b] = dn
            dR_r[b] = dr
            dR_z[b] = dz
            dR_n[b] = a_n
            direct_j[b] = d * z
        for b in range(n_act, n_rows):
            dI_r[b] = 0.0
            dI_z[b] = 0.0
            dI_n[b] = 0.0
            dR_r[b] = 0.0
            dR_z[b] = 0.0
            dR_n[b] = 0.0


@njit(**JIT_OPTIONS)
def _gru_forward_chunk(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse, n_block, H_out, h_off, h_n, store
):
    """Run one GRU layer-direction over one chunk of the batch.

    The layer interface of :mod:`skrnn._kernels`, through
    :func:`~skrnn._kernels._scan.forward_scan`: gate blocks ``r, z, n`` in
    ``W_ih`` ``(3 * H, I)``, ``W_hh`` ``(3 * H, H)``, ``b_ih`` and ``b_hh``
    ``(3 * H,)``; ``store`` ``(N, B, 5 * H)``.
    """
    forward_scan(
        _gru_step, X, lengths, W_ih, W_hh, b_ih, b_hh, 0, reverse, n_block,
        H_out, h_off, h0, h0, h_n, h_n, 1, store,
    )  # fmt: skip


@njit(**JIT_OPTIONS)
def _gru_backward_chunk(
    X, lengths, W_ih, W_hh, reverse, segment_steps, n_block, store, dH_out,
    h_off, dh_n, dX, dW_ih, dW_hh, db_ih, db_hh, dh0,
):  # fmt: skip
    """Backpropagate through one GRU layer-direction over one chunk.

    The layer interface of :mod:`skrnn._kernels`, through
    :func:`~skrnn._kernels._scan.backward_scan`.
    """
    backward_scan(
        _gru_gradient, X, lengths, W_ih, W_hh, 0, reverse, segment_steps,
        n_block, store, dH_out, h_off, dh_n, dh_n, dX, dW_ih, dW_hh, db_ih,
        db_hh, dh0, dh0, 1, True, True,
    )  # fmt: skip


@njit(**JIT_OPTIONS)
def _gru_stream_step(a, a_h, bias, b_h, act, h, c):
    """One step of one stream (:mod:`skrnn._kernels._stream`), in place.

    The candidate gate needs ``W_hn h + b_hn`` apart (the spec's
    ``stream_apart_gates``): ``a`` holds ``W_ih x`` and ``a_h`` ``W_hh h``
    of the three gates; ``bias`` holds ``b_ih + b_hh`` for ``r`` and ``z``
    and ``b_in`` for ``n``, ``b_h`` is ``b_hn``. ``act`` and ``c`` are not
    read.
    """
    H = h.shape[0]
    one = h.dtype.type(1.0)
    for j in range(H):
        r = fast_sigmoid(a[j] + a_h[j] + bias[j])
        z = fast_sigmoid(a[H + j] + a_h[H + j] + bias[H + j])
        n = fast_tanh(a[2 * H + j] + bias[2 * H + j] + r * (a_h[2 * H + j] + b_h[j]))
        h[j] = (one - z) * n + z * h[j]


GRU_CELL = CellSpec(
    name="gru",
    gates=3,
    store_width=GRU_STORE_WIDTH,
    has_cell_state=False,
    forward_chunk=_gru_forward_chunk,
    backward_chunk=_gru_backward_chunk,
    stream_step=_gru_stream_step,
    stream_apart_gates=1,
    onnx_op="GRU",
    onnx_gate_order=(1, 0, 2),
    # n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), PyTorch's form.
    onnx_attributes=(("linear_before_reset", 1),),
    torch_module="GRU",
)
