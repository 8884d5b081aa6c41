"""Tests of skrnn.preprocessing: windows, scaling, imputation, tokenisation."""

import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skrnn import RNNClassifier, RNNRegressor
from skrnn.preprocessing import (
    SequenceImputer,
    SequenceScaler,
    TextTokenizer,
    make_windows,
)

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


# make_windows with covariates -----------------------------------------------


def test_make_windows_covariates_values():
    series = np.arange(100.0, 108.0)
    covariates = np.stack([np.arange(8.0), -np.arange(8.0)], axis=1)
    X, y = make_windows(series, window=3, horizon=2, covariates=covariates)
    assert X.shape == (4, 3, 3)
    assert y.shape == (4, 2)
    # Step t of a window is (target_t, cov_t); the target is the next values.
    assert_array_equal(X[0], [[100, 0, 0], [101, 1, -1], [102, 2, -2]])
    assert_array_equal(X[3], [[103, 3, -3], [104, 4, -4], [105, 5, -5]])
    assert_array_equal(y, [[103, 104], [104, 105], [105, 106], [106, 107]])
    X_plain, y_plain = make_windows(series, window=3, horizon=2)
    assert_array_equal(X[:, :, :1], X_plain)
    assert_array_equal(y, y_plain)


def test_make_windows_covariates_several_series():
    series = [np.arange(6.0).reshape(3, 2) * 10, np.arange(8.0).reshape(4, 2) * 10]
    covariates = [np.arange(3.0), np.arange(4.0) + 100]
    X, y = make_windows(series, window=2, covariates=covariates, stride=1)
    assert X.shape == (1 + 2, 2, 3)
    assert_array_equal(X[0], [[0, 10, 0], [20, 30, 1]])
    assert_array_equal(X[2], [[20, 30, 101], [40, 50, 102]])
    assert_array_equal(y, [[40, 50], [40, 50], [60, 70]])
    # A 3-D array of equal-length series takes a 3-D array of covariates.
    batch = np.arange(24.0).reshape(2, 6, 2)
    covariate_batch = -np.arange(12.0).reshape(2, 6, 1)
    X3, y3 = make_windows(batch, 3, covariates=covariate_batch)
    X_list, y_list = make_windows(list(batch), 3, covariates=list(covariate_batch))
    assert_array_equal(X3, X_list)
    assert_array_equal(y3, y_list)
    assert_array_equal(X3[:, :, 2:], make_windows(list(covariate_batch), 3)[0])


def test_make_windows_covariates_dtype_and_no_alias():
    series = np.arange(6, dtype=np.float32)
    covariates = np.ones(6, dtype=np.float32)
    X, y = make_windows(series, 2, covariates=covariates)
    assert X.dtype == y.dtype == np.float32
    X, y = make_windows(series, 2, covariates=covariates.astype(np.float64))
    assert X.dtype == y.dtype == np.float64
    X[0, 0, 1] = -5.0
    assert covariates[0] == 1.0


@pytest.mark.parametrize(
    ("series", "covariates", "error", "match"),
    [
        (np.arange(6.0), np.arange(5.0), ValueError, "Covariate array 0 has 5 steps, "
         "but series 0 has 6"),
        ([np.arange(6.0)] * 2, [np.arange(6.0)], ValueError,
         "covariates hold 1 series, but series holds 2"),
        ([np.arange(6.0)] * 2, [np.zeros((6, 2)), np.zeros((6, 3))], ValueError,
         "Covariate array 1 has 3 covariates, but covariate array 0 has 2"),
        (np.arange(6.0), np.array([0, 1, np.nan, 3, 4, 5]), ValueError,
         "Covariate array 0 contains NaN"),
        (np.arange(6.0), np.array(list("abcdef")), TypeError,
         "Covariate array 0 has dtype"),
        (np.arange(6.0), [], ValueError, "covariates is empty"),
        (np.arange(6.0), "abcdef", InvalidParameterError, "covariates"),
    ],
)  # fmt: skip
def test_make_windows_covariate_errors(series, covariates, error, match):
    with pytest.raises(error, match=match):
        make_windows(series, 2, covariates=covariates)


