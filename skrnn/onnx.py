"""Export fitted skrnn estimators to ONNX, on ONNX's own recurrent operators.

:func:`to_onnx` converts a fitted :class:`~skrnn.RNNRegressor`,
:class:`~skrnn.RNNClassifier`, :class:`~skrnn.SequenceTagger` or
:class:`~skrnn.SequenceTranscriber` into an ONNX
model that runs in onnxruntime (or any ONNX runtime) without skrnn, NumPy or
Python. The recurrent layers become ONNX ``RNN``, ``LSTM`` and ``GRU`` nodes,
one per stacked layer (bidirectional layers included), with their weights
reordered to ONNX's gate order; ragged batches go through the nodes'
``sequence_lens`` input, so that every sequence is read up to its own length,
as in skrnn.

The model's inputs:

- ``X``: the padded sequences, ``float32`` of shape ``(n_sequences, n_steps,
  n_features)`` (``(n_sequences, n_steps)`` for a model fitted on a 2-D
  table of univariate sequences), or ``int64`` token ids ``(n_sequences,
  n_steps)`` for a model with ``embedding_dim``; :func:`pad_sequences` turns a
  ragged list into this form. A sample passed as ``to_onnx(model, X[:1])``,
  as to skl2onnx's ``to_onnx``, sets another type: float64 (cast to float32
  at the model's entry) or an integer type;
- ``lengths``: ``int32`` of shape ``(n_sequences,)``, the real length of each
  sequence (omit it with ``lengths=False`` when every sequence has all
  ``n_steps`` steps).

Its outputs, by estimator:

- regressor: ``variable``, the predictions ``(n_sequences,)`` or
  ``(n_sequences, n_outputs)``, as ``predict`` returns them;
- classifier: ``label`` ``(n_sequences,)`` (an indicator matrix for
  multilabel targets) and ``probabilities`` ``(n_sequences, n_classes)``;
- tagger: ``label`` ``(n_sequences, n_steps)`` and ``probabilities``
  ``(n_sequences, n_steps, n_classes)``; values at padded steps are
  meaningless and are to be cut at each sequence's length;
- transcriber: ``probabilities`` ``(n_sequences, n_steps, n_classes + 1)``,
  the frame posteriors of ``predict_proba`` (the blank last), to be cut at
  each sequence's length; decoding them into labels (best path or beam
  search) and aligning stay in Python.

With skl2onnx installed, :func:`register_converters` (called by
:func:`to_onnx`) registers converters for these estimators, so that
``skl2onnx.to_onnx`` converts a :class:`~sklearn.pipeline.Pipeline` of
scikit-learn transformers and a skrnn estimator on 2-D input (univariate
sequences of equal length) in one call.

What does not export (each raises ``NotImplementedError`` saying so): the
``"identity"`` activation of the Elman cell (ONNX's ``RNN`` has no identity
activation), :class:`~skrnn.preprocessing.TextTokenizer` and the other
preprocessing transformers of :mod:`skrnn.preprocessing` (tokenise and scale
before the ONNX model), the roll-outs :meth:`~skrnn.RNNRegressor.forecast`
and :meth:`~skrnn.SequenceTagger.sample` (loops of single steps: run the
exported model step by step instead), :class:`~skrnn.SequenceTranslator`
(its decoder loops over its own outputs), and classifiers fitted on a single
class.

A model with ``conv_layers`` exports its convolutions as ``Conv`` and
``Relu`` nodes before the recurrent ones, which read ``ceil(L / stride)``
frames of each sequence (every layer's input masked to its real steps, so
that padding changes nothing); a transcriber's posteriors are then one row
per frame. ``stateful=True`` refuses such a model (a chunk's first frames
read the steps before it).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._conv import onnx_front_end
from ._kernels import CELLS, cell_spec

__all__ = ["pad_sequences", "register_converters", "to_onnx"]

_RNN_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "logistic": "Sigmoid"}
_OPSET = 15


def pad_sequences(X, dtype=np.float32):
    """Ragged sequences as the padded array and lengths an exported model takes.

    Parameters
    ----------
    X : list of array-like
        Sequences of shape ``(n_steps_i, n_features)`` or ``(n_steps_i,)``
        (token ids or univariate values).
    dtype : dtype, default=np.float32
        Dtype of the padded array (``np.int64`` for token ids).

    Returns
    -------
    X_padded : ndarray of shape (n_sequences, max_steps, n_features) or \
