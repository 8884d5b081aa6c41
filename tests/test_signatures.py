"""The estimators' signatures: spelled out, and in agreement where shared."""

import ast
import inspect
import textwrap
from itertools import combinations

import pytest
from numpydoc.docscrape import ClassDoc
from sklearn.base import clone

from skrnn import (
    RNNClassifier,
    RNNRegressor,
    SequenceTagger,
    SequenceTranscriber,
    SequenceTranslator,
)

ESTIMATORS = [
    RNNRegressor, RNNClassifier, SequenceTagger, SequenceTranslator,
    SequenceTranscriber,
]  # fmt: skip

# The hyper-parameters and defaults every estimator had when its __init__ was
# first written out; get_params, clone and repr rely on them.
SHARED_DEFAULTS = {
    "hidden_layer_sizes": (64,), "cell": "lstm", "bidirectional": False,
    "activation": "tanh", "solver": "adam", "alpha": 0.0001, "batch_size": "auto",
    "learning_rate": "constant", "learning_rate_init": 0.001, "power_t": 0.5,
    "max_iter": 200, "shuffle": True, "random_state": None, "tol": 0.0001,
    "verbose": False, "warm_start": False, "momentum": 0.9,
    "nesterovs_momentum": True, "early_stopping": False,
    "validation_fraction": 0.1, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-08,
    "n_iter_no_change": 10, "max_fun": 15000, "bptt_steps": None,
    "clip_norm": 5.0, "dropout": 0.0, "embedding_dim": None,
    "vocabulary_size": None, "conv_layers": (), "conv_padding": "same",
}  # fmt: skip
OWN_DEFAULTS = {
    RNNRegressor: {"loss": "squared_error", "huber_delta": 1.0, "quantile": 0.5},
    RNNClassifier: {"class_weight": None},
    SequenceTagger: {"class_weight": None, "bidirectional": True},
    SequenceTranslator: {
        "hidden_layer_sizes": (100,), "learning_rate_init": 0.003,
        "attention": "general", "decoder_embedding_dim": None, "beam_width": 1,
        "max_output_length": None,
    },
    SequenceTranscriber: {
        "hidden_layer_sizes": (100,), "bidirectional": True, "beam_width": 1,
        "zero_infinity": False,
    },
}  # fmt: skip

# Shared parameters whose default or description differ on purpose, by the
# variant they take: the tagger and the transcriber read both directions by
# default and truncate per chunk of steps; the tagger weighs classes per
# step; the translator and the transcriber are wider; the translator steps
# further. Estimators agree where they take the same variant (or none).
DIFFERENT_ON_PURPOSE = {
    (SequenceTagger, "bidirectional"): "both directions",
    (SequenceTranscriber, "bidirectional"): "both directions",
    (SequenceTagger, "bptt_steps"): "per step",
    (SequenceTranscriber, "bptt_steps"): "per step",
    (SequenceTagger, "class_weight"): "per step",
    (SequenceTranslator, "hidden_layer_sizes"): "wide",
    (SequenceTranscriber, "hidden_layer_sizes"): "wide",
    (SequenceTranslator, "learning_rate_init"): "larger steps",
    # The transcriber's beam holds CTC prefixes, the translator's hypotheses.
    (SequenceTranscriber, "beam_width"): "CTC prefixes",
}


def _documented(cls):
    """Name -> (type line, description) of the class docstring's Parameters."""
    return {p.name: (p.type, " ".join(p.desc)) for p in ClassDoc(cls)["Parameters"]}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_get_params_keys_and_defaults_are_unchanged(cls):
    expected = {**SHARED_DEFAULTS, **OWN_DEFAULTS[cls]}
    params = cls().get_params()
    assert params == expected
    assert {k: type(v) for k, v in params.items()} == {
        k: type(v) for k, v in expected.items()
    }
    assert clone(cls()).get_params() == expected
    assert repr(cls()) == f"{cls.__name__}()"
    model = cls(hidden_layer_sizes=(3,), cell="gru")
    assert repr(model) == f"{cls.__name__}(cell='gru', hidden_layer_sizes=(3,))"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_init_spells_out_its_parameters_and_only_stores_them(cls):
    parameters = inspect.signature(cls.__init__).parameters
    kinds = {p.kind for p in list(parameters.values())[2:]}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}
    assert inspect.Parameter.VAR_KEYWORD not in {p.kind for p in parameters.values()}
    # The source's signature names every parameter (what readers and editors
    # see), and the body only stores them.
    (init,) = ast.parse(textwrap.dedent(inspect.getsource(cls.__init__))).body
    written = [arg.arg for arg in init.args.args + init.args.kwonlyargs]
    assert written == list(parameters)
    assert [ast.unparse(statement) for statement in init.body] == [
        "store_init_arguments(self, locals())"
    ]
    marker = object()
    names = list(parameters)[1:]
    assert vars(cls(**dict.fromkeys(names, marker))) == dict.fromkeys(names, marker)
    with pytest.raises(TypeError, match=f"{cls.__name__}.*'hidden_units'"):
        cls(hidden_units=3)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_documented_in_signature_order(cls):
    signature = inspect.signature(cls).parameters
    documented = _documented(cls)
    assert list(documented) == list(signature)
    for name, (type_line, _) in documented.items():
        given = type_line.rpartition("default=")[2]
        assert ast.literal_eval(given) == signature[name].default, name


@pytest.mark.parametrize(
    ("first", "second"),
    list(combinations(ESTIMATORS, 2)),
    ids=lambda c: c.__name__,
)
def test_shared_parameters_agree_in_default_and_description(first, second):
    sig_a = inspect.signature(first).parameters
    sig_b = inspect.signature(second).parameters
    doc_a, doc_b = _documented(first), _documented(second)
    shared = [name for name in sig_a if name in sig_b]
    assert set(SHARED_DEFAULTS) <= set(shared)
    for name in shared:
        same = sig_a[name].default == sig_b[name].default and (
            doc_a[name] == doc_b[name]
        )
        expected = DIFFERENT_ON_PURPOSE.get((first, name)) == (
            DIFFERENT_ON_PURPOSE.get((second, name))
        )
        # A listed difference that has gone is stale: the list must shrink.
        assert same == expected, (first.__name__, second.__name__, name)


def test_fit_and_partial_fit_are_written_on_each_estimator():
    fit_signatures = set()
    for cls in ESTIMATORS:
        assert "fit" in vars(cls)
        assert "partial_fit" in vars(cls)
        fit_signatures.add(str(inspect.signature(cls.fit)))
        partial = list(inspect.signature(cls.partial_fit).parameters)
        with_classes = (RNNClassifier, SequenceTagger, SequenceTranscriber)
        classes = ["classes"] if cls in with_classes else []
        assert partial == ["self", "X", "y", "sample_weight", *classes]
        assert "{" not in cls.fit.__doc__ + cls.partial_fit.__doc__
        assert not hasattr(cls(solver="lbfgs"), "partial_fit")
        assert hasattr(cls(solver="sgd"), "partial_fit")
    assert fit_signatures == {
        "(self, X, y, sample_weight=None, *, X_val=None, y_val=None, "
        "sample_weight_val=None)"
    }
