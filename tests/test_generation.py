"""Token input (embeddings), forecasting and sampling: the one-to-many side.

Forecasting and sampling carry the recurrent state from step to step; every
test of them compares with the obvious slow loop that re-reads the whole
prefix through ``predict`` / ``predict_proba``.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state

import skrnn._base
from skrnn import RNNClassifier, RNNRegressor, SequenceTagger
from skrnn._tagger import _draw
from skrnn.preprocessing import TextTokenizer, make_windows
from skrnn.testing import check_gradients
from tests.conftest import CELLS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(6,), max_iter=3, random_state=0)


def token_data(n=24, n_tokens=7, seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.integers(0, n_tokens, size=rng.integers(2, 9)) for _ in range(n)]
    return X, rng


# ------------------------------------------------------------------ tokens
@pytest.mark.parametrize("Estimator", [RNNRegressor, RNNClassifier, SequenceTagger])
def test_embedding_weights_and_vocabulary(Estimator):
    X, rng = token_data()
    if Estimator is SequenceTagger:
        y = [x % 2 for x in X]
    else:
        y = np.array([x.sum() % 2 for x in X])
    est = Estimator(embedding_dim=3, **SMALL).fit(X, y)
    assert est.n_tokens_ == max(int(x.max()) for x in X) + 1
    weights = est.get_weights()
    assert next(iter(weights)) == "embedding.weight"
    assert weights["embedding.weight"].shape == (est.n_tokens_, 3)
    assert weights["weight_ih_l0"].shape[1] == 3
    prediction = est.predict(X)
    assert len(prediction) == len(X)
    # A 2-D array of ids is the same data as a list of equal-length rows.
    table = np.array([x[:2] for x in X])
    assert np.array_equal(
        np.asarray(est.predict(table)), np.asarray(est.predict(list(table)))
    )
    # Refitting without an embedding forgets the vocabulary.
    est.set_params(embedding_dim=None).fit(X, y)
    assert not hasattr(est, "n_tokens_")
    assert "embedding.weight" not in est.get_weights()


def test_unused_token_rows_only_feel_the_penalty():
    X = [np.array([0, 1, 2, 1]), np.array([2, 0]), np.array([5, 1, 0])]
    y = [0.5, -1.0, 2.0]
    reg = RNNRegressor(embedding_dim=2, solver="lbfgs", alpha=0.0, **SMALL)
    reg.fit(X, y)
    init = RNNRegressor(embedding_dim=2, solver="lbfgs", alpha=0.0, **SMALL)
    init.set_params(max_iter=1).fit(X, y)
    E, E0 = (
        reg.get_weights()["embedding.weight"],
        init.get_weights()["embedding.weight"],
    )
    # Ids 3 and 4 never occur: without a penalty their rows never move.
    assert np.array_equal(E[3:5], E0[3:5])
    assert not np.allclose(E[[0, 1, 2, 5]], E0[[0, 1, 2, 5]])


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ([np.array([1, 2, 9])], r"token id 9 \(sequence 0, step 2\).*n_tokens_=7"),
        ([np.array([1, 2.5])], r"non-negative integer.*sequence 0 holds 2.5 at step 1"),
        ([np.array([3]), np.array([1, -1])], r"sequence 1 holds -1 at step 1"),
        (np.zeros((2, 3, 2)), "X has 2 features per step, but RNNClassifier was"),
    ],
)
def test_bad_token_input_errors(X, match):
    Xt, _ = token_data()
    clf = RNNClassifier(embedding_dim=2, **SMALL).fit(Xt, [len(x) % 2 for x in Xt])
    assert clf.n_tokens_ == 7
    with pytest.raises(ValueError, match=match):
        clf.predict(X)


def test_bad_token_input_errors_in_fit():
    with pytest.raises(ValueError, match="must be a token id"):
        RNNRegressor(embedding_dim=2).fit([np.array([0.5, 1.0])], [1.0])
    with pytest.raises(ValueError, match="one token id, but X has 2 features"):
        RNNRegressor(embedding_dim=2).fit(np.zeros((2, 3, 2)), [1.0, 2.0])
    Xt, _ = token_data()
    clf = RNNClassifier(embedding_dim=2, warm_start=True, **SMALL)
    clf.fit(Xt, [len(x) % 2 for x in Xt])
    with pytest.raises(ValueError, match="vocabulary of n_tokens_=7"):
        clf.fit([np.array([8, 1]), np.array([1])], [0, 1])
    clf = RNNClassifier(**SMALL).fit(np.ones((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="refit"):
        clf.set_params(embedding_dim=2, warm_start=True).fit(
            np.ones((4, 3)), [0, 1, 0, 1]
        )


def test_declared_vocabulary_size():
    Xt, _ = token_data()
    y = [len(x) % 2 for x in Xt]
    clf = RNNClassifier(embedding_dim=2, vocabulary_size=20, **SMALL).fit(Xt, y)
    assert clf.n_tokens_ == 20
    assert clf.get_weights()["embedding.weight"].shape == (20, 2)
    # Ids above those seen in fit but inside the declared vocabulary work.
    assert clf.predict([np.array([19, 8])]).shape == (1,)
    with pytest.raises(ValueError, match="n_tokens_=20 ids.*Increase vocabulary"):
        clf.predict([np.array([20])])
    with pytest.raises(ValueError, match="vocabulary_size=5 allows ids 0 to 4"):
        clf.set_params(vocabulary_size=5).fit(Xt, y)
    # A stream whose first batch lacks the largest id.
    stream = RNNClassifier(embedding_dim=2, vocabulary_size=10, **SMALL)
    stream.partial_fit([np.array([1, 2])], [0], classes=[0, 1])
    stream.partial_fit([np.array([9, 3])], [1])
    assert stream.n_tokens_ == 10


def test_cross_validation_of_token_ids_with_a_declared_vocabulary():
    rng = np.random.default_rng(3)
    X = [rng.integers(0, 5, size=6) for _ in range(19)] + [np.array([1, 9, 2])]
    y = [int(x[0] > 2) for x in X]
    clf = RNNClassifier(embedding_dim=2, **SMALL)
    # The fold that holds id 9 out of training cannot score without it...
    with pytest.raises(ValueError, match="Set vocabulary_size"):
        cross_val_score(clf, X, y, cv=2, error_score="raise")
    # ...and can with it.
    scores = cross_val_score(clf.set_params(vocabulary_size=10), X, y, cv=2)
    assert np.isfinite(scores).all()


def test_embedding_gradient_matches_finite_differences():
    X, rng = token_data(n=5, n_tokens=4)
    y = rng.normal(size=len(X))
    for cell in CELLS:
        est = RNNRegressor(
            hidden_layer_sizes=(3,), cell=cell, embedding_dim=2, bidirectional=True
        )
        result = check_gradients(est, X, y, random_state=0)
        assert result.worst < 1e-6, (cell, result.errors)


def test_text_pipeline_clones_pickles_and_searches():
    texts = ["good fine great", "bad awful", "great good", "awful bad poor"] * 6
    labels = [1, 0, 1, 0] * 6
    pipe = make_pipeline(
        TextTokenizer(level="word"),
        RNNClassifier(embedding_dim=4, hidden_layer_sizes=(8,), max_iter=20,
                      learning_rate_init=0.02, random_state=0),
    )  # fmt: skip
    pipe.fit(texts, labels)
    assert pipe.score(texts, labels) == 1.0
    # Words never seen in training map to the unknown id: no error.
    assert pipe.predict(["good unseenword", "awful"]).tolist() == [1, 0]
    restored = pickle.loads(pickle.dumps(pipe))
    assert np.array_equal(restored.predict_proba(texts), pipe.predict_proba(texts))
    cloned = clone(pipe).fit(texts, labels)
    assert np.array_equal(cloned.predict_proba(texts), pipe.predict_proba(texts))
    search = GridSearchCV(pipe, {"rnnclassifier__embedding_dim": [2, 4]}, cv=2).fit(
        texts, labels
    )
    assert search.best_params_["rnnclassifier__embedding_dim"] in (2, 4)
    assert search.best_estimator_[-1].get_weights()["embedding.weight"].shape[1] in (
        2,
        4,
    )


@pytest.mark.torch
def test_embedding_weights_reproduce_predictions_in_pytorch():
    torch = pytest.importorskip("torch")
    X, rng = token_data(n=6)
    X = np.array([np.resize(x, 5) for x in X])
    y = rng.normal(size=len(X))
    # float64 ids keep the model in float64, for parity at 1e-10 (integer ids
    # would compute in float32).
    X64 = X.astype(np.float64)
    reg = RNNRegressor(hidden_layer_sizes=(4,), embedding_dim=3, **{
        k: v for k, v in SMALL.items() if k != "hidden_layer_sizes"
    }).fit(X64, y)  # fmt: skip
    W = {k: torch.from_numpy(v) for k, v in reg.get_weights().items()}
    embedding = torch.nn.Embedding(reg.n_tokens_, 3).double()
    lstm = torch.nn.LSTM(3, 4, batch_first=True).double()
    head = torch.nn.Linear(4, 1).double()
    with torch.no_grad():
        embedding.weight.copy_(W["embedding.weight"])
        for name, param in lstm.named_parameters():
            param.copy_(W[name])
        head.weight.copy_(W["output.weight"])
        head.bias.copy_(W["output.bias"])
        out, _ = lstm(embedding(torch.from_numpy(X)))
        expected = head(out[:, -1]).numpy().ravel()
    np.testing.assert_allclose(reg.predict(X64), expected, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------- forecast
@pytest.fixture(scope="module")
def sine_model():
    series = np.sin(0.3 * np.arange(120))
    X, y = make_windows(series, window=8)
    return RNNRegressor(cell="gru", **SMALL).fit(X, y), X


def _slow_forecast(reg, seeds, n_steps, window=None):
    """Append ``predict`` of the growing (or sliding) sequence, step by step."""
    out = []
    for seed in seeds:
        history = [np.atleast_1d(v) for v in seed]
        produced = []
        for _ in range(n_steps):
            context = history if window is None else history[-window:]
            value = reg.predict([np.array(context)])
            produced.append(value[0])
            history.append(np.atleast_1d(value[0]))
        out.append(produced)
    return np.array(out)


@pytest.mark.parametrize("window", [None, 3, 8])
def test_forecast_equals_step_by_step_loop(sine_model, window):
    reg, X = sine_model
    seeds = [X[0, :5, 0], X[7, :, 0], X[20, :1, 0]]
    fast = reg.forecast(seeds, 6, window=window)
    assert fast.shape == (3, 6)
    np.testing.assert_allclose(
        fast, _slow_forecast(reg, seeds, 6, window), rtol=1e-12, atol=1e-14
    )


def test_forecast_over_several_inference_batches(sine_model, monkeypatch):
    reg, X = sine_model
    expected = reg.forecast(X[:7], 4)
    monkeypatch.setattr(skrnn._base, "_INFERENCE_BATCH", 3)
    # Batches of other sizes may round differently inside BLAS.
    np.testing.assert_allclose(reg.forecast(X[:7], 4), expected, rtol=1e-12)


def test_forecast_of_a_table_slides_its_columns():
    series = np.cos(0.25 * np.arange(100))
    X, y = make_windows(series, window=6)
    reg = RNNRegressor(**SMALL).fit(X[:, :, 0], y)
    fast = reg.forecast(X[:4, :, 0], 5)
    np.testing.assert_allclose(fast, _slow_forecast(reg, X[:4, :, 0], 5, window=6))
    assert np.array_equal(fast, reg.forecast(X[:4, :, 0], 5, window=6))
    with pytest.raises(ValueError, match="2-D table of 6 columns.*got window=3"):
        reg.forecast(X[:4, :, 0], 5, window=3)


def test_forecast_multivariate_and_multi_step_horizons():
    t = 0.2 * np.arange(150)
    series = np.column_stack([np.sin(t), np.cos(t)])
    X, y = make_windows(series, window=5)
    reg = RNNRegressor(**SMALL).fit(X, y)
    out = reg.forecast(X[:3], 4)
    assert out.shape == (3, 4, 2)
    history = list(X[:3])
    for k in range(4):
        step = reg.predict(history)
        np.testing.assert_allclose(out[:, k], step, rtol=1e-12, atol=1e-14)
        history = [np.vstack([h, s]) for h, s in zip(history, step)]

    # A model of the next three values appends three steps per prediction.
    X, y = make_windows(series[:, 0], window=5, horizon=3)
    reg = RNNRegressor(**SMALL).fit(X, y)
    out = reg.forecast(X[:2], 7)
    assert out.shape == (2, 7)
    first = reg.predict(X[:2])
    np.testing.assert_allclose(out[:, :3], first, rtol=1e-12)
    second = reg.predict(np.concatenate([X[:2], first[:, :, None]], axis=1))
    np.testing.assert_allclose(out[:, 3:6], second, rtol=1e-12, atol=1e-14)


def test_forecast_keeps_float32(sine_model):
    series = np.sin(0.3 * np.arange(60)).astype(np.float32)
    X, y = make_windows(series, window=8)
    reg = RNNRegressor(**SMALL).fit(X, y)
    assert reg.forecast(X[:2], 3).dtype == np.float32


def test_forecast_errors(sine_model):
    reg, X = sine_model
    with pytest.raises(TypeError, match="n_steps must be a positive int, got 2.5"):
        reg.forecast(X, 2.5)
    with pytest.raises(ValueError, match="n_steps must be a positive int, got 0"):
        reg.forecast(X, 0)
    with pytest.raises(ValueError, match="window must be a positive int"):
        reg.forecast(X, 2, window=0)
    two_outputs = RNNRegressor(**SMALL).fit(X, np.c_[X[:, -1, 0], X[:, 0, 0]])
    three_features = np.repeat(X, 3, axis=2)
    three = RNNRegressor(**SMALL).fit(three_features, X[:, :2, 0])
    with pytest.raises(ValueError, match="multiple of the 3 feature"):
        three.forecast(three_features, 2)
    assert two_outputs.forecast(X[:2], 3).shape == (2, 3)  # two steps per call
    bi = RNNRegressor(bidirectional=True, **SMALL).fit(X, X[:, -1, 0])
    with pytest.raises(ValueError, match="bidirectional=True"):
        bi.forecast(X, 2)
    assert bi.forecast(X[:2], 2, window=8).shape == (2, 2)
    tokens = RNNRegressor(embedding_dim=2, **SMALL).fit([[1, 2], [2, 3]], [0.0, 1])
    with pytest.raises(ValueError, match="sample method"):
        tokens.forecast([[1, 2]], 2)


# ------------------------------------------------------------------- sample
@pytest.fixture(scope="module")
def language_model():
    rng = np.random.default_rng(0)
    corpus = rng.integers(1, 6, size=400)
    X = [corpus[i : i + 10] for i in range(0, 380, 5)]
    y = [corpus[i + 1 : i + 11] for i in range(0, 380, 5)]
    lm = SequenceTagger(
        bidirectional=False, embedding_dim=3, hidden_layer_sizes=(8,), max_iter=2,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    return lm


def _slow_sample(lm, seeds, n_steps, temperature, random_state):
    """Draw token after token from predict_proba of the whole growing prefix."""
    rng = check_random_state(random_state)
    histories = [list(s) for s in seeds]
    out = np.empty((len(seeds), n_steps), dtype=lm.classes_.dtype)
    for k in range(n_steps):
        # (T, 1) columns: a list of 1-D sequences of equal length would be
        # read as a table of the fitted width.
        proba = np.array(
            [lm.predict_proba([np.array(h)[:, None]])[0][-1] for h in histories]
        )
        drawn = lm.classes_[_draw(proba, temperature, rng)]
        out[:, k] = drawn
        for h, token in zip(histories, drawn):
            h.append(token)
    return out


@pytest.mark.parametrize("temperature", [0, 0.5, 1.0, 3.0])
def test_sample_carries_the_state_like_rereading_the_prefix(
    language_model, temperature
):
    seeds = [[1, 2, 3], [4], [5, 5, 1, 2, 2, 3, 1]]
    fast = language_model.sample(seeds, 12, temperature=temperature, random_state=7)
    slow = _slow_sample(language_model, seeds, 12, temperature, random_state=7)
    assert np.array_equal(fast, slow)


def test_sample_is_repeatable_and_shaped_like_its_seed(language_model):
    lm = language_model
    a = lm.sample([1, 2], 30, random_state=0)
    assert a.shape == (30,)
    assert set(a) <= set(lm.classes_)
    assert np.array_equal(a, lm.sample(np.array([1, 2]), 30, random_state=0))
    assert not np.array_equal(a, lm.sample([1, 2], 30, random_state=1))
    assert lm.sample(np.array([[1, 2], [3, 4]]), 4, random_state=0).shape == (2, 4)
    assert lm.sample([[1, 2], [3, 4, 5]], 4, random_state=0).shape == (2, 4)


@pytest.mark.parametrize("temperature", [0.3, 1.0, 4.0])
def test_draws_follow_the_tempered_distribution(language_model, temperature):
    lm = language_model
    p = lm.predict_proba([np.array([1, 2])[:, None]])[0][-1]
    expected = p ** (1 / temperature) / np.sum(p ** (1 / temperature))
    n = 4000
    drawn = lm.sample([[1, 2]] * n, 1, temperature=temperature, random_state=0)
    freq = np.array([np.mean(drawn[:, 0] == c) for c in lm.classes_])
    # Five standard errors of a binomial proportion.
    assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected / n) + 1e-3)
    greedy = lm.sample([[1, 2]] * 3, 1, temperature=0)[:, 0]
    assert np.all(greedy == lm.classes_[np.argmax(p)])


def test_numeric_tagger_samples_values_it_can_read():
    rng = np.random.default_rng(1)
    X = [rng.integers(0, 2, size=8).astype(float) for _ in range(30)]
    y = [np.r_[x[1:], 0].astype(int) for x in X]
    tagger = SequenceTagger(bidirectional=False, **SMALL).fit(X, y)
    out = tagger.sample([[0.0, 1.0]], 5, random_state=0)
    assert out.shape == (1, 5)
    assert set(out.ravel()) <= {0, 1}


def test_sample_errors(language_model):
    lm = language_model
    X = [np.array([1, 2, 3]), np.array([2, 3])]
    bi = SequenceTagger(embedding_dim=2, **SMALL).fit(X, [x % 2 for x in X])
    with pytest.raises(ValueError, match="bidirectional=True"):
        bi.sample([1], 3)
    words = SequenceTagger(bidirectional=False, **SMALL)
    words.fit(X, [np.array(["a", "b", "c"]), np.array(["b", "a"])])
    with pytest.raises(ValueError, match="labels must be numbers"):
        words.sample([1], 3)
    beyond = SequenceTagger(bidirectional=False, embedding_dim=2, **SMALL)
    beyond.fit(X, [x + 5 for x in X])
    with pytest.raises(ValueError, match="label 6 is not an id of the embedding"):
        beyond.sample([1], 3)
    wide = SequenceTagger(bidirectional=False, **SMALL)
    wide.fit(
        [np.ones((3, 2)), np.zeros((2, 2))], [np.array([0, 1, 0]), np.array([1, 1])]
    )
    with pytest.raises(ValueError, match="reads 2 features per step"):
        wide.sample([np.ones((2, 2))], 3)
    for bad in (-1, "hot", np.nan):
        with pytest.raises(ValueError, match="temperature must be a number >= 0"):
            lm.sample([1], 3, temperature=bad)
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        lm.sample([1], 0)
    with pytest.raises(ValueError, match="vocabulary of n_tokens_=6"):
        lm.sample([1, 9], 2)