(n_sequences, max_steps)
        Sequences padded with zeros after their last step.
    lengths : ndarray of shape (n_sequences,), dtype int32
        Length of each sequence.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.onnx import pad_sequences
    >>> X_padded, lengths = pad_sequences([np.ones((2, 3)), np.ones((4, 3))])
    >>> X_padded.shape, lengths
    ((2, 4, 3), array([2, 4], dtype=int32))
    """
    arrays = [np.asarray(x, dtype=dtype) for x in X]
    if not arrays:
        raise ValueError("pad_sequences needs at least one sequence, got none.")
    lengths = np.array([len(a) for a in arrays], dtype=np.int32)
    tail = arrays[0].shape[1:]
    out = np.zeros((len(arrays), max(int(lengths.max()), 1), *tail), dtype=dtype)
    for i, a in enumerate(arrays):
        if a.shape[1:] != tail:
            raise ValueError(
                f"Sequence {i} has steps of shape {a.shape[1:]}, but sequence 0 has "
                f"{tail}: every sequence needs the same number of features."
            )
        out[i, : len(a)] = a
    return out, lengths


class _Graph:
    """Nodes and initializers, named uniquely (standalone or inside skl2onnx)."""

    def __init__(self, scope=None, container=None):
        self.scope, self.container = scope, container
        self.nodes, self.initializers, self._names = [], [], set()

    def name(self, hint):
        if self.scope is not None:
            return self.scope.get_unique_variable_name(hint)
        name, k = hint, 0
        while name in self._names:
            k += 1
            name = f"{hint}_{k}"
        self._names.add(name)
        return name

    def constant(self, hint, value):
        from onnx import numpy_helper

        name = self.name(hint)
        value = np.asarray(value)
        if value.dtype.kind in "US":  # ONNX strings are object arrays of str
            value = value.astype(object)
        tensor = numpy_helper.from_array(value, name)
        if self.container is not None:
            values = value.ravel()
            self.container.add_initializer(
                name, tensor.data_type, list(value.shape),
                values.tolist() if value.dtype == object else values,
            )  # fmt: skip
        else:
            self.initializers.append(tensor)
        return name

    def node(self, op, inputs, hint=None, n_outputs=1, outputs=None, **attrs):
        from onnx import helper

        if outputs is None:
            outputs = [self.name(hint or op.lower()) for _ in range(n_outputs)]
        if self.container is not None:
            self.container.add_node(
                op, inputs, outputs, name=self.name(op), op_version=_OPSET, **attrs
            )
        else:
            self.nodes.append(
                helper.make_node(op, inputs, outputs, name=self.name(op), **attrs)
            )
        return outputs if n_outputs > 1 else outputs[0]


def onnx_spec(cell):
    """The :class:`~skrnn._kernels.CellSpec` of ``cell`` if ONNX can run it.

    Raises
    ------
    NotImplementedError
        If the cell has no ONNX operator, naming the cells that export.
    """
    spec = cell_spec(cell)
    if spec.onnx_op is None:
        exportable = sorted(name for name, s in CELLS.items() if s.onnx_op)
        raise NotImplementedError(
            f"The {cell!r} cell does not export to ONNX: ONNX has no operator "
            f"for it. The cells that export are {exportable}; refit with one of "
            "them to export."
        )
    return spec


def _check_exportable(model):
    from . import RNNClassifier, RNNRegressor, SequenceTagger, SequenceTranscriber

    exportable = (RNNRegressor, RNNClassifier, SequenceTagger, SequenceTranscriber)
    if not isinstance(model, exportable):
        raise NotImplementedError(
            f"skrnn.onnx exports RNNRegressor, RNNClassifier, SequenceTagger and "
            f"SequenceTranscriber (its frame posteriors), got "
            f"{type(model).__name__}. SequenceTranslator's decoder loops over "
            "its own outputs (greedy or beam search), which ONNX's recurrent "
            "operators do not express. skrnn's preprocessing transformers "
            "(TextTokenizer, SequenceScaler, SequenceImputer) do not export: apply "
            "them before the exported model."
        )
    check_is_fitted(model)
    network = model._network
    onnx_spec(network.cell)
    if network.spec.uses_activation and network.activation not in _RNN_ACTIVATIONS:
        raise NotImplementedError(
            "The Elman cell with activation='identity' does not export: ONNX's RNN "
            "operator has no identity activation. Use 'tanh', 'relu' or "
            "'logistic'."
        )
    if isinstance(model, (RNNClassifier, SequenceTagger)) and len(model.classes_) < 2:
        raise NotImplementedError(
            "A classifier fitted on a single class does not export; it predicts "
            "that class for every input."
        )
    return network


def _recurrent_layers(graph, network, P, x, lengths):
    """ONNX recurrent nodes of the stack; returns ``(Y, Y_h)`` of the last layer.

    ``x`` is time-major ``(T, N, I)``; ``Y`` is ``(T, D, N, H)`` and ``Y_h``
    ``(D, N, H)``.
    """
    spec, D = onnx_spec(network.cell), network.n_directions
    order = spec.onnx_gate_order
    for k, H in enumerate(network.hidden_layer_sizes):
        W, R, B = [], [], []
        for suffix in ("", "_reverse")[:D]:

            def gates(a, H=H):
                return np.concatenate([a[g * H : (g + 1) * H] for g in order])

            W.append(gates(P[f"weight_ih_l{k}{suffix}"]))
            R.append(gates(P[f"weight_hh_l{k}{suffix}"]))
            B.append(
                np.concatenate(
                    [
                        gates(P[f"bias_ih_l{k}{suffix}"]),
                        gates(P[f"bias_hh_l{k}{suffix}"]),
                    ]
                )
            )
        attrs = {
            "hidden_size": H,
            "direction": "bidirectional" if D == 2 else "forward",
            **dict(spec.onnx_attributes),
        }
        if spec.uses_activation:
            attrs["activations"] = [_RNN_ACTIVATIONS[network.activation]] * D
        inputs = [
            x,
            graph.constant(f"W_l{k}", np.stack(W).astype(np.float32)),
            graph.constant(f"R_l{k}", np.stack(R).astype(np.float32)),
            graph.constant(f"B_l{k}", np.stack(B).astype(np.float32)),
        ]
        if lengths:
            inputs.append(lengths)
        Y, Y_h = graph.node(spec.onnx_op, inputs, f"Y_l{k}", n_outputs=2, **attrs)
        if k < len(network.hidden_layer_sizes) - 1:
            # (T, D, N, H) -> (T, N, D * H), directions concatenated forward first.
            y = graph.node("Transpose", [Y], perm=[0, 2, 1, 3])
            x = graph.node("Reshape", [y, graph.constant("shape_tn", [0, 0, -1])])
    return Y, Y_h


def _build(graph, model, X, lengths, *, univariate):
    """Add the model's nodes reading ``X``; returns the output names by role."""
    from . import RNNRegressor

    network = _check_exportable(model)
    P = {k: np.asarray(v, dtype=np.float32) for k, v in model.get_weights().items()}
    if network.embeds:
        ids = graph.node("Cast", [X], to=7)  # int64
        table = graph.constant("embedding", P["embedding.weight"])
        x = graph.node("Gather", [table, ids])
    elif univariate:
        x = graph.node("Unsqueeze", [X, graph.constant("axis2", np.array([2]))])
    else:
        x = X
    if network.conv_layers:
        # Conv and Relu per layer, batch-major; the recurrent nodes then read
        # the frames, ceil(L / stride) per sequence.
        x, lengths = onnx_front_end(network.front, graph, P, x, lengths)
    x = graph.node("Transpose", [x], perm=[1, 0, 2])  # time-major
    Y, Y_h = _recurrent_layers(graph, network, P, x, lengths)
    W_out = graph.constant("output_weight_t", P["output.weight"].T.copy())
    b_out = graph.constant("output_bias", P["output.bias"])
    if network.per_step:
        y = graph.node("Transpose", [Y], perm=[2, 0, 1, 3])  # (N, T, D, H)
        y = graph.node("Reshape", [y, graph.constant("shape_nt", [0, 0, -1])])
    else:
        y = graph.node("Transpose", [Y_h], perm=[1, 0, 2])  # (N, D, H)
        y = graph.node("Reshape", [y, graph.constant("shape_n", [0, -1])])
    z = graph.node("Add", [graph.node("MatMul", [y, W_out]), b_out], "scores")
    activation = network.out_activation
    if _is_transcriber(model):
        # Frame posteriors only: CTC decoding (best path, beam search) and
        # alignment stay in Python.
        return {"probabilities": graph.node("Softmax", [z], axis=-1)}
    if isinstance(model, RNNRegressor):
        if activation == "exponential":
            z = graph.node("Exp", [z])
        if network.n_outputs == 1:  # predict returns 1-D then
            z = graph.node("Squeeze", [z, graph.constant("last_axis", np.array([-1]))])
        return {"variable": z}
    classes = model.classes_
    axis = -1
    if activation == "softmax":
        proba = graph.node("Softmax", [z], axis=axis)
    else:
        p = graph.node("Sigmoid", [z])
        if _multilabel(model):
            label = graph.node(
                "Cast",
                [graph.node("Greater", [p, graph.constant("half", np.float32(0.5))])],
                to=7,
            )
            return {"label": label, "probabilities": p}
        proba = graph.node(
            "Concat",
            [graph.node("Sub", [graph.constant("one", np.float32(1.0)), p]), p],
            axis=axis,
        )
    index = graph.node("ArgMax", [proba], axis=axis, keepdims=0)
    classes = np.asarray(classes)
    if classes.dtype.kind in "US":
        table = graph.constant("classes", classes.astype(str))
    else:
        table = graph.constant("classes", classes.astype(np.int64))
    label = graph.node("Gather", [table, index])
    return {"label": label, "probabilities": proba}


