"""Behaviour of RNNRegressor and RNNClassifier beyond scikit-learn's checks."""

import pickle
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrnn import RNNClassifier, RNNRegressor
from skrnn._base import store_init_arguments
from skrnn._network import RecurrentNetwork
from tests._helpers import ragged, torch_module
from tests.conftest import CELLS, FAST

pytestmark = pytest.mark.usefixtures("quiet_convergence")


def _ragged(n=24, n_features=2, seed=0):
    X = ragged(n, n_features, seed)
    return X, np.array([x[:, 0].sum() for x in X])


def _forms(n=24, n_steps=6, seed=0):
    """The same univariate data as a table, a 3-D array and a list."""
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(n, n_steps))
    return {
        "table": table,
        "array": table[:, :, None],
        "ragged": [row[:, None] for row in table],
    }


# ---------------------------------------------------------------- shapes
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("form", ["table", "array", "ragged"])
def test_fit_returns_self_and_predict_shapes(cell, form):
    X = _forms()[form]
    y = np.arange(24) % 3
    reg = RNNRegressor(cell=cell, **FAST)
    assert reg.fit(X, y.astype(float)) is reg
    assert reg.predict(X).shape == (24,)
    Y2 = np.c_[y, -y].astype(float)
    assert reg.fit(X, Y2).predict(X).shape == (24, 2)
    clf = RNNClassifier(cell=cell, **FAST).fit(X, y)
    assert clf.predict(X).shape == (24,)
    proba = clf.predict_proba(X)
    assert proba.shape == (24, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_table_equals_3d_with_one_feature_and_ragged():
    forms = _forms()
    y = np.arange(24.0)
    preds = [
        RNNRegressor(**FAST).fit(X, y).predict(forms["ragged"]) for X in forms.values()
    ]
    np.testing.assert_allclose(preds[0], preds[1], rtol=1e-12)
    np.testing.assert_allclose(preds[0], preds[2], rtol=1e-12)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_ragged_prediction_equals_each_sequence_alone(bidirectional):
    X, y = _ragged()
    reg = RNNRegressor(bidirectional=bidirectional, **FAST).fit(X, y)
    together = reg.predict(X)
    alone = np.array([reg.predict([x])[0] for x in X])
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-14)


def test_float32_is_preserved():
    X, y = _ragged()
    X32 = [x.astype(np.float32) for x in X]
    reg = RNNRegressor(**FAST).fit(X32, y)
    assert reg.predict(X32).dtype == np.float32
    assert all(w.dtype == np.float32 for w in reg.get_weights().values())
    reg64 = RNNRegressor(**FAST).fit(X, y)
    np.testing.assert_allclose(reg.predict(X32), reg64.predict(X), atol=1e-3)


