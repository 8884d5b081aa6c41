"""Sequence-to-sequence metrics: outputs whose lengths may differ from the
references'."""

from collections import Counter
from collections.abc import Mapping
from numbers import Integral

import numpy as np

from .._compat import Interval, _object_dtype_isnan, validate_params
from .._docstrings import insert_doc
from .._kernels._levenshtein import _levenshtein_kernel
from .._validation import _split_sequences
from ._common import (
    _check_sequence_weight,
    _count_or_fraction,
    _exact_matches,
    _sequence_lengths,
)

_TOKEN_SEQUENCE = (
    "a str (read as characters) or a list or 1-D array of tokens (integers or strings)"
)

# The parameters every metric here takes first (the placeholder in a
# docstring supplies the first line's indentation).
_SEQUENCE_PAIR = """\
y_true : list of str or list of array-like
        Reference sequences, each a string (read as characters) or a list or
        1-D array of tokens (integers or strings); a 2-D array holds one
        sequence per row.
    y_pred : list of str or list of array-like
        Predicted sequences, one per reference, in the same forms; lengths
        may differ from the references'."""

# The Raises section of every metric here: what they all refuse (the end of
# the sentence is each metric's).
_PAIR_ERRORS = """\
Raises
    ------
    ValueError
        If ``y_true`` and ``y_pred`` hold different numbers of sequences, no
        sequence, an element that is not a sequence, or one side string
        tokens and the other numbers"""

_SEQ2SEQ_CONSTRAINTS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "sample_weight": ["array-like", None],
}


def _token_sequences(y, input_name):
    """Split ``y`` into a list of 1-D token arrays, one per sequence.

    A string is read as its characters. ``y`` is a list (tuple, or 1-D array)
    of such sequences, or a 2-D array with one row per sequence.
    """
    expected = f"a list of sequences, each {_TOKEN_SEQUENCE}"
    if y is None or isinstance(y, (str, bytes, Mapping, set, frozenset)):
        raise TypeError(
            f"{input_name} must be a list of sequences, got {type(y).__name__} "
            f"instead; expected {expected}. Wrap a single sequence in a list."
        )
    sequences = _split_sequences(y, input_name, expected, _token_sequence, flat=True)
    if not sequences:
        raise ValueError(f"{input_name} holds no sequence: at least one is required.")
    return sequences


def _token_sequence(item, index, input_name):
    if isinstance(item, str):
        return np.array(list(item), dtype=str)
    if type(item) is np.ndarray and item.ndim == 1:
        array = item
    else:
        expected = f"expected a sequence: {_TOKEN_SEQUENCE}"
        if item is None or isinstance(item, bytes) or np.isscalar(item):
            raise ValueError(
                f"{input_name}[{index}] is a single token ({item!r}); {expected}. "
                f"A flat list of tokens is one sequence: wrap it in a list."
            )
        try:
            array = np.asarray(item)
        except ValueError as exc:
            raise ValueError(
                f"{input_name}[{index}] could not be read as an array ({exc}); "
                f"{expected}."
            ) from exc
        if array.ndim != 1:
            raise ValueError(
                f"{input_name}[{index}] has shape {array.shape}; {expected}."
            )
    kind = array.dtype.kind
    if kind == "f" and not np.isfinite(array).all():
        raise ValueError(
            f"{input_name}[{index}] contains NaN or infinity; every token needs "
            f"a value."
        )
    if kind == "O" and (np.equal(array, None) | _object_dtype_isnan(array)).any():
        raise ValueError(
            f"{input_name}[{index}] contains None or NaN; every token needs a value."
        )
    return array


def _token_kind(sequences):
    """ "string" or "number" when every token is one, else None."""
    kinds = {sequence.dtype.kind for sequence in sequences if sequence.size}
    if not kinds:
        return None
    if kinds <= set("U"):
        return "string"
    if kinds <= set("biuf"):
        return "number"
    return None


