"""Output activations and losses of the dense head.

Each loss is paired with its canonical output activation, so the gradient with
respect to the head's pre-activations ``Z`` is ``weight * (P - Y)`` for all of
them. Losses are computed from ``Z`` in a numerically stable form (softplus and
log-sum-exp) instead of clipping probabilities.
"""

import numpy as np
from scipy.special import expit, log_softmax, softmax

OUT_ACTIVATIONS = {
    "identity": lambda Z: Z.copy(),
    "logistic": expit,
    "softmax": lambda Z: softmax(Z, axis=-1),
}

# Loss name -> its canonical output activation.
LOSS_ACTIVATION = {
    "squared_error": "identity",
    "binary_log_loss": "logistic",
    "log_loss": "softmax",
}


def _squared_error(Z, Y):
    return 0.5 * np.sum((Z - Y) ** 2, axis=-1)


def _binary_log_loss(Z, Y):
    # -(y log p + (1 - y) log(1 - p)) with p = expit(z) is softplus(z) - y z.
    return np.sum(np.logaddexp(0, Z) - Y * Z, axis=-1)


def _log_loss(Z, Y):
    return -np.sum(Y * log_softmax(Z, axis=-1), axis=-1)


ROW_LOSSES = {
    "squared_error": _squared_error,
    "binary_log_loss": _binary_log_loss,
    "log_loss": _log_loss,
}


def loss_and_delta(loss, Z, Y, weights):
    """Weighted loss of the head and its gradient with respect to ``Z``.

    Parameters
    ----------
    loss : {"squared_error", "binary_log_loss", "log_loss"}
        Loss name; fixes the output activation (:data:`LOSS_ACTIVATION`).
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
        ``weights[:, None] * (P - Y)`` with ``P`` the activated outputs.
    """
    value = float(np.dot(weights, ROW_LOSSES[loss](Z, Y)))
    P = OUT_ACTIVATIONS[LOSS_ACTIVATION[loss]](Z)
    P -= Y
    P *= weights[:, None]
    return value, P
