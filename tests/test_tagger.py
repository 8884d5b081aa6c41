"""Behaviour of SequenceTagger: forms, targets, training options, bad input,
model selection over ragged lists, padding invariance and learning."""

import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import __version__ as sklearn_version
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import log_loss, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.utils import estimator_checks
from sklearn.utils.fixes import parse_version

from skrnn import RNNClassifier, SequenceTagger
from skrnn.metrics import (
    flat_accuracy_score,
    flat_f1_score,
    get_entities,
    sequence_accuracy_score,
    span_f1_score,
)
from skrnn.testing import check_gradients
from skrnn.testing.strategies import ragged_sequences
from tests.conftest import CELLS, FAST

pytestmark = pytest.mark.usefixtures("quiet_convergence")


def _tagged(n=24, n_features=2, labels=("neg", "pos"), seed=0, min_len=2, max_len=9):
    """Ragged sequences; a step's label is the bin of its first feature."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    edges = np.linspace(-1, 1, len(labels) + 1)[1:-1]
    X = [
        rng.normal(size=(rng.integers(min_len, max_len + 1), n_features))
        for _ in range(n)
    ]
    y = [labels[np.digitize(x[:, 0], edges)] for x in X]
    return X, y


def _table(n=24, n_steps=6, seed=0):
    """Equal-length univariate sequences as a 2-D table with 2-D labels."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_steps))
    return X, np.where(X > 0, "pos", "neg")


def _assert_proba_lists_close(a, b, rtol=1e-12):
    assert len(a) == len(b)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=1e-15)


# ------------------------------------------------------------- input forms
@pytest.mark.parametrize("cell", CELLS)
def test_ragged_list_in_list_out(cell):
    X, y = _tagged(labels=("a", "b", "c"))
    tagger = SequenceTagger(cell=cell, **FAST)
    assert tagger.fit(X, y) is tagger
    pred = tagger.predict(X)
    proba = tagger.predict_proba(X)
    log_proba = tagger.predict_log_proba(X)
    assert isinstance(pred, list)
    assert isinstance(proba, list)
    assert isinstance(log_proba, list)
    assert [p.shape for p in pred] == [(len(x),) for x in X]
    assert [p.shape for p in proba] == [(len(x), 3) for x in X]
    for p, lp in zip(proba, log_proba, strict=True):
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        np.testing.assert_allclose(lp, np.log(p))
    assert set(np.concatenate(pred)) <= {"a", "b", "c"}
    assert 0.0 <= tagger.score(X, y) <= 1.0


def test_table_with_2d_labels_gives_arrays():
    X, y = _table()
    tagger = SequenceTagger(**FAST).fit(X, y)
    pred = tagger.predict(X)
    assert isinstance(pred, np.ndarray)
    assert pred.shape == X.shape
    assert pred.dtype == y.dtype
    proba = tagger.predict_proba(X)
    assert proba.shape == (*X.shape, 2)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)
    np.testing.assert_allclose(tagger.predict_log_proba(X), np.log(proba))
    assert tagger.n_features_in_ == X.shape[1]
    assert tagger.score(X, y) == pytest.approx(np.mean(pred == y))
    # Columns are steps: a table (or list of equal-length rows) of any width
    # is labelled step by step, as its own sequences.
    assert tagger.predict(X[:, :3]).shape == (len(X), 3)
    assert tagger.predict(np.hstack([X, X])).shape == (len(X), 2 * X.shape[1])
    short = tagger.predict([row[:2] for row in X[:3]])
    assert [len(p) for p in short] == [2, 2, 2]


def test_3d_array_gives_arrays():
    X, _ = _table()
    X3 = np.stack([X, -X], axis=-1)
    y = (X > 0).astype(int)
    tagger = SequenceTagger(**FAST).fit(X3, y)
    assert tagger.n_features_in_ == 2
    assert tagger.predict(X3).shape == X.shape
    assert tagger.predict_proba(X3).shape == (*X.shape, 2)
    assert tagger.predict_log_proba(X3).shape == (*X.shape, 2)
    assert tagger.score(X3, y) == pytest.approx(np.mean(tagger.predict(X3) == y))
    # Steps may differ from fit for the 3-D form.
    assert tagger.predict(X3[:, :4]).shape == (24, 4)


