"""Connectionist temporal classification (CTC): loss, gradient, decoding, alignment.

A CTC network emits, at every frame, scores over ``K = n_labels + 1``
outputs: the labels ``0 .. n_labels - 1`` and the blank, which comes last
(index ``K - 1``). A frame-level path collapses to a labelling by merging
repeated outputs and then dropping blanks; the probability of a labelling is
the sum over the paths that collapse to it (Graves et al., 2006).

Layout at the kernels' interface: scores ``logits`` of shape ``(T_max, B, K)``,
time-major, frame ``t`` of sequence ``b`` at ``logits[t, b]`` for
``t < input_lengths[b]`` (the entries beyond are never read). This is one
chunk ``Z[c]`` of the per-step head of :class:`skrnn._network.RecurrentNetwork`
and the layout of PyTorch's ``CTCLoss``. The scores are logits: every kernel
normalises each frame by a log-softmax in float64, so log-probabilities
(already normalised) give the same results. Targets are concatenated:
sequence ``b``'s labels are
``targets[target_starts[b] : target_starts[b] + target_lengths[b]]``.

All sums run in float64 in log space, so that sequences of tens of thousands
of frames neither underflow nor lose precision. The dynamic programmes run
over the extended label sequence ``l'`` of ``S = 2 L + 1`` states, the
labels with a blank before, between and after them (even states are
blanks, state ``2 i + 1`` is label ``i``); a path moves from state ``s`` to
``s``, ``s + 1``, or ``s + 2`` when ``l'[s + 2]`` is a label different from
``l'[s]`` (a blank must separate repeated labels). Rows of states are kept
with two padding entries of ``-inf`` on either side (state ``s`` at index
``s + 2``), so that the loops over states need no tests at the ends and LLVM
vectorises them. Only the states from which the last state can still be
reached in time, and that can have been reached from the first frame, are
visited (a band of at most ``2 T`` states per frame).

The kernels are single-threaded and release the GIL; the Python wrappers in
:mod:`skrnn._ctc` split a batch into ranges of sequences run on threads.
"""

import numpy as np
from numba import njit

from ._config import JIT_OPTIONS
from ._math import fast_exp

NEG_INF = -np.inf
# States of padding on either side of a row of the dynamic programmes.
PAD = 2


@njit(**JIT_OPTIONS)
def _log_softmax_frames(logits, b, T, logp):
    """``logp[t] = log_softmax(logits[t, b])`` for ``t < T``, in float64.

    Parameters
    ----------
    logits : ndarray of shape (T_max, B, K)
        Scores (float32 or float64).
    b : int
        The sequence.
    T : int
        Its number of frames.
    logp : ndarray of shape (>= T, K), float64
        Output.
    """
    K = logits.shape[2]
    for t in range(T):
        row, dst = logits[t, b], logp[t]
        top = np.float64(row[0])
        for k in range(1, K):
            top = max(top, np.float64(row[k]))
        total = 0.0
        for k in range(K):
            shifted = np.float64(row[k]) - top
            dst[k] = shifted
            total += fast_exp(shifted)
        log_total = np.log(total)
        for k in range(K):
            dst[k] -= log_total


@njit(**JIT_OPTIONS)
def _extend_labels(targets, start, L, blank, ext, skip):
    """Extended label sequence and its skip transitions, padded.

    Parameters
    ----------
    targets : ndarray of shape (n_labels_total,), int64
        Concatenated targets.
    start, L : int
        Where the sequence's labels start and how many there are.
    blank : int
        The blank's index.
    ext : ndarray of shape (>= 2 L + 1 + 2 * PAD,), int64
        Output: ``ext[s + PAD]`` is the output of state ``s`` (padding gets
        the blank, so that gathers stay in bounds).
    skip : ndarray of shape (>= 2 L + 1 + 2 * PAD,), float64
        Output: ``skip[s + PAD]`` is 0 when a path may enter state ``s``
        from ``s - 2`` and ``-inf`` otherwise.

    Returns
    -------
    S : int
        Number of states, ``2 L + 1``.
    """
    S = 2 * L + 1
    for i in range(S + 2 * PAD):
        ext[i] = blank
        skip[i] = NEG_INF
    for i in range(L):
        s = 2 * i + 1
        ext[s + PAD] = targets[start + i]
        if i > 0 and targets[start + i] != targets[start + i - 1]:
            skip[s + PAD] = 0.0
    return S


