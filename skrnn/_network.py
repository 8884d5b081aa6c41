"""The recurrent network: parameter layout, initialisation, loss and gradient.

A network is stacked recurrent layers (optionally bidirectional) followed by a
dense output head. All parameters live in one flat vector; named views with
PyTorch's names and shapes (``weight_ih_l0``, ``weight_hh_l0_reverse``,
``output.weight``, ...) are cut from it, so the optimisers (including scipy's
L-BFGS) work on one array and the estimators can export weights by name.

:meth:`RecurrentNetwork.loss_and_grad` is the single entry point for training:
it runs the Numba kernels of :mod:`skrnn._kernels` layer by layer and direction
by direction, applies the head and the loss, and backpropagates through time.
"""

import inspect
from dataclasses import dataclass, replace

import numpy as np
from sklearn.utils import check_random_state

from ._conv import ConvFrontEnd, check_conv_layers
from ._kernels import ACTIVATION_CODES, cell_spec
from ._kernels._dense import add_rows
from ._losses import LOSS_ACTIVATION, OUT_ACTIVATIONS, loss_and_delta
from ._runtime import layer_backward, layer_forward, store_width
from ._runtime._dispatch import LayerState, LayerWeights


def scatter_rows(dE, ids, dX):
    """``dE[v] = sum of dX[j] over ids[j] == v``: an embedding's gradient."""
    dE[...] = 0.0
    add_rows(dX, ids, dE)


def conv_views(P, prefix):
    """The convolutions' views in ``P``, named as a ``ConvFrontEnd`` reads them.

    ``{prefix}conv.{k}.weight`` and ``.bias`` become ``conv.{k}.weight`` and
    ``.bias``.
    """
    n = len(prefix)
    return {
        name[n:]: value
        for name, value in P.items()
        if name.startswith(f"{prefix}conv.")
    }


# The four parameters of a layer-direction, as their names begin.
_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass
class DirectionCache:
    """What one layer-direction's forward pass leaves for the backward pass."""

    suffix: str  # "" or "_reverse": the parameter names' suffix
    h0: np.ndarray  # initial states (C, Bc, H) and (C, Bc, c_size)
    c0: np.ndarray
    h_n: np.ndarray  # final states, same shapes
    c_n: np.ndarray
    store: np.ndarray  # what the kernels stored for BPTT


@dataclass
class LayerCache:
    """One stacked layer's input, output and directions."""

    inputs: np.ndarray  # (C, T, Bc, I): the layer's input
    outputs: np.ndarray  # (C, T, Bc, D * H), or (C, 0, Bc, D * H) if unused
    directions: list  # a DirectionCache per direction
    dropout_mask: np.ndarray | None  # applied to outputs before the next layer


@dataclass
class StackCache:
    """What :meth:`LayerStack.forward` leaves for :meth:`LayerStack.backward`."""

    layers: list  # a LayerCache per stacked layer, the bottom one first
    # The batch the layers ran on: the stack's input batch, or, after a
    # convolution front end, its frames (the front end's outputs and their
    # strided lengths, the rows' positions unchanged).
    frames: object = None
    front: object = None  # the front end's ConvCache, or None

    @property
    def outputs(self):
        """The top layer's outputs ``(C, T, Bc, D * H)`` (``T`` 0 if not kept)."""
        return self.layers[-1].outputs

    def final_states(self):
        """``[[(h_n, c_n) per direction] per layer]``: each row's state after
        its last real step (a row of length 0 keeps its initial state)."""
        return [[(d.h_n, d.c_n) for d in layer.directions] for layer in self.layers]


@dataclass
class ForwardCache:
    """The whole forward pass: the stack, the head's input and its dropout mask."""

    stack: StackCache
    head_input: np.ndarray  # (rows, features) the output layer read
    head_mask: np.ndarray | None

    @property
    def layers(self):
        return self.stack.layers


@dataclass(frozen=True)
class ParameterBlock:
    """One named parameter: its place in the flat vector and its shape."""

    name: str
    shape: tuple
    start: int
    stop: int
    is_weight: bool  # weights get the L2 penalty, biases do not


