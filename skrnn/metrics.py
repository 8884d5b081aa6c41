"""Metrics for sequence tagging and sequence-to-sequence output.

Tagging metrics take ``y_true`` and ``y_pred`` in the forms
:class:`~skrnn.SequenceTagger` uses: a list (or tuple, or 1-D object array)
of 1-D label arrays, one per sequence, or a 2-D array with one row per
sequence. Only real steps count; nothing is padded.

- ``flat_*`` functions flatten the steps of all sequences and delegate to
  :mod:`sklearn.metrics`, with the same parameters.
- :func:`sequence_accuracy_score` is the fraction of sequences tagged right at
  every step.
- ``span_*`` functions score entities (chunks) as conlleval does, for the
  IOB1, IOB2 (BIO) and IOBES tagging schemes; :func:`get_entities` lists the
  entities a tag sequence holds.

Sequence-to-sequence metrics compare output sequences whose lengths may
differ from those of the references (transcription, translation,
generation). Each sequence is a string (read as characters) or a list or
1-D array of tokens (integers or strings):

- :func:`sequence_accuracy` is the fraction of sequences that are exactly
  right (same length, same tokens);
- :func:`edit_distance` is the mean Levenshtein distance per sequence;
- :func:`error_rate` is the total number of edits over the total reference
  length: the character (CER) or word (WER) error rate;
- :func:`bleu_score` is corpus BLEU with one reference per sequence.

All of them work with :func:`sklearn.metrics.make_scorer`, and so with
:class:`~sklearn.model_selection.GridSearchCV` over ragged lists of sequences.
"""

import functools
import warnings
from collections import Counter
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from numba import njit
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import column_or_1d

from ._compat import Interval, Options, StrOptions, _object_dtype_isnan, validate_params
from ._docstrings import insert_doc
from ._validation import _label_sequences, _offsets, _split_sequences

__all__ = [
    "bleu_score",
    "edit_distance",
    "error_rate",
    "flat_accuracy_score",
    "flat_classification_report",
    "flat_f1_score",
    "flat_precision_score",
    "flat_recall_score",
    "get_entities",
    "sequence_accuracy",
    "sequence_accuracy_score",
    "span_f1_score",
    "span_precision_score",
    "span_recall_score",
]

_ZERO_DIVISION = [Options(Real, {0.0, 1.0}), "nan", StrOptions({"warn"})]

# Prefixes each scheme writes before an entity type; "O" is outside.
_SCHEME_PREFIXES = {
    "IOB1": ("B", "I"),
    "IOB2": ("B", "I"),
    "IOBES": ("B", "I", "E", "S"),
}
_SCHEME_ALIASES = {"BIO": "IOB2"}


def _check_sequence_pair(y_true, y_pred):
    """Split both label containers into sequences and check they match."""
    true_sequences = _label_sequences(y_true, "y_true")
    pred_sequences = _label_sequences(y_pred, "y_pred")
    if len(true_sequences) != len(pred_sequences):
        raise ValueError(
            f"y_true has {len(true_sequences)} sequences, but y_pred has "
            f"{len(pred_sequences)}: both need one label sequence per sequence."
        )
    for index, (true, pred) in enumerate(
        zip(true_sequences, pred_sequences, strict=True)
    ):
        if len(true) != len(pred):
            raise ValueError(
                f"Sequence {index} has {len(true)} labels in y_true but "
                f"{len(pred)} in y_pred: both need one label per step."
            )
    return true_sequences, pred_sequences


def _concatenate(sequences):
    return np.concatenate(sequences) if sequences else np.array([])


def _sequence_lengths(sequences):
    return np.fromiter(
        (len(sequence) for sequence in sequences), dtype=np.int64, count=len(sequences)
    )


def _check_sequence_weight(sample_weight, n_sequences):
    sample_weight = column_or_1d(sample_weight, dtype=np.float64)
    if sample_weight.shape[0] != n_sequences:
        raise ValueError(
            f"sample_weight has {sample_weight.shape[0]} entries, but there are "
            f"{n_sequences} sequences: pass one weight per sequence."
        )
    return sample_weight


