import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import BaseEstimator
from sklearn.utils import _safe_indexing

from skrnn._validation import (
    Sequences,
    sequences_like,
    validate_sequences,
    validate_step_labels,
)


class RNNRegressor(BaseEstimator):
    """Stand-in estimator: validation only needs an instance to record on."""


def fitted(X):
    estimator = RNNRegressor()
    validate_sequences(estimator, X, reset=True)
    return estimator


def assert_valid(seqs, *, form, n_features, lengths, dtype):
    assert isinstance(seqs, Sequences)
    assert seqs.form == form
    assert seqs.n_features == n_features
    assert seqs.dtype == np.dtype(dtype)
    assert seqs.lengths.dtype == np.int64
    np.testing.assert_array_equal(seqs.lengths, lengths)
    assert seqs.n_sequences == len(lengths)
    for seq, length in zip(seqs.sequences, lengths, strict=True):
        assert seq.shape == (length, n_features)
        assert seq.dtype == np.dtype(dtype)
        assert seq.flags.c_contiguous


# Forms ---------------------------------------------------------------------


def test_table_rows_are_univariate_sequences():
    X = np.arange(12.0).reshape(3, 4)
    estimator = RNNRegressor()
    seqs = validate_sequences(estimator, X, reset=True)
    assert_valid(seqs, form="table", n_features=1, lengths=[4, 4, 4], dtype="f8")
    np.testing.assert_array_equal(seqs.sequences[1][:, 0], X[1])
    assert estimator.n_features_in_ == 4
    assert estimator._n_step_features == 1
    assert not hasattr(estimator, "feature_names_in_")


def test_list_of_lists_is_a_table():
    seqs = validate_sequences(RNNRegressor(), [[1, 2, 3], [4, 5, 6]], reset=True)
    assert_valid(seqs, form="table", n_features=1, lengths=[3, 3], dtype="f8")


def test_list_of_equal_length_1d_arrays_is_a_table():
    X = [np.ones(3), np.zeros(3)]
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert seqs.form == "table"


def test_3d_array():
    X = np.random.default_rng(0).normal(size=(4, 5, 3))
    estimator = RNNRegressor()
    seqs = validate_sequences(estimator, X, reset=True)
    assert_valid(seqs, form="array", n_features=3, lengths=[5] * 4, dtype="f8")
    np.testing.assert_array_equal(seqs.sequences[2], X[2])
    assert estimator.n_features_in_ == 3
    assert estimator._n_step_features == 3


def test_list_of_equal_shape_2d_arrays_is_a_3d_array():
    X = [np.ones((5, 2)), np.zeros((5, 2))]
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert_valid(seqs, form="array", n_features=2, lengths=[5, 5], dtype="f8")


@pytest.mark.parametrize("container", [list, tuple])
def test_ragged_multivariate(container):
    X = container([np.ones((3, 2)), np.zeros((5, 2)), np.full((1, 2), 7.0)])
    estimator = RNNRegressor()
    seqs = validate_sequences(estimator, X, reset=True)
    assert_valid(seqs, form="ragged", n_features=2, lengths=[3, 5, 1], dtype="f8")
    np.testing.assert_array_equal(seqs.sequences[2], [[7.0, 7.0]])
    assert estimator.n_features_in_ == 2


def test_ragged_univariate_1d_sequences_and_lists():
    X = [np.arange(3.0), [1, 2], np.ones((4, 1))]
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert_valid(seqs, form="ragged", n_features=1, lengths=[3, 2, 4], dtype="f8")
    np.testing.assert_array_equal(seqs.sequences[0][:, 0], [0.0, 1.0, 2.0])


def test_object_array_of_sequences_is_ragged():
    # What _safe_indexing gives for a ragged object array in cross-validation.
    X = np.empty(3, dtype=object)
    X[:] = [np.ones((2, 2)), np.ones((3, 2)), np.ones((2, 2))]
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert_valid(seqs, form="ragged", n_features=2, lengths=[2, 3, 2], dtype="f8")


def test_safe_indexing_keeps_the_form():
    X = [np.ones((2, 2)), np.ones((3, 2)), np.ones((4, 2))]
    subset = _safe_indexing(X, [0, 2])
    seqs = validate_sequences(RNNRegressor(), subset, reset=True)
    assert seqs.form == "ragged"
    np.testing.assert_array_equal(seqs.lengths, [2, 4])