def _orthogonal(n, rng):
    """Random ``n x n`` orthogonal matrix, uniform over the orthogonal group."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    # Fixing the signs by diag(r) makes the distribution uniform (Haar).
    return q * np.sign(np.diag(r) + (np.diag(r) == 0))


def _glorot_uniform(fan_out, fan_in, rng):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_out, fan_in))


class Workspace:
    """Memory reused by the successive training steps of one fit.

    A training step stores, per layer and direction, what backpropagation
    through time needs: for an LSTM, ``7 * H`` values per row and step.
    Allocated afresh for every mini-batch, that memory is mapped and zeroed
    again by the operating system at every step, and when the kernel has to
    assemble large pages for it (NumPy asks for them), a step can spend more
    time in the kernel than in the computation. A fit keeps one workspace
    for its duration and drops it afterwards, so that a fitted model holds no
    scratch memory.

    Buffers grow to the largest batch seen and are never shrunk; a buffer is
    an uninitialised scratch area, valid until the next request of its key.
    """

    def __init__(self):
        self._buffers = {}

    def empty(self, key, shape, dtype):
        """An uninitialised C-contiguous array, reusing the memory of ``key``."""
        size = int(np.prod(shape))
        buffer = self._buffers.get(key)
        if buffer is None or buffer.dtype != dtype or buffer.size < size:
            buffer = np.empty(size, dtype)
            self._buffers[key] = buffer
        return buffer[:size].reshape(shape)


def direction_states(rows, H, c_size, dtype, initial=None):
    """``(h0, c0, h_n, c_n)`` of one layer-direction over ``rows = (C, Bc)``.

    The initial states are zeros, or ``initial = (h0, c0)`` made contiguous in
    ``dtype``; the final ones are empty arrays for the kernel to fill.
    """
    if initial is None:
        h0 = np.zeros((*rows, H), dtype)
        c0 = np.zeros((*rows, c_size), dtype)
    else:
        h0 = np.ascontiguousarray(initial[0], dtype=dtype)
        c0 = np.ascontiguousarray(initial[1], dtype=dtype)
    return h0, c0, np.empty((*rows, H), dtype), np.empty((*rows, c_size), dtype)


class LayerStack:
    """Stacked recurrent layers of a network: the one layer loop of skrnn.

    Every stack of a network runs here: the layers of a
    :class:`RecurrentNetwork`, and the encoder and the decoder of a
    :class:`~skrnn._translation_network.TranslationNetwork`. A stack reads
    its cell, activation, layer sizes and dropout rate from ``network``
    when it runs (so it is cheap to make, and never out of date) and its
    parameters from the network's named views: layer ``k`` of direction
    ``d`` has ``{prefix}weight_ih_l{k}`` and so on, with ``_reverse`` for
    the backward direction.

    The layers run in the chunked batch layout of :mod:`skrnn._runtime`:
    per-step arrays ``(C, T, Bc, features)``, per-row states ``(C, Bc, H)``,
    ``lengths`` ``(C, Bc)``. One interface serves every use:

    - :meth:`inputs` reads the bottom layer's input from a batch: the rows
      of the embedding ``embedding`` of its token ids, or its features
      (:meth:`run` reads them and runs :meth:`forward`);
    - :meth:`forward` runs the layers from given initial states (or zeros),
      keeps what backpropagation needs for ``n_store`` steps in a workspace,
      drops out the outputs of every layer below the top in training, and
      returns a :class:`StackCache` with every layer's outputs and final
      states;
    - :meth:`backward` takes the gradients of the top layer's outputs and of
      any layer's final states, adds the parameter gradients (and the
      embedding's) and returns those of the initial states, which is what a
      decoder's bridge or a carried state needs.

    A stack whose input is not known before it runs (a decoder fed back its
    own outputs or attention context) runs :meth:`forward` one step at a
    time, ``T = 1`` with the state of the step before as ``initial``.

    Parameters
    ----------
    network : FlatNetwork
        The network the stack belongs to.
    prefix : str, default=""
        What the stack's parameter names begin with (``"encoder."``).
    n_directions : int, default=1
        2 for bidirectional layers.
    embedding : str or None, default=None
        Name of the embedding matrix the bottom layer reads token ids
        through, or None when the input is features.
    front : ConvFrontEnd or None, default=None
        Convolutions between the input (features, or embedded tokens) and
        the bottom layer, with parameters ``{prefix}conv.{k}.weight`` and
        ``{prefix}conv.{k}.bias``; :meth:`run` runs them, and the layers
        then run on their frames (``ceil(L / stride)`` steps per row).
    """

    def __init__(self, network, prefix="", n_directions=1, embedding=None, front=None):
        self.network = network
        self.prefix = prefix
        self.n_directions = n_directions
        self.embedding = embedding
        self.front = front if front is not None and front.layers else None

    def _front_views(self, P):
        """The front end's views of ``P`` under the names it reads."""
        return conv_views(P, self.prefix)

    def _weights(self, P, k, suffix):
        return self.network.layer_weights(P, f"{self.prefix}{{}}_l{k}{suffix}")

    def inputs(self, P, batch):
        """The bottom layer's input ``(C, T, Bc, I)`` for ``batch``."""
        if self.embedding is None:
            dtype = P[f"{self.prefix}weight_ih_l0"].dtype
            return batch.X.astype(dtype, copy=False)
        # Padded entries hold id 0: their rows are read but the kernels skip
        # padded steps and the gradient scatter masks them out.
        return P[self.embedding][batch.X[..., 0].astype(np.intp)]

    def run(self, P, batch, **options):
        """:meth:`forward` on the input and lengths of ``batch``.

        With a front end, the convolutions run first and the layers run on
        their frames (``n_store`` is then counted in frames, at most all of
        them); the cache's ``frames`` is the batch the layers ran on.
        """
        inputs = self.inputs(P, batch)
        if self.front is None:
            cache = self.forward(P, inputs, batch.lengths, **options)
            cache.frames = batch
            return cache
        Y, lengths, front_cache = self.front.forward(
            self._front_views(P), inputs, batch.lengths,
            workspace=options.get("workspace"),
        )  # fmt: skip
        options["n_store"] = min(options.get("n_store", 0), Y.shape[1])
        cache = self.forward(P, Y, lengths, **options)
        cache.frames = replace(batch, X=Y, lengths=lengths)
        cache.front = front_cache
        return cache

    def forward(
        self, P, inputs, lengths, *, initial=None, top_steps=True, n_store=0,
        rng=None, workspace=None,
    ):  # fmt: skip
        """Run the layers; a :class:`StackCache`.

        Parameters
        ----------
        P : dict
            Views of the flat parameters.
        inputs : ndarray of shape (C, T, Bc, I)
            The bottom layer's input (see :meth:`inputs`).
        lengths : ndarray of shape (C, Bc), dtype int64
            Real steps of each row.
        initial : list or None, default=None
            Per layer, per direction, ``(h0, c0)`` of shapes ``(C, Bc, H)``
            and ``(C, Bc, c_size)``; None starts from zeros.
        top_steps : bool, default=True
            Whether the top layer writes its per-step outputs (a head that
            reads only final states does not need them).
        n_store : int, default=0
            Steps stored for the backward pass (0 in inference; see
            :mod:`skrnn._kernels` on truncation).
        rng : numpy.random.Generator or None, default=None
            Source of the dropout masks in training; None applies none.
        workspace : Workspace or None, default=None
            Memory reused for the stored steps; None allocates it.
        """
        net = self.network
        if workspace is None:
            workspace = Workspace()
        C, T, Bc = inputs.shape[:3]
        dtype = inputs.dtype
        D = self.n_directions
        L = len(net.hidden_layer_sizes)
        act = ACTIVATION_CODES[net.activation]
        c_factor = 1 if net.has_cell_state else 0
        layers = []
        for k, H in enumerate(net.hidden_layer_sizes):
            top = k == L - 1
            H_out = np.zeros((C, T if top_steps or not top else 0, Bc, D * H), dtype)
            directions = []
            for d in range(D):
                suffix = "_reverse" if d else ""
                h0, c0, h_n, c_n = direction_states(
                    (C, Bc), H, c_factor * H, dtype,
                    None if initial is None else initial[k][d],
                )  # fmt: skip
                store = workspace.empty(
                    (self.prefix, k, d), (C, n_store, Bc, store_width(net.cell, H)),
                    dtype,
                )  # fmt: skip
                layer_forward(
                    net.cell, inputs, lengths, self._weights(P, k, suffix),
                    LayerState(h0, c0), reverse=bool(d), act=act, H_out=H_out,
                    h_off=d * H, final=LayerState(h_n, c_n), store=store,
                )  # fmt: skip
                directions.append(DirectionCache(suffix, h0, c0, h_n, c_n, store))
            mask = None
            if rng is not None and net.dropout > 0 and not top:
                mask = net._dropout_mask(H_out.shape, dtype, rng)
            layers.append(LayerCache(inputs, H_out, directions, mask))
            inputs = H_out if mask is None else H_out * mask
        return StackCache(layers)

    def backward(self, P, dP, batch, cache, dH_top, *, d_final=None, segment_steps=0):
        """Backpropagate through the layers; the initial states' gradients.

        Parameters
        ----------
        P, dP : dict
            Views of the parameters and of the gradient; the stack's blocks
            of ``dP`` (and its embedding's) are written.
        batch : Batch
            The batch the stack ran on (its lengths, and its token ids).
        cache : StackCache
            What :meth:`forward` returned.
        dH_top : ndarray of shape (C, T, Bc, D * H)
            Gradient of the top layer's outputs, or an empty
            ``(C, 0, Bc, D * H)`` array where the top layer kept none.
        d_final : list or None, default=None
            Per layer, None or per direction ``(dh_n, dc_n)``: the gradients
            of the final states; None for zeros.
        segment_steps : int, default=0
            Cut of the carried gradient (see :mod:`skrnn._kernels`).

        Returns
        -------
        d_initial : list
            Per layer, per direction, ``(dh0, dc0)``.
        """
        net = self.network
        act = ACTIVATION_CODES[net.activation]
        layers = cache.layers
        d_initial = [None] * len(layers)
        dH_out = dH_top
        front = self.front if cache.front is not None else None
        lengths = batch.lengths if cache.frames is None else cache.frames.lengths
        for k in reversed(range(len(layers))):
            inputs = layers[k].inputs
            C, _, Bc, n_in = inputs.shape
            need = k > 0 or self.embedding or front is not None
            shape = inputs.shape if need else (C, 0, Bc, n_in)
            dX = np.zeros(shape, inputs.dtype)
            d_initial[k] = []
            for d, direction in enumerate(layers[k].directions):
                h0, c0 = direction.h0, direction.c0
                if d_final is None or d_final[k] is None:
                    dh_n, dc_n = np.zeros_like(h0), np.zeros_like(c0)
                else:
                    dh_n, dc_n = d_final[k][d]
                dh0, dc0 = np.empty_like(h0), np.empty_like(c0)
                layer_backward(
                    net.cell, inputs, lengths,
                    self._weights(P, k, direction.suffix), reverse=bool(d),
                    act=act, segment_steps=segment_steps, store=direction.store,
                    dH_out=dH_out, h_off=d * h0.shape[-1],
                    d_final=LayerState(dh_n, dc_n), dX=dX,
                    d_weights=self._weights(dP, k, direction.suffix),
                    d_initial=LayerState(dh0, dc0),
                )  # fmt: skip
                d_initial[k].append((dh0, dc0))
            mask_below = layers[k - 1].dropout_mask if k > 0 else None
            dH_out = dX if mask_below is None else dX * mask_below
        if front is not None:
            _, dX = front.backward(
                self._front_views(P), cache.front, dX, dP=self._front_views(dP),
                input_gradient=bool(self.embedding),
            )  # fmt: skip
        if self.embedding:
            # The input gradient of every real step, into its token's row.
            real = batch.step_mask()
            ids = batch.X[..., 0][real].astype(np.intp)
            scatter_rows(dP[self.embedding], ids, dX[real])
        return d_initial