def _flattens_steps(metric):
    """Let a metric on per-step labels take sequences of labels.

    The decorated function receives the labels of all real steps, sequence
    after sequence, as two 1-D arrays. A ``sample_weight`` given per sequence
    becomes the weight of each of its steps, so the weights that
    cross-validation routes per sequence work unchanged.
    """

    @functools.wraps(metric)
    def wrapper(y_true, y_pred, *args, sample_weight=None, **kwargs):
        true_sequences, pred_sequences = _check_sequence_pair(y_true, y_pred)
        if sample_weight is not None:
            sample_weight = _check_sequence_weight(sample_weight, len(true_sequences))
            sample_weight = np.repeat(sample_weight, _sequence_lengths(true_sequences))
        return metric(
            _concatenate(true_sequences),
            _concatenate(pred_sequences),
            *args,
            sample_weight=sample_weight,
            **kwargs,
        )

    return wrapper


@_flattens_steps
def flat_accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Accuracy over the steps of all sequences.

    Parameters
    ----------
    y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True labels, one 1-D label sequence per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted labels, with the same lengths as ``y_true``.
    normalize : bool, default=True
        If False, return the number of correctly tagged steps instead of
        their fraction.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its steps.

    Returns
    -------
    score : float
        Fraction (or number) of steps whose label is right.

    See Also
    --------
    sequence_accuracy_score : Fraction of sequences right at every step.
    sklearn.metrics.accuracy_score : The metric applied to the flat steps.

    Examples
    --------
    >>> from skrnn.metrics import flat_accuracy_score
    >>> y_true = [["B", "I", "O"], ["O", "B"]]
    >>> y_pred = [["B", "I", "I"], ["O", "B"]]
    >>> flat_accuracy_score(y_true, y_pred)
    0.8
    """
    return float(
        metrics.accuracy_score(
            y_true, y_pred, normalize=normalize, sample_weight=sample_weight
        )
    )


@_flattens_steps
def flat_precision_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """Precision over the steps of all sequences.

    Parameters
    ----------
    y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True labels, one 1-D label sequence per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted labels, with the same lengths as ``y_true``.
    labels : array-like, default=None
        Labels to include, as in :func:`sklearn.metrics.precision_score`
        (for instance every tag but ``"O"``).
    pos_label : int, float, bool or str, default=1
        The positive label when ``average="binary"``.
    average : {"micro", "macro", "weighted", "binary"} or None, \
            default="binary"
        How per-label scores are averaged, as in
        :func:`sklearn.metrics.precision_score`. Tag sets with more than two
        labels need ``"micro"``, ``"macro"`` or ``"weighted"``.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its steps.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when there is no predicted step of a label.

    Returns
    -------
    precision : float or ndarray of shape (n_labels,)
        Precision of the positive label, averaged precision, or per-label
        precision when ``average=None``.

    See Also
    --------
    span_precision_score : Precision over whole entities.
    sklearn.metrics.precision_score : The metric applied to the flat steps.

    Examples
    --------
    >>> from skrnn.metrics import flat_precision_score
    >>> y_true = [[0, 1, 1], [1, 0]]
    >>> y_pred = [[1, 1, 0], [1, 0]]
    >>> flat_precision_score(y_true, y_pred)
    0.666...
    """
    return metrics.precision_score(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@_flattens_steps
def flat_recall_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """Recall over the steps of all sequences.

    Parameters
    ----------
    y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True labels, one 1-D label sequence per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted labels, with the same lengths as ``y_true``.
    labels : array-like, default=None
        Labels to include, as in :func:`sklearn.metrics.recall_score`.
    pos_label : int, float, bool or str, default=1
        The positive label when ``average="binary"``.
    average : {"micro", "macro", "weighted", "binary"} or None, \
            default="binary"
        How per-label scores are averaged, as in
        :func:`sklearn.metrics.recall_score`. Tag sets with more than two
        labels need ``"micro"``, ``"macro"`` or ``"weighted"``.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its steps.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when there is no true step of a label.

    Returns
    -------
    recall : float or ndarray of shape (n_labels,)
        Recall of the positive label, averaged recall, or per-label recall
        when ``average=None``.

    See Also
    --------
    span_recall_score : Recall over whole entities.
    sklearn.metrics.recall_score : The metric applied to the flat steps.

    Examples
    --------
    >>> from skrnn.metrics import flat_recall_score
    >>> y_true = [["B", "I", "O"], ["O", "B"]]
    >>> y_pred = [["B", "O", "O"], ["O", "B"]]
    >>> flat_recall_score(y_true, y_pred, average="macro")
    0.666...
    """
    return metrics.recall_score(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@_flattens_steps
def flat_f1_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """F1 score over the steps of all sequences.

    Parameters
    ----------
    y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True labels, one 1-D label sequence per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted labels, with the same lengths as ``y_true``.
    labels : array-like, default=None
        Labels to include, as in :func:`sklearn.metrics.f1_score` (for
        instance every tag but ``"O"``).
    pos_label : int, float, bool or str, default=1
        The positive label when ``average="binary"``.
    average : {"micro", "macro", "weighted", "binary"} or None, \
            default="binary"
        How per-label scores are averaged, as in
        :func:`sklearn.metrics.f1_score`. Tag sets with more than two labels
        need ``"micro"``, ``"macro"`` or ``"weighted"``.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its steps.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when a label has neither true nor predicted steps.

    Returns
    -------
    f1 : float or ndarray of shape (n_labels,)
        F1 score of the positive label, averaged F1, or per-label F1 when
        ``average=None``.

    See Also
    --------
    span_f1_score : F1 score over whole entities.
    sklearn.metrics.f1_score : The metric applied to the flat steps.

    Examples
    --------
    >>> from skrnn.metrics import flat_f1_score
    >>> y_true = [["B", "I", "O"], ["O", "B"]]
    >>> y_pred = [["B", "I", "I"], ["O", "B"]]
    >>> flat_f1_score(y_true, y_pred, average="micro")
    0.8
    >>> flat_f1_score(y_true, y_pred, labels=["B", "I"], average="macro")
    0.833...
    """
    return metrics.f1_score(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@_flattens_steps
def flat_classification_report(
    y_true,
    y_pred,
    *,
    labels=None,
    target_names=None,
    sample_weight=None,
    digits=2,
    output_dict=False,
    zero_division="warn",
):
    """Text report of per-label precision, recall and F1 over all steps.

    Parameters
    ----------
    y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True labels, one 1-D label sequence per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted labels, with the same lengths as ``y_true``.
    labels : array-like of shape (n_labels,), default=None
        Labels to include in the report.
    target_names : array-like of shape (n_labels,), default=None
        Display names of the labels.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its steps.
    digits : int, default=2
        Number of digits of the floats in the text report.
    output_dict : bool, default=False
        If True, return the report as a dict.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value used when a score divides by zero.

    Returns
    -------
    report : str or dict
        The report of :func:`sklearn.metrics.classification_report` over the
        steps of all sequences.

    See Also
    --------
    sklearn.metrics.classification_report : The report on the flat steps.

    Examples
    --------
    >>> from skrnn.metrics import flat_classification_report
    >>> y_true = [["B", "I", "O"], ["O", "B"]]
    >>> y_pred = [["B", "I", "I"], ["O", "B"]]
    >>> print(flat_classification_report(y_true, y_pred))
                  precision    recall  f1-score   support
    <BLANKLINE>
               B       1.00      1.00      1.00         2
               I       0.50      1.00      0.67         1
               O       1.00      0.50      0.67         2
    <BLANKLINE>
        accuracy                           0.80         5
       macro avg       0.83      0.83      0.78         5
    weighted avg       0.90      0.80      0.80         5
    <BLANKLINE>
    """
    return metrics.classification_report(
        y_true,
        y_pred,
        labels=labels,
        target_names=target_names,
        sample_weight=sample_weight,
        digits=digits,
        output_dict=output_dict,
        zero_division=zero_division,
    )


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "normalize": ["boolean"],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def sequence_accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Fraction of sequences whose every step is tagged right.

    The tagging form of :func:`sequence_accuracy`: both count a sequence as
    right only when every step is. A tagger gives one label per step, so
    here a predicted sequence of another length than its reference is an
    error (it points at a bug), where :func:`sequence_accuracy` counts it as
    a wrong sequence.

    Parameters
    ----------
    y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True labels, one 1-D label sequence per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted labels, with the same lengths as ``y_true``.
    normalize : bool, default=True
        If False, return the number of fully right sequences instead of their
        fraction.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence.

    Returns
    -------
    score : float
        The (weighted) fraction, or number, of sequences with no wrong step.

    See Also
    --------
    flat_accuracy_score : Fraction of steps tagged right.
    sequence_accuracy : Exact-match fraction for sequences of any lengths.

    Examples
    --------
    >>> from skrnn.metrics import sequence_accuracy_score
    >>> y_true = [["B", "I", "O"], ["O", "B"]]
    >>> y_pred = [["B", "I", "I"], ["O", "B"]]
    >>> sequence_accuracy_score(y_true, y_pred)
    0.5
    """
    true_sequences, pred_sequences = _check_sequence_pair(y_true, y_pred)
    n_sequences = len(true_sequences)
    if sample_weight is not None:
        sample_weight = _check_sequence_weight(sample_weight, n_sequences)
    if n_sequences == 0:
        return 0.0
    # Refuses mixes of string and number labels, as accuracy_score does.
    unique_labels(_concatenate(true_sequences), _concatenate(pred_sequences))
    right = _exact_matches(true_sequences, pred_sequences)
    return _count_or_fraction(right, normalize, sample_weight)


