"""Hypothesis strategies for property tests of recurrent networks.

Requires the ``hypothesis`` package (``pip install hypothesis``), which skrnn
itself does not need.

Examples
--------
>>> from hypothesis import given, settings
>>> from skrnn.testing.strategies import network_params, ragged_sequences
>>> @settings(max_examples=5, deadline=None)
... @given(ragged_sequences(n_features=2), network_params(cells=("gru",)))
... def test_shapes(X, params):
...     assert all(x.shape[1] == 2 for x in X)
...     assert params["cell"] == "gru"
>>> test_shapes()
"""

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - exercised without hypothesis
    raise ImportError(
        "skrnn.testing.strategies needs the 'hypothesis' package: "
        "pip install hypothesis"
    ) from exc

from .._kernels import CELLS

__all__ = ["network_params", "ragged_sequences"]


def _as_strategy(value):
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


@st.composite
def ragged_sequences(
    draw,
    *,
    min_sequences=1,
    max_sequences=5,
    min_steps=1,
    max_steps=12,
    n_features=None,
    dtype=np.float64,
    min_value=-2.0,
    max_value=2.0,
):
    """Draw a list of sequences with their own lengths.

    Parameters
    ----------
    min_sequences, max_sequences : int, default=1, 5
        Bounds of the number of sequences.
    min_steps, max_steps : int, default=1, 12
        Bounds of each sequence's length (drawn independently).
    n_features : int, SearchStrategy or None, default=None
        Features per step, shared by all sequences of one draw; None draws
        it from 1 to 4.
    dtype : dtype, default=np.float64
        Dtype of the arrays.
    min_value, max_value : float, default=-2.0, 2.0
        Range of the values (finite).

    Returns
    -------
    strategy : SearchStrategy of list of ndarray
        Each array has shape ``(n_steps_i, n_features)``.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from skrnn.testing.strategies import ragged_sequences
    >>> @settings(max_examples=10, deadline=None)
    ... @given(ragged_sequences(max_sequences=3, max_steps=4, n_features=2))
    ... def test_batches(X):
    ...     assert 1 <= len(X) <= 3
    ...     assert all(1 <= len(x) <= 4 and x.shape[1] == 2 for x in X)
    >>> test_batches()
    """
    n_seq = draw(st.integers(min_sequences, max_sequences))
    n_feat = draw(st.integers(1, 4) if n_features is None else _as_strategy(n_features))
    lengths = draw(
        st.lists(st.integers(min_steps, max_steps), min_size=n_seq, max_size=n_seq)
    )
    width = 32 if np.dtype(dtype) == np.float32 else 64
    elements = st.floats(min_value, max_value, width=width)
    return [
        draw(hnp.arrays(dtype, (length, n_feat), elements=elements))
        for length in lengths
    ]


@st.composite
def network_params(
    draw,
    *,
    cells=None,
    activations=("tanh", "relu", "logistic", "identity"),
    max_layers=3,
    max_hidden=8,
):
    """Draw estimator parameters that define a network's structure.

    Parameters
    ----------
    cells : tuple of str or None, default=None
        Cells to draw from; None draws from every cell skrnn has.
    activations : tuple of str, default=all four
        Elman activations to draw from (used when the cell is ``'rnn'``).
    max_layers : int, default=3
        Maximum number of stacked layers.
    max_hidden : int, default=8
        Maximum units per layer.

    Returns
    -------
    strategy : SearchStrategy of dict
        Keys ``cell``, ``hidden_layer_sizes``, ``bidirectional`` and
        ``activation``: pass them to an estimator with ``set_params``.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from skrnn import RNNRegressor
    >>> from skrnn.testing.strategies import network_params
    >>> @settings(max_examples=10, deadline=None)
    ... @given(network_params(cells=("lstm", "gru"), max_layers=2, max_hidden=4))
    ... def test_structures(params):
    ...     model = RNNRegressor().set_params(**params)
    ...     assert model.cell in ("lstm", "gru")
    ...     assert 1 <= len(model.hidden_layer_sizes) <= 2
    >>> test_structures()
    """
    n_layers = draw(st.integers(1, max_layers))
    return {
        "cell": draw(st.sampled_from(tuple(CELLS) if cells is None else cells)),
        "hidden_layer_sizes": tuple(
            draw(st.lists(st.integers(1, max_hidden), min_size=n_layers,
                          max_size=n_layers))
        ),
        "bidirectional": draw(st.booleans()),
        "activation": draw(st.sampled_from(activations)),
    }  # fmt: skip