@njit(**JIT_OPTIONS)
def _band(t, T, S):
    """States ``[lo, hi)`` of frame ``t`` that lie on some complete path."""
    lo = max(0, S - 2 * (T - t))
    hi = min(S, 2 * (t + 1))
    return lo, hi


@njit(**JIT_OPTIONS)
def _emissions(logp, T, ext, S, emit):
    """``emit[t, s + PAD] = logp[t, l'[s]]`` for every frame and state."""
    for t in range(T):
        src, dst = logp[t], emit[t]
        for i in range(S + 2 * PAD):
            dst[i] = src[ext[i]]


@njit(**JIT_OPTIONS)
def _fill(row, lo, hi, value):
    for i in range(lo, hi):
        row[i] = value


@njit(**JIT_OPTIONS)
def _log_add3(a, b, c):
    """``log(exp(a) + exp(b) + exp(c))``, ``-inf`` if all three are.

    Branch-free: when the maximum is ``-inf`` it is replaced by 0, so every
    exponential is ``exp(-inf) = 0`` and the result ``log(0) = -inf``.
    """
    m = max(a, max(b, c))
    m = 0.0 if m == NEG_INF else m
    return m + np.log(fast_exp(a - m) + fast_exp(b - m) + fast_exp(c - m))


@njit(**JIT_OPTIONS)
def _ctc_forward(emit, T, S, skip, alpha):
    """Forward variables ``alpha[t, s + PAD] = log P(l'[:s+1], frames 0..t)``.

    Entries outside the band of each frame (and the padding) are ``-inf``.

    Returns
    -------
    log_likelihood : float
        ``log P(l | x)``, summed over the two final states.
    """
    width = S + 2 * PAD
    _fill(alpha[0], 0, width, NEG_INF)
    alpha[0, PAD] = emit[0, PAD]
    if S > 1:
        alpha[0, PAD + 1] = emit[0, PAD + 1]
    for t in range(1, T):
        prev, cur, e = alpha[t - 1], alpha[t], emit[t]
        lo, hi = _band(t, T, S)
        _fill(cur, 0, lo + PAD, NEG_INF)
        _fill(cur, hi + PAD, width, NEG_INF)
        for i in range(lo + PAD, hi + PAD):
            cur[i] = _log_add3(prev[i], prev[i - 1], prev[i - 2] + skip[i]) + e[i]
    last = alpha[T - 1]
    return _log_add3(last[S - 1 + PAD], last[S - 2 + PAD], NEG_INF)


@njit(**JIT_OPTIONS)
def _frame_gradient(logp_t, alpha_t, beta_t, ext, lo, hi, log_likelihood, occ, out):
    """Gradient of ``-log P`` w.r.t. one frame's logits.

    ``softmax - occupation``: the occupation of output ``k`` is the posterior
    probability that the frame emits ``k``, the sum over the states ``s``
    with ``l'[s] = k`` of ``alpha_t(s) * beta_t(s) / P``.
    """
    K = occ.shape[0]
    for k in range(K):
        occ[k] = 0.0
    for i in range(lo + PAD, hi + PAD):
        occ[ext[i]] += fast_exp(alpha_t[i] + beta_t[i] - log_likelihood)
    for k in range(K):
        out[k] = fast_exp(logp_t[k]) - occ[k]


@njit(**JIT_OPTIONS)
def _ctc_backward(logp, emit, T, S, ext, skip, alpha, log_likelihood, work, grad, b):
    """Backward variables, frame by frame from the last, and the gradient.

    ``beta_t(s) = log P(frames t+1..T-1 complete the labelling | state s at
    frame t)`` (the frame's own emission excluded), kept for two frames only.
    ``grad[t, b]`` receives the gradient of ``-log P`` w.r.t. ``logits[t, b]``.
    """
    width = S + 2 * PAD
    K = logp.shape[1]
    beta, beta_prev = work[0], work[1]
    scaled = work[2]
    occ = np.empty(K)
    out = np.empty(K)
    _fill(beta, 0, width, NEG_INF)
    beta[S - 1 + PAD] = 0.0
    if S > 1:
        beta[S - 2 + PAD] = 0.0
    for t in range(T - 1, -1, -1):
        lo, hi = _band(t, T, S)
        _frame_gradient(logp[t], alpha[t], beta, ext, lo, hi, log_likelihood, occ, out)
        dst = grad[t, b]
        for k in range(K):
            dst[k] = out[k]
        if t == 0:
            break
        # beta_{t-1}(s) from the states s, s+1, s+2 of frame t, each with
        # frame t's emission.
        e = emit[t]
        _fill(scaled, 0, width, NEG_INF)
        for i in range(lo + PAD, hi + PAD):
            scaled[i] = beta[i] + e[i]
        lo_prev, hi_prev = _band(t - 1, T, S)
        _fill(beta_prev, 0, width, NEG_INF)
        for i in range(lo_prev + PAD, hi_prev + PAD):
            beta_prev[i] = _log_add3(
                scaled[i], scaled[i + 1], scaled[i + 2] + skip[i + 2]
            )
        beta, beta_prev = beta_prev, beta


