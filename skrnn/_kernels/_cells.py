"""What a recurrent cell is to the rest of skrnn: one :class:`CellSpec`.

Each cell module (``_rnn.py``, ``_lstm.py``, ``_gru.py``) ends with the
spec of its cell; :data:`skrnn._kernels.CELLS` lists them. The runtime calls
a cell's kernels through its spec, the networks lay out and initialise its
parameters from it, ONNX export and the PyTorch parity tests read their
operator names from it. Nothing outside the cell module and the registry
names a cell.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CellSpec:
    """One recurrent cell: its kernels and the facts the layers above use.

    Parameters
    ----------
    name : str
        The value of the estimators' ``cell`` parameter.
    gates : int
        Gate blocks ``G``: the weight matrices have ``G * H`` rows, in
        PyTorch's gate order.
    store_width : int
        Floats the forward pass stores per row, stored step and hidden unit.
    has_cell_state : bool
        Whether the cell carries a second state ``c`` next to ``h`` (LSTM):
        the layers then pass ``c0``/``c_n`` of width ``H``, else of width 0.
    forward_chunk, backward_chunk : callable
        The Numba kernels of one chunk: each calls the scan of every cell
        (:mod:`skrnn._kernels._scan`) with the cell's step functions. Their
        parameters are named from the layer interface (see
        :mod:`skrnn._kernels`); a kernel names only the parameters it reads,
        and the runtime passes them by those names.
    stream_step : callable
        The Numba function of one step of one stream, which the streaming
        kernel (:mod:`skrnn._kernels._stream`) calls for every layer, step
        and stream: ``stream_step(a, a_h, bias, b_h, act, h, c)`` updates
        the stream's state ``h`` (and ``c``) in place. ``a`` ``(G * H,)``
        holds the gates' weighted sums ``W_ih x + W_hh h``; with
        ``stream_apart_gates``, ``a`` holds ``W_ih x`` and ``a_h`` holds
        ``W_hh h``. ``bias`` is ``b_ih + b_hh``, but ``b_ih`` alone for the
        gates kept apart, whose ``b_hh`` is ``b_h``. ``act`` is the
        activation code. A step reads only what its cell needs; for the
        rest the kernel passes arrays at hand rather than slicing new ones
        at every step (``a`` as ``a_h``, ``bias`` as ``b_h``, ``h`` as
        ``c``).
    stream_apart_gates : int, default=0
        How many trailing gate blocks need their recurrent term apart in
        the stream step (the GRU's candidate gate, ``r * (W_hn h +
        b_hn)``): then the stream kernel passes ``W_hh h`` as ``a_h``
        instead of adding it into ``a``, and those blocks' ``b_hh`` as
        ``b_h``.
    forget_gate : int or None, default=None
        Gate block whose input bias starts at 1 (the LSTM forget gate).
    uses_activation : bool, default=False
        Whether the cell reads the estimators' ``activation`` (the Elman
        cell); the other cells ignore it.
    onnx_op : str or None, default=None
        The ONNX operator that runs the cell, or None if it does not export.
    onnx_gate_order : tuple of int, default=()
        ONNX's gate order, as PyTorch gate indices.
    onnx_attributes : tuple of (str, object), default=()
        Attributes the ONNX operator needs beyond ``hidden_size`` and
        ``direction``.
    torch_module : str or None, default=None
        The ``torch.nn`` class with the same weights and equations.
    """

    name: str
    gates: int
    store_width: int
    has_cell_state: bool
    forward_chunk: Callable
    backward_chunk: Callable
    stream_step: Callable
    stream_apart_gates: int = 0
    forget_gate: int | None = None
    uses_activation: bool = False
    onnx_op: str | None = None
    onnx_gate_order: tuple = ()
    onnx_attributes: tuple = ()
    torch_module: str | None = None
