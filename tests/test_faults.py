"""Faults lose nothing and hide nothing.

A failed fit or partial_fit leaves the estimator as it was, divergence is an
error, saved models are checked when they load, and every bad input is
named with what to do about it.
"""

import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

import skrnn._training
from skrnn import RNNClassifier, RNNRegressor, SequenceTagger, SequenceTranslator
from skrnn.preprocessing import TextTokenizer
from tests.conftest import FAST

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning"),
]

QUICK = {**FAST, "max_iter": 2, "batch_size": 4}


def _data():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(rng.integers(3, 7)), 2)) for _ in range(12)]
    tokens = [rng.integers(0, 5, size=int(rng.integers(2, 6))) for _ in range(12)]
    return rng, X, tokens


def _cases():
    """(estimator, X, y) of every estimator, small and quick."""
    rng, X, tokens = _data()
    return {
        "regressor": (RNNRegressor(**QUICK), X, rng.normal(size=len(X))),
        "classifier": (RNNClassifier(**QUICK), X, ["a", "b", "c"] * 4),
        "tagger": (
            SequenceTagger(**QUICK),
            X,
            [np.where(x[:, 0] > 0, "p", "n") for x in X],
        ),
        "translator": (
            SequenceTranslator(embedding_dim=3, **QUICK),
            tokens,
            ["".join("ab"[v % 2] for v in t[::-1]) for t in tokens],
        ),
    }


def _fitted_state(estimator):
    """Every attribute that is not a hyper-parameter, as comparable values."""
    params = estimator.get_params(deep=False)
    state = {}
    for name, value in vars(estimator).items():
        if name in params or name == "_network":
            continue
        if name == "_optimizer":
            value = dict(vars(value))
        elif name == "_random_state":
            value = value.get_state()
        elif name == "_label_binarizer":
            value = dict(vars(value))
        state[name] = copy.deepcopy(value)
    return state


class _FailOnUpdate:
    """Replaces the gradient clipping of the training loop; raises on update n."""

    def __init__(self, n, error=RuntimeError):
        self.n, self.calls, self.error = n, 0, error

    def __call__(self, grad, clip_norm):
        self.calls += 1
        if self.calls == self.n:
            raise self.error("injected failure in the training loop")
        return skrnn._training.__dict__["_real_clip"](grad, clip_norm)


@pytest.fixture
def fail_on_update(monkeypatch):
    """Make the n-th optimiser update of the next fits raise."""
    monkeypatch.setitem(
        skrnn._training.__dict__, "_real_clip", skrnn._training.clip_grad_norm
    )

    def install(n, error=RuntimeError):
        failing = _FailOnUpdate(n, error)
        monkeypatch.setattr(skrnn._training, "clip_grad_norm", failing)
        return failing

    return install


# ----------------------------------------------------- 1. failed fits roll back
def _issue_repro():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5, 2)) * 3
    y = [0, 1] * 4
    clf = RNNClassifier(
        hidden_layer_sizes=(4,), cell="rnn", activation="relu", solver="sgd",
        learning_rate_init=1e6, clip_norm=None, max_iter=5, random_state=0,
    )  # fmt: skip
    return clf, X, y


def test_failed_fit_leaves_the_estimator_unfitted():
    clf, X, y = _issue_repro()
    with pytest.raises(ValueError, match="Solver produced non-finite parameter"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X)
    assert set(vars(clf)) == set(clf.get_params(deep=False))