@njit(**JIT_OPTIONS)
def required_frames(targets, start, L):
    """Fewest frames that can emit a labelling: its length plus its repeats."""
    needed = L
    for i in range(1, L):
        if targets[start + i] == targets[start + i - 1]:
            needed += 1
    return needed


@njit(**JIT_OPTIONS)
def ctc_loss_range(
    logits, input_lengths, targets, target_starts, target_lengths,
    zero_infinity, b_start, b_stop, losses, grad,
):  # fmt: skip
    """CTC negative log-likelihood and its gradient for sequences ``b_start..b_stop-1``.

    Parameters
    ----------
    logits : ndarray of shape (T_max, B, K)
        Scores, float32 or float64; the blank is ``K - 1``.
    input_lengths : ndarray of shape (B,), int64
        Frames of each sequence, in ``[0, T_max]``.
    targets : ndarray of shape (n_labels_total,), int64
        Concatenated labels, each in ``[0, K - 1)``.
    target_starts, target_lengths : ndarray of shape (B,), int64
        Where each sequence's labels start in ``targets`` and how many.
    zero_infinity : bool
        Give the sequences whose likelihood is zero (too few frames for
        their labels, or scores of ``-inf``) a loss of 0 instead of ``inf``.
    b_start, b_stop : int
        The range of sequences to process.
    losses : ndarray of shape (B,), float64
        Output: ``-log P(target | logits)`` of each sequence in the range.
    grad : ndarray of shape (T_max, B, K)
        Output: the gradient of each loss w.r.t. the logits of its sequence,
        in the dtype of ``grad``. Frames beyond a sequence's length, and all
        frames of a sequence whose likelihood is zero, get zeros.

    Returns
    -------
    n_infinite : int
        Sequences in the range whose likelihood is zero.
    """
    T_max, _, K = logits.shape
    blank = K - 1
    # Buffers for the longest sequence of the range, made once.
    T_big, L_big = 1, 0
    for b in range(b_start, b_stop):
        T_big = max(T_big, input_lengths[b])
        L_big = max(L_big, target_lengths[b])
    width = 2 * L_big + 1 + 2 * PAD
    logp = np.empty((T_big, K))
    emit = np.empty((T_big, width))
    alpha = np.empty((T_big, width))
    work = np.empty((3, width))
    ext = np.empty(width, np.int64)
    skip = np.empty(width)
    n_infinite = 0
    for b in range(b_start, b_stop):
        T, L, start = input_lengths[b], target_lengths[b], target_starts[b]
        for t in range(T, T_max):
            grad[t, b] = 0.0
        if required_frames(targets, start, L) > T:
            log_likelihood = NEG_INF
        elif T == 0:
            log_likelihood = 0.0  # the empty labelling of the empty input
        else:
            _log_softmax_frames(logits, b, T, logp)
            S = _extend_labels(targets, start, L, blank, ext, skip)
            _emissions(logp, T, ext, S, emit)
            log_likelihood = _ctc_forward(emit, T, S, skip, alpha)
            if log_likelihood > NEG_INF:
                _ctc_backward(
                    logp, emit, T, S, ext, skip, alpha, log_likelihood, work, grad, b
                )
        if log_likelihood == NEG_INF:
            n_infinite += 1
            losses[b] = 0.0 if zero_infinity else np.inf
            for t in range(T):
                grad[t, b] = 0.0
        else:
            losses[b] = -log_likelihood
    return n_infinite


