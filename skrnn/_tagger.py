"""SequenceTagger: one label per time step (many-to-many, synchronised)."""

from numbers import Number, Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from ._base import (
    BaseRecurrentClassifier,
    _check_count,
    _stochastic_only,
    store_init_arguments,
)
from ._compat import _fit_context
from ._docstrings import PER_STEP_BPTT, fill_doc
from ._validation import sequences_like, validate_step_labels


def _is_single_sequence(seed):
    """Whether ``seed`` is one 1-D sequence rather than a collection of them."""
    if isinstance(seed, np.ndarray):
        return seed.ndim == 1
    return isinstance(seed, (list, tuple)) and all(
        isinstance(v, (Number, np.generic)) for v in seed
    )


def _as_step_columns(seed, single):
    """Seeds of scalar steps as ``(T, 1)`` columns.

    A 1-D seed, a 2-D array or a list of 1-D seeds would otherwise be read as
    a table whose column count must match the fit data; a seed's length is
    free here.
    """
    if single:
        return [np.asarray(seed).reshape(-1, 1)]
    if isinstance(seed, np.ndarray) and seed.ndim == 2:
        return seed[:, :, None]
    if isinstance(seed, (list, tuple)):
        return [np.asarray(s).reshape(-1, 1) if np.ndim(s) == 1 else s for s in seed]
    return seed


