"""Live streams: feed steps to a fitted model as they arrive, keep the state.

:meth:`BaseRecurrent.stream <skrnn.RNNRegressor.stream>` makes a
:class:`Stream` from a fitted unidirectional :class:`~skrnn.RNNRegressor`,
:class:`~skrnn.RNNClassifier` or :class:`~skrnn.SequenceTagger`. A stream
copies the model's weights once, laid out for
:func:`skrnn._kernels._stream.stream_forward`, and holds the recurrent state
of ``n_streams`` independent sequences. Each :meth:`Stream.push` checks its
input cheaply and makes one kernel call.

:func:`single_sequence_outputs` is the same kernel run from a zero state over
one whole sequence: the fast path of ``predict`` for one sequence, where the
batched kernels' fixed costs (batch layout, BLAS limits, a product per step
over a single row) would dominate.
"""

import threading
from numbers import Integral

import numpy as np
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._conv import ConvStream
from ._docstrings import insert_doc, stream_sections
from ._kernels import ACTIVATION_CODES, cell_spec
from ._kernels._stream import (
    CELL_CODES,
    HEAD_CODES,
    PACK_COPY,
    PACK_SUM,
    PACK_TRANSPOSE,
    PACK_ZERO,
    first_bad_input,
    pack,
    repack,
    stream_forward,
)
from ._network import RecurrentNetwork
from ._validation import Sequences

__all__ = [
    "Stream",
    "pack_parameters",
    "quick_sequences",
    "single_sequence_outputs",
    "stream",
]

# Stand-ins for the kernel argument a network does not read.
_NO_IDS = np.zeros((0, 0), dtype=np.int64)
_NO_STEPS = {
    np.dtype(np.float32): np.zeros((0, 0, 0), dtype=np.float32),
    np.dtype(np.float64): np.zeros((0, 0, 0), dtype=np.float64),
}


def _packing(network, head):
    """The plan, layout and state width of :func:`pack_parameters`.

    They depend only on the network's structure, so they are computed once
    per network object and kept on it.
    """
    key = ("_stream_packing", head)
    cached = network.__dict__.get(key)
    if cached is not None:
        return cached
    blocks = {b.name: b for b in network.blocks}
    cell = network.cell
    sizes = network.hidden_layer_sizes
    plan, size = [], 0

    def add(step, source, a, b=0):
        nonlocal size
        plan.append((step, source, a, b, size))
        start = size
        size += a * b if step == PACK_TRANSPOSE else a
        return start

    def transposed(name):
        block = blocks[name]
        return add(PACK_TRANSPOSE, block.start, *block.shape)

    layout = np.zeros((len(sizes) + 1, 8), dtype=np.int64)
    embedding, n_tokens, in_size = -1, 0, network.n_inputs
    if network.conv_layers:
        # The stream's convolutions (and the embedding before them) run
        # outside the kernel, which reads their frames.
        in_size = network.front.n_outputs
    elif network.embeds:
        table = blocks["embedding.weight"]
        embedding = add(PACK_COPY, table.start, table.stop - table.start)
        n_tokens, in_size = network.n_tokens, network.embedding_dim
    state_offset, apart = 0, network.spec.stream_apart_gates
    for k, H in enumerate(sizes):
        b_ih, b_hh = blocks[f"bias_ih_l{k}"].start, blocks[f"bias_hh_l{k}"].start
        W_ih, W_hh = transposed(f"weight_ih_l{k}"), transposed(f"weight_hh_l{k}")
        if apart:
            # Those gates add b_hh apart, as the GRU's r * (W_hn h + b_hn).
            summed = (network.n_gates - apart) * H
            bias = add(PACK_SUM, b_ih, summed, b_hh)
            add(PACK_COPY, b_ih + summed, apart * H)
            b_h = add(PACK_COPY, b_hh + summed, apart * H)
        else:
            bias = add(PACK_SUM, b_ih, network.n_gates * H, b_hh)
            b_h = add(PACK_ZERO, 0, H)
        c_offset = state_offset + H if network.has_cell_state else -1
        layout[k] = (in_size, H, W_ih, W_hh, bias, b_h, state_offset, c_offset)
        state_offset += 2 * H if network.has_cell_state else H
        in_size = H
    output_bias = blocks["output.bias"]
    layout[-1] = (
        CELL_CODES[cell], ACTIVATION_CODES[network.activation], HEAD_CODES[head],
        network.n_outputs, transposed("output.weight"),
        add(PACK_COPY, output_bias.start, network.n_outputs), embedding, n_tokens,
    )  # fmt: skip
    cached = (np.array(plan, dtype=np.int64), size, layout, state_offset)
    network.__dict__[key] = cached
    return cached


