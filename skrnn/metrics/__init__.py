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

- :func:`exact_match_score` is the fraction of sequences that are exactly
  right (same length, same tokens); its old name ``sequence_accuracy`` is
  deprecated (it read too much like :func:`sequence_accuracy_score`, the
  tagging form, which refuses sequences of different lengths);
- :func:`edit_distance` is the mean Levenshtein distance per sequence;
- :func:`error_rate` is the total number of edits over the total reference
  length: the character (CER) or word (WER) error rate;
- :func:`bleu_score` is corpus BLEU with one reference per sequence.

All of them work with :func:`sklearn.metrics.make_scorer`, and so with
:class:`~sklearn.model_selection.GridSearchCV` over ragged lists of sequences.
"""

import warnings

from ._flat import (
    flat_accuracy_score,
    flat_classification_report,
    flat_f1_score,
    flat_precision_score,
    flat_recall_score,
    sequence_accuracy_score,
)
from ._seq2seq import bleu_score, edit_distance, error_rate, exact_match_score
from ._spans import get_entities, span_f1_score, span_precision_score, span_recall_score

__all__ = [
    "bleu_score",
    "edit_distance",
    "error_rate",
    "exact_match_score",
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


def sequence_accuracy(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Deprecated name of :func:`exact_match_score`.

    .. deprecated:: 0.2
        ``sequence_accuracy`` was renamed :func:`exact_match_score` in 0.2
        and will be removed in 0.3.

    Parameters
    ----------
    y_true : array-like of sequences
        Reference sequences.
    y_pred : array-like of sequences
        Predicted sequences.
    normalize : bool, default=True
        Return the fraction of exact matches; False returns their (weighted)
        number.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence.

    Returns
    -------
    score : float
        What :func:`exact_match_score` returns.
    """
    warnings.warn(
        "sequence_accuracy was renamed exact_match_score in skrnn 0.2 and will be "
        "removed in 0.3; call skrnn.metrics.exact_match_score instead.",
        FutureWarning,
        stacklevel=2,
    )
    return exact_match_score(
        y_true, y_pred, normalize=normalize, sample_weight=sample_weight
    )
