"""Elman RNN forward and backpropagation-through-time kernels.

``h = act(W_ih x + b_ih + W_hh h_prev + b_hh)`` with ``act`` given by its code
in ``ACTIVATION_CODES``: 0 tanh, 1 relu, 2 logistic, 3 identity. Derivatives
are computed from the outputs, as in scikit-learn's MLP.

The time loops are those of every cell (:mod:`skrnn._kernels._scan`); this
module holds the Elman step, its gradient and its spec. Storage per slot and
row (``store_width = 2 H``), as unit-major sections of the chunk's flat
storage: ``h_prev`` (H), stored by the scan, then the value of the step,
``h`` (H).
"""

from numba import njit

from ._cells import CellSpec
from ._config import HELPER_OPTIONS, JIT_OPTIONS
from ._math import fast_sigmoid, fast_tanh
from ._scan import backward_scan, forward_scan

RNN_STORE_WIDTH = 2

# The Elman nonlinearity as the integer the kernels take (the one definition).
ACTIVATION_CODES = {"tanh": 0, "relu": 1, "logistic": 2, "identity": 3}
TANH = ACTIVATION_CODES["tanh"]
RELU = ACTIVATION_CODES["relu"]
LOGISTIC = ACTIVATION_CODES["logistic"]


@njit(**JIT_OPTIONS)
def _activate(a, act, h, out):
    """Apply the Elman activation to one unit's active rows.

    Parameters
    ----------
    a : ndarray of shape (n_act,)
        Pre-activations.
    act : int
        Activation code (0 tanh, 1 relu, 2 logistic, 3 identity).
    h : ndarray of shape (>= n_act,)
        Output: the unit's state, at the first ``n_act`` rows.
    out : ndarray of shape (>= n_act,)
        Output: a copy of the same values (the stored state).
    """
    # One loop per activation, so that each is branch-free and vectorised.
    zero = a.dtype.type(0.0)
    if act == TANH:
        for b in range(a.shape[0]):
            v = fast_tanh(a[b])
            h[b] = v
            out[b] = v
    elif act == RELU:
        for b in range(a.shape[0]):
            # Written so that NaN propagates, as in np.maximum.
            v = zero if a[b] < zero else a[b]
            h[b] = v
            out[b] = v
    elif act == LOGISTIC:
        for b in range(a.shape[0]):
            v = fast_sigmoid(a[b])
            h[b] = v
            out[b] = v
    else:
        for b in range(a.shape[0]):
            h[b] = a[b]
            out[b] = a[b]


@njit(**JIT_OPTIONS)
def _activation_gradient(h, dh, act, da, dA):
    """Backpropagate through the Elman activation, from its output.

    Parameters
    ----------
    h : ndarray of shape (>= n_act,)
        Activation outputs of one unit.
    dh : ndarray of shape (>= n_act,)
        Gradient w.r.t. the outputs.
    act : int
        Activation code (0 tanh, 1 relu, 2 logistic, 3 identity).
    da : ndarray of shape (n_act,)
        Output: gradient w.r.t. the pre-activations of the active rows.
    dA : ndarray of shape (B,)
        Output: the same gradients, and zero for the inactive rows (the
        unit's columns of the step in its block).
    """
    one = h.dtype.type(1.0)
    zero = h.dtype.type(0.0)
    n_act = da.shape[0]
    # One loop per activation, as in _activate.
    if act == TANH:
        for b in range(n_act):
            v = dh[b] * (one - h[b] * h[b])
            da[b] = v
            dA[b] = v
    elif act == RELU:
        for b in range(n_act):
            v = dh[b] if h[b] > zero else zero
            da[b] = v
            dA[b] = v
    elif act == LOGISTIC:
        for b in range(n_act):
            v = dh[b] * h[b] * (one - h[b])
            da[b] = v
            dA[b] = v
    else:
        for b in range(n_act):
            da[b] = dh[b]
            dA[b] = dh[b]
    for b in range(n_act, dA.shape[0]):
        dA[b] = 0.0


