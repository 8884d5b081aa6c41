"""Turning raw data into sequences the estimators train on.

- :func:`make_windows` cuts one series or several into fixed-length input
  windows and the value(s) that follow each window: the many-to-one form of
  next-value prediction (forecasting), optionally with known covariates.
- :class:`SequenceScaler` standardises each feature over all steps of all
  training sequences (or each sequence by its own statistics).
- :class:`SequenceImputer` fills missing (NaN) steps within each sequence.
- :class:`TextTokenizer` learns a character or word vocabulary from raw
  strings and turns each string into a 1-D array of integer token ids, with no
  padding, so that it can be the first step of a
  :class:`~sklearn.pipeline.Pipeline` on raw text.
"""

from collections import Counter
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions, _fit_context, validate_params
from ._docstrings import insert_doc
from ._validation import validate_sequences

__all__ = ["SequenceImputer", "SequenceScaler", "TextTokenizer", "make_windows"]

# Descriptions that the transformers' docstrings share (inserted with
# ``insert_doc``; the placeholder supplies the first line's indentation).
_SHARED_DOCS = {
    "fitted_sequences": """\
X : {array-like, list of array-like}
            Sequences in any of the forms :meth:`fit` accepts, with the
            number of features per step seen in ``fit``.""",
    "unused_y": """\
y : None
            Ignored; present for API consistency.""",
    # For a class docstring's Attributes section.
    "input_attributes": """\
n_features_in_ : int
        The number of features per step for 3-D and ragged input, the number
        of columns (steps) for a 2-D array, as skrnn's estimators count.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a 2-D pandas DataFrame given to ``fit``.""",
}


def _fit_parameters(nan_note):
    """The Parameters section of the transformers' ``fit`` on numeric sequences.

    ``nan_note`` ends the description of ``X``: what ``fit`` does with NaN.
    """
    return f"""\
Parameters
        ----------
        X : {{array-like, list of array-like}}
            Sequences: a 2-D array ``(n_sequences, n_steps)`` of univariate
            sequences, a 3-D array ``(n_sequences, n_steps, n_features)`` or a
            list of arrays of shape ``(n_steps_i, n_features)`` or
            ``(n_steps_i,)``{nan_note}
        {_SHARED_DOCS["unused_y"]}"""


def _as_series_list(series, name="series"):
    """Split ``series`` into a list of arrays, one per series.

    A NumPy array is one series (1-D, or 2-D ``(n_steps, n_features)``), or
    several equal-length ones when 3-D. A list or tuple of numbers is one 1-D
    series; a list or tuple of anything else holds one series per element.
    """
    if isinstance(series, np.ndarray) or hasattr(series, "__array__"):
        array = np.asarray(series)
        if array.ndim == 3:
            return list(array)
        return [array]
    if isinstance(series, (list, tuple)):
        if len(series) == 0:
            raise ValueError(f"{name} is empty: at least one series is required.")
        if all(np.ndim(item) == 0 for item in series):
            return [series]
        return list(series)
    raise TypeError(
        f"{name} must be an array-like of numbers or a list of them, got "
        f"{type(series).__name__} instead."
    )


def _check_series(values, index, label="Series"):
    """Convert one series to a float array ``(n_steps, n_features)``."""
    what = f"{label} {index}"
    try:
        array = np.asarray(values)
    except ValueError as exc:
        raise ValueError(f"{what} is not a rectangular array: {exc}") from exc
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what} holds values that are not numbers.") from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} has dtype {array.dtype}; real numbers are required.")
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{what} has {array.ndim} dimensions (shape {array.shape}); "
            f"each series must be 1-D (n_steps,) or 2-D (n_steps, n_features)."
        )
    array = array.astype(
        np.float32 if array.dtype == np.float32 else np.float64, copy=False
    )
    if not np.isfinite(array).all():
        raise ValueError(
            f"{what} contains NaN or infinity; fill or drop the missing "
            f"values before cutting windows (SequenceImputer fills them)."
        )
    return array if array.ndim == 2 else array[:, np.newaxis]


