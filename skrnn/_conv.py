"""The convolution front end: 1-D temporal convolutions plus ReLU, in order.

The estimators' ``conv_layers`` is a tuple of ``(filters, width)`` or
``(filters, width, stride)`` entries; each is a convolution over time in
PyTorch's ``Conv1d`` layout followed by ReLU, before the first recurrent
layer. ``conv_padding`` is ``"same"`` (``width // 2`` zeros on both sides;
odd widths) or ``"causal"`` (``width - 1`` zeros on the left only, so output
step ``t`` sees input steps up to ``t * stride`` and a model can stream).

Each ragged sequence is convolved over its own steps only: a sequence of
``L`` steps has ``ceil(L / stride)`` output steps, and what a batch holds
beyond a sequence's length is never read, so padding changes nothing.

:class:`ConvFrontEnd` holds the layers' shapes and runs them over a batch in
the kernels' chunk-major layout (``(C, T, Bc, features)``, see
:mod:`skrnn._batching`), one chunk per thread, on the parameters' named views
``conv.{k}.weight`` ``(filters, in_channels, width)`` and ``conv.{k}.bias``
``(filters,)``. Like the recurrent layers' dispatchers it runs inside the
caller's kernel session (:func:`skrnn._runtime.session`).
"""

from dataclasses import dataclass
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from ._kernels._conv import conv_backward, conv_forward, conv_stream_push
from ._runtime._dispatch import run_chunks

__all__ = [
    "CONV_PADDINGS",
    "ConvCache",
    "ConvFrontEnd",
    "ConvLayer",
    "ConvStream",
    "check_conv_layers",
    "check_unit_stride",
    "onnx_front_end",
    "output_lengths",
]

CONV_PADDINGS = ("same", "causal")

# Blocks of output steps per GEMM: at least _BLOCK_MIN_ROWS rows so that the
# products run near the BLAS peak, and beyond that as many steps as keep the
# block's copied inputs within _BLOCK_BYTES (the core's L2 cache), since the
# copy is written and then read back by the GEMM.
_BLOCK_MIN_ROWS = 256
_BLOCK_BYTES = 256 * 1024

_EXAMPLE = "for example conv_layers=((64, 5),) or ((64, 5, 2), (64, 3))"


class ConvLayer(NamedTuple):
    """One entry of ``conv_layers``, with its stride filled in."""

    filters: int
    width: int
    stride: int

    def left(self, padding):
        """Zeros of padding before the first step under ``padding``."""
        return self.width // 2 if padding == "same" else self.width - 1


