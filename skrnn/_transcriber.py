"""SequenceTranscriber: connectionist temporal classification (CTC).

Many-to-many, unaligned but monotonic: speech frames to characters or
phones, pen strokes to letters. The network (:mod:`skrnn._transcription_network`)
emits, at every step, a distribution over the labels and a blank; the loss
sums over every alignment that collapses to the target (merge repeats, drop
blanks), by the kernels of :mod:`skrnn._ctc`.
"""

import warnings
from dataclasses import replace
from numbers import Integral

import numpy as np
from sklearn.utils import gen_batches
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import (
    _INFERENCE_BATCH,
    BaseRecurrent,
    _stochastic_only,
    store_init_arguments,
)
from ._compat import Interval, _check_sample_weight, _fit_context
from ._conv import check_conv_layers, output_lengths
from ._ctc import (
    check_feasible,
    ctc_align,
    ctc_beam_search,
    ctc_greedy_decode,
    ctc_log_likelihood,
    infeasible_pairs,
    required_steps,
)
from ._docstrings import PER_STEP_BPTT, fill_doc, insert_doc, stream_sections
from ._stream import TranscriptionStream
from ._transcription_network import TranscriptionNetwork
from ._translator import (
    _encode_label_sequences,
    _LabelSequenceOutputs,
    _score_parameters,
    _target_sequences,
)
from .metrics import error_rate

__all__ = ["SequenceTranscriber"]


def _padded_logits(outputs):
    """Per-sequence ``(T_i, K)`` arrays as time-major ``(T_max, B, K)`` logits."""
    lengths = np.fromiter(map(len, outputs), np.int64, count=len(outputs))
    K = outputs[0].shape[1]
    logits = np.zeros((int(lengths.max(initial=0)), len(outputs), K), outputs[0].dtype)
    for b, values in enumerate(outputs):
        logits[: len(values), b] = values
    return logits, lengths


def _check_label_type(labels):
    """Refuse labels that mix strings and numbers, or continuous values."""
    if len({isinstance(label, str) for label in labels}) > 1:
        raise TypeError(
            "The target labels mix strings and numbers; use labels of one type."
        )
    for label in labels:
        if isinstance(label, (float, np.floating)) and not float(label).is_integer():
            raise ValueError(
                f"The target labels include continuous values (such as {label!r}): "
                "SequenceTranscriber emits labels of a finite set (ints or "
                "strings). Encode the targets as discrete labels."
            )


# The Parameters of log_likelihood and align, the inputs and targets they read (the
# placeholder in a docstring supplies the first line's indentation).
_TARGET_PAIR = """\
Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.
        y : list of str or list of array-like
            One target sequence per sequence of ``X``, of labels of
            ``classes_``."""


# The error of log_likelihood and score, which read targets.
_UNSEEN_LABEL_RAISES = """\
Raises
        ------
        ValueError
            If a target holds a label not in ``classes_``."""


