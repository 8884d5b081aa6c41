"""Checks and helpers that the metric families share."""

from numbers import Real

import numpy as np
from sklearn.utils.validation import column_or_1d

from .._compat import Options, StrOptions
from .._docstrings import insert_doc
from .._validation import _label_sequences, _offsets

_ZERO_DIVISION = [Options(Real, {0.0, 1.0}), "nan", StrOptions({"warn"})]


def _metric_from_template(function, public_name, doc, /, **values):
    """Name ``function``, one of a family of metrics built alike, and document it.

    ``doc`` is the family's docstring; its ``{key}`` placeholders are
    replaced by ``values`` (with :func:`~skrnn._docstrings.insert_doc`).
    """
    function.__name__ = function.__qualname__ = public_name
    function.__doc__ = doc
    return insert_doc(**values)(function)


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


def _exact_matches(true_sequences, pred_sequences):
    """Whether each predicted sequence equals its reference, length included.

    The one implementation behind :func:`sequence_accuracy_score` and
    :func:`exact_match_score`.
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
