"""Greedy and beam-search decoding of token sequences from a step function.

Both searches drive a model only through ``step(tokens, state) -> (log_probs,
new_state)``: ``tokens`` holds the previous token of every row, ``state`` is a
tuple of arrays whose first axis is the rows (the decoder's hidden and cell
states, and anything else the model carries, such as its encoder outputs),
and ``log_probs`` is ``(rows, V)``, the log-probability of every next token.
The searches reorder and subset the state by fancy indexing on its first
axis: the rows of the first call are the sequences, or the sequences'
beams in order (``sequence * beam_width + beam``); rows whose search has
ended are dropped from later calls, so the number of rows shrinks.

The search space: a hypothesis either ends by emitting ``end_id`` (it is
returned without the end token, and the end token's log-probability is part
of its score) or is cut at ``max_length`` tokens. ``max_length`` counts the
calls of ``step``, so an ended hypothesis has at most ``max_length - 1``
tokens and a cut one exactly ``max_length``.
"""

from numbers import Integral, Real

import numpy as np

from ._compat import Interval, validate_params
from ._docstrings import insert_doc

__all__ = ["beam_search", "greedy_search"]


def _check_state(state, n_rows):
    for k, array in enumerate(state):
        if np.ndim(array) == 0 or np.shape(array)[0] != n_rows:
            raise ValueError(
                f"state[{k}] must have the rows on its first axis ({n_rows} rows "
                f"here), got shape {np.shape(array)}. Pass one row per sequence."
            )


def _call_step(step, tokens, state, end_id):
    log_probs, new_state = step(tokens, state)
    log_probs = np.asarray(log_probs)
    if log_probs.ndim != 2 or log_probs.shape[0] != len(tokens):
        raise ValueError(
            f"step must return log_probs of shape (rows, V) = ({len(tokens)}, V), "
            f"got shape {log_probs.shape}."
        )
    if end_id >= log_probs.shape[1]:
        raise ValueError(
            f"end_id={end_id} is not a token of the step's vocabulary of "
            f"{log_probs.shape[1]} tokens (ids 0 to {log_probs.shape[1] - 1})."
        )
    return log_probs.astype(np.float64, copy=False), tuple(new_state)


_SEARCH_CONSTRAINTS = {
    "step": [callable],
    "state": [tuple],
    "n_sequences": [Interval(Integral, 0, None, closed="left")],
    "max_length": [Interval(Integral, 1, None, closed="left")],
    "start_id": [Interval(Integral, 0, None, closed="left")],
    "end_id": [Interval(Integral, 0, None, closed="left")],
}


# Documentation the two searches share (inserted with ``insert_doc``).
_SHARED_DOC = {
    "step": """\
step : callable
        ``step(tokens, state) -> (log_probs, new_state)`` with ``tokens`` of
        shape ``(rows,)``, ``log_probs`` of shape ``(rows, V)`` and states as
        tuples of arrays with the rows on the first axis.""",
    "ids": """\
max_length : int
        Maximum number of calls of ``step`` per sequence.
    start_id : int
        Token fed to the first call.
    end_id : int
        Token that ends a sequence.""",
    "raises": """\
Raises
    ------
    ValueError
        If a state array or the output of ``step`` does not have the rows on
        its first axis, or ``end_id`` is not in the vocabulary.""",
}


