"""SequenceTranslator: one sequence in, another of its own length out.

Many-to-many, unsynchronised: an encoder-decoder (:mod:`skrnn._translation_network`)
trained with teacher forcing, decoded greedily or by beam search
(:mod:`skrnn._beam`).
"""

from collections.abc import Mapping, Set
from numbers import Integral

import numpy as np
from sklearn.utils import gen_batches
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._attention import ATTENTION_KINDS
from ._base import (
    _INFERENCE_BATCH,
    BaseRecurrent,
    _stochastic_only,
    store_init_arguments,
)
from ._batching import make_batch
from ._beam import beam_search, greedy_search
from ._compat import Interval, StrOptions, _check_sample_weight, _fit_context
from ._docstrings import MANY_TO_ONE_BPTT, fill_doc, insert_doc
from ._runtime import n_chunks, session
from ._translation_network import TranslationNetwork, make_decoder_batch
from ._validation import Sequences, _check_labels_defined, _offsets
from .metrics import exact_match_score

__all__ = ["SequenceTranslator"]

# Default decoder embedding width when neither decoder_embedding_dim nor
# embedding_dim is set.
_DECODER_EMBEDDING_DIM = 32


def _target_sequences(y, n_sequences):
    """Each target as a 1-D array of labels (``str`` read as characters).

    Refuses containers that are not sequences of targets (a dict, a set) and
    missing labels (None, NaN), naming the target sequence.
    """
    if not isinstance(y, (str, list, tuple, np.ndarray)) and hasattr(y, "__array__"):
        y = np.asarray(y)  # pandas, array wrappers
    if isinstance(y, (Mapping, Set)):
        raise TypeError(
            "y must be a list of target sequences (one per sequence of X: "
            f"strings, or 1-D sequences of labels), got a {type(y).__name__}, "
            "whose order is not that of X. Pass a list, for instance "
            "list(d.values())."
        )
    if isinstance(y, str) or not hasattr(y, "__len__"):
        raise TypeError(
            "y must be a list of target sequences (one per sequence of X: "
            "strings, or 1-D sequences of labels), got "
            f"{type(y).__name__}."
        )
    if len(y) != n_sequences:
        raise ValueError(
            f"y has {len(y)} target sequences but X has {n_sequences} sequences: "
            "pass one target sequence per input sequence."
        )
    out = []
    for i, target in enumerate(y):
        if isinstance(target, str):
            out.append(np.array(list(target), dtype=object))
            continue
        if np.ndim(target) == 0:
            # One label per sequence (a 1-D y): a target of one token.
            out.append(np.array([target], dtype=object))
            continue
        values = np.asarray(target, dtype=object)
        if values.ndim != 1:
            raise ValueError(
                f"Target sequence {i} has shape {values.shape}; each target must "
                "be a string or a 1-D sequence of labels."
            )
        out.append(values)
    if out:
        flat = np.concatenate(out)
        _check_labels_defined(flat, _offsets(np.array([len(t) for t in out])))
    return out


def _score_parameters(references):
    """The Parameters section of ``score`` for label-sequence targets.

    ``references`` names the targets (``"target sequences"``); the section
    is indented for a method docstring, to insert with ``insert_doc``.
    """
    return f"""\
Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.
        y : list of str or list of array-like
            Reference {references}, one per sequence of ``X``.
        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence."""


def _encode_label_sequences(targets, classes, *, dtype, known, advice):
    """Each target's labels as their ids in ``classes``, a 1-D ``dtype`` array.

    A label not in ``classes`` is a ValueError that names the target, its
    unseen labels and the ``known`` labels of the model (``"labels"`` or
    ``"output labels"`` in the message), and ends with ``advice``.
    """
    encoded = []
    for i, labels in enumerate(targets):
        if len(labels) == 0:
            encoded.append(np.zeros(0, dtype=dtype))
            continue
        values = np.asarray(labels.tolist())
        try:
            ids = np.searchsorted(classes, values)
            ok = ids < len(classes)
            ok[ok] = classes[ids[ok]] == values[ok]
        except TypeError:
            ids, ok = None, np.zeros(len(values), dtype=bool)
        if not ok.all():
            unseen = list(dict.fromkeys(values[~ok].tolist()))
            raise ValueError(
                f"Target sequence {i} has labels not in classes_: {unseen}. "
                f"The model knows the {known} {classes.tolist()} from fit; "
                f"{advice}."
            )
        encoded.append(ids.astype(dtype))
    return encoded


