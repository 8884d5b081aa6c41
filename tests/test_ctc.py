"""CTC kernels and their wrappers against the references of ``naive_ctc``."""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skrnn._ctc import (
    check_feasible,
    ctc_align,
    ctc_beam_search,
    ctc_greedy_decode,
    ctc_log_likelihood,
    ctc_loss,
    infeasible_pairs,
    required_steps,
)

from .naive_ctc import (
    brute_force_alignment,
    brute_force_best_labelling,
    brute_force_log_likelihood,
    collapse,
    forward_likelihood,
    log_forward_backward,
    log_softmax,
)


@st.composite
def pairs(draw, max_frames=5, max_outputs=3, max_batch=3, feasible=False):
    """A batch: logits (T_max, B, K), input lengths and ragged targets.

    Targets favour repeats (few labels) and include empty ones; with
    ``feasible`` every target fits its input, and about half fit exactly
    (``T == L + repeats``).
    """
    K = draw(st.integers(1, max_outputs))
    B = draw(st.integers(1, max_batch))
    lengths, targets = [], []
    for _ in range(B):
        T = draw(st.integers(0, max_frames))
        # With the blank alone (K = 1) only the empty target exists.
        size = max_frames if K > 1 else 0
        target = draw(st.lists(st.integers(0, max(K - 2, 0)), max_size=size))
        if feasible:
            needed = len(target) + sum(a == b for a, b in zip(target[1:], target[:-1]))
            while needed > T:
                target.pop()
                needed = len(target) + sum(
                    a == b for a, b in zip(target[1:], target[:-1])
                )
            if draw(st.booleans()):
                T = needed  # an exact fit: a single path
        lengths.append(T)
        targets.append(np.array(target, np.int64))
    T_max = max(lengths + [draw(st.integers(0, 2))])
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([0.5, 2.0, 5.0]))
    logits = scale * np.random.default_rng(seed).normal(size=(T_max, B, K))
    return logits, np.array(lengths), targets


# ------------------------------------------------------------------ the loss
@settings(max_examples=60, deadline=None)
@given(pairs())
def test_loss_matches_brute_force(batch):
    logits, lengths, targets = batch
    losses, grad = ctc_loss(logits, targets, lengths)
    for b, target in enumerate(targets):
        T = lengths[b]
        expected = -brute_force_log_likelihood(log_softmax(logits[:T, b]), target)
        if np.isinf(expected):
            assert losses[b] == np.inf
            assert not grad[:, b].any()
        else:
            np.testing.assert_allclose(losses[b], expected, rtol=1e-12, atol=1e-12)
        assert not grad[T:, b].any()  # padding frames


