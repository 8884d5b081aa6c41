"""Output activations and losses of the dense head.

The squared error, the log-losses and the Poisson loss are paired with their
canonical output activation (identity, logistic, softmax, exponential), so the
gradient with respect to the head's pre-activations ``Z`` is
``weight * (P - Y)`` for all of them. The robust regression losses (absolute
error, Huber, pinball) use the identity activation and have their own
(sub)gradients in :data:`ROW_DELTAS`. Losses are computed from ``Z`` in a
numerically stable form (softplus and log-sum-exp) instead of clipping
probabilities.

A loss is named by a string, or by a pair ``(name, parameter)`` for the losses
that take one: ``("huber", delta)`` and ``("quantile", q)``. :data:`ROW_LOSSES`
and :data:`LOSS_ACTIVATION` accept both forms.
"""

from functools import partial

import numpy as np
from scipy.special import expit, log_softmax, softmax, xlogy

OUT_ACTIVATIONS = {
    "identity": lambda Z: Z.copy(),
    "logistic": expit,
    "softmax": lambda Z: softmax(Z, axis=-1),
    "exponential": np.exp,
}


class _ByLossName(dict):
    """A table keyed by loss name that also accepts ``(name, parameter)``.

    The entry of a parametrised loss is the entry of its name, with the
    parameter bound as the keyword argument ``param`` if the entry is a
    function.
    """

    def __missing__(self, key):
        if not isinstance(key, tuple) or len(key) != 2:
            raise KeyError(key)
        name, param = key
        value = dict.__getitem__(self, name)
        return partial(value, param=param) if callable(value) else value


# Loss name -> its output activation.
LOSS_ACTIVATION = _ByLossName(
    {
        "squared_error": "identity",
        "binary_log_loss": "logistic",
        "log_loss": "softmax",
        "poisson": "exponential",
        "absolute_error": "identity",
        "huber": "identity",
        "quantile": "identity",
    }
)

# Losses whose gradient with respect to Z is ``weight * (P - Y)``.
CANONICAL_LOSSES = frozenset(
    {"squared_error", "binary_log_loss", "log_loss", "poisson"}
)


def _squared_error(Z, Y):
    return 0.5 * np.sum((Z - Y) ** 2, axis=-1)


def _binary_log_loss(Z, Y):
    # -(y log p + (1 - y) log(1 - p)) with p = expit(z) is softplus(z) - y z.
    return np.sum(np.logaddexp(0, Z) - Y * Z, axis=-1)


def _log_loss(Z, Y):
    return -np.sum(Y * log_softmax(Z, axis=-1), axis=-1)


def _poisson(Z, Y):
    # Half the Poisson deviance with mean mu = exp(z):
    # y log(y / mu) - y + mu, which is 0 at mu = y; its gradient in z is mu - y.
    return np.sum(np.exp(Z) - Y * Z + xlogy(Y, Y) - Y, axis=-1)


def _absolute_error(Z, Y):
    return np.sum(np.abs(Z - Y), axis=-1)


def _huber(Z, Y, param):
    # Quadratic for |r| <= delta, linear beyond, continuous with its slope.
    r = np.abs(Z - Y)
    return np.sum(np.where(r <= param, 0.5 * r**2, param * (r - 0.5 * param)), axis=-1)


def _quantile(Z, Y, param):
    # Pinball loss: q * (y - z) above the prediction, (1 - q) * (z - y) below.
    r = Y - Z
    return np.sum(np.maximum(param * r, (param - 1) * r), axis=-1)


ROW_LOSSES = _ByLossName(
    {
        "squared_error": _squared_error,
        "binary_log_loss": _binary_log_loss,
        "log_loss": _log_loss,
        "poisson": _poisson,
        "absolute_error": _absolute_error,
        "huber": _huber,
        "quantile": _quantile,
    }
)


def _absolute_error_delta(Z, Y):
    return np.sign(Z - Y)


def _huber_delta(Z, Y, param):
    return np.clip(Z - Y, -param, param)


def _quantile_delta(Z, Y, param):
    # Subgradient in z: -q where y > z, 1 - q where y < z, 0 at a tie.
    return np.where(Y > Z, -param, np.where(Y < Z, 1 - param, 0.0)).astype(Z.dtype)


# Gradient of the row loss with respect to Z for the non-canonical losses
# (a subgradient where the loss has a kink).
ROW_DELTAS = _ByLossName(
    {
        "absolute_error": _absolute_error_delta,
        "huber": _huber_delta,
        "quantile": _quantile_delta,
    }
)


def loss_name(loss):
    """The name of a loss given as a name or as ``(name, parameter)``."""
    return loss[0] if isinstance(loss, tuple) else loss


def loss_and_delta(loss, Z, Y, weights):
    """Weighted loss of the head and its gradient with respect to ``Z``.

    Parameters
    ----------
    loss : str or tuple
        Loss name (a key of :data:`ROW_LOSSES`), or ``(name, parameter)`` for
        ``"huber"`` and ``"quantile"``; it fixes the output activation
        (:data:`LOSS_ACTIVATION`).
    Z : ndarray of shape (n_rows, n_outputs)
        Pre-activations of the output layer.
    Y : ndarray of shape (n_rows, n_outputs)
        Targets: values, or 0/1 indicators for the classification losses.
    weights : ndarray of shape (n_rows,)
        Weight of each row in the objective (already divided by the
        normaliser, zero for padding).

    Returns
    -------
    value : float
        ``sum(weights * row_loss)``.
    delta : ndarray of shape (n_rows, n_outputs)
        ``weights[:, None] * (P - Y)`` with ``P`` the activated outputs for
        the canonical losses, ``weights[:, None]`` times the (sub)gradient of
        the row loss for the others.
    """
    value = float(np.dot(weights, ROW_LOSSES[loss](Z, Y)))
    if loss_name(loss) not in CANONICAL_LOSSES:
        delta = ROW_DELTAS[loss](Z, Y).astype(Z.dtype, copy=False)
        delta *= weights[:, None]
        return value, delta
    P = OUT_ACTIVATIONS[LOSS_ACTIVATION[loss]](Z)
    P -= Y
    P *= weights[:, None]
    return value, P
