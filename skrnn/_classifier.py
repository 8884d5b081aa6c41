"""RNNClassifier: sequence to class (binary, multiclass or multilabel)."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._base import BaseRecurrentClassifier, _stochastic_only, store_init_arguments
from ._compat import _fit_context
from ._docstrings import MANY_TO_ONE_BPTT, fill_doc


@fill_doc(
    estimator="classifier",
    hidden_layer_sizes_default="(64,)",
    bidirectional_default="False",
    bptt_meaning=MANY_TO_ONE_BPTT,
    class_weight_unit="Each sequence weighs the weight of its class\n"
    "        (not for multilabel targets).",
    y_type="array-like of shape (n_sequences,) or (n_sequences, n_classes)",
    y_doc="Class of each sequence (an indicator matrix for multilabel).",
    sample_weight_doc="Weight of each sequence in the loss.",
    labels="classes",
)
class RNNClassifier(ClassifierMixin, BaseRecurrentClassifier):
    """Recurrent neural network classifier: one class per sequence.

    Reads each sequence step by step with stacked recurrent layers (Elman RNN,
    LSTM or GRU) and classifies it from the final state, minimising the
    log-loss. Binary, multiclass and multilabel targets are handled as in
    :class:`~sklearn.neural_network.MLPClassifier`.

    Parameters
    ----------
    {parameters}

    {class_weight}

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

    def __init__(
        self,
        # the recurrent layers
        hidden_layer_sizes=(64,),
        *,
        cell="lstm", bidirectional=False, activation="tanh",
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
        # weighing the classes
        class_weight=None,
    ):  # fmt: skip
        store_init_arguments(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None,
        sample_weight_val=None,
    ):  # fmt: skip
        """Fit the classifier to sequences ``X`` and classes ``y``.

        {fit_parameters}

        {fit_returns}

        {fit_raises}
        """
        return self._fit_checked(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the classifier with one epoch over the given sequences.

        {partial_fit_parameters}

        {partial_fit_classes}

        {partial_fit_returns}
        """
        return self._partial_fit_checked(X, y, sample_weight, classes)

    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        y = check_array(
            y, ensure_2d=False, dtype=None, input_name="y", ensure_min_samples=1
        )
        check_consistent_length(seqs.lengths, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.dtype == object:
            missing = np.flatnonzero(np.equal(y, None).reshape(len(y), -1).any(1))
            if len(missing):
                raise ValueError(
                    f"y contains None for sequence {missing[0]}: every sequence "
                    "needs a label. Drop the unlabelled sequences, or give them a "
                    "label of their own."
                )
        check_classification_targets(y)
        Y = self._encode_classes(y, seqs.dtype, incremental=incremental)
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        return Y, y, "log_loss" if multiclass else "binary_log_loss"

    def _prepare(self, X, y, sample_weight, *, reset, incremental, dtype=None):
        data = super()._prepare(
            X, y, sample_weight, reset=reset, incremental=incremental, dtype=dtype
        )
        if self.class_weight is None:
            return data
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError(
                "class_weight weighs each sequence by its class, but y is a "
                "multilabel indicator matrix, where a sequence has several "
                "labels. Pass per-sequence sample_weight instead, or "
                "class_weight=None."
            )
        weights = self._class_weights(data.y_raw, incremental=incremental)
        index = np.searchsorted(self.classes_, data.y_raw)
        data.sample_weight = data.sample_weight * weights[index].astype(
            data.sample_weight.dtype
        )
        return data

    def _stratify(self, y_raw):
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return None
        _, counts = np.unique(y_raw, return_counts=True)
        # Stratification needs two members per class; fall back to a plain split.
        return y_raw if counts.min() >= 2 else None

    def _score_sequences(self, seqs, y_raw, sample_weight):
        pred = self._labels(self._raw_outputs(seqs.sequences))
        return accuracy_score(y_raw, pred, sample_weight=sample_weight)

    def _labels(self, proba):
        if self.n_outputs_ == 1:
            proba = proba.ravel()
        return self._label_binarizer.inverse_transform(proba)

    def predict(self, X):
        """Predict the class of each sequence.

        {predict_parameters}

        Returns
        -------
        y : ndarray of shape (n_sequences,) or (n_sequences, n_classes)
            The predicted classes (an indicator matrix for multilabel).
        """
        return self._labels(self._raw_outputs(self._validate_for_predict(X).sequences))

    def predict_proba(self, X):
        """Probability of each class for each sequence.

        {predict_parameters}

        Returns
        -------
        proba : ndarray of shape (n_sequences, n_classes)
            Class probabilities in the order of ``classes_``.
        """
        proba = self._raw_outputs(self._validate_for_predict(X).sequences)
        if self.n_outputs_ == 1 and not self._label_binarizer.y_type_.startswith(
            "multilabel"
        ):
            proba = proba.ravel()
            return np.vstack([1 - proba, proba]).T
        return proba

    def _first_call_binarizer(self, classes, y):
        """Binarizer of a first ``partial_fit``: from ``y`` if multilabel."""
        if type_of_target(y).startswith("multilabel"):
            return LabelBinarizer().fit(y)
        return LabelBinarizer().fit(classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