# SequenceScaler ---------------------------------------------------------------

RAGGED = [
    np.array([[0.0, 10.0], [2.0, 30.0], [1.0, 20.0]]),
    np.array([[4.0, 20.0]]),
    np.array([[3.0, 40.0], [2.0, 0.0]]),
]


def test_scaler_matches_standard_scaler_on_all_steps():
    steps = np.concatenate(RAGGED)
    reference = StandardScaler().fit(steps)
    scaler = SequenceScaler().fit(RAGGED)
    assert_allclose(scaler.mean_, reference.mean_)
    assert_allclose(scaler.var_, reference.var_)
    assert_allclose(scaler.scale_, reference.scale_)
    assert_array_equal(scaler.n_steps_seen_, [6, 6])
    assert scaler.n_features_in_ == 2
    scaled = scaler.transform(RAGGED)
    assert isinstance(scaled, list)
    assert_allclose(np.concatenate(scaled), reference.transform(steps))
    assert [s.shape for s in scaled] == [s.shape for s in RAGGED]


def test_scaler_keeps_each_container_form():
    # 3-D in, 3-D out; statistics over sequences and steps, per feature.
    X3 = np.arange(24.0).reshape(2, 4, 3) ** 1.5
    scaler = SequenceScaler().fit(X3)
    out = scaler.transform(X3)
    assert out.shape == X3.shape
    assert_allclose(out.reshape(-1, 3).mean(axis=0), 0, atol=1e-12)
    assert_allclose(out.reshape(-1, 3).std(axis=0), 1)
    # 2-D in, 2-D out: the cells are one univariate feature.
    X2 = np.array([[1.0, 2.0, 3.0], [7.0, 8.0, 9.0]])
    scaler = SequenceScaler().fit(X2)
    assert scaler.n_features_in_ == 3
    assert_allclose(scaler.mean_, [X2.mean()])
    assert_allclose(scaler.scale_, [X2.std()])
    assert_allclose(scaler.transform(X2), (X2 - X2.mean()) / X2.std())
    with pytest.raises(ValueError, match="X has 2 features, but SequenceScaler is"):
        scaler.transform(X2[:, :2])
    # Ragged 1-D sequences stay 1-D.
    X1 = [np.array([1.0, 2.0, 3.0]), np.array([5.0])]
    out = SequenceScaler().fit(X1).transform(X1)
    assert [s.shape for s in out] == [(3,), (1,)]
    expected = StandardScaler().fit_transform(np.concatenate(X1)[:, np.newaxis])
    assert_allclose(np.concatenate(out), expected[:, 0])


@pytest.mark.parametrize(
    "X",
    [RAGGED, np.arange(24.0).reshape(2, 4, 3) ** 1.5, np.arange(12.0).reshape(3, 4)],
    ids=["ragged", "3-d", "2-d"],
)
@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_scaler_inverse_round_trip(X, with_mean, with_std):
    scaler = SequenceScaler(with_mean=with_mean, with_std=with_std).fit(X)
    restored = scaler.inverse_transform(scaler.transform(X))
    if isinstance(X, list):
        for original, back in zip(X, restored, strict=True):
            assert_allclose(back, original)
    else:
        assert_allclose(restored, X)


def test_scaler_with_mean_and_with_std():
    steps = np.concatenate(RAGGED)
    for with_mean, with_std in [(False, True), (True, False), (False, False)]:
        reference = StandardScaler(with_mean=with_mean, with_std=with_std)
        expected = reference.fit_transform(steps)
        scaler = SequenceScaler(with_mean=with_mean, with_std=with_std)
        assert_allclose(np.concatenate(scaler.fit_transform(RAGGED)), expected)
    assert SequenceScaler(with_std=False).fit(RAGGED).scale_ is None