def test_object_arrays_of_numbers_are_converted():
    X = np.arange(24).reshape(2, 3, 4).astype(object)
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert_valid(seqs, form="array", n_features=4, lengths=[3, 3], dtype="f8")
    table = validate_sequences(RNNRegressor(), X[:, :, 0], reset=True)
    assert table.form == "table"


# dtype and memory ----------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float16, np.float64),
        (np.int32, np.float64),
        (np.int64, np.float64),
        (np.uint8, np.float64),
        (bool, np.float64),
    ],
)
@pytest.mark.parametrize("form", ["table", "array", "ragged"])
def test_compute_dtype(dtype, expected, form):
    X = np.ones((3, 4, 2), dtype=dtype)
    if form == "table":
        X = X[:, :, 0]
    elif form == "ragged":
        X = [X[0], X[1, :2], X[2, :1]]
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert seqs.form == form
    assert seqs.dtype == np.dtype(expected)
    assert all(seq.dtype == np.dtype(expected) for seq in seqs.sequences)


def test_ragged_mixing_float32_and_float64_is_float64():
    X = [np.ones((3, 2), np.float32), np.ones((2, 2), np.float64)]
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert seqs.dtype == np.float64
    assert all(seq.dtype == np.float64 for seq in seqs.sequences)


def test_ragged_mixing_float32_and_ints_is_float64():
    X = [np.ones((3, 2), np.float32), np.ones((2, 2), np.int64)]
    assert validate_sequences(RNNRegressor(), X, reset=True).dtype == np.float64


@pytest.mark.parametrize(
    "X",
    [
        np.ones((3, 4)),
        np.ones((3, 4, 2), dtype=np.float32),
        [np.ones((3, 2)), np.ones((4, 2))],
    ],
    ids=["table", "array", "ragged"],
)
def test_no_copy_when_none_is_needed(X):
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    base = X[0] if isinstance(X, list) else X
    assert np.shares_memory(seqs.sequences[0], base)


@pytest.mark.parametrize(
    "X",
    [
        np.asfortranarray(np.ones((3, 4))),
        np.ones((3, 8, 2))[:, ::2],
        [np.ones((6, 2))[::2], np.ones((4, 4))[:, :2]],
    ],
    ids=["table", "array", "ragged"],
)
def test_non_contiguous_input_is_made_contiguous(X):
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    assert all(seq.flags.c_contiguous for seq in seqs.sequences)


def test_user_data_is_not_modified():
    X = [np.arange(6.0).reshape(3, 2), np.arange(8, dtype=np.int64).reshape(4, 2)]
    before = [x.copy() for x in X]
    validate_sequences(RNNRegressor(), X, reset=True)
    for x, b in zip(X, before, strict=True):
        np.testing.assert_array_equal(x, b)
        assert x.dtype == b.dtype


# Feature names and reset=False ---------------------------------------------


def test_pandas_feature_names_set_and_cleared():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(np.ones((3, 2)), columns=["lag_1", "lag_0"])
    estimator = RNNRegressor()
    seqs = validate_sequences(estimator, df, reset=True)
    assert seqs.form == "table"
    np.testing.assert_array_equal(estimator.feature_names_in_, ["lag_1", "lag_0"])
    assert estimator.n_features_in_ == 2

    # Same names on predict: silent; a plain array: scikit-learn's warning.
    validate_sequences(estimator, df, reset=False)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        validate_sequences(estimator, np.ones((3, 2)), reset=False)
    wrong = df.rename(columns={"lag_0": "other"})
    with pytest.raises(ValueError, match="feature names should match"):
        validate_sequences(estimator, wrong, reset=False)

    # Refitting on sequences drops the stale names.
    validate_sequences(estimator, [np.ones((2, 3)), np.ones((4, 3))], reset=True)
    assert not hasattr(estimator, "feature_names_in_")
    assert estimator.n_features_in_ == 3