def _input_info(model):
    """``(elem_type, shape, univariate)`` of the ``X`` input of the model."""
    from onnx import TensorProto

    if model._network.embeds:
        return TensorProto.INT64, ["N", "T"], False
    if getattr(model, "_fit_input_form", None) == "table":
        return TensorProto.FLOAT, ["N", "T"], True
    return TensorProto.FLOAT, ["N", "T", int(model._network.n_inputs)], False


def _output_info(model):
    """``{role: (elem_type, shape)}`` of the model's outputs, in output order."""
    from onnx import TensorProto

    network = model._network
    steps = ["T"] if network.per_step else []
    if _is_transcriber(model):
        return {"probabilities": (TensorProto.FLOAT, ["N", "T", network.n_outputs])}
    if not hasattr(model, "classes_"):
        outputs = [] if network.n_outputs == 1 else [network.n_outputs]
        return {"variable": (TensorProto.FLOAT, ["N", *outputs])}
    n_classes = len(model.classes_)
    kind = np.asarray(model.classes_).dtype.kind
    label = TensorProto.STRING if kind in "US" else TensorProto.INT64
    label_shape = ["N", *steps]
    if _multilabel(model):
        label, label_shape = TensorProto.INT64, ["N", n_classes]
    return {
        "label": (label, label_shape),
        "probabilities": (TensorProto.FLOAT, ["N", *steps, n_classes]),
    }


