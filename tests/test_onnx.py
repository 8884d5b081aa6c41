"""ONNX export: the exported models run in onnxruntime and match predict."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skrnn import (
    RNNClassifier,
    RNNRegressor,
    SequenceTagger,
    SequenceTranscriber,
    SequenceTranslator,
)
from skrnn.preprocessing import SequenceScaler, TextTokenizer
from tests._helpers import ragged
from tests.conftest import CELLS

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
skrnn_onnx = pytest.importorskip("skrnn.onnx")
pad_sequences, to_onnx = skrnn_onnx.pad_sequences, skrnn_onnx.to_onnx

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RTOL = 1e-5


def _session(model, **kwargs):
    return ort.InferenceSession(to_onnx(model, **kwargs).SerializeToString())


def _close(actual, expected):
    """float32 export against skrnn's predictions: 1e-5 relative to their scale."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.abs(expected).max()), 1e-3)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * scale)


def _run(session, X, lengths=None):
    feed = {"X": X}
    if lengths is not None:
        feed["lengths"] = lengths
    return session.run(None, feed)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("hidden_layer_sizes", [(7,), (6, 5)])
def test_regressor_ragged_matches_predict(cell, bidirectional, hidden_layer_sizes):
    X = ragged(n_features=3)
    y = np.array([x[:, 0].sum() - x[-1, 1] for x in X])
    reg = RNNRegressor(
        hidden_layer_sizes=hidden_layer_sizes, cell=cell,
        bidirectional=bidirectional, max_iter=5, random_state=0,
    ).fit(X, y)  # fmt: skip
    session = _session(reg)
    X_padded, lengths = pad_sequences(X)
    (out,) = _run(session, X_padded, lengths)
    assert out.shape == (len(X),)
    _close(out, reg.predict(X))
    # A different batch, in a different order, still matches.
    X_new = ragged(n=9, n_features=3, seed=1, low=1, high=12)
    (out,) = _run(session, *pad_sequences(X_new))
    _close(out, reg.predict(X_new))


@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
def test_elman_activations(activation):
    X = ragged(n_features=3)
    y = np.array([x.mean() for x in X])
    reg = RNNRegressor(
        hidden_layer_sizes=(6,), cell="rnn", activation=activation,
        max_iter=5, random_state=0,
    ).fit(X, y)  # fmt: skip
    (out,) = _run(_session(reg), *pad_sequences(X))
    _close(out, reg.predict(X))


def test_regressor_3d_without_lengths_multioutput():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 5, 2))
    Y = np.c_[X.sum(axis=(1, 2)), X[:, -1, 0]]
    reg = RNNRegressor(hidden_layer_sizes=(8,), cell="gru", max_iter=5, random_state=0)
    reg.fit(X, Y)
    session = _session(reg, lengths=False)
    assert [i.name for i in session.get_inputs()] == ["X"]
    (out,) = _run(session, X.astype(np.float32))
    assert out.shape == (30, 2)
    _close(out, reg.predict(X))


def test_regressor_poisson_exp_link():
    X = ragged(n_features=3)
    y = np.array([np.exp(0.3 * x[:, 0].sum()) for x in X])
    reg = RNNRegressor(hidden_layer_sizes=(6,), loss="poisson", max_iter=5)
    reg.set_params(random_state=0).fit(X, y)
    (out,) = _run(_session(reg), *pad_sequences(X))
    assert np.all(out > 0)
    _close(out, reg.predict(X))


def test_univariate_table():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 6))
    reg = RNNRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    reg.fit(X, X.sum(axis=1))
    session = _session(reg, lengths=False)
    assert session.get_inputs()[0].shape == ["N", "T"]
    (out,) = _run(session, X.astype(np.float32))
    _close(out, reg.predict(X))


@pytest.mark.parametrize(
    "labels", [np.array(["neg", "pos"]), np.array([3, 7, 11])], ids=["str", "int"]
)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_labels_and_probabilities(labels, bidirectional):
    X = ragged(n_features=3)
    rng = np.random.RandomState(0)
    y = labels[rng.randint(0, len(labels), size=len(X))]
    clf = RNNClassifier(
        hidden_layer_sizes=(6, 4), bidirectional=bidirectional,
        max_iter=5, random_state=0,
    ).fit(X, y)  # fmt: skip
    session = _session(clf)
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    label, proba = _run(session, *pad_sequences(X))
    np.testing.assert_array_equal(label, clf.predict(X))
    assert label.dtype.kind == labels.dtype.kind or label.dtype == object
    _close(proba, clf.predict_proba(X))