def test_reset_false_table_checks_columns():
    estimator = fitted(np.ones((3, 4)))
    seqs = validate_sequences(estimator, np.ones((2, 4)), reset=False)
    assert seqs.form == "table"
    msg = "X has 5 features, but RNNRegressor is expecting 4 features as input"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(estimator, np.ones((2, 5)), reset=False)


def test_table_fitted_model_accepts_univariate_sequences_of_any_length():
    estimator = fitted(np.ones((3, 4)))
    seqs = validate_sequences(estimator, [np.ones(7), np.ones(2)], reset=False)
    np.testing.assert_array_equal(seqs.lengths, [7, 2])
    msg = (
        r"X has 2 features per step, but RNNRegressor was fitted with a 2-D "
        r"array of univariate sequences \(1 feature per step\)"
    )
    with pytest.raises(ValueError, match=msg):
        validate_sequences(estimator, np.ones((3, 4, 2)), reset=False)


@pytest.mark.parametrize(
    "X_predict",
    [np.ones((2, 9, 3)), [np.ones((2, 3)), np.ones((5, 3))]],
    ids=["array", "ragged"],
)
def test_reset_false_wrong_features_per_step(X_predict):
    estimator = fitted(np.ones((3, 4, 2)))
    msg = (
        "X has 3 features per step, but RNNRegressor was fitted with 2 features "
        "per step. Pass sequences with 2 features per step, as at fit time."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        validate_sequences(estimator, X_predict, reset=False)


def test_reset_false_n_steps_may_differ():
    estimator = fitted([np.ones((3, 2)), np.ones((4, 2))])
    seqs = validate_sequences(estimator, np.ones((2, 11, 2)), reset=False)
    np.testing.assert_array_equal(seqs.lengths, [11, 11])
    assert estimator.n_features_in_ == 2


def test_table_on_sequence_fitted_model():
    univariate = fitted([np.ones(3), np.ones(5)])
    seqs = validate_sequences(univariate, np.ones((2, 8)), reset=False)
    assert seqs.form == "table"
    np.testing.assert_array_equal(seqs.lengths, [8, 8])
    assert univariate.n_features_in_ == 1

    multivariate = fitted(np.ones((2, 3, 2)))
    msg = (
        r"X is a 2-D array, read as univariate sequences .* fitted with 2 "
        r"features per step. Pass a 3-D array of shape \(n_sequences, n_steps, 2\)"
    )
    with pytest.raises(ValueError, match=msg):
        validate_sequences(multivariate, np.ones((2, 8)), reset=False)


def test_reset_false_without_fit_skips_checks():
    seqs = validate_sequences(RNNRegressor(), np.ones((2, 3, 5)), reset=False)
    assert seqs.n_features == 5


def test_reset_does_not_touch_attributes_on_predict():
    estimator = fitted(np.ones((3, 4, 2)))
    before = dict(vars(estimator))
    validate_sequences(estimator, [np.ones((9, 2))], reset=False)
    assert vars(estimator) == before


# Errors --------------------------------------------------------------------


@pytest.mark.parametrize("X", [None, "abc", {"a": [1, 2]}, {1, 2}, object()])
def test_not_sequences_type_error(X):
    with pytest.raises(TypeError, match="X must be an array-like of sequences"):
        validate_sequences(RNNRegressor(), X, reset=True)


def test_generator_type_error():
    with pytest.raises(TypeError, match="got generator"):
        validate_sequences(RNNRegressor(), (x for x in range(3)), reset=True)


@pytest.mark.parametrize("X", [[], (), np.array([], dtype=object)])
def test_zero_sequences(X):
    with pytest.raises(ValueError, match="at least one sequence is required"):
        validate_sequences(RNNRegressor(), X, reset=True)


def test_zero_sequences_array_forms():
    with pytest.raises(ValueError, match=r"0 sample\(s\) \(shape=\(0, 3\)\)"):
        validate_sequences(RNNRegressor(), np.empty((0, 3)), reset=True)
    with pytest.raises(ValueError, match=r"0 sequence\(s\) \(shape=\(0, 3, 2\)\)"):
        validate_sequences(RNNRegressor(), np.empty((0, 3, 2)), reset=True)


def test_sequences_of_length_zero():
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(12, 0\)\)"):
        validate_sequences(RNNRegressor(), np.empty((12, 0)), reset=True)
    with pytest.raises(ValueError, match="sequences of length 0"):
        validate_sequences(RNNRegressor(), np.empty((2, 0, 3)), reset=True)
    X = [np.ones((2, 3)), np.ones((1, 3)), np.empty((0, 3))]
    msg = r"Sequence 2 of X has length 0 \(shape \(0, 3\)\)"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(RNNRegressor(), X, reset=True)
    with pytest.raises(ValueError, match="Sequence 1 of X has length 0"):
        validate_sequences(RNNRegressor(), [[1.0, 2.0], []], reset=True)