def _exact_matches(true_sequences, pred_sequences):
    """Whether each predicted sequence equals its reference, length included.

    The one implementation behind :func:`sequence_accuracy_score` and
    :func:`sequence_accuracy`.
    """
    true_lengths = _sequence_lengths(true_sequences)
    right = true_lengths == _sequence_lengths(pred_sequences)
    # Empty pairs are right; reduceat needs a non-empty slice per index.
    compared = np.flatnonzero(right & (true_lengths > 0))
    if compared.size:
        flat_true = np.concatenate([true_sequences[i] for i in compared])
        flat_pred = np.concatenate([pred_sequences[i] for i in compared])
        step_right = np.asarray(flat_true == flat_pred, dtype=bool)
        right[compared] = np.logical_and.reduceat(
            step_right, _offsets(true_lengths[compared])
        )
    return right


def _count_or_fraction(right, normalize, sample_weight):
    if not normalize:
        if sample_weight is None:
            return float(right.sum())
        return float(np.dot(right, sample_weight))
    return float(np.average(right, weights=sample_weight))


def _normalize_scheme(scheme):
    return _SCHEME_ALIASES.get(scheme, scheme)


def _tag_parser(scheme):
    """Return a cached function splitting a tag into (prefix, entity type)."""
    prefixes = _SCHEME_PREFIXES[scheme]
    expected = " or ".join(f"'{prefix}-<type>'" for prefix in prefixes)

    @functools.cache
    def parse(tag):
        if not isinstance(tag, str):
            raise TypeError(
                f"Span metrics need string tags such as 'B-PER', got "
                f"{type(tag).__name__} {tag!r}."
            )
        if tag == "O":
            return "O", ""
        prefix, _, entity_type = tag.partition("-")
        if prefix not in prefixes:
            return None
        return prefix, entity_type

    def parse_at(tag, index, step):
        parsed = parse(tag)
        if parsed is None:
            raise ValueError(
                f"Invalid tag {tag!r} in sequence {index} (step {step}) for the "
                f"{scheme} scheme: expected 'O' or {expected}."
            )
        return parsed

    return parse_at


