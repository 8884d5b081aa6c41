"""conv_layers and conv_padding on every estimator: the convolution front end
before the recurrent layers, through fit, predict, gradients, saving,
streaming, ONNX and PyTorch."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from skrnn import (
    RNNClassifier,
    RNNRegressor,
    SequenceTagger,
    SequenceTranscriber,
    SequenceTranslator,
)
from skrnn._batching import make_batch
from skrnn._network import RecurrentNetwork
from skrnn._translation_network import TranslationNetwork, make_decoder_batch
from tests._helpers import finite_difference, ragged

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)


def _data(kind, n=16, seed=0):
    """Ragged sequences (4 to 12 steps) and targets an estimator of ``kind`` takes."""
    X = ragged(n=n, n_features=3, seed=seed, low=4, high=13)
    if kind in ("regressor", "classifier"):
        y = np.array([x[:, 0].sum() for x in X])
        return X, (y > 0).astype(int) if kind == "classifier" else y
    if kind == "tagger":
        return X, [(x[:, 0] > 0).astype(int) for x in X]
    return X, ["ab" if x[0, 0] > 0 else "ba" for x in X]


ESTIMATORS = {
    "regressor": RNNRegressor,
    "classifier": RNNClassifier,
    "tagger": SequenceTagger,
    "translator": SequenceTranslator,
    "transcriber": SequenceTranscriber,
}


def _predictions(model, X):
    """A float array of what predict (or predict_proba) gives, per sequence."""
    if isinstance(model, SequenceTranslator):
        targets = ["ab"] * len(X)
        return [np.atleast_1d(v) for v in model.log_likelihood(X, targets)]
    if hasattr(model, "predict_proba"):
        out = model.predict_proba(X)
    else:
        out = model.predict(X)
    return list(out) if isinstance(out, list) else list(np.asarray(out))


def _assert_same(a, b, rtol=1e-10):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=rtol)


# ---------------------------------------------------------------- estimators
@pytest.mark.parametrize("padding", ["same", "causal"])
@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_every_estimator_fits_and_predicts_with_conv_layers(kind, padding):
    X, y = _data(kind)
    stride = 1 if kind == "tagger" else 2
    conv = ((4, 3, stride), (3, 3))
    model = ESTIMATORS[kind](conv_layers=conv, conv_padding=padding, **SMALL)
    model.fit(X, y)
    names = list(model.get_weights())
    prefix = "encoder." if kind == "translator" else ""
    expected = [f"{prefix}conv.0.weight", f"{prefix}conv.0.bias"]
    expected += [f"{prefix}conv.1.weight", f"{prefix}conv.1.bias"]
    assert names[:4] == expected
    weights = model.get_weights()
    assert weights[f"{prefix}conv.0.weight"].shape == (4, 3, 3)
    assert weights[f"{prefix}conv.1.weight"].shape == (3, 4, 3)
    assert weights[f"{prefix}weight_ih_l0"].shape[1] == 3
    model.predict(X)
    # Padding invariance: a sequence predicts the same alone and in a
    # ragged batch (its own steps only are convolved).
    together = _predictions(model, X)
    alone = [_predictions(model, [x])[0] for x in X[:4]]
    _assert_same(together[:4], alone)


def test_default_conv_layers_add_no_parameter():
    X, y = _data("regressor")
    plain = RNNRegressor(**SMALL).fit(X, y)
    assert not any("conv" in name for name in plain.get_weights())
    assert plain._network.config()["conv_layers"] == ()


@pytest.mark.parametrize("padding", ["same", "causal"])
def test_transcriber_gives_one_row_per_frame(padding):
    X, y = _data("transcriber")
    model = SequenceTranscriber(
        conv_layers=((4, 3, 2),), conv_padding=padding, **SMALL
    ).fit(X, y)
    proba = model.predict_proba(X)
    assert [len(p) for p in proba] == [-(-len(x) // 2) for x in X]
    alignment = model.align(X, y)
    assert [len(a) for a in alignment] == [-(-len(x) // 2) for x in X]
    assert [len(p) for p in model.predict_log_proba(X)] == [len(p) for p in proba]


def test_token_input_is_embedded_then_convolved():
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 6, size=n) for n in rng.integers(4, 10, size=12)]
    y = np.array([float(x.sum()) for x in X])
    model = RNNRegressor(embedding_dim=4, conv_layers=((3, 3, 2),), **SMALL)
    model.fit(X, y)
    weights = model.get_weights()
    assert list(weights)[:3] == ["embedding.weight", "conv.0.weight", "conv.0.bias"]
    assert weights["conv.0.weight"].shape == (3, 4, 3)
    # Small ids compute in float32.
    np.testing.assert_allclose(model.predict(X[:1]), model.predict(X)[:1], rtol=1e-5)


def test_warm_start_and_partial_fit_and_bptt_and_early_stopping():
    X, y = _data("regressor", n=24)
    conv = ((4, 3, 2),)
    model = RNNRegressor(conv_layers=conv, warm_start=True, **SMALL).fit(X, y)
    before = model.get_weights()["conv.0.weight"].copy()
    model.fit(X, y)
    assert not np.array_equal(before, model.get_weights()["conv.0.weight"])
    model.set_params(conv_layers=((5, 3, 2),))
    with pytest.raises(ValueError, match="architecture changed.*conv_layers"):
        model.fit(X, y)
    online = RNNRegressor(conv_layers=conv, **SMALL)
    online.partial_fit(X[:12], y[:12]).partial_fit(X[12:], y[12:])
    assert online.predict(X).shape == (24,)
    # bptt_steps counts frames: 2 frames of every sequence here.
    truncated = RNNRegressor(conv_layers=conv, bptt_steps=2, **SMALL).fit(X, y)
    assert np.isfinite(truncated.predict(X)).all()
    stopped = RNNRegressor(
        conv_layers=conv, early_stopping=True, n_iter_no_change=2, **SMALL
    ).fit(X, y)
    assert len(stopped.validation_scores_) == stopped.n_iter_


def test_sample_weight_counts_like_repeating_a_sequence():
    X, y = _data("regressor", n=10)
    kwargs = dict(conv_layers=((3, 3, 2),), solver="lbfgs", **SMALL)
    weighted = RNNRegressor(**kwargs).fit(X, y, sample_weight=[3] + [1] * 9)
    repeated = RNNRegressor(**kwargs).fit([X[0], X[0]] + X, np.r_[y[0], y[0], y])
    np.testing.assert_allclose(
        weighted.predict(X), repeated.predict(X), rtol=1e-6, atol=1e-8
    )


def test_many_to_one_head_reads_the_last_frame():
    """With causal padding and stride 2, frame ``t`` reads input steps up to
    ``2 t``: a sequence of even length ``L`` has its last frame at step
    ``L - 2``, so its last step is read by no frame and the prediction is
    that of ``L - 1`` steps (same frames), but not that of ``L - 2``."""
    X, y = _data("regressor")
    model = RNNRegressor(conv_layers=((4, 3, 2),), conv_padding="causal", **SMALL).fit(
        X, y
    )
    x = next(x for x in X if len(x) % 2 == 0)
    full, cut, shorter = (
        model.predict([x[:n]])[0] for n in (len(x), len(x) - 1, len(x) - 2)
    )
    assert full == cut
    assert full != shorter


# ------------------------------------------------------------------ gradients
@settings(max_examples=12, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    padding=st.sampled_from(["same", "causal"]),
    stride=st.integers(1, 3),
    per_step=st.booleans(),
    bidirectional=st.booleans(),
    embeds=st.booleans(),
    lengths=st.lists(st.integers(1, 7), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_whole_network_gradient_against_finite_differences(
    cell, padding, stride, per_step, bidirectional, embeds, lengths, seed
):
    rng = np.random.default_rng(seed)
    conv = ((3, 3, stride), (2, 1))
    if embeds:
        seqs = [rng.integers(0, 4, size=(n, 1)).astype(float) for n in lengths]
        tokens = dict(n_inputs=1, n_tokens=4, embedding_dim=2)
    else:
        seqs = [rng.normal(size=(n, 2)) for n in lengths]
        tokens = dict(n_inputs=2)
    network = RecurrentNetwork(
        cell, hidden_layer_sizes=(3,), n_outputs=2, per_step=per_step,
        bidirectional=bidirectional, conv_layers=conv, conv_padding=padding,
        **tokens,
    )  # fmt: skip
    theta = network.init_params(seed) + 0.1 * rng.normal(size=network.n_params)
    batch = make_batch(seqs, n_chunks=2)
    frames = network.frame_batch(batch)
    if per_step:
        Y = rng.normal(size=(*frames.step_mask().shape, 2))
        weights = frames.step_mask().astype(float)
    else:
        Y = batch.gather(rng.normal(size=(len(seqs), 2)))
        weights = batch.gather(np.ones(len(seqs)))
    _, grad = network.loss_and_grad(theta, batch, Y, weights, l2=0.01)
    numeric = finite_difference(
        lambda: network.loss_and_grad(theta, batch, Y, weights, l2=0.01)[0], theta
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_translation_network_gradient_with_encoder_convolutions():
    rng = np.random.default_rng(1)
    network = TranslationNetwork(
        "gru", 2, (3,), 4, attention="general", conv_layers=((3, 3, 2),),
        conv_padding="same", decoder_embedding_dim=2,
    )  # fmt: skip
    names = [b.name for b in network.blocks]
    assert names[:2] == ["encoder.conv.0.weight", "encoder.conv.0.bias"]
    theta = network.init_params(0) + 0.1 * rng.normal(size=network.n_params)
    seqs = [rng.normal(size=(n, 2)) for n in (5, 3, 6)]
    batch = make_batch(seqs, n_chunks=2)
    targets = [rng.integers(0, 3, size=n) for n in (2, 1, 3)]
    decoder, weights = make_decoder_batch(batch, targets, np.ones(3), 4, 3)
    _, grad = network.loss_and_grad(theta, batch, decoder, weights)
    numeric = finite_difference(
        lambda: network.loss_and_grad(theta, batch, decoder, weights)[0], theta
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_conv_parameters_are_drawn_after_the_others():
    plain = RecurrentNetwork("lstm", 3, (4,), 1)
    conv = RecurrentNetwork("lstm", 3, (4,), 1, conv_layers=((3, 3),))
    a, b = plain.views(plain.init_params(7)), conv.views(conv.init_params(7))
    np.testing.assert_array_equal(a["weight_hh_l0"], b["weight_hh_l0"])
    np.testing.assert_array_equal(a["output.weight"], b["output.weight"])
    bound = 1 / np.sqrt(3 * 3)
    assert np.abs(b["conv.0.weight"]).max() <= bound


# -------------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("padding", ["same", "causal"])
def test_pytorch_conv1d_relu_rnn_linear_loads_and_agrees(cell, padding):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    layers = ((4, 3, 2), (3, 5))
    X, y = _data("regressor", n=6)
    model = RNNRegressor(
        cell=cell, conv_layers=layers, conv_padding=padding, **SMALL
    ).fit(X, y)
    convs = nn.ModuleList([nn.Conv1d(3, 4, 3, stride=2), nn.Conv1d(4, 3, 5)]).double()
    rnn = (nn.GRU if cell == "gru" else nn.LSTM)(3, 5, batch_first=True).double()
    head = nn.Linear(5, 1).double()
    weights = {}
    for k, c in enumerate(convs):
        weights[f"conv.{k}.weight"] = c.weight.detach().numpy()
        weights[f"conv.{k}.bias"] = c.bias.detach().numpy()
    for name, value in rnn.named_parameters():
        weights[name] = value.detach().numpy()
    weights["output.weight"] = head.weight.detach().numpy()
    weights["output.bias"] = head.bias.detach().numpy()
    model.set_weights(weights)

    def forward(x):
        h = torch.as_tensor(x).T[None]  # (1, channels, T)
        for (_, width, *_), c in zip(layers, convs):
            left = width // 2 if padding == "same" else width - 1
            h = torch.relu(c(nn.functional.pad(h, (left, width - 1 - left))))
        out, _ = rnn(h.transpose(1, 2))
        return head(out[0, -1])[0]

    expected = [forward(x) for x in X]
    np.testing.assert_allclose(
        model.predict(X), [float(v) for v in expected], rtol=1e-10, atol=1e-12
    )
    # Gradients of the loss 0.5 * sum((z - y)^2) over the sequences.
    loss = sum(0.5 * (z - float(t)) ** 2 for z, t in zip(expected, y))
    loss.backward()
    network, theta = model._network, model._theta
    batch = make_batch([np.asarray(x) for x in X], n_chunks=2)
    value, grad = network.loss_and_grad(
        theta, batch, batch.gather(y[:, None]), batch.gather(np.ones(len(X)))
    )
    np.testing.assert_allclose(value, float(loss), rtol=1e-10)
    dP = network.views(grad)
    for k, c in enumerate(convs):
        np.testing.assert_allclose(dP[f"conv.{k}.weight"], c.weight.grad, atol=1e-10)
        np.testing.assert_allclose(dP[f"conv.{k}.bias"], c.bias.grad, atol=1e-10)
    for name, value in rnn.named_parameters():
        np.testing.assert_allclose(dP[name], value.grad, atol=1e-10)


# ---------------------------------------------------------------------- saving
@pytest.mark.parametrize("kind", ["regressor", "tagger", "translator", "transcriber"])
def test_pickle_round_trip_rebuilds_the_conv_network(kind):
    X, y = _data(kind)
    stride = 1 if kind == "tagger" else 2
    model = ESTIMATORS[kind](
        conv_layers=((4, 3, stride),), conv_padding="causal", **SMALL
    ).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded._network.config()["conv_layers"] == ((4, 3, stride),)
    _assert_same(_predictions(loaded, X), _predictions(model, X), rtol=0)


def test_skops_round_trip_with_conv_layers(tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = _data("classifier")
    model = RNNClassifier(conv_layers=((4, 3, 2),), **SMALL).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_loading_checks_the_conv_blocks():
    X, y = _data("regressor")
    model = RNNRegressor(conv_layers=((4, 3, 2),), **SMALL).fit(X, y)
    state = model.__getstate__()
    state["_network"] = {"config": {**state["_network"]["config"]}}
    state["_network"]["config"]["conv_layers"] = ((5, 3, 2),)
    with pytest.raises(ValueError, match="needs .* weights"):
        RNNRegressor().__setstate__(state)
    state = model.__getstate__()
    state["_network"]["config"]["conv_layers"] = ((4, 4),)
    with pytest.raises(ValueError, match="configuration .* is not valid.*odd width"):
        RNNRegressor().__setstate__(state)
    state = model.__getstate__()
    state["_theta"] = state["_theta"].copy()
    state["_theta"][0] = np.nan
    with pytest.raises(ValueError, match="first in 'conv.0.weight'"):
        RNNRegressor().__setstate__(state)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("conv_layers", "error", "match"),
    [
        ((64, 5), ValueError, r"single entry .* conv_layers=\(\(64, 5\),\)"),
        (((4,),), ValueError, r"conv_layers\[0\] is \(4,\); each entry must be"),
        (((4, 3, 2, 1),), ValueError, r"each entry must be \(filters, width\)"),
        (((4, 3.0),), TypeError, r"width=3.0 \(float\).*must be integers"),
        (((0, 3),), ValueError, r"filters=0; .*positive integers"),
        (((4, 3, 0),), ValueError, r"stride=0; .*positive integers"),
        (((4, 4),), ValueError, r"width 4, but conv_padding='same' needs an odd"),
    ],
)
def test_invalid_conv_layers_are_refused_clearly(conv_layers, error, match):
    X, y = _data("regressor")
    with pytest.raises(error, match=match):
        RNNRegressor(conv_layers=conv_layers, **SMALL).fit(X, y)


def test_invalid_conv_parameters_types_are_refused():
    X, y = _data("regressor")
    with pytest.raises(InvalidParameterError, match="conv_padding"):
        RNNRegressor(conv_padding="valid", **SMALL).fit(X, y)
    with pytest.raises(InvalidParameterError, match="conv_layers"):
        RNNRegressor(conv_layers="64,5", **SMALL).fit(X, y)
    # An even width is fine with causal padding.
    RNNRegressor(conv_layers=((4, 4),), conv_padding="causal", **SMALL).fit(X, y)


def test_tagger_refuses_a_stride_with_the_reason():
    X, y = _data("tagger")
    tagger = SequenceTagger(conv_layers=((4, 3), (4, 3, 2)), **SMALL)
    with pytest.raises(
        ValueError,
        match=r"conv_layers\[1\] has stride 2, but SequenceTagger predicts one "
        r"label per input step.*\(filters, width, 1\)",
    ):
        tagger.fit(X, y)


def test_transcriber_strided_feasibility_error_names_the_stride():
    X = [np.ones((6, 3)), np.ones((8, 3))]
    y = ["abab", "ab"]  # 4 labels need 4 frames; 6 steps at stride 2 give 3
    plain = SequenceTranscriber(**SMALL)
    plain.fit(X, y)  # feasible without the stride
    strided = SequenceTranscriber(conv_layers=((4, 3, 2),), **SMALL)
    with pytest.raises(
        ValueError,
        match=r"sequence 0 has 3 steps and needs 4.*counted in frames after "
        r"conv_layers, whose stride of 2 leaves ceil\(T / 2\) frames.*smaller "
        r"stride.*zero_infinity=True",
    ):
        strided.fit(X, y)
    lenient = SequenceTranscriber(conv_layers=((4, 3, 2),), zero_infinity=True, **SMALL)
    with pytest.warns(UserWarning, match="1 of 2 training pairs are left out"):
        lenient.fit(X, y)
    with pytest.raises(ValueError, match="whose stride of 2 leaves"):
        lenient.align(X, y)
    with pytest.raises(ValueError, match="All 1 input sequences.*stride of 2"):
        lenient.fit(X[:1], y[:1])


def test_forward_refuses_a_carried_state_with_conv_layers():
    network = RecurrentNetwork("gru", 2, (3,), 1, conv_layers=((2, 3),))
    theta = network.init_params(0)
    batch = make_batch([np.ones((4, 2))])
    _, state = RecurrentNetwork("gru", 2, (3,), 1).forward(
        np.zeros(RecurrentNetwork("gru", 2, (3,), 1).n_params), batch,
        return_state=True,
    )  # fmt: skip
    with pytest.raises(ValueError, match="cannot carry its recurrent state"):
        network.forward(theta, batch, state=state)


def test_forecast_rereads_the_sequences_with_conv_layers():
    X = [np.sin(np.arange(n) / 2.0)[:, None] for n in range(8, 16)]
    y = np.array([np.sin(len(x) / 2.0) for x in X])
    model = RNNRegressor(conv_layers=((3, 3),), **SMALL).fit(X, y)
    path = model.forecast(X[:2], n_steps=3)
    first = model.predict(X[:2])
    np.testing.assert_allclose(np.asarray(path)[:, 0], first)


# ------------------------------------------------------------------- streaming
@pytest.mark.parametrize("kind", ["regressor", "classifier", "tagger", "transcriber"])
def test_causal_stream_equals_predict_on_prefixes(kind):
    X, y = _data(kind)
    model = ESTIMATORS[kind](
        conv_layers=((4, 3), (3, 2)), conv_padding="causal", bidirectional=False,
        **SMALL,
    ).fit(X, y)  # fmt: skip
    x = X[0]
    live = model.stream()
    out = np.concatenate([live.push(x[:3]), live.push(x[3:4]), live.push(x[4:])])
    for t in range(1, len(x) + 1):
        expected = _predictions(model, [x[:t]])[0]
        expected = expected[-1] if np.ndim(expected) == 2 else expected
        np.testing.assert_allclose(out[t - 1], expected, rtol=1e-9, atol=1e-12)
    # Several streams, reset, and one stream restarted.
    many = model.stream(n_streams=2)
    both = many.push(np.stack([x[:4], X[1][:4]]))
    np.testing.assert_allclose(both[0], out[:4], rtol=1e-9, atol=1e-12)
    many.reset(1)
    again = many.push(np.stack([x[4:6], x[:2]]))
    np.testing.assert_allclose(again[0], out[4:6], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(again[1], out[:2], rtol=1e-9, atol=1e-12)


def test_stream_with_tokens_and_conv():
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 6, size=n) for n in rng.integers(4, 10, size=12)]
    y = [(x > 2).astype(int) for x in X]
    model = SequenceTagger(
        embedding_dim=3, conv_layers=((4, 3),), conv_padding="causal",
        bidirectional=False, **SMALL,
    ).fit(X, y)  # fmt: skip
    live = model.stream()
    out = live.push(X[0])
    np.testing.assert_allclose(out, model.predict_proba(X[:1])[0], rtol=1e-9)
    with pytest.raises(ValueError, match="token id 9 at step 1"):
        live.push(np.array([1, 9]))
    np.testing.assert_allclose(live.push(X[1][: 0 + 1]).shape, (1, 2))


def test_stream_refuses_same_padding_and_strides():
    X, y = _data("regressor")
    same = RNNRegressor(conv_layers=((4, 3),), **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="conv_padding='same'.*Fit it with "
                       "conv_padding='causal' to stream"):  # fmt: skip
        same.stream()
    strided = RNNRegressor(
        conv_layers=((4, 3, 2),), conv_padding="causal", **SMALL
    ).fit(X, y)
    with pytest.raises(ValueError, match="conv_layers of stride 2.*strides of 1"):
        strided.stream()


def test_stream_refuses_nan_and_keeps_its_state():
    X, y = _data("regressor")
    model = RNNRegressor(conv_layers=((4, 3),), conv_padding="causal", **SMALL).fit(
        X, y
    )
    live = model.stream()
    first = live.push(X[0][:2])
    bad = X[0][2:4].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN at step 1, feature 2"):
        live.push(bad)
    rest = live.push(X[0][2:])
    np.testing.assert_allclose(
        np.r_[first, rest][-1], model.predict(X[:1])[0], rtol=1e-9
    )


# ------------------------------------------------------------------------ ONNX
@pytest.mark.parametrize(
    ("kind", "conv"),
    [
        ("regressor", ((4, 3, 2), (3, 3))),
        ("classifier", ((4, 5, 3),)),
        ("tagger", ((4, 3), (3, 2))),
        ("transcriber", ((4, 3, 2),)),
    ],
)
@pytest.mark.parametrize("padding", ["same", "causal"])
def test_onnx_export_matches_predict(kind, conv, padding):
    ort = pytest.importorskip("onnxruntime")
    skrnn_onnx = pytest.importorskip("skrnn.onnx")
    if padding == "same" and any(width % 2 == 0 for _, width, *_ in conv):
        conv = tuple((f, w + 1 - w % 2, *rest) for f, w, *rest in conv)
    X, y = _data(kind)
    model = ESTIMATORS[kind](conv_layers=conv, conv_padding=padding, **SMALL).fit(X, y)
    session = ort.InferenceSession(skrnn_onnx.to_onnx(model).SerializeToString())
    padded, lengths = skrnn_onnx.pad_sequences(X)
    got = session.run(None, {"X": padded, "lengths": lengths})
    proba = got[-1] if kind != "regressor" else got[0]
    expected = _predictions(model, X)
    for i, e in enumerate(expected):
        e = np.asarray(e)
        g = proba[i][: len(e)] if e.ndim == 2 else proba[i]
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_onnx_stateful_export_refuses_conv_layers():
    pytest.importorskip("onnx")
    skrnn_onnx = pytest.importorskip("skrnn.onnx")
    X, y = _data("regressor")
    model = RNNRegressor(conv_layers=((4, 3),), conv_padding="causal", **SMALL).fit(
        X, y
    )
    with pytest.raises(ValueError, match="stateful=True .* has conv_layers"):
        skrnn_onnx.to_onnx(model, stateful=True)


def test_no_warning_but_convergence_with_conv():
    X, y = _data("regressor")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        RNNRegressor(conv_layers=((4, 3, 2),), **SMALL).fit(X, y).predict(X)


def test_tagger_sample_rereads_the_sequences_with_conv_layers():
    cycle = np.tile([1, 2, 3, 4], 6)
    X = [cycle[i : i + 8] for i in range(10)]
    y = [cycle[i + 1 : i + 9] for i in range(10)]
    model = SequenceTagger(
        embedding_dim=3, conv_layers=((4, 3),), conv_padding="causal",
        bidirectional=False, **SMALL,
    ).fit(X, y)  # fmt: skip
    drawn = model.sample([1, 2, 3], n_steps=3, temperature=0)
    seq = [1, 2, 3]
    for _ in range(3):
        seq.append(int(model.predict([np.array(seq)])[0][-1]))
    np.testing.assert_array_equal(drawn, seq[3:])