@njit(**JIT_OPTIONS)
def ctc_log_likelihood_range(
    logits, input_lengths, targets, target_starts, target_lengths, b_start, b_stop,
    out,
):  # fmt: skip
    """``out[b] = log P(target_b | logits_b)`` for ``b_start <= b < b_stop``.

    The forward pass of :func:`ctc_loss_range` alone; ``-inf`` for pairs
    whose likelihood is zero.
    """
    K = logits.shape[2]
    T_big, L_big = 1, 0
    for b in range(b_start, b_stop):
        T_big = max(T_big, input_lengths[b])
        L_big = max(L_big, target_lengths[b])
    width = 2 * L_big + 1 + 2 * PAD
    logp = np.empty((T_big, K))
    emit = np.empty((T_big, width))
    alpha = np.empty((T_big, width))
    ext = np.empty(width, np.int64)
    skip = np.empty(width)
    for b in range(b_start, b_stop):
        T, L, start = input_lengths[b], target_lengths[b], target_starts[b]
        if required_frames(targets, start, L) > T:
            out[b] = NEG_INF
        elif T == 0:
            out[b] = 0.0
        else:
            _log_softmax_frames(logits, b, T, logp)
            S = _extend_labels(targets, start, L, K - 1, ext, skip)
            _emissions(logp, T, ext, S, emit)
            out[b] = _ctc_forward(emit, T, S, skip, alpha)


@njit(**JIT_OPTIONS)
def ctc_greedy_range(logits, input_lengths, b_start, b_stop, labels, n_labels, scores):
    """Best-path decoding: the most probable output per frame, collapsed.

    Parameters
    ----------
    logits : ndarray of shape (T_max, B, K)
        Scores; the blank is ``K - 1``.
    input_lengths : ndarray of shape (B,), int64
        Frames of each sequence.
    b_start, b_stop : int
        The range of sequences to decode.
    labels : ndarray of shape (B, T_max), int64
        Output: ``labels[b, :n_labels[b]]`` is sequence ``b``'s labelling
        (repeats merged, blanks dropped).
    n_labels : ndarray of shape (B,), int64
        Output: length of each labelling.
    scores : ndarray of shape (B,), float64
        Output: log-probability of each best path (the sum of the frames'
        largest log-probabilities). Ties go to the lowest output index.
    """
    K = logits.shape[2]
    blank = K - 1
    for b in range(b_start, b_stop):
        n, previous, score = 0, blank, 0.0
        for t in range(input_lengths[b]):
            row = logits[t, b]
            best, top = 0, np.float64(row[0])
            for k in range(1, K):
                if np.float64(row[k]) > top:
                    best, top = k, np.float64(row[k])
            total = 0.0
            for k in range(K):
                total += fast_exp(np.float64(row[k]) - top)
            score -= np.log(total)
            if best != blank and best != previous:
                labels[b, n] = best
                n += 1
            previous = best
        n_labels[b] = n
        scores[b] = score


@njit(**JIT_OPTIONS)
def _log_add(a, b):
    """``log(exp(a) + exp(b))``, ``-inf`` if both are."""
    return _log_add3(a, b, NEG_INF)


@njit(**JIT_OPTIONS)
def _prefix_extensions(logp_t, blank, beam_node, pb, pnb, n_beam, label, parent,
                       position, child_of, c_from, c_label, c_pb, c_pnb):  # fmt: skip
    """Candidates of one frame of prefix beam search; returns their number.

    Candidate ``j < n_beam`` is beam prefix ``j`` itself (the frame emits a
    blank, or repeats the prefix's last label); the others are a beam prefix
    (``c_from``) extended by a label (``c_label``). An extension that is
    already a beam prefix adds its probability to that prefix's candidate
    instead of making a new one.
    """
    for j in range(n_beam):
        position[beam_node[j]] = j
    for j in range(n_beam):
        for c in range(blank):
            child_of[j, c] = -1
    for j in range(n_beam):
        node = beam_node[j]
        if parent[node] >= 0 and position[parent[node]] >= 0:
            child_of[position[parent[node]], label[node]] = j
    for j in range(n_beam):
        last = label[beam_node[j]]
        c_from[j], c_label[j] = j, -1
        c_pb[j] = _log_add(pb[j], pnb[j]) + logp_t[blank]
        c_pnb[j] = pnb[j] + logp_t[last] if last >= 0 else NEG_INF
    n = n_beam
    for i in range(n_beam):
        total = _log_add(pb[i], pnb[i])
        last = label[beam_node[i]]
        for c in range(blank):
            # After a label, the same label again needs a blank in between.
            v = (pb[i] if c == last else total) + logp_t[c]
            j = child_of[i, c]
            if j >= 0:
                c_pnb[j] = _log_add(c_pnb[j], v)
            else:
                c_from[n], c_label[n], c_pb[n], c_pnb[n] = i, c, NEG_INF, v
                n += 1
    for j in range(n_beam):
        position[beam_node[j]] = -1
    return n


