"""Base classes of the skrnn estimators: one training path for all of them.

:class:`BaseRecurrent` holds everything the estimators share: the
hyper-parameters (scikit-learn's multi-layer perceptron names plus the
recurrent ones), ``fit`` and ``partial_fit``, the preparation of training
data (:meth:`BaseRecurrent._prepare`, which :func:`skrnn.testing.check_gradients`
uses too), the stochastic epoch loop (shuffling, mini-batches, gradient
clipping, early stopping, learning-rate schedules), L-BFGS, batched
prediction, the roll-out that feeds outputs back as inputs, and weights by
name. :class:`BaseRecurrentClassifier` adds what the estimators with
``classes_`` share: the class encoding, ``partial_fit(..., classes=...)``
and ``predict_log_proba``.

Subclasses say how targets are encoded (:meth:`BaseRecurrent._encode_targets`)
and scored (:meth:`BaseRecurrent._score_sequences`), and how outputs become
predictions.
"""

import copy
import warnings
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from ._batching import Batch, make_batch
from ._compat import (
    Interval,
    Options,
    StrOptions,
    _check_optimize_result,
    _check_partial_fit_first_call,
    _check_sample_weight,
)
from ._losses import ROW_LOSSES
from ._network import RecurrentNetwork, Workspace
from ._optimizers import AdamOptimizer, SGDOptimizer, clip_grad_norm
from ._runtime import n_chunks, session
from ._stream import quick_sequences, single_sequence_outputs
from ._stream import stream as _stream_method
from ._validation import token_dtype, validate_sequences, validate_tokens

_STOCHASTIC_SOLVERS = ("sgd", "adam")

# A training loss that grows by more than this factor within one call to fit
# or partial_fit is diverging, even while it is still finite.
_DIVERGENCE_FACTOR = 1e6

_SCALING_ADVICE = (
    "scale X and y (for instance with StandardScaler, and "
    "TransformedTargetRegressor for the targets of a regressor), lower "
    "learning_rate_init, or set clip_norm (for instance clip_norm=1.0)"
)


def _divergence_message(what, where):
    """The error of a diverged fit; begins as MLP's for non-finite weights."""
    return (
        f"Solver produced {what}. The input data may contain large values and "
        f"need to be preprocessed. Training diverged {where}: {_SCALING_ADVICE}. "
        "The estimator is left as it was before this call."
    )


# Sequences per batch at prediction time and in full-batch L-BFGS evaluations:
# bounds the memory of one forward pass.
_INFERENCE_BATCH = 512


