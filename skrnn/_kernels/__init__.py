"""Numba kernels for the forward pass and backpropagation through time.

One chunk of one recurrent layer-direction at a time, for the Elman RNN
(``"rnn"``), LSTM (``"lstm"``) and GRU (``"gru"``) cells, in PyTorch's weight
layout and gate order. The kernels are pure functions over arrays that the
caller allocates; this package imports nothing but NumPy and Numba.
:mod:`skrnn._runtime` splits a batch into chunks, runs the chunks on threads
and sums their gradients.

Data layout of one chunk at the kernels' interface: per-step arrays
``(T, B, features)`` in real time, per-row arrays ``(B, H)``, and ``lengths``
``(B,)`` int64, non-increasing. Inside, the three cells keep states, gates and
their gradients unit-major, ``(H, B)``, and share one skeleton of steps and
blocks (:mod:`skrnn._kernels._steps`); each cell kernel holds its gate loops.
Rows are processed right-aligned: row ``b`` runs its ``lengths[b]``
processing steps during the last ``lengths[b]`` of the ``T`` global steps, so
the rows active at any global step are a prefix of the chunk and all rows
finish together. A row of length 0 is a dummy row: its final state is its
initial state and all its gradients are zero.

The forward pass keeps what the backward pass needs for the last
``n_store = store.shape[0]`` global steps. ``n_store == T`` is full
backpropagation through time, ``0 < n_store < T`` truncates it (the state
entering the window and outputs before it are constants), ``n_store == 0`` is
inference. The backward pass can also cut the gradient every ``k_chunk``
processing steps (per-step losses in chunks).
"""

from ._gru import GRU_STORE_WIDTH
from ._lstm import LSTM_STORE_WIDTH
from ._rnn import ACTIVATION_CODES, RNN_STORE_WIDTH

__all__ = ["ACTIVATION_CODES", "CELL_GATES", "STORE_WIDTHS"]

# Gate blocks per cell: weight matrices have ``CELL_GATES[cell] * H`` rows.
CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# Floats the forward pass stores per row, stored step and hidden unit.
STORE_WIDTHS = {
    "rnn": RNN_STORE_WIDTH,
    "lstm": LSTM_STORE_WIDTH,
    "gru": GRU_STORE_WIDTH,
}