@fill_doc(
    estimator="transcriber",
    hidden_layer_sizes_default="(100,)",
    bidirectional_default="True",
    bptt_meaning=PER_STEP_BPTT,
    y_type="list of str or list of array-like",
    y_doc="One target sequence per sequence of ``X``: a string (read as\n"
    "            characters) or a 1-D sequence of labels (ints or strings), of\n"
    "            any length from 0 up to what the input's steps allow (one\n"
    "            step per label, plus one between equal adjacent labels). A\n"
    "            single label in place of a sequence is a target of one label.",
    sample_weight_doc="Weight of each sequence's CTC loss.",
)
@insert_doc(
    target_pair=_TARGET_PAIR,
    unseen_label_raises=_UNSEEN_LABEL_RAISES,
    score_parameters=_score_parameters("target sequences"),
)
class SequenceTranscriber(_LabelSequenceOutputs, BaseRecurrent):
    """Recurrent network trained by connectionist temporal classification (CTC).

    Many-to-many, unaligned but monotonic: each input sequence (speech
    frames, pen positions) gets a shorter output sequence (characters,
    phones, digits) in the same order, with no label given per step. At
    every step the network emits a distribution over the labels of
    ``classes_`` and a blank; a labelling's probability sums over every
    path of per-step outputs that collapses to it (merge repeated outputs,
    then drop blanks), so the network learns where each label sits by
    itself (Graves et al., 2006).

    Parameters
    ----------
    {parameters}

    beam_width : int, default=1
        Prefixes kept per sequence by :meth:`predict`: 1 is best-path
        decoding (the most probable output of each step, collapsed); more
        is CTC prefix beam search, which sums the probability of each
        labelling over its paths and finds more probable labellings, at a
        cost that grows with the width.

    zero_infinity : bool, default=False
        What ``fit`` does with a pair whose input is too short for its target
        (fewer steps than labels plus equal adjacent labels: no path
        collapses to it, its loss is infinite). False raises a
        ``ValueError`` naming the sequence; True leaves such pairs out of the
        loss, counts them in ``n_infeasible_`` and warns.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Output labels (characters, for string targets) seen in training.
        The blank is internal and comes after them: the output layer has
        ``n_classes + 1`` units, the last one the blank (PyTorch's
        ``CTCLoss(blank=n_classes)``).

    n_infeasible_ : int
        Training pairs left out of the loss in the last call to ``fit`` or
        ``partial_fit`` because their input was too short (only with
        ``zero_infinity=True``; 0 otherwise).

    {attributes}

    See Also
    --------
    SequenceTagger : One label per input step (aligned targets).
    SequenceTranslator : Outputs of any length and order (encoder-decoder).
    skrnn.metrics.error_rate : The label error rate :meth:`score` subtracts
        from 1.

    Notes
    -----
    Training minimises the mean CTC loss over sequences,
    ``sum_i sw_i * -log P(y_i | x_i) / sum_i sw_i``, plus the L2 term; a
    ``sample_weight`` weights each sequence's loss (integer weights equal
    repetitions). The loss and its exact gradient with respect to the
    network's outputs are computed in float64 by a forward-backward pass in
    a Numba kernel, whatever the model's dtype. The network's output layer
    is ``output.weight`` of shape ``(n_classes + 1, D * H)``: a PyTorch
    recurrent network with a ``Linear`` head trained with
    ``CTCLoss(blank=n_classes)`` loads with :meth:`set_weights`.

    ``bptt_steps`` truncates backpropagation per chunk of steps as for
    :class:`SequenceTagger`; the loss still sums over the alignments of the
    whole sequence. With ``partial_fit``, ``classes`` (all the labels the
    calls will see) may be given on the first call; otherwise the labels of
    the first call's targets are the classes, and a later call with another
    label raises an error.

    References
    ----------
    Graves, A., Fernandez, S., Gomez, F. and Schmidhuber, J. (2006).
    Connectionist temporal classification: labelling unsegmented sequence
    data with recurrent neural networks. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import SequenceTranscriber
    >>> rng = np.random.RandomState(0)
    >>> def utterance(word):
    ...     # Each letter sounds for 3 frames: its own feature pattern, noisy.
    ...     frames = [np.eye(3)["abc".index(c)] for c in word for _ in range(3)]
    ...     return np.array(frames) + 0.1 * rng.normal(size=(3 * len(word), 3))
    >>> words = ["".join(rng.choice(list("abc"), size=rng.randint(1, 5)))
    ...          for _ in range(80)]
    >>> X = [utterance(w) for w in words]
    >>> model = SequenceTranscriber(
    ...     hidden_layer_sizes=(16,), learning_rate_init=0.02, max_iter=40,
    ...     random_state=0)
    >>> model.fit(X, words)
    SequenceTranscriber(hidden_layer_sizes=(16,), learning_rate_init=0.02,
                        max_iter=40, random_state=0)
    >>> model.score(X, words) > 0.9
    True
    >>> model.predict([utterance("cab")])
    ['cab']
    """

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "beam_width": [Interval(Integral, 1, None, closed="left")],
        "zero_infinity": ["boolean"],
    }

    _per_step = True

    _network_class = TranscriptionNetwork

    def __init__(
        self,
        # the recurrent layers
        hidden_layer_sizes=(100,),
        *,
        cell="lstm", bidirectional=True, activation="tanh",
        # the optimiser, as in scikit-learn's MLP
        solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
        learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
        random_state=None, tol=1e-4, verbose=False, warm_start=False,
        momentum=0.9, nesterovs_momentum=True,
        early_stopping=False, validation_fraction=0.1,
        beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        n_iter_no_change=10, max_fun=15000,
        # recurrent training
        bptt_steps=None, clip_norm=5.0, dropout=0.0,
        # the input: token embedding, temporal convolutions
        embedding_dim=None, vocabulary_size=None, conv_layers=(), conv_padding="same",
        # decoding and the CTC loss
        beam_width=1, zero_infinity=False,
    ):  # fmt: skip
        store_init_arguments(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None,
        sample_weight_val=None,
    ):  # fmt: skip
        """Fit the transcriber to sequences ``X`` and target sequences ``y``.

        {fit_parameters}

        {fit_returns}

        Raises
        ------
        ValueError
            If an input sequence is too short for its target (with
            ``zero_infinity=False``), if every pair is, or if ``y`` is not
            one target sequence per sequence of ``X``. Also if ``X_val`` and
            ``y_val`` are not given together, ``sample_weight_val`` is given
            without them, or they are given while ``early_stopping=False``
            or with ``solver='lbfgs'``.
        TypeError
            If ``y`` is not a list of target sequences (a dict, a set, a
            single string), or its labels mix strings and numbers.
        """
        return self._fit_checked(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the transcriber with one epoch over the given sequences.

        {partial_fit_parameters}

        classes : array-like of shape (n_classes,), default=None
            All the labels the calls will see, on the first call (for
            string targets, the characters; a string is read as its
            characters, as a target is). None on the first call takes
            the labels of its targets; a later call whose targets hold
            another label then raises an error. Ignored after the first
            call, but for a check that it names the same labels.

        {partial_fit_returns}
        """
        return self._partial_fit_checked(X, y, sample_weight, classes)

    def _partial_fit_checked(self, X, y, sample_weight, classes):
        """The work of ``partial_fit``; ``classes`` is optional on the first call."""
        with self._rollback_on_failure():
            first = not hasattr(self, "_theta")
            if first:
                self._first_classes = classes
            elif classes is not None:
                given = np.unique(
                    list(classes) if isinstance(classes, str) else classes
                )
                if not np.array_equal(given, self.classes_):
                    raise ValueError(
                        f"classes={given.tolist()} differs from the classes of the "
                        f"first partial_fit call, {self.classes_.tolist()}; pass the "
                        "same classes, or None after the first call."
                    )
            try:
                return self._fit(X, y, sample_weight=sample_weight, incremental=True)
            finally:
                self.__dict__.pop("_first_classes", None)

    # --------------------------------------------------------------- targets
    def _encode_labels(self, targets, *, purpose):
        """Label ids of target sequences; unseen labels are a ValueError."""
        if purpose == "fit":
            advice = (
                "warm_start and partial_fit continue with the labels of the "
                "first fit; fit a new model (warm_start=False), or give "
                "every label to the first partial_fit call as classes="
            )
        else:
            advice = (
                f"{purpose} needs targets made of labels the model can "
                "emit; leave these targets out, or refit with them"
            )
        return _encode_label_sequences(
            targets, self.classes_, dtype=np.int64, known="labels", advice=advice
        )

    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        if not isinstance(y, (str, list, tuple)) and hasattr(y, "__array__"):
            y = np.asarray(y)  # pandas, array wrappers
        targets = _target_sequences(y, seqs.n_sequences)
        labels = [label for target in targets for label in target]
        _check_label_type(labels)
        if first_pass:
            given = self.__dict__.get("_first_classes")
            if given is not None:
                given = list(given if isinstance(given, str) else np.ravel(given))
                _check_label_type(given)
                self.classes_ = np.unique(np.array(given))
            else:
                self.classes_ = np.unique(np.array(labels)) if labels else np.array([])
            self._string_targets = len(y) > 0 and all(isinstance(t, str) for t in y)
        Y = self._encode_labels(targets, purpose="fit")
        return Y, targets, "log_loss"

    def _make_network(self, n_inputs, n_outputs, loss, n_tokens=None):
        return TranscriptionNetwork(
            **self._network_arguments(n_inputs, n_outputs, n_tokens),
            loss=loss,
            per_step=True,
        )

    def _prepare(self, X, y, sample_weight, *, reset, incremental, dtype=None):
        data = super()._prepare(
            X, y, sample_weight, reset=reset, incremental=incremental, dtype=dtype
        )
        # CTC reads the recurrent layers' frames: after conv_layers' strides.
        lengths = data.network.frame_lengths(data.seqs.lengths)
        hint = "set zero_infinity=True to leave such pairs out of the loss"
        hint = self._stride_hint(data.network, hint)
        if not self.zero_infinity:
            check_feasible(lengths, data.Y, hint=hint)
            self.n_infeasible_ = 0
            return data
        pairs = infeasible_pairs(lengths, data.Y)
        if len(pairs) == len(lengths):
            i, steps, needed = pairs[0]
            why = self._stride_hint(data.network, None)
            raise ValueError(
                f"All {len(pairs)} input sequences are too short for their "
                f"targets (sequence {i} has {steps} steps and needs {needed}), so "
                "zero_infinity=True would leave nothing to learn from. CTC needs "
                "one step per label plus one between repeated labels: use longer "
                "inputs (a finer frame rate) or shorter targets"
                + (f"; {why}." if why else ".")
            )
        self.n_infeasible_ = len(pairs)
        if pairs:
            # Left out entirely: of the loss and of the L2 term's normaliser.
            weights = data.sample_weight.copy()
            weights[[i for i, _, _ in pairs]] = 0
            data = replace(data, sample_weight=weights)
            i, steps, needed = pairs[0]
            warnings.warn(
                f"{len(pairs)} of {len(lengths)} training pairs are left out of "
                f"the loss (zero_infinity=True): their inputs are too short for "
                f"their targets (sequence {i} has {steps} steps and needs "
                f"{needed}). See n_infeasible_.",
                UserWarning,
                stacklevel=4,
            )
        return data

    @staticmethod
    def _stride_hint(network, hint):
        """``hint``, after the reason a stride can make pairs infeasible."""
        stride = network.stride
        if stride == 1:
            return hint
        why = (
            f"steps are counted in frames after conv_layers, whose stride of "
            f"{stride} leaves ceil(T / {stride}) frames for T input steps: use "
            "a smaller stride in conv_layers"
        )
        return why if hint is None else f"{why}, or {hint}"

    def _batch_targets(self, batch, Y, sw, step_weight=None):
        """The batch's targets, and each row's weight (0 for infeasible pairs)."""
        # The network is built from these hyper-parameters (a gradient check
        # calls this before any fit).
        layers = check_conv_layers(self.conv_layers, self.conv_padding)
        lengths = output_lengths(batch.lengths, layers)
        feasible = lengths >= batch.gather(required_steps(Y))
        return Y, batch.gather(sw) * feasible

    # ------------------------------------------------------------- outputs
    def _logit_blocks(self, sequences):
        """Time-major pre-activations of blocks of sequences.

        Yields the indices of a block of at most ``_INFERENCE_BATCH``
        sequences and their ``(T_max, B, n_classes + 1)`` logits and lengths.
        """
        for block in gen_batches(len(sequences), _INFERENCE_BATCH):
            idx = np.arange(len(sequences))[block]
            outputs = self._raw_outputs([sequences[i] for i in idx], activate=False)
            yield (idx, *_padded_logits(outputs))

    def _decode(self, sequences, beam_width):
        """Label ids of the decoded labelling of every sequence."""
        out = [None] * len(sequences)
        for idx, logits, lengths in self._logit_blocks(sequences):
            if beam_width == 1:
                decoded, _ = ctc_greedy_decode(logits, lengths)
            else:
                decoded, _ = ctc_beam_search(logits, lengths, beam_width)
            for i, ids in zip(idx, decoded):
                out[i] = ids
        return out

    def _labels(self, ids):
        """A labelling of ``classes_`` ids, as ``predict`` returns it."""
        labels = self.classes_[ids] if len(ids) else self.classes_[:0]
        if self._string_targets:
            return "".join(labels.tolist())
        return labels

    def _log_likelihoods(self, sequences, Y):
        out = np.empty(len(sequences))
        for idx, logits, lengths in self._logit_blocks(sequences):
            out[idx] = ctc_log_likelihood(logits, [Y[i] for i in idx], lengths)
        return out

    def _data_loss(self, seqs, Y, sw):
        """Weighted mean CTC loss; pairs of likelihood zero are left out."""
        log_likelihood = self._log_likelihoods(seqs.sequences, Y)
        finite = np.isfinite(log_likelihood)
        weight = np.where(finite, sw, 0.0)
        if weight.sum() == 0:
            return np.nan
        total = np.dot(weight, np.where(finite, log_likelihood, 0.0))
        return float(-total / weight.sum())

    def _score_ids(self, Y, predicted, sample_weight):
        """1 - label error rate of predicted ids against target ids."""
        if sample_weight is None:
            sample_weight = np.ones(len(Y))
        total = float(np.dot(sample_weight, [len(t) for t in Y]))
        if total == 0:
            # No reference label: the error rate is undefined; score the
            # fraction (weighted) of sequences predicted empty.
            empty = np.array([len(p) == 0 for p in predicted], dtype=float)
            return float(np.average(empty, weights=sample_weight))
        return 1.0 - error_rate(
            [list(t) for t in Y], [list(p) for p in predicted],
            sample_weight=sample_weight,
        )  # fmt: skip

    def _score_sequences(self, seqs, y_raw, sample_weight):
        Y = self._encode_labels(y_raw, purpose="score")
        predicted = self._decode(seqs.sequences, self.beam_width)
        return self._score_ids(Y, predicted, sample_weight)

    def _encode_for_scoring(self, X, y, purpose):
        seqs = self._validate_for_predict(X)
        if not isinstance(y, (str, list, tuple)) and hasattr(y, "__array__"):
            y = np.asarray(y)
        targets = _target_sequences(y, seqs.n_sequences)
        return seqs, self._encode_labels(targets, purpose=purpose)

    # ----------------------------------------------------------- predictions
    def predict(self, X):
        """Transcribe every sequence.

        {predict_parameters}

        Returns
        -------
        Y : list of str or list of ndarray
            One labelling per sequence: a string when the training targets
            were strings, else a 1-D array of labels of ``classes_``.
            Best-path decoding with ``beam_width=1``, CTC prefix beam search
            otherwise.
        """
        check_is_fitted(self)
        seqs = self._validate_for_predict(X)
        decoded = self._decode(seqs.sequences, self.beam_width)
        return [self._labels(ids) for ids in decoded]

    def predict_proba(self, X):
        """Frame posteriors: each step's distribution over the labels and the blank.

        {predict_parameters}

        Returns
        -------
        proba : list of ndarray
            One ``(n_frames_i, n_classes + 1)`` array per sequence: the
            probabilities of ``classes_`` in order, then of the blank. A
            frame is a step of the input, or, with ``conv_layers`` of total
            stride ``s``, one output step of the convolutions:
            ``n_frames_i = ceil(n_steps_i / s)``, and frame ``t`` is centred
            on input step ``t * s`` (``conv_padding='same'``) or ends at it
            (``'causal'``), so it covers input steps ``t * s`` to
            ``t * s + s - 1``.
        """
        check_is_fitted(self)
        seqs = self._validate_for_predict(X)
        return self._raw_outputs(seqs.sequences, activate=True)

    def predict_log_proba(self, X):
        """Logarithm of the frame posteriors.

        {predict_parameters}

        Returns
        -------
        log_proba : list of ndarray
            One ``(n_frames_i, n_classes + 1)`` array per sequence (frames as
            in :meth:`predict_proba`), the log of
            :meth:`predict_proba` (computed from the logits, without
            underflow).
        """
        check_is_fitted(self)
        seqs = self._validate_for_predict(X)
        out = []
        for z in self._raw_outputs(seqs.sequences, activate=False):
            z = z - z.max(axis=1, keepdims=True)
            out.append(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))
        return out

    def log_likelihood(self, X, y):
        """Log-probability of each target sequence, summed over its alignments.

        {target_pair}

        Returns
        -------
        log_likelihood : ndarray of shape (n_sequences,)
            ``log P(y_i | X_i)``, the negative of the CTC loss; ``-inf`` for
            a pair whose input is too short for its target.

        {unseen_label_raises}
        """
        check_is_fitted(self)
        seqs, Y = self._encode_for_scoring(X, y, "log_likelihood")
        return self._log_likelihoods(seqs.sequences, Y)

    def align(self, X, y):
        """Forced alignment: where each label of each target sits in its input.

        {target_pair}

        Returns
        -------
        alignment : list of ndarray of int
            Per sequence, an array of its number of frames (its length, or
            ``ceil(n_steps_i / s)`` with ``conv_layers`` of total stride
            ``s``, frames as in :meth:`predict_proba`): at each frame, the
            index in ``classes_`` of the label emitted on the most probable
            path that collapses to the target, or -1 for the blank.

        Raises
        ------
        ValueError
            If a target holds a label not in ``classes_``, or an input is too
            short for its target.
        """
        check_is_fitted(self)
        seqs, Y = self._encode_for_scoring(X, y, "align")
        check_feasible(
            self._network.frame_lengths(seqs.lengths), Y,
            hint=self._stride_hint(self._network, None),
        )  # fmt: skip
        out = [None] * seqs.n_sequences
        for idx, logits, lengths in self._logit_blocks(seqs.sequences):
            labels, _ = ctc_align(logits, [Y[i] for i in idx], lengths)
            for i, path in zip(idx, labels):
                out[i] = path
        return out

    def score(self, X, y, sample_weight=None):
        """One minus the label error rate of the transcriptions.

        {score_parameters}

        Returns
        -------
        score : float
            ``1 - error_rate(y, predict(X))`` (:func:`skrnn.metrics.error_rate`:
            total edit distance over total reference length); it can be
            negative when predictions hold many extra labels. If no reference
            holds a label, the weighted fraction of empty predictions.

        {unseen_label_raises}
        """
        check_is_fitted(self)
        seqs, Y = self._encode_for_scoring(X, y, "score")
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, seqs.lengths, dtype=np.float64)
        predicted = self._decode(seqs.sequences, self.beam_width)
        return self._score_ids(Y, predicted, sw)

    @insert_doc(
        stream_sections=stream_sections(
            "TranscriptionStream", "frames", "frames", indent=8
        )
    )
    def stream(self, n_streams=None):
        """Start live transcription: push frames, get posteriors and labels.

        The stream keeps the recurrent state between pushes, so each new
        frame costs one step of the network. Its
        :meth:`~skrnn.TranscriptionStream.push` returns each frame's
        posteriors (what :meth:`predict_proba` gives on the prefix seen so
        far), :meth:`~skrnn.TranscriptionStream.push_labels` the labels the
        new frames complete (best-path decoding, online), and
        :attr:`~skrnn.TranscriptionStream.transcript` all labels so far.

        {stream_sections}
        """
        return TranscriptionStream(self, n_streams)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
