import importlib.util
import inspect
import math
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils import _safe_indexing

import skrnn.metrics
from skrnn._validation import (
    sequences_like,
    validate_sequences,
    validate_step_labels,
)
from skrnn.metrics import (
    bleu_score,
    edit_distance,
    error_rate,
    exact_match_score,
    flat_accuracy_score,
    flat_classification_report,
    flat_f1_score,
    flat_precision_score,
    flat_recall_score,
    get_entities,
    sequence_accuracy_score,
    span_f1_score,
    span_precision_score,
    span_recall_score,
)

Y_TRUE = [["B", "I", "O"], ["O", "B"]]
Y_PRED = [["B", "I", "I"], ["O", "B"]]


def flat(y):
    return np.concatenate([np.asarray(seq) for seq in y])


def object_array(sequences):
    # What _safe_indexing gives for a ragged object array in cross-validation.
    out = np.empty(len(sequences), dtype=object)
    out[:] = [np.asarray(seq) for seq in sequences]
    return out


# Flat metrics --------------------------------------------------------------


def test_flat_accuracy_hand_computed():
    assert flat_accuracy_score(Y_TRUE, Y_PRED) == pytest.approx(4 / 5)
    assert flat_accuracy_score(Y_TRUE, Y_PRED, normalize=False) == 4


def test_flat_scores_hand_computed():
    # Steps B: 2 true, 2 predicted, 2 right; I: 1, 2, 1; O: 2, 1, 1.
    assert flat_precision_score(Y_TRUE, Y_PRED, average="macro") == pytest.approx(
        (1 + 0.5 + 1) / 3
    )
    assert flat_recall_score(Y_TRUE, Y_PRED, average="macro") == pytest.approx(
        (1 + 1 + 0.5) / 3
    )
    f1_per_label = flat_f1_score(Y_TRUE, Y_PRED, average=None)
    np.testing.assert_allclose(f1_per_label, [1, 2 / 3, 2 / 3])
    assert flat_f1_score(
        Y_TRUE, Y_PRED, labels=["B", "I"], average="micro"
    ) == pytest.approx(2 * 3 / (3 + 4))


def test_flat_binary_default_like_scikit_learn():
    y_true = [[0, 1, 1], [1, 0]]
    y_pred = [[1, 1, 0], [1, 0]]
    assert flat_precision_score(y_true, y_pred) == pytest.approx(2 / 3)
    assert flat_recall_score(y_true, y_pred) == pytest.approx(2 / 3)
    assert flat_f1_score(y_true, y_pred, pos_label=0) == pytest.approx(0.5)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize(
    "container",
    [list, object_array, np.array],
    ids=["list", "object-array", "2-d"],
)
def test_flat_metrics_agree_with_scikit_learn(average, container):
    rng = np.random.default_rng(0)
    tags = np.array(["B-PER", "I-PER", "O", "B-LOC"])
    y_true = [rng.choice(tags, size=6) for _ in range(5)]
    y_pred = [rng.choice(tags, size=6) for _ in range(5)]
    flat_true, flat_pred = flat(y_true), flat(y_pred)
    y_true, y_pred = container(y_true), container(y_pred)
    for ours, theirs in [
        (flat_precision_score, skm.precision_score),
        (flat_recall_score, skm.recall_score),
        (flat_f1_score, skm.f1_score),
    ]:
        kwargs = {"average": average, "zero_division": 0}
        np.testing.assert_allclose(
            ours(y_true, y_pred, **kwargs), theirs(flat_true, flat_pred, **kwargs)
        )
    assert flat_accuracy_score(y_true, y_pred) == skm.accuracy_score(
        flat_true, flat_pred
    )
    assert flat_classification_report(
        y_true, y_pred, digits=3
    ) == skm.classification_report(flat_true, flat_pred, digits=3)


def test_flat_sample_weight_is_per_sequence():
    y_true = [[1, 0], [1]]
    y_pred = [[1, 1], [1]]
    # Steps weighted 1, 1, 2: right ones weigh 1 + 2 out of 4.
    assert flat_accuracy_score(y_true, y_pred, sample_weight=[1, 2]) == 0.75
    expected = skm.f1_score([1, 0, 1], [1, 1, 1], sample_weight=[3, 3, 0.5])
    assert flat_f1_score(y_true, y_pred, sample_weight=[3, 0.5]) == expected
    with pytest.raises(ValueError, match="sample_weight has 3 entries, but there"):
        flat_accuracy_score(y_true, y_pred, sample_weight=[1, 2, 3])


def test_flat_classification_report_dict():
    report = flat_classification_report(Y_TRUE, Y_PRED, output_dict=True)
    assert report["accuracy"] == pytest.approx(0.8)
    assert report["I"]["precision"] == pytest.approx(0.5)
    assert report["O"]["support"] == 2


def test_flat_functions_keep_their_signature():
    parameters = inspect.signature(flat_f1_score).parameters
    assert list(parameters) == [
        "y_true",
        "y_pred",
        "labels",
        "pos_label",
        "average",
        "sample_weight",
        "zero_division",
    ]


