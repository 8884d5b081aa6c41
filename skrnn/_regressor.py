"""RNNRegressor: sequence to one value, or several, per sequence."""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.metaestimators import available_if

from ._base import BaseRecurrent, _check_count, _stochastic_only, store_init_arguments
from ._compat import Interval, StrOptions, _fit_context
from ._docstrings import MANY_TO_ONE_BPTT, fill_doc

# Root mean square of a target column beyond which fit warns: from about 100
# on, fits of unscaled targets end far from the fits of scaled ones.
_LARGE_TARGET_SCALE = 100.0


def _refuse_step_targets(y):
    """Refuse one target sequence per sequence (per-step targets), clearly."""
    if isinstance(y, (list, tuple)) or (
        isinstance(y, np.ndarray) and y.dtype == object and y.ndim == 1
    ):
        for index, target in enumerate(y):
            if np.ndim(target) >= 1 and not isinstance(target, (str, bytes)):
                if len(y) and len({np.shape(t) for t in y}) == 1:
                    return  # a 2-D table of outputs: n_outputs per sequence
                raise ValueError(
                    f"y[{index}] is a sequence of {len(target)} targets, and the "
                    "targets have different lengths: RNNRegressor predicts one "
                    "value (or one row of n_outputs values) per sequence. For one "
                    "label per step use SequenceTagger; for one value per step, "
                    "cut each sequence into windows "
                    "(skrnn.preprocessing.make_windows) and predict the value "
                    "after each window."
                )