def test_failed_first_partial_fit_leaves_no_classes(fail_on_update):
    clf, X, y = _issue_repro()
    fail_on_update(1)
    with pytest.raises(RuntimeError, match="injected failure"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


@pytest.mark.parametrize("name", sorted(_cases()))
@pytest.mark.parametrize("how", ["fit", "warm_start", "partial_fit"])
def test_failure_in_the_training_loop_restores_the_fitted_state(
    name, how, fail_on_update
):
    model, X, y = _cases()[name]
    model.fit(X, y)
    before = _fitted_state(model)
    proba_or_pred = getattr(model, "predict_proba", model.predict)(X)
    if how == "warm_start":
        model.set_params(warm_start=True)
    # The second update fails, after the first changed weights and optimiser
    # state in place.
    failing = fail_on_update(2)
    with pytest.raises(RuntimeError, match="injected failure"):
        model.partial_fit(X, y) if how == "partial_fit" else model.fit(X, y)
    assert failing.calls == 2
    np.testing.assert_equal(_fitted_state(model), before)
    after = getattr(model, "predict_proba", model.predict)(X)
    np.testing.assert_equal(after, proba_or_pred)


@pytest.mark.parametrize("name", sorted(_cases()))
def test_failed_first_fit_leaves_nothing_behind(name, fail_on_update):
    model, X, y = _cases()[name]
    fail_on_update(2)
    with pytest.raises(RuntimeError, match="injected failure"):
        model.fit(X, y)
    assert set(vars(model)) == set(model.get_params(deep=False))
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


def test_a_partial_fit_loop_goes_on_after_a_caught_failure(fail_on_update):
    model, X, y = _cases()["classifier"]
    model.partial_fit(X, y, classes=["a", "b", "c"])
    weights = model.get_weights()
    failing = fail_on_update(2)  # after a first update in place
    with pytest.raises(RuntimeError):
        model.partial_fit(X, y)
    failing.n = 0  # no more failures
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, weights[key])
    assert model.n_iter_ == 1
    model.partial_fit(X, y)
    assert model.n_iter_ == 2
    assert np.isfinite(model.predict_proba(X)).all()


def test_ctrl_c_in_the_training_loop_keeps_the_model(fail_on_update):
    model, X, y = _cases()["classifier"]
    fail_on_update(2, KeyboardInterrupt)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        model.fit(X, y)
    check_is_fitted(model)
    assert np.isfinite(model.predict_proba(X)).all()


def test_ctrl_c_outside_the_training_loop_rolls_back(monkeypatch):
    model, X, y = _cases()["classifier"]
    model.fit(X, y)
    before = _fitted_state(model)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(model), "_check_weights", interrupted)
    # Three features per step: validation records them before the interrupt.
    wider = [np.hstack([x, x[:, :1]]) for x in X]
    with pytest.raises(KeyboardInterrupt):
        model.fit(wider, y)
    np.testing.assert_equal(_fitted_state(model), before)
    assert model.n_features_in_ == 2


def test_diverging_partial_fit_keeps_the_last_good_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 4, 2))
    y = rng.normal(size=16)
    model = RNNRegressor(**QUICK).partial_fit(X, y)
    before = _fitted_state(model)
    with pytest.raises(ValueError, match="non-finite training loss"):
        model.partial_fit(X, np.full(16, 1e200))
    np.testing.assert_equal(_fitted_state(model), before)
    model.partial_fit(X, y)
    assert model.n_iter_ == 2


def test_user_random_state_object_is_left_to_the_user():
    rng = np.random.RandomState(0)
    clf, X, y = _issue_repro()
    clf.set_params(random_state=rng)
    with pytest.raises(ValueError):
        clf.fit(X, y)
    assert clf.random_state is rng


# ------------------------------------------------------- 2. divergence is seen
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_non_finite_loss_is_an_error(solver):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5, 2))
    model = RNNRegressor((4,), solver=solver, max_iter=2, random_state=0)
    with pytest.raises(
        ValueError, match=r"non-finite training loss .*scale X and y.*clip_norm"
    ):
        model.fit(X, np.full(8, 1e200))
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


def test_divergence_message_says_what_to_do():
    clf, X, y = _issue_repro()
    with pytest.raises(
        ValueError,
        match=r"diverged in iteration \d+: .*lower learning_rate_init, or set clip",
    ):
        clf.fit(X, y)


def test_a_loss_that_grows_a_millionfold_warns():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(16, 4, 1))
    y = rng.normal(size=16)
    model = RNNRegressor(
        hidden_layer_sizes=(3,), cell="rnn", activation="identity", solver="sgd",
        momentum=0, learning_rate_init=0.5, clip_norm=None, max_iter=7,
        batch_size=16, shuffle=False, random_state=0,
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning, match="training loss grew from"):
        model.fit(X, y)
    assert max(model.loss_curve_) > 1e6 * model.loss_curve_[0]


