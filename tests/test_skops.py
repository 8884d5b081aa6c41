"""Saving fitted models with skops: only skrnn's own estimators are untrusted."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skrnn import (
    RNNClassifier,
    RNNRegressor,
    SequenceTagger,
    SequenceTranscriber,
    SequenceTranslator,
)
from skrnn.preprocessing import SequenceScaler, TextTokenizer
from tests.conftest import FAST

QUICK = {**FAST, "max_iter": 3}

sio = pytest.importorskip("skops.io")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(int(rng.integers(3, 8)), 2)) for _ in range(24)]
    return rng, X


def _cases():
    rng, X = _data()
    y = np.array([x[:, 0].sum() for x in X])
    labels = np.where(y > 0, "up", "down")
    steps = [np.where(x[:, 1] > 0, "a", "b") for x in X]
    tokens = [rng.integers(0, 6, size=int(rng.integers(2, 7))) for _ in range(24)]
    return {
        "regressor-adam": (RNNRegressor(**QUICK), X, y),
        "regressor-huber-sgd": (
            RNNRegressor(loss="huber", solver="sgd", **QUICK),
            X,
            y,
        ),  # fmt: skip
        "classifier-lbfgs": (
            RNNClassifier(
                solver="lbfgs",
                cell="gru",
                hidden_layer_sizes=(4,),
                max_iter=5,
                random_state=0,
            ),
            X,
            labels,
        ),  # fmt: skip
        "tagger-tokens": (
            SequenceTagger(cell="rnn", embedding_dim=3, **QUICK),
            tokens,
            [t % 2 for t in tokens],
        ),  # fmt: skip
        "tagger-bidirectional": (
            SequenceTagger(**QUICK),
            X,
            steps,
        ),
        "translator-tokens-attention": (
            SequenceTranslator(embedding_dim=3, attention="general", **QUICK),
            tokens,
            _words(tokens),
        ),
        "translator-bidirectional-additive": (
            SequenceTranslator(bidirectional=True, attention="additive", **QUICK),
            X,
            _words(steps),
        ),
        "transcriber-strings": (
            SequenceTranscriber(**QUICK),
            X,
            # Short enough for CTC: at most 2L - 1 steps needed for L labels.
            ["".join(s[: (len(s) + 1) // 3]) for s in steps],
        ),
        "transcriber-tokens-labels-gru": (
            SequenceTranscriber(
                cell="gru",
                bidirectional=False,
                embedding_dim=3,
                beam_width=3,
                **QUICK,
            ),
            tokens,
            [t[: len(t) // 2] for t in tokens],
        ),  # fmt: skip
    }


def _words(sequences):
    """String targets of their own lengths: a letter per step, reversed."""
    return ["".join(str(v) for v in s[::-1][: 1 + len(s) // 2]) for s in sequences]


def _outputs(model, X):
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        return np.concatenate(proba) if isinstance(proba, list) else proba
    return model.predict(X)


@pytest.mark.parametrize("name", sorted(_cases()))
def test_skops_round_trip_trusts_only_the_estimator(name, tmp_path, quiet_convergence):
    model, X, y = _cases()[name]
    model.fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [f"{type(model).__module__}.{type(model).__name__}"]
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(model, X))
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(loaded.get_weights()[key], value)


def test_loaded_model_continues_training_identically(quiet_convergence):
    model, X, y = _cases()["regressor-adam"]
    model.fit(X, y)
    data = sio.dumps(model)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    # The optimiser's moments come back: one more epoch gives the same weights.
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    warm = clone(model).set_params(warm_start=True)
    assert warm.get_params()["warm_start"]


def test_pipeline_untrusted_types_are_skrnn_classes(tmp_path, quiet_convergence):
    _, X = _data()
    y = np.array([x[:, 0].sum() for x in X])
    pipe = make_pipeline(SequenceScaler(), RNNRegressor(**{**FAST, "max_iter": 2})).fit(
        X, y
    )
    texts = ["ab", "ba", "abc", "cab", "bca", "aa"] * 3
    text_pipe = make_pipeline(
        TextTokenizer(), RNNClassifier(embedding_dim=2, **{**FAST, "max_iter": 2})
    ).fit(texts, [t[0] for t in texts])
    for model, expected in (
        (pipe, {"skrnn._regressor.RNNRegressor", "skrnn.preprocessing.SequenceScaler"}),
        (
            text_pipe,
            {"skrnn._classifier.RNNClassifier", "skrnn.preprocessing.TextTokenizer"},
        ),
    ):
        data = sio.dumps(model)
        untrusted = sio.get_untrusted_types(data=data)
        assert set(untrusted) == expected
        loaded = sio.loads(data, trusted=untrusted)
        X_check = texts if model is text_pipe else X
        np.testing.assert_array_equal(loaded.predict(X_check), model.predict(X_check))


@pytest.mark.subprocess
def test_load_in_a_fresh_process(tmp_path, quiet_convergence):
    model, X, y = _cases()["tagger-bidirectional"]
    model.fit(X, y)
    path = tmp_path / "tagger.skops"
    sio.dump(model, path)
    np.save(tmp_path / "expected.npy", _outputs(model, X))
    np.save(tmp_path / "X.npy", np.array(X, dtype=object), allow_pickle=True)
    code = f"""
import numpy as np, skops.io as sio
path = {str(path)!r}
model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
X = list(np.load({str(tmp_path / "X.npy")!r}, allow_pickle=True))
proba = np.concatenate(model.predict_proba(X))
assert np.array_equal(proba, np.load({str(tmp_path / "expected.npy")!r}))
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "ok"


@pytest.mark.subprocess
def test_translator_loads_in_a_fresh_process(tmp_path, quiet_convergence):
    model, X, y = _cases()["translator-bidirectional-additive"]
    model.fit(X, y)
    path = tmp_path / "translator.skops"
    sio.dump(model, path)
    assert sio.get_untrusted_types(file=path) == [
        "skrnn._translator.SequenceTranslator"
    ]
    np.save(tmp_path / "X.npy", np.array(X, dtype=object), allow_pickle=True)
    code = f"""
import numpy as np, skops.io as sio
path = {str(path)!r}
model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
X = list(np.load({str(tmp_path / "X.npy")!r}, allow_pickle=True))
print(repr(model.predict(X)))
print(repr(model.log_likelihood(X, {y!r}).tolist()))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    predicted, log_likelihood = out.stdout.strip().splitlines()
    assert predicted == repr(model.predict(X))
    assert log_likelihood == repr(model.log_likelihood(X, y).tolist())


@pytest.mark.subprocess
def test_transcriber_loads_in_a_fresh_process(tmp_path, quiet_convergence):
    model, X, y = _cases()["transcriber-strings"]
    model.fit(X, y)
    path = tmp_path / "transcriber.skops"
    sio.dump(model, path)
    assert sio.get_untrusted_types(file=path) == [
        "skrnn._transcriber.SequenceTranscriber"
    ]
    np.save(tmp_path / "X.npy", np.array(X, dtype=object), allow_pickle=True)
    code = f"""
import numpy as np, skops.io as sio
path = {str(path)!r}
model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
X = list(np.load({str(tmp_path / "X.npy")!r}, allow_pickle=True))
print(repr(model.predict(X)))
print(repr(model.log_likelihood(X, {y!r}).tolist()))
print(repr([a.tolist() for a in model.align(X, {y!r})]))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    predicted, log_likelihood, alignment = out.stdout.strip().splitlines()
    assert predicted == repr(model.predict(X))
    assert log_likelihood == repr(model.log_likelihood(X, y).tolist())
    assert alignment == repr([a.tolist() for a in model.align(X, y)])