class FlatNetwork:
    """What every network of skrnn shares: hyper-parameters, flat parameters.

    Subclasses spell out every argument, store their own, and pass the
    common ones on to this ``__init__`` (:meth:`shared_arguments` picks them),
    which stores those and lays the
    parameters out with the subclass's :meth:`_layout`: a list
    of ``(name, shape, is_weight)`` in the order of the flat vector. Every
    constructor argument is stored as an attribute of the same name, which
    :meth:`config` reads.
    """

    def __init__(
        self, cell, n_inputs, hidden_layer_sizes, n_outputs, *,
        bidirectional=False, activation="tanh", dropout=0.0, n_tokens=None,
        embedding_dim=None, conv_layers=(), conv_padding="same",
    ):  # fmt: skip
        if (n_tokens is None) != (embedding_dim is None):
            raise ValueError("n_tokens and embedding_dim go together.")
        if n_tokens is not None and int(n_inputs) != 1:
            raise ValueError(
                f"Token input has one id per step, got n_inputs={n_inputs}."
            )
        self.cell = cell
        self.n_inputs = int(n_inputs)
        self.hidden_layer_sizes = tuple(int(h) for h in hidden_layer_sizes)
        self.n_outputs = int(n_outputs)
        self.bidirectional = bool(bidirectional)
        self.activation = activation
        self.dropout = float(dropout)
        self.n_tokens = None if n_tokens is None else int(n_tokens)
        self.embedding_dim = None if embedding_dim is None else int(embedding_dim)
        # Plain tuples of ints, (filters, width, stride) per layer: the config
        # a saved model rebuilds from.
        self.conv_layers = tuple(
            tuple(layer) for layer in check_conv_layers(conv_layers, conv_padding)
        )
        self.conv_padding = conv_padding
        self.n_gates = cell_spec(cell).gates
        self.n_directions = 2 if bidirectional else 1
        self.blocks, start = [], 0
        for name, shape, is_weight in self._layout():
            stop = start + int(np.prod(shape))
            self.blocks.append(ParameterBlock(name, shape, start, stop, is_weight))
            start = stop
        self.n_params = start

    @staticmethod
    def shared_arguments(arguments):
        """The arguments of :class:`FlatNetwork`, picked from a subclass's.

        A subclass's ``__init__`` passes them on with
        ``super().__init__(**FlatNetwork.shared_arguments(locals()))``.
        """
        return {name: arguments[name] for name in _FLAT_NETWORK_ARGUMENTS}

    def config(self):
        """The constructor's arguments, as plain values: ``type(self)(**config())``
        builds the same network (how fitted estimators save theirs)."""
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        names = {
            name
            for klass in type(self).__mro__
            if issubclass(klass, FlatNetwork) and "__init__" in vars(klass)
            for name, parameter in inspect.signature(klass.__init__).parameters.items()
            if name != "self" and parameter.kind not in variadic
        }
        return {name: getattr(self, name) for name in sorted(names)}

    @property
    def front(self):
        """The :class:`~skrnn._conv.ConvFrontEnd` before the first recurrent
        layer (without layers when ``conv_layers`` is empty); it reads the
        embedded tokens of a network that embeds them."""
        n_in = self.embedding_dim if self.embeds else self.n_inputs
        return ConvFrontEnd(self.conv_layers, self.conv_padding, n_in)

    @property
    def stride(self):
        """Input steps per frame of the recurrent layers (1 without strides)."""
        return self.front.stride

    def frame_lengths(self, lengths):
        """Frames the recurrent layers see for sequences of ``lengths`` steps."""
        return self.front.output_lengths(lengths)

    def frame_batch(self, batch):
        """``batch`` as the recurrent layers see it, for scattering their
        per-frame outputs: its rows with their strided lengths (and no
        inputs)."""
        if not self.conv_layers:
            return batch
        C, T, Bc = batch.n_chunks, batch.n_steps, batch.chunk_size
        return replace(
            batch,
            X=np.empty((C, self.front.output_steps(T), Bc, 0), batch.X.dtype),
            lengths=self.front.output_lengths(batch.lengths),
        )

    @property
    def spec(self):
        """The :class:`~skrnn._kernels.CellSpec` of the cell."""
        return cell_spec(self.cell)

    @property
    def has_cell_state(self):
        """Whether the cell carries a cell state ``c`` next to ``h`` (LSTM)."""
        return self.spec.has_cell_state

    def layer_weights(self, P, name):
        """:class:`LayerWeights` of the layer-direction ``name`` in views ``P``.

        ``name`` is what the four parameter names share around their kind,
        as a format string: ``"weight_ih_l0_reverse"`` comes from
        ``"{}_l0_reverse"``.
        """
        return LayerWeights(*(P[name.format(kind)] for kind in _KINDS))

    def init_params(self, random_state, dtype=np.float64):
        """Initial flat parameter vector.

        By name, in the order of the layout: embedding rows are standard
        normal, as PyTorch's ``nn.Embedding``; recurrent weights
        (``weight_hh``) orthogonal, each gate's ``H x H`` block apart; every
        other weight (input, output, bridge, attention) Glorot-uniform;
        biases zero but a forget-gate bias of 1 (in ``bias_ih``) for cells
        with one. The convolutions' parameters are drawn after all of these
        (so a network without them starts where it always did), as PyTorch's
        ``Conv1d`` draws them (:meth:`~skrnn._conv.ConvFrontEnd.initialize`).
        Values are drawn in float64 and then cast, so float32 and float64
        models start from the same point.
        """
        rng = check_random_state(random_state)
        theta = np.zeros(self.n_params)
        G = self.n_gates
        conv = f"{self._conv_prefix}conv."
        for name, W in self.views(theta).items():
            if name.startswith(conv):
                continue
            if "embedding" in name:
                W[...] = rng.standard_normal(W.shape)
            elif "weight_hh" in name:
                H = W.shape[1]
                for g in range(G):
                    W[g * H : (g + 1) * H] = _orthogonal(H, rng)
            elif "bias" not in name:
                W[...] = _glorot_uniform(W.shape[0], W.shape[1], rng)
            elif "bias_ih" in name:
                self._init_forget_gate(W)
        if self.conv_layers:
            self.front.initialize(self._front_views(self.views(theta)), rng)
        return theta.astype(dtype)

    # What the convolutions' parameter names begin with, before "conv.".
    _conv_prefix = ""

    def _front_views(self, P):
        """The front end's views of ``P``, under the names it reads."""
        return conv_views(P, self._conv_prefix)

    def _init_forget_gate(self, W):
        """Set the forget-gate block of an input bias to 1, if the cell has one."""
        gate = self.spec.forget_gate
        if gate is not None:
            H = W.shape[0] // self.n_gates
            W[gate * H : (gate + 1) * H] = 1.0

    @property
    def embeds(self):
        """Whether the input is token ids read through an embedding."""
        return self.n_tokens is not None

    def views(self, vector):
        """Named views of a flat vector (parameters or gradient)."""
        return {b.name: vector[b.start : b.stop].reshape(b.shape) for b in self.blocks}

    def l2_penalty(self, theta):
        """``0.5 * sum(W**2)`` over the weights (not the biases)."""
        return 0.5 * sum(
            float(np.dot(theta[b.start : b.stop], theta[b.start : b.stop]))
            for b in self.blocks
            if b.is_weight
        )

    def _dropout_mask(self, shape, dtype, rng):
        """Inverted dropout: kept units scaled by ``1 / (1 - dropout)``."""
        keep = 1.0 - self.dropout
        return (rng.random(shape) < keep).astype(dtype) / dtype.type(keep)

    def add_l2_gradient(self, theta, grad, l2):
        """Add the gradient of ``l2 * l2_penalty(theta)`` to ``grad`` in place."""
        for b in self.blocks:
            if b.is_weight:
                grad[b.start : b.stop] += l2 * theta[b.start : b.stop]


