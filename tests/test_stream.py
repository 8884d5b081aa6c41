"""Live streams: pushes equal predictions on prefixes, state, pickling, ONNX.

The reference for a stream is the estimator's batched prediction on every
prefix of the sequence (a batch of two or more sequences, so the batched
kernels compute it, not the streaming kernel), and for the kernel alone the
NumPy references of ``tests/naive.py``.
"""

import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skrnn import (
    RNNClassifier,
    RNNRegressor,
    SequenceTagger,
    SequenceTranscriber,
    SequenceTranslator,
)
from skrnn._kernels import ACTIVATION_CODES
from skrnn._kernels._stream import BLAS_MIN_STREAMS
from skrnn._stream import quick_sequences
from tests.conftest import CELLS
from tests.naive import naive_forward

# Every cell, and the Elman cell with each of its activations.
CELL_VARIANTS = [("rnn", name) for name in ACTIVATION_CODES] + [
    (cell, "tanh") for cell in CELLS if cell != "rnn"
]
KINDS = {
    "classifier": RNNClassifier,
    "regressor": RNNRegressor,
    "tagger": SequenceTagger,
    "transcriber": SequenceTranscriber,
}
N_FEATURES = 3


def _tolerance(dtype):
    if np.dtype(dtype) == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-10, "atol": 1e-12}


