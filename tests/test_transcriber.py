"""Behaviour of SequenceTranscriber: CTC training, decoding, alignment, bad
input, training options, persistence and streaming."""

import pickle
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skrnn import SequenceTranscriber, TranscriptionStream
from skrnn._batching import make_batch
from skrnn._ctc import ctc_loss, required_steps
from skrnn.metrics import error_rate
from skrnn.testing import check_gradients
from tests._helpers import torch_module
from tests.conftest import CELLS

from .naive_ctc import collapse

pytestmark = pytest.mark.usefixtures("quiet_convergence")

FAST = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0}

ALPHABET = "abcd"


def _spoken(words, seed=0, frames=(2, 4), noise=0.3, n_features=6):
    """Synthetic utterances: each letter sounds for a few noisy frames of its
    own feature pattern; silence (zeros) may sit between letters, and always
    sits between a letter and its repeat."""
    rng = np.random.default_rng(seed)
    patterns = 2 * np.eye(n_features)[: len(ALPHABET)]
    X = []
    for word in words:
        steps = []
        for i, letter in enumerate(word):
            repeat = i > 0 and word[i - 1] == letter
            if repeat or rng.random() < 0.3:
                steps += [np.zeros(n_features)] * int(rng.integers(1, 3))
            steps += [patterns[ALPHABET.index(letter)]] * int(rng.integers(*frames))
        if not steps:
            steps = [np.zeros(n_features)] * int(rng.integers(1, 4))
        X.append(np.array(steps) + noise * rng.normal(size=(len(steps), n_features)))
    return X


def _words(n, seed=0, max_len=5, min_len=0):
    rng = np.random.default_rng(seed)
    return [
        "".join(rng.choice(list(ALPHABET), size=int(rng.integers(min_len, max_len))))
        for _ in range(n)
    ]


def _task(n=30, seed=0, **kwargs):
    words = _words(n, seed)
    return _spoken(words, seed, **kwargs), words


@pytest.fixture(scope="module")
def fitted():
    X, y = _task(40)
    model = SequenceTranscriber(
        hidden_layer_sizes=(8,), learning_rate_init=0.02, max_iter=15, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y), X, y


# ------------------------------------------------------------------ learning
def test_learns_a_synthetic_spoken_letters_task():
    X, y = _task(160, seed=1)
    X_test, y_test = _task(60, seed=2)
    model = SequenceTranscriber(
        hidden_layer_sizes=(16,), learning_rate_init=0.02, max_iter=30, random_state=0
    )
    start = time.perf_counter()
    model.fit(X, y)
    elapsed = time.perf_counter() - start
    assert model.score(X_test, y_test) > 0.95
    predicted = model.predict(X_test)
    assert error_rate(y_test, predicted) == pytest.approx(
        1 - model.score(X_test, y_test)
    )
    assert elapsed < 30  # a few seconds on an idle machine


# ------------------------------------------------------------------ gradients
@st.composite
def problems(draw):
    """A small transcription problem, every pair feasible."""
    n_classes = draw(st.integers(1, 3))
    n = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X, Y = [], []
    for _ in range(n):
        T = draw(st.integers(1, 5))
        target = list(rng.integers(0, n_classes, size=int(rng.integers(0, T + 1))))
        while required_steps([np.array(target, np.int64)])[0] > T:
            target.pop()
        X.append(rng.normal(size=(T, 2)))
        Y.append(np.array(target, np.int64))
    # Every class appears, so classes_ (and the output layer) has n_classes.
    X.append(rng.normal(size=(2 * n_classes, 2)))
    Y.append(np.arange(n_classes))
    weights = rng.uniform(0.2, 2.0, size=len(X))
    return X, Y, weights


