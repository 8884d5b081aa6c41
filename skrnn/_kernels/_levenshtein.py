"""Levenshtein distance of integer-coded sequence pairs (for skrnn.metrics)."""

import numpy as np
from numba import njit


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
