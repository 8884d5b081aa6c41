"""Connectionist temporal classification on batches of ragged sequences.

Checked entry points to the kernels of :mod:`skrnn._kernels._ctc`: the CTC
loss and its gradient (:func:`ctc_loss`), the log-likelihood alone
(:func:`ctc_log_likelihood`), best-path decoding (:func:`ctc_greedy_decode`),
prefix beam search (:func:`ctc_beam_search`) and forced alignment
(:func:`ctc_align`), plus the feasibility check that an estimator runs on its
training pairs (:func:`infeasible_pairs`, :func:`check_feasible`).

Conventions (PyTorch's ``CTCLoss`` with ``blank=K - 1``):

- ``logits`` is ``(T_max, B, K)``, time-major, float32 or float64: frame
  ``t`` of sequence ``b`` is ``logits[t, b]`` for ``t < input_lengths[b]``;
  entries beyond are never read. ``K = n_labels + 1``: the labels are
  ``0 .. K - 2`` and the blank is ``K - 1``, last. The scores are normalised
  by a log-softmax over each frame, so unnormalised logits and
  log-probabilities give the same results, and gradients are with respect to
  the array passed in. ``-inf`` is allowed (an output of probability zero);
  NaN and ``+inf`` are not.
- targets come as a list of 1-D label sequences, as a 1-D array of
  concatenated labels with ``target_lengths``, or as a 2-D padded array
  ``(B, S_max)`` with ``target_lengths``. Empty targets are allowed.
- a pair is feasible when its input has at least as many frames as its
  target has labels plus adjacent repeats (a blank must separate two equal
  labels).

The batch is split into ranges of sequences run on the chunk threads of
:mod:`skrnn._runtime` (as many as :func:`numba.get_num_threads` allows, when
the work is large enough); each range writes its own sequences' results.
"""

import numbers

import numba
import numpy as np

from ._docstrings import insert_doc
from ._kernels._ctc import (
    ctc_align_range,
    ctc_beam_search_range,
    ctc_greedy_range,
    ctc_log_likelihood_range,
    ctc_loss_range,
)
from ._runtime._dispatch import run_chunks

__all__ = [
    "check_feasible",
    "ctc_align",
    "ctc_beam_search",
    "ctc_greedy_decode",
    "ctc_log_likelihood",
    "ctc_loss",
    "infeasible_pairs",
    "required_steps",
]

# Dynamic-programme cells (frames x states) of a range below which the batch
# is not split across threads: handing a range to another thread costs about
# as much as this many cells.
MIN_CELLS_PER_RANGE = 4000

# Parameter descriptions that several functions here share, the decoders'
# with their section's heading (inserted with ``insert_doc``; the placeholder
# supplies the first line's indentation).
_TARGET_PARAMETERS = """\
targets : list of array-like, or ndarray
        Label sequences (see :func:`ctc_loss`).
    target_lengths : array-like of shape (n_sequences,), default=None
        Needed when ``targets`` is an array."""

_DECODER_PARAMETERS = """\
Parameters
    ----------
    logits : ndarray of shape (n_frames, n_sequences, n_labels + 1)
        Per-frame scores, time-major; the blank is the last output.
    input_lengths : array-like of shape (n_sequences,), default=None
        Frames of each sequence; None means all ``n_frames``."""


def _check_logits(logits):
    """``logits`` as a C-contiguous 3-D float32 or float64 array."""
    if not isinstance(logits, np.ndarray) or logits.dtype.kind != "f":
        logits = np.asarray(logits)
        if logits.dtype.kind not in "fiu":
            raise ValueError(
                f"logits must be an array of floats, got dtype {logits.dtype}. "
                "Pass the per-frame scores as a float array."
            )
    if logits.dtype not in (np.float32, np.float64):
        logits = logits.astype(np.float64)
    if logits.ndim != 3:
        raise ValueError(
            f"logits must be 3-D (n_frames, n_sequences, n_labels + 1), got shape "
            f"{logits.shape}. For a single sequence use logits[:, None, :]."
        )
    if logits.shape[2] < 1:
        raise ValueError(
            "logits must have at least one output per frame (the blank, last), "
            f"got shape {logits.shape}."
        )
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError(
            "logits contain NaN or +inf; CTC needs finite scores (-inf is "
            "allowed for an output of probability zero). Check the network's "
            "outputs for divergence."
        )
    return np.ascontiguousarray(logits)