def _draw(proba, temperature, rng):
    """Index of one class per row, drawn from ``proba`` at ``temperature``."""
    if temperature == 0:
        return np.argmax(proba, axis=1)
    with np.errstate(divide="ignore"):
        logits = np.log(proba.astype(np.float64)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random_sample(len(proba)) * cumulative[:, -1]
    drawn = (cumulative <= u[:, None]).sum(axis=1)
    return np.minimum(drawn, proba.shape[1] - 1)


def _like_input(values, seqs, X):
    """Per-sequence outputs in the container ``X`` came in: list in, list out."""
    if isinstance(X, (list, tuple)):
        return [np.asarray(v) for v in values]
    return sequences_like(values, seqs)


@fill_doc(
    estimator="tagger",
    hidden_layer_sizes_default="(64,)",
    bidirectional_default="True",
    bptt_meaning=PER_STEP_BPTT,
    class_weight_unit="Each step weighs the weight of its label;\n"
    "        ``'balanced'`` counts the labels over all steps.",
    y_type="list of array-like or array-like of shape (n_sequences, n_steps)",
    y_doc="One label per step: a list of 1-D label sequences with the\n"
    "            lengths of the sequences of ``X``, or a 2-D array for array\n"
    "            input.",
    sample_weight_doc="Weight of each sequence (applied to all its steps),\n"
    "            or of each step: a list of 1-D arrays with the lengths of\n"
    "            the sequences of ``X`` (or a 2-D array for array input).",
    labels="labels",
)
class SequenceTagger(ClassifierMixin, BaseRecurrentClassifier):
    """Recurrent network that labels every step of every sequence.

    Many-to-many, synchronised: part-of-speech or named-entity tags for each
    token, an activity label for each frame of a sensor recording. The network
    is bidirectional by default, because the right tag for a step usually
    depends on what comes after it as well as before; set
    ``bidirectional=False`` when labels must be produced online, from the past
    only (for example a next-token language model).

    Parameters
    ----------
    {parameters}

    {class_weight}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen over all steps.

    {attributes}

    See Also
    --------
    RNNClassifier : One class per sequence.
    skrnn.metrics.flat_f1_score : Per-step F1 over real steps.
    skrnn.metrics.span_f1_score : Entity-level F1 for IOB tags.

    Notes
    -----
    The loss is the mean log-loss over all real steps (padding never counts);
    a sample weight weights every step of its sequence, a per-step sample
    weight its step. With per-step weights the L2 normaliser weighs each
    sequence by the mean weight of its steps, and early stopping's
    validation score and loss weigh each validation step by its own weight
    (``sample_weight_val`` may be per step too).

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import SequenceTagger
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(n, 1)) for n in rng.randint(3, 9, size=60)]
    >>> y = [np.where(x[:, 0] > 0, "pos", "neg") for x in X]
    >>> tagger = SequenceTagger(
    ...     hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=30,
    ...     random_state=0,
    ... )
    >>> tagger.fit(X, y)
    SequenceTagger(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=30,
                   random_state=0)
    >>> tagger.score(X, y) > 0.9
    True
    >>> [len(labels) for labels in tagger.predict(X[:3])] == [len(x) for x in X[:3]]
    True
    """

    _per_step = True
    _unit_stride_reason = "SequenceTagger predicts one label per input step"

    def __init__(
        self,
        # the recurrent layers
        hidden_layer_sizes=(64,),
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
        # weighing the labels
        class_weight=None,
    ):  # fmt: skip
        store_init_arguments(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None,
        sample_weight_val=None,
    ):  # fmt: skip
        """Fit the tagger to sequences ``X`` and per-step labels ``y``.

        {fit_parameters}

        {fit_returns}

        {fit_raises}
        """
        return self._fit_checked(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the tagger with one epoch over the given sequences.

        {partial_fit_parameters}

        {partial_fit_classes}

        {partial_fit_returns}
        """
        return self._partial_fit_checked(X, y, sample_weight, classes)

    # --------------------------------------------------------------- targets
    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        labels, flat = validate_step_labels(y, seqs)
        check_classification_targets(flat)
        encoded = self._encode_classes(flat, seqs.dtype, incremental=incremental)
        Y = np.split(encoded, np.cumsum(seqs.lengths)[:-1])
        loss = "log_loss" if len(self.classes_) > 2 else "binary_log_loss"
        return Y, labels, loss

    def _prepare(self, X, y, sample_weight, *, reset, incremental, dtype=None):
        data = super()._prepare(
            X, y, sample_weight, reset=reset, incremental=incremental, dtype=dtype
        )
        weights = self._class_weights(
            np.concatenate(data.y_raw), incremental=incremental
        )
        self._step_class_weight = (
            None if weights is None else weights.astype(data.seqs.dtype)
        )
        return data

    def _check_weights(self, sample_weight, seqs):
        """Sequence weights, or per-step weights (one 1-D array per sequence).

        Per-step weights come with the mean weight of each sequence's steps
        as its sequence weight (what the L2 normaliser uses).
        """
        per_step = (
            isinstance(sample_weight, np.ndarray) and sample_weight.ndim == 2
        ) or (
            isinstance(sample_weight, (list, tuple))
            and any(np.ndim(w) > 0 for w in sample_weight)
        )
        if not per_step:
            return super()._check_weights(sample_weight, seqs)
        if len(sample_weight) != seqs.n_sequences:
            raise ValueError(
                f"Per-step sample_weight needs one 1-D array per sequence: got "
                f"{len(sample_weight)} for {seqs.n_sequences} sequences."
            )
        step_weight = []
        for i, (w, length) in enumerate(zip(sample_weight, seqs.lengths)):
            w = np.asarray(w, dtype=seqs.dtype)
            if w.shape != (length,):
                raise ValueError(
                    f"Per-step sample_weight {i} has shape {w.shape}, but "
                    f"sequence {i} has {length} steps: pass one weight per step "
                    f"(shape ({length},)), or one weight per sequence."
                )
            if not np.isfinite(w).all() or (w < 0).any():
                raise ValueError(
                    f"Per-step sample_weight {i} has negative or non-finite "
                    "values; weights must be finite and non-negative."
                )
            step_weight.append(w)
        sw = np.array(
            [w.mean() if len(w) else 0.0 for w in step_weight], dtype=seqs.dtype
        )
        return sw, step_weight

    def _batch_targets(self, batch, Y, sw, step_weight=None):
        """Per-step targets; each real step weighs its sequence's weight.

        With per-step sample weights, each step its own weight instead; with
        ``class_weight``, also the weight of the step's label.
        """
        if step_weight is None:
            weights = batch.step_mask() * batch.gather(sw)[:, None, :]
        else:
            weights = batch.step_mask() * batch.gather_steps(step_weight)
        Yb = batch.gather_steps(Y)
        class_weight = getattr(self, "_step_class_weight", None)
        if class_weight is not None and len(class_weight) > 1:
            if Yb.shape[-1] == 1:  # binary: one indicator of classes_[1]
                step = (
                    class_weight[0] + (class_weight[1] - class_weight[0]) * Yb[..., 0]
                )
            else:
                step = Yb @ class_weight
            weights = weights * step
        return Yb, weights

    # ------------------------------------------------------------ predictions
    def _proba(self, outputs):
        """Class probabilities ``(n, n_classes)`` from activated outputs."""
        if len(self.classes_) == 1:
            return np.ones((len(outputs), 1), dtype=outputs.dtype)
        if self.n_outputs_ == 1:
            return np.hstack([1 - outputs, outputs])
        return outputs

    def _step_proba(self, seqs):
        """Per-sequence ``(T_i, n_classes)`` probabilities."""
        return [self._proba(p) for p in self._raw_outputs(seqs.sequences)]

    def _step_labels(self, seqs):
        proba = self._step_proba(seqs)
        flat = self.classes_[np.argmax(np.concatenate(proba), axis=1)]
        return np.split(flat, np.cumsum(seqs.lengths)[:-1])

    def _score_sequences(self, seqs, y_raw, sample_weight):
        """Accuracy over all real steps; ``sample_weight`` per sequence or per step."""
        pred = np.concatenate(self._step_labels(seqs))
        step_weight = None
        if isinstance(sample_weight, list):
            step_weight = np.concatenate(sample_weight)
        elif sample_weight is not None:
            step_weight = np.repeat(sample_weight, seqs.lengths)
        return accuracy_score(np.concatenate(y_raw), pred, sample_weight=step_weight)

    def predict(self, X):
        """Predict one label per step.

        {predict_parameters}

        Returns
        -------
        y : list of ndarray or ndarray of shape (n_sequences, n_steps)
            Labels in the container form of ``X``: a list of 1-D arrays when
            ``X`` is a list or tuple, a 2-D array when it is an array.
        """
        seqs = self._validate_for_predict(X)
        return _like_input(self._step_labels(seqs), seqs, X)

    def predict_proba(self, X):
        """Per-step class probabilities.

        {predict_parameters}

        Returns
        -------
        proba : list of ndarray or ndarray of shape \
(n_sequences, n_steps, n_classes)
            Probabilities in ``classes_`` order, in the container form of
            ``X``: a list of ``(n_steps_i, n_classes)`` arrays for a list.
        """
        seqs = self._validate_for_predict(X)
        return _like_input(self._step_proba(seqs), seqs, X)

    def sample(self, seed, n_steps, *, temperature=1.0, random_state=None):
        """Generate continuations of seed sequences, one sampled label at a time.

        For a tagger trained as a language model, whose label at each step is
        the next step's input (typically token ids, with ``embedding_dim``
        set, and ``y = [x[1:] for x in texts]`` for ``X = [x[:-1] ...]``): the
        model reads each seed, draws the next label from its predicted
        distribution, feeds it back as the next input, and repeats. The
        recurrent state is carried, so each new step costs one cell update.

        The tagger can only generate labels it has seen in ``fit`` (its
        ``classes_``): to give every token of the vocabulary a probability,
        train with ``partial_fit(X, y, classes=np.arange(n_tokens))``.

        Parameters
        ----------
        seed : array-like of shape (n_steps_seed,) or sequences
            One seed (a 1-D sequence of ids, or of values for a model with one
            numeric feature per step) or several, in any of the forms
            accepted by :meth:`fit`.

        n_steps : int
            Number of labels to generate after each seed.

        temperature : float, default=1.0
            Divides the log-probabilities before sampling: below 1 the draws
            favour likely labels (more conservative text), above 1 they
            spread out (more surprising text). 0 always takes the most
            probable label (greedy decoding).

        random_state : int, RandomState instance or None, default=None
            Seeds the draws: an int makes the generated sequences repeat.

        Returns
        -------
        generated : ndarray of shape (n_steps,) or (n_seeds, n_steps)
            The generated labels (from ``classes_``), 1-D for a single 1-D
            seed.

        Raises
        ------
        ValueError
            If the tagger is bidirectional (it has no state to carry
            forward), or its labels cannot be read as inputs (ids the
            embedding does not have, or labels that are not numbers).

        Examples
        --------
        >>> import numpy as np
        >>> from skrnn import SequenceTagger
        >>> cycle = np.tile([1, 2, 3, 4], 8)
        >>> X = [cycle[i : i + 12] for i in range(16)]
        >>> y = [cycle[i + 1 : i + 13] for i in range(16)]
        >>> lm = SequenceTagger(
        ...     hidden_layer_sizes=(16,), bidirectional=False, embedding_dim=4,
        ...     learning_rate_init=0.02, max_iter=60, random_state=0,
        ... ).fit(X, y)
        >>> lm.sample([1, 2], n_steps=6, temperature=0)
        array([3, 4, 1, 2, 3, 4])
        """
        single = _is_single_sequence(seed)
        seqs = self._validate_for_predict(_as_step_columns(seed, single))
        n_steps = _check_count(n_steps, "n_steps")
        if (
            isinstance(temperature, (bool, np.bool_))
            or not isinstance(temperature, Real)
            or not temperature >= 0
        ):
            raise ValueError(
                f"temperature must be a number >= 0 (0 is greedy), got {temperature!r}."
            )
        self._require_unidirectional("sample")
        inputs = self._labels_as_inputs()
        rng = check_random_state(random_state)
        out = np.empty((seqs.n_sequences, n_steps), dtype=self.classes_.dtype)

        def feed_back(outputs, index, r):
            drawn = _draw(self._proba(outputs), temperature, rng)
            out[index, r] = self.classes_[drawn]
            return inputs[drawn].reshape(-1, 1, 1)

        self._rollout(seqs.sequences, n_steps, feed_back)
        return out[0] if single else out

    def _labels_as_inputs(self):
        """The input step each class stands for, or a clear error."""
        classes = self.classes_
        name = type(self).__name__
        if classes.dtype.kind not in "iufb":
            raise ValueError(
                f"sample feeds each generated label back as the next input step, "
                f"so labels must be numbers (token ids), but this {name}'s classes "
                f"are {classes.dtype} values such as {classes.tolist()[0]!r}. "
                "Train it on token ids, e.g. from skrnn.preprocessing.TextTokenizer."
            )
        values = classes.astype(np.float64)
        if self._network.embeds:
            bad = (values < 0) | (values >= self.n_tokens_) | (values % 1 != 0)
            if bad.any():
                raise ValueError(
                    f"sample feeds each generated label back as the next input "
                    f"token, but label {classes[bad].tolist()[0]!r} is not an id of "
                    f"the embedding (0 to {self.n_tokens_ - 1}). Train the tagger on "
                    "next-token labels drawn from the same vocabulary as X."
                )
        elif self._n_step_features != 1:
            raise ValueError(
                f"sample feeds each generated label back as the next input step, "
                f"but this {name} reads {self._n_step_features} features per "
                "step and a label is one number."
            )
        return values

    def score(self, X, y, sample_weight=None):
        """Accuracy over all real steps (padding never counts).

        {predict_parameters}

        y : list of array-like or array-like of shape (n_sequences, n_steps)
            True label of each step.

        sample_weight : array-like of shape (n_sequences,) or list of 1-D \
arrays, default=None
            Weight of each sequence (applied to all its steps), or of each
            step (one 1-D array per sequence), as ``fit`` takes them.

        Returns
        -------
        score : float
            Fraction of steps labelled correctly, weighted.
        """
        seqs = self._validate_for_predict(X)
        labels, _ = validate_step_labels(y, seqs)
        if sample_weight is not None:
            sw, step_weight = self._check_weights(sample_weight, seqs)
            sample_weight = sw if step_weight is None else step_weight
        return self._score_sequences(seqs, labels, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.two_d_labels = True
        return tags
