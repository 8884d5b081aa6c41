"""Many-to-one estimators: RNNRegressor and RNNClassifier."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)

from ._base import _STOCHASTIC_SOLVERS, BaseRecurrent
from ._compat import _check_partial_fit_first_call, _fit_context, available_if
from ._docstrings import fill_doc

_MANY_TO_ONE_BPTT = """\
the gradient flows back
        through at most the last ``k`` steps of each sequence; the earlier
        steps run forward without storing activations, so training memory
        grows with ``k`` instead of the sequence length."""


def _stochastic_only(estimator):
    if estimator.solver not in _STOCHASTIC_SOLVERS:
        raise AttributeError(
            "partial_fit is only available for stochastic"
            " optimizers. %s is not stochastic." % estimator.solver
        )
    return True


class _ManyToOne(BaseRecurrent):
    """What the many-to-one estimators share: ``fit`` and prediction."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_steps) or \
(n_sequences, n_steps, n_features), or list of array-like
            Sequences: a 2-D table (one univariate sequence per row), a 3-D
            array (batch first), or a list of arrays of shape
            ``(n_steps_i, n_features)`` or ``(n_steps_i,)`` with their own
            lengths (no padding needed).

        y : array-like of shape (n_sequences,) or (n_sequences, n_outputs)
            Target of each sequence.

        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence in the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _predict_outputs(self, X):
        seqs = self._validate_for_predict(X)
        return self._raw_outputs(seqs)


@fill_doc(bidirectional_default="False", bptt_meaning=_MANY_TO_ONE_BPTT)
class RNNRegressor(RegressorMixin, _ManyToOne):
    """Recurrent neural network regressor: one value (or several) per sequence.

    Reads each sequence step by step with stacked recurrent layers (Elman RNN,
    LSTM or GRU) and predicts from the final state with a linear output layer,
    minimising the squared error. The parameters are those of
    :class:`~sklearn.neural_network.MLPRegressor` plus ``cell``,
    ``bidirectional``, ``bptt_steps``, ``clip_norm`` and ``dropout``.

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
    {attributes}

    See Also
    --------
    RNNClassifier : Recurrent network classifier (sequence to class).
    sklearn.neural_network.MLPRegressor : Feed-forward network regressor.

    Notes
    -----
    The objective is ``0.5 * mean((y - p)**2)`` over sequences, summed over
    outputs, plus the L2 penalty; ``loss_`` reports exactly this objective
    (:class:`~sklearn.neural_network.MLPRegressor` reports the mean over
    outputs while minimising the sum).

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 6))
    >>> y = X.sum(axis=1)
    >>> reg = RNNRegressor(hidden_layer_sizes=(16,), max_iter=150, random_state=0)
    >>> reg.fit(X, y)
    RNNRegressor(hidden_layer_sizes=(16,), max_iter=150, random_state=0)
    >>> round(reg.score(X, y), 2) > 0.95
    True
    """

    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        y = check_array(
            y, ensure_2d=False, dtype=seqs.dtype, input_name="y", ensure_min_samples=1
        )
        check_consistent_length(seqs.lengths, y)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        elif y.ndim != 2:
            raise ValueError(
                f"y must be 1-D (n_sequences,) or 2-D (n_sequences, n_outputs); "
                f"got an array with {y.ndim} dimensions."
            )
        return y, y, "squared_error"

    def _score_sequences(self, seqs, y_raw, sample_weight):
        pred = self._raw_outputs(seqs)
        if not np.isfinite(pred).all():
            return np.nan
        return r2_score(y_raw, pred, sample_weight=sample_weight)

    def predict(self, X):
        """Predict with the recurrent network.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        y : ndarray of shape (n_sequences,) or (n_sequences, n_outputs)
            The predicted values.
        """
        out = self._predict_outputs(X)
        return out.ravel() if out.shape[1] == 1 else out

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given sequences.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        y : array-like of shape (n_sequences,) or (n_sequences, n_outputs)
            Target of each sequence.

        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence in the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


@fill_doc(bidirectional_default="False", bptt_meaning=_MANY_TO_ONE_BPTT)
class RNNClassifier(ClassifierMixin, _ManyToOne):
    """Recurrent neural network classifier: one class per sequence.

    Reads each sequence step by step with stacked recurrent layers (Elman RNN,
    LSTM or GRU) and classifies it from the final state, minimising the
    log-loss. Binary, multiclass and multilabel targets are handled as in
    :class:`~sklearn.neural_network.MLPClassifier`.

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
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels.

    {attributes}

    See Also
    --------
    RNNRegressor : Recurrent network regressor (sequence to value).
    sklearn.neural_network.MLPClassifier : Feed-forward network classifier.

    Notes
    -----
    A binary problem has one logistic output, the probability of
    ``classes_[1]``; a multiclass problem one softmax output per class; a
    multilabel problem one logistic output per label.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = np.where(X.sum(axis=1) > 0, "up", "down")
    >>> clf = RNNClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
    >>> clf.fit(X, y)
    RNNClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        y = check_array(
            y, ensure_2d=False, dtype=None, input_name="y", ensure_min_samples=1
        )
        check_consistent_length(seqs.lengths, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        Y = self._label_binarizer.transform(y).astype(seqs.dtype)
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        return Y, y, "log_loss" if multiclass else "binary_log_loss"

    def _stratify(self, y_raw):
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return None
        _, counts = np.unique(y_raw, return_counts=True)
        # Stratification needs two members per class; fall back to a plain split.
        return y_raw if counts.min() >= 2 else None

    def _score_sequences(self, seqs, y_raw, sample_weight):
        return accuracy_score(
            y_raw, self._labels(self._raw_outputs(seqs)), sample_weight=sample_weight
        )

    def _labels(self, proba):
        if self.n_outputs_ == 1:
            proba = proba.ravel()
        return self._label_binarizer.inverse_transform(proba)

    def predict(self, X):
        """Predict the class of each sequence.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        y : ndarray of shape (n_sequences,) or (n_sequences, n_classes)
            The predicted classes (an indicator matrix for multilabel).
        """
        return self._labels(self._predict_outputs(X))

    def predict_proba(self, X):
        """Probability of each class for each sequence.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_sequences, n_classes)
            Class probabilities in the order of ``classes_``.
        """
        proba = self._predict_outputs(X)
        if self.n_outputs_ == 1 and not self._label_binarizer.y_type_.startswith(
            "multilabel"
        ):
            proba = proba.ravel()
            return np.vstack([1 - proba, proba]).T
        return proba

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        log_proba : ndarray of shape (n_sequences, n_classes)
            ``log(predict_proba(X))``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given sequences.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        y : array-like of shape (n_sequences,)
            Class of each sequence.

        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence in the loss.

        classes : array-like of shape (n_classes,), default=None
            All classes that can appear across the calls; required on the
            first call, ignored afterwards.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
