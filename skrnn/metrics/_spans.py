"""Entity (span) metrics for the IOB1, IOB2 (BIO) and IOBES tagging schemes."""

import functools
import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

from .._compat import (
    StrOptions,
    validate_params,
)
from .._validation import _label_sequences
from ._common import _ZERO_DIVISION, _check_sequence_pair, _metric_from_template

# Prefixes each scheme writes before an entity type; "O" is outside.
_SCHEME_PREFIXES = {
    "IOB1": ("B", "I"),
    "IOB2": ("B", "I"),
    "IOBES": ("B", "I", "E", "S"),
}
_SCHEME_ALIASES = {"BIO": "IOB2"}


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


# The docstring of the three span scores, which differ only in what they
# divide (``_span_score`` computes them all).
_SPAN_SCORE_DOC = """{title} over entities, as conlleval computes it.

    An entity is correct only if its type, start and end all match a true
    entity in the same sequence (exact match, as conlleval scores); the
    score is ``{formula}``.

    Parameters
    ----------
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
        macro average.

    Returns
    -------
    {name} : float or ndarray of shape (n_types,)
        The entity-level score; one per type when ``average=None``.

    See Also
    --------
    flat_{name}_score : {title} over single steps.
    get_entities : How tags are read into entities.

    Examples
    --------
    >>> from skrnn.metrics import span_{name}_score
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    >>> y_pred = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "B-ORG"]]
    >>> span_{name}_score(y_true, y_pred)
    {micro}
    >>> span_{name}_score(y_true, y_pred, average=None)  # types LOC, ORG, PER
    {per_type}
    """

# Per span score: its title, and the ratio it computes.
_SPAN_SCORES = {
    "precision": ("Precision", "n_correct / n_predicted"),
    "recall": ("Recall", "n_correct / n_true"),
    "f1": ("F1 score", "2 * n_correct / (n_true + n_predicted)"),
}

_SPAN_CONSTRAINTS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "scheme": [StrOptions({"IOB1", "IOB2", "BIO", "IOBES"})],
    "average": [StrOptions({"micro", "macro"}), None],
    "zero_division": _ZERO_DIVISION,
}


def _span_metric(name, micro, per_type):
    """``span_<name>_score``: the entity-level precision, recall or F1 score.

    ``micro`` and ``per_type`` are what the examples of the docstring print.
    """
    title, formula = _SPAN_SCORES[name]

    def span_score(
        y_true, y_pred, *, scheme="IOB2", average="micro", zero_division="warn"
    ):
        return _span_score(y_true, y_pred, scheme, average, zero_division, name)

    span_score = _metric_from_template(
        span_score,
        f"span_{name}_score",
        _SPAN_SCORE_DOC,
        name=name,
        title=title,
        formula=formula,
        micro=micro,
        per_type=per_type,
    )
    return validate_params(_SPAN_CONSTRAINTS, prefer_skip_nested_validation=True)(
        span_score
    )


span_precision_score = _span_metric("precision", "0.5", "array([1. , 0.5, 0. ])")
span_recall_score = _span_metric("recall", "0.666...", "array([1., 1., 0.])")
span_f1_score = _span_metric("f1", "0.571...", "array([1. , 0.666..., 0. ])")