@settings(max_examples=40, deadline=None)
@given(pairs(max_frames=25, max_outputs=6, max_batch=4, feasible=True))
def test_loss_matches_forward_recursion_and_log_likelihood(batch):
    logits, lengths, targets = batch
    losses, _ = ctc_loss(logits, targets, lengths)
    log_likelihood = ctc_log_likelihood(logits, targets, lengths)
    for b, target in enumerate(targets):
        probs = np.exp(log_softmax(logits[: lengths[b], b]))
        expected = -np.log(forward_likelihood(probs, target))
        np.testing.assert_allclose(losses[b], expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_array_equal(log_likelihood, -losses)


def _central_differences(logits, targets, lengths, eps=1e-6):
    """Gradient of the summed loss by central differences, entry by entry."""
    grad = np.zeros_like(logits)
    for index in np.ndindex(*logits.shape):
        z = logits.copy()
        z[index] += eps
        up = ctc_loss(z, targets, lengths)[0].sum()
        z[index] -= 2 * eps
        down = ctc_loss(z, targets, lengths)[0].sum()
        grad[index] = (up - down) / (2 * eps)
    return grad


@settings(max_examples=30, deadline=None)
@given(pairs(max_frames=6, max_outputs=4, max_batch=3, feasible=True))
def test_gradient_matches_finite_differences(batch):
    logits, lengths, targets = batch
    _, grad = ctc_loss(logits, targets, lengths)
    expected = _central_differences(logits, targets, lengths)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(
    batch=pairs(max_frames=30, max_outputs=5, max_batch=3, feasible=True),
    scale=st.sampled_from([1.0, 60.0, 400.0, 3000.0]),
)
def test_loss_and_gradient_match_log_space_reference(batch, scale):
    # Large scores spread each frame's probabilities over thousands of
    # nats: the kernels' steps then run in log space, or switch between the
    # two forms from frame to frame.
    logits, lengths, targets = batch
    logits = logits * scale
    losses, grad = ctc_loss(logits, targets, lengths)
    for b, target in enumerate(targets):
        T = lengths[b]
        loss, expected = log_forward_backward(logits[:T, b], target)
        np.testing.assert_allclose(losses[b], loss, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(grad[:T, b], expected, atol=1e-9)


def test_gradient_rows_sum_to_zero_and_float32_matches_float64():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(40, 5, 7))
    targets = [rng.integers(0, 6, size=n) for n in (0, 3, 10, 15, 19)]
    losses, grad = ctc_loss(logits, targets)
    np.testing.assert_allclose(grad.sum(axis=2), 0.0, atol=1e-13)
    losses32, grad32 = ctc_loss(logits.astype(np.float32), targets)
    assert losses32.dtype == np.float64
    assert grad32.dtype == np.float32
    np.testing.assert_allclose(losses32, losses, rtol=1e-6)
    np.testing.assert_allclose(grad32, grad, atol=1e-6)


def test_long_sequence_does_not_underflow():
    rng = np.random.default_rng(1)
    T, K = 10_000, 4
    logits = 3.0 * rng.normal(size=(T, 2, K))
    targets = [np.array([0, 1, 1, 2, 0]), rng.integers(0, K - 1, size=300)]
    losses, grad = ctc_loss(logits, targets)
    assert np.all(np.isfinite(losses))
    assert np.all(losses > 1000)
    assert np.all(np.isfinite(grad))
    loss, expected = log_forward_backward(logits[:, 0], targets[0])
    np.testing.assert_allclose(losses[0], loss, rtol=1e-11)
    np.testing.assert_allclose(grad[:, 0], expected, atol=1e-9)
    np.testing.assert_allclose(grad.sum(axis=2), 0.0, atol=1e-12)


def test_exact_fit_has_one_path():
    # T == L + repeats: the only path emits the labels with one blank
    # between the repeated ones.
    logits = np.random.default_rng(2).normal(size=(4, 1, 3))
    target = [0, 0, 1]
    losses, _ = ctc_loss(logits, [target])
    path = [0, 2, 0, 1]
    log_probs = log_softmax(logits[:, 0])
    expected = -sum(log_probs[t, k] for t, k in enumerate(path))
    np.testing.assert_allclose(losses[0], expected, rtol=1e-13)
    labels, score = ctc_align(logits, [target])
    np.testing.assert_array_equal(labels[0], [0, -1, 0, 1])
    np.testing.assert_allclose(score[0], -expected, rtol=1e-13)


def test_empty_target_and_empty_input():
    logits = np.random.default_rng(3).normal(size=(3, 3, 4))
    losses, grad = ctc_loss(logits, [[], [], [1]], [3, 0, 0])
    log_blank = log_softmax(logits[:, 0])[:, 3].sum()
    np.testing.assert_allclose(losses[:2], [-log_blank, 0.0])
    assert losses[2] == np.inf
    assert not grad[:, 1:].any()


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_infeasible_pairs_and_zero_infinity(zero_infinity):
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(5, 4, 3))
    # Sequence 1 is too short; sequence 3 has a frame that gives -inf to
    # every output its target needs.
    logits[2, 3, [0, 2]] = -np.inf
    targets = [[0, 1], [1, 1, 1], [0], [0, 0]]
    lengths = [5, 4, 5, 3]
    losses, grad = ctc_loss(logits, targets, lengths, zero_infinity=zero_infinity)
    reference, reference_grad = ctc_loss(logits[:, [0, 2]], [targets[0], targets[2]])
    infinite = 0.0 if zero_infinity else np.inf
    np.testing.assert_array_equal(losses[[1, 3]], [infinite, infinite])
    np.testing.assert_array_equal(losses[[0, 2]], reference)
    np.testing.assert_array_equal(grad[:, [0, 2]], reference_grad)
    assert not grad[:, [1, 3]].any()
    assert infeasible_pairs(lengths, targets) == [(1, 4, 5)]


