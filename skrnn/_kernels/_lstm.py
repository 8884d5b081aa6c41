"""LSTM forward and backpropagation-through-time kernels.

Gates in PyTorch order ``i, f, g, o``::

    a = W_ih x + b_ih + W_hh h_prev + b_hh
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c = f * c_prev + i * g;  h = o * tanh(c)

The time loops are those of every cell (:mod:`skrnn._kernels._scan`); this
module holds the LSTM's step, its gradient and its spec. States are ``h``
and ``c`` (``n_states = 2``). Storage per slot and row (``store_width =
7 H``), as unit-major sections of the chunk's flat storage: ``h_prev`` (H)
and ``c_prev`` (H), stored by the scan, then the values of the step: gate
outputs ``i, f, g, o`` (4 H) and ``tanh(c)`` (H).
"""

from numba import njit

from ._cells import CellSpec
from ._config import HELPER_OPTIONS, JIT_OPTIONS
from ._math import fast_sigmoid, fast_tanh
from ._scan import backward_scan, forward_scan

LSTM_STORE_WIDTH = 7


@njit(**HELPER_OPTIONS, inline="always")
def _lstm_step(X_proj, col, rec, b_ih, b_hh, act, state, values, n_act):
    """One LSTM step of the active rows: the gates, ``c`` and ``h``.

    The forward step of :mod:`skrnn._kernels._scan`; ``act`` is not read.
    """
    H = rec.shape[0] // 4
    for j in range(H):
        # One view per gate and unit: the inner loop then reads and writes
        # contiguous rows that LLVM vectorises.
        gate_i, gate_f = values[j], values[H + j]
        gate_g, gate_o = values[2 * H + j], values[3 * H + j]
        tanh_c = values[4 * H + j]
        x_i, x_f = X_proj[j, col:], X_proj[H + j, col:]
        x_g, x_o = X_proj[2 * H + j, col:], X_proj[3 * H + j, col:]
        r_i, r_f, r_g, r_o = rec[j], rec[H + j], rec[2 * H + j], rec[3 * H + j]
        bias_i, bias_f = b_ih[j] + b_hh[j], b_ih[H + j] + b_hh[H + j]
        bias_g = b_ih[2 * H + j] + b_hh[2 * H + j]
        bias_o = b_ih[3 * H + j] + b_hh[3 * H + j]
        h_j, c_j = state[j], state[H + j]
        for b in range(n_act):
            i = fast_sigmoid(x_i[b] + r_i[b] + bias_i)
            f = fast_sigmoid(x_f[b] + r_f[b] + bias_f)
            g = fast_tanh(x_g[b] + r_g[b] + bias_g)
            o = fast_sigmoid(x_o[b] + r_o[b] + bias_o)
            c_new = f * c_j[b] + i * g
            tc = fast_tanh(c_new)
            c_j[b] = c_new
            h_j[b] = o * tc
            gate_i[b] = i
            gate_f[b] = f
            gate_g[b] = g
            gate_o[b] = o
            tanh_c[b] = tc


@njit(**HELPER_OPTIONS, inline="always")
def _lstm_gradient(
    h_prev, c_prev, values, d_state, da, dA_in, dA_rec, col, n_act, act, d_direct
):
    """The gradient of one LSTM step w.r.t. its gates, and the carry of ``dc``.

    The gradient step of :mod:`skrnn._kernels._scan`. The input and the
    recurrent pre-activations share their gradient (``dA_rec`` is
    ``dA_in``); ``dc`` is carried through the forget gate, in place.
    ``h_prev``, ``act`` and ``d_direct`` are not read.
    """
    H = da.shape[0] // 4
    n_rows = values.shape[1]
    one = values.dtype.type(1.0)
    for j in range(H):
        # One view per gate and unit, as in the forward step; each gradient
        # goes to the step's matrix (for the recurrent GEMM) and to the
        # block's columns (for the weight gradients).
        gate_i, gate_f = values[j], values[H + j]
        gate_g, gate_o = values[2 * H + j], values[3 * H + j]
        c_prev_j, tanh_c = c_prev[j], values[4 * H + j]
        da_i, da_f, da_g, da_o = da[j], da[H + j], da[2 * H + j], da[3 * H + j]
        dA_i, dA_f = dA_in[j, col : col + n_rows], dA_in[H + j, col : col + n_rows]
        dA_g = dA_in[2 * H + j, col : col + n_rows]
        dA_o = dA_in[3 * H + j, col : col + n_rows]
        dh_j, dc_j = d_state[j], d_state[H + j]
        for b in range(n_act):
            i = gate_i[b]
            f = gate_f[b]
            g = gate_g[b]
            o = gate_o[b]
            tc = tanh_c[b]
            dh_b = dh_j[b]
            dc_b = dc_j[b] + dh_b * o * (one - tc * tc)
            a_i = dc_b * g * i * (one - i)
            a_f = dc_b * c_prev_j[b] * f * (one - f)
            a_g = dc_b * i * (one - g * g)
            a_o = dh_b * tc * o * (one - o)
            da_i[b] = a_i
            da_f[b] = a_f
            da_g[b] = a_g
            da_o[b] = a_o
            dA_i[b] = a_i
            dA_f[b] = a_f
            dA_g[b] = a_g
            dA_o[b] = a_o
            dc_j[b] = dc_b * f
        for b in range(n_act, n_rows):
            dA_i[b] = 0.0
            dA_f[b] = 0.0
            dA_g[b] = 0.0
            dA_o[b] = 0.0