@njit(**JIT_OPTIONS)
def ctc_beam_search_one(logits, b, T, beam_width, out):
    """CTC prefix beam search over the frames of one sequence.

    At every frame each prefix (labelling so far) in the beam carries two
    log-probabilities: of the paths that collapse to it and end in a blank,
    and of those that end in its last label (Graves, 2012, sec. 7.5; Hannun
    et al., 2014). Every prefix is extended by every label and by nothing;
    the ``beam_width`` most probable prefixes (by the sum of the two) are
    kept. Prefixes are nodes of a tree (parent and last label), so that a
    frame's work does not depend on the prefixes' lengths.

    With ``beam_width`` at least the number of distinct prefixes, nothing is
    pruned and the result is the most probable labelling. With
    ``beam_width=1`` the search keeps the single most probable prefix at
    every frame (summed over its paths), which is not always the best path's
    labelling.

    Parameters
    ----------
    logits : ndarray of shape (T_max, B, K)
        Scores; the blank is ``K - 1``.
    b, T : int
        The sequence and its number of frames.
    beam_width : int
        Prefixes kept, at least 1.
    out : ndarray of shape (>= T,), int64
        Output: the labelling in ``out[:n]``.

    Returns
    -------
    n : int
        Length of the most probable labelling found.
    score : float
        Its log-probability summed over the paths the search kept (the
        exact log-probability of the labelling when nothing was pruned).
    """
    K = logits.shape[2]
    blank = K - 1
    W = beam_width
    logp = np.empty((max(T, 1), K))
    _log_softmax_frames(logits, b, T, logp)
    max_nodes = 1 + W * T
    parent = np.empty(max_nodes, np.int64)
    label = np.empty(max_nodes, np.int64)
    position = np.full(max_nodes, -1, np.int64)
    parent[0], label[0] = -1, -1
    n_nodes = 1
    beam_node = np.zeros(W, np.int64)
    pb = np.zeros(W)
    pnb = np.full(W, NEG_INF)
    new_node = np.empty(W, np.int64)
    new_pb = np.empty(W)
    new_pnb = np.empty(W)
    n_beam = 1
    n_cand = W * K
    child_of = np.empty((W, max(blank, 1)), np.int64)
    c_from = np.empty(n_cand, np.int64)
    c_label = np.empty(n_cand, np.int64)
    c_pb = np.empty(n_cand)
    c_pnb = np.empty(n_cand)
    neg_score = np.empty(n_cand)
    for t in range(T):
        n = _prefix_extensions(
            logp[t], blank, beam_node, pb, pnb, n_beam, label, parent, position,
            child_of, c_from, c_label, c_pb, c_pnb,
        )  # fmt: skip
        for m in range(n):
            neg_score[m] = -_log_add(c_pb[m], c_pnb[m])
        # Stable: among equal scores the earlier candidate (a shorter
        # prefix, or a lower label) wins.
        order = np.argsort(neg_score[:n], kind="mergesort")
        kept = 0
        for r in range(min(W, n)):
            m = order[r]
            if kept > 0 and neg_score[m] == np.inf:
                break  # prefixes of probability zero are not kept
            if c_label[m] < 0:
                node = beam_node[c_from[m]]
            else:
                node = n_nodes
                parent[node], label[node] = beam_node[c_from[m]], c_label[m]
                n_nodes += 1
            new_node[kept], new_pb[kept], new_pnb[kept] = node, c_pb[m], c_pnb[m]
            kept += 1
        n_beam = kept
        beam_node, new_node = new_node, beam_node
        pb, new_pb = new_pb, pb
        pnb, new_pnb = new_pnb, pnb
    best, best_score = 0, NEG_INF
    for j in range(n_beam):
        score = _log_add(pb[j], pnb[j])
        if score > best_score or j == 0:
            best, best_score = j, score
    n = 0
    node = beam_node[best]
    while parent[node] >= 0:
        n += 1
        node = parent[node]
    node = beam_node[best]
    for i in range(n - 1, -1, -1):
        out[i] = label[node]
        node = parent[node]
    return n, best_score


