"""Saving and loading the recurrent estimators (pickle, joblib, skops).

:class:`PersistenceMixin` saves a fitted estimator's network as its
constructor arguments and its optimiser as plain values, and checks on
loading that the saved state holds together (weights against the network's
configuration, ``classes_`` against the output layer), naming the first
disagreement.
"""

import numpy as np

from ._optimizers import AdamOptimizer, SGDOptimizer


class PersistenceMixin:
    """``__getstate__`` and ``__setstate__`` of the recurrent estimators.

    The class that mixes it in sets ``_network_class``, the network class
    rebuilt from its saved configuration.
    """

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
