"""SequenceTranslator: API, target handling, decoding, errors, pipelines, learning."""

import copy
import functools
import inspect
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skrnn import SequenceTranslator
from skrnn.datasets import make_addition, make_reversal
from skrnn.metrics import exact_match_score
from skrnn.preprocessing import TextTokenizer

SMALL = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def _ids(text, alphabet="abcd"):
    return np.array([alphabet.index(c) for c in text], dtype=float)


def _reversal_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    words = [
        "".join(rng.choice(list("abcd"), size=rng.integers(1, 5))) for _ in range(n)
    ]
    return [_ids(w) for w in words], [w[::-1] for w in words]


@pytest.fixture(scope="module")
def fitted():
    X, Y = _reversal_data()
    model = SequenceTranslator(
        hidden_layer_sizes=(16,), embedding_dim=4, attention="general",
        learning_rate_init=0.02, max_iter=20, random_state=0,
    )  # fmt: skip
    return model.fit(X, Y), X, Y


def test_string_targets_give_strings(fitted):
    model, X, Y = fitted
    predicted = model.predict(X)
    assert isinstance(predicted, list)
    assert len(predicted) == len(X)
    assert all(isinstance(p, str) for p in predicted)
    assert set(model.classes_) <= set("abcd")
    assert model.n_outputs_ == len(model.classes_) + 1  # the end token
    assert 0.0 <= model.score(X, Y) <= 1.0
    assert model.score(X, Y) == exact_match_score(Y, predicted)


def test_label_targets_give_label_arrays():
    X = [[1.0, 2.0], [3.0], [2.0, 2.0, 1.0]]
    Y = [[10, 20], [], [30, 10, 10]]
    model = SequenceTranslator(**SMALL).fit(X, Y)
    np.testing.assert_array_equal(model.classes_, [10, 20, 30])
    predicted = model.predict(X)
    assert all(isinstance(p, np.ndarray) for p in predicted)
    assert all(p.ndim == 1 for p in predicted)
    assert all(set(p.tolist()) <= {10, 20, 30} for p in predicted)


def test_string_labels_and_empty_targets():
    X = [np.ones((2, 3)), np.zeros((4, 3)), np.ones((1, 3))]
    Y = [["hello", "world"], [], ["world"]]
    model = SequenceTranslator(**SMALL).fit(X, Y)
    assert list(model.classes_) == ["hello", "world"]
    ll = model.log_likelihood(X, Y)
    assert ll.shape == (3,)
    assert (ll < 0).all()


def test_max_output_length_caps_outputs(fitted):
    model, X, _ = fitted
    capped = clone(model).set_params(max_output_length=2).fit(*fitted[1:])
    assert max(len(p) for p in capped.predict(X)) <= 2
    assert model._max_length() == 2 * 4 + 2  # longest target 4


def test_beam_search_is_at_least_as_likely_as_greedy(fitted):
    model, X, _ = fitted
    greedy = model.predict(X)
    wide = copy.deepcopy(model).set_params(beam_width=4).predict(X)
    ll_greedy = model.log_likelihood(X, greedy)
    ll_beam = model.log_likelihood(X, wide)
    assert (ll_beam >= ll_greedy - 1e-9).all()


