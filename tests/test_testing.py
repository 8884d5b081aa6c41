"""The public testing tools: check_gradients and the Hypothesis strategies."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skrnn import RNNClassifier, RNNRegressor, SequenceTagger
from skrnn.testing import check_gradients
from skrnn.testing.strategies import network_params, ragged_sequences


@settings(max_examples=15, deadline=None)
@given(
    ragged_sequences(max_sequences=4, max_steps=6, n_features=st.integers(1, 3)),
    network_params(activations=("tanh", "logistic", "identity"), max_hidden=3,
                   max_layers=2),
    st.sampled_from(["regressor", "classifier", "tagger"]),
    st.integers(0, 1000),
)  # fmt: skip
def test_check_gradients_passes_for_every_estimator(X, params, kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "regressor":
        est, y = RNNRegressor(alpha=0.1), rng.normal(size=(len(X), 2))
    elif kind == "classifier":
        est, y = RNNClassifier(), rng.integers(0, 3, size=len(X))
    else:
        est = SequenceTagger()
        y = [rng.choice(["a", "b"], size=len(x)) for x in X]
    est.set_params(**params)
    sw = rng.uniform(0.5, 2, len(X))
    # The absolute floor keeps finite-difference rounding (~1e-10) in blocks
    # whose gradient vanishes (an input of zeros, a saturated output) from
    # counting as relative error; a wrong gradient is off by far more.
    result = check_gradients(est, X, y, sample_weight=sw, atol=1e-4)
    assert result.worst < 1e-5, result
    assert set(result.errors) >= {"output.weight", "weight_hh_l0"}
    assert not hasattr(est, "n_features_in_")  # the estimator is left alone


def test_check_gradients_on_a_fitted_estimator_uses_its_weights():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 2)) for n in (3, 5, 4, 6)]
    y = rng.normal(size=4)
    reg = RNNRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    reg.fit(X, y)
    before = reg.get_weights()
    result = check_gradients(reg, X, y)
    assert result.worst < 1e-6
    for name, value in reg.get_weights().items():
        np.testing.assert_array_equal(value, before[name])
    assert "worst=" in repr(result)


def test_check_gradients_takes_per_step_weights_of_a_tagger():
    # A unidirectional tagger's output at step t reads only steps <= t, so
    # zero weights on the last steps give the objective of the cut sequences.
    rng = np.random.default_rng(3)
    X = [rng.normal(size=(n, 2)) for n in (4, 5, 3)]
    y = [rng.choice(["a", "b"], size=len(x)) for x in X]
    keep = (2, 5, 1)
    step_weight = [(np.arange(len(x)) < k).astype(float) for x, k in zip(X, keep)]
    tagger = SequenceTagger(hidden_layer_sizes=(3,), bidirectional=False, alpha=0.0)
    weighted = check_gradients(tagger, X, y, sample_weight=step_weight)
    cut = check_gradients(
        tagger, [x[:k] for x, k in zip(X, keep)], [t[:k] for t, k in zip(y, keep)]
    )
    assert weighted.worst < 1e-6, weighted
    np.testing.assert_allclose(weighted.loss, cut.loss, rtol=1e-12)
    np.testing.assert_allclose(weighted.analytic, cut.analytic, atol=1e-12)


def test_truncated_gradient_differs_from_finite_differences_of_full_objective():
    rng = np.random.default_rng(1)
    X = [rng.normal(size=(8, 1)) for _ in range(3)]
    y = rng.normal(size=3)
    est = RNNRegressor(hidden_layer_sizes=(3,), cell="gru", bptt_steps=2)
    assert check_gradients(est, X, y).worst > 1e-3
    assert check_gradients(est.set_params(bptt_steps=8), X, y).worst < 1e-6


@settings(max_examples=20, deadline=None)
@given(ragged_sequences(min_sequences=2, max_sequences=6, n_features=3,
                        dtype=np.float32))  # fmt: skip
def test_ragged_sequences_strategy(X):
    assert 2 <= len(X) <= 6
    assert all(x.dtype == np.float32 and x.shape[1] == 3 for x in X)
    assert all(1 <= len(x) <= 12 for x in X)
    assert all(np.isfinite(x).all() for x in X)


@pytest.mark.subprocess
def test_strategies_need_hypothesis_only_on_import():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import skrnn.testing\n"
        "try:\n"
        "    import skrnn.testing.strategies\n"
        "except ImportError as exc:\n"
        "    assert 'pip install hypothesis' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('imported without hypothesis')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