# What FlatNetwork's __init__ takes: shared by every network.
_FLAT_NETWORK_ARGUMENTS = tuple(inspect.signature(FlatNetwork.__init__).parameters)[1:]


class RecurrentNetwork(FlatNetwork):
    """Stacked recurrent layers and a dense head over one flat parameter vector.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        Recurrent cell.
    n_inputs : int
        Features per step of the input.
    hidden_layer_sizes : tuple of int
        Hidden units of each stacked recurrent layer (per direction).
    n_outputs : int
        Units of the output layer.
    bidirectional : bool, default=False
        Whether each layer also runs from the end of each sequence to its start.
    activation : {"tanh", "relu", "logistic", "identity"}, default="tanh"
        Nonlinearity of the Elman cell (ignored by LSTM and GRU).
    loss : str or tuple, default="squared_error"
        Loss of the head; it fixes the output activation. One of
        ``"squared_error"``, ``"absolute_error"``, ``"poisson"`` (exponential
        output), ``"binary_log_loss"`` (logistic output), ``"log_loss"``
        (softmax output), or a pair ``("huber", delta)`` or
        ``("quantile", q)`` for the losses with a parameter (see
        :mod:`skrnn._losses`).
    per_step : bool, default=False
        If True the head reads every real step (many-to-many); otherwise it
        reads the final state of the last layer (many-to-one): the forward
        direction's state at the last real step and, if bidirectional, the
        backward direction's state at the first step.
    dropout : float, default=0.0
        Inverted dropout rate between stacked layers and before the head,
        applied in training only.
    n_tokens : int or None, default=None
        With an int, the input is one token id per step (``n_inputs`` must be
        1) and the first layer reads rows of a learned embedding matrix
        ``embedding.weight`` of shape ``(n_tokens, embedding_dim)``.
    embedding_dim : int or None, default=None
        Width of the embedding; required with ``n_tokens``.
    conv_layers : tuple of tuple, default=()
        Convolutions plus ReLU before the first recurrent layer (on the
        embedded tokens with ``n_tokens``), parameters ``conv.{k}.weight``
        and ``conv.{k}.bias`` (see :mod:`skrnn._conv`); the layers and the
        head run on their frames, ``ceil(T / stride)`` per sequence.
    conv_padding : {"same", "causal"}, default="same"
        Padding of the convolutions.
    """

    def __init__(
        self, cell, n_inputs, hidden_layer_sizes, n_outputs, *,
        bidirectional=False, activation="tanh", loss="squared_error",
        per_step=False, dropout=0.0, n_tokens=None, embedding_dim=None,
        conv_layers=(), conv_padding="same",
    ):  # fmt: skip
        super().__init__(**FlatNetwork.shared_arguments(locals()))
        # The layout does not depend on the loss: stored after it.
        self.loss = loss
        self.per_step = bool(per_step)

    @property
    def out_activation(self):
        return LOSS_ACTIVATION[self.loss]

    @property
    def state_sizes(self):
        """``(h_size, c_size)`` of each layer (``c_size`` is 0 but for LSTM)."""
        return [(H, H if self.has_cell_state else 0) for H in self.hidden_layer_sizes]

    def _layout(self):
        shapes = []
        in_size = self.n_inputs
        if self.embeds:
            # Embedding weights count as weights (L2 applies), as PyTorch's
            # weight decay treats nn.Embedding.weight.
            shapes.append(
                ("embedding.weight", (self.n_tokens, self.embedding_dim), True)
            )
            in_size = self.embedding_dim
        # The convolutions read the input (or the embedded tokens) before the
        # first recurrent layer: PyTorch's state_dict order.
        front = self.front
        shapes += front.layout()
        in_size = front.n_outputs
        G, D = self.n_gates, self.n_directions
        for k, H in enumerate(self.hidden_layer_sizes):
            for suffix in ("", "_reverse")[:D]:
                shapes += [
                    (f"weight_ih_l{k}{suffix}", (G * H, in_size), True),
                    (f"weight_hh_l{k}{suffix}", (G * H, H), True),
                    (f"bias_ih_l{k}{suffix}", (G * H,), False),
                    (f"bias_hh_l{k}{suffix}", (G * H,), False),
                ]
            in_size = D * H
        shapes += [
            ("output.weight", (self.n_outputs, in_size), True),
            ("output.bias", (self.n_outputs,), False),
        ]
        return shapes

    @property
    def stack(self):
        """The :class:`LayerStack` of the recurrent layers."""
        embedding = "embedding.weight" if self.embeds else None
        return LayerStack(self, "", self.n_directions, embedding, self.front)

    def _forward(
        self, theta, batch, *, train, n_store, rng, state=None, workspace=None
    ):
        """Run all layers and the head; return pre-activations and a ForwardCache."""
        P = self.views(theta)
        dtype = theta.dtype
        use_dropout = train and self.dropout > 0
        stack_cache = self.stack.run(
            P, batch, initial=state, top_steps=self.per_step, n_store=n_store,
            rng=rng if use_dropout else None, workspace=workspace,
        )  # fmt: skip
        if self.per_step:
            head_in = stack_cache.outputs
        else:
            top = stack_cache.layers[-1].directions
            head_in = np.concatenate([d.h_n for d in top], axis=-1)
        head_mask = None
        if use_dropout:
            head_mask = self._dropout_mask(head_in.shape, dtype, rng)
            head_in = head_in * head_mask
        A = head_in.reshape(-1, head_in.shape[-1])
        Z = A @ P["output.weight"].T
        Z += P["output.bias"]
        return Z, ForwardCache(stack_cache, A, head_mask)

    def forward(self, theta, batch, *, activate=True, state=None, return_state=False):
        """Outputs of the head for a batch (inference).

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            Flat parameters.
        batch : Batch
            Padded inputs.
        activate : bool, default=True
            Apply the output activation; False returns the pre-activations
            (what the losses take).
        state : list or None, default=None
            Initial recurrent state: for each layer, for each direction, a pair
            ``(h0, c0)`` of arrays ``(n_chunks, chunk_size, h_size)`` and
            ``(n_chunks, chunk_size, c_size)`` (see :attr:`state_sizes`), as
            returned with ``return_state=True``. None starts from zeros.
        return_state : bool, default=False
            Also return the state after each row's last real step (a row of
            length 0 keeps its initial state), in the form ``state`` takes.

        Returns
        -------
        outputs : ndarray
            ``(n_chunks, chunk_size, n_outputs)`` for a many-to-one network,
            ``(n_chunks, n_steps, chunk_size, n_outputs)`` for a per-step one
            (``n_steps`` counted in frames with ``conv_layers``: lay them out
            with :meth:`frame_batch`).
        state : list
            Only with ``return_state=True``.
        """
        if state is not None and self.conv_layers:
            raise ValueError(
                "A network with conv_layers cannot carry its recurrent state "
                "from one batch to the next: the convolutions read steps "
                "before the batch's first. Run it on the whole sequences."
            )
        Z, cache = self._forward(
            theta, batch, train=False, n_store=0, rng=None, state=state
        )
        if activate:
            Z = OUT_ACTIVATIONS[self.out_activation](Z)
        outputs = self._rows_shape(Z, cache.stack.frames)
        if not return_state:
            return outputs
        return outputs, cache.stack.final_states()

    def _rows_shape(self, rows, batch):
        C, T, Bc = batch.n_chunks, batch.n_steps, batch.chunk_size
        if self.per_step:
            return rows.reshape(C, T, Bc, -1)
        return rows.reshape(C, Bc, -1)

    def loss_and_grad(
        self, theta, batch, Y, weights, *, l2=0.0, bptt_steps=None, rng=None,
        grad=None, workspace=None,
    ):  # fmt: skip
        """Objective on a batch and its gradient with respect to ``theta``.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            Flat parameters (float32 or float64; everything runs in this dtype).
        batch : Batch
            Padded inputs.
        Y : ndarray
            Targets in batch layout: ``(C, Bc, n_outputs)`` or, per step,
            ``(C, T, Bc, n_outputs)``.
        weights : ndarray
            Weight of each row (``(C, Bc)``) or step (``(C, T, Bc)``) in the
            objective; zero for padding. The data term is
            ``sum(weights * row_loss)``.
        l2 : float, default=0.0
            Coefficient of ``0.5 * sum(W**2)`` over weights (``alpha`` divided
            by the number, or total weight, of sequences).
        bptt_steps : int or None, default=None
            Truncation of backpropagation through time: for a many-to-one
            network each layer backpropagates through its last ``bptt_steps``
            steps only; for a per-step network sequences are processed in
            chunks of ``bptt_steps`` steps that gradients do not cross.
            Steps are the recurrent layers' frames, after the convolutions'
            strides.
        rng : numpy.random.Generator or None
            Source of the dropout masks (needed if ``dropout > 0``).
        grad : ndarray of shape (n_params,), default=None
            Output array for the gradient.
        workspace : Workspace or None, default=None
            Memory to reuse for the states stored for the backward pass (a
            fit passes the same workspace to all its steps); None allocates
            it for this call.

        Returns
        -------
        loss : float
        grad : ndarray of shape (n_params,)
        """
        T = self.front.output_steps(batch.n_steps)  # frames
        truncate = bptt_steps is not None and bptt_steps < T
        n_store = bptt_steps if truncate and not self.per_step else T
        segment_steps = bptt_steps if truncate and self.per_step else 0
        Z, cache = self._forward(
            theta, batch, train=True, n_store=n_store, rng=rng, workspace=workspace
        )
        loss, dZ = self._head_loss(Z, cache.stack.frames, Y, weights)
        if grad is None:
            grad = np.empty_like(theta)
        P, dP = self.views(theta), self.views(grad)
        dP["output.weight"][...] = dZ.T @ cache.head_input
        dP["output.bias"][...] = dZ.sum(axis=0)
        dA = dZ @ P["output.weight"]
        if cache.head_mask is not None:
            dA = dA.reshape(cache.head_mask.shape) * cache.head_mask
        self._backward(P, dP, batch, cache.stack, dA, segment_steps)
        if l2:
            loss += l2 * self.l2_penalty(theta)
            self.add_l2_gradient(theta, grad, l2)
        return loss, grad

    def _head_loss(self, Z, batch, Y, weights):
        """Data term of the objective and its gradient ``dZ`` with respect to ``Z``.

        ``Z`` holds the head's pre-activations, one row per batch row (or per
        step and row): ``sum(weights * row_loss)`` of :attr:`loss`. A network
        whose loss does not decompose over rows (CTC sums over alignments of a
        whole sequence) overrides this; ``dZ`` keeps the shape of ``Z``.
        """
        dtype = Z.dtype
        return loss_and_delta(
            self.loss, Z, Y.reshape(-1, self.n_outputs).astype(dtype, copy=False),
            weights.reshape(-1).astype(dtype, copy=False),
        )  # fmt: skip

    def _backward(self, P, dP, batch, stack_cache, dA, segment_steps):
        """Backpropagate the head input's gradient ``dA`` through the layers."""
        frames = stack_cache.frames
        C, T, Bc = frames.n_chunks, frames.n_steps, frames.chunk_size
        DH = self.n_directions * self.hidden_layer_sizes[-1]
        d_final = None
        if self.per_step:
            dH_top = np.ascontiguousarray(dA.reshape(C, T, Bc, DH))
        else:
            # The head read the top layer's final states.
            dH_top = np.zeros((C, 0, Bc, DH), dA.dtype)
            dA = dA.reshape(C, Bc, DH)
            H = self.hidden_layer_sizes[-1]
            d_final = [None] * len(self.hidden_layer_sizes)
            top = stack_cache.layers[-1].directions
            d_final[-1] = [
                (
                    np.ascontiguousarray(dA[..., d * H : (d + 1) * H]),
                    np.zeros_like(t.c0),
                )
                for d, t in enumerate(top)
            ]
        self.stack.backward(
            P, dP, batch, stack_cache, dH_top, d_final=d_final,
            segment_steps=segment_steps,
        )  # fmt: skip
