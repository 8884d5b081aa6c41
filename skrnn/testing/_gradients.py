"""Finite-difference check of the network gradient."""

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._batching import make_batch


@dataclass
class GradientCheck:
    """Result of :func:`check_gradients`.

    Parameters
    ----------
    errors : dict of str to float
        Worst relative error of each parameter block (PyTorch names):
        ``max|analytic - numeric| / (max|numeric| + atol)`` over the block.
    analytic : ndarray of shape (n_params,)
        Gradient from backpropagation through time.
    numeric : ndarray of shape (n_params,)
        Central finite-difference gradient.
    loss : float
        Objective at the point checked.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> from skrnn.testing import GradientCheck, check_gradients
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(n, 2)) for n in (3, 5)]
    >>> model = RNNRegressor(hidden_layer_sizes=(2,), cell="gru")
    >>> result = check_gradients(model, X, [0.5, -0.5])
    >>> isinstance(result, GradientCheck)
    True
    >>> list(result.errors)
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'output.weight',
     'output.bias']
    >>> result.analytic.shape == result.numeric.shape == (39,)
    True
    >>> result.worst < 1e-6
    True
    """

    errors: dict
    analytic: np.ndarray
    numeric: np.ndarray
    loss: float

    @property
    def worst(self):
        """Largest relative error over all blocks."""
        return max(self.errors.values())

    def __repr__(self):
        rows = ", ".join(f"{k}: {v:.1e}" for k, v in self.errors.items())
        return f"GradientCheck(worst={self.worst:.1e}; {rows})"


def check_gradients(
    estimator, X, y, *, sample_weight=None, eps=1e-6, atol=1e-8, random_state=0
):
    """Compare an estimator's analytic gradient with finite differences.

    The network that ``estimator`` would train (its ``cell``,
    ``hidden_layer_sizes``, ``bidirectional``, ``activation``, ``alpha`` and
    loss) is built in float64 and initialised from ``random_state`` (or takes
    the fitted weights if ``estimator`` is fitted). Its objective on all of
    ``X`` as one batch is differentiated by backpropagation through time and by
    central differences ``(f(w + eps) - f(w - eps)) / (2 eps)``, one parameter
    at a time. Keep the problem small: the check costs two objective
    evaluations per parameter.

    Dropout is switched off (it makes the objective random). With
    ``bptt_steps`` set, the analytic gradient is the truncated one and is
    compared with finite differences of the full objective, so it only
    matches when ``bptt_steps`` is at least the longest sequence.

    Parameters
    ----------
    estimator : RNNRegressor, RNNClassifier or SequenceTagger
        Estimator whose network is checked (fitted or not; it is not changed).
    X : array-like or list of array-like
        Sequences, in any form the estimator accepts.
    y : array-like or list of array-like
        Targets, as for the estimator's ``fit``.
    sample_weight : array-like of shape (n_sequences,) or list of 1-D arrays, \
default=None
        Sequence weights, or for a :class:`~skrnn.SequenceTagger` one weight
        per step (a 1-D array per sequence), as ``fit`` takes them.
    eps : float, default=1e-6
        Finite-difference step.
    atol : float, default=1e-8
        Absolute floor of the denominator of the relative error, so that
        blocks with a vanishing gradient do not report rounding noise.
    random_state : int, RandomState instance or None, default=0
        Seeds the initial weights of an unfitted estimator.

    Returns
    -------
    result : GradientCheck
        Per-block errors and both gradients.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> from skrnn.testing import check_gradients
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(n, 2)) for n in (3, 5, 4)]
    >>> y = rng.normal(size=3)
    >>> result = check_gradients(RNNRegressor(hidden_layer_sizes=(3,)), X, y)
    >>> result.worst < 1e-6
    True
    """
    fitted = hasattr(estimator, "_theta")
    # A fitted estimator is only read (validation without reset, targets
    # encoded with its classes); an unfitted one is cloned before validation
    # records feature counts and classes on it.
    probe = estimator if fitted else clone(estimator)
    # The preparation that fit uses, in float64.
    data = probe._prepare(
        X, y, sample_weight, reset=not fitted, incremental=fitted, dtype=np.float64
    )
    network = data.network
    network.dropout = 0.0
    if fitted:
        theta = estimator._theta.astype(np.float64)
    else:
        theta = network.init_params(check_random_state(random_state), np.float64)
    batch = make_batch(data.seqs.sequences, 1, np.float64)
    Yb, wb = probe._batch_targets(batch, data.Y, data.sample_weight, data.step_weight)
    wb = wb / wb.sum()
    l2 = estimator.alpha / data.sample_weight.sum()

    def objective(t):
        return network.loss_and_grad(
            t, batch, Yb, wb, l2=l2, bptt_steps=estimator.bptt_steps
        )

    loss_value, analytic = objective(theta)
    numeric = np.empty_like(theta)
    work = theta.copy()
    for i in range(theta.size):
        work[i] = theta[i] + eps
        f_plus = objective(work)[0]
        work[i] = theta[i] - eps
        f_minus = objective(work)[0]
        work[i] = theta[i]
        numeric[i] = (f_plus - f_minus) / (2 * eps)
    errors = {}
    for block in network.blocks:
        a = analytic[block.start : block.stop]
        n = numeric[block.start : block.stop]
        errors[block.name] = float(np.max(np.abs(a - n)) / (np.max(np.abs(n)) + atol))
    return GradientCheck(
        errors=errors, analytic=analytic, numeric=numeric, loss=loss_value
    )