def _is_integer(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_conv_layers(conv_layers, conv_padding="same"):
    """Validate ``conv_layers`` and ``conv_padding``; the layers as triples.

    Parameters
    ----------
    conv_layers : tuple of tuple
        Entries ``(filters, width)`` or ``(filters, width, stride)``.
    conv_padding : {"same", "causal"}, default="same"
        Padding of every layer.

    Returns
    -------
    layers : tuple of ConvLayer
        One ``(filters, width, stride)`` per entry, as Python ints.

    Raises
    ------
    ValueError
        For an unknown padding, an entry of the wrong length, a value below
        1, an even width with ``"same"`` padding, or a single entry given
        without the enclosing tuple.
    TypeError
        For a ``conv_layers`` that is not a tuple or list, or a value that is
        not an integer.
    """
    if not (isinstance(conv_padding, str) and conv_padding in CONV_PADDINGS):
        raise ValueError(
            f"conv_padding must be 'same' or 'causal', got {conv_padding!r}: "
            "'same' pads width // 2 zeros on both sides (odd widths), 'causal' "
            "pads width - 1 zeros on the left only (for streaming)."
        )
    if not isinstance(conv_layers, (tuple, list)):
        raise TypeError(
            "conv_layers must be a tuple of (filters, width) or (filters, "
            f"width, stride) entries, got {conv_layers!r}; {_EXAMPLE}, or () "
            "for no convolution."
        )
    if conv_layers and all(_is_integer(v) for v in conv_layers):
        entry = tuple(int(v) for v in conv_layers)
        raise ValueError(
            f"conv_layers got {entry!r}, a single entry rather than a tuple of "
            f"entries; wrap it in a tuple: conv_layers=({entry!r},)."
        )
    layers = []
    for k, entry in enumerate(conv_layers):
        if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
            raise ValueError(
                f"conv_layers[{k}] is {entry!r}; each entry must be (filters, "
                "width) or (filters, width, stride), for example (64, 5) or "
                "(64, 5, 2)."
            )
        for name, value in zip(("filters", "width", "stride"), entry):
            if not _is_integer(value):
                raise TypeError(
                    f"conv_layers[{k}] has {name}={value!r} "
                    f"({type(value).__name__}); filters, width and stride "
                    "must be integers."
                )
            if value < 1:
                raise ValueError(
                    f"conv_layers[{k}] has {name}={value}; filters, width and "
                    "stride must be positive integers (at least 1)."
                )
        filters, width, *rest = (int(v) for v in entry)
        stride = rest[0] if rest else 1
        if conv_padding == "same" and width % 2 == 0:
            raise ValueError(
                f"conv_layers[{k}] has width {width}, but conv_padding='same' "
                "needs an odd width (width // 2 zeros on each side keep every "
                f"output step centred on its input step); use width {width - 1} "
                f"or {width + 1}, or conv_padding='causal'."
            )
        layers.append(ConvLayer(filters, width, stride))
    return tuple(layers)


def check_unit_stride(layers, reason):
    """Refuse strides above 1, for outputs that need one value per input step.

    Parameters
    ----------
    layers : tuple of ConvLayer
        As returned by :func:`check_conv_layers`.
    reason : str
        Who needs it and why, completing "..., but {reason}", for example
        ``"SequenceTagger predicts one label per input step"``.
    """
    for k, layer in enumerate(layers):
        if layer.stride != 1:
            raise ValueError(
                f"conv_layers[{k}] has stride {layer.stride}, but {reason}, "
                f"and a stride of {layer.stride} leaves ceil(T / "
                f"{layer.stride}) output steps for T input steps; use entries "
                "(filters, width) or (filters, width, 1)."
            )


def output_lengths(lengths, layers):
    """Steps per sequence after ``layers``: ``ceil(L / stride)`` per layer."""
    lengths = np.asarray(lengths, dtype=np.int64)
    for layer in layers:
        lengths = -(-lengths // layer.stride)
    return lengths


def _block_steps(n_rows, n_steps, row_bytes):
    """Output steps per GEMM block (at least 1, at most ``n_steps``)."""
    by_rows = -(-_BLOCK_MIN_ROWS // max(n_rows, 1))
    by_bytes = _BLOCK_BYTES // max(n_rows * row_bytes, 1)
    return max(1, min(n_steps, max(by_rows, by_bytes)))


def _layer_forward(X, lengths, W, b, stride, left, n_block, Y):
    """:func:`conv_forward` of every chunk, one chunk per thread."""

    def run_chunk(c):
        conv_forward(X[c], lengths[c], W, b, stride, left, n_block, Y[c])

    run_chunks(run_chunk, X.shape[0])


def _layer_backward(X, lengths, W, stride, left, n_block, Y, dY, dX, dW, db):
    """:func:`conv_backward` of every chunk; ``dW`` and ``db`` are per chunk."""

    def run_chunk(c):
        conv_backward(
            X[c], lengths[c], W, stride, left, n_block, Y[c], dY[c], dX[c],
            dW[c], db[c],
        )  # fmt: skip

    run_chunks(run_chunk, X.shape[0])


@dataclass
class ConvCache:
    """What the backward pass needs: every layer's input, lengths and output."""

    inputs: list  # (C, T_k, Bc, in_channels_k) per layer
    lengths: list  # (C, Bc) int64 per layer, of its input
    outputs: list  # (C, T_{k+1}, Bc, filters_k) per layer


class ConvFrontEnd:
    """Stacked 1-D convolutions plus ReLU over a chunk-major batch.

    Parameters
    ----------
    conv_layers : tuple of tuple
        Entries ``(filters, width)`` or ``(filters, width, stride)``, in
        order (checked by :func:`check_conv_layers`).
    conv_padding : {"same", "causal"}
        Padding of every layer.
    n_inputs : int
        Features per step of the input.

    Attributes
    ----------
    layers : tuple of ConvLayer
        The validated layers.
    in_channels : tuple of int
        Input channels of each layer.
    """

    def __init__(self, conv_layers, conv_padding, n_inputs):
        if not _is_integer(n_inputs) or n_inputs < 1:
            raise ValueError(f"n_inputs must be a positive integer, got {n_inputs!r}.")
        self.layers = check_conv_layers(conv_layers, conv_padding)
        self.conv_padding = conv_padding
        self.n_inputs = int(n_inputs)
        channels = [self.n_inputs] + [layer.filters for layer in self.layers]
        self.in_channels = tuple(channels[:-1])

    @property
    def n_outputs(self):
        """Features per step after the last layer (``n_inputs`` without layers)."""
        return self.layers[-1].filters if self.layers else self.n_inputs

    @property
    def stride(self):
        """Product of the layers' strides."""
        return int(np.prod([layer.stride for layer in self.layers], dtype=np.int64))

    @property
    def receptive_field(self):
        """Input steps that one output step reads: ``1 + sum_k (w_k - 1) * S_k``,
        ``S_k`` the product of the strides of the layers before layer ``k``.

        Causal output step ``t`` reads input steps from ``t * stride -
        receptive_field + 1`` to ``t * stride`` (every one of them unless a
        layer's stride exceeds its width); a stream keeps the last
        ``width - 1`` input steps of each layer. With "same" padding and
        unit strides the span is centred on ``t``.
        """
        field, step = 1, 1
        for layer in self.layers:
            field += (layer.width - 1) * step
            step *= layer.stride
        return field

    @property
    def causal(self):
        """Whether output step ``t`` reads no input step after ``t * stride``."""
        return self.conv_padding == "causal"

    def layout(self):
        """``(name, shape, is_weight)`` of each parameter, in flat-vector order."""
        shapes = []
        for k, (layer, n_in) in enumerate(zip(self.layers, self.in_channels)):
            shapes += [
                (f"conv.{k}.weight", (layer.filters, n_in, layer.width), True),
                (f"conv.{k}.bias", (layer.filters,), False),
            ]
        return shapes

    @property
    def n_params(self):
        """Number of parameters (the length of their flat vector)."""
        return sum(int(np.prod(shape)) for _, shape, _ in self.layout())

    def views(self, vector):
        """Named views of a flat vector holding only these parameters."""
        out, start = {}, 0
        for name, shape, _ in self.layout():
            stop = start + int(np.prod(shape))
            out[name] = vector[start:stop].reshape(shape)
            start = stop
        return out

    def initialize(self, P, random_state):
        """Fill the views ``P`` with PyTorch ``Conv1d``'s default initial values.

        Weights and biases uniform in ``[-1 / sqrt(fan_in), 1 / sqrt(fan_in)]``
        with ``fan_in = in_channels * width`` (``kaiming_uniform_`` with
        ``a = sqrt(5)``, and the bias rule of ``Conv1d.reset_parameters``),
        drawn in float64 from ``check_random_state(random_state)`` in layout
        order (each layer's weight, then its bias).
        """
        rng = check_random_state(random_state)
        for k, (layer, n_in) in enumerate(zip(self.layers, self.in_channels)):
            bound = 1.0 / np.sqrt(n_in * layer.width)
            W, b = P[f"conv.{k}.weight"], P[f"conv.{k}.bias"]
            W[...] = rng.uniform(-bound, bound, size=W.shape)
            b[...] = rng.uniform(-bound, bound, size=b.shape)
        return P

    def init_params(self, random_state, dtype=np.float64):
        """A flat vector of initial parameters (see :meth:`initialize`)."""
        theta = np.zeros(self.n_params)
        self.initialize(self.views(theta), random_state)
        return theta.astype(dtype)

    def output_lengths(self, lengths):
        """Steps of each sequence after the front end."""
        return output_lengths(lengths, self.layers)

    def output_steps(self, n_steps):
        """Steps of a batch of ``n_steps`` steps after the front end."""
        return int(output_lengths(n_steps, self.layers))

    def _weights(self, P, k, dtype):
        W = np.ascontiguousarray(P[f"conv.{k}.weight"], dtype=dtype)
        b = np.ascontiguousarray(P[f"conv.{k}.bias"], dtype=dtype)
        return W, b

    def forward(self, P, X, lengths, *, n_block=None, workspace=None):
        """Run every layer over a batch.

        Parameters
        ----------
        P : mapping
            Parameter arrays by name (``conv.{k}.weight``, ``conv.{k}.bias``);
            the computation runs in the dtype of ``conv.0.weight``.
        X : ndarray of shape (C, T, Bc, n_inputs)
            Inputs in the chunk-major layout; steps at or after a row's
            length are not read.
        lengths : ndarray of shape (C, Bc)
            Row lengths in ``[0, T]``.
        n_block : int or None, default=None
            Output steps per GEMM; None chooses by size (results agree to
            rounding whatever the block).
        workspace : Workspace or None, default=None
            Memory to reuse for the layers' outputs (keys ``("conv", k)``),
            as a fit's training steps reuse it
            (:class:`skrnn._network.Workspace`); None allocates it.

        Returns
        -------
        Y : ndarray of shape (C, output_steps(T), Bc, n_outputs)
            Outputs, zero at the steps at or after each row's new length.
        lengths : ndarray of shape (C, Bc), int64
            ``ceil(L / stride)`` of each row, layer by layer.
        cache : ConvCache
            For :meth:`backward`.
        """
        lengths = np.ascontiguousarray(lengths, dtype=np.int64)
        X, lengths = self._check_batch(X, lengths)
        cache = ConvCache([], [], [])
        if not self.layers:
            return X, lengths, cache
        dtype = np.asarray(P["conv.0.weight"]).dtype
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"Parameters must be float32 or float64, got {dtype}.")
        X = np.ascontiguousarray(X, dtype=dtype)
        for k, layer in enumerate(self.layers):
            W, b = self._weights(P, k, dtype)
            C, T, Bc, _ = X.shape
            T_out = -(-T // layer.stride)
            shape = (C, T_out, Bc, layer.filters)
            if workspace is None:
                Y = np.empty(shape, dtype)
            else:
                Y = workspace.empty(("conv", k), shape, dtype)
            steps = n_block or _block_steps(
                Bc, T_out, X.shape[3] * layer.width * X.itemsize
            )
            left = layer.left(self.conv_padding)

            _layer_forward(X, lengths, W, b, layer.stride, left, steps, Y)
            cache.inputs.append(X)
            cache.lengths.append(lengths)
            cache.outputs.append(Y)
            X, lengths = Y, -(-lengths // layer.stride)
        return X, lengths, cache

    def backward(self, P, cache, dY, *, dP=None, input_gradient=True, n_block=None):
        """Gradients of every layer, from the gradient w.r.t. the outputs.

        Parameters
        ----------
        P : mapping
            The parameters given to :meth:`forward`.
        cache : ConvCache
            As returned by :meth:`forward`.
        dY : ndarray of shape (C, output_steps(T), Bc, n_outputs)
            Gradient w.r.t. the front end's outputs; entries at steps at or
            after a row's output length are not read.
        dP : mapping or None, default=None
            Arrays to overwrite with the parameter gradients, by name (views
            of a flat gradient vector); None allocates them.
        input_gradient : bool, default=True
            Whether to compute the gradient w.r.t. the front end's input
            (not needed when the input is the data).
        n_block : int or None, default=None
            As in :meth:`forward`.

        Returns
        -------
        dP : dict
            Parameter gradients by name.
        dX : ndarray of shape (C, T, Bc, n_inputs) or None
            Gradient w.r.t. the input, zero at padded steps; None without
            ``input_gradient`` (or without layers, where it is ``dY``).
        """
        grads = {} if dP is None else dP
        if not self.layers:
            return grads, (dY if input_gradient else None)
        dtype = cache.outputs[-1].dtype
        dY = np.ascontiguousarray(dY, dtype=dtype)
        if dY.shape != cache.outputs[-1].shape:
            raise ValueError(
                f"dY has shape {dY.shape}; the front end's output has shape "
                f"{cache.outputs[-1].shape}."
            )
        for k in reversed(range(len(self.layers))):
            layer = self.layers[k]
            X, lengths, Y = cache.inputs[k], cache.lengths[k], cache.outputs[k]
            W, _ = self._weights(P, k, dtype)
            C, T, Bc, n_in = X.shape
            need_dX = k > 0 or input_gradient
            dX = np.empty((C, T if need_dX else 0, Bc, n_in), dtype)
            dW = [np.empty(W.shape, dtype) for _ in range(C)]
            db = [np.empty(layer.filters, dtype) for _ in range(C)]
            steps = n_block or _block_steps(
                Bc, Y.shape[1], n_in * layer.width * X.itemsize
            )
            left = layer.left(self.conv_padding)

            _layer_backward(X, lengths, W, layer.stride, left, steps, Y, dY, dX, dW, db)
            # Summed in chunk order: results depend on the chunks, not on timing.
            for c in range(1, C):
                dW[0] += dW[c]
                db[0] += db[c]
            for name, value in ((f"conv.{k}.weight", dW[0]), (f"conv.{k}.bias", db[0])):
                if name in grads:
                    grads[name][...] = value
                else:
                    grads[name] = value
            dY = dX
        return grads, (dY if input_gradient else None)

    def _check_batch(self, X, lengths):
        """Cheap checks of a batch's shapes: what a caller got wrong, in words."""
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[3] != self.n_inputs:
            raise ValueError(
                "X must have shape (n_chunks, n_steps, chunk_size, "
                f"{self.n_inputs}), got {X.shape}."
            )
        if lengths.shape != (X.shape[0], X.shape[2]):
            raise ValueError(
                f"lengths must have shape {(X.shape[0], X.shape[2])} "
                f"(n_chunks, chunk_size), got {lengths.shape}."
            )
        if lengths.size and (lengths.min() < 0 or lengths.max() > X.shape[1]):
            raise ValueError(
                f"lengths must lie in [0, {X.shape[1]}] (the batch's steps), "
                f"got values in [{lengths.min()}, {lengths.max()}]."
            )
        return X, lengths


def onnx_front_end(front, graph, P, x, lengths=None):
    """Add the front end's nodes to an ONNX graph being built (opset >= 15).

    Each layer is a ``Conv`` (``pads = [left, width - 1 - left]``, so
    ``ceil(T / stride)`` output steps) and a ``Relu``. ONNX convolves the
    padded batch as a whole, so with ``lengths`` every layer's input is
    multiplied by a mask of its real steps: steps beyond a sequence's length
    are zeros whatever the batch holds there, as in :meth:`ConvFrontEnd.forward`
    (without the masks, a stacked layer would read the ReLU of the bias at the
    padded steps of the layer below). The lengths become ``ceil(L / stride)``
    per layer, for the recurrent nodes' ``sequence_lens``.

    Parameters
    ----------
    front : ConvFrontEnd
        The front end.
    graph : object
        The graph being built: ``graph.constant(hint, value)`` adds an
        initializer and ``graph.node(op, inputs, hint=None, **attributes)``
        a node, each returning the name of its output (as
        ``skrnn.onnx``'s builder does).
    P : mapping
        The parameters by name (cast to float32).
    x : str
        Name of the float32 input, batch-major ``(N, T, n_inputs)``.
    lengths : str or None, default=None
        Name of the int32 lengths ``(N,)``, or None when every sequence has
        all ``T`` steps.

    Returns
    -------
    y : str
        Name of the output, batch-major ``(N, T', n_outputs)``.
    lengths : str or None
        Name of the int32 output lengths ``(N,)`` (None without ``lengths``).
    """
    h = graph.node("Transpose", [x], perm=[0, 2, 1])  # (N, I, T)
    for k, layer in enumerate(front.layers):
        if lengths is not None:
            h = graph.node("Mul", [h, _onnx_step_mask(graph, h, lengths)])
        left = layer.left(front.conv_padding)
        weight = np.asarray(P[f"conv.{k}.weight"], dtype=np.float32)
        bias = np.asarray(P[f"conv.{k}.bias"], dtype=np.float32)
        h = graph.node(
            "Conv",
            [h, graph.constant(f"conv_{k}_weight", weight),
             graph.constant(f"conv_{k}_bias", bias)],
            f"conv_{k}", kernel_shape=[layer.width], strides=[layer.stride],
            pads=[left, layer.width - 1 - left],
        )  # fmt: skip
        h = graph.node("Relu", [h], f"conv_{k}_relu")
        if lengths is not None and layer.stride > 1:
            lengths = graph.node(
                "Div",
                [graph.node("Add", [lengths, graph.constant(
                    f"conv_{k}_round_up", np.int32(layer.stride - 1))]),
                 graph.constant(f"conv_{k}_stride", np.int32(layer.stride))],
                f"conv_{k}_lengths",
            )  # fmt: skip
    if lengths is not None and front.layers:
        h = graph.node("Mul", [h, _onnx_step_mask(graph, h, lengths)])
    return graph.node("Transpose", [h], "conv_out", perm=[0, 2, 1]), lengths


def _onnx_step_mask(graph, h, lengths):
    """A float32 ``(N, 1, T)`` mask of the real steps of ``h`` ``(N, C, T)``."""
    n_steps = graph.node(
        "Squeeze",
        [graph.node("Shape", [h], start=2, end=3), graph.constant("axis0", [0])],
    )
    steps = graph.node(
        "Range",
        [
            graph.constant("zero", np.int64(0)),
            n_steps,
            graph.constant("one", np.int64(1)),
        ],
    )
    real = graph.node(
        "Less",
        [graph.node("Unsqueeze", [steps, graph.constant("axis0", [0])]),
         graph.node("Unsqueeze", [graph.node("Cast", [lengths], to=7),
                                  graph.constant("axis1", [1])])],
    )  # fmt: skip
    mask = graph.node("Cast", [real], to=1)  # float32, (N, T)
    return graph.node("Unsqueeze", [mask, graph.constant("axis1", [1])])


class ConvStream:
    """A causal front end fed step by step: the state of ``n_streams`` sequences.

    Each layer keeps, per stream, its last ``width - 1`` input steps (a ring
    buffer, zeros before the first step: the causal padding) and the number
    of steps it has seen, which fixes the phase of its stride. Pushing steps
    gives the output steps they complete, equal to what
    :meth:`ConvFrontEnd.forward` gives over each stream's whole sequence so
    far.

    Parameters
    ----------
    front : ConvFrontEnd
        A front end with ``conv_padding="causal"``.
    P : mapping
        Its parameters by name; copied, in their dtype (float32 or float64).
    n_streams : int, default=1
        Number of independent sequences.
    """

    def __init__(self, front, P, n_streams=1):
        if not front.causal:
            raise ValueError(
                f"Only a causal front end can stream, got conv_padding="
                f"{front.conv_padding!r}: with 'same' padding an output step "
                "reads input steps after it, which a live stream has not seen "
                "yet. Use conv_padding='causal' to stream."
            )
        self.front = front
        self.n_streams = int(n_streams)
        self._weights = []
        for k in range(len(front.layers)):
            W = np.array(P[f"conv.{k}.weight"], order="C")
            self._weights.append((W, np.array(P[f"conv.{k}.bias"], dtype=W.dtype)))
        self.dtype = self._weights[0][0].dtype if self._weights else np.float64
        self._history = [
            np.zeros((self.n_streams, max(layer.width - 1, 1), n_in), self.dtype)
            for layer, n_in in zip(front.layers, front.in_channels)
        ]
        self._seen = [np.zeros(self.n_streams, np.int64) for _ in front.layers]
        self._steps = np.zeros(self.n_streams, np.int64)

    def push(self, X, counts=None):
        """Feed the next steps of every stream.

        Parameters
        ----------
        X : ndarray of shape (n_streams, k, n_inputs)
            The next steps.
        counts : ndarray of shape (n_streams,) or None, default=None
            Steps of each stream in ``X`` (the rest is not read); None for
            ``k`` each.

        Returns
        -------
        Y : ndarray of shape (n_streams, k_out, n_outputs)
            The output steps completed, stream ``n``'s in
            ``Y[n, :out_counts[n]]`` and zeros after them.
        out_counts : ndarray of shape (n_streams,), int64
            Output steps completed per stream: those of the input steps
            pushed that fall on a multiple of each layer's stride.
        """
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 3 or X.shape[::2] != (self.n_streams, self.front.n_inputs):
            raise ValueError(
                f"X must have shape ({self.n_streams}, k, {self.front.n_inputs}) "
                f"(streams, steps, features), got {X.shape}."
            )
        if counts is None:
            counts = np.full(self.n_streams, X.shape[1], np.int64)
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        if (
            counts.shape != (self.n_streams,)
            or not ((counts >= 0) & (counts <= X.shape[1])).all()
        ):
            raise ValueError(
                f"counts must hold {self.n_streams} values in [0, {X.shape[1]}] "
                f"(the steps of each stream in X), got {counts.tolist()}."
            )
        self._steps += counts
        X = np.ascontiguousarray(X)
        for layer, (W, b), history, seen in zip(
            self.front.layers, self._weights, self._history, self._seen
        ):
            k_out = -(-X.shape[1] // layer.stride)
            Y = np.zeros((self.n_streams, k_out, layer.filters), self.dtype)
            out_counts = np.empty(self.n_streams, np.int64)
            conv_stream_push(
                X, counts, W, b, layer.stride, history, seen, Y, out_counts
            )
            X, counts = Y, out_counts
        return X, counts

    @property
    def steps_seen(self):
        """Input steps each stream has had, ``(n_streams,)``."""
        return self._steps.copy()

    def reset(self, streams=None):
        """Start the given streams (None: all) again from an empty history."""
        index = slice(None) if streams is None else np.asarray(streams)
        for history, seen in zip(self._history, self._seen):
            history[index] = 0
            seen[index] = 0
        self._steps[index] = 0
        return self