def pack_parameters(network, theta, head):
    """The flat parameters and layout that :func:`stream_forward` reads.

    Parameters
    ----------
    network : RecurrentNetwork
        A unidirectional network.
    theta : ndarray of shape (n_params,)
        Its flat parameters; the packed copy has their dtype.
    head : str
        A key of :data:`~skrnn._kernels._stream.HEAD_CODES`: what the head
        writes.

    Returns
    -------
    params : ndarray
        Transposed weights and summed biases (see
        :mod:`skrnn._kernels._stream`).
    layout : ndarray of shape (n_layers + 1, 8), dtype int64
        Where each layer's parameters and state are (shared: do not write).
    state_width : int
        Floats of state per stream: each layer's ``h`` (and ``c`` for LSTM).
    """
    plan, size, layout, state_width = _packing(network, head)
    params = np.empty(size, dtype=theta.dtype)
    pack(theta, plan, params)
    return params, layout, state_width


_repack_lock = threading.Lock()


def _current_parameters(network, theta, head):
    """Packed parameters of ``theta``, kept on the network between calls.

    ``predict`` on one sequence would otherwise pack the weights at every
    call, which costs about as much as reading a short sequence. The copy
    kept is checked against ``theta`` (which fits and ``set_weights`` change
    in place) by one vectorised comparison, and packed again when it
    differs. It costs twice the memory of the parameters, on the network
    object, which a saved estimator does not keep.
    """
    key = ("_stream_parameters", head, theta.dtype.str)
    with _repack_lock:
        kept = network.__dict__.get(key)
        if kept is None or kept[0].shape != theta.shape:
            plan, size, layout, width = _packing(network, head)
            seen = np.full(theta.shape, np.nan, dtype=theta.dtype)
            kept = (seen, np.empty(size, dtype=theta.dtype), layout, width)
            network.__dict__[key] = kept
        seen, params, layout, width = kept
        repack(theta, seen, _packing(network, head)[0], params)
    return params, layout, width


def single_sequence_outputs(network, theta, sequence, activate=True):
    """Head outputs for one sequence read from a zero state.

    What ``network.forward`` gives for a batch of this one sequence, computed
    by the streaming kernel: equal to rounding (the sums run in another
    order), about 1e-15 relative in float64 and 1e-6 in float32.

    Parameters
    ----------
    network : RecurrentNetwork
        A unidirectional network.
    theta : ndarray of shape (n_params,)
        Its flat parameters.
    sequence : ndarray of shape (n_steps, n_features)
        A validated sequence (token ids as floats for an embedding).
    activate : bool, default=True
        Apply the output activation; False gives the pre-activations.

    Returns
    -------
    outputs : ndarray of shape (n_steps, n_outputs) or (n_outputs,), or None
        After every step for a per-step network, after the last otherwise;
        None for a network the kernel does not run (bidirectional, with
        convolutions, or of another class), which the batched path computes
        instead.
    """
    if (
        not isinstance(network, RecurrentNetwork)
        or network.bidirectional
        or network.conv_layers
    ):
        return None
    head = network.out_activation if activate else "identity"
    params, layout, width = _current_parameters(network, theta, head)
    dtype = theta.dtype
    n_steps = sequence.shape[0]
    state = np.zeros((1, width), dtype=dtype)
    out = np.empty((1, n_steps if network.per_step else 1, network.n_outputs), dtype)
    if network.embeds:
        ids = sequence[:, 0].astype(np.int64).reshape(1, n_steps)
        X = _NO_STEPS[dtype]
    else:
        X = np.ascontiguousarray(sequence, dtype=dtype).reshape(1, n_steps, -1)
        ids = _NO_IDS
    stream_forward(X, ids, params, layout, state, out)
    return out[0] if network.per_step else out[0, 0]


