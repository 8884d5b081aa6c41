"""The translator references agree: the NumPy loss and PyTorch's loss and gradients.

``tests/naive_seq2seq.py`` is what the translator's network will be checked
against, so it is checked here against an independent implementation in
PyTorch (loss to rounding, gradients against central finite differences of
the NumPy loss), for every cell, attention kind and direction.
"""

import numpy as np
import pytest

from skrnn._attention import attention_parameter_shapes
from tests.conftest import CELLS

from .naive_seq2seq import (
    naive_seq2seq_loss,
    random_seq2seq_weights,
    seq2seq_weight_shapes,
)

KINDS = (None, "dot", "general", "additive")


def _data(n_features, n_out_tokens, lengths_in, lengths_out, seed, tokens_in=None):
    rng = np.random.default_rng(seed)
    if tokens_in is None:
        X = [rng.standard_normal((T, n_features)) for T in lengths_in]
    else:
        X = [rng.integers(0, tokens_in, size=T) for T in lengths_in]
    # Output ids 0 .. n_out_tokens - 2; the last one is the end token.
    Y = [rng.integers(0, n_out_tokens - 1, size=m) for m in lengths_out]
    return X, Y


def _model(cell, bidirectional, attention, encoder_sizes=(3,), **options):
    D = 2 if bidirectional else 1
    K = D * encoder_sizes[-1]
    decoder_sizes = options.pop("decoder_sizes", None)
    if decoder_sizes is None:
        decoder_sizes = encoder_sizes[:-1] + ((K,) if attention == "dot" else (3,))
    return seq2seq_weight_shapes(
        cell, 2, encoder_sizes, decoder_sizes, 4, bidirectional=bidirectional,
        attention=attention, **options,
    )  # fmt: skip


def _finite_difference_check(loss, weights, grads, n_entries, seed, eps=1e-6):
    """Central differences of ``loss`` at a few entries of every parameter."""
    rng = np.random.default_rng(seed)
    for name, value in weights.items():
        flat = value.reshape(-1)
        for j in rng.choice(flat.size, size=min(n_entries, flat.size), replace=False):
            saved = flat[j]
            flat[j] = saved + eps
            up = loss()
            flat[j] = saved - eps
            down = loss()
            flat[j] = saved
            numeric = (up - down) / (2 * eps)
            np.testing.assert_allclose(
                grads[name].reshape(-1)[j], numeric, rtol=1e-5, atol=1e-8,
                err_msg=f"{name}[{j}]",
            )  # fmt: skip


def test_shapes_follow_the_attention_module():
    for kind in ("dot", "general", "additive"):
        shapes = _model("gru", True, kind)
        attention = {k: v for k, v in shapes.items() if k.startswith("attention.")}
        H_dec = shapes["output.weight"][1]
        assert attention == attention_parameter_shapes(kind, H_dec, 6)


def test_bridge_only_where_states_cannot_be_copied():
    same = seq2seq_weight_shapes("lstm", 2, (3, 4), (3, 5), 4)
    assert "bridge.weight_l0" not in same
    assert same["bridge.weight_l1"] == (5, 4)
    assert same["bridge_c.weight_l1"] == (5, 4)
    both = seq2seq_weight_shapes("gru", 2, (3,), (3,), 4, bidirectional=True)
    assert both["bridge.weight_l0"] == (3, 6)
    assert "bridge_c.weight_l0" not in both


def test_copied_state_and_no_attention_is_a_plain_encoder_decoder():
    """Hand-built case: an encoder that ignores its input passes zeros on."""
    shapes = seq2seq_weight_shapes("rnn", 1, (2,), (2,), 3, decoder_embedding_dim=1)
    weights = {name: np.zeros(shape) for name, shape in shapes.items()}
    weights["output.bias"] = np.log([1.0, 2.0, 1.0])
    X, Y = [np.ones((2, 1))], [np.array([1, 0])]
    # Every step predicts (1/4, 1/2, 1/4) whatever the state: targets 1, 0, end.
    expected = -np.mean(np.log([0.5, 0.25, 0.25]))
    np.testing.assert_allclose(naive_seq2seq_loss(weights, X, Y, cell="rnn"), expected)


def test_sample_weight_counts_like_repeated_sequences():
    shapes = _model("gru", False, "general")
    weights = random_seq2seq_weights(shapes, seed=0)
    X, Y = _data(2, 4, [3, 2, 4], [2, 0, 3], seed=1)
    options = dict(cell="gru", attention="general", alpha=0.3)
    weighted = naive_seq2seq_loss(weights, X, Y, sample_weight=[2, 1, 0], **options)
    repeated = naive_seq2seq_loss(
        weights, [X[0], X[0], X[1]], [Y[0], Y[0], Y[1]], **options
    )
    np.testing.assert_allclose(weighted, repeated, rtol=1e-13)