def test_forms_of_the_same_data_agree():
    X, y = _table()
    probas = []
    for X_form in (X, X[:, :, None], [row[:, None] for row in X]):
        tagger = SequenceTagger(**FAST).fit(X_form, y)
        probas.append(tagger.predict_proba([row[:, None] for row in X]))
    _assert_proba_lists_close(probas[0], probas[1])
    _assert_proba_lists_close(probas[0], probas[2])


def test_list_of_equal_length_rows_stays_a_list():
    X, y = _table()
    rows = list(X)  # a 2-D table by the array-like rule, but passed as a list
    tagger = SequenceTagger(**FAST).fit(rows, list(y))
    pred = tagger.predict(rows)
    assert isinstance(pred, list)
    np.testing.assert_array_equal(np.stack(pred), tagger.predict(X))


# ---------------------------------------------------------------- targets
@pytest.mark.parametrize(
    "labels",
    [
        ("neg", "pos"),
        (0, 1),
        (False, True),
        (-1, 3, 7),
        ("B-LOC", "I-LOC", "O", "B-PER"),
    ],
)
def test_classes_of_any_hashable_type(labels):
    X, y = _tagged(labels=labels)
    tagger = SequenceTagger(**FAST).fit(X, y)
    np.testing.assert_array_equal(tagger.classes_, np.unique(np.concatenate(y)))
    assert tagger.n_outputs_ == (1 if len(labels) == 2 else len(labels))
    weights = tagger.get_weights()
    assert weights["output.weight"].shape == (tagger.n_outputs_, 2 * 6)
    pred = np.concatenate(tagger.predict(X))
    assert pred.dtype == tagger.classes_.dtype
    assert set(pred) <= set(labels)
    proba = tagger.predict_proba(X)
    assert proba[0].shape[1] == len(labels)
    # predict is the argmax of predict_proba, in classes_ order.
    np.testing.assert_array_equal(
        pred, tagger.classes_[np.argmax(np.concatenate(proba), axis=1)]
    )


def test_a_single_class_has_probability_one():
    X, _ = _tagged()
    y = [np.full(len(x), "O") for x in X]
    tagger = SequenceTagger(**FAST).fit(X, y)
    assert list(tagger.classes_) == ["O"]
    for proba in tagger.predict_proba(X):
        np.testing.assert_array_equal(proba, 1.0)
    assert tagger.score(X, y) == 1.0


def _always_second_class(X, y):
    """A fitted binary tagger that predicts ``classes_[1]`` at every step."""
    tagger = SequenceTagger(**FAST).fit(X, y)
    weights = {k: np.zeros_like(v) for k, v in tagger.get_weights().items()}
    weights["output.bias"][:] = 10.0
    return tagger.set_weights(weights)


def test_score_counts_real_steps_only():
    # Lengths 1, 3 and 6: padded to 6, the batch holds 18 entries but 10 steps.
    X = [np.ones((1, 1)), np.ones((3, 1)), np.ones((6, 1))]
    y = [np.array(["b"]), np.array(["a", "b", "b"]), np.array(["b"] * 5 + ["a"])]
    tagger = _always_second_class(X, y)
    assert [list(p) for p in tagger.predict(X)] == [["b"], ["b"] * 3, ["b"] * 6]
    assert tagger.score(X, y) == pytest.approx(8 / 10)
    # A sequence weight counts for each of its steps: (2*1 + 2 + 5) / (2*1 + 3 + 6).
    assert tagger.score(X, y, sample_weight=[2, 1, 1]) == pytest.approx(9 / 11)
    assert tagger.score(X, y, sample_weight=[0, 0, 1]) == pytest.approx(5 / 6)