def _is_transcriber(model):
    from . import SequenceTranscriber

    return isinstance(model, SequenceTranscriber)


def _multilabel(model):
    binarizer = getattr(model, "_label_binarizer", None)
    return binarizer is not None and binarizer.y_type_.startswith("multilabel")


def to_onnx(
    model, X=None, *, lengths=True, univariate=None, name="skrnn", stateful=False
):
    """Convert a fitted skrnn estimator, or a Pipeline ending in one, to ONNX.

    Parameters
    ----------
    model : RNNRegressor, RNNClassifier, SequenceTagger, SequenceTranscriber \
or Pipeline
        Fitted estimator. A :class:`~sklearn.pipeline.Pipeline` is converted
        by skl2onnx with the converters of :func:`register_converters`, on
        2-D input ``(n_sequences, n_steps)`` without ``lengths``.
    X : array-like or list of array-like, default=None
        A sample of the input, as for ``skl2onnx.to_onnx(model, X)``: one
        sequence (``X[:1]``) is enough. Its dtype becomes the type of the
        model's ``X`` input: float32 or float64 (cast to float32 inside the
        model, whose weights are float32), or an integer type for token ids;
        a 2-D sample means univariate sequences ``(n_sequences, n_steps)``
        and a 3-D one ``(n_sequences, n_steps, n_features)`` (unless
        ``univariate`` says otherwise). None: float32 input (int64 for token
        ids), in the form the model was fitted on.
    lengths : bool, default=True
        Whether the model takes a ``lengths`` input for ragged batches.
    univariate : bool or None, default=None
        Whether ``X`` is 2-D ``(n_sequences, n_steps)`` of univariate
        sequences; None reads it from the sample ``X`` if given, else from
        the fit (one feature per step).
    name : str, default="skrnn"
        Name of the ONNX graph.
    stateful : bool, default=False
        Add the recurrent state as inputs and outputs, so that a server
        reads streams chunk by chunk (as :meth:`~skrnn.RNNClassifier.stream`
        does), feeding each chunk's final state to the next call: per
        layer ``l``, inputs ``initial_h_{l}`` (and ``initial_c_{l}`` for
        LSTM) and outputs ``final_h_{l}`` (``final_c_{l}``), ``float32`` of
        shape ``(1, n_sequences, H_l)``, the layout of
        :attr:`skrnn.Stream.state`. Zeros start a sequence. Unidirectional
        models only; not for a Pipeline.

    Returns
    -------
    onnx_model : onnx.ModelProto
        The model; ``onnx_model.SerializeToString()`` gives its bytes.

    Raises
    ------
    NotImplementedError
        For what does not export (see :mod:`skrnn.onnx`).
    TypeError
        If the sample ``X`` is not numeric.
    ValueError
        If the sample ``X`` does not have the shape the model reads.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skrnn import RNNRegressor
    >>> from skrnn.onnx import pad_sequences, to_onnx
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(n, 2)) for n in rng.randint(3, 8, size=30)]
    >>> y = np.array([x.sum() for x in X])
    >>> reg = RNNRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> session = ort.InferenceSession(to_onnx(reg).SerializeToString())
    >>> X_padded, lengths = pad_sequences(X[:3])
    >>> out = session.run(None, {"X": X_padded, "lengths": lengths})[0]
    >>> np.allclose(out, reg.predict(X[:3]), rtol=1e-4, atol=1e-5)
    True

    As with skl2onnx, a sample sets the input type; here float64:

    >>> X_padded, lengths = pad_sequences(X[:3], dtype=np.float64)
    >>> onnx_model = to_onnx(reg, X_padded[:1])
    >>> session = ort.InferenceSession(onnx_model.SerializeToString())
    >>> out = session.run(None, {"X": X_padded, "lengths": lengths})[0]
    >>> np.allclose(out, reg.predict(X[:3]), rtol=1e-4, atol=1e-5)
    True
    """
    from onnx import TensorProto, checker, helper
    from sklearn.pipeline import Pipeline

    sample = None if X is None else _sample_array(X)
    if isinstance(model, Pipeline):
        if stateful:
            raise NotImplementedError(
                "stateful=True exports a skrnn estimator alone, not a Pipeline: "
                "apply the preprocessing in Python and export the final estimator."
            )
        return _pipeline_to_onnx(model, name, sample)
    _check_exportable(model)
    elem, shape, auto_univariate = _input_info(model)
    if sample is not None:
        elem, auto_univariate = _sample_input(model, sample, univariate)
    if univariate is None:
        univariate = auto_univariate
    if univariate and not model._network.embeds:
        shape = ["N", "T"]
    graph = _Graph()
    inputs = [helper.make_tensor_value_info("X", elem, shape)]
    if lengths:
        inputs.append(
            helper.make_tensor_value_info("lengths", TensorProto.INT32, ["N"])
        )
    x = "X"
    if elem != TensorProto.FLOAT and not model._network.embeds:
        x = graph.node("Cast", [x], "X_float", to=TensorProto.FLOAT)
    outputs = _build(
        graph, model, x, "lengths" if lengths else None, univariate=univariate
    )
    for role, tensor in outputs.items():
        graph.nodes.append(helper.make_node("Identity", [tensor], [role]))
    state_outputs = []
    if stateful:
        state_inputs, state_outputs = _carry_state(graph, model)
        inputs += state_inputs
    onnx_graph = helper.make_graph(
        graph.nodes, name, inputs,
        [
            helper.make_tensor_value_info(role, elem, shape)
            for role, (elem, shape) in _output_info(model).items()
        ]
        + state_outputs,
        initializer=graph.initializers,
    )  # fmt: skip
    onnx_model = helper.make_model(
        onnx_graph, opset_imports=[helper.make_operatorsetid("", _OPSET)]
    )
    onnx_model.ir_version = 8
    checker.check_model(onnx_model)
    return onnx_model