def _data(kind, dtype, n=24, seed=0):
    rng = np.random.RandomState(seed)
    X = [
        rng.normal(size=(int(t), N_FEATURES)).astype(dtype)
        for t in rng.randint(2, 9, n)
    ]
    if kind == "tagger":
        y = [np.digitize(x[:, 0], [-0.5, 0.5]) for x in X]
    elif kind == "transcriber":
        y = ["".join("ab"[int(v > 0)] for v in x[: len(x) // 2, 0]) for x in X]
    elif kind == "classifier":
        y = np.arange(n) % 3
    else:
        y = np.array([[x[:, 0].sum(), x[:, 1].mean()] for x in X])
    return X, y


@cache
def _fitted(kind, cell, activation, layers, dtype, **params):
    X, y = _data(kind, dtype)
    estimator = KINDS[kind](
        hidden_layer_sizes=layers, cell=cell, activation=activation,
        bidirectional=False, max_iter=3, learning_rate_init=0.05, random_state=0,
        **params,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _outputs(estimator, X):
    if isinstance(estimator, RNNRegressor):
        return estimator.predict(X)
    return estimator.predict_proba(X)


def _prefix_outputs(estimator, x):
    """Batched outputs on every prefix of ``x``: ``(T, ...)``."""
    prefixes = [x[: t + 1] for t in range(len(x))] + [x]  # two or more sequences
    outputs = _outputs(estimator, prefixes)[:-1]
    if isinstance(estimator, (SequenceTagger, SequenceTranscriber)):
        return np.array([p[-1] for p in outputs])
    return np.asarray(outputs)


def _chunked(stream, x, cuts):
    bounds = [0, *sorted(set(cuts)), len(x)]
    return np.concatenate(
        [stream.push(x[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("cell", "activation"), CELL_VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_chunked_pushes_equal_predictions_on_prefixes(
    kind, cell, activation, dtype, data
):
    estimator = _fitted(kind, cell, activation, (4, 3), dtype)
    n_steps = data.draw(st.integers(1, 10), label="n_steps")
    cuts = data.draw(st.lists(st.integers(1, max(n_steps - 1, 1)), max_size=4))
    x = np.random.RandomState(n_steps).normal(size=(n_steps, N_FEATURES)).astype(dtype)
    stream = estimator.stream()
    pushed = _chunked(stream, x, cuts)
    assert pushed.dtype == dtype
    assert stream.steps_seen == n_steps
    np.testing.assert_allclose(
        pushed, _prefix_outputs(estimator, x), **_tolerance(dtype)
    )


@pytest.mark.parametrize(("cell", "activation"), CELL_VARIANTS)
def test_kernel_equals_naive_reference(cell, activation):
    """Hidden states and head against tests/naive.py, layer by layer."""
    estimator = _fitted("regressor", cell, activation, (5, 4), np.float64)
    W = estimator.get_weights()
    x = np.random.RandomState(1).normal(size=(7, N_FEATURES))
    inputs, states = x, []
    for k, H in enumerate((5, 4)):
        c0 = np.zeros(H) if cell == "lstm" else None
        hs, h_n, c_n = naive_forward(
            cell, inputs, W[f"weight_ih_l{k}"], W[f"weight_hh_l{k}"],
            W[f"bias_ih_l{k}"], W[f"bias_hh_l{k}"], np.zeros(H), c0, False, activation,
        )  # fmt: skip
        states.append((h_n, c_n))
        inputs = hs
    expected = inputs @ W["output.weight"].T + W["output.bias"]
    stream = estimator.stream()
    np.testing.assert_allclose(stream.push(x), expected, rtol=1e-12, atol=1e-12)
    for layer, (h_n, c_n) in enumerate(states):
        state = stream.state[layer]
        h = state[0] if cell == "lstm" else state
        np.testing.assert_allclose(h[0, 0], h_n, rtol=1e-12, atol=1e-14)
        if cell == "lstm":
            np.testing.assert_allclose(state[1][0, 0], c_n, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_token_ids(cell, dtype):
    rng = np.random.RandomState(0)
    X = [rng.randint(0, 6, size=int(t)).astype(dtype) for t in rng.randint(2, 9, 20)]
    y = [np.roll(x, 1).astype(int) % 3 for x in X]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tagger = SequenceTagger(
            hidden_layer_sizes=(5,), cell=cell, bidirectional=False, embedding_dim=3,
            max_iter=3, random_state=0,
        ).fit(X, y)  # fmt: skip
    ids = np.array([3, 0, 5, 5, 1, 2])
    stream = tagger.stream()
    pushed = np.concatenate([stream.push(ids[:2]), stream.push(ids[2:3].reshape(1, 1)),
                             stream.push(list(ids[3:]))])  # fmt: skip
    expected = tagger.predict_proba([ids.astype(dtype), ids[:2].astype(dtype)])[0]
    np.testing.assert_allclose(pushed, expected, **_tolerance(dtype))
    many = tagger.stream(n_streams=2)
    both = many.push(np.stack([ids, ids[::-1]]))
    np.testing.assert_allclose(both[0], expected, **_tolerance(dtype))
    with pytest.raises(
        ValueError, match=r"token id 6 at step 1 of stream 1.*ids 0 to 5"
    ):
        many.push([[0, 1], [2, 6]])
    np.testing.assert_array_equal(many.steps_seen, [6, 6])  # state left as it was
    with pytest.raises(TypeError, match="reads token ids"):
        stream.push(np.array([0.5]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_many_streams_equal_single_streams(kind):
    estimator = _fitted(kind, "gru", "tanh", (4, 3), np.float64)
    X = np.random.RandomState(2).normal(size=(3, 6, N_FEATURES))
    many = estimator.stream(n_streams=3)
    together = np.concatenate([many.push(X[:, :2]), many.push(X[:, 2:])], axis=1)
    for i in range(3):
        alone = estimator.stream().push(X[i])
        np.testing.assert_array_equal(together[i], alone)
    np.testing.assert_array_equal(many.steps_seen, [6, 6, 6])
    many.reset(streams=[1])
    np.testing.assert_array_equal(many.steps_seen, [6, 0, 6])
    again = many.push(X[:, :1])
    np.testing.assert_array_equal(again[1], together[1, :1])


@pytest.mark.parametrize(("cell", "activation"), CELL_VARIANTS)
@pytest.mark.parametrize("embedding", [False, True])
def test_many_streams_by_matrix_products(cell, activation, embedding):
    """From BLAS_MIN_STREAMS streams on, one product per layer and step."""
    N = BLAS_MIN_STREAMS + 3
    rng = np.random.RandomState(10)
    if embedding:
        X = [rng.randint(0, 5, size=int(t)) for t in rng.randint(2, 9, 20)]
        y = [x % 2 for x in X]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator = SequenceTagger(
                hidden_layer_sizes=(4, 3), cell=cell, activation=activation,
                bidirectional=False, embedding_dim=2, max_iter=2, random_state=0,
            ).fit(X, y)  # fmt: skip
        steps = rng.randint(0, 5, size=(N, 6))
    else:
        estimator = _fitted("tagger", cell, activation, (4, 3), np.float64)
        steps = rng.normal(size=(N, 6, N_FEATURES))
    many = estimator.stream(n_streams=N)
    together = np.concatenate([many.push(steps[:, :4]), many.push(steps[:, 4:])], 1)
    # Integer token ids compute in float32.
    float64 = estimator.get_weights()["output.weight"].dtype == np.float64
    rtol, atol = (1e-12, 1e-14) if float64 else (1e-5, 1e-7)
    for i in (0, N - 1):
        alone = estimator.stream().push(steps[i])
        np.testing.assert_allclose(together[i], alone, rtol=rtol, atol=atol)


def test_output_forms():
    clf = _fitted("classifier", "lstm", "tanh", (4,), np.float64)
    assert clf.stream().push(np.zeros((2, N_FEATURES))).shape == (2, 3)
    reg = _fitted("regressor", "lstm", "tanh", (4,), np.float64)
    assert reg.stream(n_streams=2).push(np.zeros((2, 5, N_FEATURES))).shape == (2, 5, 2)
    # Binary and single-target models: predict_proba's two columns, predict's 1-D.
    X, y = _data("classifier", np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        binary = RNNClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y % 2)
        single = RNNRegressor(hidden_layer_sizes=(3,), max_iter=2).fit(X, y * 1.0)
        table = RNNRegressor(hidden_layer_sizes=(3,), max_iter=2).fit(
            np.random.RandomState(0).normal(size=(20, 5)), np.arange(20.0)
        )
    x = X[0]
    np.testing.assert_allclose(
        binary.stream().push(x)[-1], binary.predict_proba([x, x[:1]])[0], rtol=1e-10
    )
    out = single.stream().push(x)
    assert out.shape == (len(x),)
    np.testing.assert_allclose(out[-1], single.predict([x, x[:1]])[0], rtol=1e-10)
    # Multilabel probabilities and the exponential output of the Poisson loss.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = np.stack([y % 2, (y + 1) % 2, y // 2], axis=1)
        multilabel = RNNClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, labels)
        poisson = RNNRegressor(hidden_layer_sizes=(3,), max_iter=2, loss="poisson")
        poisson.fit(X, y * 1.0)
    for model in (multilabel, poisson):
        pushed = model.stream().push(x)
        np.testing.assert_allclose(
            pushed[-1], _outputs(model, [x, x[:1]])[0], rtol=1e-10
        )
    # A model fitted on a table of univariate rows takes (k,) steps.
    row = np.random.RandomState(1).normal(size=5)
    pushed = table.stream().push(row)
    assert pushed.shape == (5,)
    np.testing.assert_allclose(pushed[-1], table.predict(row[None])[0], rtol=1e-10)
    many = table.stream(n_streams=2)
    assert many.push(np.zeros((2, 3))).shape == (2, 3)


def test_pickle_mid_stream():
    estimator = _fitted("tagger", "lstm", "tanh", (4, 3), np.float64)
    X = np.random.RandomState(3).normal(size=(2, 9, N_FEATURES))
    stream = estimator.stream(n_streams=2)
    stream.push(X[:, :4])
    resumed = pickle.loads(pickle.dumps(stream))
    np.testing.assert_array_equal(resumed.push(X[:, 4:]), stream.push(X[:, 4:]))
    np.testing.assert_array_equal(resumed.steps_seen, [9, 9])
    assert "steps_seen=array([9, 9])" in repr(resumed)


def test_state_read_and_set():
    estimator = _fitted("classifier", "lstm", "tanh", (4, 3), np.float64)
    X = np.random.RandomState(4).normal(size=(10, N_FEATURES))
    first = estimator.stream()
    first.push(X[:6])
    state = first.state
    assert [tuple(a.shape for a in layer) for layer in state] == [
        ((1, 1, 4), (1, 1, 4)),
        ((1, 1, 3), (1, 1, 3)),
    ]
    state[0][0][...] = 99.0  # a copy: the stream is not changed
    second = estimator.stream()
    second.state = first.state
    assert second.steps_seen == 0  # setting the state keeps the count
    np.testing.assert_array_equal(second.push(X[6:]), first.push(X[6:]))
    gru = _fitted("classifier", "gru", "tanh", (4,), np.float64).stream(n_streams=2)
    assert gru.state[0].shape == (1, 2, 4)
    gru.state = [np.ones((1, 2, 4))]
    np.testing.assert_array_equal(gru.state[0], 1.0)
    with pytest.raises(ValueError, match=r"one entry per layer \(1\)"):
        gru.state = []
    with pytest.raises(ValueError, match=r"shape \(1, 1, 4\); expected \(1, 2, 4\)"):
        gru.state = [np.ones((1, 1, 4))]
    with pytest.raises(ValueError, match="NaN or infinity"):
        gru.state = [np.full((1, 2, 4), np.nan)]
    with pytest.raises(ValueError, match=r"a pair \(h, c\)"):
        second.state = [np.zeros((1, 1, 4)), np.zeros((1, 1, 3))]
    first.reset()
    assert first.steps_seen == 0
    np.testing.assert_array_equal(first.state[1][1], 0.0)


def test_threads_equal_serial():
    """One stream per thread, all from one estimator, pushing at the same time."""
    estimator = _fitted("classifier", "lstm", "tanh", (4, 3), np.float64)
    X = np.random.RandomState(5).normal(size=(4, 40, N_FEATURES))

    def run(x, barrier=None):
        stream = estimator.stream()
        if barrier is not None:
            barrier.wait(timeout=120)
        return np.concatenate([stream.push(x[t : t + 1]) for t in range(len(x))])

    serial = [run(x) for x in X]
    barrier = threading.Barrier(len(X))
    with ThreadPoolExecutor(max_workers=len(X)) as pool:
        threaded = list(pool.map(run, X, [barrier] * len(X)))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_predict_on_one_sequence(kind):
    """The fast path of one sequence equals the batched path to rounding."""
    estimator = _fitted(kind, "lstm", "tanh", (4, 3), np.float64)
    x = np.random.RandomState(6).normal(size=(12, N_FEATURES))
    alone = _outputs(estimator, [x])
    assert quick_sequences(estimator, [x]) is not None
    batched = _outputs(estimator, [x, x[:3]])
    np.testing.assert_allclose(alone[0], batched[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        _outputs(estimator, x[None]), _outputs(estimator, [x]), rtol=0, atol=0
    )


def test_predict_on_one_sequence_sees_new_weights():
    """Parameters kept for the fast path follow set_weights and partial_fit."""
    reg = _fitted("regressor", "gru", "tanh", (4,), np.float64)
    reg = pickle.loads(pickle.dumps(reg))  # a copy of the cached model
    x = np.random.RandomState(7).normal(size=(5, N_FEATURES))
    before = reg.predict([x])
    W = reg.get_weights()
    W["output.bias"] = W["output.bias"] + 1.0
    reg.set_weights(W)
    np.testing.assert_allclose(reg.predict([x]), before + 1.0, rtol=1e-12)
    X, y = _data("regressor", np.float64)
    reg.partial_fit(X, y)
    np.testing.assert_allclose(
        reg.predict([x])[0], reg.predict([x, x])[0], rtol=1e-12, atol=1e-14
    )


def test_quick_validation_leaves_the_rest_to_the_general_path():
    reg = _fitted("regressor", "gru", "tanh", (4,), np.float64)
    x = np.random.RandomState(8).normal(size=(5, N_FEATURES))
    assert quick_sequences(reg, [x.astype(np.float16)]) is None
    assert quick_sequences(reg, (x,)) is None
    assert quick_sequences(reg, x[None]).form == "array"
    assert quick_sequences(reg, np.stack([x, x])) is None
    assert quick_sequences(reg, [x[:, :2]]) is None
    assert quick_sequences(RNNRegressor(), [x]) is None
    bad = x.copy()
    bad[2, 1] = np.nan
    assert quick_sequences(reg, [bad]) is None
    with pytest.raises(
        ValueError, match=r"NaN in sequence 0 \(first at step 2, feature 1"
    ):
        reg.predict([bad])
    with pytest.raises(ValueError, match="X has 2 features per step"):
        reg.predict([x[:, :2]])
    with pytest.raises(NotFittedError):
        RNNRegressor().predict([x])


def test_errors():
    estimator = _fitted("classifier", "gru", "tanh", (4,), np.float64)
    with pytest.raises(NotFittedError):
        RNNClassifier().stream()
    X, y = _data("tagger", np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bidirectional = SequenceTagger(hidden_layer_sizes=(3,), max_iter=1).fit(X, y)
    with pytest.raises(
        ValueError, match="bidirectional=True.*Fit it with bidirectional=False"
    ):
        bidirectional.stream()
    assert not hasattr(SequenceTranslator(), "stream")
    with pytest.raises(TypeError, match="n_streams must be None .* got 2.0"):
        estimator.stream(n_streams=2.0)
    with pytest.raises(ValueError, match="positive int, got 0"):
        estimator.stream(n_streams=0)
    stream = estimator.stream()
    with pytest.raises(
        ValueError, match=r"shape \(4, 2\);.*takes \(k, 3\).*n_streams=N"
    ):
        stream.push(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        stream.push(np.zeros(4))
    with pytest.raises(ValueError, match="no step"):
        stream.push(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="dtype <U1"):
        stream.push(np.array([["a", "b", "c"]]))
    x = np.zeros((3, 3))
    x[1, 2] = np.inf
    with pytest.raises(ValueError, match="infinity at step 1, feature 2.*unchanged"):
        stream.push(x)
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN at step 1, feature 2"):
        stream.push(x)
    assert stream.steps_seen == 0
    many = estimator.stream(n_streams=2)
    with pytest.raises(ValueError, match=r"takes \(n_streams, k, 3\) = \(2, k, 3\)"):
        many.push(np.zeros((3, 1, 3)))
    with pytest.raises(ValueError, match="out of range for 2 stream"):
        many.reset(streams=2)
    with pytest.raises(TypeError, match="streams must be None, an int"):
        many.reset(streams=[0.5])


ONNX_KINDS = ["classifier", "regressor", "tagger", "transcriber"]


@pytest.mark.parametrize("kind", ONNX_KINDS)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("lengths", [True, False])
def test_onnx_round_trip_with_state(kind, cell, lengths):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from skrnn.onnx import to_onnx

    estimator = _fitted(kind, cell, "tanh", (4, 3), np.float32)
    model = to_onnx(estimator, stateful=True, lengths=lengths)
    session = ort.InferenceSession(model.SerializeToString())
    names = [o.name for o in session.get_outputs()]
    role = "variable" if kind == "regressor" else "probabilities"
    expected_inputs = ["X"] + (["lengths"] if lengths else [])
    for k in range(2):
        expected_inputs += [f"initial_h_{k}"] + (
            [f"initial_c_{k}"] if cell == "lstm" else []
        )
    assert [i.name for i in session.get_inputs()] == expected_inputs
    N = 2
    stream = estimator.stream(n_streams=N)
    feeds = {}
    for k, layer in enumerate(stream.state):
        for name, array in zip(("h", "c"), layer if cell == "lstm" else (layer,)):
            feeds[f"initial_{name}_{k}"] = array
    assert all(np.all(v == 0) for v in feeds.values())
    X = np.random.RandomState(9).normal(size=(N, 8, N_FEATURES)).astype(np.float32)
    for a, b in [(0, 3), (3, 4), (4, 8)]:
        chunk = X[:, a:b]
        pushed = stream.push(chunk)
        inputs = {"X": chunk, **feeds}
        if lengths:
            inputs["lengths"] = np.full(N, b - a, dtype=np.int32)
        outputs = dict(zip(names, session.run(None, inputs)))
        for name in feeds:
            feeds[name] = outputs["final" + name[len("initial") :]]
        served = outputs[role]
        if kind not in ("tagger", "transcriber"):
            pushed = pushed[:, -1]
        np.testing.assert_allclose(served, pushed, rtol=1e-4, atol=1e-5)
    state = stream.state
    for k in range(2):
        h = state[k][0] if cell == "lstm" else state[k]
        np.testing.assert_allclose(feeds[f"initial_h_{k}"], h, rtol=1e-4, atol=1e-5)


def test_onnx_stateful_refusals():
    pytest.importorskip("onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skrnn.onnx import to_onnx

    X, y = _data("tagger", np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bidirectional = SequenceTagger(hidden_layer_sizes=(3,), max_iter=1).fit(X, y)
        regressor = RNNRegressor(hidden_layer_sizes=(3,), max_iter=1)
        pipe = make_pipeline(StandardScaler(), regressor)
        pipe.fit(np.ones((10, 4)), np.arange(10.0))
    with pytest.raises(ValueError, match="stateful=True .* bidirectional"):
        to_onnx(bidirectional, stateful=True)
    with pytest.raises(NotImplementedError, match="not a Pipeline"):
        to_onnx(pipe, stateful=True)


@pytest.mark.parametrize(
    ("estimator", "stream_class", "fed", "outputs"),
    [
        (RNNRegressor, "Stream", "steps", "outputs"),
        (SequenceTranscriber, "TranscriptionStream", "frames", "frames"),
    ],
    ids=["Stream", "TranscriptionStream"],
)
def test_stream_docstring_names_its_stream_and_its_refusals(
    estimator, stream_class, fed, outputs
):
    from numpydoc.docscrape import FunctionDoc

    doc = FunctionDoc(estimator(solver="adam").stream)
    (n_streams,) = doc["Parameters"]
    assert n_streams.name == "n_streams"
    assert f"fed {fed} of shape" in " ".join(n_streams.desc)
    assert [(r.name, r.type) for r in doc["Returns"]] == [
        ("stream", f"skrnn.{stream_class}")
    ]
    ((_, error, refusals),) = doc["Raises"]
    assert error == "ValueError"
    refusals = " ".join(refusals)
    assert "If the model is bidirectional" in refusals
    assert f"whose {outputs} fall at different steps" in refusals
    assert "{" not in str(doc)