def test_threads_give_the_same_results():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(60, 48, 9)).astype(np.float32)
    lengths = rng.integers(20, 61, size=48)
    targets = [rng.integers(0, 8, size=rng.integers(0, 15)) for _ in range(48)]
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ctc_loss(logits, targets, lengths)
        beams_one = ctc_beam_search(logits, lengths, beam_width=4)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = ctc_loss(logits, targets, lengths)
        beams_two = ctc_beam_search(logits, lengths, beam_width=4)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_array_equal(beams_one[1], beams_two[1])


def test_target_forms_agree():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(8, 3, 5))
    targets = [[0, 1, 1], [], [3, 2]]
    lengths = [3, 0, 2]
    padded = np.array([[0, 1, 1], [9, 9, 9], [3, 2, 9]])
    flat = np.array([0, 1, 1, 3, 2])
    expected = ctc_loss(logits, targets)
    for form in (padded, flat):
        got = ctc_loss(logits, form, None, lengths)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(required_steps(targets), [4, 0, 2])
    np.testing.assert_array_equal(required_steps(flat, lengths), [4, 0, 2])


# ------------------------------------------------------------------ PyTorch
def _torch_loss_and_grad(torch, logits, targets, lengths, zero_infinity=False):
    z = torch.tensor(logits, requires_grad=True)
    target_lengths = torch.tensor([len(t) for t in targets])
    flat = torch.tensor(np.concatenate([np.asarray(t, np.int64) for t in targets]))
    losses = torch.nn.functional.ctc_loss(
        z.log_softmax(2), flat, torch.tensor(lengths), target_lengths,
        blank=logits.shape[2] - 1, reduction="none", zero_infinity=zero_infinity,
    )  # fmt: skip
    losses.sum().backward()
    return losses.detach().numpy(), z.grad.numpy()