# Sequence accuracy ---------------------------------------------------------


def test_sequence_accuracy_hand_computed():
    y_true = [[1, 0], [1], [0, 0, 0]]
    y_pred = [[1, 1], [1], [0, 0, 0]]
    assert sequence_accuracy_score(y_true, y_pred) == pytest.approx(2 / 3)
    assert sequence_accuracy_score(y_true, y_pred, normalize=False) == 2
    weighted = sequence_accuracy_score(y_true, y_pred, sample_weight=[2, 1, 1])
    assert weighted == pytest.approx(0.5)
    assert sequence_accuracy_score(Y_TRUE, Y_PRED) == 0.5


def test_sequence_accuracy_2d_and_empty_sequences():
    y = np.array([[1, 2], [3, 4]])
    assert sequence_accuracy_score(y, y) == 1.0
    assert sequence_accuracy_score(y, y[:, ::-1]) == 0.0
    assert sequence_accuracy_score([[], [1]], [[], [2]]) == 0.5


def test_sequence_accuracy_refuses_mixed_label_types():
    with pytest.raises(ValueError, match="Mix of label input types"):
        sequence_accuracy_score([["a", "b"]], [[1, 2]])


# Entities ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # Entity running to the end of the sequence.
        (["O", "B-PER", "I-PER"], [("PER", 1, 3)]),
        # I- without B- starts an entity (conlleval).
        (["O", "I-PER", "I-PER", "O"], [("PER", 1, 3)]),
        # I- of another type ends one entity and starts the next.
        (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 3)]),
        # Single-step entities, including back-to-back B- tags.
        (
            ["B-PER", "B-PER", "O", "B-LOC"],
            [("PER", 0, 1), ("PER", 1, 2), ("LOC", 3, 4)],
        ),
        # The type is everything after the first dash.
        (["B-MISC-X", "I-MISC-X"], [("MISC-X", 0, 2)]),
        (["O", "O"], []),
    ],
)
def test_get_entities_iob2(tags, expected):
    assert get_entities([tags]) == [(0, *entity) for entity in expected]
    assert get_entities([tags], scheme="BIO") == get_entities([tags])


def test_entities_never_cross_sequence_boundaries():
    y = [["O", "B-PER", "I-PER"], ["I-PER", "O"]]
    assert get_entities(y) == [(0, "PER", 1, 3), (1, "PER", 0, 1)]


def test_get_entities_iob1_b_separates_adjacent_same_type():
    # IOB1: entities start with I-; B- only marks a second adjacent entity.
    tags = ["I-PER", "I-PER", "B-PER", "I-PER", "O", "I-LOC", "I-PER"]
    assert get_entities([tags], scheme="IOB1") == [
        (0, "PER", 0, 2),
        (0, "PER", 2, 4),
        (0, "LOC", 5, 6),
        (0, "PER", 6, 7),
    ]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["S-PER", "B-LOC", "I-LOC", "E-LOC"], [("PER", 0, 1), ("LOC", 1, 4)]),
        (["S-PER", "S-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        # E- closes the entity: a following I- starts a new one.
        (["B-PER", "E-PER", "I-PER"], [("PER", 0, 2), ("PER", 2, 3)]),
        # E- without an open entity of its type is an entity of one step.
        (
            ["O", "E-PER", "B-LOC", "E-PER"],
            [("PER", 1, 2), ("LOC", 2, 3), ("PER", 3, 4)],
        ),
        # An unclosed entity ends with the sequence.
        (["O", "B-ORG", "I-ORG"], [("ORG", 1, 3)]),
        # S- inside an open entity closes it.
        (["B-ORG", "S-ORG", "I-ORG"], [("ORG", 0, 1), ("ORG", 1, 2), ("ORG", 2, 3)]),
    ],
)
def test_get_entities_iobes(tags, expected):
    assert get_entities([tags], scheme="IOBES") == [(0, *e) for e in expected]


def test_get_entities_accepts_2d_and_object_arrays():
    y = [["B-A", "I-A", "O"], ["O", "B-B", "I-B"]]
    expected = [(0, "A", 0, 2), (1, "B", 1, 3)]
    assert get_entities(np.array(y)) == expected
    assert get_entities(object_array(y)) == expected


@pytest.mark.parametrize(
    ("tags", "scheme", "bad"),
    [
        (["B-PER", "X-PER"], "IOB2", "X-PER"),
        (["B-PER", "S-PER"], "IOB2", "S-PER"),
        (["B-PER", "E-PER"], "IOB1", "E-PER"),
        (["B-PER", "-PER"], "IOBES", "-PER"),
        (["O", "PER"], "IOB2", "PER"),
    ],
)
def test_invalid_tags(tags, scheme, bad):
    msg = f"Invalid tag '{bad}' in sequence 1 (step 1) for the {scheme} scheme"
    with pytest.raises(ValueError, match=re.escape(msg)):
        get_entities([["O"], tags], scheme=scheme)