def _encode_token_pairs(y_true, y_pred, sample_weight):
    """Validate both sides and their weights; code their tokens as integers.

    Returns the codes of all tokens (the sequences of ``y_true``, then those
    of ``y_pred``, from one vocabulary: equal tokens get equal codes), the
    offsets ``(n_sequences + 1,)`` of each side's sequences in them, and the
    checked ``sample_weight`` (None stays None).
    """
    true_sequences = _token_sequences(y_true, "y_true")
    pred_sequences = _token_sequences(y_pred, "y_pred")
    n_sequences = len(true_sequences)
    if len(pred_sequences) != n_sequences:
        raise ValueError(
            f"y_true has {n_sequences} sequences, but y_pred has "
            f"{len(pred_sequences)}: pass one predicted sequence per reference."
        )
    kinds = {_token_kind(true_sequences), _token_kind(pred_sequences)}
    if kinds == {"string", "number"}:
        true_kind = _token_kind(true_sequences)
        pred_kind = _token_kind(pred_sequences)
        raise ValueError(
            f"y_true holds {true_kind} tokens but y_pred holds {pred_kind} "
            f"tokens, so no token could ever match. Decode token ids into the "
            f"tokens they stand for first (for instance with "
            f"TextTokenizer.inverse_transform)."
        )
    sequences = true_sequences + pred_sequences
    filled = [sequence for sequence in sequences if sequence.size]
    if filled and _token_kind(filled) is not None:
        _, codes = np.unique(np.concatenate(filled), return_inverse=True)
        codes = codes.astype(np.int64).ravel()
    else:
        # Object tokens, or strings mixed with numbers on one side: equality
        # as Python defines it.
        vocabulary = {}
        codes = np.fromiter(
            (
                vocabulary.setdefault(token, len(vocabulary))
                for sequence in filled
                for token in sequence.tolist()
            ),
            dtype=np.int64,
        )
    offsets = np.zeros(2 * n_sequences + 1, dtype=np.int64)
    np.cumsum(_sequence_lengths(sequences), out=offsets[1:])
    sample_weight = _check_nonnegative_weight(sample_weight, n_sequences)
    return codes, offsets[: n_sequences + 1], offsets[n_sequences:], sample_weight


def _check_nonnegative_weight(sample_weight, n_sequences):
    if sample_weight is None:
        return None
    sample_weight = _check_sequence_weight(sample_weight, n_sequences)
    if (sample_weight < 0).any() or not np.isfinite(sample_weight).all():
        raise ValueError(
            "sample_weight holds negative or non-finite values; weights of "
            "sequences must be finite and non-negative."
        )
    return sample_weight


def _levenshtein(codes, true_offsets, pred_offsets):
    distances = np.empty(len(true_offsets) - 1, dtype=np.int64)
    _levenshtein_kernel(codes, true_offsets, pred_offsets, distances)
    return distances


def _split(codes, offsets):
    return [codes[start:end] for start, end in zip(offsets[:-1], offsets[1:])]