def _sample_array(X):
    """The sample ``X`` of :func:`to_onnx` as an array (a ragged list: its first)."""
    if isinstance(X, (list, tuple)):
        if len(X) == 0:
            raise ValueError("The sample X passed to to_onnx holds no sequence.")
        try:
            sample = np.asarray(X)
        except ValueError:  # ragged: the first sequence stands for all
            sample = None
        if sample is None or sample.dtype == object:
            sample = np.asarray(X[0])[np.newaxis]
        return sample
    return np.asarray(X)


# Sample dtypes an exported model can take as its X input.
_SAMPLE_KINDS = "fiu"


def _sample_input(model, sample, univariate):
    """``(elem_type, univariate)`` of the ``X`` input, read from a sample."""
    from onnx import helper

    if sample.dtype.kind not in _SAMPLE_KINDS or sample.dtype == np.float16:
        raise TypeError(
            f"The sample X passed to to_onnx has dtype {sample.dtype}; an exported "
            "model takes float32 or float64 values (or integer token ids). Pass a "
            "numeric sample such as X[:1], or no sample for float32 input."
        )
    network = model._network
    if network.embeds or univariate or (univariate is None and sample.ndim == 2):
        expected, form = 2, "(n_sequences, n_steps)"
    else:
        expected, form = 3, f"(n_sequences, n_steps, {network.n_inputs})"
    wrong_features = expected == 3 and sample.shape[-1:] != (network.n_inputs,)
    if sample.ndim != expected or wrong_features:
        raise ValueError(
            f"The sample X passed to to_onnx has shape {sample.shape}, but the "
            f"model reads {form} here. Pass a sample of the input it will get "
            "(X[:1] of the padded batch)."
        )
    if expected == 2 and not network.embeds and network.n_inputs != 1:
        raise ValueError(
            f"The sample X passed to to_onnx is 2-D, (n_sequences, n_steps) of "
            f"univariate sequences, but the model reads {network.n_inputs} "
            "features per step. Pass a 3-D sample (n_sequences, n_steps, "
            "n_features)."
        )
    elem = helper.np_dtype_to_tensor_dtype(sample.dtype)
    return elem, expected == 2 and not network.embeds


