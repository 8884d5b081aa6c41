"""Synthetic string-to-string tasks for sequence translation.

Public through :mod:`skrnn.datasets`.

Each generator returns a list of ``(source, target)`` string pairs drawn from
a ``random_state``, character-level tasks on which an encoder-decoder has to
learn an alignment between sequences of different lengths:

- :func:`make_addition`: ``"12+7"`` -> ``"19"``, the sum of two numbers;
- :func:`make_reversal`: ``"abcd"`` -> ``"dcba"``.
"""

from numbers import Integral

from sklearn.utils import check_random_state

from ._compat import Interval, validate_params

__all__ = ["make_addition", "make_reversal"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_digits": [Interval(Integral, 1, 9, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_addition(n_samples=5000, *, n_digits=2, random_state=None):
    """Generate sums of two numbers written as strings, ``"12+7"`` -> ``"19"``.

    Both operands are drawn uniformly from ``0`` to ``10 ** n_digits - 1``
    and written in decimal without leading zeros, so a source has from 3 to
    ``2 * n_digits + 1`` characters and a target from 1 to ``n_digits + 1``
    digits. The ordered pairs of operands are all different, so a split of
    the result into training and test sets tests generalisation to unseen
    sums rather than recall.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of sums, at most ``10 ** (2 * n_digits)`` (the number of
        distinct pairs of operands).
    n_digits : int, default=2
        Maximum number of digits of each operand, from 1 to 9.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    pairs : list of tuple of (str, str)
        ``(source, target)`` pairs such as ``("12+7", "19")``.

    Raises
    ------
    ValueError
        If ``n_samples`` exceeds the number of distinct pairs of operands.

    See Also
    --------
    make_reversal : Another string-to-string task.

    Notes
    -----
    The vocabulary is the ten digits and ``"+"``. Two-digit operands, the
    default, give 10,000 distinct sums. Predicting the most frequent answer
    is right for about 1% of them (the sum 99 of 100 pairs), so an exact-match
    accuracy far above that means the model has learned to add. The task is
    a classic of sequence-to-sequence tutorials since [1]_.

    References
    ----------
    .. [1] W. Zaremba and I. Sutskever, "Learning to execute",
       arXiv:1410.4615, 2014.

    Examples
    --------
    >>> from skrnn.datasets import make_addition
    >>> pairs = make_addition(3, random_state=0)
    >>> len(pairs)
    3
    >>> source, target = pairs[0]
    >>> a, b = source.split("+")
    >>> int(a) + int(b) == int(target)
    True
    """
    n_pairs = 10 ** (2 * n_digits)
    if n_samples > n_pairs:
        raise ValueError(
            f"make_addition can draw at most {n_pairs} distinct sums of operands "
            f"with up to n_digits={n_digits} digits, got n_samples={n_samples}. "
            "Ask for fewer samples or increase n_digits."
        )
    rng = check_random_state(random_state)
    # Operands in Python ints, so that nine digits overflow nothing.
    codes = _distinct_integers(rng, n_pairs, n_samples)
    pairs = []
    for code in codes:
        a, b = divmod(code, 10**n_digits)
        pairs.append((f"{a}+{b}", str(a + b)))
    return pairs


def _distinct_integers(rng, n_values, n_samples):
    """``n_samples`` distinct integers from ``range(n_values)``, in random order."""
    if n_values <= 10**7:
        return [int(v) for v in rng.choice(n_values, size=n_samples, replace=False)]
    chosen, seen = [], set()
    while len(chosen) < n_samples:
        # Two draws of 9 digits make a uniform 18-digit number, uniform modulo
        # any power of ten up to 10 ** 18 (the only n_values used here).
        value = int(rng.randint(0, 10**9)) * 10**9 + int(rng.randint(0, 10**9))
        value %= n_values
        if value not in seen:
            seen.add(value)
            chosen.append(value)
    return chosen


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "min_length": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "alphabet": [str],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_reversal(
    n_samples=5000,
    *,
    min_length=3,
    max_length=12,
    alphabet="abcdefghij",
    random_state=None,
):
    """Generate random strings and their reversals, ``"abcd"`` -> ``"dcba"``.

    Each source has a length drawn uniformly from ``min_length`` to
    ``max_length`` (both included) and characters drawn uniformly and
    independently from ``alphabet``; its target is the same string reversed.

    Parameters
    ----------
    n_samples : int, default=5000
        Number of pairs.
    min_length : int, default=3
        Shortest source.
    max_length : int, default=12
        Longest source, at least ``min_length``.
    alphabet : str, default="abcdefghij"
        The characters to draw from, at least one, all different.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    pairs : list of tuple of (str, str)
        ``(source, target)`` pairs with ``target == source[::-1]``.

    Raises
    ------
    ValueError
        If ``max_length < min_length``, or ``alphabet`` is empty or repeats a
        character.

    See Also
    --------
    make_addition : Another string-to-string task.

    Notes
    -----
    The first character of the target is the last of the source: without
    attention, an encoder-decoder has to carry the whole string in its final
    state, which becomes hard as strings grow; with attention the alignment
    is a simple anti-diagonal. A model that has learned nothing gets a
    per-character accuracy of ``1 / len(alphabet)``.

    Examples
    --------
    >>> from skrnn.datasets import make_reversal
    >>> pairs = make_reversal(2, min_length=3, max_length=5, random_state=0)
    >>> [target == source[::-1] for source, target in pairs]
    [True, True]
    >>> all(3 <= len(source) <= 5 for source, _ in pairs)
    True
    """
    if max_length < min_length:
        raise ValueError(
            f"max_length must be at least min_length, got min_length={min_length} "
            f"and max_length={max_length}."
        )
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise ValueError(
            "alphabet must hold at least one character and no character twice, "
            f"got {alphabet!r}."
        )
    rng = check_random_state(random_state)
    lengths = rng.randint(min_length, max_length + 1, size=n_samples)
    symbols = list(alphabet)
    pairs = []
    for length in lengths:
        source = "".join(rng.choice(symbols, size=length))
        pairs.append((source, source[::-1]))
    return pairs