def test_non_string_tags():
    with pytest.raises(TypeError, match="Span metrics need string tags"):
        span_f1_score([[0, 1]], [[0, 1]])


def test_unknown_scheme():
    with pytest.raises(ValueError, match="'scheme' parameter of span_f1_score"):
        span_f1_score([["O"]], [["O"]], scheme="BILOU")
    with pytest.raises(ValueError, match="'scheme' parameter of get_entities"):
        get_entities([["O"]], scheme="iob2")


# Span scores ---------------------------------------------------------------

SPAN_TRUE = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
SPAN_PRED = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "O", "B-ORG"]]


def test_span_scores_hand_computed():
    # True: PER, LOC, ORG(0:3). Predicted: PER, LOC, ORG(0:2), ORG(3:4).
    assert span_precision_score(SPAN_TRUE, SPAN_PRED) == pytest.approx(2 / 4)
    assert span_recall_score(SPAN_TRUE, SPAN_PRED) == pytest.approx(2 / 3)
    assert span_f1_score(SPAN_TRUE, SPAN_PRED) == pytest.approx(2 * 2 / (3 + 4))


def test_span_scores_per_type_and_macro():
    # Types in sorted order: LOC, ORG, PER.
    np.testing.assert_allclose(
        span_f1_score(SPAN_TRUE, SPAN_PRED, average=None), [1, 0, 1]
    )
    np.testing.assert_allclose(
        span_precision_score(SPAN_TRUE, SPAN_PRED, average=None), [1, 0, 1]
    )
    assert span_f1_score(SPAN_TRUE, SPAN_PRED, average="macro") == pytest.approx(2 / 3)


def test_span_partial_match_and_type_must_match():
    y_true = [["B-PER", "I-PER", "I-PER"]]
    assert span_f1_score(y_true, [["B-PER", "I-PER", "O"]]) == 0.0
    assert span_f1_score(y_true, [["B-LOC", "I-LOC", "I-LOC"]]) == 0.0
    assert span_f1_score(y_true, [["I-PER", "I-PER", "I-PER"]]) == 1.0


def test_span_iobes_and_iob1_scores():
    y_true = [["S-PER", "B-LOC", "E-LOC", "O"]]
    y_pred = [["S-PER", "B-LOC", "I-LOC", "E-LOC"]]
    assert span_f1_score(y_true, y_pred, scheme="IOBES") == 0.5
    y_true = [["I-PER", "B-PER", "O"]]
    y_pred = [["I-PER", "I-PER", "O"]]
    assert span_recall_score(y_true, y_pred, scheme="IOB1") == 0.0
    assert span_precision_score(y_true, y_pred, scheme="IOB1") == 0.0
    assert span_f1_score(y_true, y_true, scheme="IOB1") == 1.0


def test_span_scores_across_sequences():
    # The same entity offsets in another sequence do not count.
    y_true = [["B-PER", "O"], ["O", "O"]]
    y_pred = [["O", "O"], ["B-PER", "O"]]
    assert span_f1_score(y_true, y_pred) == 0.0


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (span_precision_score, "Precision is ill-defined .* no predicted entities"),
        (span_recall_score, "Recall is ill-defined .* no true entities"),
        (span_f1_score, "F-score is ill-defined"),
    ],
)
def test_span_zero_division(function, message):
    y = [["O", "O"]]
    with pytest.warns(UndefinedMetricWarning, match=message):
        assert function(y, y) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert function(y, y, zero_division=1.0) == 1.0
        assert np.isnan(function(y, y, zero_division=np.nan))
        assert np.isnan(function(y, y, average="macro", zero_division=np.nan))
        assert function(y, y, average=None, zero_division=0.0).shape == (0,)


def test_span_warning_points_at_the_caller():
    with pytest.warns(UndefinedMetricWarning) as record:
        span_precision_score([["B-PER"]], [["O"]])
    assert record[0].filename == __file__


def test_span_macro_leaves_out_nan_types():
    y_true = [["B-PER", "O"]]
    y_pred = [["B-PER", "B-LOC"]]
    # Recall: PER 1, LOC undefined (no true LOC).
    assert span_recall_score(
        y_true, y_pred, average="macro", zero_division=np.nan
    ) == pytest.approx(1.0)
    assert span_recall_score(
        y_true, y_pred, average="macro", zero_division=0.0
    ) == pytest.approx(0.5)


# Mismatched inputs ---------------------------------------------------------

ALL_METRICS = [
    flat_accuracy_score,
    flat_precision_score,
    flat_recall_score,
    flat_f1_score,
    flat_classification_report,
    sequence_accuracy_score,
    span_precision_score,
    span_recall_score,
    span_f1_score,
]


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_mismatched_numbers_of_sequences(metric):
    msg = "y_true has 2 sequences, but y_pred has 3"
    with pytest.raises(ValueError, match=msg):
        metric([["O"], ["O"]], [["O"], ["O"], ["O"]])


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_mismatched_lengths_name_the_sequence(metric):
    msg = re.escape("Sequence 1 has 2 labels in y_true but 3 in y_pred")
    with pytest.raises(ValueError, match=msg):
        metric([["O"], ["O", "O"]], [["O"], ["O", "O", "O"]])