def test_sample_weight_equals_repetition_for_lbfgs():
    X, y = _tagged(n=10)
    w = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1, 1])
    X_rep = [x for x, k in zip(X, w) for _ in range(k)]
    y_rep = [labels for labels, k in zip(y, w) for _ in range(k)]
    params = dict(solver="lbfgs", max_iter=20, hidden_layer_sizes=(4,), random_state=0)
    weighted = SequenceTagger(**params).fit(X, y, sample_weight=w)
    repeated = SequenceTagger(**params).fit(X_rep, y_rep)
    # Equal objectives; L-BFGS amplifies their different rounding a little.
    _assert_proba_lists_close(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6
    )


def test_zero_weight_sequences_do_not_count():
    X, y = _tagged(n=12)
    # Labels the weighted fit must ignore: every step of these tagged "pos".
    y_noisy = [np.full(len(x), "pos") if i % 3 == 0 else y[i] for i, x in enumerate(X)]
    w = np.array([0.0 if i % 3 == 0 else 1.0 for i in range(len(X))])
    params = dict(solver="lbfgs", max_iter=15, hidden_layer_sizes=(4,), random_state=0)
    weighted = SequenceTagger(**params).fit(X, y_noisy, sample_weight=w)
    kept = [i for i in range(len(X)) if w[i]]
    dropped = SequenceTagger(**params).fit([X[i] for i in kept], [y[i] for i in kept])
    _assert_proba_lists_close(
        weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-6
    )


# ------------------------------------------------------- common behaviour
# scikit-learn's common checks fit with one label per sequence, which a tagger
# refuses; these are the ones about the estimator API alone.
API_CHECKS = [
    estimator_checks.check_parameters_default_constructible,
    estimator_checks.check_no_attributes_set_in_init,
    estimator_checks.check_get_params_invariance,
    estimator_checks.check_set_params,
    estimator_checks.check_estimator_repr,
    estimator_checks.check_estimator_cloneable,
    estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
    estimator_checks.check_mixin_order,
    estimator_checks.check_valid_tag_types,
]


@pytest.mark.parametrize("check", API_CHECKS, ids=lambda check: check.__name__)
def test_scikit_learn_api_checks(check):
    check("SequenceTagger", SequenceTagger())


def test_bidirectional_by_default_and_clone():
    assert SequenceTagger().bidirectional is True
    assert RNNClassifier().bidirectional is False
    assert repr(SequenceTagger()) == "SequenceTagger()"
    assert repr(SequenceTagger(bidirectional=False)) == (
        "SequenceTagger(bidirectional=False)"
    )
    X, y = _tagged()
    tagger = SequenceTagger(cell="gru", **FAST).fit(X, y)
    copy = clone(tagger)
    assert copy.get_params() == tagger.get_params()
    assert not hasattr(copy, "classes_")
    _assert_proba_lists_close(copy.fit(X, y).predict_proba(X), tagger.predict_proba(X))