# ---------------------------------------------------- 3. large regression targets
@pytest.mark.parametrize("scale", [1e6, 1e10])
def test_large_targets_warn_with_advice(scale):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = (X.sum(axis=1) + 3) * scale
    model = RNNRegressor(solver="lbfgs", hidden_layer_sizes=(4,), max_iter=5)
    with pytest.warns(ConvergenceWarning, match="TransformedTargetRegressor"):
        model.fit(X, y)


def test_unit_scale_targets_do_not_warn_about_their_scale(recwarn):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    RNNRegressor(solver="lbfgs", hidden_layer_sizes=(4,), max_iter=5).fit(
        X, X.sum(axis=1)
    )
    assert not [w for w in recwarn if "targets y are large" in str(w.message)]


# -------------------------------------------------- 4. translator's score
def _fitted_translator():
    X = [[1, 2], [2, 1], [1, 1], [2, 2]] * 3
    Y = ["ab", "ba", "aa", "bb"] * 3
    model = SequenceTranslator(embedding_dim=2, **QUICK).fit(X, Y)
    return model, X, Y


def test_translator_score_counts_unseen_labels_as_wrong():
    model, X, Y = _fitted_translator()
    reference = model.score(X[:4], Y[:4])
    unseen = model.score(X[:4], ["zz", *Y[1:4]])
    expected_hits = np.array([p == t for p, t in zip(model.predict(X[:4]), Y[:4])])
    assert reference == pytest.approx(expected_hits.mean())
    assert unseen == pytest.approx(expected_hits[1:].sum() / 4)


def test_translator_cross_validation_scores_every_fold():
    from sklearn.model_selection import KFold, cross_val_score

    X = [[1, 2], [2, 1], [1, 1], [2, 2]] * 3
    Y = ["ab", "ba", "aa", "bb"] * 2 + ["az", "za", "zz", "zb"]
    model = SequenceTranslator(embedding_dim=2, **QUICK)
    # The last fold's targets hold 'z', which its training folds never show.
    scores = cross_val_score(model, X, Y, cv=KFold(3), error_score="raise")
    assert np.isfinite(scores).all()
    assert scores[-1] == 0.0


def test_translator_log_likelihood_refuses_unseen_labels_without_advising_refit():
    model, X, _ = _fitted_translator()
    with pytest.raises(ValueError, match=r"\['z'\].*probability 0.*-inf") as info:
        model.log_likelihood(X[:2], ["ab", "az"])
    assert "refit" not in str(info.value)


# ----------------------------------------------------- 6. saved models are checked
def _tampered(model, edit):
    """Pickle bytes of ``model`` with its saved state edited by ``edit``."""
    state = model.__getstate__()
    state = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}
    state["_network"] = {"config": dict(state["_network"]["config"])}
    state["_optimizer"] = copy.deepcopy(state["_optimizer"])
    edit(state)
    fake = type(model).__new__(type(model))
    fake.__dict__.update(state)
    return pickle.dumps(fake)


def _nan_weight(state):
    state["_theta"][3] = np.nan