def test_single_labels_instead_of_sequences():
    with pytest.raises(ValueError, match=r"y_pred\[0\] is a single label"):
        flat_accuracy_score([["O"], ["O"]], ["O", "O"])


# Scorers and model selection -----------------------------------------------


class ThresholdTagger(ClassifierMixin, BaseEstimator):
    """Tags a step "B-HI" when its value exceeds ``threshold``."""

    def __init__(self, threshold=0.0):
        self.threshold = threshold

    def fit(self, X, y):
        seqs = validate_sequences(self, X, reset=True)
        _, flat_labels = validate_step_labels(y, seqs)
        self.classes_ = np.unique(flat_labels)
        return self

    def predict(self, X):
        seqs = validate_sequences(self, X, reset=False)
        tags = [
            np.where(seq[:, 0] > self.threshold, "B-HI", "O") for seq in seqs.sequences
        ]
        return sequences_like(tags, seqs)


def make_tagging_data(n_sequences=24, ragged=True):
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 9, size=n_sequences) if ragged else [6] * n_sequences
    X = [rng.uniform(size=(n, 1)) for n in lengths]
    y = [np.where(x[:, 0] > 0.5, "B-HI", "O") for x in X]
    return X, y


@pytest.mark.parametrize(
    "scorer",
    [
        make_scorer(flat_f1_score, pos_label="B-HI"),
        make_scorer(flat_accuracy_score),
        make_scorer(sequence_accuracy_score),
        make_scorer(span_f1_score),
        make_scorer(span_f1_score, scheme="BIO", average="macro"),
    ],
)
def test_grid_search_over_ragged_lists(scorer):
    X, y = make_tagging_data()
    search = GridSearchCV(
        ThresholdTagger(), {"threshold": [0.1, 0.5, 0.9]}, scoring=scorer, cv=3
    )
    search.fit(X, y)
    assert search.best_params_ == {"threshold": 0.5}
    assert search.best_score_ == pytest.approx(1.0)


def test_cross_validation_with_object_arrays_and_2d_labels():
    X, y = make_tagging_data()
    scores = cross_val_score(
        ThresholdTagger(threshold=0.5),
        object_array(X),
        object_array(y),
        scoring=make_scorer(span_recall_score),
        cv=KFold(3),
    )
    np.testing.assert_allclose(scores, 1.0)

    X, y = make_tagging_data(ragged=False)
    X, y = np.stack(X), np.stack(y)
    scores = cross_val_score(
        ThresholdTagger(threshold=0.9),
        X,
        y,
        scoring=make_scorer(flat_recall_score, pos_label="B-HI"),
        cv=KFold(3),
    )
    assert np.all(scores < 1.0)


def test_scorer_on_safe_indexed_subsets():
    X, y = make_tagging_data()
    tagger = ThresholdTagger(threshold=0.5).fit(X, y)
    indices = [0, 3, 5]
    X_sub = _safe_indexing(object_array(X), indices)
    y_sub = _safe_indexing(object_array(y), indices)
    assert make_scorer(span_f1_score)(tagger, X_sub, y_sub) == 1.0


# Properties ----------------------------------------------------------------

iob2_tags = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
iobes_tags = st.sampled_from(
    ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "E-LOC", "S-LOC"]
)


@st.composite
def tag_sequences(draw, tags):
    return draw(
        st.lists(st.lists(tags, min_size=1, max_size=8), min_size=1, max_size=5)
    )


def draw_like(data, y_true):
    """Draw IOB2 tag sequences with the lengths of ``y_true``."""
    return [
        data.draw(st.lists(iob2_tags, min_size=len(seq), max_size=len(seq)))
        for seq in y_true
    ]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["IOB1", "IOB2", "IOBES"]), st.data())
def test_entities_are_disjoint_and_well_formed(scheme, data):
    tags = iobes_tags if scheme == "IOBES" else iob2_tags
    y = data.draw(tag_sequences(tags))
    entities = get_entities(y, scheme=scheme)
    covered = [np.zeros(len(seq), dtype=int) for seq in y]
    for index, entity_type, start, end in entities:
        assert 0 <= start < end <= len(y[index])
        covered[index][start:end] += 1
        assert all(tag.endswith(f"-{entity_type}") for tag in y[index][start:end])
    # Entities never overlap, and every non-O tag belongs to one.
    for seq, cover in zip(y, covered, strict=True):
        assert cover.max(initial=0) <= 1
        np.testing.assert_array_equal(cover, [tag != "O" for tag in seq])


