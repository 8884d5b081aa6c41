"""Many-to-one estimators: RNNRegressor and RNNClassifier."""

from dataclasses import replace
from numbers import Integral

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


def _check_count(value, name):
    """A positive int parameter of a method, or a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a positive int, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}.")
    return int(value)


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

    def forecast(self, X, n_steps, *, window=None):
        """Roll the model forward from each sequence, feeding predictions back.

        For a model trained to predict the next step of its own input (for
        instance on :func:`~skrnn.preprocessing.make_windows` output): the
        prediction after each sequence is appended to it as a new step and
        the model predicts again, ``n_steps`` times (one-to-many generation
        from a seed sequence). A model trained on the next ``h`` steps at once
        (``horizon=h``, ``y`` of shape ``(n, h * n_features)``) appends ``h``
        steps per prediction.

        Parameters
        ----------
        X : array-like or list of array-like
            Seed sequences in any of the forms accepted by :meth:`fit`.

        n_steps : int
            Number of future steps to produce for each sequence.

        window : int or None, default=None
            How much of the past the model reads at each prediction.
            ``None``: all of it, the seed and every step produced so far, with
            the recurrent state carried from step to step (one cell update per
            produced step). An int ``w``: only the last ``w`` steps, re-read at
            every prediction, as a model fitted on windows of length ``w``
            saw its input in training (this is slower). A 2-D ``X`` is a table
            whose columns are the model's fixed input width, so the window is
            always its number of columns.

        Returns
        -------
        y_forecast : ndarray of shape (n_sequences, n_steps) or \
(n_sequences, n_steps, n_features)
            The produced steps, after the end of each sequence; the last axis
            is dropped when sequences have one feature per step.

        Raises
        ------
        ValueError
            If the model's outputs cannot be read as next steps of its input
            (``n_outputs_`` is not a multiple of the features per step, or the
            input is token ids), or if ``window=None`` on a bidirectional
            model, which has no state to carry forward.

        Examples
        --------
        >>> import numpy as np
        >>> from skrnn import RNNRegressor
        >>> from skrnn.preprocessing import make_windows
        >>> series = np.sin(np.arange(300) * 0.2)
        >>> X, y = make_windows(series, window=15)
        >>> reg = RNNRegressor(hidden_layer_sizes=(16,), cell="gru", max_iter=30,
        ...                    learning_rate_init=0.01, random_state=0).fit(X, y)
        >>> seed = series[-15:].reshape(1, 15, 1)  # one sequence, the last 15 values
        >>> future = reg.forecast(seed, n_steps=20)
        >>> future.shape
        (1, 20)
        >>> truth = np.sin(np.arange(300, 320) * 0.2)
        >>> bool(np.abs(future[0] - truth).max() < 0.1)
        True
        """
        seqs = self._validate_for_predict(X)
        n_steps = _check_count(n_steps, "n_steps")
        if window is not None:
            window = _check_count(window, "window")
        F, K = seqs.n_features, self.n_outputs_
        if self._network.embeds:
            raise ValueError(
                "forecast feeds predicted values back as input steps, but this "
                "model reads token ids (embedding_dim is set). To generate tokens, "
                "train a SequenceTagger on next-token labels and use its sample "
                "method."
            )
        if K % F:
            raise ValueError(
                f"forecast feeds each prediction back as the next input step(s), "
                f"so the model must predict a multiple of the {F} feature(s) per "
                f"step; it predicts {K} value(s) per sequence. Fit it on "
                "next-step targets, for instance X, y = make_windows(series, "
                "window) from skrnn.preprocessing."
            )
        if seqs.form == "table":
            columns = int(seqs.lengths[0])
            if window not in (None, columns):
                raise ValueError(
                    f"X is a 2-D table of {columns} columns, the model's input "
                    f"width, so the forecast slides a window of {columns} steps; "
                    f"got window={window}. Pass X as a 3-D array or a list of "
                    "sequences to choose another window."
                )
            window = columns
        if window is None:
            self._require_unidirectional("forecast with window=None")
        per_round = K // F
        n_rounds = -(-n_steps // per_round)
        n = seqs.n_sequences
        out = np.empty((n, n_rounds * per_round, F), dtype=self._theta.dtype)

        if window is None:

            def feed_back(outputs, index, r):
                steps = outputs.reshape(len(index), per_round, F)
                out[index, r * per_round : (r + 1) * per_round] = steps
                return steps

            self._rollout(seqs.sequences, n_rounds, feed_back)
        else:
            history = [s[-window:] for s in seqs.sequences]
            for r in range(n_rounds):
                lengths = np.fromiter(map(len, history), np.int64, count=n)
                current = replace(seqs, sequences=history, lengths=lengths)
                steps = self._raw_outputs(current).reshape(n, per_round, F)
                out[:, r * per_round : (r + 1) * per_round] = steps
                history = [
                    np.concatenate([h, p])[-window:] for h, p in zip(history, steps)
                ]
        out = out[:, :n_steps]
        return out[..., 0] if F == 1 else out

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