@njit(**JIT_OPTIONS)
def _lstm_forward_chunk(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, n_block,
    H_out, h_off, h_n, c_n, store,
):  # fmt: skip
    """Run one LSTM layer-direction over one chunk of the batch.

    The layer interface of :mod:`skrnn._kernels`, through
    :func:`~skrnn._kernels._scan.forward_scan`: gate blocks ``i, f, g, o``
    in ``W_ih`` ``(4 * H, I)``, ``W_hh`` ``(4 * H, H)``, ``b_ih`` and
    ``b_hh`` ``(4 * H,)``; ``store`` ``(N, B, 7 * H)``.
    """
    forward_scan(
        _lstm_step, X, lengths, W_ih, W_hh, b_ih, b_hh, 0, reverse, n_block,
        H_out, h_off, h0, c0, h_n, c_n, 2, store,
    )  # fmt: skip


@njit(**JIT_OPTIONS)
def _lstm_backward_chunk(
    X, lengths, W_ih, W_hh, reverse, segment_steps, n_block, store, dH_out,
    h_off, dh_n, dc_n, dX, dW_ih, dW_hh, db_ih, db_hh, dh0, dc0,
):  # fmt: skip
    """Backpropagate through one LSTM layer-direction over one chunk.

    The layer interface of :mod:`skrnn._kernels`, through
    :func:`~skrnn._kernels._scan.backward_scan`.
    """
    backward_scan(
        _lstm_gradient, X, lengths, W_ih, W_hh, 0, reverse, segment_steps,
        n_block, store, dH_out, h_off, dh_n, dc_n, dX, dW_ih, dW_hh, db_ih,
        db_hh, dh0, dc0, 2, False, False,
    )  # fmt: skip


@njit(**JIT_OPTIONS)
def _lstm_stream_step(a, a_h, bias, b_h, act, h, c):
    """One step of one stream (:mod:`skrnn._kernels._stream`), in place.

    ``a`` holds ``W_ih x + W_hh h`` of the four gates, ``bias`` is
    ``b_ih + b_hh``; ``h`` and ``c`` are the stream's states. ``a_h``,
    ``b_h`` and ``act`` are not read.
    """
    H = h.shape[0]
    for j in range(H):
        i = fast_sigmoid(a[j] + bias[j])
        f = fast_sigmoid(a[H + j] + bias[H + j])
        g = fast_tanh(a[2 * H + j] + bias[2 * H + j])
        o = fast_sigmoid(a[3 * H + j] + bias[3 * H + j])
        c_new = f * c[j] + i * g
        c[j] = c_new
        h[j] = o * fast_tanh(c_new)


LSTM_CELL = CellSpec(
    name="lstm",
    gates=4,
    store_width=LSTM_STORE_WIDTH,
    has_cell_state=True,
    forward_chunk=_lstm_forward_chunk,
    backward_chunk=_lstm_backward_chunk,
    stream_step=_lstm_stream_step,
    forget_gate=1,
    onnx_op="LSTM",
    onnx_gate_order=(0, 3, 1, 2),
    torch_module="LSTM",
)