def quick_sequences(estimator, X):
    """``X`` validated for ``predict``, if it is one plain sequence; else None.

    The common call of a server, ``predict([x])`` with ``x`` a float32 or
    float64 array ``(n_steps, n_features)`` (or ``predict(x[None])``),
    validated with a few checks
    instead of the general path, for the same result: the "array" form of
    one sequence (as ``np.asarray([x])`` reads it). Anything else (other
    containers, dtypes or shapes, an unfitted model, token ids, a value
    that is not finite) returns None, and the general validation decides
    and words the error.
    """
    one_in_list = type(X) is list and len(X) == 1
    one_in_array = type(X) is np.ndarray and X.ndim == 3 and X.shape[0] == 1
    if not (one_in_list or one_in_array):
        return None
    x = X[0]
    if type(x) is not np.ndarray or x.ndim != 2 or x.dtype not in _NO_STEPS:
        return None
    expected = estimator.__dict__.get("_n_step_features")
    network = estimator.__dict__.get("_network")
    if (
        "_theta" not in estimator.__dict__
        or x.shape[1] != expected
        or x.shape[0] == 0
        or getattr(network, "embeds", True)
    ):
        return None
    x = np.ascontiguousarray(x)
    if first_bad_input(x, _NO_IDS, 0) >= 0:
        return None
    return Sequences(
        sequences=[x],
        lengths=np.array([x.shape[0]], dtype=np.int64),
        form="array",
        n_features=expected,
        dtype=x.dtype,
    )


def _streamable(estimator):
    """``available_if`` check: the estimators on a RecurrentNetwork."""
    return issubclass(estimator._network_class, RecurrentNetwork)


@available_if(_streamable)
@insert_doc(stream_sections=stream_sections("Stream", "steps", "outputs", indent=4))
def stream(self, n_streams=None):
    """Start live streams: feed steps as they arrive, get each step's output.

    The stream keeps the recurrent state between calls of its
    :meth:`~skrnn.Stream.push`, so each new step costs one step of
    the network instead of a new pass over the whole sequence. Output ``t``
    is what ``predict_proba`` (classifier, tagger) or ``predict``
    (regressor) gives for the sequence seen up to step ``t``.

    {stream_sections}

    See Also
    --------
    skrnn.Stream : The stream's methods and attributes.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 10, 2))
    >>> y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    >>> clf = RNNClassifier(hidden_layer_sizes=(8,), max_iter=20,
    ...                     random_state=0).fit(X, y)
    >>> live = clf.stream()
    >>> live.push(X[0, :4]).shape  # four steps arrive: one output each
    (4, 2)
    >>> p = live.push(X[0, 4:])  # the rest
    >>> np.allclose(p[-1], clf.predict_proba(X[:1])[0])
    True
    """
    return Stream(self, n_streams)


def _check_n_streams(n_streams):
    if n_streams is None:
        return None
    if isinstance(n_streams, (bool, np.bool_)) or not isinstance(n_streams, Integral):
        raise TypeError(
            f"n_streams must be None (one stream) or a positive int, got {n_streams!r}."
        )
    if n_streams < 1:
        raise ValueError(
            f"n_streams must be None (one stream) or a positive int, got {n_streams}."
        )
    return int(n_streams)