@fill_doc(
    estimator="regressor",
    hidden_layer_sizes_default="(64,)",
    bidirectional_default="False",
    bptt_meaning=MANY_TO_ONE_BPTT,
    y_type="array-like of shape (n_sequences,) or (n_sequences, n_outputs)",
    y_doc="Target of each sequence.",
    sample_weight_doc="Weight of each sequence in the loss.",
)
class RNNRegressor(RegressorMixin, BaseRecurrent):
    """Recurrent neural network regressor: one value (or several) per sequence.

    Reads each sequence step by step with stacked recurrent layers (Elman RNN,
    LSTM or GRU) and predicts from the final state with a linear output layer,
    minimising the squared error (or the absolute, Huber, pinball or Poisson
    loss). The parameters are those of
    :class:`~sklearn.neural_network.MLPRegressor` plus ``cell``,
    ``bidirectional``, ``bptt_steps``, ``clip_norm``, ``dropout`` and the
    choice of ``loss``.

    Parameters
    ----------
    {parameters}

    {regression_loss}

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
    outputs while minimising the sum). With another ``loss`` the row loss
    changes and everything else stays: ``score`` is always R^2, as in
    :class:`~sklearn.neural_network.MLPRegressor`. The absolute, Huber and
    pinball losses have kinks, where training uses a subgradient (0 at an
    exact tie for the absolute and pinball losses).

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

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "loss": [
            StrOptions(
                {"squared_error", "absolute_error", "huber", "quantile", "poisson"}
            )
        ],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

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
        # the loss
        loss="squared_error", huber_delta=1.0, quantile=0.5,
    ):  # fmt: skip
        store_init_arguments(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None,
        sample_weight_val=None,
    ):  # fmt: skip
        """Fit the regressor to sequences ``X`` and targets ``y``.

        {fit_parameters}

        {fit_returns}

        {fit_raises}
        """
        return self._fit_checked(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @available_if(_stochastic_only)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the regressor with one epoch over the given sequences.

        {partial_fit_parameters}

        {partial_fit_returns}
        """
        return self._partial_fit_checked(X, y, sample_weight)

    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        _refuse_step_targets(y)
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
        if first_pass:
            self._warn_if_large_targets(y)
        return y, y, self._loss_spec(y)

    def _warn_if_large_targets(self, y):
        """Warn that targets far from unit scale train badly, and what to do.

        The output layer starts near 0 and the hidden units are bounded, so
        targets of order 100 and more need output weights that no solver
        reaches in a reasonable number of iterations (L-BFGS may even stop
        after one, on its relative-reduction rule).
        """
        if self.loss == "poisson":
            return  # the log link takes large counts in its stride
        with np.errstate(over="ignore"):
            mean_square = np.mean(np.square(y, dtype=np.float64), axis=0)
        scale = float(np.sqrt(mean_square).max())
        if scale > _LARGE_TARGET_SCALE:
            warnings.warn(
                f"The targets y are large (root mean square {scale:.3g}): the "
                "network's outputs start near 0 and its hidden units are bounded, "
                "so training reaches such values slowly or stops early (R^2 far "
                "below 1). Scale y to about unit size, for instance with "
                "sklearn.compose.TransformedTargetRegressor(regressor=..., "
                "transformer=StandardScaler()).",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _loss_spec(self, y):
        """The loss name the network takes, after checking ``y`` fits it."""
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                f"loss='poisson' needs non-negative targets (counts or rates), "
                f"but y has negative values (minimum {y.min():g}). Shift or "
                "transform y, or choose another loss."
            )
        if self.loss == "huber":
            return ("huber", float(self.huber_delta))
        if self.loss == "quantile":
            return ("quantile", float(self.quantile))
        return self.loss

    def _score_sequences(self, seqs, y_raw, sample_weight):
        pred = self._raw_outputs(seqs.sequences)
        if not np.isfinite(pred).all():
            return np.nan
        return r2_score(y_raw, pred, sample_weight=sample_weight)

    def predict(self, X):
        """Predict with the recurrent network.

        {predict_parameters}

        Returns
        -------
        y : ndarray of shape (n_sequences,) or (n_sequences, n_outputs)
            The predicted values.
        """
        out = self._raw_outputs(self._validate_for_predict(X).sequences)
        return out.ravel() if out.shape[1] == 1 else out

    def forecast(self, X, n_steps, *, window=None, covariates=None):
        """Roll the model forward from each sequence, feeding predictions back.

        For a model trained to predict the next step of its own input (for
        instance on :func:`~skrnn.preprocessing.make_windows` output): the
        prediction after each sequence is appended to it as a new step and
        the model predicts again, ``n_steps`` times (one-to-many generation
        from a seed sequence). A model trained on the next ``h`` steps at once
        (``horizon=h``, ``y`` of shape ``(n, h * n_features)``) appends ``h``
        steps per prediction.

        A model fitted on windows whose last ``C`` features per step are
        known covariates (``make_windows(series, window, covariates=...)``:
        each step is the target features, then the covariates of that step,
        and ``y`` holds only next target values) forecasts with
        ``covariates``, the covariates' future values: each produced step is
        fed back as the predicted target features followed by that step's
        covariates.

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

        covariates : array-like of shape (n_sequences, n_steps, C) or \
(n_steps, C), default=None
            Known future values of the covariates, the last ``C`` features
            of each input step, for the ``n_steps`` produced steps; a 2-D
            array is shared by all sequences. Required for a model fitted
            with covariates; ``None`` means the input has no covariates.

        Returns
        -------
        y_forecast : ndarray of shape (n_sequences, n_steps) or \
(n_sequences, n_steps, n_features)
            The produced steps, after the end of each sequence; the last axis
            is dropped when sequences have one feature per step. With
            covariates, only the target features are returned.

        Raises
        ------
        ValueError
            If the model's outputs cannot be read as next steps of its input
            (``n_outputs_`` is not a multiple of the features per step, or the
            input is token ids), or if ``window=None`` on a bidirectional
            model, which has no state to carry forward, or if
            ``covariates`` do not have ``n_steps`` rows per sequence or leave
            no target features.

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
        future = self._future_covariates(covariates, seqs, n_steps)
        n_fed = self._fed_features(seqs, future)
        window = self._forecast_window(seqs, window)
        out = self._roll_forward(seqs, n_steps, n_fed, future, window)
        return out[..., 0] if n_fed == 1 else out

    def _fed_features(self, seqs, future):
        """Features per step that forecast predicts and feeds back, or an error.

        The step's features other than the ``C`` covariates of ``future``;
        the outputs must hold a whole number of such steps.
        """
        n_inputs, K = seqs.n_features, self.n_outputs_
        C = 0 if future is None else future.shape[2]
        F = n_inputs - C
        if self._network.embeds:
            raise ValueError(
                "forecast feeds predicted values back as input steps, but this "
                "model reads token ids (embedding_dim is set). To generate tokens, "
                "train a SequenceTagger on next-token labels and use its sample "
                "method."
            )
        if K % F and future is None:
            raise ValueError(
                f"forecast feeds each prediction back as the next input step(s), "
                f"so the model must predict a multiple of the {F} feature(s) per "
                f"step; it predicts {K} value(s) per sequence. If the last "
                "features of each step are known covariates (make_windows(..., "
                "covariates=...)), pass their future values as covariates=; "
                "otherwise fit the model on next-step targets, for instance X, y "
                "= make_windows(series, window) from skrnn.preprocessing."
            )
        if K % F:
            raise ValueError(
                f"forecast feeds each prediction back as the next input step(s), "
                f"so the model must predict a multiple of the {F} feature(s) per "
                f"step; it predicts {K} value(s) per sequence. Fit it on "
                "next-step targets, for instance X, y = make_windows(series, "
                "window) from skrnn.preprocessing."
            )
        return F

    def _forecast_window(self, seqs, window):
        """The window forecast re-reads: a table's width, or ``window`` checked."""
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
        return window

    def _roll_forward(self, seqs, n_steps, F, future, window):
        """The ``(n_sequences, n_steps, F)`` produced steps of forecast.

        Each prediction holds ``n_outputs_ // F`` steps (one round), fed back
        with that round's covariates, if any, appended.
        """
        per_round = self.n_outputs_ // F
        n_rounds = -(-n_steps // per_round)
        n = seqs.n_sequences
        out = np.empty((n, n_rounds * per_round, F), dtype=self._theta.dtype)
        if future is not None:
            # The steps of the last round past n_steps are never fed back.
            pad = n_rounds * per_round - n_steps
            future = np.concatenate([future, future[:, -1:].repeat(pad, axis=1)], 1)

        def feed_back(outputs, index, r):
            steps = outputs.reshape(len(index), per_round, F)
            rounds = slice(r * per_round, (r + 1) * per_round)
            out[index, rounds] = steps
            if future is None:
                return steps
            return np.concatenate([steps, future[index, rounds]], axis=2)

        self._rollout(seqs.sequences, n_rounds, feed_back, window=window)
        return out[:, :n_steps]

    def _future_covariates(self, covariates, seqs, n_steps):
        """``covariates`` as ``(n_sequences, n_steps, C)``, or None."""
        if covariates is None:
            return None
        future = check_array(
            covariates, ensure_2d=False, allow_nd=True, dtype=self._theta.dtype,
            input_name="covariates",
        )  # fmt: skip
        n = seqs.n_sequences
        if future.ndim == 2:
            future = np.broadcast_to(future, (n, *future.shape))
        expected = f"(n_sequences, n_steps, C) = ({n}, {n_steps}, C) or (n_steps, C)"
        if future.ndim != 3 or future.shape[:2] != (n, n_steps):
            raise ValueError(
                f"covariates must hold the future value of each covariate for "
                f"every produced step: an array of shape {expected}; got shape "
                f"{future.shape}."
            )
        if future.shape[2] >= seqs.n_features:
            raise ValueError(
                f"covariates has {future.shape[2]} columns, but each input step "
                f"has only {seqs.n_features} features: the covariates are the "
                "last features of a step, after at least one target feature."
            )
        return future

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
