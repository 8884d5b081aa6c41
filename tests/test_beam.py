"""Greedy and beam search against brute-force enumeration on toy models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax

from skrnn._beam import beam_search, greedy_search


class MarkovModel:
    """Next token depends on the previous one only: a table of log-probabilities."""

    def __init__(self, V, seed, end_bias=0.0):
        rng = np.random.default_rng(seed)
        logits = 2 * rng.normal(size=(V + 1, V))
        logits[:, 0] += end_bias  # token 0 is the end token
        self.table = log_softmax(logits, axis=1)
        self.start = V
        self.calls = []

    def step(self, tokens, state):
        self.calls.append(len(tokens))
        return self.table[tokens], state


class RecurrentModel:
    """Next token depends on the whole prefix through a small recurrent state."""

    def __init__(self, V, seed, n_hidden=3):
        rng = np.random.default_rng(seed)
        self.A = rng.normal(size=(n_hidden, n_hidden))
        self.B = 2 * rng.normal(size=(V + 1, n_hidden))
        self.C = 2 * rng.normal(size=(V, n_hidden))
        self.start = V

    def step(self, tokens, state):
        (h,) = state
        h = np.tanh(h @ self.A.T + self.B[tokens])
        return log_softmax(h @ self.C.T, axis=1), (h,)

    def initial_state(self, n, seed):
        return (np.random.default_rng(seed).normal(size=(n, self.A.shape[0])),)


def _start(model):
    # Both toy models read the start token as one more row after the V tokens.
    return model.start


def brute_force(model, state_row, max_length, end_id, length_penalty=0.0):
    """Best (rank, tokens, log-prob) over every sequence, by enumeration."""
    best = (-np.inf, None, None)

    def visit(prefix, token, state, total):
        nonlocal best
        log_probs, state = model.step(np.array([token]), state)
        for next_token in range(log_probs.shape[1]):
            score = total + log_probs[0, next_token]
            if next_token == end_id or len(prefix) + 1 == max_length:
                tokens = prefix if next_token == end_id else [*prefix, next_token]
                rank = score / ((5 + len(tokens)) / 6) ** length_penalty
                if rank > best[0]:
                    best = (rank, tokens, score)
            else:
                visit([*prefix, next_token], next_token, state, score)

    visit([], _start(model), state_row, 0.0)
    return best


def teacher_forced_log_prob(model, state_row, tokens, max_length, end_id):
    """Sum of the log-probabilities of ``tokens`` (and the end, if emitted)."""
    targets = list(tokens) + ([end_id] if len(tokens) < max_length else [])
    previous = _start(model)
    total = 0.0
    for target in targets:
        log_probs, state_row = model.step(np.array([previous]), state_row)
        total += log_probs[0, target]
        previous = target
    return total


def _rows(state, i):
    return tuple(array[i : i + 1] for array in state)


models = st.tuples(
    st.sampled_from(["markov", "recurrent"]),
    st.integers(2, 4),  # V, the end token included
    st.integers(1, 4),  # max_length
    st.integers(1, 3),  # n_sequences
    st.integers(0, 2**16),
)


def _build(kind, V, n, seed):
    if kind == "markov":
        return MarkovModel(V, seed), ()
    model = RecurrentModel(V, seed)
    return model, model.initial_state(n, seed + 1)


@settings(max_examples=60, deadline=None)
@given(problem=models, length_penalty=st.sampled_from([0.0, 0.6, 2.0]))
def test_wide_beam_finds_the_most_probable_sequence(problem, length_penalty):
    kind, V, max_length, n, seed = problem
    model, state = _build(kind, V, n, seed)
    width = max(2, (V - 1) ** (max_length - 1))
    sequences, log_probs = beam_search(
        model.step, state, n, beam_width=width, max_length=max_length,
        start_id=_start(model), end_id=0, length_penalty=length_penalty,
    )  # fmt: skip
    for i in range(n):
        _, tokens, score = brute_force(
            model, _rows(state, i), max_length, 0, length_penalty
        )
        np.testing.assert_array_equal(sequences[i], tokens)
        np.testing.assert_allclose(log_probs[i], score, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(problem=models, width=st.integers(1, 5))
def test_scores_are_sums_of_the_chosen_steps(problem, width):
    kind, V, max_length, n, seed = problem
    model, state = _build(kind, V, n, seed)
    sequences, log_probs = beam_search(
        model.step, state, n, beam_width=width, max_length=max_length,
        start_id=_start(model), end_id=0,
    )  # fmt: skip
    for i in range(n):
        assert len(sequences[i]) <= max_length
        assert not np.any(sequences[i] == 0)  # never the end token
        expected = teacher_forced_log_prob(
            model, _rows(state, i), sequences[i], max_length, 0
        )
        np.testing.assert_allclose(log_probs[i], expected, rtol=1e-12)


def naive_greedy(model, state_row, max_length, end_id):
    tokens, total, previous = [], 0.0, _start(model)
    for _ in range(max_length):
        log_probs, state_row = model.step(np.array([previous]), state_row)
        previous = int(np.argmax(log_probs[0]))
        total += log_probs[0, previous]
        if previous == end_id:
            break
        tokens.append(previous)
    return tokens, total


@settings(max_examples=40, deadline=None)
@given(problem=models)
def test_width_one_is_greedy(problem):
    kind, V, max_length, n, seed = problem
    model, state = _build(kind, V, n, seed)
    args = dict(max_length=max_length, start_id=_start(model), end_id=0)
    beam = beam_search(model.step, state, n, beam_width=1, **args)
    greedy = greedy_search(model.step, state, n, **args)
    for i in range(n):
        tokens, total = naive_greedy(model, _rows(state, i), max_length, 0)
        np.testing.assert_array_equal(greedy[0][i], tokens)
        np.testing.assert_array_equal(beam[0][i], tokens)
        np.testing.assert_allclose(greedy[1][i], total, rtol=1e-12)
        np.testing.assert_allclose(beam[1][i], total, rtol=1e-12)


def test_beam_beats_greedy_where_greedy_is_short_sighted():
    # Token 0 ends, 3 starts. From the start, token 1 is likelier than 2, but
    # 2 is almost surely followed by the end while 1 is followed by more 1s.
    with np.errstate(divide="ignore"):
        table = np.log(
            [
                [1.0, 0.0, 0.0],  # after the end: never read
                [0.2, 0.45, 0.35],  # after 1
                [0.9, 0.1, 0.0],  # after 2
                [0.0, 0.6, 0.4],  # after the start
            ]
        )
    model = MarkovModel(3, 0)
    model.table = table
    args = dict(max_length=3, start_id=3, end_id=0)
    greedy, p_greedy = beam_search(model.step, (), 1, beam_width=1, **args)
    beam, p_beam = beam_search(model.step, (), 1, beam_width=2, **args)
    np.testing.assert_array_equal(greedy[0], [1, 1, 1])
    np.testing.assert_allclose(np.exp(p_greedy), [0.6 * 0.45 * 0.45])
    np.testing.assert_array_equal(beam[0], [2])
    np.testing.assert_allclose(np.exp(p_beam), [0.4 * 0.9])


@pytest.mark.parametrize("width", [1, 3])
def test_immediate_end_gives_an_empty_sequence(width):
    model = MarkovModel(4, seed=0, end_bias=50.0)
    sequences, log_probs = beam_search(
        model.step,
        (),
        2,
        beam_width=width,
        max_length=5,
        start_id=model.start,
        end_id=0,
    )
    assert [len(s) for s in sequences] == [0, 0]
    np.testing.assert_allclose(log_probs, model.table[model.start, 0])
    assert model.calls == [2 * width if width > 1 else 2]  # then every row stops


@pytest.mark.parametrize("width", [1, 3])
def test_max_length_cuts_sequences_that_never_end(width):
    model = MarkovModel(4, seed=0, end_bias=-50.0)
    sequences, log_probs = beam_search(
        model.step,
        (),
        3,
        beam_width=width,
        max_length=4,
        start_id=model.start,
        end_id=0,
    )
    assert [len(s) for s in sequences] == [4, 4, 4]
    assert len(model.calls) == 4
    for tokens, total in zip(sequences, log_probs):
        # Cut, not ended: the end token's probability is not in the score.
        previous = np.r_[model.start, tokens[:-1]]
        np.testing.assert_allclose(total, model.table[previous, tokens].sum())


@pytest.mark.parametrize("width", [1, 2, 4])
def test_rows_are_independent(width):
    model = RecurrentModel(4, seed=5)
    state = model.initial_state(5, seed=6)
    args = dict(beam_width=width, max_length=6, start_id=model.start, end_id=0)
    sequences, log_probs = beam_search(model.step, state, 5, **args)
    for i in range(5):
        alone, p_alone = beam_search(model.step, _rows(state, i), 1, **args)
        np.testing.assert_array_equal(alone[0], sequences[i])
        np.testing.assert_allclose(p_alone[0], log_probs[i], rtol=1e-14)


def test_finished_rows_leave_the_batch():
    # Sequence 0 ends at once, sequence 1 never ends: calls shrink to 1 row.
    table = np.full((3, 3), np.log(0.5))
    table[:, 0] = np.log(0.999999)
    table[:, 1:] = np.log(0.0000005)
    never = np.full((3, 3), np.log(0.5))
    never[:, 0] = -40.0

    calls = []

    def step(tokens, state):
        (which,) = state
        calls.append(len(tokens))
        return np.where(which[:, None] == 0, table[tokens], never[tokens]), state

    greedy_search(step, (np.array([0, 1]),), 2, max_length=4, start_id=2, end_id=0)
    assert calls == [2, 1, 1, 1]


def test_float32_log_probs_and_no_sequences():
    model = MarkovModel(3, seed=1)
    model.table = model.table.astype(np.float32)
    sequences, log_probs = beam_search(
        model.step, (), 2, beam_width=2, max_length=3, start_id=model.start, end_id=0
    )
    assert log_probs.dtype == np.float64
    assert len(sequences) == 2
    empty = beam_search(
        model.step, (), 0, beam_width=2, max_length=3, start_id=model.start, end_id=0
    )
    assert empty[0] == []
    assert empty[1].shape == (0,)


def test_errors_say_what_was_expected():
    model = MarkovModel(3, seed=1)
    args = dict(beam_width=2, max_length=3, start_id=model.start, end_id=0)
    with pytest.raises(ValueError, match=r"state\[0\] must have the rows .* \(2 rows"):
        beam_search(model.step, (np.zeros((3, 1)),), 2, **args)
    with pytest.raises(ValueError, match=r"end_id=5 is not a token .* 3 tokens"):
        beam_search(model.step, (), 2, **{**args, "end_id": 5})
    with pytest.raises(ValueError, match=r"log_probs of shape \(rows, V\) = \(2, V\)"):
        greedy_search(
            lambda t, s: (np.zeros(3), s), (), 2, max_length=2, start_id=0, end_id=0
        )
    with pytest.raises(ValueError, match="'beam_width' parameter"):
        beam_search(model.step, (), 2, **{**args, "beam_width": 0})
    with pytest.raises(ValueError, match="'state' parameter"):
        beam_search(model.step, [np.zeros(2)], 2, **args)
    with pytest.raises(ValueError, match="'length_penalty' parameter"):
        beam_search(model.step, (), 2, **args, length_penalty=-1.0)