def test_random_state_makes_fits_repeat_exactly():
    X, y = _ragged()
    a = RNNRegressor(**FAST).fit(X, y).predict(X)
    b = RNNRegressor(**FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    c = RNNRegressor(**{**FAST, "random_state": 1}).fit(X, y).predict(X)
    assert not np.allclose(a, c)


# ------------------------------------------------------ scikit-learn tools
@pytest.mark.parametrize("form", ["table", "array", "ragged"])
def test_pipeline_grid_search_and_cross_validation(form):
    X = _forms(n=30)[form]
    y = (np.asarray(_forms(n=30)["table"]).sum(axis=1) > 0).astype(int)
    pipe = make_pipeline(
        FunctionTransformer(lambda Z: Z, validate=False), RNNClassifier(**FAST)
    )
    search = GridSearchCV(
        pipe, {"rnnclassifier__cell": ["gru", "lstm"]}, cv=3, n_jobs=2
    )
    search.fit(X, y)
    assert search.best_params_["rnnclassifier__cell"] in ("gru", "lstm")
    scores = cross_val_score(RNNRegressor(**FAST), X, y.astype(float), cv=3)
    assert scores.shape == (3,)
    assert np.isfinite(scores).all()
    clone(search.best_estimator_).fit(X, y)


@pytest.mark.subprocess
def test_pickle_and_joblib_round_trip_in_a_fresh_process(tmp_path):
    X, y = _ragged()
    reg = RNNRegressor(cell="lstm", **FAST).fit(X, y)
    expected = reg.predict(X)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps((reg, X)))
    joblib.dump(reg, tmp_path / "model.joblib")
    code = f"""
import pickle, joblib, numpy as np
with open({str(tmp_path / "model.pkl")!r}, "rb") as f:
    reg, X = pickle.load(f)
again = joblib.load({str(tmp_path / "model.joblib")!r})
np.save({str(tmp_path / "a.npy")!r}, reg.predict(X))
np.save({str(tmp_path / "b.npy")!r}, again.predict(X))
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), expected)


# -------------------------------------------------------------- training
def test_warm_start_and_partial_fit_continue_training():
    X, y = _ragged()
    reg = RNNRegressor(warm_start=True, **FAST).fit(X, y)
    first = reg.loss_curve_[-1]
    reg.fit(X, y)
    assert len(reg.loss_curve_) == 10
    assert reg.loss_curve_[-1] < first
    inc = RNNRegressor(**FAST)
    for _ in range(3):
        inc.partial_fit(X, y)
    assert inc.n_iter_ == 3
    assert inc.loss_curve_[-1] < inc.loss_curve_[0]
    clf = RNNClassifier(**FAST)
    clf.partial_fit(X, y > 0, classes=[False, True])
    clf.partial_fit(X[:5], np.ones(5, dtype=bool))
    assert list(clf.classes_) == [False, True]


def test_partial_fit_is_hidden_for_lbfgs():
    assert not hasattr(RNNRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(RNNClassifier(solver="sgd"), "partial_fit")


def test_early_stopping_stops_and_restores_best_weights(monkeypatch):
    X, y = _ragged(n=60)
    snapshots = []
    original = RNNRegressor._record_validation

    def record(self, val, Y_val, y_val, sw_val):
        snapshots.append((self._theta.copy(), val, y_val))
        return original(self, val, Y_val, y_val, sw_val)

    monkeypatch.setattr(RNNRegressor, "_record_validation", record)
    reg = RNNRegressor(
        hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=2,
        max_iter=300, learning_rate_init=0.05, random_state=0,
    )  # fmt: skip
    reg.fit(X, y)
    assert reg.n_iter_ < 300
    assert len(reg.validation_scores_) == reg.n_iter_
    assert len(reg.validation_loss_curve_) == reg.n_iter_
    best = int(np.argmax(reg.validation_scores_))
    assert reg.best_validation_score_ == reg.validation_scores_[best]
    assert best < reg.n_iter_ - 1  # the last epoch was not the best one
    theta, val, y_val = snapshots[best]
    np.testing.assert_array_equal(reg._theta, theta)
    assert reg.score(val.sequences, y_val) == pytest.approx(reg.best_validation_score_)
    assert len(val.sequences) == 6


def test_classifier_early_stopping_is_stratified():
    X, y = _ragged(n=40)
    labels = np.where(y > 0, "a", "b")
    clf = RNNClassifier(early_stopping=True, validation_fraction=0.25, **FAST)
    clf.fit(X, labels)
    assert len(clf.validation_scores_) == clf.n_iter_


def test_clipping_bounds_the_update():
    X, y = _ragged()
    y = 100 * y  # huge errors, huge gradients
    common = dict(
        solver="sgd", momentum=0.0, learning_rate_init=0.01, batch_size=24,
        hidden_layer_sizes=(4,), random_state=0,
    )  # fmt: skip
    clipped = RNNRegressor(clip_norm=0.5, **common).partial_fit(X[:1], y[:1])
    start = clipped._theta.copy()
    clipped.partial_fit(X, y)
    assert np.linalg.norm(clipped._theta - start) <= 0.01 * 0.5 + 1e-9
    assert clipped.grad_norm_curve_[-1] > 0.5
    free = RNNRegressor(clip_norm=None, **common).partial_fit(X[:1], y[:1])
    start = free._theta.copy()
    free.partial_fit(X, y)
    assert np.linalg.norm(free._theta - start) > 0.01 * 0.5


def _peak_memory_of_one_epoch(**params):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 400, 2))
    y = rng.normal(size=16)
    reg = RNNRegressor(hidden_layer_sizes=(32,), max_iter=1, batch_size=16, **params)
    reg.fit(X[:, :5], y)  # compile outside the measurement
    tracemalloc.start()
    reg.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_truncated_bptt_runs_and_lowers_memory():
    full = _peak_memory_of_one_epoch()
    truncated = _peak_memory_of_one_epoch(bptt_steps=20)
    assert truncated < full / 2


def test_dropout_changes_training_not_prediction():
    X, y = _ragged()
    plain = RNNRegressor(**{**FAST, "hidden_layer_sizes": (8, 8), "max_iter": 3})
    dropped = clone(plain).set_params(dropout=0.5)
    plain.fit(X, y)
    dropped.fit(X, y)
    assert not np.allclose(plain.predict(X), dropped.predict(X))
    np.testing.assert_array_equal(dropped.predict(X), dropped.predict(X))
    again = clone(dropped).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), dropped.predict(X))


def test_keyboard_interrupt_keeps_a_usable_model(monkeypatch):
    X, y = _ragged()
    calls = {"n": 0}
    original = RecurrentNetwork.loss_and_grad

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RecurrentNetwork, "loss_and_grad", interrupted)
    reg = RNNRegressor(batch_size=4, **{**FAST, "max_iter": 50})
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        reg.fit(X, y)
    assert np.isfinite(reg.predict(X)).all()


def test_verbose_prints_mlp_lines(capsys):
    X, y = _ragged()
    RNNRegressor(verbose=True, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out


def test_convergence_warning_when_max_iter_reached():
    X, y = _ragged()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="Maximum iterations"):
            RNNRegressor(**FAST).fit(X, y)


def test_sample_weight_equals_repetition_for_lbfgs():
    X, y = _ragged(n=10)
    w = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1, 1])
    X_rep = [x for x, k in zip(X, w) for _ in range(k)]
    y_rep = np.repeat(y, w)
    params = dict(solver="lbfgs", max_iter=20, hidden_layer_sizes=(4,), random_state=0)
    a = RNNRegressor(**params).fit(X, y, sample_weight=w)
    b = RNNRegressor(**params).fit(X_rep, y_rep)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6)


def test_multilabel_classification():
    X, y = _ragged(n=30)
    Y = np.c_[y > 0, y > 1].astype(int)
    clf = RNNClassifier(**FAST).fit(X, Y)
    assert clf.predict(X).shape == (30, 2)
    assert clf.predict_proba(X).shape == (30, 2)


# --------------------------------------------------------------- weights
def test_get_and_set_weights_round_trip():
    X, y = _ragged()
    reg = RNNRegressor(**{**FAST, "bidirectional": True, "hidden_layer_sizes": (3, 2)})
    reg.fit(X, y)
    weights = reg.get_weights()
    assert "weight_hh_l1_reverse" in weights
    assert weights["weight_ih_l1"].shape == (4 * 2, 6)
    other = clone(reg).set_params(random_state=5).fit(X, y)
    other.set_weights(weights)
    np.testing.assert_array_equal(other.predict(X), reg.predict(X))
    weights["output.bias"][:] = 100.0  # a copy: the model is unchanged
    assert not np.allclose(reg.predict(X), 100.0, atol=10)


def test_set_weights_errors():
    X, y = _ragged()
    reg = RNNRegressor(**FAST).fit(X, y)
    weights = reg.get_weights()
    with pytest.raises(ValueError, match="Missing: \\['output.bias'\\]"):
        reg.set_weights({k: v for k, v in weights.items() if k != "output.bias"})
    with pytest.raises(ValueError, match="unknown: \\['extra'\\]"):
        reg.set_weights({**weights, "extra": np.zeros(1)})
    with pytest.raises(ValueError, match="'output.weight' has shape \\(2, 6\\)"):
        reg.set_weights({**weights, "output.weight": np.zeros((2, 6))})
    with pytest.raises(NotFittedError):
        RNNRegressor().get_weights()


@pytest.mark.torch
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_weights_reproduce_predictions_in_pytorch(cell, bidirectional):
    torch = pytest.importorskip("torch")
    X = np.random.default_rng(0).normal(size=(7, 5, 3))
    y = X.sum(axis=(1, 2))
    params = {**FAST, "hidden_layer_sizes": (4, 3)}
    reg = RNNRegressor(cell=cell, bidirectional=bidirectional, **params).fit(X, y)
    module = torch_module(torch, cell)
    rnn = module(3, 4, batch_first=True, bidirectional=bidirectional).double()
    rnn2 = module(4 * (1 + bidirectional), 3, batch_first=True,
                  bidirectional=bidirectional).double()  # fmt: skip
    head = torch.nn.Linear(3 * (1 + bidirectional), 1).double()
    weights = reg.get_weights()
    with torch.no_grad():
        for name, value in weights.items():
            if name.startswith("output."):
                getattr(head, name.split(".")[1]).copy_(torch.from_numpy(value))
            else:
                layer = rnn if "_l0" in name else rnn2
                getattr(layer, name.replace("_l1", "_l0")).copy_(
                    torch.from_numpy(value)
                )
        out, _ = rnn2(rnn(torch.from_numpy(X))[0])
        H = 3
        final = out[:, -1, :H]
        if bidirectional:
            final = torch.cat([final, out[:, 0, H:]], dim=1)
        expected = head(final).numpy().ravel()
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ([np.array([[1.0], [np.nan]])], ValueError, "NaN"),
        ([np.array([[1.0], [np.inf]])], ValueError, "infinity"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        ([np.ones((3, 1)), np.ones((0, 1))], ValueError, "Sequence 1"),
        ([np.ones((3, 2)), np.ones((2, 3))], ValueError, "Sequence 1"),
        (np.ones((2, 3, 4, 5)), ValueError, "4"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "holds text"),
        (np.ones((2, 3)) + 1j, ValueError, "Complex data not supported"),
    ],
)
def test_bad_X_is_rejected_clearly(X, error, match):
    n = len(X)
    with pytest.raises(error, match=match):
        RNNRegressor(**FAST).fit(X, np.zeros(max(n, 1)))


def test_bad_y_is_rejected_clearly():
    X, y = _ragged()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        RNNRegressor(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        RNNRegressor(**FAST).fit(X, np.where(y > 0, np.nan, y))
    with pytest.raises(ValueError, match="Unknown label type"):
        RNNClassifier(**FAST).fit(X, y)


def test_predict_errors():
    X, y = _ragged()
    with pytest.raises(NotFittedError):
        RNNRegressor().predict(X)
    reg = RNNRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="3 features per step"):
        reg.predict([np.ones((4, 3))])
    table = RNNRegressor(**FAST).fit(np.ones((5, 4)), np.arange(5.0))
    with pytest.raises(ValueError, match="expecting 4 features"):
        table.predict(np.ones((5, 3)))


def test_unseen_labels_in_partial_fit():
    X, y = _ragged()
    clf = RNNClassifier(**FAST).partial_fit(X, y > 0, classes=[False, True])
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X[:2], np.array([2, 2]))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"cell": "rnnn"}, "'cell' parameter"),
        ({"hidden_layer_sizes": 0}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (4, 0)}, "positive"),
        ({"bptt_steps": 0}, "'bptt_steps' parameter"),
        ({"clip_norm": -1.0}, "'clip_norm' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"solver": "lbfgs", "dropout": 0.2}, "stochastic solver"),
    ],
)
def test_invalid_hyper_parameters(params, match):
    X, y = _ragged()
    with pytest.raises(ValueError, match=match):
        RNNRegressor(**{**FAST, **params}).fit(X, y)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return sorted(i["num_threads"] for i in threadpool_info()
                  if i["user_api"] == "blas")  # fmt: skip


def _wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def idle_blas():
    """The kernel session's state with no limit lingering, before and after."""
    import skrnn._runtime._blas as blas

    def settle():
        with blas._sessions_lock:
            assert blas._sessions == 0
            if blas._restore_timer is not None:
                blas._restore_timer.cancel()
            blas._restore_blas()

    settle()
    yield blas
    settle()


