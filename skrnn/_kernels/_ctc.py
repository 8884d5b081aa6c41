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

Everything runs in float64. The forward-backward recursions of the loss keep
each frame's row of variables relative to its largest entry, with the log of
the factor taken out kept aside (Rabiner's scaling): in probability space a
step is additions and products, with no exponential or logarithm per state.
A step whose inputs or results would leave the normal floats (a relative
probability below 1e-300, which loses precision and then underflows) is done
in log space instead, and its row stays there until its range allows the
return; so sequences of tens of thousands of frames, and scores of any
range, keep the precision of a log-space recursion at the cost of one only
where it is needed. Posteriors are normalised by each frame's own sum. The
decoders and the alignment work in log space throughout.

The dynamic programmes run over the extended label sequence ``l'`` of
``S = 2 L + 1`` states, the labels with a blank before, between and after
them (even states are blanks, state ``2 i + 1`` is label ``i``); a path
moves from state ``s`` to ``s``, ``s + 1``, or ``s + 2`` when ``l'[s + 2]``
is a label different from ``l'[s]`` (a blank must separate repeated labels).
Rows of states are kept with two padding entries on either side (state ``s``
at index ``s + 2``; zero, or ``-inf`` in log space), so that the loops over
states need no tests at the ends. Only the states that lie on some complete
path by their position are visited: reachable from the first frame and able
to reach the last state in time (a band of at most ``2 T`` states per
frame).

The kernels are single-threaded and release the GIL; the Python wrappers in
:mod:`skrnn._ctc` split a batch into ranges of sequences run on threads.
"""

import numpy as np
from numba import njit

from ._config import HELPER_OPTIONS, JIT_OPTIONS
from ._dense import _log_softmax_row
from ._math import fast_exp

NEG_INF = -np.inf
# States of padding on either side of a row of the dynamic programmes.
PAD = 2
# Probability-space steps keep every value a normal float: relative
# probabilities below exp(-RANGE) (1e-300) send a step to log space, and so
# does a product below TINY.
RANGE = 690.0
TINY = 1e-300
# Sums of posteriors of a frame below this are recomputed in log space.
TINY_SUM = 1e-280


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
    for t in range(T):
        _log_softmax_row(logits[t, b], logp[t])


@njit(**JIT_OPTIONS)
def _extend_labels(targets, start, L, blank, ext, skip, allow_skip):
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
    allow_skip : ndarray of shape (>= 2 L + 1 + 2 * PAD,), float64
        Output: ``exp(skip)``, 1 or 0.

    Returns
    -------
    S : int
        Number of states, ``2 L + 1``.
    """
    S = 2 * L + 1
    for i in range(S + 2 * PAD):
        ext[i] = blank
        skip[i] = NEG_INF
        allow_skip[i] = 0.0
    for i in range(L):
        s = 2 * i + 1
        ext[s + PAD] = targets[start + i]
        if i > 0 and targets[start + i] != targets[start + i - 1]:
            skip[s + PAD] = 0.0
            allow_skip[s + PAD] = 1.0
    return S


@njit(**JIT_OPTIONS)
def _band(t, T, S):
    """States ``[lo, hi)`` of frame ``t`` that lie on some complete path."""
    lo = max(0, S - 2 * (T - t))
    hi = min(S, 2 * (t + 1))
    return lo, hi


@njit(**JIT_OPTIONS)
def _frame_probabilities(logits, b, T, logp, probs, log_top, exact):
    """Log-softmax of each frame, and its probabilities relative to the top one.

    ``logp[t]`` is the log-softmax of ``logits[t, b]`` and ``probs[t, k] =
    exp(logp[t, k] - log_top[t])``, with ``log_top[t]`` the frame's largest
    log-probability. ``exact[t]`` is False when some output of non-zero
    probability is so much less probable than the top one that its relative
    probability is not a normal float (such a frame's steps run in log
    space).
    """
    K = logits.shape[2]
    for t in range(T):
        row, dst, rel = logits[t, b], logp[t], probs[t]
        top = np.float64(row[0])
        for k in range(1, K):
            top = max(top, np.float64(row[k]))
        total = 0.0
        ok = True
        for k in range(K):
            shifted = np.float64(row[k]) - top
            dst[k] = shifted
            e = fast_exp(shifted)
            rel[k] = e
            total += e
            ok &= (shifted >= -RANGE) | (shifted == NEG_INF)
        log_total = np.log(total)
        for k in range(K):
            dst[k] -= log_total
        log_top[t] = -log_total
        exact[t] = ok


@njit(**JIT_OPTIONS)
def _fill(row, lo, hi, value):
    for i in range(lo, hi):
        row[i] = value


@njit(**HELPER_OPTIONS)
def _fill_outside(row, lo, hi, width, value):
    """``value`` in every state of a row outside the band ``[lo, hi)``."""
    _fill(row, 0, lo + PAD, value)
    _fill(row, hi + PAD, width, value)


@njit(**HELPER_OPTIONS)
def _first_frame(logp, ext, S, width, row):
    """The log-space row of frame 0, ``log P(l'[:s+1], frame 0)``.

    A path starts in the first blank or in the first label (if any): their
    log-probabilities at frame 0, ``-inf`` elsewhere.
    """
    _fill(row, 0, width, NEG_INF)
    row[PAD] = logp[0, ext[PAD]]
    if S > 1:
        row[PAD + 1] = logp[0, ext[PAD + 1]]


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
def _normalise(row, lo, hi, width):
    """Scale a probability-space row so that its largest entry in the band is 1.

    Returns the log of the factor taken out (``-inf`` for a row of zeros).
    """
    top = 0.0
    for i in range(lo + PAD, hi + PAD):
        top = max(top, row[i])
    if top == 0.0:
        return NEG_INF
    inv = 1.0 / top
    for i in range(lo + PAD, hi + PAD):
        row[i] *= inv
    return np.log(top)


@njit(**JIT_OPTIONS)
def _to_probabilities(row, lo, hi, width):
    """Make a log-space row relative to its largest entry, in probabilities if it can.

    The largest entry in the band is subtracted; then, if every entry of the
    band is within ``RANGE`` of it (or ``-inf``), the row becomes
    probabilities (``exp``, zero outside the band). A row of ``-inf`` becomes
    a row of zeros.

    Returns
    -------
    top : float
        The largest entry (``-inf`` for a row of ``-inf``).
    in_log : bool
        Whether the row stayed in log space.
    """
    top = NEG_INF
    low = np.inf
    for i in range(lo + PAD, hi + PAD):
        v = row[i]
        top = max(top, v)
        low = min(low, v if v > NEG_INF else np.inf)
    if top == NEG_INF:
        _fill(row, 0, width, 0.0)
        return NEG_INF, False
    if low < top - RANGE:
        _fill_outside(row, lo, hi, width, NEG_INF)
        for i in range(lo + PAD, hi + PAD):
            row[i] -= top
        return top, True
    _fill_outside(row, lo, hi, width, 0.0)
    for i in range(lo + PAD, hi + PAD):
        row[i] = fast_exp(row[i] - top)
    return top, False


@njit(**JIT_OPTIONS)
def _as_log(row, in_log, lo, hi, width, out):
    """The log-space form of a row: itself, or ``log(row)`` written to ``out``."""
    if in_log:
        return row
    _fill(out, 0, width, NEG_INF)
    for i in range(lo + PAD, hi + PAD):
        out[i] = np.log(row[i])
    return out


@njit(**JIT_OPTIONS)
def _alpha_step_scaled(prev, cur, probs_t, ext, allow_skip, lo, hi, width):
    """One forward step in probability space; False if precision would be lost."""
    _fill_outside(cur, lo, hi, width, 0.0)
    lost = False
    for i in range(lo + PAD, hi + PAD):
        total = prev[i] + prev[i - 1] + allow_skip[i] * prev[i - 2]
        y = probs_t[ext[i]]
        v = total * y
        cur[i] = v
        lost |= (v < TINY) & (total > 0.0) & (y > 0.0)
    return not lost


@njit(**JIT_OPTIONS)
def _alpha_step_log(prev, cur, logp_t, ext, skip, lo, hi, width):
    """One forward step in log space (exact over any range)."""
    _fill_outside(cur, lo, hi, width, NEG_INF)
    for i in range(lo + PAD, hi + PAD):
        cur[i] = _log_add3(prev[i], prev[i - 1], prev[i - 2] + skip[i]) + logp_t[ext[i]]


@njit(**JIT_OPTIONS)
def _ctc_forward(logp, probs, log_top, exact, T, S, ext, skip, allow_skip,
                 alpha, shift, in_log, scratch):  # fmt: skip
    """Forward variables of every frame; returns ``log P(labels | frames)``.

    Row ``alpha[t]`` holds the forward variables of frame ``t``, ``log
    P(l'[:s+1], frames 0..t)``, in one of two forms: probabilities relative
    to ``exp(shift[t])`` (``in_log[t]`` False; zero outside the band), or
    their logs minus ``shift[t]`` (``in_log[t]`` True; ``-inf`` outside the
    band). A step runs
    in probability space (additions and products only) when its inputs and
    results are all normal floats, which keeps every value to the precision
    of the log-space recursion, and in log space otherwise; a row returns to
    probability space as soon as its range allows.
    """
    width = S + 2 * PAD
    row = alpha[0]
    _first_frame(logp, ext, S, width, row)
    lo, hi = _band(0, T, S)
    top, in_log[0] = _to_probabilities(row, lo, hi, width)
    if top == NEG_INF:
        return NEG_INF
    shift[0] = top
    for t in range(1, T):
        prev, cur = alpha[t - 1], alpha[t]
        lo, hi = _band(t, T, S)
        scaled = False
        if not in_log[t - 1] and exact[t]:
            scaled = _alpha_step_scaled(
                prev, cur, probs[t], ext, allow_skip, lo, hi, width
            )
        if scaled:
            log_scale = _normalise(cur, lo, hi, width)
            if log_scale == NEG_INF:
                return NEG_INF
            in_log[t], shift[t] = False, shift[t - 1] + log_scale + log_top[t]
        else:
            lo_prev, hi_prev = _band(t - 1, T, S)
            prev_log = _as_log(prev, in_log[t - 1], lo_prev, hi_prev, width, scratch)
            _alpha_step_log(prev_log, cur, logp[t], ext, skip, lo, hi, width)
            top, in_log[t] = _to_probabilities(cur, lo, hi, width)
            if top == NEG_INF:
                return NEG_INF
            shift[t] = shift[t - 1] + top
    last = alpha[T - 1]
    if in_log[T - 1]:
        log_end = _log_add3(last[S - 1 + PAD], last[S - 2 + PAD], NEG_INF)
    else:
        log_end = np.log(last[S - 1 + PAD] + last[S - 2 + PAD])
    return log_end + shift[T - 1]


@njit(**JIT_OPTIONS)
def _beta_step_scaled(cur, prev, probs_t, ext, allow_skip, lo, hi, lo_prev, hi_prev,
                      width, emitted):  # fmt: skip
    """One backward step in probability space; False if precision would be lost.

    ``cur`` holds frame ``t``'s backward variables, ``prev`` receives frame
    ``t - 1``'s; ``emitted`` is a scratch row.
    """
    _fill(emitted, 0, width, 0.0)
    lost = False
    for i in range(lo + PAD, hi + PAD):
        y = probs_t[ext[i]]
        v = cur[i] * y
        emitted[i] = v
        lost |= (v < TINY) & (cur[i] > 0.0) & (y > 0.0)
    if lost:
        return False
    _fill(prev, 0, width, 0.0)
    for i in range(lo_prev + PAD, hi_prev + PAD):
        prev[i] = emitted[i] + emitted[i + 1] + allow_skip[i + 2] * emitted[i + 2]
    return True


@njit(**JIT_OPTIONS)
def _beta_step_log(cur, prev, logp_t, ext, skip, lo, hi, lo_prev, hi_prev, width,
                   emitted):  # fmt: skip
    """One backward step in log space (``cur`` in log space)."""
    _fill(emitted, 0, width, NEG_INF)
    for i in range(lo + PAD, hi + PAD):
        emitted[i] = cur[i] + logp_t[ext[i]]
    _fill(prev, 0, width, NEG_INF)
    for i in range(lo_prev + PAD, hi_prev + PAD):
        prev[i] = _log_add3(emitted[i], emitted[i + 1], emitted[i + 2] + skip[i + 2])


@njit(**JIT_OPTIONS)
def _frame_occupation(alpha_t, log_a, beta_t, log_b, ext, lo, hi, width, scratch,
                      occ):  # fmt: skip
    """Posterior probability of each output at one frame, into ``occ``.

    The posterior of state ``s`` is ``alpha_t(s) beta_t(s) / P``; the states
    of a frame partition the paths, so with both rows in probability space
    the products are normalised by their sum (no exponential needed).
    """
    for k in range(occ.shape[0]):
        occ[k] = 0.0
    if not log_a and not log_b:
        total = 0.0
        for i in range(lo + PAD, hi + PAD):
            g = alpha_t[i] * beta_t[i]
            scratch[i] = g
            total += g
        if total > TINY_SUM:
            inv = 1.0 / total
            for i in range(lo + PAD, hi + PAD):
                occ[ext[i]] += scratch[i] * inv
            return
    # In log space, normalised by the frame's own sum (which equals the
    # likelihood): rows are relative to their frame's shift, common to all
    # states, so values stay near 0 and keep their precision.
    top = NEG_INF
    for i in range(lo + PAD, hi + PAD):
        a = alpha_t[i] if log_a else np.log(alpha_t[i])
        b = beta_t[i] if log_b else np.log(beta_t[i])
        scratch[i] = a + b
        top = max(top, a + b)
    if top == NEG_INF:
        return
    total = 0.0
    for i in range(lo + PAD, hi + PAD):
        total += fast_exp(scratch[i] - top)
    log_total = top + np.log(total)
    for i in range(lo + PAD, hi + PAD):
        occ[ext[i]] += fast_exp(scratch[i] - log_total)


@njit(**JIT_OPTIONS)
def _ctc_backward(logp, probs, log_top, exact, T, S, ext, skip, allow_skip, alpha,
                  in_log, work, grad, b):  # fmt: skip
    """Backward variables, frame by frame from the last, and the gradient.

    ``beta_t(s) = log P(frames t+1..T-1 complete the labelling | state s at
    frame t)`` (the frame's own emission excluded), kept for two frames only
    and in either form, as in :func:`_ctc_forward`. ``grad[t, b]`` receives
    the gradient of ``-log P`` w.r.t. ``logits[t, b]``: the frame's softmax
    minus the posterior probability of each output.
    """
    width = S + 2 * PAD
    K = logp.shape[1]
    beta, beta_prev, emitted, scratch = work[0], work[1], work[2], work[3]
    occ = np.empty(K)
    _fill(beta, 0, width, 0.0)
    beta[S - 1 + PAD] = 1.0
    if S > 1:
        beta[S - 2 + PAD] = 1.0
    beta_log = False
    for t in range(T - 1, -1, -1):
        lo, hi = _band(t, T, S)
        _frame_occupation(
            alpha[t], in_log[t], beta, beta_log, ext, lo, hi, width, scratch, occ
        )
        # The softmax is the relative probabilities times the top one.
        dst, rel = grad[t, b], probs[t]
        p_top = fast_exp(log_top[t])
        for k in range(K):
            dst[k] = rel[k] * p_top - occ[k]
        if t == 0:
            break
        lo_prev, hi_prev = _band(t - 1, T, S)
        scaled = False
        if not beta_log and exact[t]:
            scaled = _beta_step_scaled(
                beta, beta_prev, probs[t], ext, allow_skip, lo, hi, lo_prev,
                hi_prev, width, emitted,
            )  # fmt: skip
        if scaled:
            # Only ratios within a frame matter: the scale is not kept.
            _normalise(beta_prev, lo_prev, hi_prev, width)
            beta_log = False
        else:
            cur = _as_log(beta, beta_log, lo, hi, width, scratch)
            _beta_step_log(
                cur, beta_prev, logp[t], ext, skip, lo, hi, lo_prev, hi_prev, width,
                emitted,
            )  # fmt: skip
            _, beta_log = _to_probabilities(beta_prev, lo_prev, hi_prev, width)
        beta, beta_prev = beta_prev, beta


@njit(**JIT_OPTIONS)
def required_frames(targets, start, L):
    """Fewest frames that can emit a labelling: its length plus its repeats."""
    needed = L
    for i in range(1, L):
        if targets[start + i] == targets[start + i - 1]:
            needed += 1
    return needed


@njit(**HELPER_OPTIONS)
def _longest(input_lengths, target_lengths, b_start, b_stop):
    """Frames and padded row width that the longest sequences of a range need.

    Returns
    -------
    T_big : int
        The most frames (at least 1, so that buffers are never empty).
    width : int
        ``2 * L + 1 + 2 * PAD`` for the most labels ``L``.
    """
    T_big, L_big = 1, 0
    for b in range(b_start, b_stop):
        T_big = max(T_big, input_lengths[b])
        L_big = max(L_big, target_lengths[b])
    return T_big, 2 * L_big + 1 + 2 * PAD


@njit(**JIT_OPTIONS)
def _buffers(input_lengths, target_lengths, b_start, b_stop, K):
    """Buffers for the longest sequence of a range, made once per range."""
    T_big, width = _longest(input_lengths, target_lengths, b_start, b_stop)
    logp = np.empty((T_big, K))
    probs = np.empty((T_big, K))
    log_top = np.empty(T_big)
    exact = np.empty(T_big, np.bool_)
    alpha = np.empty((T_big, width))
    shift = np.empty(T_big)
    in_log = np.empty(T_big, np.bool_)
    rows = np.empty((4, width))
    ext = np.empty(width, np.int64)
    skip = np.empty(width)
    allow_skip = np.empty(width)
    return (
        logp, probs, log_top, exact, alpha, shift, in_log, rows, ext, skip,
        allow_skip,
    )  # fmt: skip


@njit(**JIT_OPTIONS)
def _sequence_forward(logits, b, T, targets, start, L, buffers):
    """Log-likelihood of one feasible pair with ``T >= 1``; fills the buffers."""
    logp, probs, log_top, exact, alpha, shift, in_log, rows, ext, skip, allow = buffers
    K = logits.shape[2]
    _frame_probabilities(logits, b, T, logp, probs, log_top, exact)
    S = _extend_labels(targets, start, L, K - 1, ext, skip, allow)
    return _ctc_forward(
        logp, probs, log_top, exact, T, S, ext, skip, allow, alpha, shift, in_log,
        rows[0],
    )  # fmt: skip


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
    buffers = _buffers(input_lengths, target_lengths, b_start, b_stop, K)
    logp, probs, log_top, exact, alpha, shift, in_log, rows, ext, skip, allow = buffers
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
            log_likelihood = _sequence_forward(logits, b, T, targets, start, L, buffers)
            if log_likelihood > NEG_INF:
                _ctc_backward(
                    logp, probs, log_top, exact, T, 2 * L + 1, ext, skip, allow,
                    alpha, in_log, rows, grad, b,
                )  # fmt: skip
        if log_likelihood == NEG_INF:
            n_infinite += 1
            losses[b] = 0.0 if zero_infinity else np.inf
            for t in range(T):
                grad[t, b] = 0.0
        else:
            # 0 rather than -0 for a labelling of probability 1.
            losses[b] = -log_likelihood if log_likelihood < 0.0 else 0.0
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
    buffers = _buffers(input_lengths, target_lengths, b_start, b_stop, K)
    for b in range(b_start, b_stop):
        T, L, start = input_lengths[b], target_lengths[b], target_starts[b]
        if required_frames(targets, start, L) > T:
            out[b] = NEG_INF
        elif T == 0:
            out[b] = 0.0
        else:
            out[b] = _sequence_forward(logits, b, T, targets, start, L, buffers)


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
def _top_candidates(score, n, W, order):
    """The (at most) ``W`` best of ``score[:n]``, best first, into ``order``.

    Insertion into a short sorted list: once it is full, most candidates
    are turned away by one comparison. Among equal scores the earlier
    candidate comes first (a beam prefix before an extension, a lower
    label before a higher one). Candidates of probability zero are left
    out, unless all are (then the first is kept).

    Returns
    -------
    kept : int
    """
    kept = 0
    for m in range(n):
        s = score[m]
        if s == NEG_INF or (kept == W and s <= score[order[W - 1]]):
            continue
        j = kept if kept < W else W - 1
        while j > 0 and score[order[j - 1]] < s:
            order[j] = order[j - 1]
            j -= 1
        order[j] = m
        kept = min(kept + 1, W)
    if kept == 0:
        order[0] = 0
        kept = 1
    return kept


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
    score = np.empty(n_cand)
    order = np.empty(W, np.int64)
    for t in range(T):
        n = _prefix_extensions(
            logp[t], blank, beam_node, pb, pnb, n_beam, label, parent, position,
            child_of, c_from, c_label, c_pb, c_pnb,
        )  # fmt: skip
        for m in range(n):
            # New prefixes have no paths ending in a blank yet.
            pb_m, pnb_m = c_pb[m], c_pnb[m]
            score[m] = pnb_m if pb_m == NEG_INF else _log_add(pb_m, pnb_m)
        kept = _top_candidates(score, n, W, order)
        for r in range(kept):
            m = order[r]
            if c_label[m] < 0:
                node = beam_node[c_from[m]]
            else:
                node = n_nodes
                parent[node], label[node] = beam_node[c_from[m]], c_label[m]
                n_nodes += 1
            new_node[r], new_pb[r], new_pnb[r] = node, c_pb[m], c_pnb[m]
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
def _viterbi_forward(logp, T, S, ext, skip, rows, back):
    """Best-path variables over the extended labels, with back-pointers.

    The best path through frames ``0..t`` ending in state ``s`` has
    log-probability ``delta_t(s)``; ``back[t, s]`` is how many states it
    moved at frame ``t`` (0, 1 or 2; ties go to the smaller move). Two rows
    of ``delta`` are kept; returns the last frame's.
    """
    width = S + 2 * PAD
    cur = rows[0]
    _first_frame(logp, ext, S, width, cur)
    prev = rows[1]
    for t in range(1, T):
        prev, cur = cur, prev
        e = logp[t]
        lo, hi = _band(t, T, S)
        _fill_outside(cur, lo, hi, width, NEG_INF)
        for i in range(lo + PAD, hi + PAD):
            stay, step, jump = prev[i], prev[i - 1], prev[i - 2] + skip[i]
            move, best = 0, stay
            if step > best:
                move, best = 1, step
            if jump > best:
                move, best = 2, jump
            cur[i] = best + e[ext[i]]
            back[t, i - PAD] = move
    return cur


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
    T_big, width = _longest(input_lengths, target_lengths, b_start, b_stop)
    logp = np.empty((T_big, K))
    rows = np.empty((2, width))
    back = np.zeros((T_big, width), np.int8)
    ext = np.empty(width, np.int64)
    skip = np.empty(width)
    allow = np.empty(width)
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
        S = _extend_labels(targets, start, L, K - 1, ext, skip, allow)
        last = _viterbi_forward(logp, T, S, ext, skip, rows, back)
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