@settings(max_examples=60, deadline=None)
@given(tag_sequences(iob2_tags), st.data())
def test_span_scores_are_consistent(y_true, data):
    y_pred = draw_like(data, y_true)
    kwargs = {"zero_division": 0.0}
    precision = span_precision_score(y_true, y_pred, **kwargs)
    recall = span_recall_score(y_true, y_pred, **kwargs)
    f1 = span_f1_score(y_true, y_pred, **kwargs)
    assert 0.0 <= f1 <= 1.0
    if precision + recall > 0:
        assert f1 == pytest.approx(2 * precision * recall / (precision + recall))
    if get_entities(y_true):
        assert span_f1_score(y_true, y_true) == 1.0
    # Swapping truth and prediction swaps precision and recall.
    assert span_recall_score(y_pred, y_true, **kwargs) == pytest.approx(precision)


@settings(max_examples=40, deadline=None)
@given(tag_sequences(iob2_tags), st.data())
def test_flat_scores_match_scikit_learn(y_true, data):
    y_pred = draw_like(data, y_true)
    flat_true, flat_pred = flat(y_true), flat(y_pred)
    for average in ["micro", "macro", "weighted"]:
        assert flat_f1_score(
            y_true, y_pred, average=average, zero_division=0
        ) == pytest.approx(
            skm.f1_score(flat_true, flat_pred, average=average, zero_division=0)
        )
    all_right = [list(t) == list(p) for t, p in zip(y_true, y_pred, strict=True)]
    assert sequence_accuracy_score(y_true, y_pred) == pytest.approx(np.mean(all_right))


# Sequence-to-sequence metrics ----------------------------------------------


def naive_levenshtein(a, b):
    """The full dynamic-programming table, straight from the definition."""
    a, b = list(a), list(b)
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        table[i][0] = i
    for j in range(len(b) + 1):
        table[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = min(
                table[i - 1][j] + 1,
                table[i][j - 1] + 1,
                table[i - 1][j - 1] + (a[i - 1] != b[j - 1]),
            )
    return table[len(a)][len(b)]


def naive_bleu(references, predictions, max_order=4):
    """Corpus BLEU from the definition, with lists and list.count."""
    matches = [0] * max_order
    totals = [0] * max_order
    for reference, prediction in zip(references, predictions, strict=True):
        reference, prediction = list(reference), list(prediction)
        for n in range(1, max_order + 1):
            predicted = [
                tuple(prediction[i : i + n]) for i in range(len(prediction) - n + 1)
            ]
            referenced = [
                tuple(reference[i : i + n]) for i in range(len(reference) - n + 1)
            ]
            for ngram in set(predicted):
                matches[n - 1] += min(predicted.count(ngram), referenced.count(ngram))
            totals[n - 1] += len(predicted)
    c = sum(len(p) for p in predictions)
    r = sum(len(t) for t in references)
    if c == 0 or min(matches) == 0:
        return 0.0
    precision = math.prod(m / t for m, t in zip(matches, totals, strict=True))
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * precision ** (1 / max_order)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("kitten", "sitting", 3),
        ("sitting", "kitten", 3),
        ("flaw", "lawn", 2),
        ("", "abc", 3),
        ("abc", "", 3),
        ("", "", 0),
        ("same", "same", 0),
        ("intention", "execution", 5),
        ("abc", "cab", 2),
    ],
)
def test_edit_distance_known_values(a, b, expected):
    assert edit_distance([a], [b]) == expected
    assert edit_distance([list(a)], [list(b)]) == expected


def test_edit_distance_mean_and_normalized():
    y_true = ["kitten", "flaw", "abc"]
    y_pred = ["sitting", "lawn", "abc"]
    assert edit_distance(y_true, y_pred) == pytest.approx(5 / 3)
    assert edit_distance(y_true, y_pred, normalize=True) == pytest.approx(
        (3 / 6 + 2 / 4 + 0) / 3
    )
    assert edit_distance(y_true, y_pred, sample_weight=[1, 0, 1]) == 1.5


def test_error_rate_is_total_edits_over_total_length():
    y_true = ["kitten", "flaw", "abc"]
    y_pred = ["sitting", "lawn", "abd"]
    assert error_rate(y_true, y_pred) == pytest.approx((3 + 2 + 1) / 13)
    # Predictions longer than their references can give a rate above 1.
    assert error_rate(["a"], ["bcd"]) == 3.0


def test_word_error_rate_on_split_words():
    references = ["the cat sat on the mat", "good morning"]
    transcripts = ["the cat sat on mat", "good morning to you"]
    # One deletion, two insertions over 8 reference words.
    assert error_rate(
        [s.split() for s in references], [s.split() for s in transcripts]
    ) == pytest.approx(3 / 8)