def test_zero_features_per_step():
    with pytest.raises(ValueError, match=r"0 feature\(s\) per step"):
        validate_sequences(RNNRegressor(), np.empty((2, 3, 0)), reset=True)
    X = [np.empty((2, 0)), np.empty((3, 0))]
    with pytest.raises(ValueError, match="Sequence 0 of X has 0 features per step"):
        validate_sequences(RNNRegressor(), X, reset=True)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf(value, dtype):
    what = "NaN" if np.isnan(value) else "infinity"
    table = np.ones((3, 4), dtype=dtype)
    table[1, 2] = value
    with pytest.raises(ValueError, match=f"Input X contains {what}"):
        validate_sequences(RNNRegressor(), table, reset=True)

    array = np.ones((3, 4, 2), dtype=dtype)
    array[2, 1, 1] = value
    msg = f"Input X contains {what}.* in sequence 2 \\(first at step 1, feature 1\\)"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(RNNRegressor(), array, reset=True)

    ragged = [np.ones((2, 2), dtype=dtype), np.ones((4, 2), dtype=dtype)]
    ragged[1][3, 0] = value
    msg = f"Input X contains {what}.* in sequence 1 \\(first at step 3, feature 0\\)"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(RNNRegressor(), ragged, reset=True)


def test_nan_message_names_the_estimator():
    X = [np.array([1.0, np.nan]), np.ones(3)]
    with pytest.raises(ValueError, match="RNNRegressor does not accept missing"):
        validate_sequences(RNNRegressor(), X, reset=True)