@validate_params(_SEARCH_CONSTRAINTS, prefer_skip_nested_validation=True)
@insert_doc(**_SHARED_DOC)
def greedy_search(step, state, n_sequences, *, max_length, start_id, end_id):
    """Decode by choosing the most probable token at every step.

    Parameters
    ----------
    {step}
    state : tuple of ndarray
        Initial state, one row per sequence.
    n_sequences : int
        Number of sequences decoded together.
    {ids}

    Returns
    -------
    sequences : list of ndarray of int
        The tokens of every sequence, without the end token.
    log_probs : ndarray of shape (n_sequences,)
        Sum of the chosen tokens' log-probabilities, the end token's included
        when it was emitted.

    {raises}

    See Also
    --------
    beam_search : Keeps several hypotheses; ``beam_width=1`` is this search.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn._beam import greedy_search
    >>> def step(tokens, state):
    ...     # Counts up from the previous token; token 3 is the end.
    ...     logits = -np.abs(np.arange(4) - (tokens[:, None] + 1.0))
    ...     return logits - np.log(np.exp(logits).sum(1, keepdims=True)), state
    >>> sequences, log_probs = greedy_search(
    ...     step, (), 2, max_length=5, start_id=0, end_id=3)
    >>> sequences
    [array([1, 2]), array([1, 2])]
    """
    _check_state(state, n_sequences)
    sequences = [[] for _ in range(n_sequences)]
    total = np.zeros(n_sequences)
    active = np.arange(n_sequences)
    tokens = np.full(n_sequences, start_id, dtype=np.intp)
    for _ in range(max_length):
        if not len(active):
            break
        log_probs, state = _call_step(step, tokens, state, end_id)
        tokens = np.argmax(log_probs, axis=1)
        total[active] += log_probs[np.arange(len(active)), tokens]
        going = tokens != end_id
        for i, token in zip(active[going], tokens[going]):
            sequences[i].append(token)
        if not going.all():
            # Finished rows leave the state; while none finish, the state
            # (the encoder outputs among it) is not copied.
            active, tokens = active[going], tokens[going]
            state = tuple(array[going] for array in state)
    return [np.asarray(s, dtype=np.intp) for s in sequences], total


def _length_factor(length, length_penalty):
    """GNMT's length normalisation ``((5 + length) / 6) ** length_penalty``."""
    return ((5.0 + length) / 6.0) ** length_penalty