def test_token_forms_agree():
    strings_true, strings_pred = ["abca", "bc"], ["abc", "cb"]
    forms = [
        (strings_true, strings_pred),
        ([list(s) for s in strings_true], [list(s) for s in strings_pred]),
        (
            [np.array([ord(c) for c in s]) for s in strings_true],
            [[ord(c) for c in s] for s in strings_pred],
        ),
        (np.array(strings_true), np.array(strings_pred)),
        (object_array([list(s) for s in strings_true]), tuple(strings_pred)),
    ]
    for y_true, y_pred in forms:
        assert edit_distance(y_true, y_pred) == 1.5
        assert exact_match_score(y_true, y_pred) == 0.0
        assert error_rate(y_true, y_pred) == pytest.approx(3 / 6)
    # A 2-D array holds one sequence per row; floats equal to ints match.
    assert edit_distance(np.array([[1, 2, 3]]), np.array([[1.0, 2.0, 4.0]])) == 1.0


def test_object_tokens_use_python_equality():
    def tuples(*items):
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array

    y_true = [tuples(("a", 1), ("b", 2)), ["x", 3]]
    y_pred = [tuples(("a", 1), ("c", 2)), ["x", 3]]
    assert edit_distance(y_true, y_pred) == 0.5


def test_sequence_accuracy_allows_other_lengths():
    assert exact_match_score(["cat", "dog"], ["cat", "dogs"]) == 0.5
    assert exact_match_score(["cat", "dog"], ["cat", "dogs"], normalize=False) == 1
    assert exact_match_score(["", "a"], ["", "b"]) == 0.5
    weighted = exact_match_score(
        ["a", "b", "c"], ["a", "x", "c"], sample_weight=[1, 2, 1]
    )
    assert weighted == 0.5
    # The tagging form refuses what exact_match_score counts as wrong.
    with pytest.raises(ValueError, match="Sequence 1 has 3 labels in y_true but 4"):
        sequence_accuracy_score([list("cat"), list("dog")], [list("cat"), list("dogs")])


def test_both_sequence_accuracies_agree_on_equal_lengths():
    rng = np.random.default_rng(1)
    y_true = [rng.integers(0, 3, size=n) for n in rng.integers(1, 5, size=30)]
    y_pred = [np.where(rng.random(len(t)) < 0.2, 1 - t, t) for t in y_true]
    weights = rng.random(30)
    assert exact_match_score(y_true, y_pred) == sequence_accuracy_score(y_true, y_pred)
    assert exact_match_score(
        y_true, y_pred, sample_weight=weights
    ) == sequence_accuracy_score(y_true, y_pred, sample_weight=weights)


