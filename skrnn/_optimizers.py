"""Stochastic optimisers that update one flat parameter vector in place.

The update rules, learning-rate schedules and stopping messages are those of
scikit-learn's multi-layer perceptron, so ``solver``, ``learning_rate``,
``momentum`` and friends mean the same thing in skrnn. Working on a single
vector (instead of a list of arrays) makes each update a handful of vectorised
operations with no per-layer Python loop.
"""

import numpy as np

from ._kernels._optim import adam_update


def _fused(params, *vectors):
    """Whether the one-pass kernel applies: contiguous vectors of one float dtype."""
    return (
        params.dtype in (np.float32, np.float64)
        and params.ndim == 1
        and params.flags.c_contiguous
        and params.flags.writeable
        and all(
            x.dtype == params.dtype and x.shape == params.shape and x.flags.c_contiguous
            for x in vectors
        )
    )


def _python_floats(*values):
    """Whether NumPy would round these to an array's dtype (plain Python numbers)."""
    return all(type(x) in (float, int) for x in values)


class SGDOptimizer:
    """Stochastic gradient descent with momentum and learning-rate schedules.

    Parameters
    ----------
    n_params, dtype : int, dtype
        Length and dtype of the parameter vector (as for every optimiser
        here: the moment buffers are allocated once).
    learning_rate_init : float
        Initial step size.
    lr_schedule : {"constant", "invscaling", "adaptive"}
        ``invscaling`` sets the rate to ``learning_rate_init / (t + 1)**power_t``
        after each epoch (``t`` counts samples seen); ``adaptive`` divides it
        by 5 each time training stalls, and stops below 1e-6.
    momentum : float
        Momentum in [0, 1].
    nesterov : bool
        Whether to use Nesterov's momentum.
    power_t : float
        Exponent of the ``invscaling`` schedule.
    """

    def __init__(
        self, n_params, dtype, learning_rate_init, lr_schedule, momentum, nesterov,
        power_t,
    ):  # fmt: skip
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    def step(self, params, grad):
        """Update ``params`` in place with the gradient ``grad``."""
        v = self.velocity
        v *= self.momentum
        v -= self.learning_rate * grad
        if self.nesterov:
            params += self.momentum * v - self.learning_rate * grad
        else:
            params += v

    def iteration_ends(self, time_step):
        """Update the rate at the end of an epoch (``time_step`` samples seen)."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """Decide whether a stalled training stops; ``adaptive`` lowers the rate."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class AdamOptimizer:
    """Adam (Kingma and Ba, 2014) on a flat parameter vector.

    ``n_params`` and ``dtype`` are as for :class:`SGDOptimizer`;
    ``learning_rate_init`` is the step size, ``beta_1`` and ``beta_2`` the
    decay rates of the first and second moment estimates, in [0, 1), and
    ``epsilon`` is added to the root of the second moment for numerical
    stability.
    """

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self._buffer = np.empty(n_params, dtype=dtype)

    def step(self, params, grad):
        """Update ``params`` in place with the gradient ``grad``."""
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        self.learning_rate = (
            self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        if _fused(params, grad, self.m, self.v) and _python_floats(
            b1, b2, self.epsilon
        ):
            adam_update(
                params, grad, self.m, self.v, float(b1), float(b2),
                float(self.epsilon), float(self.learning_rate),
            )  # fmt: skip
            return
        self.m *= b1
        self.m += (1 - b1) * grad
        self.v *= b2
        np.multiply(grad, grad, out=self._buffer)
        self._buffer *= 1 - b2
        self.v += self._buffer
        np.sqrt(self.v, out=self._buffer)
        self._buffer += self.epsilon
        np.divide(self.m, self._buffer, out=self._buffer)
        self._buffer *= self.learning_rate
        params -= self._buffer

    def iteration_ends(self, time_step):
        """Adam keeps its rate; nothing to do at the end of an epoch."""

    def trigger_stopping(self, msg, verbose):
        """A stalled Adam run stops."""
        if verbose:
            print(msg + " Stopping.")
        return True


def clip_grad_norm(grad, max_norm):
    """Scale ``grad`` in place so its L2 norm is at most ``max_norm``.

    Same rule as PyTorch's ``clip_grad_norm_``: the scale is
    ``max_norm / (norm + 1e-6)`` when it is below one.

    Returns
    -------
    norm : float
        The norm before clipping.
    """
    norm = float(np.sqrt(np.dot(grad, grad)))
    if max_norm is not None and norm > max_norm:
        grad *= max_norm / (norm + 1e-6)
    return norm