@njit(**JIT_OPTIONS)
def ctc_beam_search_range(
    logits, input_lengths, beam_width, b_start, b_stop, labels, n_labels, scores
):
    """:func:`ctc_beam_search_one` for sequences ``b_start..b_stop-1``.

    ``labels[b, :n_labels[b]]`` receives each labelling, ``scores[b]`` its
    log-probability (see :func:`ctc_beam_search_one`).
    """
    for b in range(b_start, b_stop):
        n, score = ctc_beam_search_one(
            logits, b, input_lengths[b], beam_width, labels[b]
        )
        n_labels[b] = n
        scores[b] = score


@njit(**JIT_OPTIONS)
def _viterbi_forward(emit, T, S, skip, delta, back):
    """Best-path variables over the extended labels, with back-pointers.

    ``delta[t, s + PAD]`` is the log-probability of the best path through
    frames ``0..t`` ending in state ``s``; ``back[t, s]`` is how many states
    that path moved at frame ``t`` (0, 1 or 2). Ties go to the smaller move.
    """
    width = S + 2 * PAD
    _fill(delta[0], 0, width, NEG_INF)
    delta[0, PAD] = emit[0, PAD]
    if S > 1:
        delta[0, PAD + 1] = emit[0, PAD + 1]
    for t in range(1, T):
        prev, cur, e = delta[t - 1], delta[t], emit[t]
        lo, hi = _band(t, T, S)
        _fill(cur, 0, lo + PAD, NEG_INF)
        _fill(cur, hi + PAD, width, NEG_INF)
        for i in range(lo + PAD, hi + PAD):
            stay, step, jump = prev[i], prev[i - 1], prev[i - 2] + skip[i]
            move, best = 0, stay
            if step > best:
                move, best = 1, step
            if jump > best:
                move, best = 2, jump
            cur[i] = best + e[i]
            back[t, i - PAD] = move


@njit(**JIT_OPTIONS)
def ctc_align_range(
    logits, input_lengths, targets, target_starts, target_lengths, b_start, b_stop,
    states, scores,
):  # fmt: skip
    """Forced alignment: the most probable path that collapses to each target.

    Parameters
    ----------
    logits : ndarray of shape (T_max, B, K)
        Scores; the blank is ``K - 1``.
    input_lengths, targets, target_starts, target_lengths
        As for :func:`ctc_loss_range`.
    b_start, b_stop : int
        The range of sequences to align.
    states : ndarray of shape (T_max, B), int64
        Output: ``states[t, b]`` is the state of the extended label sequence
        at frame ``t`` (even: a blank; ``2 i + 1``: the target's label
        ``i``); -1 beyond the sequence's length and for sequences that have
        no path of non-zero probability.
    scores : ndarray of shape (B,), float64
        Output: the path's log-probability (``-inf`` when there is none).
    """
    T_max, _, K = logits.shape
    T_big, L_big = 1, 0
    for b in range(b_start, b_stop):
        T_big = max(T_big, input_lengths[b])
        L_big = max(L_big, target_lengths[b])
    width = 2 * L_big + 1 + 2 * PAD
    logp = np.empty((T_big, K))
    emit = np.empty((T_big, width))
    delta = np.empty((T_big, width))
    back = np.zeros((T_big, width), np.int8)
    ext = np.empty(width, np.int64)
    skip = np.empty(width)
    for b in range(b_start, b_stop):
        T, L, start = input_lengths[b], target_lengths[b], target_starts[b]
        for t in range(T_max):
            states[t, b] = -1
        if required_frames(targets, start, L) > T:
            scores[b] = NEG_INF
            continue
        if T == 0:
            scores[b] = 0.0
            continue
        _log_softmax_frames(logits, b, T, logp)
        S = _extend_labels(targets, start, L, K - 1, ext, skip)
        _emissions(logp, T, ext, S, emit)
        _viterbi_forward(emit, T, S, skip, delta, back)
        last = delta[T - 1]
        s = S - 1
        if S > 1 and last[S - 2 + PAD] > last[S - 1 + PAD]:
            s = S - 2
        score = last[s + PAD]
        scores[b] = score
        if score == NEG_INF:
            continue
        for t in range(T - 1, -1, -1):
            states[t, b] = s
            s -= back[t, s]
