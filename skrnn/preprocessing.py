"""Turning raw data into sequences the estimators train on.

- :func:`make_windows` cuts one series or several into fixed-length input
  windows and the value(s) that follow each window: the many-to-one form of
  next-value prediction (forecasting).
- :class:`TextTokenizer` learns a character or word vocabulary from raw
  strings and turns each string into a 1-D array of integer token ids, with no
  padding, so that it can be the first step of a
  :class:`~sklearn.pipeline.Pipeline` on raw text.
"""

from collections import Counter
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_params,
)

__all__ = ["TextTokenizer", "make_windows"]


def _as_series_list(series):
    """Split ``series`` into a list of ``(index, array)`` pairs, one per series.

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
            raise ValueError("series is empty: at least one series is required.")
        if all(np.ndim(item) == 0 for item in series):
            return [series]
        return list(series)
    raise TypeError(
        f"series must be an array-like of numbers or a list of them, got "
        f"{type(series).__name__} instead."
    )


def _check_series(values, index):
    """Convert one series to a float array ``(n_steps, n_features)``."""
    try:
        array = np.asarray(values)
    except ValueError as exc:
        raise ValueError(f"Series {index} is not a rectangular array: {exc}") from exc
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Series {index} holds values that are not numbers."
            ) from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Series {index} has dtype {array.dtype}; real numbers are required."
        )
    if array.ndim not in (1, 2):
        raise ValueError(
            f"Series {index} has {array.ndim} dimensions (shape {array.shape}); "
            f"each series must be 1-D (n_steps,) or 2-D (n_steps, n_features)."
        )
    array = array.astype(
        np.float32 if array.dtype == np.float32 else np.float64, copy=False
    )
    if not np.isfinite(array).all():
        raise ValueError(
            f"Series {index} contains NaN or infinity; fill or drop the missing "
            f"values before cutting windows."
        )
    return array if array.ndim == 2 else array[:, np.newaxis]


@validate_params(
    {
        "series": ["array-like", list, tuple],
        "window": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def make_windows(series, window, horizon=1, stride=1):
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

    Returns
    -------
    X : ndarray of shape (n_windows, window, n_features)
        The input windows, series after series, in time order. Univariate
        series give ``n_features = 1``.
    y : ndarray
        The values that follow each window. For 1-D series: shape
        ``(n_windows,)`` when ``horizon == 1``, else ``(n_windows, horizon)``.
        For 2-D series: ``(n_windows, n_features)`` when ``horizon == 1``,
        else ``(n_windows, horizon, n_features)``.

    Raises
    ------
    ValueError
        If a series is shorter than ``window + horizon``, holds NaN or
        infinity, or has a different number of features than the first one.
    TypeError
        If a series does not hold real numbers.

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
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64

    X_parts, y_parts = [], []
    for array in arrays:
        starts = np.arange(0, len(array) - needed + 1, stride)
        # Fancy indexing copies, so the windows never alias the caller's data.
        X_parts.append(array[starts[:, np.newaxis] + np.arange(window)])
        y_parts.append(array[starts[:, np.newaxis] + window + np.arange(horizon)])
    X = np.concatenate(X_parts).astype(dtype, copy=False)
    y = np.concatenate(y_parts).astype(dtype, copy=False)
    if univariate:
        y = y[:, :, 0]
    if horizon == 1:
        y = y[:, 0]
    return X, y


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
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : TextTokenizer
            The fitted tokenizer.
        """
        counts = Counter()
        for text in _check_texts(X):
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
        y : None
            Ignored; present for API consistency.

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