def test_multilabel_classifier():
    X = ragged(n_features=3)
    Y = np.array([[x[:, 0].sum() > 0, x[:, 1].sum() > 0] for x in X]).astype(int)
    clf = RNNClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, Y)
    label, proba = _run(_session(clf), *pad_sequences(X))
    np.testing.assert_array_equal(label, clf.predict(X))
    _close(proba, clf.predict_proba(X))


@pytest.mark.parametrize("cell", CELLS)
def test_tagger_per_step(cell):
    X = ragged(n_features=3)
    tags = np.array(["B", "I", "O"])
    y = [tags[(x[:, 0] > 0).astype(int) + (x[:, 1] > 1)] for x in X]
    tagger = SequenceTagger(hidden_layer_sizes=(6, 4), cell=cell, max_iter=5)
    tagger.set_params(random_state=0).fit(X, y)
    label, proba = _run(_session(tagger), *pad_sequences(X))
    assert proba.shape == (len(X), max(map(len, X)), 3)
    for i, (expected, expected_proba) in enumerate(
        zip(tagger.predict(X), tagger.predict_proba(X))
    ):
        n = len(expected)
        np.testing.assert_array_equal(label[i, :n], expected)
        _close(proba[i, :n], expected_proba)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_transcriber_frame_posteriors(cell, bidirectional):
    X = ragged(n_features=3)
    y = ["".join("ab"[int(v > 0)] for v in x[: len(x) // 2, 0]) for x in X]
    model = SequenceTranscriber(
        hidden_layer_sizes=(5, 4), cell=cell, bidirectional=bidirectional,
        max_iter=3, random_state=0,
    ).fit(X, y)  # fmt: skip
    session = _session(model)
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    (proba,) = _run(session, *pad_sequences(X))
    assert proba.shape == (len(X), max(map(len, X)), len(model.classes_) + 1)
    for i, expected in enumerate(model.predict_proba(X)):
        _close(proba[i, : len(expected)], expected)
    # Decoding stays in Python: the exported posteriors give predict's labels.
    (proba,) = _run(session, *pad_sequences(X[:1]))
    blank = len(model.classes_)
    best = np.argmax(proba[0], axis=1)
    kept = [
        k for t, k in enumerate(best) if k != blank and (t == 0 or k != best[t - 1])
    ]
    assert "".join(model.classes_[kept]) == model.predict(X[:1])[0]


@pytest.mark.parametrize("estimator", ["classifier", "tagger"])
def test_token_ids_with_embedding(estimator):
    rng = np.random.RandomState(0)
    X = [rng.randint(1, 30, size=n) for n in rng.randint(2, 10, size=30)]
    if estimator == "classifier":
        model = RNNClassifier(embedding_dim=5, hidden_layer_sizes=(6,), cell="gru")
        y = rng.randint(0, 3, size=len(X))
    else:
        model = SequenceTagger(embedding_dim=5, hidden_layer_sizes=(6,))
        y = [x % 2 for x in X]
    model.set_params(max_iter=5, random_state=0).fit(X, y)
    session = _session(model)
    assert session.get_inputs()[0].type == "tensor(int64)"
    X_padded, lengths = pad_sequences(X, dtype=np.int64)
    label, proba = _run(session, X_padded, lengths)
    if estimator == "classifier":
        np.testing.assert_array_equal(label, model.predict(X))
        _close(proba, model.predict_proba(X))
    else:
        for i, expected in enumerate(model.predict(X)):
            np.testing.assert_array_equal(label[i, : len(expected)], expected)


def test_text_pipeline_exports_model_after_tokenizer():
    texts = ["good film", "bad film", "very good", "very bad plot", "good plot"] * 6
    y = [int("good" in t) for t in texts]
    pipe = make_pipeline(
        TextTokenizer(),
        RNNClassifier(embedding_dim=4, hidden_layer_sizes=(5,), max_iter=5),
    ).fit(texts, y)  # fmt: skip
    with pytest.raises(NotImplementedError, match="TextTokenizer"):
        to_onnx(pipe)
    # The documented recipe: tokenise in Python, export the model alone.
    tokenizer, clf = pipe[0], pipe[-1]
    ids = tokenizer.transform(texts)
    label, _ = _run(_session(clf), *pad_sequences(ids, dtype=np.int64))
    np.testing.assert_array_equal(label, pipe.predict(texts))


@pytest.mark.parametrize("scaler", [StandardScaler, MinMaxScaler])
def test_pipeline_with_sklearn_scaler_regressor(scaler):
    rng = np.random.RandomState(0)
    X = rng.normal(loc=3.0, scale=2.0, size=(40, 6))
    pipe = make_pipeline(
        scaler(), RNNRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    ).fit(X, X.sum(axis=1))
    session = _session(pipe)
    (out,) = session.run(None, {"X": X.astype(np.float32)})
    _close(out.ravel(), pipe.predict(X))


def test_pipeline_with_sklearn_scaler_classifier_via_skl2onnx():
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6))
    y = np.where(X.sum(axis=1) > 0, "up", "down")
    pipe = make_pipeline(
        StandardScaler(),
        RNNClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
    ).fit(X, y)  # fmt: skip
    skrnn_onnx.register_converters()
    model = skl2onnx.to_onnx(
        pipe,
        initial_types=[("X", FloatTensorType([None, 6]))],
        options={id(pipe[-1]): {"zipmap": False}},
    )
    session = ort.InferenceSession(model.SerializeToString())
    label, proba = session.run(None, {"X": X.astype(np.float32)})
    np.testing.assert_array_equal(label, pipe.predict(X))
    _close(proba, pipe.predict_proba(X))


def test_pipeline_with_multilabel_classifier():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5))
    Y = np.c_[X.sum(axis=1) > 0, X[:, -1] > 0].astype(int)
    pipe = make_pipeline(
        StandardScaler(),
        RNNClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
    ).fit(X, Y)  # fmt: skip
    session = _session(pipe)
    assert session.get_outputs()[0].shape[-1] == 2
    label, proba = session.run(None, {"X": X.astype(np.float32)})
    np.testing.assert_array_equal(label, pipe.predict(X))
    _close(proba, pipe.predict_proba(X))