def _sequence_entities(tags, index, parse):
    """Yield the entities of one tag sequence, reading it as conlleval does.

    A "B" tag always starts an entity; an "I" (or "E") tag continues the open
    entity when it has the same type, and starts one otherwise; "E" closes
    the entity it belongs to and "S" is an entity of one step; "O" is
    outside. Entities never cross the end of the sequence.
    """
    open_type, open_start = None, 0
    for step, tag in enumerate(tags):
        prefix, entity_type = parse(tag, index, step)
        continues = prefix in ("I", "E") and open_type == entity_type
        if open_type is not None and not continues:
            yield (index, open_type, open_start, step)
            open_type = None
        if prefix == "O":
            continue
        if prefix == "S":
            yield (index, entity_type, step, step + 1)
            continue
        if open_type is None:
            open_type, open_start = entity_type, step
        if prefix == "E":
            yield (index, open_type, open_start, step + 1)
            open_type = None
    if open_type is not None:
        yield (index, open_type, open_start, len(tags))


def _entities(sequences, scheme):
    parse = _tag_parser(scheme)
    return [
        entity
        for index, tags in enumerate(sequences)
        for entity in _sequence_entities(tags.tolist(), index, parse)
    ]


@validate_params(
    {"y": ["array-like"], "scheme": [StrOptions({"IOB1", "IOB2", "BIO", "IOBES"})]},
    prefer_skip_nested_validation=True,
)
def get_entities(y, *, scheme="IOB2"):
    """List the entities (chunks) that sequences of tags hold.

    Tags are ``"O"`` (outside) or a prefix, a dash and the entity type, such
    as ``"B-PER"``. They are read as conlleval reads them: a ``B-`` tag
    always starts an entity; an ``I-`` tag continues an open entity of the
    same type and starts a new one otherwise (so an entity may begin with
    ``I-``); with IOBES, ``E-`` ends an entity and ``S-`` is an entity of one
    step. IOB1 and IOB2 decode the same way: they differ in where a tagger
    writes ``B-``, not in how tags are read.

    Parameters
    ----------
    y : list of array-like or array-like of shape (n_sequences, n_steps)
        Tag sequences: a list of 1-D arrays of string tags, or a 2-D array
        with one row per sequence.
    scheme : {"IOB2", "BIO", "IOB1", "IOBES"}, default="IOB2"
        Tagging scheme; "BIO" is another name for "IOB2". Tags with a prefix
        the scheme does not use raise a ValueError.

    Returns
    -------
    entities : list of tuple
        One ``(sequence_index, entity_type, start, end)`` tuple per entity, in
        order of appearance, where ``end`` is exclusive: the entity's tags are
        ``y[sequence_index][start:end]``.

    See Also
    --------
    span_f1_score : F1 score over the entities.

    Examples
    --------
    >>> from skrnn.metrics import get_entities
    >>> y = [["B-PER", "I-PER", "O", "B-LOC"], ["I-ORG", "I-ORG"]]
    >>> get_entities(y)
    [(0, 'PER', 0, 2), (0, 'LOC', 3, 4), (1, 'ORG', 0, 2)]
    >>> get_entities([["S-PER", "B-LOC", "E-LOC"]], scheme="IOBES")
    [(0, 'PER', 0, 1), (0, 'LOC', 1, 3)]
    """
    return _entities(_label_sequences(y), _normalize_scheme(scheme))