def test_nan_checked_on_predict_too():
    estimator = fitted(np.ones((2, 3, 1)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        validate_sequences(estimator, [np.array([np.nan]), np.ones(2)], reset=False)


def test_large_finite_float32_values_pass():
    # Their sum overflows to inf; the exact test must not mistake that.
    X = np.full((2, 3, 2), 3e38, dtype=np.float32)
    validate_sequences(RNNRegressor(), X, reset=True)


def test_none_inside_a_table_is_nan():
    with pytest.raises(ValueError, match="Input X contains NaN"):
        validate_sequences(RNNRegressor(), [[1.0, None], [2.0, 3.0]], reset=True)


@pytest.mark.parametrize(
    "X",
    [
        np.ones((3, 2)) * 1j,
        np.ones((3, 2, 2)) * 1j,
        [np.ones(3), np.ones(2) * 1j],
    ],
    ids=["table", "array", "ragged"],
)
def test_complex_data(X):
    with pytest.raises(ValueError, match="Complex data not supported"):
        validate_sequences(RNNRegressor(), X, reset=True)


def test_complex_ragged_names_sequence():
    with pytest.raises(ValueError, match=r"X \(sequence 1\) has dtype complex128"):
        validate_sequences(RNNRegressor(), [np.ones(3), 1j * np.ones(2)], reset=True)


def test_object_table_with_dict_is_numpys_type_error():
    # scikit-learn's check_dtype_object matches this wording.
    X = np.ones((3, 2), dtype=object)
    X[0, 0] = {"foo": "bar"}
    with pytest.raises(TypeError, match="argument must be .* string.* number"):
        validate_sequences(RNNRegressor(), X, reset=True)


def test_object_array_and_ragged_with_dict():
    X = np.ones((2, 3, 2), dtype=object)
    X[1, 0, 0] = {"foo": "bar"}
    with pytest.raises(TypeError, match="X holds values that are not numbers"):
        validate_sequences(RNNRegressor(), X, reset=True)
    ragged = [np.ones(2), np.array([1.0, {"a": 1}, 2.0], dtype=object)]
    msg = r"X \(sequence 1\) holds values that are not numbers"
    with pytest.raises(TypeError, match=msg):
        validate_sequences(RNNRegressor(), ragged, reset=True)


def test_strings():
    tokenize = "TextTokenizer the first step of a Pipeline"
    with pytest.raises(ValueError, match=rf"X holds text \('a'\).*{tokenize}"):
        validate_sequences(RNNRegressor(), [["a", "b"], ["c", "d"]], reset=True)
    X = np.array([[["a"]], [["b"]]])
    with pytest.raises(ValueError, match=rf"X holds text \('a'\).*{tokenize}"):
        validate_sequences(RNNRegressor(), X, reset=True)
    msg = rf"X \(sequence 0\) holds text \('a'\).*{tokenize}"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(RNNRegressor(), [["a", "b"], ["c"]], reset=True)
    msg = rf"X \(sequence 1\) holds text \('abc'\).*{tokenize}"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(RNNRegressor(), [np.ones(2), "abc"], reset=True)
    with pytest.raises(ValueError, match="holds bytes or strings"):
        validate_sequences(RNNRegressor(), np.zeros((2, 3, 1), dtype="V8"), reset=True)


def test_non_numeric_dtype():
    X = np.zeros((2, 3, 1), dtype="datetime64[s]")
    with pytest.raises(TypeError, match="which is not numeric"):
        validate_sequences(RNNRegressor(), X, reset=True)


def test_1d_array_gets_scikit_learns_message():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        validate_sequences(RNNRegressor(), np.arange(5.0), reset=True)
    estimator = fitted(np.ones((3, 5)))
    with pytest.raises(ValueError, match="Reshape your data"):
        validate_sequences(estimator, np.arange(5.0), reset=False)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        validate_sequences(RNNRegressor(), [1.0, 2.0, 3.0], reset=True)


def test_scalar_gets_scikit_learns_message():
    with pytest.raises(ValueError, match="got scalar array instead"):
        validate_sequences(RNNRegressor(), 3.0, reset=True)


def test_4d_array():
    msg = r"Found array with dim 4 \(shape=\(2, 3, 4, 5\)\).*3-D array"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(RNNRegressor(), np.ones((2, 3, 4, 5)), reset=True)


def test_ragged_sequence_of_wrong_ndim():
    X = [np.ones((2, 3)), np.ones((3, 3, 1))]
    msg = r"Sequence 1 of X has shape \(3, 3, 1\); expected an array of shape"
    with pytest.raises(ValueError, match=msg):
        validate_sequences(RNNRegressor(), X, reset=True)
    with pytest.raises(ValueError, match=r"Sequence 0 of X has shape \(\)"):
        validate_sequences(RNNRegressor(), [np.float64(1.0), np.ones(2)], reset=True)
    with pytest.raises(TypeError, match="Sequence 1 of X is NoneType"):
        validate_sequences(RNNRegressor(), [np.ones(2), None, np.ones(3)], reset=True)


def test_ragged_sequence_that_is_itself_ragged():
    X = [np.ones((2, 2)), [[1.0, 2.0], [3.0]]]
    with pytest.raises(ValueError, match="Sequence 1 of X could not be read"):
        validate_sequences(RNNRegressor(), X, reset=True)


def test_ragged_inconsistent_features():
    X = [np.ones((2, 3)), np.ones((4, 3)), np.ones((2, 2)), np.ones((5, 1))]
    msg = (
        "Sequence 2 of X has 2 features per step, but sequence 0 has 3: all "
        "sequences must have the same number of features per step."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        validate_sequences(RNNRegressor(), X, reset=True)


@pytest.mark.parametrize("sparse_format", ["csr", "csc", "coo", "dok", "lil", "bsr"])
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array])
def test_sparse_gets_scikit_learns_error(sparse_format, container):
    X = container(np.eye(3)).asformat(sparse_format)
    with pytest.raises(TypeError, match="Sparse data was passed for X"):
        validate_sequences(RNNRegressor(), X, reset=True)
    with pytest.raises(TypeError, match=r"passed for X \(sequence 0\)"):
        validate_sequences(RNNRegressor(), [X, np.ones(2)], reset=True)


def test_pandas_series_gets_scikit_learns_error():
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match="Expected a 2-dimensional container"):
        validate_sequences(RNNRegressor(), pd.Series([1.0, 2.0]), reset=True)