def _check_frames(logits, lengths):
    """Refuse a real frame whose outputs are all ``-inf`` (no distribution)."""
    zero = np.isneginf(logits)
    if not zero.any():
        return
    dead = zero.all(axis=2) & (np.arange(logits.shape[0])[:, None] < lengths)
    if dead.any():
        t, b = np.argwhere(dead)[0]
        raise ValueError(
            f"frame {t} of sequence {b} gives -inf to every output, which is no "
            "probability distribution. Check the network's outputs, or "
            "input_lengths if the frame is padding."
        )


def _as_int_array(values, name):
    array = np.asarray(values)
    if array.size == 0:
        return array.astype(np.int64).reshape(array.shape)
    if array.dtype.kind not in "iu":
        integral = array.dtype.kind == "f" and np.all(np.isfinite(array))
        if integral and np.all(array == np.round(array)):
            return array.astype(np.int64)
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}.")
    return array.astype(np.int64)


def _check_input_lengths(input_lengths, T_max, B):
    if input_lengths is None:
        return np.full(B, T_max, np.int64)
    lengths = _as_int_array(input_lengths, "input_lengths")
    if lengths.shape != (B,):
        raise ValueError(
            f"input_lengths must have one entry per sequence, shape ({B},), got "
            f"shape {lengths.shape}."
        )
    bad = np.flatnonzero((lengths < 0) | (lengths > T_max))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"input_lengths[{i}] is {int(lengths[i])}, outside [0, {T_max}] (the "
            "number of frames of logits). Give each sequence's number of real "
            "frames."
        )
    return lengths


def _targets_from_list(targets):
    sequences = []
    for i, seq in enumerate(targets):
        array = np.asarray(seq)
        if array.ndim != 1:
            raise ValueError(
                f"targets[{i}] must be a 1-D sequence of labels, got shape "
                f"{array.shape}."
            )
        sequences.append(_as_int_array(array, f"targets[{i}]"))
    lengths = np.array([len(s) for s in sequences], np.int64)
    flat = np.concatenate(sequences) if sequences else np.zeros(0, np.int64)
    return flat.astype(np.int64), lengths


