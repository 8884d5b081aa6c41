"""SequenceTagger: one label per time step (many-to-many, synchronised)."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer

from ._base import BaseRecurrent, with_init_defaults
from ._compat import (
    _check_partial_fit_first_call,
    _check_sample_weight,
    _fit_context,
    available_if,
    check_classification_targets,
    unique_labels,
)
from ._docstrings import fill_doc
from ._recurrent import _stochastic_only
from ._validation import sequences_like, validate_step_labels

_PER_STEP_BPTT = """\
each sequence is processed
        in chunks of ``k`` steps: the recurrent state is carried from chunk to
        chunk, and gradients do not cross chunk boundaries."""


def _like_input(values, seqs, X):
    """Per-sequence outputs in the container ``X`` came in: list in, list out."""
    if isinstance(X, (list, tuple)):
        return [np.asarray(v) for v in values]
    return sequences_like(values, seqs)


@fill_doc(bidirectional_default="True", bptt_meaning=_PER_STEP_BPTT)
class SequenceTagger(ClassifierMixin, BaseRecurrent):
    """Recurrent network that labels every step of every sequence.

    Many-to-many, synchronised: part-of-speech or named-entity tags for each
    token, an activity label for each frame of a sensor recording. The network
    is bidirectional by default, because the right tag for a step usually
    depends on what comes after it as well as before; set
    ``bidirectional=False`` when labels must be produced online, from the past
    only (for example a next-token language model).

    Parameters
    ----------
    {hidden_layer_sizes}

    {cell}

    {bidirectional}

    {activation}

    {solver}

    {training}

    {recurrent}

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
    a sample weight weights every step of its sequence.

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

    __init__ = with_init_defaults(BaseRecurrent.__init__, bidirectional=True)

    # --------------------------------------------------------------- targets
    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        labels, flat = validate_step_labels(y, seqs)
        check_classification_targets(flat)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(flat)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(flat)
            if self.warm_start and set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same "
                    "classes as in the previous call to fit. Previously "
                    f"got {self.classes_}, `y` has {classes}"
                )
            if len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        encoded = self._label_binarizer.transform(flat).astype(seqs.dtype)
        Y = np.split(encoded, np.cumsum(seqs.lengths)[:-1])
        loss = "log_loss" if len(self.classes_) > 2 else "binary_log_loss"
        return Y, labels, loss

    def _batch_targets(self, batch, Y, sw):
        """Per-step targets; each real step weighs its sequence's weight."""
        weights = batch.step_mask() * batch.gather(sw)[:, None, :]
        return batch.gather_steps(Y), weights

    # ------------------------------------------------------------ predictions
    def _step_proba(self, seqs):
        """Per-sequence ``(T_i, n_classes)`` probabilities."""
        outputs = self._raw_outputs(seqs)
        if len(self.classes_) == 1:
            return [np.ones((len(p), 1), dtype=p.dtype) for p in outputs]
        if self.n_outputs_ == 1:
            return [np.hstack([1 - p, p]) for p in outputs]
        return outputs

    def _step_labels(self, seqs):
        proba = self._step_proba(seqs)
        flat = self.classes_[np.argmax(np.concatenate(proba), axis=1)]
        return np.split(flat, np.cumsum(seqs.lengths)[:-1])

    def _score_sequences(self, seqs, y_raw, sample_weight):
        pred = np.concatenate(self._step_labels(seqs))
        step_weight = None
        if sample_weight is not None:
            step_weight = np.repeat(sample_weight, seqs.lengths)
        return accuracy_score(np.concatenate(y_raw), pred, sample_weight=step_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the tagger to sequences ``X`` and per-step labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_steps) or \
(n_sequences, n_steps, n_features), or list of array-like
            Sequences: a 2-D table (one univariate sequence per row), a 3-D
            array (batch first), or a list of arrays of shape
            ``(n_steps_i, n_features)`` or ``(n_steps_i,)``.

        y : list of array-like or array-like of shape (n_sequences, n_steps)
            One label per step: a list of 1-D label sequences with the lengths
            of the sequences of ``X``, or a 2-D array for array input.

        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence (applied to all its steps).

        Returns
        -------
        self : object
            The fitted tagger.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the tagger with one epoch over the given sequences.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        y : list of array-like or array-like of shape (n_sequences, n_steps)
            One label per step.

        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence.

        classes : array-like of shape (n_classes,), default=None
            All labels that can appear across the calls; required on the
            first call, ignored afterwards.

        Returns
        -------
        self : object
            The updated tagger.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer().fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict one label per step.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

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

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        proba : list of ndarray or ndarray of shape \
(n_sequences, n_steps, n_classes)
            Probabilities in ``classes_`` order, in the container form of
            ``X``: a list of ``(n_steps_i, n_classes)`` arrays for a list.
        """
        seqs = self._validate_for_predict(X)
        return _like_input(self._step_proba(seqs), seqs, X)

    def predict_log_proba(self, X):
        """Logarithm of the per-step class probabilities.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        log_proba : list of ndarray or ndarray
            ``log`` of :meth:`predict_proba`, in the same form.
        """
        seqs = self._validate_for_predict(X)
        with np.errstate(divide="ignore"):
            logs = [np.log(p) for p in self._step_proba(seqs)]
        return _like_input(logs, seqs, X)

    def score(self, X, y, sample_weight=None):
        """Accuracy over all real steps (padding never counts).

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        y : list of array-like or array-like of shape (n_sequences, n_steps)
            True label of each step.

        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence (applied to all its steps).

        Returns
        -------
        score : float
            Fraction of steps labelled correctly.
        """
        seqs = self._validate_for_predict(X)
        labels, _ = validate_step_labels(y, seqs)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, seqs.lengths)
        return self._score_sequences(seqs, labels, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.two_d_labels = True
        return tags