@settings(max_examples=8, deadline=None)
@given(
    problem=problems(),
    cell=st.sampled_from(CELLS),
    bidirectional=st.booleans(),
    layers=st.sampled_from([(3,), (2, 2)]),
)
def test_gradient_matches_finite_differences(problem, cell, bidirectional, layers):
    X, Y, weights = problem
    model = SequenceTranscriber(
        hidden_layer_sizes=layers, cell=cell, bidirectional=bidirectional, alpha=0.1
    )
    result = check_gradients(model, X, Y, sample_weight=weights)
    assert result.worst < 1e-5, result.errors


def test_gradient_with_token_ids_and_truncation():
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 5, size=n) for n in (4, 6, 3)]
    Y = [[0, 1], [1, 1, 0], []]
    model = SequenceTranscriber(hidden_layer_sizes=(3,), embedding_dim=2)
    assert check_gradients(model, X, Y).worst < 1e-5
    # Truncation beyond the longest sequence is full backpropagation; below,
    # the analytic gradient is the truncated one.
    whole = check_gradients(model.set_params(bptt_steps=6), X, Y)
    assert whole.worst < 1e-5
    chunked = check_gradients(clone(model).set_params(bptt_steps=2), X, Y)
    assert chunked.worst > 1e-3
    assert chunked.loss == pytest.approx(whole.loss, rel=1e-12)


def _network_objective(model, X, Y, weights=None):
    """The network's data term on one batch and its gradient, in float64."""
    data = model._prepare(X, Y, weights, reset=False, incremental=True)
    batch = make_batch(data.seqs.sequences, 2, np.float64)
    Yb, wb = model._batch_targets(batch, data.Y, data.sample_weight)
    return model._network.loss_and_grad(
        model._theta.astype(np.float64), batch, Yb, wb / wb.sum()
    )


def test_network_ctc_term_equals_ctc_loss_on_the_same_logits(fitted):
    model, X, y = fitted
    weights = np.linspace(0.5, 2.0, len(X))
    loss, _ = _network_objective(model, X, y, weights)
    logits = [z.astype(np.float64) for z in model.predict_log_proba(X)]
    padded = np.zeros((max(map(len, logits)), len(X), logits[0].shape[1]))
    for b, z in enumerate(logits):
        padded[: len(z), b] = z
    targets = model._encode_labels(
        [np.array(list(w), dtype=object) for w in y], purpose="test"
    )
    losses, _ = ctc_loss(padded, targets, [len(z) for z in logits])
    assert loss == pytest.approx(np.dot(weights, losses) / weights.sum(), rel=1e-5)
    np.testing.assert_allclose(
        -model.log_likelihood(X, y), losses, rtol=1e-5, atol=1e-6
    )


def test_integer_weights_equal_repetition_in_the_objective(fitted):
    model, X, y = fitted
    weights = np.array([1, 3, 0, 2] * 10)
    repeated_X = [x for x, w in zip(X, weights) for _ in range(w)]
    repeated_y = [t for t, w in zip(y, weights) for _ in range(w)]
    loss, grad = _network_objective(model, X, y, weights.astype(float))
    loss_r, grad_r = _network_objective(model, repeated_X, repeated_y)
    assert loss == pytest.approx(loss_r, rel=1e-12)
    np.testing.assert_allclose(grad, grad_r, rtol=1e-9, atol=1e-12)