def _check_count(value, name):
    """A positive int parameter of a method, or a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a positive int, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}.")
    return int(value)


def _stochastic_only(estimator):
    """``available_if`` check of ``partial_fit``: stochastic solvers only."""
    if estimator.solver not in _STOCHASTIC_SOLVERS:
        raise AttributeError(
            "partial_fit is only available for stochastic"
            " optimizers. %s is not stochastic." % estimator.solver
        )
    return True


@dataclass
class TrainingData:
    """Validated training data and the network it trains, from ``_prepare``."""

    seqs: object  # skrnn._validation.Sequences
    Y: object  # encoded targets: (n, n_outputs) or a list of (T_i, n_outputs)
    y_raw: object  # the targets as given, for scoring
    sample_weight: np.ndarray  # (n_sequences,)
    network: RecurrentNetwork
    step_weight: object = None  # per-step weights: list of (T_i,) arrays, or None


def _take(values, indices):
    """Index a numpy array or a list by an integer array (None stays None)."""
    if values is None:
        return None
    if isinstance(values, np.ndarray):
        return values[indices]
    return [values[i] for i in indices]


def _last_outputs(outputs, batch):
    """Outputs after each real row's last input step, in the batch's sequence order.

    ``outputs`` is what the network's ``forward`` returns: ``(C, Bc, K)``, or
    ``(C, T, Bc, K)`` for a per-step network, whose rows are read at their
    last real step.
    """
    if outputs.ndim == 4:
        last = np.maximum(batch.lengths - 1, 0)[:, None, :, None]
        outputs = np.take_along_axis(outputs, last, axis=1)[:, 0]
    return batch.scatter(outputs)


def _step_batch(batch, steps):
    """A batch of the same rows as ``batch`` holding the next ``steps``.

    ``steps`` is ``(n_sequences, n_fed, n_features)`` in the batch's sequence
    order; every real row gets ``n_fed`` steps, dummy rows none.
    """
    steps = np.asarray(steps, dtype=batch.X.dtype)
    X = np.ascontiguousarray(batch.gather(steps).transpose(0, 2, 1, 3))
    lengths = np.where(batch.real, steps.shape[1], 0).astype(np.int64)
    return Batch(X=X, lengths=lengths, position=batch.position)


class BaseRecurrent(BaseEstimator, ABC):
    """Base class of the recurrent estimators (not to be used directly).

    A subclass spells out its ``__init__`` (every hyper-parameter of
    ``_parameter_constraints`` it takes, stored as given) and defines
    ``fit`` and ``partial_fit`` (the latter behind
    ``available_if(_stochastic_only)``), which call :meth:`_fit_checked`
    and :meth:`_partial_fit_checked`; their docstrings come from the
    ``fit_parameters`` and ``partial_fit_parameters`` sections of
    :mod:`skrnn._docstrings`.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "cell": [StrOptions({"rnn", "lstm", "gru"})],
        "bidirectional": ["boolean"],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "bptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "vocabulary_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    # Whether the head reads every step (tagger) or the final state.
    _per_step = False

    # The network class of this estimator, rebuilt from its config on loading.
    _network_class = RecurrentNetwork

    # ----------------------------------------------------------- persistence
    def __getstate__(self):
        """State with the network and optimiser as plain values.

        A fitted estimator saves its network as the network's constructor
        arguments and its optimiser as its class name and attributes, so that
        a saved model holds only NumPy arrays, Python builtins and the
        estimator itself: :func:`skops.io.load` then needs to trust no other
        skrnn type, and pickles do not depend on private classes.
        """
        state = dict(super().__getstate__())  # may be the live __dict__
        if isinstance(state.get("_network"), self._network_class):
            state["_network"] = {"config": state["_network"].config()}
        optimizer = state.get("_optimizer")
        if isinstance(optimizer, (SGDOptimizer, AdamOptimizer)):
            state["_optimizer"] = {
                "solver": "sgd" if isinstance(optimizer, SGDOptimizer) else "adam",
                "state": dict(vars(optimizer)),
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        network = state.get("_network")
        if isinstance(network, dict):
            config = dict(network["config"])
            if isinstance(config.get("loss"), list):
                config["loss"] = tuple(config["loss"])
            try:
                state["_network"] = self._network_class(**config)
            except Exception as exc:
                raise self._load_error(
                    f"its network configuration {config} is not valid ({exc})"
                ) from exc
        if isinstance(state.get("_network"), self._network_class):
            self._check_saved_state(state)
        optimizer = state.get("_optimizer")
        if isinstance(optimizer, dict):
            klass = SGDOptimizer if optimizer["solver"] == "sgd" else AdamOptimizer
            restored = klass.__new__(klass)
            vars(restored).update(optimizer["state"])
            state["_optimizer"] = restored
        super().__setstate__(state)

    def _load_error(self, what):
        """The error of a saved model that does not hold together."""
        return ValueError(
            f"This saved {type(self).__name__} cannot be loaded: {what}. The file "
            "was edited or damaged after it was saved; save the model again from "
            "the fitted estimator, or refit it."
        )

    def _check_saved_state(self, state):
        """Check a loaded fitted state: weights against the network's config.

        The weight vector must be float32 or float64, finite and as long as
        the network the saved configuration describes; ``n_outputs_``,
        ``classes_`` and the feature and token counts must agree with that
        network. Raises one ValueError naming the first disagreement.
        """
        network = state["_network"]
        config = network.config()
        for name in ("_theta", "_best_theta"):
            theta = state.get(name)
            if theta is None and name == "_best_theta":
                continue
            if not isinstance(theta, np.ndarray):
                raise self._load_error(
                    f"its weight vector {name} is {type(theta).__name__}, not a "
                    "NumPy array"
                )
            if theta.dtype not in (np.float32, np.float64):
                raise self._load_error(
                    f"its weight vector {name} has dtype {theta.dtype}; skrnn "
                    "models hold float32 or float64 weights"
                )
            if theta.shape != (network.n_params,):
                raise self._load_error(
                    f"its weight vector {name} has shape {theta.shape}, but its "
                    f"network configuration {config} needs {network.n_params} "
                    "weights"
                )
            if name == "_theta" and not np.isfinite(theta).all():
                bad = int(np.flatnonzero(~np.isfinite(theta))[0])
                where = next(b.name for b in network.blocks if b.start <= bad < b.stop)
                raise self._load_error(
                    f"its weights hold NaN or infinity (first in {where!r}, at "
                    f"position {bad} of the weight vector)"
                )
        checks = [
            ("n_outputs_", network.n_outputs, "output units"),
            ("_n_step_features", network.n_inputs, "input features per step"),
            ("n_tokens_", network.n_tokens, "token ids"),
        ]
        for name, expected, what in checks:
            if name in state and state[name] != expected:
                raise self._load_error(
                    f"{name}={state[name]!r}, but its network has {expected} "
                    f"{what} ({config})"
                )
        optimizer = state.get("_optimizer")
        moments = optimizer.get("state", {}) if isinstance(optimizer, dict) else {}
        for name, value in moments.items():
            if isinstance(value, np.ndarray) and value.shape != (network.n_params,):
                raise self._load_error(
                    f"its optimiser's {name!r} has shape {value.shape}, but its "
                    f"network has {network.n_params} weights"
                )
        if "classes_" in state:
            expected = self._outputs_for_classes(state)
            if expected is not None and expected != network.n_outputs:
                raise self._load_error(
                    f"classes_ has {len(state['classes_'])} classes, which need "
                    f"{expected} output units, but its network has "
                    f"{network.n_outputs}"
                )

    def _outputs_for_classes(self, state):
        """Output units that a saved state's ``classes_`` need, or None."""
        binarizer = state.get("_label_binarizer")
        if binarizer is None:
            return None
        classes = np.asarray(state["classes_"])
        if classes.shape != np.shape(binarizer.classes_) or not np.array_equal(
            classes, binarizer.classes_
        ):
            raise self._load_error(
                f"classes_ {classes.tolist()} differs from the classes its label "
                f"encoding knows, {np.asarray(binarizer.classes_).tolist()}"
            )
        multilabel = binarizer.y_type_.startswith("multilabel")
        return len(classes) if multilabel or len(classes) > 2 else 1

    # ------------------------------------------------------------- rollback
    @contextmanager
    def _rollback_on_failure(self):
        """Undo everything a failing fit or partial_fit did to the estimator.

        The fitted state (every attribute that is not a hyper-parameter) is
        copied deeply before the call, because training updates the weights
        and the optimiser's moments in place; if the call raises, the
        estimator gets exactly that state back: unfitted if it was, else the
        last good weights, so that a ``partial_fit`` loop that catches the
        error can go on. Hyper-parameters are neither copied nor restored
        (a ``random_state`` instance stays the user's object). The network
        object is shared, not copied: fits replace it, never change it.
        """
        params = self.get_params(deep=False)
        keep = {id(value): value for value in params.values()}
        network = self.__dict__.get("_network")
        if network is not None:
            keep[id(network)] = network
        # A random generator is put back with its state (copying one costs
        # milliseconds, a partial_fit on a small batch not much more).
        generator = self.__dict__.get("_random_state")
        if isinstance(generator, np.random.RandomState):
            keep[id(generator)] = generator
            generator_state = generator.get_state()
        saved = {
            name: copy.deepcopy(value, keep)
            for name, value in self.__dict__.items()
            if name not in params
        }
        try:
            yield
        except BaseException:
            for name in [name for name in self.__dict__ if name not in params]:
                del self.__dict__[name]
            self.__dict__.update(saved)
            if isinstance(generator, np.random.RandomState):
                generator.set_state(generator_state)
            raise

    def _check_training_progress(self, where, theta, loss):
        """Raise if training diverged: non-finite weights or loss.

        ``where`` says when, for the message ("in iteration 3").
        """
        if not np.isfinite(theta).all():
            raise ValueError(_divergence_message("non-finite parameter weights", where))
        if not np.isfinite(loss):
            raise ValueError(
                _divergence_message(f"a non-finite training loss ({loss})", where)
            )

    def _warn_if_loss_grew(self, start):
        """ConvergenceWarning if the loss of this call grew by a huge factor.

        ``start`` is the length of ``loss_curve_`` before the call; the loss
        before the call (or the call's first loss) is the reference.
        """
        new = self.loss_curve_[start:]
        if not new:
            return
        reference = self.loss_curve_[start - 1] if start > 0 else new[0]
        largest = max(new)
        if reference > 0 and largest > _DIVERGENCE_FACTOR * reference:
            warnings.warn(
                f"The training loss grew from {reference:.6g} to {largest:.6g} "
                f"(more than {_DIVERGENCE_FACTOR:g} times) during this fit: "
                f"training is diverging. To prevent it, {_SCALING_ADVICE}.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # ----------------------------------------------------------------- hooks
    @abstractmethod
    def _encode_targets(self, y, seqs, *, first_pass, incremental):
        """Validate ``y`` and encode it for the head.

        Returns the encoded targets (``(n, n_outputs)`` array, or a list of
        per-step ``(T_i, n_outputs)`` arrays for a per-step estimator), the
        raw targets used for scoring, and the loss name.
        """

    @abstractmethod
    def _score_sequences(self, seqs, y_raw, sample_weight):
        """Score on validated sequences (early stopping's validation score)."""

    def _batch_targets(self, batch, Y, sw, step_weight=None):
        """Targets and unnormalised loss weights of a batch in batch layout.

        Many-to-one: one weight per row, the sequence's sample weight.
        ``step_weight`` holds the batch's per-step weights (a list of
        ``(T_i,)`` arrays) when :meth:`_check_weights` returned some.
        """
        return batch.gather(Y), batch.gather(sw)

    def _output_count(self, Y):
        """Units of the output layer for the encoded targets ``Y``."""
        return Y.shape[1] if isinstance(Y, np.ndarray) else Y[0].shape[1]

    # ------------------------------------------------------------ structure
    def _hidden_sizes(self):
        """``hidden_layer_sizes`` as a tuple of positive ints, or a clear error."""
        given = self.hidden_layer_sizes
        sizes = given if hasattr(given, "__iter__") else [given]
        expected = (
            "hidden_layer_sizes must be a positive int or a non-empty sequence "
            f"of positive ints (one per stacked layer), got {given!r}"
        )
        if isinstance(sizes, (str, bytes)):
            raise ValueError(f"{expected}.")
        sizes = list(sizes)
        if not sizes:
            raise ValueError(f"{expected}: no layer.")
        for index, size in enumerate(sizes):
            if isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral):
                raise ValueError(
                    f"{expected}: element {index} ({size!r}) is "
                    f"{type(size).__name__}, not an int. Write the number of units "
                    "of each layer as an int, for instance hidden_layer_sizes=(64,) "
                    "or (64, 32)."
                )
            if size < 1:
                raise ValueError(
                    f"{expected}: element {index} ({size}) is not positive; every "
                    "layer needs at least one unit."
                )
        return tuple(int(h) for h in sizes)

    def _network_arguments(self, n_inputs, n_outputs, n_tokens):
        """The arguments every network class takes, from these hyper-parameters."""
        return dict(
            cell=self.cell,
            n_inputs=n_inputs,
            hidden_layer_sizes=self._hidden_sizes(),
            n_outputs=n_outputs,
            bidirectional=self.bidirectional,
            activation=self.activation,
            dropout=self.dropout,
            n_tokens=n_tokens,
            embedding_dim=None if n_tokens is None else self.embedding_dim,
        )

    def _make_network(self, n_inputs, n_outputs, loss, n_tokens=None):
        """The network these hyper-parameters describe, for data of this shape."""
        return RecurrentNetwork(
            **self._network_arguments(n_inputs, n_outputs, n_tokens),
            loss=loss,
            per_step=self._per_step,
        )

    def _initialize(self, network, dtype):
        """Start a new fit: initial weights and empty fitted attributes."""
        self._network = network
        self._theta = network.init_params(self._random_state, dtype)
        self.n_outputs_ = network.n_outputs
        self.n_layers_ = len(network.hidden_layer_sizes) + 2
        self.out_activation_ = network.out_activation
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.grad_norm_curve_ = []
        self._no_improvement_count = 0
        self._best_theta = self._theta.copy()
        if self.early_stopping:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None

    def _continue_with(self, network, dtype):
        """Reuse the fitted parameters (warm start, partial_fit)."""
        old = [(b.name, b.shape) for b in self._network.blocks]
        new = [(b.name, b.shape) for b in network.blocks]
        if old != new:
            raise ValueError(
                "warm_start and partial_fit need the same network as the previous "
                "fit, but the architecture changed (hidden_layer_sizes, cell, "
                "bidirectional, the number of features or of outputs). Set "
                "warm_start=False to fit a new network."
            )
        self._network = network
        if self._theta.dtype != dtype:
            self._theta = self._theta.astype(dtype)
            self._best_theta = self._best_theta.astype(dtype)
            if hasattr(self, "_optimizer"):
                del self._optimizer

    # ------------------------------------------------------------------- fit
    def _fit_checked(self, X, y, sample_weight, X_val, y_val, sample_weight_val):
        """The work of ``fit``, which each estimator defines and documents.

        Checks the validation arguments and fits from scratch (or from the
        previous solution with ``warm_start``); a failure leaves the estimator
        as it was.
        """
        self._check_validation_args(X_val, y_val, sample_weight_val)
        validation = None if X_val is None else (X_val, y_val, sample_weight_val)
        with self._rollback_on_failure():
            return self._fit(
                X, y, sample_weight=sample_weight, incremental=False,
                validation=validation,
            )  # fmt: skip

    def _check_validation_args(self, X_val, y_val, sample_weight_val):
        """Refuse an incomplete or unused set of validation arguments."""
        if (X_val is None) != (y_val is None):
            given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
            raise ValueError(
                f"{given} was passed to fit without {missing}: validation data "
                "needs both the sequences X_val and their targets y_val."
            )
        if X_val is None:
            if sample_weight_val is not None:
                raise ValueError(
                    "sample_weight_val was passed to fit without X_val and y_val; "
                    "it weights the validation sequences, so pass them as well."
                )
            return
        if not self.early_stopping:
            raise ValueError(
                "X_val and y_val are passed to fit while early_stopping=False: "
                "validation data is used only to stop training early. Set "
                "early_stopping=True, or do not pass X_val and y_val."
            )
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                f"X_val and y_val are used by the early stopping of the stochastic "
                f"solvers, but solver={self.solver!r}. Use solver='adam' or 'sgd'."
            )

    def _prepare_validation(self, validation, dtype):
        """Validated ``(sequences, Y, y, weights)`` of ``fit``'s X_val.

        ``weights`` are the sequence weights, or the per-step weights (a list
        of 1-D arrays) where the estimator takes them, as scoring reads them.
        """
        X_val, y_val, sample_weight_val = validation
        seqs = validate_sequences(self, X_val, reset=False)
        if self._network.embeds:
            validate_tokens(self, seqs, reset=False)
        seqs = replace(
            seqs,
            sequences=[s.astype(dtype, copy=False) for s in seqs.sequences],
            dtype=np.dtype(dtype),
        )
        Y, y_raw, _ = self._encode_targets(
            y_val, seqs, first_pass=False, incremental=True
        )
        sw, step_weight = self._check_weights(sample_weight_val, seqs)
        return seqs, Y, y_raw, sw if step_weight is None else step_weight

    def _partial_fit_checked(self, X, y, sample_weight):
        """The work of ``partial_fit``: one epoch; a failure changes nothing."""
        with self._rollback_on_failure():
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _prepare(self, X, y, sample_weight, *, reset, incremental, dtype=None):
        """Validate training data, encode targets and build the network.

        The one preparation of training data: :meth:`_fit` and
        :func:`skrnn.testing.check_gradients` both use it. ``reset`` records
        what validation learns (feature counts, token vocabulary, classes) on
        the estimator; ``dtype`` converts the sequences (the gradient check
        works in float64). Returns a :class:`TrainingData`.
        """
        self._hidden_sizes()  # fail early on a bad value, before any work
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        seqs = validate_sequences(self, X, reset=reset)
        if dtype is not None:
            seqs = replace(
                seqs,
                sequences=[s.astype(dtype) for s in seqs.sequences],
                dtype=np.dtype(dtype),
            )
        n_tokens = self._validate_tokens(seqs, reset=reset)
        if n_tokens is not None and dtype is None:
            wanted = token_dtype(X, n_tokens)
            seqs = replace(
                seqs,
                sequences=[s.astype(wanted, copy=False) for s in seqs.sequences],
                dtype=wanted,
            )
        Y, y_raw, loss = self._encode_targets(
            y, seqs, first_pass=reset, incremental=incremental
        )
        sw, step_weight = self._check_weights(sample_weight, seqs)
        n_outputs = self._output_count(Y)
        network = self._make_network(seqs.n_features, n_outputs, loss, n_tokens)
        return TrainingData(seqs, Y, y_raw, sw, network, step_weight)

    def _check_weights(self, sample_weight, seqs):
        """Validated ``(sequence weights, per-step weights or None)``.

        One weight per sequence here; a per-step estimator may also accept
        one weight per step, returning a weight per sequence for the L2
        normaliser and the validation split.
        """
        sw = _check_sample_weight(
            sample_weight, seqs.lengths, dtype=seqs.dtype, ensure_non_negative=True
        )
        return sw, None

    def _fit(self, X, y, sample_weight=None, incremental=False, validation=None):
        """Fit from scratch, or continue (``warm_start``, ``partial_fit``)."""
        first_pass = not hasattr(self, "_theta") or (
            not self.warm_start and not incremental
        )
        data = self._prepare(
            X, y, sample_weight, reset=first_pass, incremental=incremental
        )
        if self.solver == "lbfgs" and self.dropout > 0:
            raise ValueError(
                f"dropout={self.dropout} needs a stochastic solver: L-BFGS "
                "minimises a deterministic objective. Use solver='adam' or 'sgd', "
                "or set dropout=0."
            )
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(data.network, data.seqs.dtype)
        else:
            self._continue_with(data.network, data.seqs.dtype)

        # L-BFGS starts a new loss_curve_ on every fit.
        start = len(self.loss_curve_) if self.solver in _STOCHASTIC_SOLVERS else 0
        with session():
            if self.solver in _STOCHASTIC_SOLVERS:
                if validation is not None:
                    validation = self._prepare_validation(validation, data.seqs.dtype)
                self._fit_stochastic(
                    data.seqs, data.Y, data.y_raw, data.sample_weight, incremental,
                    validation=validation, step_weight=data.step_weight,
                )  # fmt: skip
            else:
                self._fit_lbfgs(data.seqs, data.Y, data.sample_weight, data.step_weight)

        if not np.isfinite(self._theta).all():
            raise ValueError(
                _divergence_message(
                    "non-finite parameter weights", f"in iteration {self.n_iter_}"
                )
            )
        self._warn_if_loss_grew(start)
        return self

    def _batch_size(self, n_samples):
        """Sequences per mini-batch (``batch_size``, clipped as MLP does)."""
        if self.batch_size == "auto":
            return min(32, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped",
                stacklevel=2,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _make_optimizer(self):
        """The stochastic optimiser of ``solver``, over the flat parameters."""
        n, dtype = self._theta.shape[0], self._theta.dtype
        if self.solver == "sgd":
            return SGDOptimizer(
                n, dtype, self.learning_rate_init, self.learning_rate,
                self.momentum, self.nesterovs_momentum, self.power_t,
            )  # fmt: skip
        return AdamOptimizer(
            n, dtype, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
        )

    def _stratify(self, y_raw):
        """Labels to stratify the validation split by, or None."""
        return None

    def _split_validation(self, n, y_raw):
        """Hold out ``validation_fraction`` of the sequences."""
        train_idx, val_idx = train_test_split(
            np.arange(n),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=self._stratify(y_raw),
        )
        if len(val_idx) < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        return train_idx, val_idx

    def _fit_stochastic(
        self, seqs, Y, y_raw, sw, incremental, validation=None, step_weight=None
    ):
        """The epoch loop of the stochastic solvers (one epoch if incremental).

        ``validation`` is the prepared ``(sequences, Y, y, sample_weight)`` of
        ``fit``'s X_val, which early stopping scores instead of a split.
        """
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        network, theta = self._network, self._theta
        early_stopping = self.early_stopping
        all_idx = np.arange(len(seqs.sequences))
        if early_stopping and validation is not None:
            train_idx = all_idx
            val, Y_val, y_val, sw_val = validation
        elif early_stopping:
            train_idx, val_idx = self._split_validation(len(all_idx), y_raw)
            val = replace(
                seqs,
                sequences=[seqs.sequences[i] for i in val_idx],
                lengths=seqs.lengths[val_idx],
            )
            y_val = _take(y_raw, val_idx)
            # Per-step weights, where given, weigh the validation steps too.
            steps_val = _take(step_weight, val_idx)
            sw_val = sw[val_idx] if steps_val is None else steps_val
            Y_val = _take(Y, val_idx)
        else:
            train_idx = all_idx
        n_samples = len(train_idx)
        batch_size = self._batch_size(n_samples)
        threads = n_chunks(batch_size)
        dropout_rng = np.random.default_rng(self._random_state.randint(2**31 - 1))
        grad = np.empty_like(theta)
        sample_idx = train_idx.copy()
        workspace = Workspace()
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    self._random_state.shuffle(sample_idx)
                accumulated_loss, norms = 0.0, []
                for batch_slice in gen_batches(n_samples, batch_size):
                    idx = sample_idx[batch_slice]
                    batch = make_batch(
                        [seqs.sequences[i] for i in idx], threads, theta.dtype
                    )
                    Yb, wb = self._batch_targets(
                        batch, _take(Y, idx), sw[idx], _take(step_weight, idx)
                    )
                    if not wb.any():
                        continue  # only zero-weight sequences: nothing to learn
                    loss, grad = network.loss_and_grad(
                        theta, batch, Yb, wb / wb.sum(),
                        l2=self.alpha / float(sw[idx].sum()),
                        bptt_steps=self.bptt_steps, rng=dropout_rng, grad=grad,
                        workspace=workspace,
                    )  # fmt: skip
                    norms.append(clip_grad_norm(grad, self.clip_norm))
                    self._optimizer.step(theta, grad)
                    accumulated_loss += loss * len(idx)

                self.n_iter_ += 1
                self.loss_ = accumulated_loss / n_samples
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                self.grad_norm_curve_.append(float(np.mean(norms)) if norms else 0.0)
                # Diverged: stop at once (the caller rolls the call back).
                self._check_training_progress(
                    f"in iteration {self.n_iter_}", theta, self.loss_
                )
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                if early_stopping:
                    self._record_validation(val, Y_val, y_val, sw_val)
                else:
                    self._record_training_loss()
                self._optimizer.iteration_ends(self.t_)

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    if self._optimizer.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0

                if incremental:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % self.max_iter,
                        ConvergenceWarning,
                        stacklevel=2,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)

        if early_stopping:
            theta[...] = self._best_theta

    def _record_validation(self, val, Y_val, y_val, sw_val):
        """Score the held-out sequences after an epoch; keep the best weights."""
        score = self._score_sequences(val, y_val, sw_val)
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(self._data_loss(val, Y_val, sw_val))
        if self.verbose:
            print("Validation score: %f" % score)
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_theta = self._theta.copy()

    def _record_training_loss(self):
        """Count epochs without improvement of the training loss."""
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if self.loss_curve_[-1] < self.best_loss_:
            self.best_loss_ = self.loss_curve_[-1]

    def _data_loss(self, seqs, Y, sw):
        """Weighted mean loss (no penalty) of the current model on sequences.

        ``sw`` weighs each sequence, or for a per-step estimator may be a list
        of per-step weights, one 1-D array per sequence.
        """
        Z = self._raw_outputs(seqs.sequences, activate=False)
        loss = ROW_LOSSES[self._network.loss]
        if self._per_step and isinstance(sw, list):
            total = sum(float(np.dot(w, loss(z, y))) for z, y, w in zip(Z, Y, sw))
            return total / sum(float(w.sum()) for w in sw)
        if self._per_step:
            per_seq = np.array([loss(z, y).sum() for z, y in zip(Z, Y)])
            return float(np.dot(sw, per_seq) / np.dot(sw, seqs.lengths))
        return float(np.dot(sw, loss(Z, Y)) / sw.sum())

    def _fit_lbfgs(self, seqs, Y, sw, step_weight=None):
        """Minimise the full-batch objective with scipy's L-BFGS-B."""
        network, dtype = self._network, self._theta.dtype
        n = len(seqs.sequences)
        # Fixed batches, built once: the objective is deterministic.
        batches = []
        for batch_slice in gen_batches(n, _INFERENCE_BATCH):
            idx = np.arange(n)[batch_slice]
            batch = make_batch(
                [seqs.sequences[i] for i in idx], n_chunks(len(idx)), dtype
            )
            targets = self._batch_targets(
                batch, _take(Y, idx), sw[idx], _take(step_weight, idx)
            )
            batches.append((batch, *targets))
        # Weights normalised by the total over all batches make the objective
        # the sum of the batches' objectives; the penalty enters once, with
        # the first batch.
        total_weight = sum(float(wb.sum()) for _, _, wb in batches)
        batches = [(batch, Yb, wb / total_weight) for batch, Yb, wb in batches]
        l2 = self.alpha / float(sw.sum())
        grad = np.empty(self._theta.shape, dtype)
        workspace = Workspace()
        state = {"theta": self._theta.copy()}

        def loss_grad(x):
            theta = x.astype(dtype)
            state["theta"] = theta
            total_loss, total_grad = 0.0, np.zeros(x.shape)
            for k, (batch, Yb, wb) in enumerate(batches):
                loss, g = network.loss_and_grad(
                    theta, batch, Yb, wb, l2=l2 if k == 0 else 0.0,
                    bptt_steps=self.bptt_steps, grad=grad, workspace=workspace,
                )  # fmt: skip
                total_loss += loss
                total_grad += g
            state["loss"] = float(total_loss)
            return total_loss, total_grad

        self.loss_curve_ = []

        def callback(xk):
            # L-BFGS-B evaluates the accepted iterate last, so the recorded
            # loss is the iterate's (scipy < 1.11 passes only ``xk``).
            self.loss_curve_.append(state["loss"])
            if self.verbose:
                print(
                    "Iteration %d, loss = %.8f"
                    % (len(self.loss_curve_), self.loss_curve_[-1])
                )

        try:
            result = scipy.optimize.minimize(
                loss_grad,
                self._theta.astype(np.float64),
                method="L-BFGS-B",
                jac=True,
                callback=callback,
                options={"maxfun": self.max_fun, "maxiter": self.max_iter,
                         "gtol": self.tol},
            )  # fmt: skip
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)
            self._theta = state["theta"]
            self.n_iter_ = len(self.loss_curve_)
            self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else np.nan
            return
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(result.fun)
        self._theta = result.x.astype(dtype)
        self._check_training_progress(
            f"after {self.n_iter_} L-BFGS iterations", self._theta, self.loss_
        )

    # --------------------------------------------------------------- predict
    def _validate_tokens(self, seqs, *, reset):
        """Check token ids if the model embeds them; the vocabulary size or None."""
        if self.embedding_dim is None:
            if reset and hasattr(self, "n_tokens_"):
                del self.n_tokens_
            return None
        if not reset and not hasattr(self, "n_tokens_"):
            # Fitted without an embedding; set_params added one since.
            raise ValueError(
                f"embedding_dim={self.embedding_dim} was set after this "
                f"{type(self).__name__} was fitted without an embedding; refit it."
            )
        return validate_tokens(self, seqs, reset=reset)

    def _validate_for_predict(self, X):
        """Check that the model is fitted and validate ``X`` against the fit."""
        seqs = quick_sequences(self, X)  # one plain sequence: a few checks
        if seqs is not None:
            return seqs
        check_is_fitted(self)
        seqs = validate_sequences(self, X, reset=False)
        if self._network.embeds:
            validate_tokens(self, seqs, reset=False)
        return seqs

    def _raw_outputs(self, sequences, activate=True):
        """Head outputs in sequence order (pre-activations if not ``activate``).

        ``sequences`` is a list of validated ``(T_i, n_step_features)``
        arrays. Returns ``(n_sequences, n_outputs)`` for many-to-one
        estimators, a list of ``(T_i, n_outputs)`` arrays for per-step ones.
        """
        n = len(sequences)
        if n == 1:  # the streaming kernel, without the batch's fixed costs
            values = single_sequence_outputs(
                self._network, self._theta, sequences[0], activate
            )
            if values is not None:
                return [values] if self._per_step else values[None]
        lengths = np.fromiter(map(len, sequences), np.int64, count=n)
        order = np.argsort(-lengths, kind="stable")
        dtype = self._theta.dtype
        per_step = self._per_step
        out = [None] * n if per_step else np.empty((n, self.n_outputs_), dtype)
        with session():
            for batch_slice in gen_batches(n, _INFERENCE_BATCH):
                idx = order[batch_slice]
                batch = make_batch(
                    [sequences[i] for i in idx], n_chunks(len(idx)), dtype
                )
                rows = self._network.forward(self._theta, batch, activate=activate)
                if per_step:
                    for i, values in zip(idx, batch.scatter_steps(rows)):
                        out[i] = values
                else:
                    out[idx] = batch.scatter(rows)
        return out

    def _rollout(self, sequences, n_rounds, feed_back, *, window=None):
        """Read ``sequences``, then feed the model's outputs back as inputs.

        The one roll-out of one-to-many generation (``forecast``, ``sample``).

        Parameters
        ----------
        sequences : list of ndarray
            Validated seed sequences ``(T_i, n_step_features)``.
        n_rounds : int
            Number of times ``feed_back`` is called.
        feed_back : callable
            ``feed_back(outputs, index, round)`` gets the activated outputs
            after the latest input step, ``(len(index), n_outputs)``, for the
            sequences ``index`` (positions in ``sequences``), and returns the
            steps to feed next, ``(len(index), n_fed, n_step_features)``.
        window : int or None, default=None
            None carries the recurrent state from round to round, so a round
            costs one cell update per fed step instead of re-reading the
            whole prefix. An int re-reads the last ``window`` steps of each
            sequence (seed and fed steps) at every round instead (a
            many-to-one model only).
        """
        if window is not None:
            history = [s[-window:] for s in sequences]
            index = np.arange(len(sequences))
            for r in range(n_rounds):
                steps = feed_back(self._raw_outputs(history), index, r)
                history = [
                    np.concatenate([h, p])[-window:] for h, p in zip(history, steps)
                ]
            return
        network, theta = self._network, self._theta
        n = len(sequences)
        with session():
            for block in gen_batches(n, _INFERENCE_BATCH):
                index = np.arange(n)[block]
                batch = make_batch(
                    [sequences[i] for i in index], n_chunks(len(index)), theta.dtype
                )
                outputs, state = network.forward(theta, batch, return_state=True)
                for r in range(n_rounds):
                    steps = feed_back(_last_outputs(outputs, batch), index, r)
                    if r == n_rounds - 1:
                        break
                    batch = _step_batch(batch, steps)
                    outputs, state = network.forward(
                        theta, batch, state=state, return_state=True
                    )

    # Live streams, step by step (skrnn/_stream.py).
    stream = _stream_method

    def _require_unidirectional(self, method):
        """Refuse ``method``, which carries the state forward, if bidirectional."""
        if self._network.bidirectional:
            raise ValueError(
                f"{method} carries the recurrent state forward in time, which a "
                f"bidirectional network does not have: this "
                f"{type(self).__name__} was fitted with bidirectional=True. Fit "
                "it with bidirectional=False."
            )

    # --------------------------------------------------------------- weights
    def get_weights(self):
        """Return the network's parameters by name (PyTorch names and shapes).

        Returns
        -------
        weights : dict of str to ndarray
            Copies of ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
            ``bias_hh_l{k}`` (suffix ``_reverse`` for the backward direction)
            for each layer ``k``, and ``output.weight``, ``output.bias``;
            with ``embedding_dim`` set, first ``embedding.weight`` of shape
            ``(n_tokens_, embedding_dim)`` (PyTorch's ``nn.Embedding``).
        """
        check_is_fitted(self)
        return {k: v.copy() for k, v in self._network.views(self._theta).items()}

    def set_weights(self, weights):
        """Set the network's parameters by name.

        Parameters
        ----------
        weights : dict of str to array-like
            Every name returned by :meth:`get_weights`, with the same shapes.

        Returns
        -------
        self : object
            The estimator, with the new parameters.
        """
        check_is_fitted(self)
        views = self._network.views(self._theta)
        if not isinstance(weights, dict):
            raise TypeError(
                f"weights must be a dict of name -> array, got {type(weights)}."
            )
        missing = sorted(set(views) - set(weights))
        unknown = sorted(set(weights) - set(views))
        if missing or unknown:
            raise ValueError(
                f"set_weights needs exactly the names of get_weights(). Missing: "
                f"{missing}; unknown: {unknown}. Expected names: {list(views)}."
            )
        converted = {}
        for name, view in views.items():
            value = np.asarray(weights[name])
            if value.dtype.kind not in "biuf":
                raise TypeError(
                    f"Weight {name!r} has dtype {value.dtype}; weights must be real "
                    "numbers (a float or int array)."
                )
            if value.shape != view.shape:
                raise ValueError(
                    f"Weight {name!r} has shape {value.shape}, expected {view.shape}."
                )
            if not np.isfinite(value).all():
                raise ValueError(f"Weight {name!r} contains NaN or infinity.")
            converted[name] = value
        for name, view in views.items():
            view[...] = converted[name]
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