@pytest.mark.subprocess
def test_pickle_and_joblib_round_trip_in_a_fresh_process(tmp_path):
    X, y = _tagged(labels=("O", "B-X", "I-X"))
    tagger = SequenceTagger(**FAST).fit(X, y)
    expected = (tagger.predict(X), tagger.predict_proba(X))
    (tmp_path / "model.pkl").write_bytes(pickle.dumps((tagger, X)))
    joblib.dump(tagger, tmp_path / "model.joblib")
    code = f"""
import pickle, joblib
with open({str(tmp_path / "model.pkl")!r}, "rb") as f:
    tagger, X = pickle.load(f)
again = joblib.load({str(tmp_path / "model.joblib")!r})
out = [(m.predict(X), m.predict_proba(X)) for m in (tagger, again)]
with open({str(tmp_path / "out.pkl")!r}, "wb") as f:
    pickle.dump(out, f)
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    for pred, proba in pickle.loads((tmp_path / "out.pkl").read_bytes()):
        for a, b in zip(pred, expected[0], strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(proba, expected[1], strict=True):
            np.testing.assert_array_equal(a, b)


def test_random_state_makes_fits_repeat_exactly():
    X, y = _tagged()
    a = SequenceTagger(**FAST).fit(X, y).predict_proba(X)
    b = SequenceTagger(**FAST).fit(X, y).predict_proba(X)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)
    c = SequenceTagger(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.allclose(np.concatenate(a), np.concatenate(c))


def test_warm_start_continues_training():
    X, y = _tagged()
    tagger = SequenceTagger(warm_start=True, **FAST).fit(X, y)
    first = tagger.loss_curve_[-1]
    tagger.fit(X, y)
    assert tagger.n_iter_ == 10
    assert len(tagger.loss_curve_) == 10
    assert tagger.loss_curve_[-1] < first
    with pytest.raises(ValueError, match="warm_start can only be used"):
        tagger.fit(X, [np.where(labels == "neg", "other", labels) for labels in y])


def test_partial_fit():
    X, y = _tagged()
    tagger = SequenceTagger(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        tagger.partial_fit(X, y)
    tagger.partial_fit(X, y, classes=["neg", "pos", "zero"])
    for _ in range(2):
        tagger.partial_fit(X, y)
    assert tagger.n_iter_ == 3
    assert tagger.loss_curve_[-1] < tagger.loss_curve_[0]
    # Three classes declared: softmax over three outputs, even if one is unseen.
    assert list(tagger.classes_) == ["neg", "pos", "zero"]
    assert tagger.predict_proba(X)[0].shape[1] == 3
    with pytest.raises(ValueError, match="classes not in"):
        tagger.partial_fit(X[:2], [np.full(len(x), "new") for x in X[:2]])
    with pytest.raises(ValueError, match="does not support early_stopping"):
        clone(tagger).set_params(early_stopping=True).partial_fit(
            X, y, classes=["neg", "pos"]
        )
    assert not hasattr(SequenceTagger(solver="lbfgs"), "partial_fit")


def test_early_stopping_records_validation_scores():
    X, y = _tagged(n=40)
    tagger = SequenceTagger(
        hidden_layer_sizes=(6,), early_stopping=True, n_iter_no_change=3,
        max_iter=60, learning_rate_init=0.05, random_state=0,
    )  # fmt: skip
    tagger.fit(X, y)
    assert tagger.n_iter_ < 60
    assert len(tagger.validation_scores_) == tagger.n_iter_
    assert len(tagger.validation_loss_curve_) == tagger.n_iter_
    assert tagger.best_validation_score_ == max(tagger.validation_scores_)
    assert all(0.0 <= s <= 1.0 for s in tagger.validation_scores_)


def _capture_validation(monkeypatch):
    """Record the validation sequences and labels the epoch loop scores."""
    seen = []
    original = SequenceTagger._record_validation

    def record(self, val, Y_val, y_val, sw_val):
        seen.append((val, y_val))
        return original(self, val, Y_val, y_val, sw_val)

    monkeypatch.setattr(SequenceTagger, "_record_validation", record)
    return seen


def test_validation_loss_is_the_log_loss_of_the_held_out_steps(monkeypatch):
    seen = _capture_validation(monkeypatch)
    X, y = _tagged(n=40)
    tagger = SequenceTagger(
        hidden_layer_sizes=(6,), early_stopping=True, max_iter=1,
        learning_rate_init=0.05, random_state=0,
    )  # fmt: skip
    tagger.fit(X, y)
    val, y_val = seen[0]
    proba = np.concatenate(tagger.predict_proba(val.sequences))
    expected = log_loss(np.concatenate(y_val), proba, labels=tagger.classes_)
    assert tagger.validation_loss_curve_[0] == pytest.approx(expected, rel=1e-6)


def _bptt_data():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 2)) for n in (7, 5, 3)]
    y = [np.where(x[:, 0] > 0, "pos", "neg") for x in X]
    return X, y


@pytest.mark.parametrize("cell", CELLS)
def test_chunked_bptt_truncates_the_gradient(cell):
    X, y = _bptt_data()
    tagger = SequenceTagger(hidden_layer_sizes=(3,), cell=cell)
    full = check_gradients(tagger, X, y)
    assert full.worst < 1e-6
    whole = check_gradients(clone(tagger).set_params(bptt_steps=7), X, y)
    np.testing.assert_array_equal(whole.analytic, full.analytic)
    chunked = check_gradients(clone(tagger).set_params(bptt_steps=2), X, y)
    # The state is carried across chunks, so the objective is the same; only
    # its gradient is truncated at chunk boundaries.
    assert chunked.loss == pytest.approx(full.loss, rel=1e-12)
    assert not np.allclose(chunked.analytic, full.analytic, rtol=1e-3)
    assert chunked.errors["weight_hh_l0"] > 1e-3
    assert chunked.errors["weight_hh_l0_reverse"] > 1e-3
    # The output layer sees no recurrence: its gradient is not truncated.
    assert chunked.errors["output.weight"] < 1e-6
    assert chunked.errors["output.bias"] < 1e-6


def test_chunked_bptt_trains_a_different_model():
    X, y = _tagged(min_len=6, max_len=12)
    full = SequenceTagger(**FAST).fit(X, y)
    long_chunks = SequenceTagger(bptt_steps=12, **FAST).fit(X, y)
    chunked = SequenceTagger(bptt_steps=2, **FAST).fit(X, y)
    np.testing.assert_array_equal(long_chunks._theta, full._theta)
    assert not np.allclose(chunked._theta, full._theta)
    assert np.isfinite(chunked.loss_curve_).all()
    assert all(len(p) == len(x) for p, x in zip(chunked.predict(X), X, strict=True))


def test_dropout_changes_training_not_prediction():
    X, y = _tagged()
    plain = SequenceTagger(**{**FAST, "hidden_layer_sizes": (6, 6), "max_iter": 3})
    dropped = clone(plain).set_params(dropout=0.5)
    plain.fit(X, y)
    dropped.fit(X, y)
    proba = np.concatenate(dropped.predict_proba(X))
    assert not np.allclose(np.concatenate(plain.predict_proba(X)), proba)
    # No dropout at prediction time, and the masks follow random_state.
    np.testing.assert_array_equal(np.concatenate(dropped.predict_proba(X)), proba)
    again = clone(dropped).fit(X, y)
    np.testing.assert_array_equal(np.concatenate(again.predict_proba(X)), proba)


def test_clipping_bounds_the_update():
    X, y = _tagged()
    common = dict(
        solver="sgd", momentum=0.0, learning_rate_init=0.1,
        hidden_layer_sizes=(4,), random_state=0,
    )  # fmt: skip
    # 24 sequences make one batch ("auto" is 32): one SGD step per epoch.
    clipped = SequenceTagger(clip_norm=1e-3, **common).partial_fit(
        X[:1], y[:1], classes=["neg", "pos"]
    )
    start = clipped._theta.copy()
    clipped.partial_fit(X, y)
    assert np.linalg.norm(clipped._theta - start) <= 0.1 * 1e-3 + 1e-12
    assert clipped.grad_norm_curve_[-1] > 1e-3
    free = SequenceTagger(clip_norm=None, **common).partial_fit(
        X[:1], y[:1], classes=["neg", "pos"]
    )
    start = free._theta.copy()
    free.partial_fit(X, y)
    assert np.linalg.norm(free._theta - start) > 0.1 * 1e-3


def test_get_and_set_weights_round_trip():
    X, y = _tagged(labels=("a", "b", "c"))
    tagger = SequenceTagger(**{**FAST, "hidden_layer_sizes": (3, 2)}).fit(X, y)
    weights = tagger.get_weights()
    assert "weight_hh_l1_reverse" in weights
    assert weights["weight_ih_l1"].shape == (4 * 2, 2 * 3)
    assert weights["output.weight"].shape == (3, 2 * 2)
    other = clone(tagger).set_params(random_state=5).fit(X, y)
    other.set_weights(weights)
    for p, q in zip(other.predict_proba(X), tagger.predict_proba(X), strict=True):
        np.testing.assert_array_equal(p, q)
    before = np.concatenate(tagger.predict_proba(X))
    weights["output.bias"][:] = [100.0, 0.0, 0.0]  # a copy: the model is unchanged
    np.testing.assert_array_equal(np.concatenate(tagger.predict_proba(X)), before)


# --------------------------------------------------------------- bad input
def test_labels_that_do_not_match_x_are_rejected():
    X = [np.ones((n, 2)) for n in (2, 4, 3, 5)]
    y = [np.zeros(n, dtype=int) for n in (2, 4, 3, 5)]
    tagger = SequenceTagger(**FAST)
    short = [y[0], y[1][:3], y[2], y[3]]
    with pytest.raises(ValueError, match=r"y\[1\] has 3 labels, but sequence 1"):
        tagger.fit(X, short)
    long = [*y[:3], np.zeros(6, dtype=int)]
    with pytest.raises(ValueError, match=r"y\[3\] has 6 labels, but sequence 3 of X"):
        tagger.fit(X, long)
    with pytest.raises(ValueError, match="y has 3 sequences of labels, but X has 4"):
        tagger.fit(X, y[:3])
    with pytest.raises(ValueError, match="y has 5 sequences of labels, but X has 4"):
        tagger.fit(X, [*y, y[0]])
    table = np.zeros((4, 5), dtype=int)
    with pytest.raises(ValueError, match="pass y as a list of 1-D label arrays"):
        tagger.fit(X, table)
    with pytest.raises(ValueError, match=r"y\[0\] is a single label"):
        tagger.fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"y\[2\] has shape \(3, 2\)"):
        tagger.fit(X, [y[0], y[1], np.zeros((3, 2)), y[3]])


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.nan, r"Input y contains NaN in sequence 2 \(step 1\)"),
        (np.inf, r"Input y contains infinity in sequence 2 \(step 1\)"),
        (None, r"y contains None in sequence 2 \(step 1\)"),
    ],
)
def test_missing_labels_are_rejected(bad, match):
    X = [np.ones((n, 1)) for n in (2, 4, 3)]
    dtype = object if bad is None else float
    y = [np.zeros(n, dtype=dtype) for n in (2, 4, 3)]
    y[2][1] = bad
    with pytest.raises(ValueError, match=match):
        SequenceTagger(**FAST).fit(X, y)


def test_none_and_continuous_targets_are_rejected():
    X, y = _tagged(n=3)
    with pytest.raises(ValueError, match="requires y to be passed"):
        SequenceTagger(**FAST).fit(X, None)
    with pytest.raises(ValueError, match=r"y\[1\] is None"):
        SequenceTagger(**FAST).fit(X, [y[0], None, y[2]])
    with pytest.raises(ValueError, match="Unknown label type"):
        SequenceTagger(**FAST).fit(X, [x[:, 0] for x in X])
    with pytest.raises(TypeError, match="got str instead"):
        SequenceTagger(**FAST).fit(X, "labels")


def test_predict_before_fit_and_feature_count_change():
    X, y = _tagged()
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(SequenceTagger(), method)(X)
    with pytest.raises(NotFittedError):
        SequenceTagger().score(X, y)
    with pytest.raises(NotFittedError):
        SequenceTagger().get_weights()
    tagger = SequenceTagger(**FAST).fit(X, y)
    match = "X has 3 features per step, but SequenceTagger was fitted with 2"
    with pytest.raises(ValueError, match=match):
        tagger.predict([np.ones((4, 3))])
    with pytest.raises(ValueError, match=match):
        tagger.score([np.ones((4, 3))], [np.zeros(4)])
    table = SequenceTagger(**FAST).fit(*_table(n_steps=4))
    # Columns of a table are steps, which may number differently from fit.
    assert table.predict(np.ones((5, 3))).shape == (5, 3)
    with pytest.raises(ValueError, match="2 features per step, but SequenceTagger"):
        table.predict(np.ones((5, 3, 2)))


def test_score_checks_labels():
    X, y = _tagged(n=4)
    tagger = SequenceTagger(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"y\[0\] has"):
        tagger.score(X, [labels[1:] for labels in y])


# ------------------------------------------------------- model selection
def test_cross_validation_splits_tag_sequences_without_stratifying():
    # type_of_target gives "unknown" for ragged label lists and a multioutput
    # type for 2-D labels, so scikit-learn picks plain KFold for classifiers;
    # stratifying by per-step labels would make no sense anyway.
    _, y = _tagged()
    _, y_table = _table()
    for labels in (y, y_table, (y_table > "n").astype(int)):
        cv = check_cv(3, labels, classifier=True)
        assert isinstance(cv, KFold)
        assert not isinstance(cv, StratifiedKFold)


# scikit-learn before 1.9 (1.6.1 and 1.7.2 seen) checks a metric's default
# pos_label=1 against the string classes inside make_scorer and scores NaN.
_OLD_SCORER = pytest.mark.skipif(
    parse_version(sklearn_version) < parse_version("1.9"),
    reason="make_scorer rejects the default pos_label=1 with string classes",
)


@pytest.mark.parametrize(
    "scoring",
    [
        None,
        pytest.param(make_scorer(flat_f1_score, average="macro"), marks=_OLD_SCORER),
    ],
    ids=str,
)
def test_grid_search_and_cross_validation_over_ragged_lists(scoring):
    X, y = _tagged(n=30, labels=("a", "b", "c"))
    search = GridSearchCV(
        SequenceTagger(**FAST),
        {"cell": ["gru", "rnn"]},
        scoring=scoring,
        cv=3,
    )
    search.fit(X, y)
    assert search.best_params_["cell"] in ("gru", "rnn")
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    pred = search.predict(X[:4])
    assert [len(p) for p in pred] == [len(x) for x in X[:4]]
    scores = cross_val_score(SequenceTagger(**FAST), X, y, scoring=scoring, cv=3)
    assert scores.shape == (3,)
    assert ((scores >= 0) & (scores <= 1)).all()


def test_default_score_equals_flat_accuracy_scorer():
    X, y = _tagged(n=30)
    tagger = SequenceTagger(**FAST)
    default = cross_val_score(tagger, X, y, cv=3)
    flat = cross_val_score(tagger, X, y, cv=3, scoring=make_scorer(flat_accuracy_score))
    np.testing.assert_allclose(default, flat)


def test_cross_validation_on_a_table_with_2d_labels():
    X, y = _table(n=30)
    scores = cross_val_score(
        SequenceTagger(**FAST), X, y, cv=3, scoring=make_scorer(sequence_accuracy_score)
    )
    assert scores.shape == (3,)


# ------------------------------------------------------ padding invariance
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [True, False])
def test_a_sequence_alone_equals_its_rows_in_a_batch(cell, bidirectional):
    X, y = _tagged(n=40, min_len=1, max_len=30)
    tagger = SequenceTagger(
        cell=cell, bidirectional=bidirectional, **{**FAST, "hidden_layer_sizes": (5, 4)}
    ).fit(X, y)
    together = tagger.predict_proba(X)
    alone = [tagger.predict_proba([x])[0] for x in X]
    _assert_proba_lists_close(together, alone)


@pytest.fixture(scope="module")
def fitted_tagger():
    X, y = _tagged(n=20, n_features=3, labels=("a", "b", "c"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SequenceTagger(**FAST).fit(X, y)


@settings(max_examples=25, deadline=None)
@given(
    ragged_sequences(min_sequences=1, max_sequences=6, max_steps=15, n_features=3),
    st.integers(0, 5),
)
def test_padding_never_changes_predictions(fitted_tagger, X, position):
    """A sequence's outputs are the same alone and among other sequences."""
    x = X[position % len(X)]
    alone = fitted_tagger.predict_proba([x])[0]
    together = fitted_tagger.predict_proba(X)[position % len(X)]
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-15)
    pred = fitted_tagger.predict(X)
    assert [len(p) for p in pred] == [len(s) for s in X]