# Step labels ---------------------------------------------------------------


def ragged_seqs(*lengths, n_features=2):
    X = [np.zeros((n, n_features)) for n in lengths]
    return validate_sequences(RNNRegressor(), X, reset=True)


def test_step_labels_list_of_sequences():
    seqs = ragged_seqs(3, 2)
    y = [["B-PER", "I-PER", "O"], np.array(["O", "B-LOC"])]
    label_sequences, flat = validate_step_labels(y, seqs)
    assert len(label_sequences) == 2
    np.testing.assert_array_equal(label_sequences[0], ["B-PER", "I-PER", "O"])
    np.testing.assert_array_equal(flat, ["B-PER", "I-PER", "O", "O", "B-LOC"])


def test_step_labels_2d_array_for_array_and_table_forms():
    y = np.array([[0, 1, 1], [1, 0, 2]])
    for X in (np.zeros((2, 3)), np.zeros((2, 3, 4))):
        seqs = validate_sequences(RNNRegressor(), X, reset=True)
        label_sequences, flat = validate_step_labels(y, seqs)
        np.testing.assert_array_equal(label_sequences[1], [1, 0, 2])
        np.testing.assert_array_equal(flat, [0, 1, 1, 1, 0, 2])
        # A list of rows is accepted for the array forms too.
        _, flat_from_list = validate_step_labels([[0, 1, 1], [1, 0, 2]], seqs)
        np.testing.assert_array_equal(flat_from_list, flat)


def test_step_labels_object_array_of_sequences():
    seqs = ragged_seqs(2, 3)
    y = np.empty(2, dtype=object)
    y[:] = [np.array([1, 2]), np.array([3, 4, 5])]
    _, flat = validate_step_labels(y, seqs)
    np.testing.assert_array_equal(flat, [1, 2, 3, 4, 5])


def test_step_labels_wrong_number_of_sequences():
    msg = "y has 3 sequences of labels, but X has 2 sequences"
    with pytest.raises(ValueError, match=msg):
        validate_step_labels([[1, 2, 3], [1, 2], [1]], ragged_seqs(3, 2))


def test_step_labels_length_mismatch():
    msg = re.escape(
        "y[1] has 3 labels, but sequence 1 of X has 2 steps: a sequence tagger "
        "needs exactly one label per step."
    )
    with pytest.raises(ValueError, match=msg):
        validate_step_labels([[1, 2, 3], [1, 2, 3]], ragged_seqs(3, 2))


def test_step_labels_2d_for_ragged_x():
    with pytest.raises(ValueError, match="pass y as a list of 1-D label arrays"):
        validate_step_labels(np.ones((2, 3)), ragged_seqs(3, 2))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_step_labels_nan(value):
    what = "NaN" if np.isnan(value) else "infinity"
    y = [np.array([1.0, 2.0, 3.0]), np.array([1.0, value])]
    msg = rf"Input y contains {what} in sequence 1 \(step 1\)"
    with pytest.raises(ValueError, match=msg):
        validate_step_labels(y, ragged_seqs(3, 2))


def test_step_labels_nan_and_none_in_object_labels():
    seqs = ragged_seqs(2, 3)
    y = [np.array(["a", "b"], dtype=object), np.array(["a", np.nan, "b"], object)]
    with pytest.raises(ValueError, match=r"y contains NaN in sequence 1 \(step 1\)"):
        validate_step_labels(y, seqs)
    y = [["a", "b"], ["a", "b", None]]
    with pytest.raises(ValueError, match=r"y contains None in sequence 1 \(step 2\)"):
        validate_step_labels(y, seqs)


def test_step_labels_none():
    seqs = ragged_seqs(2, 3)
    with pytest.raises(ValueError, match="y is None; expected one label per step"):
        validate_step_labels(None, seqs)
    with pytest.raises(ValueError, match=r"y\[1\] is None"):
        validate_step_labels([[1, 2], None], seqs)


