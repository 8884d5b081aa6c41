"""Slow, obviously correct references for the CTC kernels.

One sequence at a time, in float64. ``log_probs`` is a ``(T, K)`` array of
per-frame log-probabilities; the blank is ``K - 1``. A path is a sequence of
``T`` outputs; it collapses to a labelling by merging repeated outputs, then
dropping blanks.

- :func:`brute_force_log_likelihood`, :func:`brute_force_best_labelling` and
  :func:`brute_force_alignment` enumerate all ``K**T`` paths (tiny ``T`` and
  ``K`` only).
- :func:`forward_likelihood` is the forward recursion of Graves et al. (2006)
  in probability space, written as in the paper.
"""

import itertools

import numpy as np

__all__ = [
    "brute_force_alignment",
    "brute_force_best_labelling",
    "brute_force_log_likelihood",
    "collapse",
    "forward_likelihood",
    "log_softmax",
]


def log_softmax(logits):
    """Row-wise log-softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def collapse(path, blank):
    """Merge repeated outputs, then drop blanks."""
    out = []
    previous = None
    for k in path:
        if k != previous and k != blank:
            out.append(k)
        previous = k
    return tuple(out)


def _paths(log_probs):
    """Every path with its log-probability."""
    T, K = log_probs.shape
    for path in itertools.product(range(K), repeat=T):
        yield path, sum(log_probs[t, k] for t, k in enumerate(path))


def brute_force_log_likelihood(log_probs, target):
    """``log`` of the summed probability of the paths collapsing to ``target``."""
    T, K = log_probs.shape
    target = tuple(int(k) for k in target)
    if T == 0:
        return 0.0 if not target else -np.inf
    total = 0.0
    for path, lp in _paths(log_probs):
        if collapse(path, K - 1) == target:
            total += np.exp(lp)
    return np.log(total) if total > 0 else -np.inf


def brute_force_best_labelling(log_probs):
    """The labelling of largest probability (summed over its paths) and its log."""
    T, K = log_probs.shape
    totals = {}
    for path, lp in _paths(log_probs):
        key = collapse(path, K - 1)
        totals[key] = totals.get(key, 0.0) + np.exp(lp)
    best = max(totals, key=totals.get)
    return best, np.log(totals[best]), totals


def brute_force_alignment(log_probs, target):
    """The most probable path collapsing to ``target`` and its log-probability.

    Returns ``(None, -inf)`` when no path collapses to the target.
    """
    T, K = log_probs.shape
    target = tuple(int(k) for k in target)
    best, best_lp = None, -np.inf
    for path, lp in _paths(log_probs):
        if collapse(path, K - 1) == target and lp > best_lp:
            best, best_lp = path, lp
    return best, best_lp


def forward_likelihood(probs, target):
    """``P(target | probs)`` by the forward recursion, in probability space.

    ``probs`` is ``(T, K)`` (rows summing to one). Only for short sequences:
    probabilities underflow after a few hundred frames.
    """
    T, K = probs.shape
    blank = K - 1
    ext = [blank]
    for k in target:
        ext += [int(k), blank]
    S = len(ext)
    if T == 0:
        return 1.0 if S == 1 else 0.0
    alpha = np.zeros((T, S))
    alpha[0, 0] = probs[0, blank]
    if S > 1:
        alpha[0, 1] = probs[0, ext[1]]
    for t in range(1, T):
        for s in range(S):
            a = alpha[t - 1, s]
            if s >= 1:
                a += alpha[t - 1, s - 1]
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                a += alpha[t - 1, s - 2]
            alpha[t, s] = a * probs[t, ext[s]]
    return alpha[T - 1, S - 1] + (alpha[T - 1, S - 2] if S > 1 else 0.0)
