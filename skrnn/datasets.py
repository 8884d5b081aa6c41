"""Synthetic sequence tasks in scikit-learn's ``make_*`` style.

Each generator takes a ``random_state`` and returns ``X, y`` in a form the
skrnn estimators accept directly, or for the string-to-string tasks a list of
``(source, target)`` pairs. The Notes of each one give the baseline a model
has to beat to have learned anything:

- :func:`make_adding_problem`: long-memory regression (many-to-one);
- :func:`make_cosine_windows`: next-value prediction of a cosine wave;
- :func:`make_parity`: running parity of a bit stream (sequence tagging);
- :func:`make_addition`: ``"12+7"`` -> ``"19"``, and :func:`make_reversal`:
  ``"abcd"`` -> ``"dcba"`` (sequence to sequence of another length).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ._compat import Interval, validate_params
from ._seq2seq_data import make_addition, make_reversal
from .preprocessing import make_windows

__all__ = [
    "make_adding_problem",
    "make_addition",
    "make_cosine_windows",
    "make_parity",
    "make_reversal",
]


@validate_params(
    {
        "n_sequences": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_adding_problem(n_sequences=1000, n_steps=50, *, random_state=None):
    """Generate the adding problem, a test of long-term memory.

    Every step carries two features: a value drawn uniformly from [0, 1] and
    a marker. Exactly two steps are marked (marker 1, all others 0), one in
    the first half of the sequence and one in the second. The target is the
    sum of the two marked values, so a model must hold the first marked value
    across up to ``n_steps`` steps of distracting input.

    Parameters
    ----------
    n_sequences : int, default=1000
        Number of sequences.
    n_steps : int, default=50
        Length of every sequence, at least 2. Longer sequences need longer
        memory.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output. Pass an int for the same
        data on every call.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_steps, 2)
        Feature 0 is the value, feature 1 the marker.
    y : ndarray of shape (n_sequences,)
        The sum of the two marked values, in [0, 2].

    See Also
    --------
    make_parity : Another task that needs memory of the whole sequence.

    Notes
    -----
    Predicting the mean, 1, for every sequence gives a mean squared error of
    the variance of a sum of two independent uniform values, ``1/6 ~ 0.167``:
    a model that has not found the markers stays there. An LSTM or GRU with a
    few dozen units gets below 0.05 at 50 steps, while an Elman RNN usually
    stays at the baseline as ``n_steps`` grows (vanishing gradients).

    This is the common modern form of the task (values in [0, 1], markers 0
    or 1, the plain sum as target); the original [1]_ draws values from
    [-1, 1] and scales the target into [0, 1].

    References
    ----------
    .. [1] S. Hochreiter and J. Schmidhuber, "Long short-term memory",
       Neural Computation 9(8), 1735-1780, 1997 (experiment 4).

    Examples
    --------
    >>> from skrnn.datasets import make_adding_problem
    >>> X, y = make_adding_problem(n_sequences=3, n_steps=10, random_state=0)
    >>> X.shape, y.shape
    ((3, 10, 2), (3,))
    >>> X[:, :, 1].sum(axis=1)
    array([2., 2., 2.])
    >>> bool(((X[:, :, 0] * X[:, :, 1]).sum(axis=1) == y).all())
    True
    """
    rng = check_random_state(random_state)
    values = rng.uniform(0.0, 1.0, size=(n_sequences, n_steps))
    half = n_steps // 2
    rows = np.arange(n_sequences)
    first = rng.randint(0, half, size=n_sequences)
    second = rng.randint(half, n_steps, size=n_sequences)
    markers = np.zeros_like(values)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=2)
    y = values[rows, first] + values[rows, second]
    return X, y


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "period": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_cosine_windows(
    n_samples=1000, window=50, *, noise=0.0, period=25.0, random_state=None
):
    """Generate windows of a cosine wave and the value that follows each.

    One series ``cos(2 pi t / period) + noise`` of ``n_samples + window``
    steps, starting at a random phase, is cut by
    :func:`~skrnn.preprocessing.make_windows` into ``n_samples`` overlapping
    windows (stride 1) and the next value of each.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of windows.
    window : int, default=50
        Steps in each window.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to every step (targets
        included).
    period : float, default=25.0
        Period of the wave in steps.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the phase and the noise. Pass an int for the
        same data on every call.

    Returns
    -------
    X : ndarray of shape (n_samples, window, 1)
        The windows, in time order.
    y : ndarray of shape (n_samples,)
        The step after each window.

    See Also
    --------
    skrnn.preprocessing.make_windows : Windows of any series.

    Notes
    -----
    The baseline is persistence, predicting the last value of the window,
    whose mean squared error is ``1 - cos(2 pi / period) + 2 noise**2``
    (0.031 for the default period without noise); the variance of the wave,
    0.5, is the error of predicting the mean. Without noise the next value is
    an exact function of the last two, so a model should reach ``R^2`` near 1;
    with noise no model can get below an error of ``noise**2``.
    Windows overlap: split train and test sets in time order
    (``shuffle=False``) to avoid scoring on the training data.

    Examples
    --------
    >>> from skrnn.datasets import make_cosine_windows

    Windows slide by one step, so each target is the last value of the next
    window:

    >>> X, y = make_cosine_windows(n_samples=4, window=5, random_state=0)
    >>> X.shape
    (4, 5, 1)
    >>> bool((X[1:, -1, 0] == y[:-1]).all())
    True
    """
    rng = check_random_state(random_state)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    steps = np.arange(n_samples + window)
    series = np.cos(2.0 * np.pi * steps / period + phase)
    if noise > 0:
        series += rng.normal(0.0, noise, size=series.shape)
    return make_windows(series, window)


@validate_params(
    {
        "n_sequences": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "min_steps": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_parity(n_sequences=500, n_steps=20, *, min_steps=None, random_state=None):
    """Generate bit streams tagged with their running parity.

    Each step is a random bit; its label is the parity (XOR) of all bits so
    far, so every label depends on the whole prefix: a sequence tagging
    task for :class:`~skrnn.SequenceTagger`.

    Parameters
    ----------
    n_sequences : int, default=500
        Number of sequences.
    n_steps : int, default=20
        Length of every sequence, or the longest length when ``min_steps`` is
        given.
    min_steps : int, default=None
        When given, lengths are drawn uniformly from ``[min_steps, n_steps]``
        and the sequences are returned as lists. ``None`` makes every
        sequence ``n_steps`` long and returns arrays.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the bits and lengths. Pass an int for the same
        data on every call.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_steps, 1) or list of ndarray
        The bits as floats (0.0 or 1.0); with ``min_steps`` a list of arrays
        of shape ``(n_steps_i, 1)``.
    y : ndarray of shape (n_sequences, n_steps) or list of ndarray
        The running parity (0 or 1, int64) at every step; with ``min_steps``
        a list of arrays of shape ``(n_steps_i,)``.

    Raises
    ------
    ValueError
        If ``min_steps`` is greater than ``n_steps``.

    See Also
    --------
    make_adding_problem : Long-memory regression.

    Notes
    -----
    Labels are balanced, so the baseline per-step accuracy is 0.5: no
    function of the current bit alone does better. A recurrent network only
    has to carry one bit of state, but must learn to flip it; the task gets
    harder for gradient training as sequences grow.

    Examples
    --------
    >>> from skrnn.datasets import make_parity
    >>> X, y = make_parity(n_sequences=2, n_steps=5, random_state=0)
    >>> X.shape, y.shape
    ((2, 5, 1), (2, 5))
    >>> bool((y == X[:, :, 0].cumsum(axis=1) % 2).all())
    True
    >>> X, y = make_parity(n_sequences=3, n_steps=6, min_steps=2, random_state=0)
    >>> [len(bits) for bits in X] == [len(labels) for labels in y]
    True
    """
    if min_steps is not None and min_steps > n_steps:
        raise ValueError(
            f"min_steps={min_steps} is greater than n_steps={n_steps}; the "
            f"lengths are drawn from [min_steps, n_steps]."
        )
    rng = check_random_state(random_state)
    bits = rng.randint(0, 2, size=(n_sequences, n_steps))
    parity = np.cumsum(bits, axis=1) % 2
    if min_steps is None:
        return bits[:, :, np.newaxis].astype(np.float64), parity.astype(np.int64)
    lengths = rng.randint(min_steps, n_steps + 1, size=n_sequences)
    X = [
        bits[i, :length, np.newaxis].astype(np.float64)
        for i, length in enumerate(lengths)
    ]
    y = [parity[i, :length].astype(np.int64) for i, length in enumerate(lengths)]
    return X, y
