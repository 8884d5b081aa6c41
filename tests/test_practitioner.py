"""Practitioner options of the estimators: regression losses."""

import numpy as np
import pytest
from sklearn.base import clone

from skrnn import RNNClassifier, RNNRegressor, SequenceTagger
from skrnn.testing import check_gradients

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(8,), cell="gru", learning_rate_init=0.01)


def _sequences(n=40, T=5, F=2, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, T, F))


# ------------------------------------------------------------ regression loss
@pytest.mark.parametrize(
    "params",
    [
        dict(loss="absolute_error"),
        dict(loss="huber", huber_delta=0.3),
        dict(loss="quantile", quantile=0.8),
        dict(loss="poisson"),
    ],
    ids=lambda p: p["loss"],
)
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_regression_loss_gradients(params, cell):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(6, 4, 2))
    y = rng.normal(size=(6, 2)) * 2
    if params["loss"] == "poisson":
        y = rng.poisson(2.0, size=(6, 2)).astype(float)
    est = RNNRegressor(hidden_layer_sizes=(3,), cell=cell, alpha=0.1, **params)
    w = rng.uniform(0.5, 2, size=6)
    result = check_gradients(est, X, y, sample_weight=w)
    assert result.worst < 1e-5, result


def test_quantile_coverage_on_held_out_data():
    rng = np.random.RandomState(0)
    n = 1200
    X = rng.uniform(-1, 1, size=(n, 4, 1))
    scale = 0.2 + 0.4 * (X[:, -1, 0] > 0)  # noise depends on the input
    y = X.sum(axis=(1, 2)) + scale * rng.normal(size=n)
    train, test = slice(0, 800), slice(800, None)
    coverage = {}
    for q in (0.1, 0.9):
        reg = RNNRegressor(
            loss="quantile", quantile=q, max_iter=40, random_state=0, **FAST
        ).fit(X[train], y[train])
        coverage[q] = np.mean(y[test] <= reg.predict(X[test]))
    assert abs(coverage[0.1] - 0.1) < 0.05, coverage
    assert abs(coverage[0.9] - 0.9) < 0.05, coverage


def test_absolute_and_huber_resist_outliers():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 4, 1))
    y = X.sum(axis=(1, 2))
    y_dirty = y.copy()
    y_dirty[:30] += 40.0  # a tenth of the targets are gross outliers
    errors = {}
    for loss in ("squared_error", "absolute_error", "huber"):
        reg = RNNRegressor(loss=loss, max_iter=40, random_state=0, **FAST)
        reg.fit(X, y_dirty)
        errors[loss] = np.median(np.abs(reg.predict(X[30:]) - y[30:]))
    assert errors["absolute_error"] < errors["squared_error"] / 2, errors
    assert errors["huber"] < errors["squared_error"] / 2, errors


def test_poisson_predicts_a_positive_mean():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 3, 1))
    mean = np.exp(X.sum(axis=(1, 2)))
    y = rng.poisson(mean).astype(float)
    reg = RNNRegressor(loss="poisson", max_iter=40, random_state=0, **FAST)
    reg.fit(X, y)
    pred = reg.predict(X)
    assert reg.out_activation_ == "exponential"
    assert (pred > 0).all()
    # The mean is learned: closer to the true mean than the constant fit.
    assert np.mean((pred - mean) ** 2) < 0.5 * np.var(mean)
    # score stays R^2 of the predicted mean, as for MLPRegressor.
    from sklearn.metrics import r2_score

    assert reg.score(X, y) == pytest.approx(r2_score(y, pred))


def test_poisson_rejects_negative_targets():
    X = _sequences(10)
    y = np.arange(10.0) - 1
    reg = RNNRegressor(loss="poisson", max_iter=2, **FAST)
    with pytest.raises(ValueError, match=r"loss='poisson' needs non-negative.*-1"):
        reg.fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(loss="pinball"), "'loss' parameter of RNNRegressor must be"),
        (dict(huber_delta=0.0), "'huber_delta' parameter of RNNRegressor must be"),
        (dict(quantile=1.0), "'quantile' parameter of RNNRegressor must be"),
        (dict(quantile=0), "'quantile' parameter of RNNRegressor must be"),
    ],
)
def test_regression_loss_parameters_are_validated(params, match):
    X, y = _sequences(10), np.arange(10.0)
    with pytest.raises(ValueError, match=match):
        RNNRegressor(max_iter=2, **params).fit(X, y)