def test_length_zero_input_attends_to_nothing():
    shapes = _model("lstm", False, "additive")
    weights = random_seq2seq_weights(shapes, seed=0)
    X, Y = _data(2, 4, [0], [2], seed=1)
    loss = naive_seq2seq_loss(weights, X, Y, cell="lstm", attention="additive")
    assert np.isfinite(loss)


@pytest.mark.torch
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("attention", KINDS)
@pytest.mark.parametrize("cell", CELLS)
def test_naive_reference_agrees_with_pytorch(cell, attention, bidirectional):
    pytest.importorskip("torch")
    from .torch_seq2seq import torch_seq2seq_loss_and_grad

    shapes = _model(cell, bidirectional, attention)
    weights = random_seq2seq_weights(
        shapes, seed=4 * CELLS.index(cell) + KINDS.index(attention)
    )
    X, Y = _data(2, 4, [3, 1, 4], [2, 0, 3], seed=7)
    options = dict(cell=cell, bidirectional=bidirectional, attention=attention)
    loss, grads = torch_seq2seq_loss_and_grad(weights, X, Y, **options)
    np.testing.assert_allclose(
        naive_seq2seq_loss(weights, X, Y, **options), loss, rtol=1e-12
    )
    assert set(grads) == set(weights)
    _finite_difference_check(
        lambda: naive_seq2seq_loss(weights, X, Y, **options), weights, grads,
        n_entries=3, seed=0,
    )  # fmt: skip


@pytest.mark.torch
@pytest.mark.parametrize("cell", CELLS)
def test_deep_token_model_with_weights_agrees_with_pytorch(cell):
    """Two layers of different widths, token input, sample weights and L2."""
    pytest.importorskip("torch")
    from .torch_seq2seq import torch_seq2seq_loss_and_grad

    shapes = seq2seq_weight_shapes(
        cell, 5, (3, 2), (4, 2), 4, bidirectional=True, attention="general",
        encoder_embedding_dim=2,
    )  # fmt: skip
    weights = random_seq2seq_weights(shapes, seed=3)
    X, Y = _data(None, 4, [2, 4, 1], [1, 3, 0], seed=8, tokens_in=5)
    options = dict(
        cell=cell, bidirectional=True, attention="general",
        sample_weight=[0.5, 2.0, 1.0], alpha=0.1,
    )  # fmt: skip
    loss, grads = torch_seq2seq_loss_and_grad(weights, X, Y, **options)
    np.testing.assert_allclose(
        naive_seq2seq_loss(weights, X, Y, **options), loss, rtol=1e-12
    )
    _finite_difference_check(
        lambda: naive_seq2seq_loss(weights, X, Y, **options), weights, grads,
        n_entries=4, seed=1,
    )  # fmt: skip


@pytest.mark.torch
def test_benchmark_model_is_the_reference_model():
    """The PyTorch translator of the benchmark computes the reference loss."""
    torch = pytest.importorskip("torch")
    from benchmarks.seq2seq_torch import Translator, _encode_pairs
    from skrnn.datasets import make_addition

    torch.manual_seed(0)
    model = Translator(n_in=11, n_out=10, hidden=4, embedding=3).double()
    renamed = {
        "encoder_embedding.weight": "encoder.embedding.weight",
        "decoder_embedding.weight": "decoder.embedding.weight",
        "attention.weight": "attention.weight",
        "combine.weight": "attention.combine.weight",
        "combine.bias": "attention.combine.bias",
    }
    weights = {
        renamed.get(name, name): p.detach().numpy().copy()
        for name, p in model.named_parameters()
    }
    shapes = seq2seq_weight_shapes(
        "lstm", 11, (4,), (4,), 11, attention="general", decoder_embedding_dim=3,
        encoder_embedding_dim=3,
    )  # fmt: skip
    assert {k: v.shape for k, v in weights.items()} == shapes
    pairs = make_addition(6, random_state=0)
    x, x_len, y_in, y_out, y_len = _encode_pairs(pairs)
    with torch.no_grad():
        loss = float(model.loss(x, x_len, y_in, y_out, y_len))
    X = [x[i, : x_len[i]].numpy() for i in range(len(pairs))]
    Y = [y_out[i, : y_len[i] - 1].numpy() for i in range(len(pairs))]
    expected = naive_seq2seq_loss(weights, X, Y, cell="lstm", attention="general")
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