class BaseRecurrentClassifier(BaseRecurrent):
    """Base class of the estimators whose outputs are classes (``classes_``).

    Targets are encoded against ``classes_`` by one :class:`LabelBinarizer`
    (:meth:`_encode_classes`); ``partial_fit`` takes the classes of all calls
    on its first call; ``predict_log_proba`` is the log of the subclass's
    ``predict_proba``, in the same form.
    """

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def _class_weights(self, labels, *, incremental):
        """Weight of each class of ``classes_`` (``class_weight``), or None.

        ``labels`` are the training labels (one per sequence, or per step
        flattened), for ``'balanced'``. Follows
        :func:`sklearn.utils.class_weight.compute_class_weight`: a class
        missing from a dict weighs 1.
        """
        if self.class_weight is None:
            return None
        if self.class_weight == "balanced" and incremental:
            raise ValueError(
                "class_weight='balanced' is computed from the classes' "
                "frequencies in the whole training set, which partial_fit never "
                "sees at once. Pass class_weight as a dict of class -> weight "
                "computed beforehand (for instance with "
                "sklearn.utils.class_weight.compute_class_weight)."
            )
        if isinstance(self.class_weight, dict):
            known = set(np.asarray(self.classes_).tolist())
            unknown = [c for c in self.class_weight if c not in known]
            if unknown:
                raise ValueError(
                    f"class_weight names classes that are not in y: {unknown}. The "
                    f"classes are {np.asarray(self.classes_).tolist()}; give "
                    "weights to those (a class left out of class_weight weighs 1)."
                )
        return compute_class_weight(self.class_weight, classes=self.classes_, y=labels)

    def _partial_fit_checked(self, X, y, sample_weight, classes):
        """The work of ``partial_fit``; ``classes`` is required on the first call."""
        with self._rollback_on_failure():
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = self._first_call_binarizer(classes, y)
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _first_call_binarizer(self, classes, y):
        """The label binarizer of a first ``partial_fit`` call, from ``classes``."""
        return LabelBinarizer().fit(classes)

    def _encode_classes(self, labels, dtype, *, incremental):
        """Binarised labels; fits ``classes_`` on a new fit, checks them otherwise.

        ``labels`` holds one label per output (per sequence, or per step
        flattened over all sequences), or is a multilabel indicator matrix.
        A new fit (neither ``warm_start`` nor ``partial_fit``) learns
        ``classes_`` from them; a continued fit refuses labels it does not
        know, and ``warm_start`` also a different set of classes.
        """
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(labels)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(labels)
            if self.warm_start and set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same "
                    "classes as in the previous call to fit. Previously "
                    f"got {self.classes_}, `y` has {classes}"
                )
            if len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        return self._label_binarizer.transform(labels).astype(dtype)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        log_proba : ndarray or list of ndarray
            ``log(predict_proba(X))``, in the same form as
            :meth:`predict_proba`.
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            if isinstance(proba, list):
                return [np.log(p) for p in proba]
            return np.log(proba)