def test_scaler_output_is_new_memory():
    X = [np.array([1.0, 2.0]), np.array([3.0])]
    out = SequenceScaler(with_mean=False, with_std=False).fit_transform(X)
    out[0][0] = 100.0
    assert X[0][0] == 1.0


@pytest.mark.parametrize("value", [0.0, 1e8, -3.5])
def test_scaler_constant_feature_has_scale_one(value):
    X = [np.full((5, 2), value), np.full((3, 2), value)]
    X[0][:, 1] = np.arange(5.0)
    scaler = SequenceScaler().fit(X)
    assert scaler.scale_[0] == 1.0
    assert_allclose(scaler.transform(X)[1][:, 0], 0.0, atol=1e-7)


def test_scaler_float32_in_float32_out():
    X = [s.astype(np.float32) for s in RAGGED]
    out = SequenceScaler().fit(X).transform(X)
    assert all(s.dtype == np.float32 for s in out)
    assert SequenceScaler().fit_transform(np.ones((2, 3, 1), np.float32)).dtype == (
        np.float32
    )
    assert SequenceScaler().fit_transform(np.ones((2, 3), np.int64)).dtype == (
        np.float64
    )


def test_scaler_nan_is_ignored_and_passes_through():
    X = [np.array([[1.0, np.nan], [3.0, 2.0]]), np.array([[np.nan, 4.0]])]
    scaler = SequenceScaler().fit(X)
    assert_allclose(scaler.mean_, [2.0, 3.0])
    assert_array_equal(scaler.n_steps_seen_, [2, 2])
    out = scaler.transform(X)
    assert np.isnan(out[0][0, 1])
    assert np.isnan(out[1][0, 0])
    assert_allclose(out[0][:, 0], [-1.0, 1.0])
    reference = StandardScaler().fit(np.concatenate(X))
    assert_allclose(scaler.scale_, reference.scale_)


def test_scaler_refuses_infinity_and_wrong_features():
    with pytest.raises(ValueError, match="Input X contains infinity"):
        SequenceScaler().fit([np.array([1.0, np.inf])])
    scaler = SequenceScaler().fit(RAGGED)
    message = "X has 3 features per step, but SequenceScaler was fitted with 2"
    with pytest.raises(ValueError, match=message):
        scaler.transform([np.zeros((2, 3))])
    with pytest.raises(NotFittedError):
        SequenceScaler().transform(RAGGED)
    with pytest.raises(InvalidParameterError, match="'per_sequence' parameter"):
        SequenceScaler(per_sequence="yes").fit(RAGGED)


def test_scaler_per_sequence():
    scaler = SequenceScaler(per_sequence=True).fit(RAGGED)
    assert not hasattr(scaler, "mean_")
    assert scaler.n_features_in_ == 2
    out = scaler.transform(RAGGED)
    for original, scaled in zip(RAGGED, out, strict=True):
        assert_allclose(scaled, StandardScaler().fit_transform(original))
    # A sequence is scaled the same alone or with others.
    assert_allclose(scaler.transform(RAGGED[2:])[0], out[2])
    # Rows of a 2-D array are univariate sequences: each scaled by its own.
    X2 = np.array([[1.0, 2.0, 3.0], [10.0, 30.0, 20.0]])
    expected = StandardScaler().fit_transform(X2.T).T
    assert_allclose(SequenceScaler(per_sequence=True).fit_transform(X2), expected)


def test_scaler_per_sequence_has_no_inverse():
    scaler = SequenceScaler(per_sequence=True).fit(RAGGED)
    assert not hasattr(scaler, "inverse_transform")
    # available_if hides the method; its reason is the cause of the error.
    with pytest.raises(
        AttributeError, match="has no attribute 'inverse_transform'"
    ) as info:
        scaler.inverse_transform(RAGGED)
    assert re.search(
        "inverse_transform is not available with per_sequence=True: each "
        "sequence was scaled by its own mean",
        str(info.value.__cause__),
    )
    # A refit with per_sequence=True forgets earlier statistics.
    scaler = SequenceScaler().fit(RAGGED)
    scaler.set_params(per_sequence=True).fit(RAGGED)
    assert not hasattr(scaler, "mean_")