class Stream:
    """Live inference with a fitted recurrent model, step by step.

    Made by ``estimator.stream(n_streams)``; see
    :meth:`skrnn.RNNClassifier.stream`. Each :meth:`push` advances every
    stream by the steps given and returns the model's output after each of
    them. A stream holds a copy of the weights the model had when the stream
    was made, so refitting the model later does not change it. One stream
    object is for one thread at a time; make one per thread (all from the
    same estimator if you like) to serve streams in parallel.

    Parameters
    ----------
    estimator : RNNRegressor, RNNClassifier or SequenceTagger
        A fitted unidirectional estimator.
    n_streams : int or None, default=None
        None for one stream, an int for that many streams pushed together.

    Attributes
    ----------
    n_streams : int or None
        Number of streams, None for a single one.
    n_features : int
        Features per step (1 for token ids).
    classes_ : ndarray
        The classes the columns of the probabilities stand for (classifier
        and tagger only).
    dtype : numpy.dtype
        The model's compute dtype: float32 or float64.
    """

    def __init__(self, estimator, n_streams=None):
        n_streams = _check_n_streams(n_streams)
        check_is_fitted(estimator)
        network = estimator._network
        name = type(estimator).__name__
        if network.bidirectional:
            raise ValueError(
                f"This {name} was fitted with bidirectional=True: its backward "
                "direction reads every sequence from its last step, which a "
                "live stream has not seen yet, so it cannot give outputs step by "
                "step. Fit it with bidirectional=False to stream."
            )
        if getattr(estimator, "embedding_dim", None) is not None and not network.embeds:
            raise ValueError(
                f"embedding_dim={estimator.embedding_dim} was set after this "
                f"{name} was fitted without an embedding; refit it."
            )
        theta = estimator._theta
        N = 1 if n_streams is None else n_streams
        self._conv = self._conv_stream(network, theta, N, name)
        self.n_streams = n_streams
        self.dtype = theta.dtype
        self.n_features = network.n_inputs
        self._estimator_name = name
        self._embeds = network.embeds
        self._n_tokens = network.n_tokens
        self._cell = network.cell
        self._hidden = network.hidden_layer_sizes
        head = self._choose_head(estimator, network)
        self._n_out = 2 if head == "binary" else network.n_outputs
        self._params, self._layout, width = pack_parameters(network, theta, head)
        self._state = np.zeros((N, width), dtype=self.dtype)
        self._steps = np.zeros(N, dtype=np.int64)

    @staticmethod
    def _conv_stream(network, theta, N, name):
        """The causal convolutions' stream and the embedding before them, or None."""
        if not network.conv_layers:
            return None
        front = network.front
        if not front.causal:
            raise ValueError(
                f"This {name} was fitted with conv_padding='same': its "
                "convolutions read steps after the one they give a frame for, "
                "which a live stream has not seen yet. Fit it with "
                "conv_padding='causal' to stream."
            )
        if front.stride != 1:
            raise ValueError(
                f"This {name} was fitted with conv_layers of stride "
                f"{front.stride}: it gives one output per {front.stride} steps, "
                "at steps that differ from stream to stream, which streams do "
                "not support. Fit it with strides of 1 to stream, or call "
                "predict on each sequence seen so far."
            )
        P = network.views(theta)
        conv = ConvStream(front, network._front_views(P), N)
        table = P["embedding.weight"].copy() if network.embeds else None
        return conv, table

    def _choose_head(self, estimator, network):
        """The head's activation, so that a push gives what predict_proba or
        predict gives per step; sets ``classes_`` and the output's form."""
        head = network.out_activation
        self._ones = False  # a tagger fitted on one class: probability 1
        self._squeeze = False  # a regressor of one target: predict is 1-D
        multilabel = getattr(
            getattr(estimator, "_label_binarizer", None), "y_type_", ""
        ).startswith("multilabel")
        if hasattr(estimator, "classes_"):
            self.classes_ = estimator.classes_
            if network.per_step and len(estimator.classes_) == 1:
                self._ones = True
            elif network.n_outputs == 1 and not multilabel:
                head = "binary"
        else:
            self._squeeze = network.n_outputs == 1
        return head

    # ------------------------------------------------------------------ push
    def push(self, X):
        """Feed the next steps; return the output after each of them.

        Parameters
        ----------
        X : array-like
            One stream: ``(k, n_features)``, or ``(k,)`` for a model of one
            feature per step or of token ids. Several streams:
            ``(n_streams, k, n_features)``, or ``(n_streams, k)`` for one
            feature or token ids. ``k >= 1`` steps; token ids are integers.

        Returns
        -------
        outputs : ndarray
            Class probabilities (classifier, tagger: what ``predict_proba``
            gives) or predictions (regressor: what ``predict`` gives) after
            each step: ``(k, n_classes)``, ``(k, n_outputs)`` or, for one
            target, ``(k,)``; with ``n_streams`` set, a leading axis of
            ``n_streams``.

        Raises
        ------
        ValueError
            If ``X`` has the wrong shape, no step, a value that is not
            finite, or a token id outside the vocabulary; the state is then
            left as it was.
        TypeError
            If ``X`` is not numeric.
        """
        steps, ids = self._read_steps(X)
        N, k = ids.shape if self._embeds else steps.shape[:2]
        out = np.empty((N, k, self._n_out), dtype=self.dtype)
        if self._conv is not None:
            steps, ids = self._convolve(steps, ids), _NO_IDS
        bad = stream_forward(steps, ids, self._params, self._layout, self._state, out)
        if bad >= 0:
            self._refuse_value(bad, ids if self._embeds else steps)
        self._steps += k
        if self._ones:
            out = np.ones((N, k, 1), dtype=self.dtype)
        if self._squeeze:
            out = out[..., 0]
        return out[0] if self.n_streams is None else out

    def _convolve(self, steps, ids):
        """The frames of the convolutions for the steps pushed (checked first,
        so that a refused push leaves every state as it was)."""
        conv, table = self._conv
        if table is not None:
            bad = np.flatnonzero(((ids < 0) | (ids >= len(table))).reshape(-1))
            if bad.size:
                self._refuse_value(int(bad[0]), ids)
            steps = table[ids]
        else:
            bad = np.flatnonzero(~np.isfinite(steps).reshape(-1))
            if bad.size:
                self._refuse_value(int(bad[0]), steps)
        frames, _ = conv.push(steps)
        return np.ascontiguousarray(frames, dtype=self.dtype)

    def _read_steps(self, X):
        """``X`` as ``(steps (N, k, F), ids (N, k))``, one of them a stand-in."""
        if type(X) is not np.ndarray:
            X = np.asarray(X)
        single = self.n_streams is None
        shape = X.shape
        F = 1 if self._embeds else self.n_features
        # The shapes that hold (N, k, F) values; the last axis may be left out
        # for one feature.
        if single and X.ndim == 2 and shape[1] == F:
            X = X.reshape(1, shape[0], F)
        elif single and X.ndim == 1 and F == 1:
            X = X.reshape(1, shape[0], 1)
        elif not single and X.ndim == 3 and shape[::2] == (self.n_streams, F):
            pass
        elif not single and X.ndim == 2 and F == 1 and shape[0] == self.n_streams:
            X = X.reshape(shape[0], shape[1], 1)
        else:
            self._refuse_shape(shape)
        if X.shape[1] == 0:
            raise ValueError(
                f"push got {shape}: no step. Push at least one step (k >= 1)."
            )
        if self._embeds:
            return _NO_STEPS[self.dtype], self._token_ids(X[:, :, 0])
        if X.dtype != self.dtype:
            X = self._as_floats(X)
        if not X.flags.c_contiguous:
            X = np.ascontiguousarray(X)
        return X, _NO_IDS

    def _expected_shape(self):
        if self._embeds:
            what = "token ids"
            return what, ("(k,)" if self.n_streams is None else
                          f"(n_streams, k) = ({self.n_streams}, k)")  # fmt: skip
        F = self.n_features
        what = f"{F} feature{'s' if F > 1 else ''} per step"
        if self.n_streams is None:
            return what, f"(k, {F})" + (" or (k,)" if F == 1 else "")
        N = self.n_streams
        return what, f"(n_streams, k, {F}) = ({N}, k, {F})" + (
            f" or ({N}, k)" if F == 1 else ""
        )

    def _refuse_shape(self, shape):
        what, expected = self._expected_shape()
        advice = (
            "Make the stream with n_streams=N to push N streams at once."
            if self.n_streams is None
            else "Push the next steps of every stream together."
        )
        raise ValueError(
            f"push got an array of shape {shape}; this stream of a "
            f"{self._estimator_name} with {what} takes {expected} for k new "
            f"steps. {advice}"
        )

    def _as_floats(self, X):
        if X.dtype.kind in "biuf":
            return X.astype(self.dtype)
        raise TypeError(
            f"push got values of dtype {X.dtype}; the model computes in "
            f"{self.dtype}. Pass numbers (float, int or bool)."
        )

    def _token_ids(self, X):
        if X.dtype.kind in "iu":
            ids = X.astype(np.int64, copy=False)
        elif X.dtype.kind == "f" and (np.floor(X) == X).all():
            ids = X.astype(np.int64)
        else:
            raise TypeError(
                f"push got values of dtype {X.dtype}; this {self._estimator_name} "
                "reads token ids (embedding_dim is set): pass integers from 0 to "
                f"{self._n_tokens - 1}, as skrnn.preprocessing.TextTokenizer gives."
            )
        return np.ascontiguousarray(ids)

    def _refuse_value(self, index, values):
        where = np.unravel_index(index, values.shape)
        stream = "" if self.n_streams is None else f" of stream {where[0]}"
        if self._embeds:
            raise ValueError(
                f"push got token id {values[where]} at step {where[1]}{stream}, but "
                f"the model's vocabulary has ids 0 to {self._n_tokens - 1}. Map "
                "unknown tokens to an id the model knows (TextTokenizer's "
                "handle_unknown). The stream's state is unchanged."
            )
        value = values[where]
        what = "NaN" if np.isnan(value) else "infinity"
        raise ValueError(
            f"push got {what} at step {where[1]}, feature {where[2]}{stream}. "
            f"{self._estimator_name} does not accept missing values: impute them "
            "before pushing. The stream's state is unchanged."
        )

    # ----------------------------------------------------------------- state
    def reset(self, streams=None):
        """Start again from the beginning of a sequence.

        Parameters
        ----------
        streams : int, array-like of int or None, default=None
            Which streams to reset (zero state, no step seen); None resets
            all of them.

        Returns
        -------
        self : Stream
            The stream, reset.
        """
        index = slice(None) if streams is None else self._stream_index(streams)
        self._state[index] = 0
        self._steps[index] = 0
        if self._conv is not None:
            self._conv[0].reset(None if streams is None else np.atleast_1d(index))
        return self

    def _stream_index(self, streams):
        index = np.asarray(streams)
        N = self._state.shape[0]
        if index.dtype.kind not in "iu" or index.ndim > 1:
            raise TypeError(
                f"streams must be None, an int or a list of ints, got {streams!r}."
            )
        if index.size and (index.min() < -N or index.max() >= N):
            raise ValueError(
                f"streams={streams!r} is out of range for {N} stream(s): valid "
                f"indices are 0 to {N - 1}."
            )
        return index

    @property
    def steps_seen(self):
        """Steps pushed since the start or the last reset.

        An int for a single stream, an array of shape ``(n_streams,)``
        otherwise. Setting :attr:`state` does not change it.
        """
        if self.n_streams is None:
            return int(self._steps[0])
        return self._steps.copy()

    def _sections(self):
        """``(offset, size)`` of each state tensor of each layer in a state row."""
        tensors = []
        for k, H in enumerate(self._hidden):
            h_offset, c_offset = self._layout[k, 6], self._layout[k, 7]
            tensors.append([(h_offset, H)] + ([(c_offset, H)] if c_offset >= 0 else []))
        return tensors

    @property
    def state(self):
        """The recurrent state, in PyTorch's layout, one entry per layer.

        For layer ``l`` of ``H_l`` units: an array ``h`` of shape
        ``(1, N, H_l)`` (GRU, Elman), or a pair ``(h, c)`` of them (LSTM),
        with ``N = n_streams`` (1 for a single stream): what a one-layer
        ``torch.nn.GRU`` or ``torch.nn.LSTM`` takes and returns as its
        state, and the ``initial_h_{l}`` (``initial_c_{l}``) inputs of
        ``skrnn.onnx.to_onnx(est, stateful=True)``. Reading gives copies;
        assign a list of the same form to set the state of all streams.
        With ``conv_layers``, it is the recurrent layers' state only: the
        convolutions' last ``width - 1`` steps of each layer stay as they
        are (:meth:`reset` clears them too).
        """
        layers = []
        for tensors in self._sections():
            arrays = tuple(
                self._state[:, offset : offset + size][None].copy()
                for offset, size in tensors
            )
            layers.append(arrays if len(arrays) == 2 else arrays[0])
        return layers

    @state.setter
    def state(self, value):
        sections = self._sections()
        N = self._state.shape[0]
        lstm = cell_spec(self._cell).has_cell_state
        form = "a pair (h, c) of arrays" if lstm else "an array h"
        if not isinstance(value, (list, tuple)) or len(value) != len(sections):
            raise ValueError(
                f"state must be a list with one entry per layer ({len(sections)}), "
                f"each {form} of shape (1, {N}, H_l), as the state property "
                f"returns; got {type(value).__name__}"
                + (f" of length {len(value)}." if hasattr(value, "__len__") else ".")
            )
        new = self._state.copy()
        for layer, (entry, tensors) in enumerate(zip(value, sections)):
            arrays = tuple(entry) if lstm and isinstance(entry, (list, tuple)) else (
                entry,
            )  # fmt: skip
            if len(arrays) != len(tensors):
                raise ValueError(
                    f"state[{layer}] must be {form} of shape (1, {N}, "
                    f"{tensors[0][1]}), got {len(arrays)} array(s)."
                )
            for array, (offset, size) in zip(arrays, tensors):
                array = np.asarray(array, dtype=self.dtype)
                if array.shape != (1, N, size):
                    raise ValueError(
                        f"state[{layer}] has an array of shape {array.shape}; "
                        f"expected (1, {N}, {size}) (1, n_streams, hidden units of "
                        f"layer {layer})."
                    )
                if not np.isfinite(array).all():
                    raise ValueError(
                        f"state[{layer}] holds NaN or infinity; a state is finite."
                    )
                new[:, offset : offset + size] = array[0]
        self._state[...] = new

    def __repr__(self):
        streams = "" if self.n_streams is None else f"n_streams={self.n_streams}, "
        return (
            f"Stream({self._estimator_name}, {streams}steps_seen={self.steps_seen!r})"
        )


