"""
Sentiment of short reviews: when word order matters
===================================================

A bag-of-words model counts words and forgets their order. For many texts
that is enough: *great* and *awful* say most of what there is to say. But
*not good* is negative and *not bad* is positive, and in *good acting but a
boring plot* the clause after *but* decides. A linear model on word counts
cannot represent either: it gives *not* one weight, whatever follows it.

A recurrent network reads the words in order, so it can learn that *not*
flips the word after it. We classify short reviews from raw strings with a
:class:`~sklearn.pipeline.Pipeline` of :class:`~skrnn.preprocessing.TextTokenizer`
(words to integer ids) and :class:`~skrnn.RNNClassifier` with a learned
embedding (``embedding_dim``), tune it with
:class:`~sklearn.model_selection.GridSearchCV`, and compare it with
``CountVectorizer`` and ``LogisticRegression``.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier
from skrnn.preprocessing import TextTokenizer

# %%
# Reviews from templates
# ----------------------
#
# There is no download here, so we write reviews from templates: a subject
# (*the plot*), an adjective that carries the sentiment, and four kinds of
# sentences:
#
# - *plain*: "the plot was gripping";
# - *intensified*: "the acting was really dull" (the intensifier changes
#   nothing about the label);
# - *negated*: "the ending was not bad", "never boring": the negation flips
#   the label of the adjective after it;
# - *contrast*: "the cast was superb but the story was tedious": the clause
#   after *but* decides.
#
# Each kind is equally frequent and every adjective is as often negated as
# not, so no single word gives the label away.

POSITIVE = ["good", "great", "superb", "gripping", "charming", "funny", "clever"]
NEGATIVE = ["bad", "boring", "awful", "dull", "tedious", "weak", "clumsy"]
SUBJECTS = ["plot", "acting", "film", "story", "cast", "ending", "script", "music"]
INTENSIFIERS = ["very", "really", "truly", "so", "quite"]
OPENERS = ["", "", "honestly", "overall", "i thought"]
KINDS = ["plain", "intensified", "negated", "contrast"]


def make_reviews(n_reviews, random_state):
    """Short reviews, their labels and the kind of each sentence."""
    rng = np.random.default_rng(random_state)
    texts, labels, kinds = [], [], []

    def pick(words):
        return words[rng.integers(len(words))]

    for i in range(n_reviews):
        kind = KINDS[i % len(KINDS)]
        positive = bool(rng.integers(2))
        adjective = pick(POSITIVE if positive else NEGATIVE)
        subject = pick(SUBJECTS)
        if kind == "plain":
            text = f"the {subject} was {adjective}"
        elif kind == "intensified":
            text = f"the {subject} was {pick(INTENSIFIERS)} {adjective}"
        elif kind == "negated":
            negation = pick(["not", "never", "not at all", "not very"])
            text = f"the {subject} was {negation} {adjective}"
            positive = not positive
        else:
            # The first clause has the opposite sentiment of the second.
            first = pick(NEGATIVE if positive else POSITIVE)
            other = pick([s for s in SUBJECTS if s != subject])
            text = f"the {other} was {first} but the {subject} was {adjective}"
        texts.append(f"{pick(OPENERS)} {text}".strip())
        labels.append("positive" if positive else "negative")
        kinds.append(kind)
    return texts, np.array(labels), np.array(kinds)


texts_train, y_train, _ = make_reviews(300, random_state=0)
texts_test, y_test, kinds_test = make_reviews(400, random_state=1)
for text, label in zip(texts_train[:6], y_train[:6]):
    print(f"{label:>8}: {text}")

# %%
# A recurrent pipeline, tuned by grid search
# ------------------------------------------
#
# ``TextTokenizer(level="word")`` learns the vocabulary and turns each review
# into a 1-D array of word ids, of its own length: no padding. The classifier
# learns one vector of ``embedding_dim`` numbers per word and reads the
# vectors in order. The grid search compares an Elman cell with a GRU and two
# embedding sizes, with 3-fold cross-validation on the training reviews.
# Each fit stops after 20 epochs even if the loss still moves, which
# scikit-learn reports as a ``ConvergenceWarning`` that we silence.

pipe = make_pipeline(
    TextTokenizer(level="word"),
    RNNClassifier(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.01,
        max_iter=20,
        random_state=0,
    ),
)
grid = {
    "rnnclassifier__cell": ["rnn", "gru"],
    "rnnclassifier__embedding_dim": [4, 16],
}
search = GridSearchCV(pipe, grid, cv=3)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    search.fit(texts_train, y_train)
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"]
):
    cell, dim = params.values()
    print(
        f"cell={cell:>3}, embedding_dim={dim:>2}: cross-validated accuracy {score:.3f}"
    )
print("best:", search.best_params_)

# %%
# Bag-of-words baselines
# ----------------------
#
# Word counts and a logistic regression; then the same with counts of pairs
# of neighbouring words too (``ngram_range=(1, 2)``), which can see *not
# good* as one feature.

baselines = {
    "words": CountVectorizer(),
    "words and pairs": CountVectorizer(ngram_range=(1, 2)),
}
predictions = {}
for name, vectorizer in baselines.items():
    bag = make_pipeline(vectorizer, LogisticRegression(max_iter=1000))
    predictions[name] = bag.fit(texts_train, y_train).predict(texts_test)
predictions["recurrent network"] = search.predict(texts_test)
for name, pred in predictions.items():
    print(f"{name:>17}: test accuracy {np.mean(pred == y_test):.3f}")

# %%
# Where each one errs
# -------------------
#
# Counting words gets almost every negated sentence wrong: it reads the
# adjective, and *not* only adds the same amount to every sentence it
# appears in. It guesses on the contrasts, whose two clauses hold one
# positive and one negative adjective in either order. Pairs of words repair
# the contrasts (the pair *superb but* says that *superb* came first and
# lost) and the negations where *not* sits right before its adjective, but
# not *not very good* or *not at all good*, whose deciding pairs are *very
# good* and *all good*.
# The recurrent network reads the words in order and needs no such luck.

accuracy = {}
for name, pred in predictions.items():
    correct = pred == y_test
    accuracy[name] = [correct[kinds_test == kind].mean() for kind in KINDS]
    wrong = np.flatnonzero(~correct)
    print(f"{name}: {len(wrong)} errors")
    for i in wrong[:4]:
        print(f"    {y_test[i]:>8} taken as {pred[i]}: {texts_test[i]}")

# %%
# Accuracy by kind of sentence, and the learned word vectors
# ----------------------------------------------------------
#
# On the right, the embedding of every word (``embedding.weight``, one row
# per id of the tokenizer's vocabulary) projected on its first two principal
# components. Nobody told the network which words are positive, yet along
# the first component the positive adjectives lie on one side and the
# negative ones on the other: the labels taught it.

fig, (ax_bar, ax_emb) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
x = np.arange(len(KINDS))
for offset, (name, values) in zip((-0.27, 0, 0.27), accuracy.items()):
    ax_bar.bar(x + offset, values, width=0.27, label=name)
ax_bar.set_xticks(x, KINDS)
ax_bar.set(ylabel="test accuracy", ylim=(0, 1.2), title="Accuracy by kind of sentence")
ax_bar.axhline(0.5, color="0.5", ls="--", lw=1)
ax_bar.legend(loc="upper center", ncols=3, fontsize="small")

tokenizer = search.best_estimator_.named_steps["texttokenizer"]
classifier = search.best_estimator_.named_steps["rnnclassifier"]
embedding = classifier.get_weights()["embedding.weight"]
points = PCA(n_components=2).fit_transform(embedding)
groups = {
    "positive": POSITIVE,
    "negative": NEGATIVE,
    "negation and but": ["not", "never", "at", "all", "but"],
}
for (group, words), color in zip(groups.items(), ["C2", "C3", "C0"]):
    ids = [tokenizer.vocabulary_[word] for word in words]
    ax_emb.scatter(*points[ids].T, color=color, label=group)
    for word, (px, py) in zip(words, points[ids]):
        ax_emb.annotate(
            word, (px, py), fontsize=8, xytext=(3, 3), textcoords="offset points"
        )
others = [
    i
    for word, i in tokenizer.vocabulary_.items()
    if not any(word in w for w in groups.values())
]
ax_emb.scatter(*points[others].T, color="0.7", s=10, label="other words")
ax_emb.set(
    xlabel="first component", ylabel="second component", title="Word embeddings (PCA)"
)
ax_emb.legend(fontsize="small")
plt.show()