def test_bleu_hand_computed():
    reference = ["the", "cat", "sat", "on", "the", "mat"]
    prediction = ["the", "cat", "sat", "on", "a", "mat"]
    # Precisions 5/6, 3/5, 2/4, 1/3; equal lengths, so no brevity penalty.
    expected = (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** (1 / 4)
    assert bleu_score([reference], [prediction]) == pytest.approx(expected)
    assert bleu_score([reference], [prediction], max_order=1) == pytest.approx(5 / 6)
    assert bleu_score([reference], [reference]) == pytest.approx(1.0)


def test_bleu_brevity_penalty_and_clipping():
    reference = ["a", "b", "c", "d", "e", "f"]
    # Every n-gram matches, but 4 of 6 tokens: penalty exp(1 - 6 / 4).
    assert bleu_score([reference], [reference[:4]]) == pytest.approx(math.exp(-0.5))
    # Longer predictions are not penalised by brevity, only by precision.
    assert bleu_score(["ab"], ["abab"], max_order=1) == pytest.approx(2 / 4)
    # "the" occurs twice in the reference: 7 predicted "the" match only 2.
    assert bleu_score(
        [["the", "cat", "the"]], [["the"] * 7], max_order=1
    ) == pytest.approx(2 / 7)


def test_bleu_is_corpus_level():
    # Sentence 2 has no 2-gram match, yet the corpus has some: not 0.
    y_true = [["a", "b", "c"], ["x", "y"]]
    y_pred = [["a", "b", "c"], ["y", "x"]]
    expected = math.sqrt(5 / 5 * 2 / 3)
    assert bleu_score(y_true, y_pred, max_order=2) == pytest.approx(expected)


def test_bleu_zero_without_smoothing():
    assert bleu_score(["abcd"], ["abce"], max_order=4) == 0.0
    # Predictions shorter than max_order give no n-gram of that order.
    assert bleu_score(["abc"], ["abc"], max_order=4) == 0.0
    assert bleu_score(["abc"], [""]) == 0.0


@pytest.mark.parametrize(
    "metric",
    [
        edit_distance,
        error_rate,
        bleu_score,
        exact_match_score,
        lambda t, p, **kw: edit_distance(t, p, normalize=True, **kw),
    ],
)
def test_integer_weights_equal_repetition(metric):
    y_true = ["kitten", "abcdef", "flaw", "abc"]
    y_pred = ["sitting", "abcdxf", "lawn", "abd"]
    weights = [2, 0, 1, 3]
    repeated_true = [t for t, w in zip(y_true, weights, strict=True) for _ in range(w)]
    repeated_pred = [p for p, w in zip(y_pred, weights, strict=True) for _ in range(w)]
    kwargs = {"max_order": 2} if metric is bleu_score else {}
    assert metric(y_true, y_pred, sample_weight=weights, **kwargs) == pytest.approx(
        metric(repeated_true, repeated_pred, **kwargs)
    )


SEQ2SEQ_METRICS = [exact_match_score, edit_distance, error_rate, bleu_score]


@pytest.mark.parametrize("metric", SEQ2SEQ_METRICS)
@pytest.mark.parametrize(
    ("y_true", "y_pred", "error", "match"),
    [
        (["ab", "c"], ["ab"], ValueError, "y_true has 2 sequences, but y_pred has 1"),
        ("abc", ["abc"], ValueError, "'y_true' parameter of .* must be an array-like"),
        ([], [], ValueError, "y_true holds no sequence"),
        ([1, 2, 3], [[1, 2, 3]], ValueError, r"y_true\[0\] is a single token \(1\)"),
        (["ab"], [None], ValueError, r"y_pred\[0\] is a single token \(None\)"),
        (["ab"], [np.zeros((2, 2))], ValueError, r"y_pred\[0\] has shape \(2, 2\)"),
        ([[1.0, np.nan]], [[1.0]], ValueError, r"y_true\[0\] contains NaN"),
        (["ab"], [[0, 1]], ValueError, "y_true holds string tokens but y_pred holds"),
        ({"a": "b"}, ["ab"], TypeError, "y_true must be a list of sequences, got dict"),
        (np.zeros((1, 2, 2)), ["ab"], ValueError, r"y_true has shape \(1, 2, 2\)"),
    ],
)
def test_seq2seq_input_errors(metric, y_true, y_pred, error, match):
    with pytest.raises(error, match=match):
        metric(y_true, y_pred)


@pytest.mark.parametrize("metric", SEQ2SEQ_METRICS)
def test_seq2seq_weight_errors(metric):
    with pytest.raises(ValueError, match="sample_weight has 1 entries, but there"):
        metric(["a", "b"], ["a", "b"], sample_weight=[1])
    with pytest.raises(ValueError, match="sample_weight holds negative"):
        metric(["a", "b"], ["a", "b"], sample_weight=[1, -1])


def test_seq2seq_parameter_errors():
    with pytest.raises(ValueError, match="'max_order' parameter of bleu_score"):
        bleu_score(["a"], ["a"], max_order=0)
    with pytest.raises(ValueError, match="'normalize' parameter of edit_distance"):
        edit_distance(["a"], ["a"], normalize="yes")
    with pytest.raises(ValueError, match=r"y_true\[1\] is empty, so normalize=True"):
        edit_distance(["a", ""], ["a", "b"], normalize=True)
    with pytest.raises(ValueError, match="references in y_true hold no token"):
        error_rate(["", ""], ["a", ""])


token_lists = st.lists(
    st.lists(st.sampled_from("abc"), max_size=7), min_size=1, max_size=6
)


@settings(max_examples=150, deadline=None)
@given(token_lists, st.data())
def test_levenshtein_matches_naive_reference(y_true, data):
    y_pred = data.draw(
        st.lists(
            st.lists(st.sampled_from("abcd"), max_size=7),
            min_size=len(y_true),
            max_size=len(y_true),
        )
    )
    distances = [naive_levenshtein(t, p) for t, p in zip(y_true, y_pred, strict=True)]
    assert edit_distance(y_true, y_pred) == pytest.approx(np.mean(distances))
    if all(y_true):
        assert edit_distance(y_true, y_pred, normalize=True) == pytest.approx(
            np.mean([d / len(t) for d, t in zip(distances, y_true, strict=True)])
        )
    total = sum(len(t) for t in y_true)
    if total:
        assert error_rate(y_true, y_pred) == pytest.approx(sum(distances) / total)
    assert exact_match_score(y_true, y_pred) == pytest.approx(
        np.mean([d == 0 for d in distances])
    )
    # A metric: symmetric, and at least the difference of the lengths.
    assert edit_distance(y_pred, y_true) == edit_distance(y_true, y_pred)
    for t, p, d in zip(y_true, y_pred, distances, strict=True):
        assert abs(len(t) - len(p)) <= d <= max(len(t), len(p))


@settings(max_examples=100, deadline=None)
@given(token_lists, st.data(), st.integers(1, 4))
def test_bleu_matches_naive_reference(y_true, data, max_order):
    y_pred = data.draw(
        st.lists(
            st.lists(st.sampled_from("abc"), max_size=7),
            min_size=len(y_true),
            max_size=len(y_true),
        )
    )
    expected = naive_bleu(y_true, y_pred, max_order)
    score = bleu_score(y_true, y_pred, max_order=max_order)
    assert score == pytest.approx(expected)
    assert 0.0 <= score <= 1.0 + 1e-12


@pytest.mark.skipif(
    importlib.util.find_spec("nltk") is None, reason="nltk is not installed"
)
def test_bleu_matches_nltk_corpus_bleu():
    from nltk.translate.bleu_score import corpus_bleu

    rng = np.random.default_rng(0)
    words = np.array(["the", "a", "cat", "dog", "sat", "ran", "on", "mat"])
    # Every prediction has at least 4 words: NLTK counts an n-gram in the
    # denominator for shorter ones (see the bleu_score Notes).
    y_true = [list(rng.choice(words, size=n)) for n in rng.integers(4, 12, size=40)]
    y_pred = [
        [w if rng.random() < 0.7 else str(rng.choice(words)) for w in t]
        + list(rng.choice(words, size=int(rng.integers(0, 3))))
        for t in y_true
    ]
    y_pred = [p[: max(4, len(p) - int(rng.integers(0, 4)))] for p in y_pred]
    expected = corpus_bleu([[t] for t in y_true], y_pred)
    assert expected > 0
    assert bleu_score(y_true, y_pred) == pytest.approx(expected, rel=1e-12)
    expected = corpus_bleu([[t] for t in y_true], y_pred, weights=(0.5, 0.5))
    assert bleu_score(y_true, y_pred, max_order=2) == pytest.approx(expected, rel=1e-12)


def test_levenshtein_on_long_sequences():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, size=300)
    b = np.concatenate([a[:100], rng.integers(0, 4, size=50), a[150:]])
    assert edit_distance([a], [b]) == naive_levenshtein(a.tolist(), b.tolist())
    assert edit_distance([a], [a]) == 0.0