def test_lbfgs_sample_weight_equals_repetition():
    X, y = _task(12)
    weights = np.array([2, 1, 0, 1] * 3)
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=15, alpha=0.0)
    weighted = SequenceTranscriber(random_state=0, **params).fit(X, y, weights)
    repeated = SequenceTranscriber(random_state=0, **params).fit(
        [x for x, w in zip(X, weights) for _ in range(w)],
        [t for t, w in zip(y, weights) for _ in range(w)],
    )
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("cell", CELLS)
def test_pytorch_ctc_model_loads_with_set_weights(cell):
    torch = pytest.importorskip("torch")
    X, y = _task(8)
    model = SequenceTranscriber(cell=cell, hidden_layer_sizes=(5,), **{
        k: v for k, v in FAST.items() if k != "hidden_layer_sizes"
    })  # fmt: skip
    model.fit(X, y)
    n_classes = len(model.classes_)
    rnn = torch_module(torch, cell)(6, 5, bidirectional=True).double()
    head = torch.nn.Linear(10, n_classes + 1).double()
    torch.manual_seed(0)
    # Weights from PyTorch, loaded into the transcriber.
    weights = {name: p.detach().numpy().copy() for name, p in rnn.named_parameters()}
    weights["output.weight"] = head.weight.detach().numpy().copy()
    weights["output.bias"] = head.bias.detach().numpy().copy()
    model.set_weights(weights)
    lengths = [len(x) for x in X]
    padded = np.zeros((max(lengths), len(X), 6))
    for b, x in enumerate(X):
        padded[: len(x), b] = x
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.from_numpy(padded), lengths, enforce_sorted=False
    )
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(rnn(packed)[0])
    log_probs = head(out).log_softmax(2)
    targets = model._encode_labels(
        [np.array(list(w), dtype=object) for w in y], purpose="test"
    )
    flat = torch.from_numpy(np.concatenate(targets)) if any(map(len, targets)) else (
        torch.zeros(0, dtype=torch.long)
    )  # fmt: skip
    losses = torch.nn.CTCLoss(blank=n_classes, reduction="none")(
        log_probs, flat, torch.tensor(lengths), torch.tensor([len(t) for t in targets])
    )
    np.testing.assert_allclose(
        model.log_likelihood(X, y), -losses.detach().numpy(), rtol=1e-9
    )
    # The gradient of the mean loss equals the network's, name by name.
    losses.mean().backward()
    network = model._network
    _, grad = _network_objective(model, X, y)
    ours = network.views(grad)
    params = dict(rnn.named_parameters())
    params.update({"output.weight": head.weight, "output.bias": head.bias})
    for name, parameter in params.items():
        np.testing.assert_allclose(
            ours[name], parameter.grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=name
        )


# ------------------------------------------------------- decoding and alignment
def test_outputs_have_their_documented_forms(fitted):
    model, X, y = fitted
    assert model.classes_.tolist() == sorted(set("".join(y)))
    weights = model.get_weights()
    assert weights["output.weight"].shape[0] == len(model.classes_) + 1
    assert model.n_outputs_ == len(model.classes_) + 1
    predicted = model.predict(X)
    assert all(isinstance(p, str) for p in predicted)
    proba = model.predict_proba(X)
    assert [p.shape for p in proba] == [(len(x), len(model.classes_) + 1) for x in X]
    np.testing.assert_allclose(np.concatenate(proba).sum(axis=1), 1.0)
    log_proba = model.predict_log_proba(X)
    np.testing.assert_allclose(np.exp(np.concatenate(log_proba)), np.concatenate(proba))
    # Best path: the collapsed argmax of the frame posteriors.
    blank = len(model.classes_)
    for p, text in zip(proba, predicted):
        ids = list(collapse(np.argmax(p, axis=1), blank))
        assert "".join(model.classes_[ids]) == text


def test_label_targets_give_label_arrays():
    X, words = _task(30)
    y = [np.array([10 * (ALPHABET.index(c) + 1) for c in w], dtype=int) for w in words]
    model = SequenceTranscriber(
        hidden_layer_sizes=(8,), learning_rate_init=0.02, max_iter=10, random_state=0
    ).fit(X, y)
    assert model.classes_.tolist() == sorted({int(v) for t in y for v in t})
    predicted = model.predict(X)
    assert all(isinstance(p, np.ndarray) and p.ndim == 1 for p in predicted)
    assert all(set(p.tolist()) <= set(model.classes_.tolist()) for p in predicted)
    aligned = model.align(X, y)
    for a, t in zip(aligned, y):
        assert model.classes_[list(collapse(a, -1))].tolist() == t.tolist()


