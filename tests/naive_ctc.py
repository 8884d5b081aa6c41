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
- :func:`log_forward_backward` is the paper's forward-backward in log space,
  with the gradient w.r.t. the logits (any length, any range of scores).
"""

import itertools

import numpy as np

__all__ = [
    "brute_force_alignment",
    "brute_force_best_labelling",
    "brute_force_log_likelihood",
    "collapse",
    "forward_likelihood",
    "log_forward_backward",
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


def log_forward_backward(logits, target):
    """Loss and gradient w.r.t. the logits by forward-backward in log space.

    The textbook recursions (Graves et al., 2006, eqs. 6-16) over the
    extended labels with ``np.logaddexp``, one frame at a time; ``logits``
    is ``(T, K)``. Returns ``(-log P, grad)``, ``(inf, zeros)`` when no path
    collapses to the target.
    """
    log_probs = log_softmax(logits)
    T, K = log_probs.shape
    blank = K - 1
    ext = [blank]
    for k in target:
        ext += [int(k), blank]
    ext = np.array(ext)
    S = len(ext)
    can_skip = np.zeros(S, bool)
    for s in range(2, S):
        can_skip[s] = ext[s] != blank and ext[s] != ext[s - 2]
    if T == 0:
        return (0.0 if S == 1 else np.inf), np.zeros((0, K))
    alpha = np.full((T, S), -np.inf)
    alpha[0, 0] = log_probs[0, blank]
    if S > 1:
        alpha[0, 1] = log_probs[0, ext[1]]
    for t in range(1, T):
        for s in range(S):
            terms = [alpha[t - 1, s]]
            if s >= 1:
                terms.append(alpha[t - 1, s - 1])
            if can_skip[s]:
                terms.append(alpha[t - 1, s - 2])
            alpha[t, s] = np.logaddexp.reduce(terms) + log_probs[t, ext[s]]
    # beta here includes the frame's own emission, as in the paper.
    beta = np.full((T, S), -np.inf)
    beta[T - 1, S - 1] = log_probs[T - 1, ext[S - 1]]
    if S > 1:
        beta[T - 1, S - 2] = log_probs[T - 1, ext[S - 2]]
    for t in range(T - 2, -1, -1):
        for s in range(S):
            terms = [beta[t + 1, s]]
            if s + 1 < S:
                terms.append(beta[t + 1, s + 1])
            if s + 2 < S and can_skip[s + 2]:
                terms.append(beta[t + 1, s + 2])
            beta[t, s] = np.logaddexp.reduce(terms) + log_probs[t, ext[s]]
    log_p = np.logaddexp.reduce(alpha[T - 1, S - 2 :])
    if log_p == -np.inf:
        return np.inf, np.zeros((T, K))
    grad = np.exp(log_probs)
    for t in range(T):
        for k in range(K):
            states = ext == k
            if states.any():
                # alpha * beta counts the frame's emission twice.
                lab = np.logaddexp.reduce(alpha[t, states] + beta[t, states])
                grad[t, k] -= np.exp(lab - log_probs[t, k] - log_p)
    return -log_p, grad
