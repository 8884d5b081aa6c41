"""scikit-learn's common estimator checks, for every estimator and cell."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skrnn import RNNClassifier, RNNRegressor


def _instances():
    for cell in ("rnn", "lstm", "gru"):
        # Small networks and full-batch L-BFGS: fast, deterministic, and
        # sample weights equal repetitions exactly.
        common = dict(
            hidden_layer_sizes=(8,), cell=cell, solver="lbfgs", max_iter=100,
            random_state=0,
        )  # fmt: skip
        yield RNNRegressor(**common)
        yield RNNClassifier(**common)
    # The stochastic path (mini-batches, Adam, shuffling) on one cell.
    yield RNNRegressor(hidden_layer_sizes=(8,), max_iter=60, random_state=0)
    yield RNNClassifier(hidden_layer_sizes=(8,), max_iter=60, random_state=0)


@parametrize_with_checks(list(_instances()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