class EchoTranscriber(BaseEstimator):
    """Predicts each input string with every ``drop``-th character removed."""

    def __init__(self, drop=0):
        self.drop = drop

    def fit(self, X, y):
        return self

    def predict(self, X):
        if not self.drop:
            return list(X)
        return ["".join(c for i, c in enumerate(x) if (i + 1) % self.drop) for x in X]


def test_seq2seq_scorers_in_grid_search():
    X = ["hello world", "skrnn", "recurrent networks", "ab"] * 3
    scorers = {
        "cer": make_scorer(error_rate, greater_is_better=False),
        "distance": make_scorer(edit_distance, greater_is_better=False),
        "exact": make_scorer(exact_match_score),
        "bleu": make_scorer(bleu_score, max_order=2),
    }
    search = GridSearchCV(
        EchoTranscriber(), {"drop": [2, 3, 0]}, scoring=scorers, refit="cer", cv=3
    )
    search.fit(X, X)
    assert search.best_params_ == {"drop": 0}
    results = search.cv_results_
    best = search.best_index_
    assert results["mean_test_cer"][best] == 0.0
    assert results["mean_test_exact"][best] == 1.0
    assert results["mean_test_bleu"][best] == 1.0


def test_sequence_accuracy_is_a_deprecated_alias():
    from skrnn.metrics import sequence_accuracy

    y_true, y_pred = ["cat", "dog", "bird"], ["cat", "dogs", "bird"]
    with pytest.warns(
        FutureWarning, match=r"renamed exact_match_score.*removed in 0\.3"
    ):
        old = sequence_accuracy(
            y_true, y_pred, normalize=False, sample_weight=[1, 2, 3]
        )
    assert old == exact_match_score(
        y_true, y_pred, normalize=False, sample_weight=[1, 2, 3]
    )
    assert old == 4.0


def test_the_package_keeps_its_public_names():
    import skrnn.metrics

    for name in skrnn.metrics.__all__:
        assert callable(getattr(skrnn.metrics, name)), name
    assert {"exact_match_score", "sequence_accuracy", "sequence_accuracy_score"} <= set(
        skrnn.metrics.__all__
    )
    # The Levenshtein kernel lives with the other kernels.
    from skrnn._kernels._levenshtein import _levenshtein_kernel  # noqa: F401


@pytest.mark.parametrize(
    "metric",
    [
        flat_precision_score,
        flat_recall_score,
        flat_f1_score,
        span_precision_score,
        span_recall_score,
        span_f1_score,
    ],
)
def test_metrics_built_from_one_template_are_named_and_documented(metric):
    # Each of these is built by a factory from its family's docstring
    # template: it must carry its public name (pickling, make_scorer,
    # validate_params messages) and a docstring with every placeholder filled.
    name = metric.__name__
    assert getattr(skrnn.metrics, name) is metric
    assert metric.__qualname__ == name
    assert pickle.loads(pickle.dumps(metric)) is metric
    assert re.search(r"\{\w+\}", metric.__doc__) is None, metric.__doc__
    assert f">>> from skrnn.metrics import {name}\n" in metric.__doc__
    assert f">>> {name}(y_true, y_pred" in metric.__doc__
    assert list(inspect.signature(metric).parameters)[:2] == ["y_true", "y_pred"]
    if name.startswith("span_"):
        with pytest.raises(ValueError, match=f"'average' parameter of {name} "):
            metric(Y_TRUE, Y_PRED, average="weighted")