EDITS = {
    "nan-weight": (_nan_weight, r"NaN or infinity \(first in 'weight_ih_l0'"),
    "float16": (
        lambda s: s.update(_theta=s["_theta"].astype(np.float16)),
        "dtype float16; skrnn models hold float32 or float64",
    ),
    "cell": (
        lambda s: s["_network"]["config"].update(cell="gru"),
        r"has shape \(\d+,\), but its network configuration .*'cell': 'gru'",
    ),
    "unknown-cell": (
        lambda s: s["_network"]["config"].update(cell="xyz"),
        "network configuration .* is not valid",
    ),
    "hidden-sizes": (
        lambda s: s["_network"]["config"].update(hidden_layer_sizes=(2,)),
        r"'hidden_layer_sizes': \(2,\).* needs \d+ weights",
    ),
    "n_outputs_": (
        lambda s: s.update(n_outputs_=3),
        "n_outputs_=3, but its network has 1 output units",
    ),
    "optimizer": (
        lambda s: s["_optimizer"]["state"].update(m=np.zeros(3)),
        r"its optimiser's 'm' has shape \(3,\), but its network has \d+",
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_pickle_is_refused_at_load(edit):
    rng = np.random.default_rng(0)
    model = RNNRegressor(**QUICK).fit(rng.normal(size=(8, 4, 2)), rng.normal(size=8))
    change, match = EDITS[edit]
    data = _tampered(model, change)
    with pytest.raises(ValueError, match=f"cannot be loaded: .*{match}"):
        pickle.loads(data)


def test_classes_that_disagree_with_the_output_layer_are_refused():
    model, X, y = _cases()["classifier"]
    model.fit(X, y)

    def drop_class(state):
        state["classes_"] = state["classes_"][:2]
        state["_label_binarizer"] = copy.deepcopy(state["_label_binarizer"])
        state["_label_binarizer"].classes_ = state["classes_"]

    with pytest.raises(ValueError, match="classes_ has 2 classes, which need 1"):
        pickle.loads(_tampered(model, drop_class))
    with pytest.raises(ValueError, match="differs from the classes its label"):
        pickle.loads(
            _tampered(model, lambda s: s.update(classes_=np.array(["a", "b", "z"])))
        )


def test_translator_classes_are_checked_at_load():
    model, _, _ = _fitted_translator()
    with pytest.raises(ValueError, match="classes_ has 3 classes, which need 4"):
        pickle.loads(
            _tampered(model, lambda s: s.update(classes_=np.array(["a", "b", "c"])))
        )


def test_sound_pickle_loads_and_predicts_the_same():
    for model, X, y in _cases().values():
        model.fit(X, y)
        loaded = pickle.loads(pickle.dumps(model))
        np.testing.assert_equal(loaded.predict(X), model.predict(X))


def test_edited_skops_file_is_refused_at_load():
    sio = pytest.importorskip("skops.io")
    rng = np.random.default_rng(0)
    model = RNNRegressor(**QUICK).fit(rng.normal(size=(8, 4, 2)), rng.normal(size=8))
    model._theta[5] = np.inf
    data = sio.dumps(model)
    with pytest.raises(ValueError, match="cannot be loaded: its weights hold NaN"):
        sio.loads(data, trusted=sio.get_untrusted_types(data=data))


# ------------------------------------------------------------------- 7. targets
TRANSLATOR_TARGETS = {
    "dict": ({0: "ab", 1: "ba"}, TypeError, "got a dict, whose order is not that"),
    "continuous": ([1.5, 2.5], ValueError, r"continuous values \(such as 1.5\)"),
    "nan": ([[1.0, np.nan], [2.0]], ValueError, r"NaN in sequence 0 \(step 1\)"),
    "none": ([["a", None], ["b"]], ValueError, r"None in sequence 0 \(step 1\)"),
}


@pytest.mark.parametrize("case", sorted(TRANSLATOR_TARGETS))
def test_translator_refuses_bad_targets(case):
    y, error, match = TRANSLATOR_TARGETS[case]
    model = SequenceTranslator(**QUICK)
    with pytest.raises(error, match=match):
        model.fit([[1.0, 2.0], [2.0, 1.0]], y)


def test_translator_takes_integral_float_labels():
    model = SequenceTranslator(**QUICK).fit([[1.0, 2.0], [2.0, 1.0]], [1.0, 2.0])
    assert model.classes_.tolist() == [1.0, 2.0]


def test_classifier_names_a_missing_label():
    _, X, _ = _data()
    y = ["a", "b", None] + ["a"] * 9
    with pytest.raises(ValueError, match="y contains None for sequence 2"):
        RNNClassifier(**QUICK).fit(X, y)


@pytest.mark.parametrize("name", ["classifier", "tagger"])
def test_class_weight_names_the_unknown_class(name):
    model, X, y = _cases()[name]
    model.set_params(class_weight={"zz": 2.0})
    with pytest.raises(ValueError, match=r"not in y: \['zz'\]"):
        model.fit(X, y)


def test_regressor_points_per_step_targets_to_the_tagger():
    _, X, _ = _data()
    y = [np.ones(len(x)) for x in X]
    with pytest.raises(ValueError, match="y\\[0\\] is a sequence of .*SequenceTagger"):
        RNNRegressor(**QUICK).fit(X, y)


# ---------------------------------------------------------- 8. hidden_layer_sizes
@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ((4.7,), r"element 0 \(4.7\) is float"),
        ((True,), r"element 0 \(True\) is bool"),
        (True, r"element 0 \(True\) is bool"),
        (("a",), r"element 0 \('a'\) is str"),
        ((np.nan,), r"element 0 \(nan\) is float"),
        ([[4, 4]], r"element 0 \(\[4, 4\]\) is list"),
        ((4, 0), r"element 1 \(0\) is not positive"),
    ],
)
def test_hidden_layer_sizes_must_be_positive_ints(sizes, match):
    rng = np.random.default_rng(0)
    model = RNNClassifier(hidden_layer_sizes=sizes, max_iter=1)
    with pytest.raises(ValueError, match=f"hidden_layer_sizes must be .*{match}"):
        model.fit(rng.normal(size=(6, 3, 2)), [0, 1] * 3)


