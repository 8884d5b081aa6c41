"""Models of token ids compute in float32 unless the ids come as float64."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier, SequenceTagger, SequenceTranslator
from skrnn._validation import token_dtype
from skrnn.preprocessing import TextTokenizer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

QUICK = {
    "hidden_layer_sizes": (4,),
    "embedding_dim": 3,
    "max_iter": 2,
    "random_state": 0,
}


def _ids(dtype=np.int64, n=12, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 6, size=k).astype(dtype) for k in rng.randint(2, 6, size=n)]


def _fit(name, X):
    n = len(X)
    if name == "classifier":
        return RNNClassifier(**QUICK).fit(X, np.arange(n) % 2)
    if name == "tagger":
        return SequenceTagger(**QUICK).fit(X, [np.asarray(x) % 2 for x in X])
    return SequenceTranslator(**QUICK).fit(X, ["ab", "b", "a"] * (n // 3))


@pytest.mark.parametrize("name", ["classifier", "tagger", "translator"])
def test_integer_ids_train_in_float32(name):
    model = _fit(name, _ids(np.int64))
    weights = model.get_weights()
    assert {w.dtype for w in weights.values()} == {np.dtype(np.float32)}
    if name == "classifier":
        assert model.predict_proba(_ids()).dtype == np.float32


@pytest.mark.parametrize(
    ("X", "expected"),
    [
        (_ids(np.int64), np.float32),  # TextTokenizer's output
        (_ids(np.int32), np.float32),
        (_ids(np.uint8), np.float32),
        ([x.tolist() for x in _ids()], np.float32),  # lists of Python ints
        (_ids(np.float32), np.float32),
        (_ids(np.float64), np.float64),  # asking for float64
        ([x.astype(float).tolist() for x in _ids()], np.float64),  # Python floats
        (np.array([[1, 2, 3], [3, 2, 1]]), np.float32),  # a 2-D table of ids
        (np.array([[1.0, 2.0], [3.0, 2.0]]), np.float64),
        ([np.array([1, 2]), np.array([1.0, 2.0, 3.0])], np.float64),  # one float64
    ],
)
def test_token_dtype_rule(X, expected):
    assert token_dtype(X, 10) == expected


def test_token_dtype_dataframe():
    pd = pytest.importorskip("pandas")
    assert token_dtype(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), 5) == np.float32
    assert token_dtype(pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}), 5) == np.float64


def test_vocabulary_beyond_float32_precision_stays_float64():
    # 2 ** 24 + 1 is the first integer float32 cannot hold.
    assert token_dtype(_ids(), 2**24) == np.float32
    assert token_dtype(_ids(), 2**24 + 1) == np.float64


def test_float64_ids_train_in_float64_and_match_integer_ids_closely():
    X64 = _ids(np.float64)
    wide = _fit("classifier", X64)
    narrow = _fit("classifier", _ids(np.int64))
    assert wide.get_weights()["output.weight"].dtype == np.float64
    assert wide.predict_proba(X64).dtype == np.float64
    np.testing.assert_allclose(
        narrow.predict_proba(X64), wide.predict_proba(X64), rtol=1e-4, atol=1e-5
    )


def test_partial_fit_and_pipeline_stay_float32():
    X = _ids()
    y = np.arange(len(X)) % 2
    model = RNNClassifier(**QUICK)
    model.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert model.get_weights()["output.weight"].dtype == np.float32
    texts = ["ab", "ba", "abc", "c"] * 3
    pipe = make_pipeline(TextTokenizer(), RNNClassifier(**QUICK)).fit(texts, y)
    assert pipe[-1].get_weights()["output.weight"].dtype == np.float32