def _span_counts(y_true, y_pred, scheme):
    """Per entity type: numbers of true, predicted and correct entities."""
    true_sequences, pred_sequences = _check_sequence_pair(y_true, y_pred)
    scheme = _normalize_scheme(scheme)
    true_entities = set(_entities(true_sequences, scheme))
    pred_entities = set(_entities(pred_sequences, scheme))
    correct = true_entities & pred_entities
    types = sorted({entity[1] for entity in true_entities | pred_entities})
    position = {entity_type: i for i, entity_type in enumerate(types)}

    def count(entities):
        counts = np.zeros(len(types))
        for entity in entities:
            counts[position[entity[1]]] += 1
        return counts

    return count(true_entities), count(pred_entities), count(correct)


def _divide(numerator, denominator, metric, reason, zero_division):
    """Divide, giving ``zero_division`` where the denominator is 0."""
    numerator = np.atleast_1d(np.asarray(numerator, dtype=float))
    denominator = np.atleast_1d(np.asarray(denominator, dtype=float))
    undefined = denominator == 0
    result = np.divide(
        numerator, denominator, out=np.zeros_like(numerator), where=~undefined
    )
    if undefined.any():
        if zero_division == "warn":
            warnings.warn(
                f"{metric} is ill-defined and being set to 0.0 {reason}. Use "
                "`zero_division` parameter to control this behavior.",
                UndefinedMetricWarning,
                stacklevel=5,
            )
            result[undefined] = 0.0
        else:
            result[undefined] = float(zero_division)
    return result