def test_squared_error_is_the_default_and_unchanged():
    X, y = _sequences(20), np.arange(20.0) / 20
    a = RNNRegressor(max_iter=3, random_state=0, **FAST).fit(X, y)
    b = clone(a).set_params(loss="squared_error", huber_delta=7.0).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.get_params()["loss"] == "squared_error"


def test_huber_with_large_delta_is_squared_error():
    X, y = _sequences(20), np.arange(20.0) / 20
    a = RNNRegressor(max_iter=3, random_state=0, **FAST).fit(X, y)
    b = clone(a).set_params(loss="huber", huber_delta=1e6).fit(X, y)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6)


# --------------------------------------------------------------- class_weight
def _imbalanced_sequences(n=300, seed=0):
    """Sequences whose rare class (about 10%) has a weak, noisy signal."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5, 1))
    score = X[:, :, 0].mean(axis=1) + 0.3 * rng.normal(size=n)
    y = np.where(score > np.quantile(score, 0.9), "rare", "common")
    return X, y


def test_classifier_class_weight_is_sample_weight():
    from sklearn.utils.class_weight import compute_sample_weight

    X, y = _imbalanced_sequences(80)
    weights = {"rare": 4.0, "common": 0.5}
    a = RNNClassifier(class_weight=weights, max_iter=3, random_state=0, **FAST)
    a.fit(X, y)
    b = RNNClassifier(max_iter=3, random_state=0, **FAST)
    b.fit(X, y, sample_weight=compute_sample_weight(weights, y))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-6)


def test_classifier_class_weight_multiplies_sample_weight():
    from sklearn.utils.class_weight import compute_sample_weight

    X, y = _imbalanced_sequences(80)
    sw = np.random.RandomState(1).uniform(0.5, 2, size=80)
    a = RNNClassifier(class_weight="balanced", max_iter=3, random_state=0, **FAST)
    a.fit(X, y, sample_weight=sw)
    b = RNNClassifier(max_iter=3, random_state=0, **FAST)
    b.fit(X, y, sample_weight=sw * compute_sample_weight("balanced", y))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("estimator", ["classifier", "tagger"])
def test_balanced_class_weight_raises_minority_recall(estimator):
    from sklearn.metrics import recall_score

    X, y = _imbalanced_sequences(400)
    train, test = slice(0, 300), slice(300, None)
    if estimator == "tagger":
        # Every step carries its sequence's class.
        y = [np.repeat(label, 5) for label in y]
        make = SequenceTagger
    else:
        make = RNNClassifier
    recall = {}
    for class_weight in (None, "balanced"):
        model = make(class_weight=class_weight, max_iter=30, random_state=0, **FAST)
        model.fit(X[train], y[train] if estimator == "classifier" else y[:300])
        pred = model.predict(X[test])
        truth = y[test] if estimator == "classifier" else y[300:]
        if estimator == "tagger":
            pred, truth = np.concatenate(pred), np.concatenate(truth)
        recall[class_weight] = recall_score(truth, pred, pos_label="rare")
    assert recall["balanced"] > recall[None] + 0.2, recall


def test_tagger_class_weight_weighs_each_step_by_its_label():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(n, 1)) for n in (3, 5, 4)]
    y = [np.where(x[:, 0] > 0, "b", "a") for x in X]
    w = {"a": 0.5, "b": 3.0}
    tagger = SequenceTagger(hidden_layer_sizes=(3,), class_weight=w, alpha=0.0)
    data = tagger._prepare(X, y, None, reset=True, incremental=False)
    from skrnn._batching import make_batch

    batch = make_batch(data.seqs.sequences, 1, np.float64)
    _, weights = tagger._batch_targets(batch, data.Y, data.sample_weight)
    expected = np.concatenate([[w[label] for label in labels] for labels in y])
    got = np.concatenate(batch.scatter_steps(weights[..., None]))[:, 0]
    np.testing.assert_allclose(got, expected)
    # Scaling every class weight by the same factor changes nothing: the
    # objective is normalised by the total weight.
    a = tagger.set_params(class_weight={"a": 2.0, "b": 2.0}, max_iter=3)
    a = clone(a).set_params(random_state=0).fit(X, y)
    b = clone(a).set_params(class_weight=None).fit(X, y)
    np.testing.assert_allclose(
        np.concatenate(a.predict_proba(X)), np.concatenate(b.predict_proba(X))
    )


@pytest.mark.parametrize("make", [RNNClassifier, SequenceTagger])
def test_class_weight_gradients(make):
    rng = np.random.RandomState(2)
    X = rng.normal(size=(6, 4, 1))
    labels = np.array(["x", "y", "z"])
    if make is RNNClassifier:
        y = labels[rng.randint(0, 3, size=6)]
    else:
        y = labels[rng.randint(0, 3, size=(6, 4))]
    est = make(hidden_layer_sizes=(3,), cell="rnn", class_weight={"x": 3.0})
    assert check_gradients(est, X, y).worst < 1e-5


def test_class_weight_errors():
    X, y = _imbalanced_sequences(40)
    clf = RNNClassifier(class_weight="balanced", max_iter=2, **FAST)
    with pytest.raises(ValueError, match="class_weight='balanced'.*partial_fit"):
        clf.partial_fit(X, y, classes=["common", "rare"])
    Y = np.stack([y == "rare", y == "common"], axis=1).astype(int)
    with pytest.raises(ValueError, match="multilabel indicator matrix"):
        RNNClassifier(class_weight={0: 2.0}, max_iter=2, **FAST).fit(X, Y)
    with pytest.raises(ValueError, match="'class_weight' parameter of"):
        RNNClassifier(class_weight="auto", max_iter=2, **FAST).fit(X, y)


# ------------------------------------------------------------ validation data
def _regression_data(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 4, 1))
    return X, X.sum(axis=(1, 2))


def test_explicit_validation_data_drives_early_stopping():
    X, y = _regression_data(60, 0)
    X_val, y_val = _regression_data(20, 1)
    reg = RNNRegressor(early_stopping=True, max_iter=8, random_state=0, **FAST)
    reg.fit(X, y, X_val=X_val, y_val=y_val)
    # Training used every sequence of X: no split was held out.
    assert reg.t_ == reg.n_iter_ * len(X)
    assert len(reg.validation_scores_) == reg.n_iter_
    # The best weights are restored: their score on X_val is the best one.
    assert reg.score(X_val, y_val) == pytest.approx(reg.best_validation_score_)
    assert reg.best_validation_score_ == pytest.approx(max(reg.validation_scores_))


def test_validation_sample_weight_is_used():
    X, y = _regression_data(40, 0)
    X_val, y_val = _regression_data(20, 1)
    w = np.r_[np.ones(10), np.zeros(10)]
    params = dict(early_stopping=True, max_iter=3, random_state=0, **FAST)
    a = RNNRegressor(**params).fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w)
    b = RNNRegressor(**params).fit(X, y, X_val=X_val[:10], y_val=y_val[:10])
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_)
    np.testing.assert_allclose(a.validation_loss_curve_, b.validation_loss_curve_)


def test_validation_data_for_classifier_and_tagger():
    X, y = _imbalanced_sequences(60)
    X_val, y_val = _imbalanced_sequences(20, seed=1)
    clf = RNNClassifier(early_stopping=True, max_iter=3, random_state=0, **FAST)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert len(clf.validation_scores_) == clf.n_iter_
    with pytest.raises(ValueError, match="classes not in"):
        clf.fit(X, y, X_val=X_val, y_val=np.repeat("other", 20))
    steps = [np.repeat(label, 5) for label in y]
    steps_val = [np.repeat(label, 5) for label in y_val]
    tagger = SequenceTagger(early_stopping=True, max_iter=3, random_state=0, **FAST)
    tagger.fit(list(X), steps, X_val=list(X_val), y_val=steps_val)
    assert len(tagger.validation_loss_curve_) == tagger.n_iter_


@pytest.mark.parametrize(
    ("params", "kwargs", "match"),
    [
        ({}, dict(X_val="X"), "X_val was passed to fit without y_val"),
        ({}, dict(y_val="y"), "y_val was passed to fit without X_val"),
        ({}, dict(sample_weight_val=np.ones(3)), "sample_weight_val was passed"),
        ({}, dict(X_val="X", y_val="y"), "while early_stopping=False"),
        (
            dict(early_stopping=True, solver="lbfgs"),
            dict(X_val="X", y_val="y"),
            "solver='lbfgs'",
        ),
    ],
)
def test_validation_data_errors(params, kwargs, match):
    X, y = _regression_data(20, 0)
    data = {"X": X[:5], "y": y[:5]}
    kwargs = {k: data.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        RNNRegressor(max_iter=2, **params, **FAST).fit(X, y, **kwargs)


# ------------------------------------------------------- forecast covariates
def _driven_series(n, seed):
    """A series driven by a known input: x[t] = 0.7 x[t - 1] + 0.3 c[t].

    The input ``c`` holds a random level, -1 or 1, for 5 to 15 steps.
    """
    rng = np.random.RandomState(seed)
    blocks = rng.randint(5, 16, size=n // 5 + 1)
    c = np.repeat(rng.choice([-1.0, 1.0], size=len(blocks)), blocks)[:n]
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.7 * x[t - 1] + 0.3 * c[t]
    return x, c


def _covariate_model():
    from skrnn.preprocessing import make_windows

    series, driver = _driven_series(1200, 0)
    X, y = make_windows(series, window=12, covariates=driver)
    assert X.shape[2] == 2
    reg = RNNRegressor(max_iter=40, random_state=0, **FAST).fit(X, y)
    return reg, series, driver


@pytest.fixture(scope="module")
def covariate_model():
    return _covariate_model()


def test_forecast_with_covariates_beats_without(covariate_model):
    reg, _, _ = covariate_model
    series, driver = _driven_series(400, 1)
    n_steps, errors = 10, {"with": [], "without": []}
    for start in range(20, 380, 7):
        seed = np.stack([series[start - 12 : start], driver[start - 12 : start]], 1)
        truth = series[start : start + n_steps]
        future = driver[start : start + n_steps, None]
        known = reg.forecast(seed[None], n_steps, covariates=future)[0]
        # Without knowing the future, the covariate stays at its last value.
        stale = np.full((n_steps, 1), seed[-1, 1])
        blind = reg.forecast(seed[None], n_steps, covariates=stale)[0]
        errors["with"].append(np.abs(known - truth).mean())
        errors["without"].append(np.abs(blind - truth).mean())
    assert np.mean(errors["with"]) < 0.6 * np.mean(errors["without"]), errors
    assert known.shape == (n_steps,)


def test_forecast_covariates_shapes_and_windows(covariate_model):
    reg, series, driver = covariate_model
    seeds = np.stack([series[:24], driver[:24]], axis=1).reshape(2, 12, 2)
    shared = np.full((5, 1), 0.2)
    a = reg.forecast(seeds, 5, covariates=shared)
    b = reg.forecast(seeds, 5, covariates=np.broadcast_to(shared, (2, 5, 1)))
    assert a.shape == (2, 5)
    np.testing.assert_array_equal(a, b)
    # Re-reading a window of 12 steps equals carrying the state for the first
    # step, where both read the same 12 steps.
    c = reg.forecast(seeds, 5, covariates=shared, window=12)
    np.testing.assert_allclose(a[:, 0], c[:, 0], rtol=1e-5)


def test_forecast_covariates_errors(covariate_model):
    reg, series, driver = covariate_model
    seed = np.stack([series[:12], driver[:12]], axis=1)[None]
    with pytest.raises(ValueError, match="pass their future values as covariates="):
        reg.forecast(seed, 3)
    with pytest.raises(ValueError, match=r"shape \(n_sequences, n_steps, C\)"):
        reg.forecast(seed, 3, covariates=np.zeros((4, 1)))
    with pytest.raises(ValueError, match="after at least one target feature"):
        reg.forecast(seed, 3, covariates=np.zeros((3, 2)))


# ------------------------------------------------- per-step sample weights
def _tagging_data(n=30, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(k, 1)) for k in rng.randint(3, 8, size=n)]
    y = [np.where(x[:, 0] > 0.5, "b", "a") for x in X]
    return X, y


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_per_step_weights_constant_per_sequence_are_sequence_weights(solver):
    X, y = _tagging_data()
    sw = np.random.RandomState(1).uniform(0.5, 2, size=len(X))
    steps = [np.full(len(x), w) for x, w in zip(X, sw)]
    params = dict(solver=solver, max_iter=3, random_state=0, **FAST)
    a = SequenceTagger(**params).fit(X, y, sample_weight=sw)
    b = SequenceTagger(**params).fit(X, y, sample_weight=steps)
    np.testing.assert_allclose(
        np.concatenate(a.predict_proba(X)), np.concatenate(b.predict_proba(X))
    )


def test_class_weight_is_per_step_sample_weight():
    X, y = _tagging_data()
    w = {"a": 0.5, "b": 3.0}
    steps = [np.array([w[label] for label in labels]) for labels in y]
    params = dict(alpha=0.0, max_iter=3, random_state=0, **FAST)
    a = SequenceTagger(class_weight=w, **params).fit(X, y)
    b = SequenceTagger(**params).fit(X, y, sample_weight=steps)
    np.testing.assert_allclose(
        np.concatenate(a.predict_proba(X)), np.concatenate(b.predict_proba(X))
    )


def test_per_step_weights_reach_the_loss():
    X, y = _tagging_data(5)
    steps = [np.arange(len(x), dtype=float) for x in X]
    tagger = SequenceTagger(hidden_layer_sizes=(3,))
    data = tagger._prepare(X, y, steps, reset=True, incremental=False)
    from skrnn._batching import make_batch

    batch = make_batch(data.seqs.sequences, 1, np.float64)
    _, weights = tagger._batch_targets(
        batch, data.Y, data.sample_weight, data.step_weight
    )
    got = np.concatenate(batch.scatter_steps(weights[..., None]))[:, 0]
    np.testing.assert_array_equal(got, np.concatenate(steps))
    np.testing.assert_allclose(data.sample_weight, [s.mean() for s in steps])
    # A zero-weight step is ignored: changing its label changes nothing.
    zero_first = [np.r_[0.0, np.ones(len(x) - 1)] for x in X]
    flipped = [np.r_[["b" if labels[0] == "a" else "a"], labels[1:]] for labels in y]
    params = dict(max_iter=2, random_state=0, **FAST)
    a = SequenceTagger(**params).fit(X, y, sample_weight=zero_first)
    b = SequenceTagger(**params).fit(X, flipped, sample_weight=zero_first)
    np.testing.assert_allclose(
        np.concatenate(a.predict_proba(X)), np.concatenate(b.predict_proba(X))
    )


def test_per_step_weight_errors():
    X, y = _tagging_data(4)
    tagger = SequenceTagger(max_iter=1, **FAST)
    with pytest.raises(ValueError, match="one 1-D array per sequence: got 3 for 4"):
        tagger.fit(X, y, sample_weight=[np.ones(len(x)) for x in X[:3]])
    bad = [np.ones(len(x)) for x in X]
    bad[2] = np.ones(len(X[2]) + 1)
    with pytest.raises(ValueError, match="Per-step sample_weight 2 has shape"):
        tagger.fit(X, y, sample_weight=bad)
    bad[2] = -np.ones(len(X[2]))
    with pytest.raises(ValueError, match="negative or non-finite"):
        tagger.fit(X, y, sample_weight=bad)


def test_forecast_covariates_with_a_horizon():
    from skrnn.preprocessing import make_windows

    x, c = _driven_series(300, 0)
    X, y = make_windows(x, window=12, horizon=3, covariates=c)
    reg = RNNRegressor(max_iter=3, random_state=0, **FAST).fit(X, y)
    seed = np.stack([x[-12:], c[-12:]], axis=1)[None]
    future = np.linspace(-1, 1, 7)[:, None]
    out = reg.forecast(seed, 7, covariates=future)
    assert out.shape == (1, 7)
    # The first round is the plain prediction of the next three values.
    np.testing.assert_allclose(out[0, :3], reg.predict(seed)[0], rtol=1e-6)
    # Later rounds read the covariates given for their steps.
    other = reg.forecast(seed, 7, covariates=future[::-1])
    np.testing.assert_allclose(other[0, :3], out[0, :3])
    assert not np.allclose(other[0, 3:], out[0, 3:])


def test_tagger_score_takes_per_step_weights():
    X, y = _tagging_data(12)
    tagger = SequenceTagger(max_iter=3, random_state=0, **FAST).fit(X, y)
    steps = [np.random.RandomState(i).uniform(0, 2, len(x)) for i, x in enumerate(X)]
    pred = np.concatenate(tagger.predict(X))
    expected = np.average(pred == np.concatenate(y), weights=np.concatenate(steps))
    assert tagger.score(X, y, sample_weight=steps) == pytest.approx(expected)
    per_sequence = np.arange(1.0, len(X) + 1)
    constant = [np.full(len(x), w) for x, w in zip(X, per_sequence)]
    assert tagger.score(X, y, sample_weight=constant) == pytest.approx(
        tagger.score(X, y, sample_weight=per_sequence)
    )
    with pytest.raises(ValueError, match="Per-step sample_weight 1 has shape"):
        tagger.score(X, y, sample_weight=[steps[0], steps[1][:-1], *steps[2:]])


def test_per_step_validation_weights_weigh_the_validation_steps():
    X, y = _tagging_data(40)
    X_val, y_val = _tagging_data(10, seed=1)
    steps_val = [
        np.random.RandomState(i).uniform(0, 2, len(x)) for i, x in enumerate(X_val)
    ]
    params = dict(early_stopping=True, max_iter=3, random_state=0, **FAST)
    tagger = SequenceTagger(**params).fit(
        X, y, X_val=X_val, y_val=y_val, sample_weight_val=steps_val
    )
    # The best score is the weighted accuracy of the kept weights.
    assert tagger.best_validation_score_ == pytest.approx(
        tagger.score(X_val, y_val, sample_weight=steps_val)
    )
    # The validation loss weighs each step's log-loss by its weight.
    seqs, Y, _, weights = tagger._prepare_validation(
        (X_val, y_val, steps_val), np.float64
    )
    proba = tagger.predict_proba(X_val)
    column = {label: k for k, label in enumerate(tagger.classes_)}
    step_loss = np.concatenate(
        [
            -np.log(p[np.arange(len(t)), [column[v] for v in t]])
            for p, t in zip(proba, y_val)
        ]
    )
    w = np.concatenate(steps_val)
    assert tagger._data_loss(seqs, Y, weights) == pytest.approx(
        np.dot(w, step_loss) / w.sum(), rel=1e-6
    )


def test_per_step_training_weights_reach_the_validation_split():
    X, y = _tagging_data(40)
    steps = [np.random.RandomState(i).uniform(0, 2, len(x)) for i, x in enumerate(X)]
    tagger = SequenceTagger(early_stopping=True, max_iter=2, random_state=0, **FAST)
    seen = []
    original = tagger._score_sequences

    def spy(seqs, y_raw, sample_weight):
        seen.append(sample_weight)
        return original(seqs, y_raw, sample_weight)

    tagger._score_sequences = spy
    tagger.fit(X, y, sample_weight=steps)
    assert len(seen) == tagger.n_iter_
    assert all(isinstance(w, list) for w in seen)
    # The validation split's own per-step weights (4 of the 40 sequences).
    originals = {tuple(s) for s in steps}
    assert len(seen[0]) == 4
    assert all(tuple(w) in originals for w in seen[0])
