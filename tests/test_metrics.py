import inspect
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

from skrnn._validation import (
    sequences_like,
    validate_sequences,
    validate_step_labels,
)
from skrnn.metrics import (
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