def _overlap_two_sessions(blas):
    """Enter two sessions and leave them, as two fits in threads do."""
    first, second = blas.session(), blas.session()
    first.__enter__()
    second.__enter__()
    second.__exit__(None, None, None)
    first.__exit__(None, None, None)


def test_blas_limit_is_restored_at_once_after_a_lone_fit(idle_blas):
    before = _blas_threads()
    X, y = _ragged()
    RNNRegressor(**FAST).fit(X, y)
    assert _blas_threads() == before


def test_blas_limit_is_shared_by_concurrent_fits(monkeypatch, idle_blas):
    blas = idle_blas
    monkeypatch.setattr(blas, "_LINGER_SECONDS", 0.2)
    before = _blas_threads()
    first, second = blas.session(), blas.session()
    # Entered and left out of order, as two fits on joblib's threading
    # backend do: the limit holds until the last one leaves, a little longer
    # since they overlapped, and then the original thread counts come back.
    first.__enter__()
    second.__enter__()
    assert set(_blas_threads()) == {1}
    first.__exit__(None, None, None)
    assert set(_blas_threads()) == {1}
    second.__exit__(None, None, None)
    assert _wait_for(lambda: _blas_threads() == before)


def test_overlapping_fits_set_the_blas_limit_once(monkeypatch, idle_blas):
    """A threaded search sets the limit once and restores it once.

    Setting and restoring OpenBLAS's thread count at every fit while other
    threads call BLAS sent its threads into busy waiting.
    """
    blas = idle_blas
    monkeypatch.setattr(blas, "_LINGER_SECONDS", 60.0)
    calls = []
    with blas.session():  # the controller exists after a first session
        pass
    controller = blas._blas_controller
    real_limit = controller.limit

    def spy(*args, **kwargs):
        calls.append("limit")
        return real_limit(*args, **kwargs)

    monkeypatch.setattr(controller, "limit", spy)
    _overlap_two_sessions(blas)
    for _ in range(3):  # the next fits of the search
        with blas.session():
            assert set(_blas_threads()) == {1}
    assert set(_blas_threads()) == {1}
    assert calls == ["limit"]
    with blas._sessions_lock:
        assert blas._restore_timer is not None  # restores in 60 s