def _carry_state(graph, model):
    """Wire the recurrent nodes' initial and final states to the graph's edge.

    Each layer's node reads ``initial_h_{l}`` (``initial_c_{l}``) and its
    final state goes out as ``final_h_{l}`` (``final_c_{l}``). Returns the
    value infos of the new inputs and outputs.
    """
    from onnx import TensorProto, helper

    network = model._network
    if network.conv_layers:
        raise ValueError(
            f"stateful=True carries the recurrent state from chunk to chunk, but "
            f"this {type(model).__name__} has conv_layers, whose first frames of "
            "a chunk read the steps before it, which the graph does not keep. "
            "Run the whole sequences through the model exported without "
            "stateful, or stream in Python with model.stream() (causal padding)."
        )
    if network.bidirectional:
        raise ValueError(
            f"stateful=True carries the state forward from chunk to chunk, but "
            f"this {type(model).__name__} is bidirectional: its backward "
            "direction reads each sequence from its end, which a stream has not "
            "seen yet. Fit it with bidirectional=False to serve streams."
        )
    states = ("h", "c") if network.spec.has_cell_state else ("h",)
    operators = {spec.onnx_op for spec in CELLS.values() if spec.onnx_op}
    nodes = [node for node in graph.nodes if node.op_type in operators]
    inputs, outputs = [], []
    for k, (node, H) in enumerate(zip(nodes, network.hidden_layer_sizes)):
        while len(node.input) < 5:
            node.input.append("")  # no sequence_lens: optional input left empty
        while len(node.output) < 1 + len(states):
            node.output.append(graph.name(f"Y_c_l{k}"))
        for s, state in enumerate(states):
            node.input.append(f"initial_{state}_{k}")
            graph.nodes.append(
                helper.make_node(
                    "Identity", [node.output[1 + s]], [f"final_{state}_{k}"]
                )
            )
            for names, prefix in ((inputs, "initial"), (outputs, "final")):
                names.append(
                    helper.make_tensor_value_info(
                        f"{prefix}_{state}_{k}", TensorProto.FLOAT, [1, "N", H]
                    )
                )
    return inputs, outputs