def _span_score(y_true, y_pred, scheme, average, zero_division, metric):
    n_true, n_pred, n_correct = _span_counts(y_true, y_pred, scheme)
    if average == "micro":
        n_true, n_pred, n_correct = n_true.sum(), n_pred.sum(), n_correct.sum()
    if metric == "precision":
        numerator, denominator = n_correct, n_pred
        name, reason = "Precision", "due to no predicted entities"
    elif metric == "recall":
        numerator, denominator = n_correct, n_true
        name, reason = "Recall", "due to no true entities"
    else:
        numerator, denominator = 2 * n_correct, n_true + n_pred
        name, reason = "F-score", "due to no true nor predicted entities"
    scores = _divide(numerator, denominator, name, reason, zero_division)
    if average is None:
        return scores
    if average == "micro":
        return float(scores[0])
    if scores.size == 0:
        # No entity anywhere: the average over no types is undefined too.
        return float(_divide(0.0, 0.0, name, reason, zero_division)[0])
    if np.isnan(scores).all():
        return float("nan")
    # nanmean leaves out the types that zero_division=np.nan marks undefined.
    return float(np.nanmean(scores))


# The parameters of the three span scores (inserted with ``insert_doc``; the
# first line's indentation comes from the placeholder's).
_SPAN_PARAMETERS = """\
y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True tags, one 1-D sequence of string tags per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted tags, with the same lengths as ``y_true``.
    scheme : {"IOB2", "BIO", "IOB1", "IOBES"}, default="IOB2"
        Tagging scheme, read as :func:`get_entities` describes.
    average : {"micro", "macro"} or None, default="micro"
        ``"micro"`` counts entities of all types together (conlleval's
        overall score); ``"macro"`` averages the per-type scores; None
        returns the per-type scores, types in sorted order.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when the score divides by zero; "warn" returns 0.0
        and warns. With ``np.nan``, undefined types are left out of the
        macro average."""

_SPAN_CONSTRAINTS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "scheme": [StrOptions({"IOB1", "IOB2", "BIO", "IOBES"})],
    "average": [StrOptions({"micro", "macro"}), None],
    "zero_division": _ZERO_DIVISION,
}


@validate_params(_SPAN_CONSTRAINTS, prefer_skip_nested_validation=True)
@insert_doc(span_parameters=_SPAN_PARAMETERS)
def span_precision_score(
    y_true, y_pred, *, scheme="IOB2", average="micro", zero_division="warn"
):
    """Fraction of predicted entities that are true entities.

    An entity counts as right only if its type, start and end all match a
    true entity in the same sequence (exact match, as conlleval scores).

    Parameters
    ----------
    {span_parameters}

    Returns
    -------
    precision : float or ndarray of shape (n_types,)
        Entity-level precision; per type when ``average=None``.

    See Also
    --------
    span_f1_score : Entity-level F1 score.
    get_entities : How tags are read into entities.

    Examples
    --------
    >>> from skrnn.metrics import span_precision_score
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"]]
    >>> y_pred = [["B-PER", "I-PER", "B-LOC", "I-LOC"]]
    >>> span_precision_score(y_true, y_pred)
    0.5
    """
    return _span_score(y_true, y_pred, scheme, average, zero_division, "precision")


@validate_params(_SPAN_CONSTRAINTS, prefer_skip_nested_validation=True)
@insert_doc(span_parameters=_SPAN_PARAMETERS)
def span_recall_score(
    y_true, y_pred, *, scheme="IOB2", average="micro", zero_division="warn"
):
    """Fraction of true entities that are predicted exactly.

    An entity counts as found only if a predicted entity in the same sequence
    has its type, start and end (exact match, as conlleval scores).

    Parameters
    ----------
    {span_parameters}

    Returns
    -------
    recall : float or ndarray of shape (n_types,)
        Entity-level recall; per type when ``average=None``.

    See Also
    --------
    span_f1_score : Entity-level F1 score.
    get_entities : How tags are read into entities.

    Examples
    --------
    >>> from skrnn.metrics import span_recall_score
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"]]
    >>> y_pred = [["B-PER", "I-PER", "O", "O"]]
    >>> span_recall_score(y_true, y_pred)
    0.5
    """
    return _span_score(y_true, y_pred, scheme, average, zero_division, "recall")