def test_lingering_limit_is_restored_by_its_timer(monkeypatch, idle_blas):
    blas = idle_blas
    monkeypatch.setattr(blas, "_LINGER_SECONDS", 0.05)
    before = _blas_threads()
    _overlap_two_sessions(blas)
    assert _wait_for(lambda: _blas_threads() == before)
    with blas._sessions_lock:
        assert blas._restore_timer is None
        assert blas._blas_limiter is None


def test_blas_limit_holds_in_worker_threads(idle_blas):
    """Fits in threads limit BLAS even when another thread set limits before.

    threadpoolctl (from 3.8) ignores the OpenBLAS limits of every thread but
    the first that set one, while it lives; here the main thread sets one,
    and fits in two worker threads must still get BLAS on one thread.
    """
    from threadpoolctl import ThreadpoolController

    blas = idle_blas
    main_limit = ThreadpoolController().limit(limits=2, user_api="blas")
    try:
        if set(_blas_threads()) != {2}:
            pytest.skip("BLAS cannot run two threads here")
        seen = []
        both_in = threading.Barrier(2)

        def fit():
            with blas.session():
                both_in.wait(timeout=10)
                seen.append(set(_blas_threads()))
                both_in.wait(timeout=10)

        workers = [threading.Thread(target=fit) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert seen == [{1}, {1}]
        with blas._sessions_lock:
            timer = blas._restore_timer
        timer.cancel()
        timer.function()  # restores now
        assert set(_blas_threads()) == {2}
    finally:
        blas._release_openblas()
        main_limit.restore_original_limits()
        blas._release_openblas()


def test_threaded_search_leaves_blas_as_it_found_it(monkeypatch, idle_blas):
    blas = idle_blas
    monkeypatch.setattr(blas, "_LINGER_SECONDS", 0.2)
    before = _blas_threads()
    X, y = _ragged()
    search = GridSearchCV(RNNRegressor(**FAST), {"alpha": [1e-4, 1e-3]}, cv=2)
    with joblib.parallel_backend("threading", n_jobs=2):
        search.fit(X, y)
    assert _wait_for(lambda: _blas_threads() == before)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_divergence_stops_at_once_with_a_clear_error():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5, 2))
    y = 1e150 * rng.normal(size=40)
    reg = RNNRegressor(
        hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=10.0,
        clip_norm=None, max_iter=50,
    )  # fmt: skip
    # Not all 50 epochs: the error comes in one of the first.
    with pytest.raises(
        ValueError, match=r"Solver produced (a )?non-finite .* in iteration [1-4]:"
    ):
        reg.fit(X, y)
    assert not hasattr(reg, "n_iter_")  # the failed fit is rolled back