@validate_params(
    {**_SEQ2SEQ_CONSTRAINTS, "normalize": ["boolean"]},
    prefer_skip_nested_validation=True,
)
@insert_doc(sequence_pair=_SEQUENCE_PAIR, pair_errors=_PAIR_ERRORS)
def exact_match_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Fraction of predicted sequences exactly equal to their reference.

    A sequence is right only if it has the length of its reference and the
    same token at every position. Predicted sequences may have any length.

    Parameters
    ----------
    {sequence_pair}
    normalize : bool, default=True
        If False, return the (weighted) number of exactly right sequences
        instead of their fraction.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence.

    Returns
    -------
    score : float
        The (weighted) fraction, or number, of exactly right sequences.

    {pair_errors}.

    See Also
    --------
    sequence_accuracy_score : The same score for taggers, which refuses
        sequences whose lengths differ from their reference.
    edit_distance : How far each sequence is from being right.

    Examples
    --------
    >>> from skrnn.metrics import exact_match_score
    >>> exact_match_score(["cat", "dog", "bird"], ["cat", "dogs", "bird"])
    0.666...
    >>> exact_match_score([[1, 2], [3]], [[1, 2], [3]], normalize=False)
    2.0
    """
    codes, true_offsets, pred_offsets, sample_weight = _encode_token_pairs(
        y_true, y_pred, sample_weight
    )
    right = _exact_matches(_split(codes, true_offsets), _split(codes, pred_offsets))
    return _count_or_fraction(right, normalize, sample_weight)


@validate_params(
    {**_SEQ2SEQ_CONSTRAINTS, "normalize": ["boolean"]},
    prefer_skip_nested_validation=True,
)
@insert_doc(sequence_pair=_SEQUENCE_PAIR, pair_errors=_PAIR_ERRORS)
def edit_distance(y_true, y_pred, *, normalize=False, sample_weight=None):
    """Mean Levenshtein distance between predicted and reference sequences.

    The Levenshtein distance of two sequences is the smallest number of
    token insertions, deletions and substitutions that turn one into the
    other. This is its mean over the sequences.

    Parameters
    ----------
    {sequence_pair}
    normalize : bool, default=False
        If True, divide each sequence's distance by the length of its
        reference before averaging: the mean per-sequence error rate, in
        which short and long sequences count alike (:func:`error_rate`
        instead divides the total of edits by the total length).
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence in the mean.

    Returns
    -------
    distance : float
        The (weighted) mean distance, or mean normalised distance. Lower is
        better: use ``make_scorer(edit_distance, greater_is_better=False)``
        for model selection.

    {pair_errors}; with ``normalize=True``, if a
        reference is empty.

    See Also
    --------
    error_rate : Total edits over total reference length (CER, WER).
    exact_match_score : Fraction of sequences at distance 0.

    Examples
    --------
    >>> from skrnn.metrics import edit_distance
    >>> edit_distance(["kitten"], ["sitting"])
    3.0
    >>> edit_distance(["kitten", "flaw"], ["sitting", "lawn"])
    2.5
    >>> edit_distance(["kitten", "flaw"], ["sitting", "lawn"], normalize=True)
    0.5
    """
    codes, true_offsets, pred_offsets, sample_weight = _encode_token_pairs(
        y_true, y_pred, sample_weight
    )
    distances = _levenshtein(codes, true_offsets, pred_offsets).astype(np.float64)
    if normalize:
        true_lengths = np.diff(true_offsets)
        empty = np.flatnonzero(true_lengths == 0)
        if empty.size:
            raise ValueError(
                f"y_true[{empty[0]}] is empty, so normalize=True cannot divide "
                f"its distance by its length. Drop empty references, or use "
                f"normalize=False or error_rate (which divides the total of "
                f"edits by the total reference length)."
            )
        distances /= true_lengths
    return float(np.average(distances, weights=sample_weight))


@validate_params(_SEQ2SEQ_CONSTRAINTS, prefer_skip_nested_validation=True)
@insert_doc(sequence_pair=_SEQUENCE_PAIR, pair_errors=_PAIR_ERRORS)
def error_rate(y_true, y_pred, *, sample_weight=None):
    """Total edit distance divided by the total length of the references.

    On characters this is the character error rate (CER); on words, the
    word error rate (WER): pass word lists, ``[s.split() for s in texts]``.
    It can exceed 1 when predictions are longer than their references.

    Parameters
    ----------
    {sequence_pair}
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, applied to both its edits and its
        reference length (an integer weight counts as that many copies).

    Returns
    -------
    rate : float
        ``sum(w_i * distance_i) / sum(w_i * len(y_true[i]))``. Lower is
        better.

    {pair_errors}; or if the references hold no token.

    See Also
    --------
    edit_distance : Mean distance per sequence.

    Examples
    --------
    >>> from skrnn.metrics import error_rate
    >>> error_rate(["kitten", "flaw"], ["sitting", "lawn"])
    0.5
    >>> references = ["the cat sat on the mat", "hello world"]
    >>> transcripts = ["the cat sat on mat", "hello word"]
    >>> error_rate([s.split() for s in references], [s.split() for s in transcripts])
    0.25
    """
    codes, true_offsets, pred_offsets, sample_weight = _encode_token_pairs(
        y_true, y_pred, sample_weight
    )
    if sample_weight is None:
        sample_weight = np.ones(len(true_offsets) - 1)
    distances = _levenshtein(codes, true_offsets, pred_offsets)
    total_length = float(np.dot(sample_weight, np.diff(true_offsets)))
    if total_length == 0:
        raise ValueError(
            "The references in y_true hold no token (or only zero weights), so "
            "the error rate, which divides by their total length, is undefined."
        )
    return float(np.dot(sample_weight, distances)) / total_length


def _ngrams(tokens, order):
    return Counter(zip(*(tokens[start:] for start in range(order))))


@validate_params(
    {
        **_SEQ2SEQ_CONSTRAINTS,
        "max_order": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
@insert_doc(pair_errors=_PAIR_ERRORS)
def bleu_score(y_true, y_pred, *, max_order=4, sample_weight=None):
    """Corpus BLEU score with one reference per sequence.

    BLEU (Papineni et al., 2002) is the geometric mean of the modified
    n-gram precisions for n from 1 to ``max_order``, times a brevity penalty.
    The precision of order n is, over the whole corpus, the number of
    predicted n-grams that match a reference n-gram (each reference n-gram
    matching at most as many times as it occurs in its reference) divided by
    the number of predicted n-grams. The brevity penalty is 1 when the
    predictions are longer in total than the references, and
    ``exp(1 - r / c)`` otherwise, with total reference length ``r`` and
    total prediction length ``c``.

    Parameters
    ----------
    y_true : list of str or list of array-like
        Reference sequences, each a string (read as characters) or a list or
        1-D array of tokens (integers or strings); a 2-D array holds one
        sequence per row. Pass word lists (``[s.split() for s in texts]``)
        for the usual word-level BLEU.
    y_pred : list of str or list of array-like
        Predicted sequences, one per reference, in the same forms; lengths
        may differ from the references'.
    max_order : int, default=4
        Longest n-gram, at least 1; the orders are weighted uniformly.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, applied to its n-gram counts and lengths
        (an integer weight counts as that many copies).

    Returns
    -------
    score : float
        BLEU in ``[0, 1]`` (multiply by 100 for the scale some tools print).
        Higher is better.

    {pair_errors}.

    See Also
    --------
    error_rate : Edit-based error rate (CER, WER).

    Notes
    -----
    No smoothing is applied: a corpus without a single matching n-gram of
    some order up to ``max_order`` (for instance one whose predictions are
    all shorter than ``max_order``) scores 0, and so does a corpus of empty
    predictions. A prediction shorter than n contributes no n-gram of order
    n; NLTK's ``corpus_bleu`` counts one in the denominator for it instead,
    so the two differ only on such predictions.

    References
    ----------
    .. [1] K. Papineni, S. Roukos, T. Ward and W.-J. Zhu, "BLEU: a method for
       automatic evaluation of machine translation", ACL 2002.

    Examples
    --------
    >>> from skrnn.metrics import bleu_score
    >>> reference = "the cat sat on the mat".split()
    >>> prediction = "the cat sat on a mat".split()
    >>> round(bleu_score([reference], [prediction]), 4)
    0.5373
    >>> round(bleu_score([reference], [prediction], max_order=2), 4)
    0.7071
    """
    codes, true_offsets, pred_offsets, sample_weight = _encode_token_pairs(
        y_true, y_pred, sample_weight
    )
    if sample_weight is None:
        sample_weight = np.ones(len(true_offsets) - 1)
    matches = np.zeros(max_order)
    totals = np.zeros(max_order)
    for weight, reference, prediction in zip(
        sample_weight,
        _split(codes, true_offsets),
        _split(codes, pred_offsets),
        strict=True,
    ):
        reference, prediction = reference.tolist(), prediction.tolist()
        for order in range(1, min(max_order, len(prediction)) + 1):
            reference_counts = _ngrams(reference, order)
            clipped = sum(
                min(count, reference_counts[ngram])
                for ngram, count in _ngrams(prediction, order).items()
            )
            matches[order - 1] += weight * clipped
            totals[order - 1] += weight * (len(prediction) - order + 1)
    prediction_length = float(np.dot(sample_weight, np.diff(pred_offsets)))
    reference_length = float(np.dot(sample_weight, np.diff(true_offsets)))
    if prediction_length == 0 or (matches == 0).any():
        return 0.0
    log_precision = np.mean(np.log(matches) - np.log(totals))
    if prediction_length > reference_length:
        log_brevity = 0.0
    else:
        log_brevity = 1.0 - reference_length / prediction_length
    return float(np.exp(log_brevity + log_precision))