class TranscriptionStream(Stream):
    """Live transcription with a fitted unidirectional transcriber.

    Made by :meth:`SequenceTranscriber.stream <skrnn.SequenceTranscriber.stream>`.
    :meth:`push` gives the frame posteriors after each step (what
    ``predict_proba`` gives on the prefix seen so far, the blank last);
    :meth:`push_labels` gives the labels that the new steps complete, by
    best-path decoding done online: a step emits its most probable output
    unless it is the blank or repeats the previous step's. The labels
    pushed so far, :attr:`transcript`, are what ``predict`` gives with
    ``beam_width=1`` for the prefix seen so far. Everything else is as for
    :class:`Stream`.

    Parameters
    ----------
    estimator : SequenceTranscriber
        A fitted unidirectional transcriber.
    n_streams : int or None, default=None
        None for one stream, an int for that many streams pushed together.

    Attributes
    ----------
    classes_ : ndarray
        The labels the first columns of the posteriors stand for; the last
        column is the blank.
    """

    def __init__(self, estimator, n_streams=None):
        super().__init__(estimator, n_streams)
        self._strings = bool(getattr(estimator, "_string_targets", False))
        N = self._state.shape[0]
        self._blank = len(self.classes_)
        self._previous = np.full(N, self._blank, dtype=np.int64)
        self._emitted = [[] for _ in range(N)]

    def _choose_head(self, estimator, network):
        self.classes_ = estimator.classes_
        self._ones = self._squeeze = False
        return network.out_activation

    def _as_labels(self, ids):
        labels = self.classes_[np.asarray(ids, dtype=np.intp)]
        return "".join(labels.tolist()) if self._strings else labels

    def push(self, X):
        """Feed the next steps; return the frame posteriors after each of them.

        Parameters
        ----------
        X : array-like
            One stream: ``(k, n_features)``, or ``(k,)`` for one feature per
            step or token ids. Several streams: ``(n_streams, k,
            n_features)``, or ``(n_streams, k)``.

        Returns
        -------
        posteriors : ndarray of shape (k, n_classes + 1)
            Each step's distribution over ``classes_`` and the blank (last);
            with ``n_streams`` set, a leading axis of ``n_streams``. The
            labels the steps complete are decoded too (:attr:`transcript`).
        """
        posteriors = super().push(X)
        batched = posteriors if self.n_streams is not None else posteriors[None]
        best = np.argmax(batched, axis=2)
        self._new = []
        for n, ids in enumerate(best):
            previous = np.concatenate([[self._previous[n]], ids[:-1]])
            kept = ids[(ids != self._blank) & (ids != previous)]
            self._previous[n] = ids[-1]
            self._emitted[n].extend(kept.tolist())
            self._new.append(kept)
        return posteriors

    def push_labels(self, X):
        """Feed the next steps; return the labels they complete.

        Parameters
        ----------
        X : array-like
            Steps, as :meth:`push` takes them.

        Returns
        -------
        labels : str or ndarray, or list of them
            The labels emitted by these steps (possibly none): a string for a
            transcriber fitted on strings, else a 1-D array of labels of
            ``classes_``; with ``n_streams`` set, a list of one per stream.
        """
        self.push(X)
        new = [self._as_labels(ids) for ids in self._new]
        return new[0] if self.n_streams is None else new

    @property
    def transcript(self):
        """Labels decoded from the steps pushed since the start or last reset.

        A string (or 1-D array of labels) for a single stream, a list of them
        otherwise: what ``predict`` gives with ``beam_width=1`` for the
        steps seen so far.
        """
        out = [self._as_labels(ids) for ids in self._emitted]
        return out[0] if self.n_streams is None else out

    def reset(self, streams=None):
        """Start again from the beginning of a sequence, with no label decoded.

        Parameters
        ----------
        streams : int, array-like of int or None, default=None
            Which streams to reset; None resets all of them.

        Returns
        -------
        self : TranscriptionStream
            The stream, reset.
        """
        super().reset(streams)
        index = range(len(self._emitted)) if streams is None else np.atleast_1d(
            self._stream_index(streams)
        )  # fmt: skip
        for n in index:
            self._previous[n] = self._blank
            self._emitted[n] = []
        return self