def test_encode_label_sequences_gives_ids_and_names_unseen_labels():
    from skrnn._translator import _encode_label_sequences

    classes = np.array(["a", "b", "c"])

    def encode(*targets):
        targets = [np.array(list(t), dtype=object) for t in targets]
        return _encode_label_sequences(
            targets, classes, dtype=np.int64, known="labels", advice="refit"
        )

    ids = encode("cab", "", "bb")
    assert [i.tolist() for i in ids] == [[2, 0, 1], [], [1, 1]]
    assert {i.dtype for i in ids} == {np.dtype(np.int64)}
    with pytest.raises(
        ValueError,
        match=r"^Target sequence 1 has labels not in classes_: \['x', 'y'\]\. "
        r"The model knows the labels \['a', 'b', 'c'\] from fit; refit\.$",
    ):
        encode("a", "xayx")
    # Labels of another type than classes_ are all unseen.
    with pytest.raises(ValueError, match=r"classes_: \[1, 2\]"):
        encode([1, 2])


class _StoresItsArguments:
    def __init__(self, first, *, second=()):
        store_init_arguments(self, locals())


def test_store_init_arguments_stores_every_argument_unchanged():
    value = []
    stored = _StoresItsArguments(value, second=None)
    assert vars(stored) == {"first": value, "second": None}
    assert stored.first is value
    assert vars(_StoresItsArguments(1)) == {"first": 1, "second": ()}