def test_numpy_int_hidden_layer_sizes_are_fine():
    rng = np.random.default_rng(0)
    model = RNNClassifier(hidden_layer_sizes=np.array([3, 2]), max_iter=1)
    model.fit(rng.normal(size=(6, 3, 2)), [0, 1] * 3)
    assert model.get_weights()["weight_hh_l1"].shape == (8, 2)


# ------------------------------------------------------------------ 9. messages
def _text_inputs():
    pd = pytest.importorskip("pandas")
    texts = np.array([["hello", "world"], ["foo", "bar"]])
    return {
        "1-d list": ["hello world", "foo bar"],
        "2-d array": texts,
        "object array": texts.astype(object),
        "dataframe": pd.DataFrame({"a": ["hello", "foo"], "b": ["world", "bar"]}),
        "3-d array": texts[:, :, None],
        "ragged list": [np.array(["hello", "world"]), np.array(["foo"])],
        "list of lists": [["hello", "world"], ["foo"]],
    }


TEXT_MESSAGE = (
    r"X.* holds text \('(hello|hello world)'\), but {name} reads numbers.*"
    r"TextTokenizer the first step of a Pipeline and set embedding_dim"
)


@pytest.mark.parametrize("form", sorted(_text_inputs()))
@pytest.mark.parametrize("estimator", [RNNClassifier, SequenceTranslator])
def test_text_input_says_how_to_tokenize(form, estimator):
    X = _text_inputs()[form]
    y = [0, 1] if estimator is RNNClassifier else ["olleh", "oof"]
    with pytest.raises(ValueError, match=TEXT_MESSAGE.format(name=estimator.__name__)):
        estimator(max_iter=1).fit(X, y)


def test_text_at_predict_says_how_to_tokenize():
    rng = np.random.default_rng(0)
    model = RNNClassifier(**QUICK).fit(rng.normal(size=(4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="holds text"):
        model.predict(np.array([["a", "b", "c"]]))


def test_text_tokenizer_refuses_an_empty_corpus():
    with pytest.raises(ValueError, match="TextTokenizer.fit got no document"):
        TextTokenizer().fit([])


def test_huge_token_id_is_refused_before_allocating():
    X = [np.array([1, 2]), np.array([10**9, 3])]
    model = RNNClassifier(embedding_dim=8, max_iter=1)
    with pytest.raises(
        ValueError,
        match=r"token id 1000000000 \(sequence 1, step 0\).*largest id \+ 1.*"
        r"vocabulary_size",
    ):
        model.fit(X, [0, 1])


def test_declared_vocabulary_size_is_respected():
    X = [np.array([1, 2]), np.array([7, 3])]
    model = RNNClassifier(embedding_dim=2, vocabulary_size=20, **QUICK).fit(X, [0, 1])
    assert model.n_tokens_ == 20


def test_set_weights_refuses_strings():
    model, X, y = _cases()["regressor"]
    model.fit(X, y)
    weights = model.get_weights()
    weights["output.bias"] = np.array(["a"])
    with pytest.raises(TypeError, match="'output.bias' has dtype <U1; weights must"):
        model.set_weights(weights)


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_invalid_numba_num_threads_is_named(value):
    env = {**os.environ, "NUMBA_NUM_THREADS": value}
    result = subprocess.run(
        [sys.executable, "-c", "import skrnn"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert f"NUMBA_NUM_THREADS is '{value}'" in result.stderr
    assert "positive integer" in result.stderr