def test_align_collapses_to_the_target(fitted):
    model, X, y = fitted
    aligned = model.align(X, y)
    for a, x, word in zip(aligned, X, y):
        assert a.shape == (len(x),)
        assert a.dtype.kind == "i"
        assert a.min(initial=-1) >= -1
        assert a.max(initial=-1) < len(model.classes_)
        # -1 is blank; merging repeats then dropping blanks gives the target.
        merged = [v for i, v in enumerate(a) if i == 0 or v != a[i - 1]]
        assert "".join(model.classes_[[v for v in merged if v >= 0]]) == word


def test_wider_beams_never_find_a_less_likely_labelling(fitted):
    model, X, _ = fitted
    greedy = model.predict(X)
    beamed = clone(model).set_params(beam_width=8)
    beamed.__dict__.update(
        {k: v for k, v in vars(model).items() if k not in model.get_params()}
    )
    wide = beamed.predict(X)
    assert np.all(
        model.log_likelihood(X, wide) >= model.log_likelihood(X, greedy) - 1e-9
    )


def test_lbfgs_loss_is_the_mean_negative_log_likelihood():
    X, y = _task(10)
    model = SequenceTranscriber(
        hidden_layer_sizes=(4,), solver="lbfgs", alpha=0.0, max_iter=5, random_state=0
    ).fit(X, y)
    assert model.loss_ == pytest.approx(-model.log_likelihood(X, y).mean(), rel=1e-9)


def test_empty_targets_cost_the_blanks():
    X, y = _task(20)
    y[0], y[1] = "", ""
    model = SequenceTranscriber(**FAST).fit(X, y)
    log_proba = model.predict_log_proba(X[:2])
    np.testing.assert_allclose(
        model.log_likelihood(X[:2], ["", ""]),
        [lp[:, -1].sum() for lp in log_proba],
        rtol=1e-5,
    )
    assert [a.tolist() for a in model.align(X[:2], ["", ""])] == [
        [-1] * len(X[0]),
        [-1] * len(X[1]),
    ]


def test_all_targets_empty_learns_blanks():
    X, _ = _task(10)
    model = SequenceTranscriber(**FAST).fit(X, [""] * 10)
    assert model.classes_.size == 0
    assert model.predict(X[:2]) == ["", ""]
    assert model.score(X, [""] * 10) == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_float64(dtype, fitted):
    _, X, y = fitted
    X = [x.astype(dtype) for x in X]
    model = SequenceTranscriber(**FAST).fit(X, y)
    assert model._theta.dtype == dtype
    assert all(p.dtype == dtype for p in model.predict_proba(X))
    assert model.log_likelihood(X, y).dtype == np.float64
    reference = SequenceTranscriber(**FAST).fit([x.astype(np.float64) for x in X], y)
    np.testing.assert_allclose(
        model.log_likelihood(X, y),
        reference.log_likelihood(X, y),
        rtol=1e-3 if dtype == np.float32 else 1e-12,
    )


def test_a_sequence_alone_equals_its_row_in_a_ragged_batch(fitted):
    model, X, y = fitted
    together = model.predict_proba(X)
    for i in (0, 7, 19):
        np.testing.assert_allclose(
            model.predict_proba([X[i]])[0], together[i], rtol=1e-10, atol=1e-12
        )
        assert model.log_likelihood([X[i]], [y[i]])[0] == pytest.approx(
            model.log_likelihood(X, y)[i], rel=1e-10
        )


def test_input_forms_agree():
    rng = np.random.default_rng(0)
    X3 = rng.normal(size=(12, 6, 2))
    y = ["ab", "b", "", "ba"] * 3
    model = SequenceTranscriber(**FAST).fit(X3, y)
    np.testing.assert_allclose(
        model.log_likelihood(X3, y), model.log_likelihood(list(X3), y)
    )
    table = SequenceTranscriber(**FAST).fit(X3[:, :, 0], y)
    assert table.n_features_in_ == 6
    assert len(table.predict(X3[:, :, 0])) == 12