def test_log_likelihood_is_a_distribution_over_outputs():
    """Over every output of length <= 2 of a two-label vocabulary, P sums to < 1."""
    X = [np.array([0.5]), np.array([-0.5, 1.0])]
    model = SequenceTranslator(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    model.fit(X, [[0, 1], [1]])
    outputs = [[], [0], [1], [0, 0], [0, 1], [1, 0], [1, 1]]
    for x in X:
        total = np.exp(model.log_likelihood([x] * len(outputs), outputs)).sum()
        assert 0 < total < 1


def test_attention_weights(fitted):
    model, X, Y = fitted
    weights = model.attention_weights(X[:5], Y[:5])
    for w, x, y in zip(weights, X[:5], Y[:5]):
        assert w.shape == (len(y) + 1, len(x))
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    predicted = model.predict(X[:5])
    for w, p in zip(model.attention_weights(X[:5]), predicted):
        assert w.shape[0] == len(p) + 1


def test_attention_weights_need_attention():
    model = SequenceTranslator(attention=None, **SMALL)
    model.fit([[1.0, 2.0], [2.0, 1.0]], ["ab", "b"])
    with pytest.raises(ValueError, match="fitted with attention=None"):
        model.attention_weights([[1.0, 2.0]])


def test_weights_by_prefixed_name_round_trip(fitted):
    model, X, _ = fitted
    weights = model.get_weights()
    assert next(iter(weights)) == "encoder.embedding.weight"
    assert {"decoder.embedding.weight", "attention.weight", "output.weight"} <= set(
        weights
    )
    assert weights["decoder.embedding.weight"].shape[0] == len(model.classes_) + 2
    other = copy.deepcopy(model)
    other.set_weights({name: np.zeros_like(w) for name, w in weights.items()})
    other.set_weights(weights)
    assert other.predict(X) == model.predict(X)
    with pytest.raises(ValueError, match="Missing"):
        other.set_weights({"output.bias": weights["output.bias"]})


def test_bidirectional_lstm_has_bridges():
    model = SequenceTranslator(
        hidden_layer_sizes=(4, 3), bidirectional=True, attention="additive", **{
            k: v for k, v in SMALL.items() if k != "hidden_layer_sizes"}
    ).fit([np.ones((3, 2)), np.zeros((2, 2))], ["ab", "ba"])  # fmt: skip
    names = set(model.get_weights())
    for k in (0, 1):
        assert {f"bridge.weight_l{k}", f"bridge_c.weight_l{k}"} <= names


def test_vector_to_sequence_one_step_encoder():
    rng = np.random.default_rng(0)
    X, X_new = rng.normal(size=(20, 1, 5)), rng.normal(size=(40, 1, 5))
    Y, Y_new = (["one" if x[0, 0] > 0 else "two" for x in Z] for Z in (X, X_new))
    model = SequenceTranslator(
        hidden_layer_sizes=(8,), learning_rate_init=0.05, max_iter=40, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y)
    # The words themselves, not just one output per vector: each training
    # vector gets its word, and new vectors mostly do.
    assert model.predict(X) == Y
    assert exact_match_score(Y_new, model.predict(X_new)) >= 0.75


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_other_solvers_and_sample_weight(solver):
    X, Y = _reversal_data(12)
    sw = np.linspace(0.5, 2, len(X))
    options = dict(
        hidden_layer_sizes=(4,), solver=solver, alpha=0.0, max_iter=3, random_state=0
    )

    def fit(sample_weight):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return SequenceTranslator(**options).fit(X, Y, sample_weight=sample_weight)

    weighted, unweighted, scaled = fit(sw), fit(None), fit(3 * sw)
    assert np.isfinite(weighted.loss_)
    # The weights change the fit; without an L2 term (which is divided by the
    # weights' sum, as repetitions would) only their ratios matter.
    assert not np.allclose(weighted._theta, unweighted._theta, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(scaled._theta, weighted._theta, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(scaled.loss_curve_, weighted.loss_curve_, rtol=1e-7)


def test_partial_fit_and_early_stopping():
    X, Y = _reversal_data(40)
    model = SequenceTranslator(hidden_layer_sizes=(4,), random_state=0)
    model.partial_fit(X, Y)
    model.partial_fit(X, Y)
    assert model.n_iter_ == 2
    stopped = SequenceTranslator(
        hidden_layer_sizes=(4,), early_stopping=True, max_iter=3, random_state=0
    ).fit(X, Y)
    assert len(stopped.validation_scores_) == len(stopped.validation_loss_curve_)


def test_integer_weights_match_repeated_sequences():
    X, Y = _reversal_data(6)
    options = dict(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=5, random_state=0)
    weighted = SequenceTranslator(**options).fit(X, Y, sample_weight=[2, 1, 1, 1, 1, 1])
    repeated = SequenceTranslator(**options).fit([X[0], *X], [Y[0], *Y])
    np.testing.assert_allclose(weighted._theta, repeated._theta, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------ errors
def test_target_count_must_match():
    with pytest.raises(ValueError, match="y has 1 target sequences but X has 2"):
        SequenceTranslator(**SMALL).fit([[1.0], [2.0]], ["a"])


@pytest.mark.parametrize(
    ("y", "error", "match"),
    [
        ("ab", TypeError, "y must be a list of target sequences"),
        (5, TypeError, "y must be a list of target sequences"),
        ([np.zeros((2, 2)), "a"], ValueError, "Target sequence 0 has shape"),
        ([["a", 1], "b"], TypeError, "mix strings and numbers"),
    ],
)
def test_bad_targets(y, error, match):
    with pytest.raises(error, match=match):
        SequenceTranslator(**SMALL).fit([[1.0], [2.0]], y)


def test_unseen_labels_at_score(fitted):
    model, X, _ = fitted
    # Never predicted, so wrong, as for the classifiers.
    predicted = model.predict(X[:1])
    assert model.score(X[:2], [predicted[0], "xyz"]) == 0.5
    with pytest.raises(ValueError, match=r"labels not in classes_: \['z'\]"):
        model.log_likelihood(X[:1], ["z"])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"bptt_steps": 3}, "got bptt_steps=3. Set bptt_steps=None"),
        ({"attention": "dot", "bidirectional": True}, 'attention="dot"'),
    ],
)
def test_unsupported_settings(params, match):
    with pytest.raises(ValueError, match=match):
        SequenceTranslator(**SMALL, **params).fit([[1.0], [2.0]], ["a", "b"])