# ---------------------------------------------------------------- learning
def neighbour_task(n_sequences, seed):
    """Label a step by how many of its two neighbours are positive.

    Inputs are -1 or +1 plus Gaussian noise. A step's label ("none", "one"
    or "both") depends on the step before and the step after it; a missing
    neighbour (at either end) counts as not positive. Reading the past only,
    the label is right by chance about half of the time.
    """
    rng = np.random.default_rng(seed)
    names = np.array(["none", "one", "both"])
    X, y = [], []
    for length in rng.integers(5, 16, size=n_sequences):
        x = rng.choice([-1.0, 1.0], size=length) + 0.3 * rng.normal(size=length)
        positive = np.pad(x > 0, 1).astype(int)
        X.append(x[:, None])
        y.append(names[positive[:-2] + positive[2:]])
    return X, y


def parity_task(n_sequences, seed):
    """Label a step by the parity of the marked 1-bits seen so far.

    Each step holds a random bit and a random mark; the label is the parity
    of the number of steps up to and including this one whose bit and mark
    are both 1. It needs a memory of the whole past.
    """
    rng = np.random.default_rng(seed)
    X, y = [], []
    for length in rng.integers(5, 21, size=n_sequences):
        bits, marks = rng.integers(0, 2, size=(2, length))
        X.append(np.column_stack([bits, marks]).astype(float))
        y.append(np.cumsum(bits & marks) % 2)
    return X, y


