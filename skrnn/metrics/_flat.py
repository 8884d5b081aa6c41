"""Per-step tagging metrics: flattened steps, and whole sequences right."""

import functools

import numpy as np
from sklearn import metrics
from sklearn.utils.multiclass import unique_labels

from .._compat import (
    validate_params,
)
from .._docstrings import insert_doc
from ._common import (
    _check_sequence_pair,
    _check_sequence_weight,
    _concatenate,
    _count_or_fraction,
    _exact_matches,
    _metric_from_template,
    _sequence_lengths,
)

# The parameters every metric here takes first (the placeholder in a
# docstring supplies the first line's indentation).
_LABEL_PAIR = """\
y_true : list of array-like or array-like of shape (n_sequences, n_steps)
        True labels, one 1-D label sequence per sequence.
    y_pred : list of array-like or array-like of shape (n_sequences, n_steps)
        Predicted labels, with the same lengths as ``y_true``."""


def _examples(function):
    """The start of the Examples section of ``function``'s docstring.

    Every example here scores the same tag sequences, so that the results
    of the metrics compare.
    """
    return f"""\
Examples
    --------
    >>> from skrnn.metrics import {function}
    >>> y_true = [["B", "I", "O"], ["O", "B"]]
    >>> y_pred = [["B", "I", "I"], ["O", "B"]]"""


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
@insert_doc(label_pair=_LABEL_PAIR, examples=_examples("flat_accuracy_score"))
def flat_accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Accuracy over the steps of all sequences.

    Parameters
    ----------
    {label_pair}
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

    {examples}
    >>> flat_accuracy_score(y_true, y_pred)
    0.8
    """
    return float(
        metrics.accuracy_score(
            y_true, y_pred, normalize=normalize, sample_weight=sample_weight
        )
    )


# The docstring of the flat precision, recall and F1 scores, which differ
# only in the scikit-learn metric they apply to the steps.
_FLAT_SCORE_DOC = """{title} over the steps of all sequences.

    Parameters
    ----------
    {label_pair}
    labels : array-like, default=None
        Labels to include, as in :func:`sklearn.metrics.{name}_score` (for
        instance every tag but ``"O"``).
    pos_label : int, float, bool or str, default=1
        The positive label when ``average="binary"``.
    average : {"micro", "macro", "weighted", "binary"} or None, \
            default="binary"
        How per-label scores are averaged, as in
        :func:`sklearn.metrics.{name}_score`. Tag sets with more than two
        labels need ``"micro"``, ``"macro"`` or ``"weighted"``.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its steps.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value returned when {undefined}.

    Returns
    -------
    {name} : float or ndarray of shape (n_labels,)
        {title} of the positive label, its average over the labels, or one
        per label when ``average=None``.

    See Also
    --------
    span_{name}_score : {title} over whole entities.
    sklearn.metrics.{name}_score : The metric applied to the flat steps.

    {examples}
    >>> flat_{name}_score(y_true, y_pred, average=None)  # labels B, I, O
    {per_label}
    >>> flat_{name}_score(y_true, y_pred, labels=["B", "I"], average="macro")
    {macro}
    """

# Per flat score: its title, and when it divides by zero.
_FLAT_SCORES = {
    "precision": ("Precision", "there is no predicted step of a label"),
    "recall": ("Recall", "there is no true step of a label"),
    "f1": ("F1 score", "a label has neither true nor predicted steps"),
}


def _flat_score(name, per_label, macro):
    """``flat_<name>_score``: ``sklearn.metrics.<name>_score`` over the steps.

    The precision, recall and F1 scores take the same options and share
    their documentation; ``per_label`` and ``macro`` are what the examples
    of the docstring print.
    """
    score = getattr(metrics, f"{name}_score")
    title, undefined = _FLAT_SCORES[name]

    def flat_score(
        y_true, y_pred, *, labels=None, pos_label=1, average="binary",
        sample_weight=None, zero_division="warn",
    ):  # fmt: skip
        return score(
            y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
            sample_weight=sample_weight, zero_division=zero_division,
        )  # fmt: skip

    flat_score = _metric_from_template(
        flat_score,
        f"flat_{name}_score",
        _FLAT_SCORE_DOC,
        label_pair=_LABEL_PAIR,
        examples=_examples(f"flat_{name}_score"),
        name=name,
        title=title,
        undefined=undefined,
        per_label=per_label,
        macro=macro,
    )
    return _flattens_steps(flat_score)


flat_precision_score = _flat_score("precision", "array([1. , 0.5, 1. ])", "0.75")
flat_recall_score = _flat_score("recall", "array([1. , 1. , 0.5])", "1.0")
flat_f1_score = _flat_score("f1", "array([1. , 0.666..., 0.666...])", "0.833...")


@_flattens_steps
@insert_doc(label_pair=_LABEL_PAIR, examples=_examples("flat_classification_report"))
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
    {label_pair}
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

    {examples}
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
@insert_doc(label_pair=_LABEL_PAIR, examples=_examples("sequence_accuracy_score"))
def sequence_accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Fraction of sequences whose every step is tagged right.

    The tagging form of :func:`exact_match_score`: both count a sequence as
    right only when every step is. A tagger gives one label per step, so
    here a predicted sequence of another length than its reference is an
    error (it points at a bug), where :func:`exact_match_score` counts it as
    a wrong sequence.

    Parameters
    ----------
    {label_pair}
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
    exact_match_score : Exact-match fraction for sequences of any lengths.

    {examples}
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