def test_signature_is_the_shared_one_plus_its_own():
    from skrnn import RNNClassifier

    base = list(inspect.signature(RNNClassifier).parameters)
    base.remove("class_weight")
    own = inspect.signature(SequenceTranslator).parameters
    assert list(own) == base + [
        "attention", "decoder_embedding_dim", "beam_width", "max_output_length"
    ]  # fmt: skip
    assert own["hidden_layer_sizes"].default == (100,)
    # The defaults measured in benchmarks/translator_defaults.py.
    assert own["attention"].default == "general"
    assert own["learning_rate_init"].default == 0.003
    model = SequenceTranslator(attention="additive", beam_width=3)
    assert model.get_params()["beam_width"] == 3
    assert clone(model).get_params() == model.get_params()
    assert repr(model) == "SequenceTranslator(attention='additive', beam_width=3)"
    assert repr(SequenceTranslator(attention="general")) == "SequenceTranslator()"
    with pytest.raises(TypeError, match="SequenceTranslator"):
        SequenceTranslator(beam=3)


def test_attention_parameter_is_validated():
    with pytest.raises(ValueError, match="'attention' parameter"):
        SequenceTranslator(attention="luong").fit([[1.0]], ["a"])


# -------------------------------------------------------- sklearn machinery
@pytest.mark.subprocess
def test_pipeline_on_raw_strings_grid_search_clone_pickle(tmp_path):
    pairs = make_reversal(60, min_length=3, max_length=5, random_state=0)
    sources, targets = [s for s, _ in pairs], [t for _, t in pairs]
    pipe = make_pipeline(
        TextTokenizer(),
        SequenceTranslator(hidden_layer_sizes=(8,), embedding_dim=4, max_iter=2,
                           random_state=0),
    )  # fmt: skip
    search = GridSearchCV(
        pipe, {"sequencetranslator__attention": [None, "general"]}, cv=2
    ).fit(sources, targets)
    best = search.best_estimator_
    assert all(isinstance(p, str) for p in best.predict(sources[:3]))
    clone(best)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(best))
    expected = best.predict(sources[:5])
    code = textwrap.dedent(
        f"""
        import pickle, sys
        model = pickle.loads(open({str(path)!r}, "rb").read())
        print(repr(model.predict({sources[:5]!r})))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=str(__import__("pathlib").Path(__file__).parents[1]),
    )  # fmt: skip
    assert out.stdout.strip() == repr(expected)


# ------------------------------------------------------------ empty inputs
@functools.cache
def _text_model(attention):
    words = ["abc", "ba", "cab", "a", "bca", "cc"] * 5
    model = make_pipeline(
        TextTokenizer(),
        SequenceTranslator(hidden_layer_sizes=(6,), embedding_dim=3,
                           attention=attention, max_iter=5, random_state=0),
    )  # fmt: skip
    return model.fit(words, [w[::-1] for w in words])


@pytest.fixture(params=[None, "general", "additive"])
def text_model(request):
    return _text_model(request.param)


def test_empty_source_decodes_in_a_batch_as_alone(text_model):
    model = text_model
    batch = model.predict(["abc", "", "ba", ""])
    assert batch == [*model.predict(["abc"]), *model.predict([""])] + [
        *model.predict(["ba"]), *model.predict([""])
    ]  # fmt: skip
    translator = model[-1]
    translator.set_params(beam_width=3)
    try:
        assert model.predict(["", "cab"])[1] == model.predict(["cab"])[0]
    finally:
        translator.set_params(beam_width=1)
    ids = model[:-1].transform(["", "ab"])
    log_likelihood = translator.log_likelihood(ids, ["", "ba"])
    assert np.isfinite(log_likelihood).all()
    # Equal up to float32 rounding (batches of other sizes sum differently).
    alone = translator.log_likelihood(ids[1:], ["ba"])[0]
    np.testing.assert_allclose(log_likelihood[1], alone, rtol=1e-6)
    assert 0.0 <= model.score(["", "ab"], ["", "ba"]) <= 1.0
    if translator.attention is not None:
        weights = translator.attention_weights(ids, ["ab", "ba"])
        assert weights[0].shape == (3, 0)


def test_empty_source_starts_the_decoder_from_the_zero_state():
    # No attention, unidirectional: the empty encoder's final state is zero,
    # so greedy search from an explicit zero state gives the same output.
    from skrnn._beam import greedy_search

    text_model = _text_model(None)
    translator = text_model[-1]
    network, theta = translator._network, translator._theta
    H = translator.hidden_layer_sizes[0]
    state = (np.zeros((1, H), theta.dtype), np.zeros((1, H), theta.dtype))

    def step(tokens, state):
        return network.decoder_step(theta, tokens, state)

    decoded, _ = greedy_search(
        step, state, 1, max_length=translator._max_length(),
        start_id=network.start_id, end_id=network.end_id,
    )  # fmt: skip
    expected = "".join(translator.classes_[np.asarray(decoded[0], int)])
    assert text_model.predict([""]) == [expected]


def test_all_empty_and_array_forms():
    X = [np.array([1.0, 2.0]), np.array([2.0])] * 4
    model = SequenceTranslator(**SMALL).fit(X, ["ba", "b"] * 4)
    assert len(model.predict([np.zeros(0), []])) == 2
    assert (
        model.predict(np.array([np.zeros(0), np.ones(2)], dtype=object))[1]
        == (model.predict([np.ones(2)])[0])
    )


def test_bad_empty_sources():
    X = [np.array([1.0, 2.0]), np.array([2.0])] * 4
    model = SequenceTranslator(**SMALL).fit(X, ["ba", "b"] * 4)
    with pytest.raises(ValueError, match=r"empty with shape \(0, 3\).*\(0, 1\)"):
        model.predict([np.zeros((0, 3)), np.ones(2)])
    with pytest.raises(ValueError, match="Sequence 1 of X has length 0"):
        SequenceTranslator(**SMALL).fit([np.ones(2), np.zeros(0)], ["a", "b"])


# ----------------------------------------------------------------- learning
@pytest.mark.slow
def test_documented_pipeline_with_defaults_learns_reversal():
    # The pipeline of the documentation, with the defaults and nothing else
    # but embedding_dim: 0.996 held out on this split (0.63 with the defaults
    # before attention="general" and learning_rate_init=0.003).
    pairs = make_reversal(2000, random_state=0)
    X = [source for source, _ in pairs]
    Y = [target for _, target in pairs]
    model = make_pipeline(
        TextTokenizer(), SequenceTranslator(embedding_dim=16, random_state=0)
    )
    model.fit(X[:1000], Y[:1000])
    assert model.score(X[1000:], Y[1000:]) >= 0.9


@pytest.mark.slow
def test_reversal_with_attention_is_near_perfect():
    pairs = make_reversal(3000, min_length=3, max_length=12, random_state=0)
    alphabet = sorted({c for s, _ in pairs for c in s})
    X = [np.array([alphabet.index(c) for c in s], np.float32) for s, _ in pairs]
    Y = [t for _, t in pairs]
    model = SequenceTranslator(
        hidden_layer_sizes=(64,), embedding_dim=16, attention="general",
        batch_size=64, learning_rate_init=3e-3, max_iter=25, random_state=0,
    )  # fmt: skip
    model.fit(X[:2500], Y[:2500])
    assert model.score(X[2500:], Y[2500:]) > 0.9


@pytest.mark.slow
def test_addition_is_learned():
    pairs = make_addition(3000, random_state=0)
    chars = "0123456789+"
    X = [np.array([chars.index(c) for c in s], np.float32) for s, _ in pairs]
    Y = [t for _, t in pairs]
    model = SequenceTranslator(
        hidden_layer_sizes=(64,), embedding_dim=16, attention="general",
        batch_size=64, learning_rate_init=3e-3, max_iter=40, random_state=0,
    )  # fmt: skip
    model.fit(X[:2500], Y[:2500])
    # 0.94 to 0.97 over seeds 0 to 2 (30 epochs gave 0.77 to 0.91: too close
    # to the bar for a test whose result follows the machine's rounding).
    assert model.score(X[2500:], Y[2500:]) > 0.85


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dropout_trains_reproducibly_and_predicts_without_it():
    X, Y = [[1.0], [2.0], [3.0], [1.0, 2.0]] * 6, ["a", "bb", "c", "ab"] * 6
    params = dict(SMALL, hidden_layer_sizes=(6, 5), attention="general")
    first = SequenceTranslator(dropout=0.3, **params).fit(X, Y)
    again = SequenceTranslator(dropout=0.3, **params).fit(X, Y)
    plain = SequenceTranslator(**params).fit(X, Y)
    np.testing.assert_array_equal(first._theta, again._theta)
    assert not np.array_equal(first._theta, plain._theta)
    # Inference uses every unit: predictions and likelihoods are deterministic.
    assert first.predict(X[:4]) == first.predict(X[:4])
    np.testing.assert_array_equal(
        first.log_likelihood(X[:4], Y[:4]), first.log_likelihood(X[:4], Y[:4])
    )
    with pytest.raises(ValueError, match="needs a stochastic solver"):
        SequenceTranslator(dropout=0.3, solver="lbfgs", **params).fit(X, Y)
