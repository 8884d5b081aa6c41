"""Base classes of the skrnn estimators: one training path for all of them.

:class:`BaseRecurrent` holds everything the estimators share: the
hyper-parameter constraints (scikit-learn's multi-layer perceptron names plus
the recurrent ones), the work of ``fit`` and ``partial_fit`` with its
rollback on failure, the preparation of training data
(:meth:`BaseRecurrent._prepare`, which :func:`skrnn.testing.check_gradients`
uses too), the network's construction, batched prediction and the roll-out
that feeds outputs back as inputs. It mixes in the solvers
(:mod:`skrnn._training`), saving and loading (:mod:`skrnn._persistence`) and
weights by name (:mod:`skrnn._weights`). :class:`BaseRecurrentClassifier`
adds what the estimators with ``classes_`` share: the class encoding,
``partial_fit(..., classes=...)`` and ``predict_log_proba``.

Subclasses spell out their hyper-parameters, say how targets are encoded
(:meth:`BaseRecurrent._encode_targets`) and scored
(:meth:`BaseRecurrent._score_sequences`), and how outputs become predictions.
"""

import copy
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
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
    _check_partial_fit_first_call,
    _check_sample_weight,
)
from ._conv import check_conv_layers, check_unit_stride
from ._kernels import CELLS
from ._network import RecurrentNetwork
from ._persistence import PersistenceMixin
from ._runtime import n_chunks, session
from ._stream import quick_sequences, single_sequence_outputs
from ._stream import stream as _stream_method
from ._training import _INFERENCE_BATCH, TrainingMixin, _divergence_message
from ._validation import token_dtype, validate_sequences, validate_tokens
from ._weights import WeightsMixin

_STOCHASTIC_SOLVERS = ("sgd", "adam")


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


def store_init_arguments(estimator, arguments):
    """Store the arguments of an estimator's ``__init__`` on it, unchanged.

    An estimator's ``__init__`` spells out its hyper-parameters in its
    signature and, as its only statement, calls
    ``store_init_arguments(self, locals())``: ``locals()`` then holds
    ``self`` and exactly the parameters (for a method of a class defined at
    module level that neither calls ``super()`` nor closes over a variable),
    each stored as given under its own name, the attributes that
    ``get_params``, ``set_params`` and ``clone`` read back. Nothing is
    checked or converted here: ``fit`` validates.
    """
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


@dataclass
class TrainingData:
    """Validated training data and the network it trains, from ``_prepare``."""

    seqs: object  # skrnn._validation.Sequences
    Y: object  # encoded targets: (n, n_outputs) or a list of (T_i, n_outputs)
    y_raw: object  # the targets as given, for scoring
    sample_weight: np.ndarray  # (n_sequences,)
    network: RecurrentNetwork
    step_weight: object = None  # per-step weights: list of (T_i,) arrays, or None


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


class BaseRecurrent(PersistenceMixin, WeightsMixin, TrainingMixin, BaseEstimator, ABC):
    """Base class of the recurrent estimators (not to be used directly).

    A subclass spells out its ``__init__`` (every hyper-parameter of
    ``_parameter_constraints`` it takes, stored as given by
    :func:`store_init_arguments`) and defines ``fit`` and ``partial_fit``
    (the latter behind ``available_if(_stochastic_only)``), which call
    :meth:`_fit_checked` and :meth:`_partial_fit_checked`; their docstrings
    come from the ``fit_*`` and ``partial_fit_*`` sections of
    :mod:`skrnn._docstrings`.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "cell": [StrOptions(set(CELLS))],
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
        # check_conv_layers then says precisely what is wrong in an entry.
        "conv_layers": [tuple, list],
        "conv_padding": [StrOptions({"same", "causal"})],
    }

    # Whether the head reads every step (tagger) or the final state.
    _per_step = False

    # The network class of this estimator, rebuilt from its config on loading.
    _network_class = RecurrentNetwork

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
            conv_layers=self._conv_layers(),
            conv_padding=self.conv_padding,
        )

    # Why an estimator needs one frame per input step (refusing strides), or
    # None where a stride is fine.
    _unit_stride_reason = None

    def _conv_layers(self):
        """``conv_layers`` as ``(filters, width, stride)`` tuples, or a clear error."""
        layers = check_conv_layers(self.conv_layers, self.conv_padding)
        if self._unit_stride_reason is not None:
            check_unit_stride(layers, self._unit_stride_reason)
        return tuple(tuple(layer) for layer in layers)

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
                "bidirectional, conv_layers, the number of features or of "
                "outputs). Set "
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
        self._conv_layers()
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
                    frames = self._network.frame_batch(batch)
                    for i, values in zip(idx, frames.scatter_steps(rows)):
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
            many-to-one model only). A model with ``conv_layers`` re-reads
            the whole sequences at every round (its convolutions read the
            steps before the fed ones), unless ``window`` is given.
        """
        if window is not None or self._network.conv_layers:
            history = [s if window is None else s[-window:] for s in sequences]
            index = np.arange(len(sequences))
            for r in range(n_rounds):
                outputs = self._raw_outputs(history)
                if self._per_step:
                    outputs = np.stack([values[-1] for values in outputs])
                steps = feed_back(outputs, index, r)
                history = [np.concatenate([h, p]) for h, p in zip(history, steps)]
                if window is not None:
                    history = [h[-window:] for h in history]
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