def test_pipeline_on_ragged_input_is_refused():
    X = ragged(n_features=3)
    pipe = make_pipeline(SequenceScaler(), RNNRegressor(max_iter=2)).fit(
        X, np.zeros(len(X))
    )
    with pytest.raises(NotImplementedError, match="SequenceScaler"):
        to_onnx(pipe)
    pipe = make_pipeline(RNNRegressor(embedding_dim=3, max_iter=2))
    X_ids = np.random.RandomState(0).randint(0, 5, size=(20, 4))
    pipe.fit(X_ids, np.zeros(20))
    with pytest.raises(NotImplementedError, match="2-D input"):
        to_onnx(pipe)


def test_identity_activation_is_refused():
    X = ragged(n_features=3)
    reg = RNNRegressor(cell="rnn", activation="identity", max_iter=2).fit(
        X, np.zeros(len(X))
    )
    with pytest.raises(NotImplementedError, match="identity"):
        to_onnx(reg)


def test_single_class_is_refused():
    X = ragged(n_features=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(max_iter=2).fit(X, ["a"] * len(X))
    with pytest.raises(NotImplementedError, match="single class"):
        to_onnx(clf)


def test_translator_is_refused():
    X = [np.ones((3, 2)), np.zeros((4, 2))] * 4
    translator = SequenceTranslator(hidden_layer_sizes=(4,), max_iter=2)
    translator.fit(X, ["ab", "b"] * 4)
    with pytest.raises(NotImplementedError, match="got SequenceTranslator"):
        to_onnx(translator)


def test_other_objects_are_refused():
    with pytest.raises(NotImplementedError, match="got TextTokenizer"):
        to_onnx(TextTokenizer().fit(["a b"]))
    with pytest.raises(NotFittedError):
        to_onnx(RNNRegressor())


def test_pad_sequences():
    X_padded, lengths = pad_sequences([np.ones(2), np.arange(3.0)])
    np.testing.assert_array_equal(lengths, [2, 3])
    np.testing.assert_array_equal(X_padded, [[1, 1, 0], [0, 1, 2]])
    assert X_padded.dtype == np.float32
    assert lengths.dtype == np.int32
    with pytest.raises(ValueError, match="at least one sequence"):
        pad_sequences([])
    with pytest.raises(ValueError, match="Sequence 1 has steps of shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])


def test_model_is_valid_onnx():
    import onnx

    X = ragged(n_features=3)
    reg = RNNRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, np.zeros(len(X)))
    model = to_onnx(reg, name="my_model")
    onnx.checker.check_model(model, full_check=True)
    assert model.graph.name == "my_model"
    assert {node.op_type for node in model.graph.node} >= {"LSTM", "MatMul"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_X_sets_the_input_type(dtype):
    # skl2onnx's first call: to_onnx(model, X[:1]).
    X = ragged(n_features=3)
    y = np.array([x.sum() for x in X])
    reg = RNNRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    X_padded, lengths = pad_sequences(X, dtype=dtype)
    session = ort.InferenceSession(to_onnx(reg, X_padded[:1]).SerializeToString())
    expected = "tensor(float)" if dtype == np.float32 else "tensor(double)"
    assert session.get_inputs()[0].type == expected
    (out,) = _run(session, X_padded, lengths)
    assert out.dtype == np.float32
    _close(out, reg.predict(X))
    # A ragged list as the sample: its first sequence stands for all.
    model = to_onnx(reg, [x.astype(dtype) for x in X])
    assert model.graph.input[0].type.tensor_type.elem_type == (
        1 if dtype == np.float32 else 11
    )


def test_sample_X_2d_is_univariate_and_int_ids_stay_ints():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 6))
    reg = RNNRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    reg.fit(X[:, :, np.newaxis], X.sum(axis=1))  # fitted on 3-D input
    session = ort.InferenceSession(
        to_onnx(reg, X[:1], lengths=False).SerializeToString()
    )
    assert session.get_inputs()[0].shape == ["N", "T"]
    (out,) = session.run(None, {"X": X})
    _close(out, reg.predict(X[:, :, np.newaxis]))

    ids = rng.randint(0, 9, size=(20, 5)).astype(np.int32)
    clf = RNNClassifier(embedding_dim=3, hidden_layer_sizes=(4,), max_iter=3)
    clf.set_params(random_state=0).fit(ids, np.arange(20) % 2)
    session = ort.InferenceSession(to_onnx(clf, ids[:1]).SerializeToString())
    assert session.get_inputs()[0].type == "tensor(int32)"
    label, _ = session.run(None, {"X": ids, "lengths": np.full(20, 5, np.int32)})
    np.testing.assert_array_equal(label, clf.predict(ids))