@validate_params(
    {
        **_SEARCH_CONSTRAINTS,
        "beam_width": [Interval(Integral, 1, None, closed="left")],
        "length_penalty": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
@insert_doc(**_SHARED_DOC)
def beam_search(
    step,
    state,
    n_sequences,
    *,
    beam_width,
    max_length,
    start_id,
    end_id,
    length_penalty=0.0,
):
    """Decode the most probable token sequences by beam search.

    Every sequence keeps its ``beam_width`` best unfinished hypotheses. At
    each step, each of them is extended by every token: the extensions by
    ``end_id`` are finished hypotheses (the best one so far is kept), the
    ``beam_width`` best other extensions are the next hypotheses. A sequence's
    search ends when no unfinished hypothesis can beat its best finished one
    any more, or after ``max_length`` steps, when the unfinished hypotheses,
    cut there, compete with the finished ones.

    Parameters
    ----------
    {step}
    state : tuple of ndarray
        Initial state, one row per sequence (repeated for every beam).
    n_sequences : int
        Number of sequences decoded together.
    beam_width : int
        Hypotheses kept per sequence. 1 is greedy decoding
        (:func:`greedy_search`).
    {ids}
    length_penalty : float, default=0.0
        Exponent ``a`` of GNMT's length normalisation: hypotheses are ranked
        by their log-probability divided by ``((5 + length) / 6) ** a``, with
        ``length`` the number of tokens returned (the end token not
        counted). 0 ranks by the plain sum of log-probabilities, which favours
        short sequences; larger values favour longer ones. Greedy decoding
        ignores it.

    Returns
    -------
    sequences : list of ndarray of int
        The best hypothesis of every sequence, without the end token.
    log_probs : ndarray of shape (n_sequences,)
        Its total log-probability (not length-normalised), the end token's
        included when it was emitted.

    {raises}

    See Also
    --------
    greedy_search : The search that ``beam_width=1`` runs.

    Notes
    -----
    The stopping rule is exact: with ``length_penalty=0`` scores only fall
    as hypotheses grow, so a sequence stops once its best finished score is
    at least the best unfinished one; with a penalty the bound divides the
    best unfinished score by the factor of ``max_length``. With a beam as
    wide as the number of unfinished hypotheses (at most ``(V - 1) **
    (max_length - 1)``) the search is exhaustive and returns the most
    probable sequence.

    References
    ----------
    .. [1] Y. Wu et al., "Google's neural machine translation system:
       bridging the gap between human and machine translation",
       arXiv:1609.08144, 2016 (section 7, length normalisation).

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn._beam import beam_search
    >>> with np.errstate(divide="ignore"):
    ...     table = np.log([[0.0, 0.6, 0.4], [0.5, 0.0, 0.5], [0.9, 0.1, 0.0]])
    >>> def step(tokens, state):
    ...     # A Markov chain over tokens 1 and 2; token 0 ends, 0 also starts.
    ...     return table[tokens], state
    >>> greedy, p_greedy = beam_search(
    ...     step, (), 1, beam_width=1, max_length=4, start_id=0, end_id=0)
    >>> best, p_best = beam_search(
    ...     step, (), 1, beam_width=4, max_length=4, start_id=0, end_id=0)
    >>> greedy, np.exp(p_greedy).round(2)
    ([array([1])], array([0.3]))
    >>> best, np.exp(p_best).round(2)
    ([array([2])], array([0.36]))
    """
    if beam_width == 1:
        return greedy_search(
            step, state, n_sequences, max_length=max_length, start_id=start_id,
            end_id=end_id,
        )  # fmt: skip
    _check_state(state, n_sequences)
    W = beam_width
    best_sequences = [np.zeros(0, dtype=np.intp) for _ in range(n_sequences)]
    best_log_probs = np.full(n_sequences, -np.inf)
    best_ranks = np.full(n_sequences, -np.inf)

    # Row i * W + b is beam b of active sequence i. Only beam 0 is live at
    # first: copies of the same start would fill the beam with duplicates.
    active = np.arange(n_sequences)
    state = tuple(np.repeat(array, W, axis=0) for array in state)
    scores = np.full((n_sequences, W), -np.inf)
    scores[:, 0] = 0.0
    prefixes = np.zeros((n_sequences, W, 0), dtype=np.intp)
    tokens = np.full(n_sequences * W, start_id, dtype=np.intp)
    max_factor = _length_factor(max_length, length_penalty)
    for t in range(max_length):
        if not len(active):
            break
        log_probs, state = _call_step(step, tokens, state, end_id)
        n, V = len(active), log_probs.shape[1]
        candidates = scores[:, :, None] + log_probs.reshape(n, W, V)

        # Extensions by the end token: finished hypotheses of t tokens.
        ended = candidates[:, :, end_id]
        beam = np.argmax(ended, axis=1)
        rows = np.arange(n)
        ended = ended[rows, beam]
        rank = ended / _length_factor(t, length_penalty)
        for i in np.flatnonzero(rank > best_ranks[active]):
            seq = active[i]
            best_sequences[seq] = prefixes[i, beam[i]].copy()
            best_log_probs[seq], best_ranks[seq] = ended[i], rank[i]

        # The other extensions: the W best go on.
        candidates[:, :, end_id] = -np.inf
        flat = candidates.reshape(n, W * V)
        chosen = np.argpartition(-flat, W - 1, axis=1)[:, :W]
        order = np.argsort(-np.take_along_axis(flat, chosen, axis=1), axis=1)
        chosen = np.take_along_axis(chosen, order, axis=1)
        parent, tokens = np.divmod(chosen, V)
        scores = np.take_along_axis(flat, chosen, axis=1)
        prefixes = np.concatenate(
            [prefixes[rows[:, None], parent], tokens[:, :, None]], axis=2
        )
        parent_rows = (rows[:, None] * W + parent).ravel()

        # A live hypothesis can at best keep its score, found at the longest
        # length when that flatters it most.
        bound = scores[:, 0] / np.where(scores[:, 0] < 0, max_factor, 1.0)
        going = (bound > best_ranks[active]) & np.isfinite(scores[:, 0])
        if t == max_length - 1:
            going[:] = False
            cut = scores[:, 0] / max_factor
            for i in np.flatnonzero(cut > best_ranks[active]):
                seq = active[i]
                best_sequences[seq] = prefixes[i, 0].copy()
                best_log_probs[seq], best_ranks[seq] = scores[i, 0], cut[i]
        keep_rows = parent_rows.reshape(n, W)[going].ravel()
        state = tuple(array[keep_rows] for array in state)
        active, scores, prefixes = active[going], scores[going], prefixes[going]
        tokens = tokens[going].ravel()
    return best_sequences, best_log_probs