def test_step_labels_one_label_per_sequence():
    seqs = ragged_seqs(2, 3)
    with pytest.raises(ValueError, match=r"y\[0\] is a single label \('a'\)"):
        validate_step_labels(["a", "b"], seqs)
    with pytest.raises(ValueError, match=r"y has shape \(2,\); expected one label"):
        validate_step_labels(np.array([0, 1]), seqs)
    with pytest.raises(ValueError, match=r"y\[0\] has shape \(2, 1\)"):
        validate_step_labels([np.ones((2, 1)), np.ones(3)], seqs)
    with pytest.raises(TypeError, match="got dict"):
        validate_step_labels({"a": 1}, seqs)


# sequences_like ------------------------------------------------------------


def test_sequences_like_ragged_returns_a_list():
    seqs = ragged_seqs(3, 1)
    out = sequences_like([np.array([1, 2, 3]), [4]], seqs)
    assert isinstance(out, list)
    np.testing.assert_array_equal(out[1], [4])


@pytest.mark.parametrize(
    "X", [np.zeros((2, 3)), np.zeros((2, 3, 4))], ids=["table", "array"]
)
def test_sequences_like_stacks_array_forms(X):
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    labels = sequences_like([np.array(["a", "b", "c"])] * 2, seqs)
    assert labels.shape == (2, 3)
    probas = sequences_like([np.ones((3, 5))] * 2, seqs)
    assert probas.shape == (2, 3, 5)


def test_sequences_like_wrong_count():
    with pytest.raises(ValueError, match="Got outputs for 1 sequences, but X has 2"):
        sequences_like([np.ones(3)], ragged_seqs(3, 1))


# Properties ----------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def ragged_lists(draw):
    n_features = draw(st.integers(1, 3))
    lengths = draw(st.lists(st.integers(1, 6), min_size=1, max_size=5))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    univariate = n_features == 1 and draw(st.booleans())
    sequences = []
    for length in lengths:
        shape = (length,) if univariate else (length, n_features)
        elements = finite if dtype != np.int64 else st.integers(-1000, 1000)
        sequences.append(draw(hnp.arrays(dtype, shape, elements=elements)))
    return sequences


@settings(max_examples=60, deadline=None)
@given(ragged_lists())
def test_round_trip_preserves_values_and_lengths(X):
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    lengths = [len(x) for x in X]
    np.testing.assert_array_equal(seqs.lengths, lengths)
    expected_dtype = np.float32 if X[0].dtype == np.float32 else np.float64
    assert seqs.dtype == expected_dtype
    uniform = len(set(lengths)) == 1
    if not uniform:
        assert seqs.form == "ragged"
    for seq, x in zip(seqs.sequences, X, strict=True):
        assert seq.flags.c_contiguous
        assert seq.shape == (len(x), seqs.n_features)
        np.testing.assert_array_equal(seq.reshape(x.shape), x)
    # Per-step outputs go back to the same container form.
    back = sequences_like([seq[:, 0] for seq in seqs.sequences], seqs)
    if seqs.form == "ragged":
        assert [len(b) for b in back] == lengths
    else:
        assert back.shape == (len(X), lengths[0])


@settings(max_examples=40, deadline=None)
@given(ragged_lists(), st.data())
def test_a_nan_anywhere_is_reported_at_its_sequence(X, data):
    X = [x.astype(np.float64) for x in X]
    index = data.draw(st.integers(0, len(X) - 1))
    position = data.draw(st.integers(0, X[index].size - 1))
    X[index].reshape(-1)[position] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN") as excinfo:
        validate_sequences(RNNRegressor(), X, reset=True)
    if validate_form(X) != "table":
        assert f"in sequence {index} " in str(excinfo.value)


def validate_form(X):
    finite_X = [np.nan_to_num(x) for x in X]
    return validate_sequences(RNNRegressor(), finite_X, reset=True).form


@settings(max_examples=40, deadline=None)
@given(ragged_lists())
def test_labels_round_trip(X):
    seqs = validate_sequences(RNNRegressor(), X, reset=True)
    y = [np.arange(len(x)) % 3 for x in X]
    label_sequences, flat = validate_step_labels(y, seqs)
    np.testing.assert_array_equal(flat, np.concatenate(y))
    for labels, expected in zip(label_sequences, y, strict=True):
        np.testing.assert_array_equal(labels, expected)