ragged_with_nan = st.lists(
    st.integers(1, 6).flatmap(
        lambda n: st.lists(
            st.lists(
                st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.just(float("nan"))),
                min_size=2,
                max_size=2,
            ),
            min_size=n,
            max_size=n,
        )
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(ragged_with_nan)
def test_scaler_property_matches_standard_scaler(sequences):
    X = [np.array(s) for s in sequences]
    steps = np.concatenate(X)
    if np.isnan(steps).all(axis=0).any():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = StandardScaler().fit(steps)
    scaler = SequenceScaler().fit(X)
    assert_allclose(scaler.mean_, reference.mean_, rtol=1e-9, atol=1e-9)
    assert_allclose(scaler.var_, reference.var_, rtol=1e-7, atol=1e-9)
    out = np.concatenate(scaler.transform(X))
    assert_array_equal(np.isnan(out), np.isnan(steps))
    restored = np.concatenate(scaler.inverse_transform(scaler.transform(X)))
    assert_allclose(restored, steps, rtol=1e-9, atol=1e-6)


# SequenceImputer --------------------------------------------------------------

nan = np.nan


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("forward", [1, 1, 1, 3, 3, 5]),
        ("linear", [1, 1, 2, 3, 4, 5]),
        # The mean of the observed training steps: (1 + 3 + 5 + 5 + 3) / 5.
        ("mean", [3.4, 1, 3.4, 3, 3.4, 5]),
        ("constant", [-1, 1, -1, 3, -1, 5]),
    ],
)
def test_imputer_strategies_hand_computed(strategy, expected):
    X = [np.array([nan, 1, nan, 3, nan, 5.0]), np.array([5.0, 3.0])]
    out = SequenceImputer(strategy=strategy, fill_value=-1).fit_transform(X)
    assert_allclose(out[0], expected)
    assert_array_equal(out[1], X[1])


def test_imputer_linear_interpolates_in_time():
    X = [np.array([[nan, 0.0], [2.0, nan], [nan, nan], [nan, nan], [8.0, 6.0]])]
    out = SequenceImputer(strategy="linear").fit_transform(X)[0]
    assert_allclose(out[:, 0], [2, 2, 4, 6, 8])
    assert_allclose(out[:, 1], [0, 1.5, 3, 4.5, 6])
    out = SequenceImputer(strategy="forward").fit_transform(X)[0]
    assert_allclose(out[:, 0], [2, 2, 2, 2, 8])
    assert_allclose(out[:, 1], [0, 0, 0, 0, 6])


@pytest.mark.parametrize("strategy", ["forward", "linear", "mean"])
def test_imputer_never_observed_feature_uses_training_mean(strategy):
    train = [np.array([[1.0, 10.0], [3.0, nan]]), np.array([[nan, 20.0]])]
    imputer = SequenceImputer(strategy=strategy).fit(train)
    assert_allclose(imputer.statistics_, [2.0, 15.0])
    out = imputer.transform([np.array([[nan, 5.0], [nan, 7.0]])])[0]
    assert_allclose(out[:, 0], [2.0, 2.0])
    assert_allclose(out[:, 1], [5.0, 7.0])


def test_imputer_feature_never_observed_in_training():
    train = [np.array([[1.0, nan], [2.0, nan]])]
    message = "Feature 1 of X is NaN at every step of every training sequence"
    with pytest.raises(ValueError, match=message):
        SequenceImputer().fit(train)
    imputer = SequenceImputer(strategy="constant").fit(train)
    assert_array_equal(imputer.statistics_, [0.0, 0.0])
    assert_array_equal(imputer.transform(train)[0][:, 1], [0.0, 0.0])


