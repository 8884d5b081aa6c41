"""Tests of skrnn.preprocessing: windows of series and text tokenisation."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skrnn import RNNClassifier
from skrnn.preprocessing import TextTokenizer, make_windows

# make_windows ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "horizon", "y_shape"),
    [
        ((10,), 1, (7,)),
        ((10,), 3, (5, 3)),
        ((10, 2), 1, (7, 2)),
        ((10, 2), 3, (5, 3, 2)),
        ((10, 1), 1, (7, 1)),
    ],
)
def test_make_windows_shapes(shape, horizon, y_shape):
    series = np.arange(np.prod(shape), dtype=float).reshape(shape)
    X, y = make_windows(series, window=3, horizon=horizon)
    n_features = shape[1] if len(shape) == 2 else 1
    assert X.shape == (y_shape[0], 3, n_features)
    assert y.shape == y_shape


def test_make_windows_values_and_stride():
    series = np.arange(10.0)
    X, y = make_windows(series, window=3, horizon=2, stride=3)
    assert_array_equal(X[:, :, 0], [[0, 1, 2], [3, 4, 5]])
    assert_array_equal(y, [[3, 4], [6, 7]])


def test_make_windows_multivariate_targets_follow_windows():
    series = np.arange(12.0).reshape(6, 2)
    X, y = make_windows(series, window=2)
    assert_array_equal(X[0], [[0, 1], [2, 3]])
    assert_array_equal(y[0], [4, 5])
    assert_array_equal(y[-1], series[-1])


def test_make_windows_never_crosses_series():
    first, second = np.arange(5.0), np.arange(100.0, 104.0)
    X, y = make_windows([first, second], window=2)
    assert len(X) == 3 + 2
    # No window mixes values of both series, and no target comes from the
    # other series.
    for window, target in zip(X[:, :, 0], y):
        assert (window < 100).all() == (target < 100)
        assert (window < 100).all() or (window >= 100).all()


def test_make_windows_accepts_lists_and_3d_arrays():
    X_list, y_list = make_windows([0.0, 1.0, 2.0, 3.0], window=2)
    X_arr, y_arr = make_windows(np.arange(4.0), window=2)
    assert_array_equal(X_list, X_arr)
    assert_array_equal(y_list, y_arr)

    batch = np.arange(24.0).reshape(2, 6, 2)
    X, y = make_windows(batch, window=3)
    X_sep, y_sep = make_windows(list(batch), window=3)
    assert_array_equal(X, X_sep)
    assert_array_equal(y, y_sep)
    assert X.shape == (6, 3, 2)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
def test_make_windows_dtype(dtype, expected):
    X, y = make_windows(np.arange(8).astype(dtype), window=3)
    assert X.dtype == expected
    assert y.dtype == expected


def test_make_windows_mixed_dtypes_give_float64():
    X, y = make_windows(
        [np.arange(5, dtype=np.float32), np.arange(5, dtype=np.float64)], window=2
    )
    assert X.dtype == y.dtype == np.float64


def test_make_windows_output_does_not_alias_input():
    series = np.arange(6.0)
    X, _ = make_windows(series, window=3)
    X[0, 0, 0] = -1.0
    assert series[0] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"window": 0}, InvalidParameterError, "window"),
        ({"window": 2, "horizon": 0}, InvalidParameterError, "horizon"),
        ({"window": 2, "stride": 0}, InvalidParameterError, "stride"),
        ({"window": 2.5}, InvalidParameterError, "window"),
    ],
)
def test_make_windows_invalid_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_windows(np.arange(10.0), **kwargs)


def test_make_windows_short_series_names_it():
    series = [np.arange(10.0), np.arange(4.0)]
    with pytest.raises(ValueError, match=r"Series 1 has 4 steps.*needs at least 5"):
        make_windows(series, window=3, horizon=2)


def test_make_windows_rejects_non_finite():
    series = [np.arange(5.0), np.array([0.0, np.nan, 1.0, 2.0])]
    with pytest.raises(ValueError, match="Series 1 contains NaN"):
        make_windows(series, window=2)
    with pytest.raises(ValueError, match="Series 0 contains NaN or infinity"):
        make_windows(np.array([0.0, np.inf, 1.0]), window=1)


def test_make_windows_rejects_mixed_features():
    series = [np.zeros((5, 2)), np.zeros((5, 3))]
    with pytest.raises(ValueError, match="Series 1 has 3 features, but series 0 has 2"):
        make_windows(series, window=2)
    with pytest.raises(ValueError, match="Series 1 is 2-D but series 0 is 1-D"):
        make_windows([np.zeros(5), np.zeros((5, 1))], window=2)


@pytest.mark.parametrize(
    ("series", "error", "match"),
    [
        ("abc", TypeError, "series"),
        ([np.array(["a", "b", "c"])], TypeError, "Series 0 has dtype"),
        ([np.zeros(3) + 1j], TypeError, "Series 0 has dtype complex"),
        ([np.zeros((2, 2, 2))], ValueError, "Series 0 has 3 dimensions"),
        ([], ValueError, "empty"),
    ],
)
def test_make_windows_bad_series(series, error, match):
    with pytest.raises((error, InvalidParameterError), match=match):
        make_windows(series, window=1)


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 30), min_size=1, max_size=4),
    window=st.integers(1, 6),
    horizon=st.integers(1, 4),
    stride=st.integers(1, 5),
    n_features=st.integers(1, 3),
)
def test_make_windows_count_and_content(lengths, window, horizon, stride, n_features):
    lengths = [max(length, window + horizon) for length in lengths]
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(length, n_features)) for length in lengths]
    X, y = make_windows(series, window, horizon=horizon, stride=stride)

    expected = sum((T - window - horizon) // stride + 1 for T in lengths)
    assert len(X) == len(y) == expected
    # The windows enumerate, series after series, every start on the stride.
    row = 0
    for values in series:
        for start in range(0, len(values) - window - horizon + 1, stride):
            assert_array_equal(X[row], values[start : start + window])
            target = values[start + window : start + window + horizon]
            assert_array_equal(y[row], target[0] if horizon == 1 else target)
            row += 1


# TextTokenizer --------------------------------------------------------------

TEXTS = ["the cat sat", "the dog sat", "a cat ran", "The end"]


def test_tokenizer_vocabulary_order_and_ids():
    tokenizer = TextTokenizer(level="word").fit(TEXTS)
    # "the" x3, "cat" and "sat" x2 (alphabetical tie), then singletons.
    assert list(tokenizer.vocabulary_) == [
        "<unk>",
        "the",
        "cat",
        "sat",
        "a",
        "dog",
        "end",
        "ran",
    ]
    assert tokenizer.n_tokens_ == 8
    for token, index in tokenizer.vocabulary_.items():
        assert tokenizer.tokens_[index] == token


def test_tokenizer_char_level():
    tokenizer = TextTokenizer().fit(["abba", "cab"])
    assert tokenizer.vocabulary_ == {"<unk>": 0, "a": 1, "b": 2, "c": 3}
    (ids,) = tokenizer.transform(["abz"])
    assert ids.dtype == np.int64
    assert_array_equal(ids, [1, 2, 0])


def test_tokenizer_min_frequency_and_max_tokens():
    tokenizer = TextTokenizer(level="word", min_frequency=2).fit(TEXTS)
    assert list(tokenizer.vocabulary_) == ["<unk>", "the", "cat", "sat"]
    tokenizer = TextTokenizer(level="word", max_tokens=3).fit(TEXTS)
    assert list(tokenizer.vocabulary_) == ["<unk>", "the", "cat"]
    assert tokenizer.n_tokens_ == 3


def test_tokenizer_lowercase():
    assert "T" not in TextTokenizer().fit(["The"]).vocabulary_
    assert "T" in TextTokenizer(lowercase=False).fit(["The"]).vocabulary_


def test_tokenizer_output_is_ragged_and_padding_free():
    tokenizer = TextTokenizer(level="word").fit(TEXTS)
    sequences = tokenizer.transform(["the cat", "", "dog sat the end"])
    assert isinstance(sequences, list)
    assert [len(s) for s in sequences] == [2, 0, 4]
    assert all(s.ndim == 1 and s.dtype == np.int64 for s in sequences)


def test_tokenizer_literal_unknown_token_is_unknown():
    tokenizer = TextTokenizer(level="word").fit(["<unk> x"])
    assert tokenizer.vocabulary_ == {"<unk>": 0, "x": 1}


@pytest.mark.parametrize("level", ["char", "word"])
def test_tokenizer_round_trip(level):
    tokenizer = TextTokenizer(level=level).fit(TEXTS)
    texts = ["The Cat sat", "a dog ran"]
    restored = tokenizer.inverse_transform(tokenizer.transform(texts))
    assert restored == [text.lower() for text in texts]


@settings(max_examples=30, deadline=None)
@given(texts=st.lists(st.text(alphabet="abcXY .\n", max_size=20), min_size=1))
def test_tokenizer_char_round_trip_property(texts):
    tokenizer = TextTokenizer().fit(texts)
    assert tokenizer.inverse_transform(tokenizer.transform(texts)) == [
        text.lower() for text in texts
    ]


@settings(max_examples=30, deadline=None)
@given(
    words=st.lists(
        st.lists(st.sampled_from(["ab", "b", "cat", "Dog", "x!"]), max_size=6),
        min_size=1,
    )
)
def test_tokenizer_word_round_trip_property(words):
    texts = [" ".join(sentence) for sentence in words]
    tokenizer = TextTokenizer(level="word").fit(texts)
    assert tokenizer.inverse_transform(tokenizer.transform(texts)) == [
        text.lower() for text in texts
    ]


def test_tokenizer_inverse_of_unknown_id_and_2d_input():
    tokenizer = TextTokenizer(level="word").fit(TEXTS)
    assert tokenizer.inverse_transform([[0, 1]]) == ["<unk> the"]
    assert tokenizer.inverse_transform(np.array([[1, 2], [1, 5]])) == [
        "the cat",
        "the dog",
    ]
    assert tokenizer.inverse_transform([np.array([1.0, 2.0])]) == ["the cat"]


def test_tokenizer_inverse_errors():
    tokenizer = TextTokenizer(level="word").fit(TEXTS)
    with pytest.raises(ValueError, match=r"Sequence 1 holds ids \[-1, 8, 9\]"):
        tokenizer.inverse_transform([[1], [9, 8, -1, 2]])
    with pytest.raises(TypeError, match="Sequence 0 has dtype float64"):
        tokenizer.inverse_transform([[1.5]])
    with pytest.raises(ValueError, match="must be 1-D"):
        tokenizer.inverse_transform([[[1]]])
    with pytest.raises(TypeError, match="got a string"):
        tokenizer.inverse_transform("the")


@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_tokenizer_rejects_single_string(method):
    with pytest.raises(ValueError, match=r"single string.*\[text\]"):
        getattr(TextTokenizer(), method)("some text")


def test_tokenizer_rejects_non_strings():
    with pytest.raises(TypeError, match="Document 1 is int, not str"):
        TextTokenizer().fit(["ok", 3])
    with pytest.raises(TypeError, match="expects a list of strings"):
        TextTokenizer().fit(5)
    tokenizer = TextTokenizer().fit(["ok"])
    with pytest.raises(ValueError, match="single string"):
        tokenizer.transform("ok")


def test_tokenizer_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TextTokenizer().transform(["a"])
    with pytest.raises(NotFittedError):
        TextTokenizer().inverse_transform([[0]])


@pytest.mark.parametrize(
    "params",
    [
        {"level": "byte"},
        {"min_frequency": 0},
        {"max_tokens": 1},
        {"lowercase": "yes"},
    ],
)
def test_tokenizer_invalid_parameters(params):
    with pytest.raises(InvalidParameterError):
        TextTokenizer(**params).fit(TEXTS)


def test_tokenizer_accepts_arrays_of_strings():
    tokenizer = TextTokenizer(level="word").fit(np.array(TEXTS))
    assert tokenizer.vocabulary_ == TextTokenizer(level="word").fit(TEXTS).vocabulary_


def test_tokenizer_fit_transform_reads_a_generator_once():
    expected = TextTokenizer().fit(TEXTS).transform(TEXTS)
    result = TextTokenizer().fit_transform(text for text in TEXTS)
    assert len(result) == len(expected)
    for a, b in zip(result, expected):
        assert_array_equal(a, b)


def test_tokenizer_clone_and_pickle():
    tokenizer = TextTokenizer(level="word", min_frequency=2).fit(TEXTS)
    unfitted = clone(tokenizer)
    assert unfitted.get_params() == tokenizer.get_params()
    assert not hasattr(unfitted, "vocabulary_")
    restored = pickle.loads(pickle.dumps(tokenizer))
    for a, b in zip(restored.transform(TEXTS), tokenizer.transform(TEXTS)):
        assert_array_equal(a, b)


SENTIMENT = [
    "good fun film",
    "great good acting",
    "fun and great",
    "so good",
    "bad dull film",
    "awful bad plot",
    "dull and awful",
    "so bad",
]
LABELS = ["pos"] * 4 + ["neg"] * 4


def _text_pipeline():
    return make_pipeline(
        TextTokenizer(level="word"),
        RNNClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
    )


def test_pipeline_on_raw_text_clone_pickle():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = _text_pipeline().fit(SENTIMENT, LABELS)
    predictions = pipeline.predict(["good film", "bad unseen words here"])
    assert set(predictions) <= {"pos", "neg"}
    assert pipeline[-1].n_features_in_ == 1

    restored = pickle.loads(pickle.dumps(pipeline))
    assert_array_equal(restored.predict(SENTIMENT), pipeline.predict(SENTIMENT))
    assert_array_equal(
        restored.predict_proba(SENTIMENT), pipeline.predict_proba(SENTIMENT)
    )
    assert clone(pipeline).get_params()["texttokenizer__level"] == "word"


def test_pipeline_on_raw_text_grid_search():
    search = GridSearchCV(
        _text_pipeline(),
        {"texttokenizer__level": ["char", "word"]},
        cv=2,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(SENTIMENT, LABELS)
    assert search.best_params_["texttokenizer__level"] in {"char", "word"}
    assert len(search.predict(["fun"])) == 1


@pytest.mark.parametrize(
    "check",
    [
        "check_estimator_cloneable",
        "check_estimator_repr",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_do_not_raise_errors_in_init_or_set_params",
        "check_param_validation",
    ],
)
def test_tokenizer_scikit_learn_api_checks(check):
    # The full check suite feeds numeric tables, which a text transformer
    # rightly refuses; these checks exercise the API without relying on them.
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("TextTokenizer", TextTokenizer())