def _split_targets(targets, target_lengths, B):
    """Concatenated labels, each sequence's start and length."""
    if target_lengths is None:
        flat_array = (
            isinstance(targets, np.ndarray)
            and targets.dtype != object
            and targets.ndim != 2
        )
        if flat_array or isinstance(targets, str) or not hasattr(targets, "__len__"):
            raise ValueError(
                "targets must be a list of 1-D label sequences, or an array with "
                f"target_lengths; got {type(targets).__name__} without "
                "target_lengths."
            )
        flat, lengths = _targets_from_list(targets)
    else:
        lengths = _as_int_array(target_lengths, "target_lengths")
        if lengths.shape != (B,):
            raise ValueError(
                f"target_lengths must have one entry per sequence, shape ({B},), "
                f"got shape {lengths.shape}."
            )
        if np.any(lengths < 0):
            raise ValueError(
                f"target_lengths must be non-negative, got {lengths.min()}."
            )
        array = _as_int_array(targets, "targets")
        if array.ndim == 2:
            if array.shape[0] != B or lengths.max(initial=0) > array.shape[1]:
                raise ValueError(
                    f"padded targets must have shape ({B}, >= {lengths.max()}), "
                    f"got {array.shape}."
                )
            flat = np.concatenate([array[b, : lengths[b]] for b in range(B)])
        elif array.ndim == 1:
            if array.size != lengths.sum():
                raise ValueError(
                    f"targets holds {array.size} labels but target_lengths sums "
                    f"to {int(lengths.sum())}; they must agree."
                )
            flat = array
        else:
            raise ValueError(
                f"targets must be 1-D (concatenated) or 2-D (padded), got shape "
                f"{array.shape}."
            )
    if len(lengths) != B:
        raise ValueError(
            f"targets has {len(lengths)} sequences but logits has {B}; they must agree."
        )
    starts = np.zeros(B, np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return np.ascontiguousarray(flat, dtype=np.int64), starts, lengths


def _check_labels(flat, starts, n_labels):
    bad = np.flatnonzero((flat < 0) | (flat >= n_labels))
    if bad.size:
        j = int(bad[0])
        b = int(np.searchsorted(starts, j, side="right") - 1)
        raise ValueError(
            f"targets of sequence {b} hold label {int(flat[j])}, outside "
            f"[0, {n_labels}): with {n_labels + 1} outputs per frame the labels "
            f"are 0 to {n_labels - 1} and the blank is {n_labels}, which a "
            "target must not contain."
        )


def _prepare(logits, targets, input_lengths, target_lengths):
    logits = _check_logits(logits)
    T_max, B, K = logits.shape
    lengths = _check_input_lengths(input_lengths, T_max, B)
    _check_frames(logits, lengths)
    flat, starts, t_lengths = _split_targets(targets, target_lengths, B)
    _check_labels(flat, starts, K - 1)
    return logits, lengths, flat, starts, t_lengths


def _ranges(work):
    """Split sequences into contiguous ranges of about equal work, one per thread."""
    total = float(np.sum(work))
    n_parts = int(
        max(1, min(numba.get_num_threads(), len(work), total // MIN_CELLS_PER_RANGE))
    )
    if n_parts == 1:
        return [(0, len(work))]
    cumulative = np.cumsum(work)
    cuts = np.searchsorted(cumulative, total * np.arange(1, n_parts) / n_parts)
    bounds = np.unique(np.concatenate([[0], cuts + 1, [len(work)]]).clip(0, len(work)))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _run(kernel, work):
    """``kernel(b_start, b_stop)`` over ranges of sequences, on threads."""
    ranges = _ranges(np.asarray(work, dtype=np.float64))
    run_chunks(lambda c: kernel(*ranges[c]), len(ranges))


@insert_doc(target_parameters=_TARGET_PARAMETERS)
def required_steps(targets, target_lengths=None):
    """Fewest frames each target needs: its labels plus its adjacent repeats.

    Parameters
    ----------
    {target_parameters}

    Returns
    -------
    steps : ndarray of shape (n_sequences,), int64
    """
    B = len(targets) if target_lengths is None else len(target_lengths)
    flat, starts, lengths = _split_targets(targets, target_lengths, B)
    repeats = np.zeros(B, np.int64)
    if flat.size > 1:
        same = flat[1:] == flat[:-1]
        # A repeat counts only inside one sequence, not across the boundary.
        same[starts[1:][lengths[1:] > 0] - 1] = False
        owner = np.searchsorted(starts, np.arange(1, flat.size), side="right") - 1
        np.add.at(repeats, owner[same], 1)
    return lengths + repeats


@insert_doc(target_parameters=_TARGET_PARAMETERS)
def infeasible_pairs(input_lengths, targets, target_lengths=None):
    """Sequences too short for their targets.

    Parameters
    ----------
    input_lengths : array-like of shape (n_sequences,)
        Frames of each input.
    {target_parameters}

    Returns
    -------
    pairs : list of tuple
        ``(index, steps, needed)`` for every sequence whose ``steps`` frames
        are fewer than the ``needed`` of its target, in index order.
    """
    needed = required_steps(targets, target_lengths)
    steps = _as_int_array(input_lengths, "input_lengths").reshape(-1)
    if steps.shape != needed.shape:
        raise ValueError(
            f"input_lengths has {steps.size} entries but there are {needed.size} "
            "targets; they must agree."
        )
    short = np.flatnonzero(steps < needed)
    return [(int(i), int(steps[i]), int(needed[i])) for i in short]


def check_feasible(input_lengths, targets, target_lengths=None, *, hint=None):
    """Raise a ValueError naming the first sequences too short for their targets.

    Parameters
    ----------
    input_lengths, targets, target_lengths
        As for :func:`infeasible_pairs`.
    hint : str, default=None
        What the caller can do about it, appended to the message (an
        estimator names its ``zero_infinity`` option here).

    Raises
    ------
    ValueError
        If any pair is infeasible.
    """
    pairs = infeasible_pairs(input_lengths, targets, target_lengths)
    if not pairs:
        return
    shown = "; ".join(
        f"sequence {i} has {steps} steps and needs {needed}"
        for i, steps, needed in pairs[:5]
    )
    more = f" (and {len(pairs) - 5} more)" if len(pairs) > 5 else ""
    message = (
        f"{len(pairs)} input sequence(s) are too short for their targets: {shown}"
        f"{more}. CTC needs one step per label plus one between repeated "
        "labels. Use longer inputs (a finer frame rate) or shorter targets"
    )
    raise ValueError(message + (f", or {hint}." if hint else "."))


def ctc_loss(logits, targets, input_lengths=None, target_lengths=None, *,
             zero_infinity=False):  # fmt: skip
    """CTC negative log-likelihood of each sequence and its gradient.

    Parameters
    ----------
    logits : ndarray of shape (n_frames, n_sequences, n_labels + 1)
        Per-frame scores, time-major, float32 or float64 (logits or
        log-probabilities); the blank is the last output.
    targets : list of array-like, or ndarray
        The label sequences: a list of 1-D sequences of labels in
        ``[0, n_labels)``, or a 1-D array of concatenated labels, or a 2-D
        padded array, the last two with ``target_lengths``.
    input_lengths : array-like of shape (n_sequences,), default=None
        Frames of each sequence; None means all ``n_frames``.
    target_lengths : array-like of shape (n_sequences,), default=None
        Labels of each target, needed when ``targets`` is an array.
    zero_infinity : bool, default=False
        Give the sequences of likelihood zero (inputs too short for their
        targets, see :func:`infeasible_pairs`) a loss of 0 instead of inf.
        Their gradient is zero either way.

    Returns
    -------
    losses : ndarray of shape (n_sequences,), float64
        ``-log P(target | logits)`` of each sequence, summed over all
        alignments.
    grad : ndarray of the shape and dtype of ``logits``
        The gradient of each sequence's loss w.r.t. its scores (zero beyond
        each sequence's length): the frame's softmax minus the posterior
        probability of each output at that frame.

    Notes
    -----
    Losses and gradients are PyTorch's ``CTCLoss(blank=n_labels,
    reduction='none')`` applied to ``log_softmax(logits)``, except for pairs
    of likelihood zero without ``zero_infinity``, whose gradient PyTorch
    gives as NaN and this function as zero. The forward variables of a
    sequence are kept for its backward pass: ``n_frames * (2 * L + 5)``
    floats for a target of ``L`` labels, per thread.
    """
    logits, lengths, flat, starts, t_lengths = _prepare(
        logits, targets, input_lengths, target_lengths
    )
    B = logits.shape[1]
    losses = np.empty(B)
    grad = np.empty_like(logits)
    zero_infinity = bool(zero_infinity)

    def run_range(lo, hi):
        ctc_loss_range(
            logits, lengths, flat, starts, t_lengths, zero_infinity, lo, hi,
            losses, grad,
        )  # fmt: skip

    _run(run_range, lengths * (2 * t_lengths + 1) + 1)
    return losses, grad


def ctc_log_likelihood(logits, targets, input_lengths=None, target_lengths=None):
    """``log P(target | logits)`` of each sequence, summed over alignments.

    Parameters are those of :func:`ctc_loss`. Returns an ndarray of shape
    ``(n_sequences,)``, float64, ``-inf`` for infeasible pairs.
    """
    logits, lengths, flat, starts, t_lengths = _prepare(
        logits, targets, input_lengths, target_lengths
    )
    out = np.empty(logits.shape[1])
    _run(
        lambda lo, hi: ctc_log_likelihood_range(
            logits, lengths, flat, starts, t_lengths, lo, hi, out
        ),
        lengths * (2 * t_lengths + 1) + 1,
    )
    return out


def _decode(logits, input_lengths, search):
    """Check a decoder's inputs, run its search, and split the labellings.

    ``search(logits, lengths, labels, n_labels, scores)`` writes, for each
    sequence ``b``, its labelling into ``labels[b, :n_labels[b]]`` and its
    log-probability into ``scores[b]``.
    """
    logits = _check_logits(logits)
    T_max, B, _ = logits.shape
    lengths = _check_input_lengths(input_lengths, T_max, B)
    _check_frames(logits, lengths)
    labels = np.empty((B, max(T_max, 1)), np.int64)
    n_labels = np.empty(B, np.int64)
    scores = np.empty(B)
    search(logits, lengths, labels, n_labels, scores)
    ragged = [labels[b, : n_labels[b]].copy() for b in range(B)]
    return ragged, scores


@insert_doc(decoder_parameters=_DECODER_PARAMETERS)
def ctc_greedy_decode(logits, input_lengths=None):
    """Best-path decoding: the most probable output of each frame, collapsed.

    {decoder_parameters}

    Returns
    -------
    labels : list of ndarray of int64
        Each sequence's labelling (repeats merged, then blanks dropped).
    scores : ndarray of shape (n_sequences,)
        The log-probability of each best path (not of its labelling, which
        sums over all its paths).
    """

    def search(logits, lengths, *out):
        ctc_greedy_range(logits, lengths, 0, len(lengths), *out)

    return _decode(logits, input_lengths, search)


@insert_doc(decoder_parameters=_DECODER_PARAMETERS)
def ctc_beam_search(logits, input_lengths=None, beam_width=10):
    """CTC prefix beam search: the most probable labelling of each sequence.

    {decoder_parameters}
    beam_width : int, default=10
        Prefixes kept at every frame. A beam at least as wide as the number
        of distinct labellings finds the most probable one exactly; a beam of
        1 keeps the most probable prefix (summed over its paths) at every
        frame, which may differ from :func:`ctc_greedy_decode`'s labelling.

    Returns
    -------
    labels : list of ndarray of int64
        The labelling of largest probability found for each sequence.
    scores : ndarray of shape (n_sequences,)
        Its log-probability over the paths the search kept (a lower bound of
        the labelling's log-probability; exact if nothing was pruned).

    Notes
    -----
    Graves (2012), *Supervised Sequence Labelling with Recurrent Neural
    Networks*, section 7.5; Hannun et al. (2014), arXiv:1408.2873.
    """
    if (
        not isinstance(beam_width, numbers.Integral)
        or isinstance(beam_width, bool)
        or beam_width < 1
    ):
        raise ValueError(
            f"beam_width must be an integer >= 1, got {beam_width!r}. Use 1 for "
            "the fastest search and 10 to 100 for a wider one."
        )
    width = int(beam_width)

    def search(logits, lengths, *out):
        _run(
            lambda lo, hi: ctc_beam_search_range(logits, lengths, width, lo, hi, *out),
            lengths * width * logits.shape[2] + 1,
        )

    return _decode(logits, input_lengths, search)


def ctc_align(logits, targets, input_lengths=None, target_lengths=None, *,
              return_positions=False):  # fmt: skip
    """Forced alignment: the most probable path that collapses to each target.

    Parameters
    ----------
    logits, targets, input_lengths, target_lengths
        As for :func:`ctc_loss`.
    return_positions : bool, default=False
        Also return, per frame, the position in the target of the label
        emitted (-1 for blank), which tells repeated labels apart.

    Returns
    -------
    labels : list of ndarray of int64
        Per sequence, an array of its length: the label emitted at each
        frame, -1 for blank.
    scores : ndarray of shape (n_sequences,)
        Each path's log-probability.
    positions : list of ndarray of int64
        Only with ``return_positions=True``.

    Raises
    ------
    ValueError
        If a sequence is too short for its target, or no path collapsing to
        its target has non-zero probability.
    """
    logits, lengths, flat, starts, t_lengths = _prepare(
        logits, targets, input_lengths, target_lengths
    )
    check_feasible(lengths, flat, t_lengths)
    T_max, B, _ = logits.shape
    states = np.empty((T_max, B), np.int64)
    scores = np.empty(B)
    _run(
        lambda lo, hi: ctc_align_range(
            logits, lengths, flat, starts, t_lengths, lo, hi, states, scores
        ),
        lengths * (2 * t_lengths + 1) + 1,
    )
    impossible = np.flatnonzero(scores == -np.inf)
    if impossible.size:
        raise ValueError(
            f"sequence {int(impossible[0])} has no alignment of non-zero "
            "probability: its scores give -inf to every path that collapses to "
            "its target."
        )
    labels, positions = [], []
    for b in range(B):
        s = states[: lengths[b], b]
        position = np.where(s % 2 == 1, (s - 1) // 2, -1)
        positions.append(position)
        target = flat[starts[b] : starts[b] + t_lengths[b]]
        emitted = np.full(len(s), -1, np.int64)
        emitted[position >= 0] = target[position[position >= 0]]
        labels.append(emitted)
    if return_positions:
        return labels, scores, positions
    return labels, scores