def test_imputer_keeps_forms_and_dtype():
    X2 = np.array([[1.0, nan, 3.0], [nan, 5.0, nan]])
    out = SequenceImputer().fit_transform(X2)
    assert_array_equal(out, [[1, 1, 3], [5, 5, 5]])
    X3 = np.array([[[1.0], [nan]], [[nan], [4.0]]], dtype=np.float32)
    out = SequenceImputer().fit_transform(X3)
    assert out.dtype == np.float32
    assert out.shape == (2, 2, 1)
    assert_array_equal(out[:, :, 0], [[1, 1], [4, 4]])
    X = [np.array([1.0, nan]), np.array([[nan], [2.0], [nan]])]
    out = SequenceImputer().fit_transform(X)
    assert [s.shape for s in out] == [(2,), (3, 1)]
    # The input is not changed.
    assert np.isnan(X2[0, 1])


def test_imputer_errors():
    with pytest.raises(InvalidParameterError, match="'strategy' parameter"):
        SequenceImputer(strategy="backward").fit([np.ones(2)])
    with pytest.raises(InvalidParameterError, match="'fill_value' parameter"):
        SequenceImputer(strategy="constant", fill_value=np.nan).fit([np.ones(2)])
    with pytest.raises(ValueError, match="Input X contains infinity"):
        SequenceImputer().fit([np.array([1.0, np.inf])])
    with pytest.raises(NotFittedError):
        SequenceImputer().transform([np.ones(2)])


def naive_forward_fill(column, fallback):
    observed = [v for v in column if not np.isnan(v)]
    if not observed:
        return [fallback] * len(column)
    out, last = [], observed[0]
    for value in column:
        if not np.isnan(value):
            last = value
        out.append(last)
    return out


def naive_linear_fill(column, fallback):
    known = [(t, v) for t, v in enumerate(column) if not np.isnan(v)]
    if not known:
        return [fallback] * len(column)
    out = []
    for t, value in enumerate(column):
        if not np.isnan(value):
            out.append(value)
            continue
        before = [(s, v) for s, v in known if s < t]
        after = [(s, v) for s, v in known if s > t]
        if not before:
            out.append(after[0][1])
        elif not after:
            out.append(before[-1][1])
        else:
            (s0, v0), (s1, v1) = before[-1], after[0]
            out.append(v0 + (v1 - v0) * (t - s0) / (s1 - s0))
    return out


@settings(max_examples=60, deadline=None)
@given(ragged_with_nan, st.sampled_from(["forward", "linear"]))
def test_imputer_property_matches_naive_fill(sequences, strategy):
    X = [np.array(s) for s in sequences]
    if np.isnan(np.concatenate(X)).all(axis=0).any():
        return
    imputer = SequenceImputer(strategy=strategy).fit(X)
    out = imputer.transform(X)
    naive = naive_forward_fill if strategy == "forward" else naive_linear_fill
    for original, filled in zip(X, out, strict=True):
        assert not np.isnan(filled).any()
        observed = ~np.isnan(original)
        assert_array_equal(filled[observed], original[observed])
        for feature in range(original.shape[1]):
            expected = naive(original[:, feature], imputer.statistics_[feature])
            assert_allclose(filled[:, feature], expected, rtol=1e-12, atol=1e-9)


# Both transformers with scikit-learn ----------------------------------------


@parametrize_with_checks(
    [
        SequenceScaler(),
        SequenceScaler(with_mean=False),
        SequenceScaler(per_sequence=True),
        SequenceImputer(),
        SequenceImputer(strategy="linear"),
        SequenceImputer(strategy="mean"),
        SequenceImputer(strategy="constant", fill_value=1.5),
    ]
)
def test_transformers_pass_scikit_learn_checks(estimator, check):
    check(estimator)


def make_ragged_regression(n_sequences=24, seed=0, missing=0.0):
    rng = np.random.default_rng(seed)
    X = [
        rng.normal(loc=[50.0, -3.0], scale=[10.0, 0.1], size=(n, 2))
        for n in rng.integers(3, 9, size=n_sequences)
    ]
    y = np.array([x[:, 0].mean() / 10 for x in X])
    if missing:
        X = [np.where(rng.random(x.shape) < missing, np.nan, x) for x in X]
    return X, y