@validate_params(
    {
        "series": ["array-like", list, tuple],
        "window": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "covariates": ["array-like", list, tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def make_windows(series, window, horizon=1, stride=1, *, covariates=None):
    """Cut series into input windows and the values that follow them.

    Each window of ``window`` consecutive steps becomes one input sequence,
    and the ``horizon`` steps right after it its target: the many-to-one form
    on which :class:`~skrnn.RNNRegressor` learns next-value prediction.
    Windows start every ``stride`` steps and never cross from one series into
    the next.

    Parameters
    ----------
    series : array-like or list of array-like
        One series, or several. A 1-D array (or list of numbers) is a
        univariate series ``(n_steps,)``; a 2-D array is one multivariate
        series ``(n_steps, n_features)`` (time on the first axis); a 3-D
        array holds equal-length series ``(n_series, n_steps, n_features)``;
        a list or tuple of arrays holds series of any lengths (so a nested
        list is several 1-D series: pass one 2-D series as an array). Every
        series must have the same number of features.
    window : int
        Number of steps in each input window, at least 1.
    horizon : int, default=1
        Number of steps after each window to predict, at least 1.
    stride : int, default=1
        Number of steps between the starts of consecutive windows, at least 1.
    covariates : array-like or list of array-like, default=None
        Known covariates (calendar features, planned inputs, ...) aligned
        with the steps of ``series``: for each series an array of shape
        ``(n_steps, n_covariates)`` (or ``(n_steps,)`` for one covariate),
        given in the same way as ``series`` (one array for one series, a
        list or a 3-D array for several). Each input step then holds the
        series' features followed by the covariates of the same step, and
        ``y`` still holds only the series' values.

    Returns
    -------
    X : ndarray of shape (n_windows, window, n_features + n_covariates)
        The input windows, series after series, in time order. Univariate
        series give ``n_features = 1``; without covariates
        ``n_covariates = 0``.
    y : ndarray
        The values that follow each window. For 1-D series: shape
        ``(n_windows,)`` when ``horizon == 1``, else ``(n_windows, horizon)``.
        For 2-D series: ``(n_windows, n_features)`` when ``horizon == 1``,
        else ``(n_windows, horizon, n_features)``.

    Raises
    ------
    ValueError
        If a series is shorter than ``window + horizon``, holds NaN or
        infinity, or has a different number of features than the first one;
        if ``covariates`` do not hold one array per series with one row per
        step, or their numbers of covariates differ.
    TypeError
        If a series or covariate array does not hold real numbers.

    See Also
    --------
    skrnn.datasets.make_cosine_windows : Windows of a (noisy) cosine wave.

    Notes
    -----
    A series of ``T`` steps gives ``(T - window - horizon) // stride + 1``
    windows. ``X`` and ``y`` are float32 when every series is float32 and
    float64 otherwise. The regressors take 1-D or 2-D targets: reshape a 3-D
    ``y`` (multi-step, multivariate) with ``y.reshape(len(y), -1)``.

    Beware of a ``stride`` that divides a seasonal period: with hourly data
    and ``stride=6``, every training window ends at one of four hours of the
    day, and a model that never saw the others forecasts badly from them.
    Keep ``stride=1``, or one coprime with the period.

    With covariates, input step ``t`` of a window is ``(target_t, cov_t)``
    and its target is ``target_{t+1}, ..., target_{t+horizon}``: the
    covariates of the target steps are not in ``X``. A model trained on such
    windows forecasts step after step given the covariate values of the
    steps it produces (the future covariates).

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.preprocessing import make_windows
    >>> X, y = make_windows(np.arange(6.0), window=3)
    >>> X.shape, y.shape
    ((3, 3, 1), (3,))
    >>> X[0, :, 0], float(y[0])
    (array([0., 1., 2.]), 3.0)
    >>> X, y = make_windows([np.arange(6.0), np.arange(10.0, 15.0)], 2, horizon=2)
    >>> y
    array([[ 2.,  3.],
           [ 3.,  4.],
           [ 4.,  5.],
           [12., 13.],
           [13., 14.]])

    A covariate known in advance (here the hour of the day) joins each step:

    >>> hour = np.arange(6.0) % 24
    >>> X, y = make_windows(np.arange(100.0, 106.0), 3, covariates=hour)
    >>> X.shape
    (3, 3, 2)
    >>> X[0]
    array([[100.,   0.],
           [101.,   1.],
           [102.,   2.]])
    >>> y
    array([103., 104., 105.])
    """
    raw = _as_series_list(series)
    arrays = [_check_series(values, index) for index, values in enumerate(raw)]
    univariate = np.ndim(raw[0]) == 1
    n_features = arrays[0].shape[1]
    needed = window + horizon
    for index, array in enumerate(arrays):
        if array.shape[1] != n_features:
            raise ValueError(
                f"Series {index} has {array.shape[1]} features, but series 0 has "
                f"{n_features}: every series needs the same number of features."
            )
        if (np.ndim(raw[index]) == 1) != univariate:
            raise ValueError(
                f"Series {index} is {np.ndim(raw[index])}-D but series 0 is "
                f"{np.ndim(raw[0])}-D: pass all series 1-D or all 2-D."
            )
        if len(array) < needed:
            raise ValueError(
                f"Series {index} has {len(array)} steps, but window={window} plus "
                f"horizon={horizon} needs at least {needed}. Use a shorter "
                f"window or drop the series."
            )
    covariate_arrays = _check_covariates(covariates, arrays)
    inputs = arrays
    if covariate_arrays is not None:
        inputs = [
            np.concatenate([array, covariate.astype(array.dtype, copy=False)], axis=1)
            for array, covariate in zip(arrays, covariate_arrays, strict=True)
        ]
    dtype = (
        np.float32
        if all(a.dtype == np.float32 for a in arrays)
        and all(c.dtype == np.float32 for c in covariate_arrays or [])
        else np.float64
    )

    X_parts, y_parts = [], []
    for array, inputs_array in zip(arrays, inputs, strict=True):
        starts = np.arange(0, len(array) - needed + 1, stride)
        # Fancy indexing copies, so the windows never alias the caller's data.
        X_parts.append(inputs_array[starts[:, np.newaxis] + np.arange(window)])
        y_parts.append(array[starts[:, np.newaxis] + window + np.arange(horizon)])
    X = np.concatenate(X_parts).astype(dtype, copy=False)
    y = np.concatenate(y_parts).astype(dtype, copy=False)
    if univariate:
        y = y[:, :, 0]
    if horizon == 1:
        y = y[:, 0]
    return X, y


def _check_covariates(covariates, arrays):
    """Convert covariates to one float array per series, checking alignment."""
    if covariates is None:
        return None
    raw = _as_series_list(covariates, name="covariates")
    if len(raw) != len(arrays):
        raise ValueError(
            f"covariates hold {len(raw)} series, but series holds "
            f"{len(arrays)}: pass one covariate array per series, with one row "
            f"per step of its series."
        )
    covariate_arrays = [
        _check_series(values, index, label="Covariate array")
        for index, values in enumerate(raw)
    ]
    n_covariates = covariate_arrays[0].shape[1]
    for index, (covariate, array) in enumerate(
        zip(covariate_arrays, arrays, strict=True)
    ):
        if len(covariate) != len(array):
            raise ValueError(
                f"Covariate array {index} has {len(covariate)} steps, but series "
                f"{index} has {len(array)}: covariates need one row per step of "
                f"their series."
            )
        if covariate.shape[1] != n_covariates:
            raise ValueError(
                f"Covariate array {index} has {covariate.shape[1]} covariates, "
                f"but covariate array 0 has {n_covariates}: every series needs "
                f"the same covariates."
            )
    return covariate_arrays


def _check_texts(X):
    """Return ``X`` as a list of str, refusing a bare string."""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            "TextTokenizer expects a list of strings (one per document), got a "
            "single string. Wrap it in a list: [text]."
        )
    try:
        texts = list(X)
    except TypeError as exc:
        raise TypeError(
            f"TextTokenizer expects a list of strings, got {type(X).__name__}."
        ) from exc
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"Document {index} is {type(text).__name__}, not str: "
                f"TextTokenizer expects a list of strings."
            )
    return texts


@insert_doc(**_SHARED_DOCS)
class TextTokenizer(TransformerMixin, BaseEstimator):
    """Turn raw strings into sequences of integer token ids.

    ``fit`` learns a vocabulary of characters or words; ``transform`` turns
    each string into a 1-D array of token ids, without padding, so the output
    is a ragged list of univariate sequences that the skrnn estimators accept
    directly. It can be the first step of a
    :class:`~sklearn.pipeline.Pipeline` on raw strings.

    Parameters
    ----------
    level : {"char", "word"}, default="char"
        Tokens are single characters (spaces and newlines included), or words
        separated by whitespace.
    lowercase : bool, default=True
        Lowercase the text before tokenising.
    min_frequency : int, default=1
        Tokens seen fewer times than this in the training texts are left out
        of the vocabulary and read as the unknown token.
    max_tokens : int, default=None
        Largest vocabulary size, the unknown token included (so at most
        ``max_tokens - 1`` real tokens, the most frequent ones). ``None``
        keeps every token that passes ``min_frequency``.

    Attributes
    ----------
    vocabulary_ : dict
        Maps each token to its id. Id 0 is the unknown token ``"<unk>"``;
        real tokens have ids from 1, by decreasing frequency and then in
        alphabetical order for ties.
    tokens_ : ndarray of str objects of shape (`n_tokens_`,)
        The token of each id: ``tokens_[vocabulary_[t]] == t``.
    n_tokens_ : int
        Size of the vocabulary, the unknown token included: every id is in
        ``[0, n_tokens_)``.

    See Also
    --------
    sklearn.feature_extraction.text.CountVectorizer : Bag-of-words counts,
        which forget the order of the tokens.

    Notes
    -----
    No id is reserved for padding: the output is never padded, and the
    estimators handle sequences of different lengths themselves.

    Word tokens are the whitespace-separated pieces of the text, so
    punctuation stays attached to its word (``"good!"`` and ``"good"`` are
    different tokens); separate it beforehand if that matters. A literal
    ``"<unk>"`` in the text is read as the unknown token.

    ``inverse_transform`` joins characters with ``""`` and words with a
    single space, so it gives back the (lowercased) text when every token is
    in the vocabulary and, for words, the text has single spaces.

    The output is a list of arrays rather than a table with named columns, so
    ``get_feature_names_out`` is not defined and ``set_output`` does not
    apply.

    Examples
    --------
    >>> from skrnn.preprocessing import TextTokenizer
    >>> tokenizer = TextTokenizer(level="word").fit(["the cat sat", "The dog"])
    >>> tokenizer.vocabulary_
    {'<unk>': 0, 'the': 1, 'cat': 2, 'dog': 3, 'sat': 4}
    >>> tokenizer.transform(["the bird sat"])
    [array([1, 0, 4])]
    >>> tokenizer.inverse_transform([[1, 3, 4]])
    ['the dog sat']
    """

    _parameter_constraints: dict = {
        "level": [StrOptions({"char", "word"})],
        "lowercase": ["boolean"],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "max_tokens": [Interval(Integral, 2, None, closed="left"), None],
    }

    _unknown_token = "<unk>"

    def __init__(
        self, level="char", *, lowercase=True, min_frequency=1, max_tokens=None
    ):
        self.level = level
        self.lowercase = lowercase
        self.min_frequency = min_frequency
        self.max_tokens = max_tokens

    def _tokenize(self, text):
        if self.lowercase:
            text = text.lower()
        return list(text) if self.level == "char" else text.split()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the vocabulary of the training texts.

        Parameters
        ----------
        X : list of str
            The training texts, one string per document.
        {unused_y}

        Returns
        -------
        self : TextTokenizer
            The fitted tokenizer.

        Raises
        ------
        ValueError
            If ``X`` holds no document, or is a single string.
        """
        texts = _check_texts(X)
        if not texts:
            raise ValueError(
                "TextTokenizer.fit got no document: X is empty, so there is no "
                "vocabulary to learn. Pass a list of at least one string."
            )
        counts = Counter()
        for text in texts:
            counts.update(self._tokenize(text))
        counts.pop(self._unknown_token, None)
        kept = sorted(
            (token for token, count in counts.items() if count >= self.min_frequency),
            key=lambda token: (-counts[token], token),
        )
        if self.max_tokens is not None:
            kept = kept[: self.max_tokens - 1]
        tokens = [self._unknown_token, *kept]
        self.vocabulary_ = {token: index for index, token in enumerate(tokens)}
        self.tokens_ = np.array(tokens, dtype=object)
        self.n_tokens_ = len(tokens)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Learn the vocabulary of the texts and turn them into token ids.

        Parameters
        ----------
        X : iterable of str
            The training texts, one string per document. A one-shot iterable
            (a generator) is read once.
        {unused_y}

        Returns
        -------
        sequences : list of ndarray of shape (n_tokens_i,), dtype int64
            One array of token ids per text, as :meth:`transform` gives.
        """
        texts = _check_texts(X)
        return self.fit(texts).transform(texts)

    def transform(self, X):
        """Turn each text into an array of token ids.

        Parameters
        ----------
        X : list of str
            The texts, one string per document.

        Returns
        -------
        sequences : list of ndarray of shape (n_tokens_i,), dtype int64
            One array of token ids per text, in order; tokens not in the
            vocabulary get id 0, the unknown token. An empty text gives an
            empty array.
        """
        check_is_fitted(self)
        vocabulary = self.vocabulary_
        return [
            np.fromiter(
                (vocabulary.get(token, 0) for token in self._tokenize(text)),
                dtype=np.int64,
            )
            for text in _check_texts(X)
        ]

    def inverse_transform(self, X):
        """Turn arrays of token ids back into text.

        Parameters
        ----------
        X : list of array-like of int, or 2-D array-like of int
            One sequence of token ids per text; rows of a 2-D array are
            sequences.

        Returns
        -------
        texts : list of str
            Characters joined with ``""``, or words with ``" "``. Id 0
            becomes ``"<unk>"``.

        Raises
        ------
        ValueError
            If an id is not in ``[0, n_tokens_)``.
        """
        check_is_fitted(self)
        if isinstance(X, (str, bytes)):
            raise TypeError(
                "inverse_transform expects sequences of token ids, got a string."
            )
        separator = "" if self.level == "char" else " "
        texts = []
        for index, sequence in enumerate(X):
            ids = np.asarray(sequence)
            if ids.ndim != 1:
                raise ValueError(
                    f"Sequence {index} has shape {ids.shape}; sequences of token "
                    f"ids must be 1-D."
                )
            if ids.size and not (
                ids.dtype.kind in "iu"
                or (ids.dtype.kind == "f" and np.array_equal(ids, np.round(ids)))
            ):
                raise TypeError(
                    f"Sequence {index} has dtype {ids.dtype}; token ids must be "
                    f"integers."
                )
            ids = ids.astype(np.int64)
            unknown = ids[(ids < 0) | (ids >= self.n_tokens_)]
            if unknown.size:
                raise ValueError(
                    f"Sequence {index} holds ids {sorted(set(unknown.tolist()))} "
                    f"outside the vocabulary, whose ids are 0 to "
                    f"{self.n_tokens_ - 1}."
                )
            texts.append(separator.join(self.tokens_[ids]))
        return texts

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags


# Transformers of sequences -------------------------------------------------


def _validate_nan_sequences(estimator, X, *, reset):
    """Validate ``X`` as the estimators do, but let NaN through.

    Also returns, for ragged input, which sequences were given 1-D, so that
    the output keeps their shape.
    """
    seqs = validate_sequences(estimator, X, reset=reset, allow_nan=True)
    one_d = None
    if seqs.form == "ragged":
        one_d = [np.ndim(item) == 1 for item in X]
    return seqs, one_d


def _like_input(arrays, seqs, one_d):
    """Give transformed ``(n_steps_i, n_features)`` arrays the form of ``X``."""
    if seqs.form == "table":
        return np.stack([array[:, 0] for array in arrays])
    if seqs.form == "array":
        return np.stack(arrays)
    return [
        array[:, 0] if flat else array
        for array, flat in zip(arrays, one_d, strict=True)
    ]


def _nan_statistics(steps):
    """Mean, variance and count of the non-NaN values of each column.

    Computed in float64 in two passes (mean, then squared deviations), which
    stays accurate where the one-pass formula cancels. A column with no
    value gets NaN statistics.
    """
    steps = np.asarray(steps, dtype=np.float64)
    missing = np.isnan(steps)
    count = (~missing).sum(axis=0)
    filled = np.where(missing, 0.0, steps)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / count
        deviation = np.where(missing, 0.0, steps - mean)
        var = (deviation**2).sum(axis=0) / count
    return mean, var, count


def _scale_from_var(var, mean, count):
    """Standard deviation, with 1 for features that are constant.

    The variance computed for a constant feature is rounding noise of at
    most about ``(count * eps * |mean|)**2``; dividing by its square root
    would blow that noise up, so such features (and those with a variance
    of exactly 0) keep their scale, as in StandardScaler.
    """
    scale = np.sqrt(var)
    eps = np.finfo(np.float64).eps
    constant = (var <= (count * eps * mean) ** 2) | (scale < 10 * eps)
    scale[constant] = 1.0
    return scale


class _NanSequenceTransformer(TransformerMixin, BaseEstimator):
    """Transformers of sequences in any form, with NaN allowed.

    They transform each sequence on its own, as ``(n_steps_i, n_features)``
    floats, and return the results in the container form of the input.
    """

    def _map_sequences(self, X, transform_one):
        """Apply ``transform_one`` to each sequence of ``X``, as fitted."""
        check_is_fitted(self)
        seqs, one_d = _validate_nan_sequences(self, X, reset=False)
        transformed = [transform_one(sequence) for sequence in seqs.sequences]
        return _like_input(transformed, seqs, one_d)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


@insert_doc(**_SHARED_DOCS, fit_parameters=_fit_parameters(". NaN values are ignored."))
class SequenceScaler(_NanSequenceTransformer):
    """Standardise each feature over all steps of all sequences.

    ``fit`` learns the mean and standard deviation of each feature over every
    step of every training sequence; ``transform`` subtracts the mean and
    divides by the standard deviation, step by step, and returns the
    sequences in the container form they came in. It is
    :class:`~sklearn.preprocessing.StandardScaler` for sequences: put it
    first in a :class:`~sklearn.pipeline.Pipeline` so that each
    cross-validation fold learns its statistics from its training part only.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the mean of each feature.
    with_std : bool, default=True
        Divide by the standard deviation of each feature.
    per_sequence : bool, default=False
        Standardise each sequence by its own mean and standard deviation
        (per feature, over its steps) instead of by statistics learned in
        ``fit``. Use it when the level and spread of each sequence carry no
        information (series recorded on different scales); ``fit`` then
        learns only the number of features, and ``inverse_transform`` is not
        available.

    Attributes
    ----------
    mean_ : ndarray of shape (n_step_features,)
        Mean of each feature over all non-NaN training steps. For the 2-D
        form (univariate sequences, one step per column) one value, shared by
        every cell. Not set when ``per_sequence=True``.
    var_ : ndarray of shape (n_step_features,)
        Variance of each feature (``ddof=0``). Not set when
        ``per_sequence=True``.
    scale_ : ndarray of shape (n_step_features,) or None
        Standard deviation of each feature, 1 where the feature is constant;
        None when ``with_std=False``. Not set when ``per_sequence=True``.
    n_steps_seen_ : ndarray of shape (n_step_features,), dtype int64
        Number of non-NaN training steps of each feature. Not set when
        ``per_sequence=True``.
    {input_attributes}

    See Also
    --------
    SequenceImputer : Fill the NaN steps of sequences.
    sklearn.preprocessing.StandardScaler : The same for a table of samples.

    Notes
    -----
    The three input forms of the estimators are accepted and kept: a list of
    sequences gives a list of arrays (a 1-D sequence stays 1-D), a 3-D array
    a 3-D array and a 2-D array a 2-D array. A 2-D array holds univariate
    sequences, so all its cells are one feature and share one mean and one
    standard deviation (a 2-D array is not scaled column by column, which
    would treat steps as different features).

    NaN values are ignored when the statistics are learned and stay NaN in
    the output, as in StandardScaler, so that a :class:`SequenceImputer` can
    come before or after the scaler. A feature with no value at all in the
    training data gets NaN statistics and becomes NaN. Infinity is refused.

    Output is float32 for float32 input and float64 otherwise; the
    statistics are computed in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.preprocessing import SequenceScaler
    >>> X = [np.array([[0.0, 10.0], [2.0, 30.0]]), np.array([[4.0, 20.0]])]
    >>> scaler = SequenceScaler().fit(X)
    >>> scaler.mean_, scaler.scale_
    (array([ 2., 20.]), array([1.63299316, 8.16496581]))
    >>> scaler.transform(X)[1]
    array([[1.22474487, 0.        ]])
    >>> np.allclose(scaler.inverse_transform(scaler.transform(X))[0], X[0])
    True
    """

    _parameter_constraints: dict = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "per_sequence": ["boolean"],
    }

    _learned = ("mean_", "var_", "scale_", "n_steps_seen_")

    def __init__(self, *, with_mean=True, with_std=True, per_sequence=False):
        self.with_mean = with_mean
        self.with_std = with_std
        self.per_sequence = per_sequence

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the mean and standard deviation of each feature.

        {fit_parameters}

        Returns
        -------
        self : SequenceScaler
            The fitted scaler.
        """
        seqs, _ = _validate_nan_sequences(self, X, reset=True)
        for name in self._learned:
            # A refit with per_sequence=True must not keep old statistics.
            self.__dict__.pop(name, None)
        if self.per_sequence:
            return self
        mean, var, count = _nan_statistics(np.concatenate(seqs.sequences))
        self.mean_ = mean
        self.var_ = var
        self.scale_ = _scale_from_var(var, mean, count) if self.with_std else None
        self.n_steps_seen_ = count.astype(np.int64)
        return self

    def _statistics(self, sequence):
        """Mean and scale to use for one ``(n_steps, n_features)`` sequence."""
        if self.per_sequence:
            mean, var, count = _nan_statistics(sequence)
            scale = _scale_from_var(var, mean, count)
        else:
            mean, scale = self.mean_, self.scale_
        if not self.with_mean:
            mean = np.zeros_like(mean)
        if not self.with_std:
            scale = np.ones_like(mean)
        return mean.astype(sequence.dtype), scale.astype(sequence.dtype)

    def transform(self, X):
        """Standardise each step of each sequence.

        Parameters
        ----------
        {fitted_sequences}

        Returns
        -------
        X_scaled : ndarray or list of ndarray
            The standardised sequences, in the container form of ``X``; NaN
            values stay NaN.
        """
        return self._map_sequences(X, self._standardise)

    def _standardise(self, sequence):
        mean, scale = self._statistics(sequence)
        return (sequence - mean) / scale

    def _check_invertible(self):
        if self.per_sequence:
            raise AttributeError(
                "inverse_transform is not available with per_sequence=True: "
                "each sequence was scaled by its own mean and standard "
                "deviation, which transform does not keep. Use "
                "per_sequence=False to be able to invert the scaling."
            )
        return True

    @available_if(_check_invertible)
    def inverse_transform(self, X):
        """Undo the scaling: multiply by the scale and add the mean.

        Parameters
        ----------
        X : {array-like, list of array-like}
            Scaled sequences in any of the forms :meth:`fit` accepts.

        Returns
        -------
        X_original : ndarray or list of ndarray
            The sequences on the original scale, in the container form of
            ``X``.

        Raises
        ------
        AttributeError
            With ``per_sequence=True``, whose statistics are not kept.
        """
        return self._map_sequences(X, self._restore)

    def _restore(self, sequence):
        mean, scale = self._statistics(sequence)
        return sequence * scale + mean


def _forward_fill(sequence, missing, observed_any):
    """Carry the last observed value forward; back-fill leading gaps."""
    steps = np.arange(len(sequence))[:, np.newaxis]
    last_observed = np.where(missing, 0, steps)
    np.maximum.accumulate(last_observed, axis=0, out=last_observed)
    first_observed = np.argmax(~missing, axis=0)
    source = np.where(steps < first_observed, first_observed, last_observed)
    return sequence[source, np.arange(sequence.shape[1])]


def _linear_fill(sequence, missing, observed_any):
    """Interpolate linearly between observed steps; extend the end values."""
    filled = sequence.copy()
    steps = np.arange(len(sequence))
    for feature in np.flatnonzero(missing.any(axis=0) & observed_any):
        gaps = missing[:, feature]
        known = ~gaps
        filled[gaps, feature] = np.interp(
            steps[gaps], steps[known], sequence[known, feature]
        )
    return filled


_FILLERS = {"forward": _forward_fill, "linear": _linear_fill}


@insert_doc(
    **_SHARED_DOCS,
    fit_parameters=_fit_parameters(", with NaN where a value is missing."),
)
class SequenceImputer(_NanSequenceTransformer):
    """Fill missing (NaN) steps of sequences, feature by feature.

    Gaps are filled within each sequence, from its own observed steps
    (``"forward"``, ``"linear"``), or with a value learned from the training
    sequences (``"mean"``) or given (``"constant"``). The output has no NaN
    left and keeps the container form of the input, so the imputer can be
    the first step of a :class:`~sklearn.pipeline.Pipeline` ending in an
    skrnn estimator, which refuses NaN.

    Parameters
    ----------
    strategy : {"forward", "linear", "mean", "constant"}, default="forward"
        How a feature's missing steps are filled:

        - ``"forward"``: with the last observed value of the feature in the
          same sequence; missing steps before the first observed one take
          the first observed value (back fill);
        - ``"linear"``: by linear interpolation in time between the observed
          steps around the gap; before the first and after the last observed
          step, with the first and last observed value;
        - ``"mean"``: with the feature's mean over all training steps;
        - ``"constant"``: with ``fill_value``.

        With ``"forward"`` and ``"linear"``, a sequence in which a feature is
        never observed gets that feature's training mean at every step.
    fill_value : float, default=None
        The value of ``strategy="constant"``; None means 0. Ignored by the
        other strategies.

    Attributes
    ----------
    statistics_ : ndarray of shape (n_step_features,)
        The value that fills a feature with no observed step in a sequence
        (and every missing step with ``"mean"``): the training mean of the
        feature, or ``fill_value`` for ``"constant"``. For the 2-D form
        (univariate sequences) one value.
    {input_attributes}

    See Also
    --------
    SequenceScaler : Standardise sequences; NaN passes through it.
    sklearn.impute.SimpleImputer : The same for a table of samples.

    Notes
    -----
    Each sequence is filled from its own steps only: nothing leaks from one
    sequence into another, so windows cut by :func:`make_windows` and
    sequences in different cross-validation folds stay independent. Only
    ``"mean"`` (and the all-missing fallback) uses what ``fit`` learned.

    A 2-D array holds univariate sequences, one per row: gaps are filled
    along the row, and the mean is over all cells. Infinity is refused.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.preprocessing import SequenceImputer
    >>> X = [np.array([np.nan, 1.0, np.nan, 3.0, np.nan]), np.array([4.0, 6.0])]
    >>> SequenceImputer().fit_transform(X)[0]
    array([1., 1., 1., 3., 3.])
    >>> SequenceImputer(strategy="linear").fit_transform(X)[0]
    array([1., 1., 2., 3., 3.])
    >>> SequenceImputer(strategy="mean").fit_transform(X)[0]
    array([3.5, 1. , 3.5, 3. , 3.5])
    """

    _parameter_constraints: dict = {
        "strategy": [StrOptions({"forward", "linear", "mean", "constant"})],
        "fill_value": [Interval(Real, None, None, closed="neither"), None],
    }

    def __init__(self, strategy="forward", *, fill_value=None):
        self.strategy = strategy
        self.fill_value = fill_value

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the mean of each feature over the observed training steps.

        {fit_parameters}

        Returns
        -------
        self : SequenceImputer
            The fitted imputer.

        Raises
        ------
        ValueError
            If a feature is NaN at every step of every training sequence and
            ``strategy`` is not ``"constant"``: there is no mean to fill it
            with.
        """
        seqs, _ = _validate_nan_sequences(self, X, reset=True)
        if self.strategy == "constant":
            fill_value = 0.0 if self.fill_value is None else float(self.fill_value)
            self.statistics_ = np.full(seqs.n_features, fill_value)
            return self
        mean, _, _ = _nan_statistics(np.concatenate(seqs.sequences))
        never_observed = np.flatnonzero(np.isnan(mean))
        if never_observed.size:
            raise ValueError(
                f"Feature {never_observed[0]} of X is NaN at every step of every "
                f"training sequence, so SequenceImputer has no mean to fill it "
                f"with. Drop that feature, or use strategy='constant' with a "
                f"fill_value."
            )
        self.statistics_ = mean
        return self

    def transform(self, X):
        """Fill the missing steps of each sequence.

        Parameters
        ----------
        {fitted_sequences}

        Returns
        -------
        X_filled : ndarray or list of ndarray
            The sequences without NaN, in the container form of ``X``.
        """
        return self._map_sequences(X, self._fill)

    def _fill(self, sequence):
        missing = np.isnan(sequence)
        statistics = self.statistics_.astype(sequence.dtype)
        if not missing.any():
            return sequence.copy()
        if self.strategy in ("mean", "constant"):
            return np.where(missing, statistics, sequence)
        observed_any = ~missing.all(axis=0)
        filled = _FILLERS[self.strategy](sequence, missing, observed_any)
        filled[:, ~observed_any] = statistics[~observed_any]
        return filled