def _skl2onnx_shape(operator):
    from onnx import TensorProto
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    types = {
        TensorProto.FLOAT: FloatTensorType,
        TensorProto.INT64: Int64TensorType,
        TensorProto.STRING: StringTensorType,
    }
    N = operator.inputs[0].get_first_dimension()
    outputs = _output_info(operator.raw_operator).values()
    for variable, (elem, shape) in zip(operator.outputs, outputs):
        dims = [N if d == "N" else (None if isinstance(d, str) else d) for d in shape]
        variable.type = types[elem](dims)


def _skl2onnx_convert(scope, operator, container):
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    model = operator.raw_operator
    graph = _Graph(scope, container)
    X = operator.inputs[0].full_name
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        # float64 from the steps before (a sample X of float64): the exported
        # weights are float32.
        X = graph.node("Cast", [X], "X_float", to=TensorProto.FLOAT)
    outputs = _build(graph, model, X, None, univariate=not model._network.embeds)
    for tensor, variable in zip(outputs.values(), operator.outputs):
        container.add_node(
            "Identity", [tensor], [variable.full_name],
            name=scope.get_unique_operator_name("Identity"),
        )  # fmt: skip


def register_converters():
    """Register skl2onnx converters for the skrnn estimators that export.

    Afterwards ``skl2onnx.to_onnx`` converts a Pipeline of scikit-learn
    transformers and a skrnn estimator, reading 2-D input ``(n_sequences,
    n_steps)`` of univariate sequences of full length. Pass
    ``options={"zipmap": False}`` for a classifier, so that its
    probabilities stay a tensor. :func:`to_onnx` calls this itself.
    """
    from skl2onnx import update_registered_converter

    from . import RNNClassifier, RNNRegressor, SequenceTagger, SequenceTranscriber

    for klass in (RNNRegressor, RNNClassifier, SequenceTagger, SequenceTranscriber):
        options = (
            {"zipmap": [False], "nocl": [False]}
            if klass in (RNNClassifier, SequenceTagger)
            else None
        )
        update_registered_converter(
            klass, f"Skrnn{klass.__name__}", _skl2onnx_shape, _skl2onnx_convert,
            options=options,
        )  # fmt: skip


def _pipeline_to_onnx(pipeline, name, sample=None):
    from skl2onnx import to_onnx as skl2onnx_to_onnx
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    for step_name, step in pipeline.steps[:-1]:
        if type(step).__module__.startswith("skrnn"):
            raise NotImplementedError(
                f"Pipeline step {step_name!r} is skrnn's {type(step).__name__}, "
                "which does not export: skrnn's preprocessing transformers work on "
                "ragged sequences and text, outside ONNX's tensors. Apply it in "
                "Python and export the skrnn estimator alone with to_onnx "
                "(see skrnn.onnx.pad_sequences for ragged batches)."
            )
    final = pipeline.steps[-1][1]
    _check_exportable(final)
    if final._network.embeds or getattr(final, "_fit_input_form", None) != "table":
        raise NotImplementedError(
            "A Pipeline exports through skl2onnx on 2-D input (n_sequences, "
            "n_steps) of univariate sequences only; this one ends in a model "
            "fitted on another input form. Export the skrnn estimator alone with "
            "to_onnx, and its preprocessing separately."
        )
    register_converters()
    options = None
    if hasattr(final, "classes_") and not _is_transcriber(final):
        options = {id(final): {"zipmap": False}}
    n_steps = pipeline.n_features_in_
    tensor_type = FloatTensorType
    if sample is not None:
        if sample.dtype not in (np.float32, np.float64) or sample.ndim != 2:
            raise ValueError(
                f"The sample X passed to to_onnx has dtype {sample.dtype} and shape "
                f"{sample.shape}; a Pipeline exports on 2-D float32 or float64 "
                "input (n_sequences, n_steps)."
            )
        if sample.dtype == np.float64:
            tensor_type = DoubleTensorType
    return skl2onnx_to_onnx(
        pipeline,
        initial_types=[("X", tensor_type([None, n_steps]))],
        options=options,
        target_opset=_OPSET,
        naming=name,
    )