@pytest.mark.torch
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_loss_and_gradient_match_torch(zero_infinity):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    T, B, K = 50, 6, 6
    logits = 3 * rng.normal(size=(T, B, K))
    targets = [
        np.array([], np.int64),
        np.array([0, 0, 0, 1, 1]),
        rng.integers(0, K - 1, size=20),
        rng.integers(0, K - 1, size=12),
        np.array([2] * 25),
        rng.integers(0, K - 1, size=9),
    ]
    lengths = [50, 8, 41, 30, 49, 20]  # 1 and 4: T == L + repeats
    if zero_infinity:
        # Infeasible. Without zero_infinity PyTorch's gradient of such a
        # pair is NaN, and the kernels' is zero.
        lengths[5] = 3
    assert len(infeasible_pairs(lengths, targets)) == int(zero_infinity)
    ours, our_grad = ctc_loss(logits, targets, lengths, zero_infinity=zero_infinity)
    theirs, their_grad = _torch_loss_and_grad(
        torch, logits, targets, lengths, zero_infinity
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    np.testing.assert_allclose(our_grad, their_grad, atol=1e-10)


# ------------------------------------------------------------------ decoding
@settings(max_examples=40, deadline=None)
@given(pairs(max_frames=8, max_outputs=5, max_batch=3))
def test_greedy_decode_collapses_the_argmax_path(batch):
    logits, lengths, _ = batch
    labels, scores = ctc_greedy_decode(logits, lengths)
    for b, T in enumerate(lengths):
        log_probs = log_softmax(logits[:T, b])
        path = log_probs.argmax(axis=1)
        K = logits.shape[2]
        assert tuple(labels[b]) == collapse(path, K - 1)
        np.testing.assert_allclose(scores[b], log_probs.max(axis=1).sum(), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(batch=pairs(max_frames=5, max_outputs=4, max_batch=2))
def test_wide_beam_finds_the_most_probable_labelling(batch):
    logits, lengths, _ = batch
    K = logits.shape[2]
    # Wider than the number of distinct prefixes: nothing is pruned.
    width = sum((K - 1) ** n for n in range(6))
    labels, scores = ctc_beam_search(logits, lengths, beam_width=width)
    for b, T in enumerate(lengths):
        best, log_best, totals = brute_force_best_labelling(log_softmax(logits[:T, b]))
        np.testing.assert_allclose(scores[b], log_best, rtol=1e-12, atol=1e-12)
        found = tuple(labels[b])
        # Ties aside, the labelling is the brute force's.
        np.testing.assert_allclose(np.log(totals[found]), log_best, rtol=1e-12)
        assert found == best or np.isclose(totals[found], totals[best])


@settings(max_examples=30, deadline=None)
@given(
    batch=pairs(max_frames=6, max_outputs=4, max_batch=2),
    width=st.integers(1, 3),
)
def test_narrow_beam_scores_its_labelling_from_below(batch, width):
    logits, lengths, _ = batch
    labels, scores = ctc_beam_search(logits, lengths, beam_width=width)
    for b, T in enumerate(lengths):
        exact = brute_force_log_likelihood(log_softmax(logits[:T, b]), labels[b])
        assert scores[b] <= exact + 1e-12


def test_beams_of_one_and_two_can_beat_best_path():
    # Outputs 0, 1 and the blank. Best path (0, 1) gives labelling (0, 1),
    # of probability 0.16; a beam of one keeps prefix (0) at frame 0 and
    # scores it 0.24 by its two paths that start with 0. Over all three of
    # its paths, (0) has probability 0.345.
    logits = np.log([[0.4, 0.25, 0.35], [0.3, 0.4, 0.3]])[:, None, :]
    greedy, _ = ctc_greedy_decode(logits)
    beam, score = ctc_beam_search(logits, beam_width=1)
    np.testing.assert_array_equal(greedy[0], [0, 1])
    np.testing.assert_array_equal(beam[0], [0])
    np.testing.assert_allclose(score[0], np.log(0.24))
    log_probs = log_softmax(logits[:, 0])
    np.testing.assert_allclose(
        brute_force_log_likelihood(log_probs, [0]), np.log(0.345)
    )
    np.testing.assert_allclose(
        brute_force_log_likelihood(log_probs, [0, 1]), np.log(0.16)
    )
    # Here best path and a beam of one both give the empty labelling (0.36);
    # a beam of two keeps (0) too and finds its 0.64.
    logits = np.log([[0.4, 0.6], [0.4, 0.6]])[:, None, :]
    assert ctc_greedy_decode(logits)[0][0].size == 0
    assert ctc_beam_search(logits, beam_width=1)[0][0].size == 0
    beam, score = ctc_beam_search(logits, beam_width=2)
    np.testing.assert_array_equal(beam[0], [0])
    np.testing.assert_allclose(score[0], np.log(0.64))


@settings(max_examples=40, deadline=None)
@given(pairs(max_frames=6, max_outputs=4, max_batch=3, feasible=True))
def test_alignment_is_the_most_probable_path(batch):
    logits, lengths, targets = batch
    labels, scores, positions = ctc_align(
        logits, targets, lengths, return_positions=True
    )
    K = logits.shape[2]
    for b, target in enumerate(targets):
        T = lengths[b]
        log_probs = log_softmax(logits[:T, b])
        _, best = brute_force_alignment(log_probs, target)
        path = np.where(labels[b] < 0, K - 1, labels[b])
        assert len(path) == T
        assert collapse(path, K - 1) == tuple(target)
        np.testing.assert_allclose(scores[b], best, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            sum(log_probs[t, k] for t, k in enumerate(path)), best, atol=1e-12
        )
        real = positions[b] >= 0
        np.testing.assert_array_equal(target[positions[b][real]], labels[b][real])
        assert np.all(np.diff(positions[b][real]) >= 0)


# ------------------------------------------------------------------ bad input
def test_check_feasible_names_the_sequence():
    with pytest.raises(
        ValueError,
        match=r"1 input sequence\(s\) are too short.*sequence 1 has 2 steps and "
        r"needs 4.*or pass zero_infinity=True\.",
    ):
        check_feasible([5, 2], [[0, 1], [1, 1, 2]], hint="pass zero_infinity=True")
    check_feasible([3], [[0, 1]])  # fits: no error
    with pytest.raises(ValueError, match=r"and 2 more\)"):
        check_feasible([0] * 7, [[0]] * 7)


def test_align_refuses_impossible_targets():
    logits = np.zeros((3, 1, 3))
    with pytest.raises(ValueError, match="sequence 0 has 3 steps and needs 4"):
        ctc_align(logits, [[1, 1, 0]])
    logits[1, 0, :2] = -np.inf
    logits[0, 0, 0] = -np.inf
    with pytest.raises(ValueError, match="sequence 0 has no alignment of non-zero"):
        ctc_align(logits, [[0, 1]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"logits": np.zeros((4, 3))}, r"logits must be 3-D .* got shape \(4, 3\)"),
        ({"logits": np.zeros((4, 1, 0))}, "at least one output per frame"),
        ({"logits": np.full((2, 1, 3), np.nan)}, "logits contain NaN or \\+inf"),
        ({"logits": np.array([[["a"]]])}, "logits must be an array of floats"),
        ({"input_lengths": [5]}, r"input_lengths\[0\] is 5, outside \[0, 4\]"),
        ({"input_lengths": [1, 2]}, r"shape \(1,\), got shape \(2,\)"),
        ({"input_lengths": [1.5]}, "input_lengths must hold integers"),
        ({"targets": [[0, 2]]}, r"sequence 0 hold label 2, outside \[0, 2\)"),
        ({"targets": [[0, -1]]}, "label -1, outside"),
        ({"targets": [[0], [1]]}, "targets has 2 sequences but logits has 1"),
        ({"targets": [0, 1]}, r"targets\[0\] must be a 1-D sequence"),
        ({"targets": np.array([0, 1])}, "targets must be a list of 1-D label"),
        ({"targets": "ab"}, "targets must be a list of 1-D label"),
        (
            {"targets": np.array([0, 1]), "target_lengths": [3]},
            "targets holds 2 labels but target_lengths sums to 3",
        ),
        (
            {"targets": np.array([[0, 1]]), "target_lengths": [3]},
            r"padded targets must have shape \(1, >= 3\)",
        ),
        ({"targets": [[0]], "target_lengths": [-1]}, "must be non-negative"),
    ],
)
def test_invalid_arguments(kwargs, match):
    arguments = {
        "logits": np.zeros((4, 1, 3)),
        "targets": [[0, 1]],
        "input_lengths": None,
        "target_lengths": None,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ctc_loss(**arguments)


def test_frames_of_all_minus_infinity_are_refused_unless_padding():
    logits = np.zeros((4, 2, 3))
    logits[3, 1] = -np.inf
    ctc_loss(logits, [[0], [1]], [4, 3])  # padding: never read
    message = "frame 3 of sequence 1 gives -inf to every output"
    for call in (
        lambda: ctc_loss(logits, [[0], [1]]),
        lambda: ctc_greedy_decode(logits),
        lambda: ctc_beam_search(logits),
        lambda: ctc_align(logits, [[0], [1]]),
    ):
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("width", [0, -3, 2.5, True, "4"])
def test_beam_width_must_be_a_positive_integer(width):
    with pytest.raises(ValueError, match="beam_width must be an integer >= 1"):
        ctc_beam_search(np.zeros((3, 1, 3)), beam_width=width)