@validate_params(_SPAN_CONSTRAINTS, prefer_skip_nested_validation=True)
@insert_doc(span_parameters=_SPAN_PARAMETERS)
def span_f1_score(
    y_true, y_pred, *, scheme="IOB2", average="micro", zero_division="warn"
):
    """F1 score over entities, as conlleval computes it.

    The harmonic mean of :func:`span_precision_score` and
    :func:`span_recall_score`: ``2 * n_correct / (n_true + n_predicted)``
    where entities must match exactly (type, start and end).

    Parameters
    ----------
    {span_parameters}

    Returns
    -------
    f1 : float or ndarray of shape (n_types,)
        Entity-level F1 score; per type when ``average=None``.

    See Also
    --------
    flat_f1_score : F1 score over single steps.
    get_entities : How tags are read into entities.

    Examples
    --------
    >>> from skrnn.metrics import span_f1_score
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    >>> y_pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O"]]
    >>> span_f1_score(y_true, y_pred)
    0.8
    >>> span_f1_score(y_true, y_pred, average=None)
    array([0., 1., 1.])
    """
    return _span_score(y_true, y_pred, scheme, average, zero_division, "f1")


# Sequence-to-sequence metrics ----------------------------------------------

_TOKEN_SEQUENCE = (
    "a str (read as characters) or a list or 1-D array of tokens (integers or strings)"
)

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


def _encode_token_pairs(y_true, y_pred):
    """Validate both sides and code their tokens as integers.

    Returns the codes of all tokens (the sequences of ``y_true``, then those
    of ``y_pred``, from one vocabulary: equal tokens get equal codes) and the
    offsets ``(n_sequences + 1,)`` of each side's sequences in them.
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
    return codes, offsets[: n_sequences + 1], offsets[n_sequences:]


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


@njit(cache=True, nogil=True)
def _levenshtein_kernel(codes, true_offsets, pred_offsets, distances):
    """Levenshtein distance of each pair of integer-coded sequences.

    The classic dynamic programme, one row of the table at a time:
    ``row[j]`` holds the distance between the first ``k`` reference tokens
    and the first ``j`` predicted ones. Insertions, deletions and
    substitutions all cost 1.

    Parameters
    ----------
    codes : ndarray of shape (n_tokens,), dtype int64
        Codes of all tokens; equal tokens have equal codes.
    true_offsets : ndarray of shape (n_pairs + 1,), dtype int64
        Reference ``i`` is ``codes[true_offsets[i]:true_offsets[i + 1]]``.
    pred_offsets : ndarray of shape (n_pairs + 1,), dtype int64
        Prediction ``i`` is ``codes[pred_offsets[i]:pred_offsets[i + 1]]``.
    distances : ndarray of shape (n_pairs,), dtype int64
        Output: the distance of each pair.
    """
    n_pairs = distances.shape[0]
    longest = 0
    for i in range(n_pairs):
        longest = max(longest, pred_offsets[i + 1] - pred_offsets[i])
    row = np.empty(longest + 1, dtype=np.int64)
    for i in range(n_pairs):
        true_start = true_offsets[i]
        n_true = true_offsets[i + 1] - true_start
        pred_start = pred_offsets[i]
        n_pred = pred_offsets[i + 1] - pred_start
        for j in range(n_pred + 1):
            row[j] = j
        for k in range(1, n_true + 1):
            token = codes[true_start + k - 1]
            diagonal = row[0]
            row[0] = k
            for j in range(1, n_pred + 1):
                above = row[j]
                best = diagonal + (codes[pred_start + j - 1] != token)
                if above + 1 < best:
                    best = above + 1
                if row[j - 1] + 1 < best:
                    best = row[j - 1] + 1
                row[j] = best
                diagonal = above
        distances[i] = row[n_pred]


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
def sequence_accuracy(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Fraction of predicted sequences exactly equal to their reference.

    A sequence is right only if it has the length of its reference and the
    same token at every position. Predicted sequences may have any length.

    Parameters
    ----------
    y_true : list of str or list of array-like
        Reference sequences, each a string (read as characters) or a list or
        1-D array of tokens (integers or strings); a 2-D array holds one
        sequence per row.
    y_pred : list of str or list of array-like
        Predicted sequences, one per reference, in the same forms; lengths
        may differ from the references'.
    normalize : bool, default=True
        If False, return the (weighted) number of exactly right sequences
        instead of their fraction.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence.

    Returns
    -------
    score : float
        The (weighted) fraction, or number, of exactly right sequences.

    Raises
    ------
    ValueError
        If ``y_true`` and ``y_pred`` hold different numbers of sequences, no
        sequence, an element that is not a sequence, or one side string
        tokens and the other numbers.

    See Also
    --------
    sequence_accuracy_score : The same score for taggers, which refuses
        sequences whose lengths differ from their reference.
    edit_distance : How far each sequence is from being right.

    Examples
    --------
    >>> from skrnn.metrics import sequence_accuracy
    >>> sequence_accuracy(["cat", "dog", "bird"], ["cat", "dogs", "bird"])
    0.666...
    >>> sequence_accuracy([[1, 2], [3]], [[1, 2], [3]], normalize=False)
    2.0
    """
    codes, true_offsets, pred_offsets = _encode_token_pairs(y_true, y_pred)
    n_sequences = len(true_offsets) - 1
    sample_weight = _check_nonnegative_weight(sample_weight, n_sequences)
    right = _exact_matches(_split(codes, true_offsets), _split(codes, pred_offsets))
    return _count_or_fraction(right, normalize, sample_weight)