TINY = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0}


@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.usefixtures("quiet")
def test_scaler_in_pipeline_cross_validation_clone_pickle():
    X, y = make_ragged_regression()
    pipeline = make_pipeline(SequenceScaler(), RNNRegressor(**TINY))
    scores = cross_val_score(pipeline, X, y, cv=3, error_score="raise")
    assert scores.shape == (3,)
    assert np.isfinite(scores).all()
    pipeline.fit(X, y)
    restored = pickle.loads(pickle.dumps(pipeline))
    assert_array_equal(restored.predict(X), pipeline.predict(X))
    assert clone(pipeline).get_params()["sequencescaler__per_sequence"] is False
    # The network sees the scaled sequences.
    scaled = pipeline[0].transform(X)
    assert_array_equal(pipeline[-1].predict(scaled), pipeline.predict(X))


@pytest.mark.usefixtures("quiet")
def test_scaler_learns_only_from_the_training_fold():
    X, y = make_ragged_regression()
    cv = KFold(3, shuffle=True, random_state=0)
    results = cross_validate(
        make_pipeline(SequenceScaler(), RNNRegressor(**TINY)),
        X,
        y,
        cv=cv,
        return_estimator=True,
        return_indices=True,
    )
    all_mean = np.concatenate(X).mean(axis=0)
    for pipeline, train, test in zip(
        results["estimator"],
        results["indices"]["train"],
        results["indices"]["test"],
        strict=True,
    ):
        train_steps = np.concatenate([X[i] for i in train])
        assert_allclose(pipeline[0].mean_, train_steps.mean(axis=0))
        assert_allclose(pipeline[0].scale_, train_steps.std(axis=0))
        assert not np.allclose(pipeline[0].mean_, all_mean)
        test_steps = np.concatenate([X[i] for i in test])
        assert pipeline[0].n_steps_seen_[0] == len(train_steps) != len(test_steps)


@pytest.mark.usefixtures("quiet")
@pytest.mark.parametrize("scaler_first", [True, False])
def test_imputer_and_scaler_in_either_order(scaler_first):
    X, y = make_ragged_regression(missing=0.2)
    steps = [SequenceImputer(strategy="linear"), SequenceScaler()]
    if scaler_first:
        steps = steps[::-1]
    pipeline = make_pipeline(*steps, RNNRegressor(**TINY))
    scores = cross_val_score(pipeline, X, y, cv=2, error_score="raise")
    assert np.isfinite(scores).all()
    with pytest.raises(ValueError, match="RNNRegressor does not accept missing"):
        RNNRegressor(**TINY).fit(X, y)


def test_transformers_clone_and_pickle():
    X = [np.array([[1.0, nan], [2.0, 4.0]]), np.array([[3.0, 5.0]])]
    for transformer in [SequenceScaler(per_sequence=True), SequenceImputer("mean")]:
        fitted = transformer.fit(X)
        restored = pickle.loads(pickle.dumps(fitted))
        for a, b in zip(restored.transform(X), fitted.transform(X), strict=True):
            assert_array_equal(a, b)
        assert clone(fitted).get_params() == transformer.get_params()


@pytest.mark.parametrize("cls", [SequenceScaler, SequenceImputer, TextTokenizer])
def test_shared_docstring_fragments_are_filled(cls):
    # The docstrings insert shared descriptions with insert_doc: no
    # placeholder may be left in the class or in the methods it defines.
    docs = [cls.__doc__]
    for name in ("fit", "fit_transform", "transform", "inverse_transform"):
        method = getattr(cls, name, None)
        if method is not None and name in vars(cls):
            docs.append(method.__doc__)
    for doc in docs:
        assert re.search(r"\{\w+\}", doc) is None, doc
    assert "y : None" in cls.fit.__doc__