@njit(**HELPER_OPTIONS, inline="always")
def _rnn_step(X_proj, col, rec, b_ih, b_hh, act, state, values, n_act):
    """One Elman step of the active rows: ``h`` and its stored copy.

    The forward step of :mod:`skrnn._kernels._scan`.
    """
    for j in range(rec.shape[0]):
        x_j, a_j, bias_j = X_proj[j, col:], rec[j], b_ih[j] + b_hh[j]
        for b in range(n_act):
            a_j[b] += x_j[b] + bias_j
        _activate(a_j, act, state[j], values[j])


@njit(**HELPER_OPTIONS, inline="always")
def _rnn_gradient(
    h_prev, c_prev, values, d_state, da, dA_in, dA_rec, col, n_act, act, d_direct
):
    """The gradient of one Elman step w.r.t. its pre-activations.

    The gradient step of :mod:`skrnn._kernels._scan`; the input and the
    recurrent pre-activations share their gradient (``dA_rec`` is
    ``dA_in``). ``h_prev``, ``c_prev`` and ``d_direct`` are not read.
    """
    n_rows = values.shape[1]
    for j in range(da.shape[0]):
        dA_j = dA_in[j, col : col + n_rows]
        _activation_gradient(values[j], d_state[j], act, da[j], dA_j)


@njit(**JIT_OPTIONS)
def _rnn_forward_chunk(
    X, lengths, W_ih, W_hh, b_ih, b_hh, h0, reverse, act, n_block,
    H_out, h_off, h_n, store,
):  # fmt: skip
    """Run one Elman layer-direction over one chunk of the batch.

    The layer interface of :mod:`skrnn._kernels`, through
    :func:`~skrnn._kernels._scan.forward_scan`: ``W_ih`` ``(H, I)``,
    ``W_hh`` ``(H, H)``, ``b_ih`` and ``b_hh`` ``(H,)``, ``act`` an
    activation code; ``store`` ``(N, B, 2 * H)``.
    """
    forward_scan(
        _rnn_step, X, lengths, W_ih, W_hh, b_ih, b_hh, act, reverse, n_block,
        H_out, h_off, h0, h0, h_n, h_n, 1, store,
    )  # fmt: skip


@njit(**JIT_OPTIONS)
def _rnn_backward_chunk(
    X, lengths, W_ih, W_hh, reverse, act, segment_steps, n_block, store, dH_out,
    h_off, dh_n, dX, dW_ih, dW_hh, db_ih, db_hh, dh0,
):  # fmt: skip
    """Backpropagate through one Elman layer-direction over one chunk.

    The layer interface of :mod:`skrnn._kernels`, through
    :func:`~skrnn._kernels._scan.backward_scan`.
    """
    backward_scan(
        _rnn_gradient, X, lengths, W_ih, W_hh, act, reverse, segment_steps,
        n_block, store, dH_out, h_off, dh_n, dh_n, dX, dW_ih, dW_hh, db_ih,
        db_hh, dh0, dh0, 1, False, False,
    )  # fmt: skip


@njit(**JIT_OPTIONS)
def _rnn_stream_step(a, a_h, bias, b_h, act, h, c):
    """One step of one stream (:mod:`skrnn._kernels._stream`), in place.

    ``a`` holds ``W_ih x + W_hh h``, ``bias`` is ``b_ih + b_hh``, ``act``
    the activation code; ``h`` is the stream's state. ``a_h``, ``b_h`` and
    ``c`` are not read. One loop per activation keeps each one branch-free.
    """
    zero = h.dtype.type(0.0)
    if act == TANH:
        for j in range(h.shape[0]):
            h[j] = fast_tanh(a[j] + bias[j])
    elif act == RELU:
        for j in range(h.shape[0]):
            v = a[j] + bias[j]
            h[j] = zero if v < zero else v  # NaN propagates, as np.maximum
    elif act == LOGISTIC:
        for j in range(h.shape[0]):
            h[j] = fast_sigmoid(a[j] + bias[j])
    else:
        for j in range(h.shape[0]):
            h[j] = a[j] + bias[j]


RNN_CELL = CellSpec(
    name="rnn",
    gates=1,
    store_width=RNN_STORE_WIDTH,
    has_cell_state=False,
    forward_chunk=_rnn_forward_chunk,
    backward_chunk=_rnn_backward_chunk,
    stream_step=_rnn_stream_step,
    onnx_op="RNN",
    onnx_gate_order=(0,),
    torch_module="RNN",
    uses_activation=True,
)