# ---------------------------------------------------------- infeasible pairs
def test_infeasible_pair_names_sequence_steps_and_needs():
    X, y = _task(6)
    X[3] = np.ones((2, 6))
    y[3] = "aab"  # needs 4 steps: 3 labels and a blank between the a's
    with pytest.raises(
        ValueError,
        match=r"sequence 3 has 2 steps and needs 4.*set zero_infinity=True",
    ):
        SequenceTranscriber(**FAST).fit(X, y)


def test_zero_infinity_leaves_infeasible_pairs_out():
    X, y = _task(12)
    X[3], y[3] = np.ones((1, 6)), "abc"
    X[5], y[5] = np.ones((2, 6)), "aa"
    params = dict(FAST, solver="lbfgs", zero_infinity=True)
    with pytest.warns(UserWarning, match=r"2 of 12 training pairs.*sequence 3"):
        model = SequenceTranscriber(**params).fit(X, y)
    assert model.n_infeasible_ == 2
    kept = [i for i in range(12) if i not in (3, 5)]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*training pairs")
        alone = SequenceTranscriber(**params).fit(
            [X[i] for i in kept], [y[i] for i in kept]
        )
    assert alone.n_infeasible_ == 0
    # The same objective: the infeasible pairs weigh nothing.
    np.testing.assert_allclose(model.loss_curve_, alone.loss_curve_, rtol=1e-8)
    assert model.log_likelihood([X[3]], [y[3]])[0] == -np.inf
    with pytest.raises(ValueError, match="sequence 0 has 1 steps and needs 3"):
        model.align([X[3]], [y[3]])


def test_zero_infinity_refuses_when_nothing_is_feasible():
    X = [np.ones((1, 2)), np.ones((2, 2))]
    with pytest.raises(ValueError, match="All 2 input sequences are too short"):
        SequenceTranscriber(zero_infinity=True, **FAST).fit(X, ["ab", "aa"])


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("y", "error", "match"),
    [
        ({"a": 1}, TypeError, "list of target sequences.*dict"),
        ("abc", TypeError, "list of target sequences.*got str"),
        (5, TypeError, "list of target sequences.*got int"),
        (["ab", "b"], ValueError, "y has 2 target sequences but X has 3"),
        ([[["a"]], "b", "c"], ValueError, r"Target sequence 0 has shape \(1, 1\)"),
        (["a", [1, 2], "b"], TypeError, "mix strings and numbers"),
        ([[0.5], [1.0], [2.0]], ValueError, "continuous values"),
        ([["a", None], "b", "c"], ValueError, "sequence 0"),
    ],
)
def test_bad_targets_are_rejected_clearly(y, error, match):
    X = [np.ones((4, 2))] * 3
    with pytest.raises(error, match=match):
        SequenceTranscriber(**FAST).fit(X, y)


def test_unseen_labels_at_score_log_likelihood_and_align(fitted):
    model, X, _ = fitted
    for method in ("score", "log_likelihood", "align"):
        with pytest.raises(
            ValueError, match=r"Target sequence 1 has labels not in classes_: \['z'\]"
        ):
            getattr(model, method)(X[:2], ["a", "az"])


def test_predict_before_fit_and_wrong_features(fitted):
    with pytest.raises(NotFittedError):
        SequenceTranscriber().predict([np.ones((3, 2))])
    model, _, _ = fitted
    with pytest.raises(ValueError, match="features"):
        model.predict([np.ones((3, 2))])


def test_failed_fit_leaves_the_model_as_it_was(fitted):
    model, X, y = fitted
    model = pickle.loads(pickle.dumps(model))
    before = model.get_weights(), model.classes_.copy(), len(model.loss_curve_)
    model.set_params(warm_start=True)
    with pytest.raises(ValueError, match="needs"):
        model.fit([X[0][:1]], ["abc"])
    with pytest.raises(ValueError, match=r"not in classes_: \['z'\]"):
        model.fit(X[:2], ["a", "z"])
    after = model.get_weights()
    assert all(np.array_equal(after[k], v) for k, v in before[0].items())
    assert model.classes_.tolist() == before[1].tolist()
    assert len(model.loss_curve_) == before[2]