def test_sample_X_in_a_pipeline_float64():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=3.0, scale=2.0, size=(40, 6))
    pipe = make_pipeline(
        StandardScaler(),
        RNNRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
    ).fit(X, X.sum(axis=1))
    session = ort.InferenceSession(to_onnx(pipe, X[:1]).SerializeToString())
    assert session.get_inputs()[0].type == "tensor(double)"
    (out,) = session.run(None, {"X": X})
    _close(out.ravel(), pipe.predict(X))


@pytest.mark.parametrize(
    ("sample", "error", "match"),
    [
        (np.array([["a", "b"]]), TypeError, "dtype <U1"),
        (
            np.zeros((1, 4, 2)),
            ValueError,
            r"shape \(1, 4, 2\).*\(n_sequences, n_steps, 3\)",
        ),
        (np.zeros(4), ValueError, r"shape \(4,\)"),
        (np.zeros((1, 4)), ValueError, "is 2-D.*reads 3 features per step"),
    ],
)
def test_bad_sample_X(sample, error, match):
    X = ragged(n_features=3)
    reg = RNNRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    reg.fit(X, np.zeros(len(X)))
    with pytest.raises(error, match=match):
        to_onnx(reg, sample)


def test_sample_X_of_a_pipeline_must_be_2d_float():
    X = np.random.RandomState(0).normal(size=(20, 4))
    pipe = make_pipeline(StandardScaler(), RNNRegressor(max_iter=2)).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="2-D float32 or float64"):
        to_onnx(pipe, X[:1].astype(np.int64))


def test_pipeline_with_a_transcriber_exports_its_posteriors():
    pytest.importorskip("skl2onnx")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 6))
    y = ["ab"[int(r[0] > 0)] + "ab"[int(r[3] > 0)] for r in X]
    model = SequenceTranscriber(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    pipe = make_pipeline(StandardScaler(), model).fit(X, y)
    session = _session(pipe)
    (proba,) = _run(session, X.astype(np.float32))
    _close(proba, np.stack(pipe[-1].predict_proba(pipe[0].transform(X))))