@pytest.mark.slow
def test_bidirectional_tagger_uses_the_future():
    X, y = neighbour_task(200, seed=0)
    X_test, y_test = neighbour_task(200, seed=1)
    params = dict(
        hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=25, random_state=0
    )
    bidirectional = SequenceTagger(**params)
    unidirectional = SequenceTagger(bidirectional=False, **params)
    bidirectional.fit(X, y)
    unidirectional.fit(X, y)
    assert bidirectional.score(X_test, y_test) >= 0.98
    assert unidirectional.score(X_test, y_test) < 0.75


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_running_parity_is_learned(cell):
    X, y = parity_task(300, seed=0)
    X_test, y_test = parity_task(200, seed=1)
    tagger = SequenceTagger(
        hidden_layer_sizes=(16,), cell=cell, bidirectional=False,
        learning_rate_init=0.01, max_iter=40, random_state=0,
    )  # fmt: skip
    tagger.fit(X, y)
    assert tagger.score(X_test, y_test) >= 0.95


def ner_task(n_sequences, seed):
    """Tokens of three kinds (plain word, person word, place word) and their
    IOB2 tags: a run of person (place) words is one PER (LOC) entity."""
    rng = np.random.default_rng(seed)
    kinds = np.array(["O", "PER", "LOC"])
    X, y = [], []
    for length in rng.integers(4, 13, size=n_sequences):
        kind = rng.choice(3, size=length, p=[0.5, 0.25, 0.25])
        starts = np.r_[True, kind[1:] != kind[:-1]]
        tags = [
            "O" if k == 0 else f"{'B' if s else 'I'}-{kinds[k]}"
            for k, s in zip(kind, starts, strict=True)
        ]
        X.append(np.eye(3)[kind] + 0.1 * rng.normal(size=(length, 3)))
        y.append(np.array(tags))
    return X, y


@pytest.mark.slow
def test_span_f1_of_a_tagger_on_a_toy_ner_task():
    X, y = ner_task(200, seed=0)
    X_test, y_test = ner_task(100, seed=1)
    tagger = SequenceTagger(
        hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=30, random_state=0
    )
    tagger.fit(X, y)
    pred = tagger.predict(X_test)
    assert len(get_entities(y_test)) > 100
    assert span_f1_score(y_test, pred) >= 0.95
    assert span_f1_score(y_test, pred, average="macro") >= 0.95
    scorer = make_scorer(span_f1_score)
    assert scorer(tagger, X_test, y_test) == span_f1_score(y_test, pred)