class _LabelSequenceOutputs:
    """The output layer of the estimators whose targets are label sequences.

    One unit per label of ``classes_``, and one more: the translator's end
    token, the transcriber's blank.
    """

    def _output_count(self, Y):
        return len(self.classes_) + 1

    def _outputs_for_classes(self, state):
        return len(state["classes_"]) + 1


def _check_discrete(labels):
    """Refuse continuous (non-integer float) output labels, as classifiers do."""
    numbers = [
        label
        for label in labels
        if isinstance(label, (float, np.floating)) and not float(label).is_integer()
    ]
    if numbers:
        raise ValueError(
            f"The target labels include continuous values (such as {numbers[0]!r}): "
            "SequenceTranslator emits labels of a finite set (ints or strings), "
            "one at a time, and cannot output numbers between them. Encode the "
            "outputs as discrete labels (for instance the characters of each "
            "number written out), or use RNNRegressor for numeric targets."
        )


def _empty_positions(X):
    """Indices of the sequences of length 0 in a list (or tuple) ``X``."""
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype == object:
        X = list(X)
    if not isinstance(X, (list, tuple)):
        return []
    return [
        i
        for i, x in enumerate(X)
        if not isinstance(x, (str, bytes)) and hasattr(x, "__len__") and len(x) == 0
    ]