# ----------------------------------------------------------- training options
def test_partial_fit_infers_or_takes_classes():
    X, y = _task(20, frames=(3, 5))
    model = SequenceTranscriber(**FAST)
    model.partial_fit(X[:10], ["ab"] * 10)
    assert model.classes_.tolist() == ["a", "b"]
    with pytest.raises(ValueError, match=r"not in classes_: \['c'\].*classes="):
        model.partial_fit(X[:1], ["c"])
    model = SequenceTranscriber(**FAST).partial_fit(X[:10], y[:10], classes="dcba")
    assert model.classes_.tolist() == list(ALPHABET)
    assert model.n_iter_ == 1
    model.partial_fit(X[10:], y[10:])
    assert model.n_iter_ == 2
    with pytest.raises(ValueError, match="differs from the classes of the first"):
        model.partial_fit(X[10:], y[10:], classes=["a", "b"])
    assert not hasattr(SequenceTranscriber(solver="lbfgs"), "partial_fit")


def test_warm_start_continues_training():
    X, y = _task(20)
    model = SequenceTranscriber(warm_start=True, **FAST).fit(X, y)
    first = model.loss_curve_[-1]
    model.fit(X, y)
    assert len(model.loss_curve_) == 10
    assert model.loss_curve_[-1] < first


def test_early_stopping_on_validation_data():
    X, y = _task(40, seed=3)
    X_val, y_val = _task(12, seed=4)
    model = SequenceTranscriber(
        hidden_layer_sizes=(8,), early_stopping=True, learning_rate_init=0.02,
        max_iter=8, n_iter_no_change=20, random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)  # fmt: skip
    assert len(model.validation_scores_) == 8
    assert model.best_validation_score_ == max(model.validation_scores_)
    # The best weights are restored: their score is the best one.
    assert model.score(X_val, y_val) == pytest.approx(model.best_validation_score_)
    best = int(np.argmax(model.validation_scores_))
    assert model.validation_loss_curve_[best] == pytest.approx(
        -model.log_likelihood(X_val, y_val).mean(), rel=1e-9
    )
    split = SequenceTranscriber(early_stopping=True, **FAST).fit(X, y)
    assert len(split.validation_scores_) == split.n_iter_


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd", "learning_rate_init": 0.05},
        {"solver": "lbfgs"},
        {"clip_norm": 0.01},
        {"clip_norm": None},
        {"dropout": 0.3, "hidden_layer_sizes": (6, 6)},
        {"bptt_steps": 3},
        {"cell": "gru", "bidirectional": False},
        {"cell": "rnn", "activation": "relu"},
    ],
)
def test_training_options_fit_and_lower_the_loss(params):
    X, y = _task(20)
    model = SequenceTranscriber(**{**FAST, "max_iter": 8, **params}).fit(X, y)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert len(model.predict(X)) == 20


def test_token_input_with_an_embedding():
    rng = np.random.default_rng(0)
    # Token 2k + 1 says label k; token 0 is silence.
    y = [list(rng.integers(0, 3, size=int(rng.integers(1, 4)))) for _ in range(40)]
    X = [np.array([v for k in t for v in (0, 2 * k + 1, 2 * k + 1)]) for t in y]
    model = SequenceTranscriber(
        hidden_layer_sizes=(12,), embedding_dim=4, learning_rate_init=0.03,
        max_iter=25, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert model.n_tokens_ == 6
    assert model.score(X, y) > 0.9


def test_random_state_makes_fits_repeat_exactly():
    X, y = _task(12)
    a = SequenceTranscriber(**FAST).fit(X, y).predict_proba(X)
    b = SequenceTranscriber(**FAST).fit(X, y).predict_proba(X)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)


# ------------------------------------------------------------------- scoring
def test_score_is_one_minus_the_label_error_rate(fitted):
    model, X, y = fitted
    predicted = model.predict(X)
    weights = np.arange(1, len(X) + 1, dtype=float)
    assert model.score(X, y) == pytest.approx(1 - error_rate(y, predicted))
    assert model.score(X, y, sample_weight=weights) == pytest.approx(
        1 - error_rate(y, predicted, sample_weight=weights)
    )


