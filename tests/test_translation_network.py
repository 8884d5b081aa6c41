"""The translator's network against the references of ``tests/naive_seq2seq.py``.

Loss against the slow NumPy reference for every cell, attention kind,
direction, input form and depth on ragged data (empty targets included);
gradient against central finite differences on Hypothesis-drawn shapes
(through :func:`skrnn.testing.check_gradients` on the estimator); loss and
gradient against PyTorch (skipped without it).
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skrnn import SequenceTranslator
from skrnn._batching import make_batch
from skrnn._translation_network import TranslationNetwork, make_decoder_batch
from skrnn.testing import check_gradients
from tests.conftest import CELLS

from .naive_seq2seq import (
    naive_seq2seq_loss,
    random_seq2seq_weights,
    seq2seq_weight_shapes,
)

KINDS = (None, "dot", "general", "additive")
V = 4  # output tokens, the end token included
N_TOKENS_IN = 5
INPUT_LENGTHS = (3, 1, 5, 2, 4)
TARGET_LENGTHS = (2, 0, 4, 1, 3)


def _cases():
    for cell, kind, bidirectional, tokens, sizes in itertools.product(
        CELLS, KINDS, (False, True), (False, True), ((3,), (3, 2))
    ):
        if kind == "dot" and bidirectional:
            continue  # the encoder width (2 H) differs from the decoder's
        yield cell, kind, bidirectional, tokens, sizes


def _problem(cell, kind, bidirectional, tokens, sizes, seed=0):
    rng = np.random.default_rng(seed)
    net = TranslationNetwork(
        cell, 1 if tokens else 2, sizes, V, bidirectional=bidirectional,
        attention=kind, n_tokens=N_TOKENS_IN if tokens else None,
        embedding_dim=3 if tokens else None, decoder_embedding_dim=3,
    )  # fmt: skip
    shapes = seq2seq_weight_shapes(
        cell, N_TOKENS_IN if tokens else 2, sizes, sizes, V,
        bidirectional=bidirectional, attention=kind, decoder_embedding_dim=3,
        encoder_embedding_dim=3 if tokens else None,
    )  # fmt: skip
    weights = random_seq2seq_weights(shapes, seed)
    if tokens:
        X = [rng.integers(0, N_TOKENS_IN, size=(T, 1)) * 1.0 for T in INPUT_LENGTHS]
    else:
        X = [rng.standard_normal((T, 2)) for T in INPUT_LENGTHS]
    Y = [rng.integers(0, V - 1, size=m) for m in TARGET_LENGTHS]
    sw = rng.uniform(0.5, 2.0, size=len(X))
    return net, shapes, weights, X, Y, sw


@pytest.mark.parametrize(
    ("cell", "kind", "bidirectional", "tokens", "sizes"), list(_cases())
)
def test_layout_and_loss_match_naive_reference(
    cell, kind, bidirectional, tokens, sizes
):
    net, shapes, weights, X, Y, sw = _problem(cell, kind, bidirectional, tokens, sizes)
    assert [(b.name, b.shape) for b in net.blocks] == list(shapes.items())
    theta = np.concatenate([weights[name].ravel() for name in shapes])
    # Two chunks: encoder and decoder rows are sorted differently.
    batch = make_batch(X, 2)
    decoder, w = make_decoder_batch(batch, Y, sw, net.start_id, net.end_id)
    alpha = 0.3
    loss, grad = net.loss_and_grad(
        theta, batch, decoder, w / w.sum(), l2=alpha / sw.sum()
    )
    expected = naive_seq2seq_loss(
        weights, [x[:, 0] if tokens else x for x in X], Y, cell=cell,
        bidirectional=bidirectional, attention=kind, sample_weight=sw, alpha=alpha,
    )  # fmt: skip
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    # The gradient, at a few entries of every block, by central differences.
    rng = np.random.default_rng(1)
    views = net.views(np.arange(net.n_params))
    eps = 1e-6
    for name, index in views.items():
        for j in rng.choice(index.ravel(), size=min(2, index.size), replace=False):
            t = theta.copy()
            t[j] += eps
            up = net.objective(t, batch, decoder, w / w.sum(), l2=alpha / sw.sum())
            t[j] -= 2 * eps
            down = net.objective(t, batch, decoder, w / w.sum(), l2=alpha / sw.sum())
            np.testing.assert_allclose(
                grad[j], (up - down) / (2 * eps), rtol=1e-5, atol=1e-8, err_msg=name
            )


def test_batch_composition_does_not_change_the_loss():
    net, shapes, weights, X, Y, sw = _problem("lstm", "general", True, False, (3,))
    theta = np.concatenate([weights[name].ravel() for name in shapes])
    per_sequence = []
    for x, y in zip(X, Y):
        batch = make_batch([x], 1)
        decoder, w = make_decoder_batch(batch, [y], [1.0], net.start_id, net.end_id)
        per_sequence.append(net.objective(theta, batch, decoder, w))
    batch = make_batch(X, 2)
    decoder, w = make_decoder_batch(batch, Y, np.ones(len(X)), net.start_id, net.end_id)
    np.testing.assert_allclose(
        net.objective(theta, batch, decoder, w), sum(per_sequence), rtol=1e-12
    )
    log_likelihood, _ = net.score_targets(theta, batch, decoder)
    np.testing.assert_allclose(-log_likelihood, per_sequence, rtol=1e-12)


def test_config_rebuilds_the_same_network():
    net = TranslationNetwork(
        "lstm", 1, (4, 3), 5, bidirectional=True, attention="additive",
        n_tokens=7, embedding_dim=2, decoder_embedding_dim=6,
    )  # fmt: skip
    rebuilt = TranslationNetwork(**net.config())
    assert rebuilt.config() == net.config()
    assert rebuilt.blocks == net.blocks


def test_truncated_backpropagation_is_refused():
    net, shapes, weights, X, Y, sw = _problem("gru", None, False, False, (3,))
    theta = np.concatenate([weights[name].ravel() for name in shapes])
    batch = make_batch(X, 1)
    decoder, w = make_decoder_batch(batch, Y, sw, net.start_id, net.end_id)
    with pytest.raises(ValueError, match="got bptt_steps=2. Set bptt_steps=None"):
        net.loss_and_grad(theta, batch, decoder, w, bptt_steps=2)


@pytest.mark.parametrize(
    ("cell", "kind", "bidirectional"),
    [("lstm", "general", True), ("gru", "additive", False), ("rnn", None, False)],
)
def test_dropout_gradient_matches_finite_differences(cell, kind, bidirectional):
    # Masks are drawn from the generator in a fixed order, so one seed gives
    # the same masks at every evaluation: the objective is then smooth in
    # theta and its gradient checkable.
    net, shapes, weights, X, Y, sw = _problem(cell, kind, bidirectional, False, (3, 2))
    net.dropout = 0.4
    theta = np.concatenate([weights[name].ravel() for name in shapes])
    batch = make_batch(X, 1)
    decoder, w = make_decoder_batch(batch, Y, sw, net.start_id, net.end_id)
    w = w / w.sum()

    def objective(t, seed=3):
        rng = np.random.default_rng(seed)
        return net.loss_and_grad(t, batch, decoder, w, rng=rng)

    loss, grad = objective(theta)
    eps, numeric = 1e-6, np.empty_like(theta)
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (objective(up)[0] - objective(down)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    # Another seed drops other units; without a generator nothing is dropped.
    assert not np.isclose(objective(theta, seed=4)[0], loss)
    net.dropout = 0.0
    plain = net.loss_and_grad(theta, batch, decoder, w)[0]
    net.dropout = 0.4
    assert net.objective(theta, batch, decoder, w) == plain
    with pytest.raises(ValueError, match="trains with an rng"):
        net.loss_and_grad(theta, batch, decoder, w)


@pytest.mark.parametrize(
    ("cell", "kind", "bidirectional"),
    [("lstm", "additive", True), ("gru", "general", True), ("rnn", "dot", False),
     ("lstm", None, False)],
)  # fmt: skip
def test_decoder_step_matches_teacher_forcing(cell, kind, bidirectional):
    """One step at a time reproduces the teacher-forced log-probabilities."""
    net, shapes, weights, X, Y, sw = _problem(cell, kind, bidirectional, False, (3, 2))
    theta = np.concatenate([weights[name].ravel() for name in shapes])
    batch = make_batch(X, 2)
    decoder, _ = make_decoder_batch(batch, Y, sw, net.start_id, net.end_id)
    expected, _ = net.score_targets(theta, batch, decoder)
    state = net.initial_decoder_state(theta, batch)
    got = np.zeros(len(X))
    longest = max(map(len, Y)) + 1
    previous = np.full(len(X), net.start_id)
    for t in range(longest):
        log_probs, state = net.decoder_step(theta, previous, state)
        for i, y in enumerate(Y):
            targets = [*y, net.end_id]
            if t < len(targets):
                got[i] += log_probs[i, targets[t]]
        previous = np.array([y[t] if t < len(y) else 0 for y in Y])
    np.testing.assert_allclose(got, expected, rtol=1e-10)


problems = st.fixed_dictionaries(
    {
        "cell": st.sampled_from(CELLS),
        "attention": st.sampled_from(KINDS),
        "bidirectional": st.booleans(),
        "hidden": st.integers(1, 3),
        "n_layers": st.integers(1, 2),
        "n_features": st.integers(1, 3),
        "in_lengths": st.lists(st.integers(1, 4), min_size=1, max_size=3),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=40, deadline=None)
@given(problem=problems)
def test_gradient_matches_finite_differences(problem):
    if problem["attention"] == "dot" and problem["bidirectional"]:
        problem["attention"] = "general"
    rng = np.random.default_rng(problem["seed"])
    n = len(problem["in_lengths"])
    X = [rng.standard_normal((T, problem["n_features"])) for T in problem["in_lengths"]]
    Y = [list(rng.choice(["a", "b", "c"], size=rng.integers(0, 4))) for _ in range(n)]
    Y[0] = ["a", "b", "c"]  # every label seen
    model = SequenceTranslator(
        hidden_layer_sizes=(problem["hidden"],) * problem["n_layers"],
        cell=problem["cell"], bidirectional=problem["bidirectional"],
        attention=problem["attention"], decoder_embedding_dim=2, alpha=0.1,
    )  # fmt: skip
    result = check_gradients(
        model, X, Y, sample_weight=rng.uniform(0.5, 2, size=n),
        random_state=problem["seed"], eps=1e-5, atol=1e-6,
    )  # fmt: skip
    # atol: with one unit per layer a saturated path can leave a block with
    # gradients near 1e-8, where central differences are rounding noise.
    # eps: a step of 1e-6 leaves rounding errors near 5e-10 in the differences
    # (two stacked bidirectional LSTM layers of one unit, additive attention,
    # one input step), over the bound for such a block; 1e-5 keeps the
    # truncation error far below it.
    assert result.worst < 1e-5, result


def test_torch_parity():
    pytest.importorskip("torch")
    from .torch_seq2seq import torch_seq2seq_loss_and_grad

    for cell, kind, bidirectional in [
        ("lstm", "general", True), ("gru", "additive", False), ("rnn", "dot", False),
        ("lstm", None, False),
    ]:  # fmt: skip
        net, shapes, weights, X, Y, sw = _problem(
            cell, kind, bidirectional, False, (3, 2)
        )
        Y = [y if len(y) else np.array([0]) for y in Y]  # PyTorch packs no empty
        theta = np.concatenate([weights[name].ravel() for name in shapes])
        batch = make_batch(X, 2)
        decoder, w = make_decoder_batch(batch, Y, sw, net.start_id, net.end_id)
        loss, grad = net.loss_and_grad(
            theta, batch, decoder, w / w.sum(), l2=0.2 / sw.sum()
        )
        expected, expected_grads = torch_seq2seq_loss_and_grad(
            weights, X, Y, cell=cell, bidirectional=bidirectional, attention=kind,
            sample_weight=sw, alpha=0.2,
        )  # fmt: skip
        np.testing.assert_allclose(loss, expected, rtol=1e-12)
        for name, value in net.views(grad).items():
            np.testing.assert_allclose(
                value, expected_grads[name], rtol=1e-9, atol=1e-12, err_msg=name
            )


def test_decoder_step_split_across_threads_matches_one_chunk():
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two threads")
    net = TranslationNetwork("lstm", 2, (4,), V, attention="general")
    theta = net.init_params(0)
    rng = np.random.default_rng(0)
    X = [rng.standard_normal((int(T), 2)) for T in rng.integers(1, 6, size=128)]
    batch = make_batch(X, 1)
    tokens = rng.integers(0, V, size=128)
    results = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            state = net.initial_decoder_state(theta, batch)
            log_probs, new_state = net.decoder_step(theta, tokens, state)
            results.append((log_probs, new_state[0]))
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