@fill_doc(
    estimator="translator",
    hidden_layer_sizes_default="(100,)",
    bidirectional_default="False",
    bptt_meaning=MANY_TO_ONE_BPTT,
    learning_rate_init_default="0.003",
    learning_rate_init_note="""Three times MLP's default:
        with attention, it learned the reversal, addition and date tasks of
        the user guide's table of defaults better than 0.001, in fewer
        epochs (use 0.001 on noisy data, or ``early_stopping=True``).""",
    y_type="list of str or list of array-like",
    y_doc="One target sequence per sequence of ``X``, of any length\n"
    "            (0 included): a string (read as characters) or a 1-D sequence\n"
    "            of labels (ints or strings).",
    sample_weight_doc="Weight of each sequence (applied to all its output\n"
    "            steps).",
)
@insert_doc(score_parameters=_score_parameters("output sequences"))
class SequenceTranslator(_LabelSequenceOutputs, BaseRecurrent):
    """Encoder-decoder recurrent network mapping sequences to sequences.

    Many-to-many, unsynchronised: each input sequence gets an output
    sequence of its own length, such as a transliteration, the answer to a
    sum written as characters, or the English name of a digit image (an
    encoder over one step, ``X`` of shape ``(n, 1, n_features)``). The
    encoder reads the input; its final state, through a bridge, starts a
    decoder that emits one output token at a time until an end token, with
    optional attention over the encoder's outputs.

    Parameters
    ----------
    {parameters}

    attention : {'dot', 'general', 'additive'} or None, default='general'
        ``None``: the decoder reads the input only through its initial state,
        a summary of fixed size that holds short inputs better than long ones.
        ``'dot'`` and ``'general'`` are Luong's scores (``h_t . E_s`` and
        ``h_t^T W_a E_s``; ``'dot'`` needs the decoder width to equal the
        encoder output width, so not with ``bidirectional=True``),
        ``'additive'`` is Bahdanau's ``v^T tanh(W_q h_t + W_k E_s)``. The
        context and the decoder state are combined by
        ``tanh(W_c [c_t; h_t] + b_c)`` before the output layer. The default,
        ``'general'``, works with any encoder and learned every task of the
        user guide's table of defaults best (:doc:`/user_guide/translation`).

    decoder_embedding_dim : int or None, default=None
        Width of the decoder's embedding of the output tokens (and the start
        token). ``None`` takes ``embedding_dim`` if set, else 32.

    beam_width : int, default=1
        Hypotheses kept per sequence by :meth:`predict`: 1 is greedy
        decoding, more is beam search.

    max_output_length : int or None, default=None
        Most tokens :meth:`predict` emits per sequence. ``None`` allows twice
        the longest training target plus 2.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Output labels (characters, for string targets) seen in training;
        the end token is added internally after them.

    {attributes}

    See Also
    --------
    SequenceTagger : One label per input step.
    skrnn.metrics.exact_match_score : The exact match :meth:`score` returns.
    skrnn.metrics.edit_distance : A softer comparison of output sequences.

    Notes
    -----
    Training minimises the teacher-forced cross-entropy of every real output
    step, the end token included: ``sum_i sw_i sum_t -log p(y_it) /
    sum_i sw_i (m_i + 1)`` for targets of lengths ``m_i``, plus the L2
    term. The encoder and decoder share ``hidden_layer_sizes``; a
    bidirectional encoder is bridged to each decoder layer by
    ``tanh(W [h_fwd; h_bwd] + b)`` (and likewise the LSTM cell state),
    otherwise the encoder's final states start the decoder unchanged.
    ``dropout`` applies in training between stacked layers of the encoder
    and of the decoder and on the attentional states before the output
    layer. Truncated backpropagation (``bptt_steps``) is not supported: fit
    raises a ``ValueError`` for it. An empty source (a sequence of length 0,
    such as ``""`` through a tokenizer) is accepted by :meth:`predict`,
    :meth:`score`, :meth:`log_likelihood` and :meth:`attention_weights`: the
    decoder starts from the state of an encoder that read nothing (zero,
    bridged if bidirectional) and attends to nothing; fit needs every source
    to have a step.

    Examples
    --------
    >>> from skrnn import SequenceTranslator
    >>> X = [[1, 2, 3], [3, 1], [2, 2, 1, 3], [1]] * 10
    >>> Y = [[3, 2, 1], [1, 3], [3, 1, 2, 2], [1]] * 10
    >>> model = SequenceTranslator(
    ...     hidden_layer_sizes=(16,), embedding_dim=4, learning_rate_init=0.02,
    ...     max_iter=60, random_state=0)
    >>> model.fit(X, Y)
    SequenceTranslator(embedding_dim=4, hidden_layer_sizes=(16,),
                       learning_rate_init=0.02, max_iter=60, random_state=0)
    >>> [y.tolist() for y in model.predict([[1, 2, 3], [3, 1]])]
    [[3, 2, 1], [1, 3]]
    """

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "attention": [StrOptions(set(ATTENTION_KINDS)), None],
        "decoder_embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "beam_width": [Interval(Integral, 1, None, closed="left")],
        "max_output_length": [Interval(Integral, 1, None, closed="left"), None],
    }

    _network_class = TranslationNetwork

    def __init__(
        self,
        # the recurrent layers
        hidden_layer_sizes=(100,),
        *,
        cell="lstm", bidirectional=False, activation="tanh",
        # the optimiser, as in scikit-learn's MLP
        solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
        learning_rate_init=0.003, power_t=0.5, max_iter=200, shuffle=True,
        random_state=None, tol=1e-4, verbose=False, warm_start=False,
        momentum=0.9, nesterovs_momentum=True,
        early_stopping=False, validation_fraction=0.1,
        beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        n_iter_no_change=10, max_fun=15000,
        # recurrent training
        bptt_steps=None, clip_norm=5.0, dropout=0.0,
        # the input: token embedding, temporal convolutions
        embedding_dim=None, vocabulary_size=None, conv_layers=(), conv_padding="same",
        # attention and decoding
        attention="general", decoder_embedding_dim=None, beam_width=1,
        max_output_length=None,
    ):  # fmt: skip
        store_init_arguments(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None,
        sample_weight_val=None,
    ):  # fmt: skip
        """Fit the translator to sequences ``X`` and target sequences ``y``.

        {fit_parameters}

        {fit_returns}

        {fit_raises}
        """
        return self._fit_checked(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the translator with one epoch over the given sequences.

        {partial_fit_parameters}

        {partial_fit_returns}
        """
        return self._partial_fit_checked(X, y, sample_weight)

    # --------------------------------------------------------------- targets
    def _encode_labels(self, targets, *, purpose="fit"):
        """Token ids of label sequences; unseen labels are a ValueError.

        ``purpose`` words the error: refit for ``"fit"`` (partial_fit and
        warm_start continue with the labels of the first fit), the
        likelihood's meaning for ``"log_likelihood"``.
        """
        if purpose == "fit":
            advice = (
                "partial_fit and warm_start continue with the labels of "
                "the first fit; fit a new model (warm_start=False) on "
                "targets that contain every label"
            )
        else:
            advice = (
                "the model gives any other label probability 0, so the "
                "log-likelihood of this target is -inf. score() counts "
                "such targets as wrong"
            )
        return _encode_label_sequences(
            targets, self.classes_, dtype=np.intp, known="output labels",
            advice=advice,
        )  # fmt: skip

    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        if self.bptt_steps is not None:
            raise ValueError(
                f"SequenceTranslator backpropagates through whole sequences; "
                f"got bptt_steps={self.bptt_steps}. Set bptt_steps=None."
            )
        if not isinstance(y, (str, list, tuple)) and hasattr(y, "__array__"):
            y = np.asarray(y)  # pandas, array wrappers
        targets = _target_sequences(y, seqs.n_sequences)
        labels = [label for target in targets for label in target]
        _check_discrete(labels)
        if first_pass:
            if len({isinstance(label, str) for label in labels}) > 1:
                raise TypeError(
                    "The target labels mix strings and numbers; use labels of one type."
                )
            self.classes_ = np.unique(np.array(labels)) if labels else np.array([])
            self._string_targets = len(y) > 0 and all(isinstance(t, str) for t in y)
            self._longest_target = 0
        Y = self._encode_labels(targets)
        self._longest_target = max(self._longest_target, *map(len, Y), 0)
        return Y, targets, "log_loss"

    def _make_network(self, n_inputs, n_outputs, loss, n_tokens=None):
        decoder_dim = self.decoder_embedding_dim or self.embedding_dim
        return TranslationNetwork(
            **self._network_arguments(n_inputs, n_outputs, n_tokens),
            attention=self.attention,
            decoder_embedding_dim=decoder_dim or _DECODER_EMBEDDING_DIM,
        )

    def _batch_targets(self, batch, Y, sw, step_weight=None):
        # The end token is the output unit after classes_, the start token
        # the decoder embedding row after it.
        end_id = len(self.classes_)
        return make_decoder_batch(batch, Y, sw, end_id + 1, end_id)

    def _data_loss(self, seqs, Y, sw):
        log_likelihood = self._log_likelihood(seqs.sequences, Y)
        steps = np.array([len(y) + 1 for y in Y])
        return float(-np.dot(sw, log_likelihood) / np.dot(sw, steps))

    def _score_sequences(self, seqs, y_raw, sample_weight):
        predicted = self._decode(seqs.sequences)
        return exact_match_score(
            [list(t) for t in y_raw],
            [list(self.classes_[p]) for p in predicted],
            sample_weight=sample_weight,
        )

    # ----------------------------------------------------------------- input
    def _validate_for_predict(self, X):
        """Validate ``X`` as fit does, letting sources of length 0 through.

        An empty source (``""`` through a TextTokenizer) is read by an
        encoder of no steps: the decoder starts from the encoder's initial,
        zero state (through the bridge of a bidirectional encoder) and
        attention has nothing to attend to, a context of zeros. Training
        sources still need one step or more.
        """
        empty = _empty_positions(X)
        if not empty:
            return super()._validate_for_predict(X)
        check_is_fitted(self)
        n_features = self._n_step_features
        for i in empty:
            shape = np.shape(X[i])
            if len(shape) > 2 or (len(shape) == 2 and shape[1] != n_features):
                raise ValueError(
                    f"Sequence {i} of X is empty with shape {shape}; an empty "
                    f"source has shape (0,) or (0, {n_features}) for this "
                    f"{type(self).__name__}, fitted on {n_features} feature(s) "
                    "per step."
                )
        skip = set(empty)
        kept = [x for i, x in enumerate(X) if i not in skip]
        if kept:
            seqs = super()._validate_for_predict(kept)
            sequences, dtype = list(seqs.sequences), seqs.dtype
        else:
            sequences, dtype = [], self._theta.dtype
        for i in empty:
            sequences.insert(i, np.zeros((0, n_features), dtype=dtype))
        return Sequences(
            sequences=sequences,
            lengths=np.fromiter(map(len, sequences), np.int64, count=len(X)),
            form="ragged",
            n_features=n_features,
            dtype=np.dtype(dtype),
        )

    # -------------------------------------------------------------- decoding
    def _blocks(self, sequences):
        """Batches of at most ``_INFERENCE_BATCH`` sequences, by length."""
        n = len(sequences)
        lengths = np.fromiter(map(len, sequences), np.int64, count=n)
        order = np.argsort(-lengths, kind="stable")
        for block in gen_batches(n, _INFERENCE_BATCH):
            idx = order[block]
            batch = make_batch(
                [sequences[i] for i in idx], n_chunks(len(idx)), self._theta.dtype
            )
            yield idx, batch

    def _max_length(self):
        if self.max_output_length is not None:
            return int(self.max_output_length)
        return 2 * self._longest_target + 2

    def _decode(self, sequences, beam_width=1):
        """Token ids of the decoded output of every sequence."""
        network, theta = self._network, self._theta
        views = network.views(theta)
        out = [None] * len(sequences)

        def step(tokens, state):
            return network.decoder_step(theta, tokens, state, views=views)

        with session():
            for idx, batch in self._blocks(sequences):
                state = network.initial_decoder_state(theta, batch)
                kwargs = dict(
                    max_length=self._max_length(),
                    start_id=network.start_id,
                    end_id=network.end_id,
                )
                if beam_width == 1:
                    decoded, _ = greedy_search(step, state, len(idx), **kwargs)
                else:
                    decoded, _ = beam_search(
                        step, state, len(idx), beam_width=beam_width, **kwargs
                    )
                for i, tokens in zip(idx, decoded):
                    out[i] = np.asarray(tokens, dtype=np.intp)
        return out

    def _log_likelihood(self, sequences, Y, *, attention=False):
        """Teacher-forced ``log P(Y | X)`` per sequence (and attention)."""
        network, theta = self._network, self._theta
        log_likelihood = np.empty(len(sequences))
        weights = [None] * len(sequences)
        with session():
            for idx, batch in self._blocks(sequences):
                Yb = [Y[i] for i in idx]
                decoder, _ = make_decoder_batch(
                    batch, Yb, np.ones(len(idx)), network.start_id, network.end_id
                )
                values, alpha = network.score_targets(theta, batch, decoder)
                log_likelihood[idx] = values
                if attention:
                    positions = decoder.batch.position.reshape(-1)
                    for r in np.flatnonzero(positions >= 0):
                        i = idx[positions[r]]
                        weights[i] = alpha[r, : len(Y[i]) + 1, : len(sequences[i])]
        return (log_likelihood, weights) if attention else log_likelihood

    def _outputs(self, ids):
        labels = self.classes_[ids] if len(self.classes_) else np.array([])
        if self._string_targets:
            return "".join(labels.tolist())
        return labels

    def _encode_for_scoring(self, X, Y):
        seqs = self._validate_for_predict(X)
        targets = _target_sequences(Y, seqs.n_sequences)
        return seqs, targets, self._encode_labels(targets, purpose="log_likelihood")

    def predict(self, X):
        """Decode the output sequence of every input sequence.

        {predict_parameters}

        Returns
        -------
        Y : list of str or list of ndarray
            One output per sequence, without the end token: a string when
            the training targets were strings, else a 1-D array of labels of
            ``classes_``. Greedy decoding with ``beam_width=1``, beam search
            otherwise; at most ``max_output_length`` tokens.
        """
        check_is_fitted(self)
        seqs = self._validate_for_predict(X)
        decoded = self._decode(seqs.sequences, self.beam_width)
        return [self._outputs(ids) for ids in decoded]

    def score(self, X, y, sample_weight=None):
        """Exact-match accuracy of the predicted output sequences.

        {score_parameters}

        Returns
        -------
        score : float
            Weighted fraction of sequences predicted exactly
            (:func:`skrnn.metrics.exact_match_score`). A target with labels
            not seen in fit is never predicted, so it counts as wrong.
        """
        check_is_fitted(self)
        # Labels unseen in fit are never predicted, so their targets count as
        # wrong, as for the classifiers (no encoding needed).
        seqs = self._validate_for_predict(X)
        targets = _target_sequences(y, seqs.n_sequences)
        sw = _check_sample_weight(sample_weight, seqs.lengths, dtype=np.float64)
        predicted = self._decode(seqs.sequences, self.beam_width)
        return exact_match_score(
            [list(t) for t in targets],
            [list(self.classes_[p]) for p in predicted],
            sample_weight=sw,
        )

    def log_likelihood(self, X, y):
        """Log-probability of each target sequence given its input.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.
        y : list of str or list of array-like
            Output sequences, one per sequence of ``X``, with labels of
            ``classes_``.

        Returns
        -------
        log_likelihood : ndarray of shape (n_sequences,)
            ``log P(y_i | X_i)``, the end token's probability included.

        Raises
        ------
        ValueError
            If a target holds a label not in ``classes_`` (its probability
            is 0).
        """
        check_is_fitted(self)
        seqs, _, Y = self._encode_for_scoring(X, y)
        return self._log_likelihood(seqs.sequences, Y)

    def attention_weights(self, X, y=None):
        """Attention of every output step over the input steps.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.
        y : list of str or list of array-like, default=None
            Output sequences to attend for (teacher forcing); None uses the
            predicted outputs.

        Returns
        -------
        weights : list of ndarray
            One ``(m_i + 1, T_i)`` array per sequence: a row per output token
            and one for the end token, over the ``T_i`` input steps; rows sum
            to 1 (0 for an empty input).

        Raises
        ------
        ValueError
            If the model was fitted without attention.
        """
        check_is_fitted(self)
        if self._network.attention is None:
            raise ValueError(
                "attention_weights needs a model with attention; this "
                "SequenceTranslator was fitted with attention=None. Refit it "
                "with attention='dot', 'general' or 'additive'."
            )
        if y is None:
            seqs = self._validate_for_predict(X)
            Y = self._decode(seqs.sequences, self.beam_width)
        else:
            seqs, _, Y = self._encode_for_scoring(X, y)
        return self._log_likelihood(seqs.sequences, Y, attention=True)[1]

    def get_weights(self):
        """Return the network's parameters by name.

        Returns
        -------
        weights : dict of str to ndarray
            Copies of every parameter with PyTorch-style names:
            ``encoder.embedding.weight`` (token input),
            ``encoder.conv.{k}.weight`` and ``encoder.conv.{k}.bias`` (with
            ``conv_layers``), ``encoder.weight_ih_l0``
            and the other recurrent weights of the encoder (suffix
            ``_reverse`` for its backward direction), ``bridge.weight_l{k}``
            and ``bridge.bias_l{k}`` (and ``bridge_c.*`` for LSTM) with a
            bidirectional encoder, ``decoder.embedding.weight`` (its last row
            is the start token), the decoder's recurrent weights,
            ``attention.*`` and ``output.weight``, ``output.bias`` (the last
            output unit is the end token).
        """
        return super().get_weights()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