def test_grid_search_and_cross_validation_over_ragged_lists():
    # Every training fold sees every label (score refuses unseen ones).
    y = [w if i % 3 else "abcd" for i, w in enumerate(_words(24))]
    X = _spoken(y)
    scores = cross_val_score(SequenceTranscriber(**FAST), X, y, cv=KFold(3))
    assert scores.shape == (3,)
    search = GridSearchCV(
        SequenceTranscriber(**FAST), {"beam_width": [1, 4]}, cv=KFold(2)
    ).fit(X, y)
    assert search.best_params_["beam_width"] in (1, 4)
    assert len(search.predict(X[:3])) == 3


def test_clone_and_pickle_round_trip(fitted):
    model, X, y = fitted
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "classes_")
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.predict(X) == model.predict(X)
    np.testing.assert_array_equal(
        loaded.log_likelihood(X, y), model.log_likelihood(X, y)
    )


@pytest.mark.subprocess
def test_pickle_loads_in_a_fresh_process(fitted, tmp_path):
    model, X, y = fitted
    (tmp_path / "model.pkl").write_bytes(pickle.dumps((model, X, y)))
    code = f"""
import pickle
with open({str(tmp_path / "model.pkl")!r}, "rb") as f:
    model, X, y = pickle.load(f)
print(repr(model.predict(X)))
print(repr(model.log_likelihood(X, y).tolist()))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    predicted, log_likelihood = out.stdout.strip().splitlines()
    assert predicted == repr(model.predict(X))
    assert log_likelihood == repr(model.log_likelihood(X, y).tolist())


def test_saved_state_is_checked_on_loading(fitted):
    model, _, _ = fitted
    state = model.__getstate__()
    state["classes_"] = np.array(["a", "b"])
    with pytest.raises(ValueError, match="classes_ has 2 classes, which need 3"):
        SequenceTranscriber().__setstate__(state)


# ----------------------------------------------------------------- streaming
def test_stream_gives_posteriors_and_labels_as_frames_arrive():
    X, y = _task(30)
    model = SequenceTranscriber(
        hidden_layer_sizes=(8,), bidirectional=False, learning_rate_init=0.02,
        max_iter=10, random_state=0,
    ).fit(X, y)  # fmt: skip
    live = model.stream()
    assert isinstance(live, TranscriptionStream)
    x = X[4]
    pieces = [live.push_labels(x[t : t + 2]) for t in range(0, len(x), 2)]
    assert "".join(pieces) == live.transcript == model.predict([x])[0]
    live.reset()
    np.testing.assert_allclose(
        live.push(x), model.predict_proba([x])[0], rtol=1e-6, atol=1e-9
    )
    for t in range(1, len(x) + 1):
        live.reset()
        live.push(x[:t])
        assert live.transcript == model.predict([x[:t]])[0]
    # Several streams at once.
    many = model.stream(n_streams=2)
    n = min(len(X[0]), len(X[1]))
    many.push(np.stack([X[0][:n], X[1][:n]]))
    assert many.transcript == model.predict([X[0][:n], X[1][:n]])
    many.reset(1)
    assert many.transcript[1] == ""


def test_stream_of_a_bidirectional_transcriber_is_refused(fitted):
    model, _, _ = fitted
    with pytest.raises(ValueError, match="bidirectional=True"):
        model.stream()


def test_divergence_is_reported_as_for_the_other_estimators():
    rng = np.random.default_rng(0)
    X = [1e300 * rng.normal(size=(6, 2)) for _ in range(10)]
    model = SequenceTranscriber(
        hidden_layer_sizes=(3,), cell="rnn", activation="relu", solver="lbfgs",
        max_iter=3,
    )  # fmt: skip
    with pytest.raises(ValueError, match="Solver produced a non-finite training loss"):
        model.fit(X, ["ab"] * 10)
    assert not hasattr(model, "classes_")