@validate_params(
    {**_SEQ2SEQ_CONSTRAINTS, "normalize": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def edit_distance(y_true, y_pred, *, normalize=False, sample_weight=None):
    """Mean Levenshtein distance between predicted and reference sequences.

    The Levenshtein distance of two sequences is the smallest number of
    token insertions, deletions and substitutions that turn one into the
    other. This is its mean over the sequences.

    Parameters
    ----------
    y_true : list of str or list of array-like
        Reference sequences, each a string (read as characters) or a list or
        1-D array of tokens (integers or strings); a 2-D array holds one
        sequence per row.
    y_pred : list of str or list of array-like
        Predicted sequences, one per reference, in the same forms; lengths
        may differ from the references'.
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

    Raises
    ------
    ValueError
        If ``y_true`` and ``y_pred`` hold different numbers of sequences, no
        sequence, an element that is not a sequence, or one side string
        tokens and the other numbers; with ``normalize=True``, if a
        reference is empty.

    See Also
    --------
    error_rate : Total edits over total reference length (CER, WER).
    sequence_accuracy : Fraction of sequences at distance 0.

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
    codes, true_offsets, pred_offsets = _encode_token_pairs(y_true, y_pred)
    n_sequences = len(true_offsets) - 1
    sample_weight = _check_nonnegative_weight(sample_weight, n_sequences)
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
def error_rate(y_true, y_pred, *, sample_weight=None):
    """Total edit distance divided by the total length of the references.

    On characters this is the character error rate (CER); on words, the
    word error rate (WER): pass word lists, ``[s.split() for s in texts]``.
    It can exceed 1 when predictions are longer than their references.

    Parameters
    ----------
    y_true : list of str or list of array-like
        Reference sequences, each a string (read as characters) or a list or
        1-D array of tokens (integers or strings); a 2-D array holds one
        sequence per row.
    y_pred : list of str or list of array-like
        Predicted sequences, one per reference, in the same forms; lengths
        may differ from the references'.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, applied to both its edits and its
        reference length (an integer weight counts as that many copies).

    Returns
    -------
    rate : float
        ``sum(w_i * distance_i) / sum(w_i * len(y_true[i]))``. Lower is
        better.

    Raises
    ------
    ValueError
        If ``y_true`` and ``y_pred`` hold different numbers of sequences, no
        sequence, an element that is not a sequence, or one side string
        tokens and the other numbers; or if the references hold no token.

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
    codes, true_offsets, pred_offsets = _encode_token_pairs(y_true, y_pred)
    n_sequences = len(true_offsets) - 1
    sample_weight = _check_nonnegative_weight(sample_weight, n_sequences)
    if sample_weight is None:
        sample_weight = np.ones(n_sequences)
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

    Raises
    ------
    ValueError
        If ``y_true`` and ``y_pred`` hold different numbers of sequences, no
        sequence, an element that is not a sequence, or one side string
        tokens and the other numbers.

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
    codes, true_offsets, pred_offsets = _encode_token_pairs(y_true, y_pred)
    n_sequences = len(true_offsets) - 1
    sample_weight = _check_nonnegative_weight(sample_weight, n_sequences)
    if sample_weight is None:
        sample_weight = np.ones(n_sequences)
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
