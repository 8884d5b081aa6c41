"""Grid searches over skrnn estimators on joblib's threading and Dask backends.

Each search must give exactly the results of the same search run locally,
one fit after another: the fits are deterministic given ``random_state``,
wherever and in whatever order they run. Batches are kept below the size at
which a fit splits its work across threads, so that no result depends on how
many threads a worker has (loky and Dask workers are given one).
"""

import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold

from skrnn import RNNClassifier, RNNRegressor

GRID = {"cell": ["rnn", "gru"], "hidden_layer_sizes": [(4,), (8,)]}


def _ragged_classification():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(n, 2)).cumsum(axis=0) for n in rng.randint(3, 10, 45)]
    y = np.array([int(x[-1, 0] > x[0, 0]) for x in X])
    model = RNNClassifier(
        batch_size=15, learning_rate_init=0.02, max_iter=5, random_state=0
    )
    return model, X, y


def _array_regression():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(45, 6, 2))
    y = X[:, -2:, 0].sum(axis=1)
    model = RNNRegressor(
        batch_size=15, learning_rate_init=0.02, max_iter=5, random_state=0
    )
    return model, X, y


PROBLEMS = {
    "ragged classifier": _ragged_classification,
    "3-D regressor": _array_regression,
}


def _search(problem, n_jobs):
    model, X, y = PROBLEMS[problem]()
    search = GridSearchCV(clone(model), GRID, cv=KFold(3), n_jobs=n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


def _assert_same_search(problem, search, reference):
    assert search.best_params_ == reference.best_params_
    assert search.cv_results_["params"] == reference.cv_results_["params"]
    for key in ("mean_test_score", "std_test_score") + tuple(
        f"split{i}_test_score" for i in range(3)
    ):
        assert_array_equal(search.cv_results_[key], reference.cv_results_[key])
    _, X, _ = PROBLEMS[problem]()
    assert_array_equal(
        search.best_estimator_.predict(X), reference.best_estimator_.predict(X)
    )


@pytest.fixture(scope="module")
def local_results():
    return {problem: _search(problem, n_jobs=1) for problem in PROBLEMS}


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    # Worker processes exercise what a real cluster does: estimators, data
    # and fitted models pickled to other interpreters and back.
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        yield client


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_threading_backend_matches_local(problem, local_results):
    with joblib.parallel_backend("threading", n_jobs=2):
        search = _search(problem, n_jobs=2)
    _assert_same_search(problem, search, local_results[problem])


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_dask_backend_matches_local(problem, local_results, dask_client):
    with joblib.parallel_backend("dask"):
        search = _search(problem, n_jobs=-1)
    _assert_same_search(problem, search, local_results[problem])
    # The fits really ran on the cluster's workers.
    imported = dask_client.run(lambda: "skrnn" in __import__("sys").modules)
    assert imported
    assert all(imported.values())
