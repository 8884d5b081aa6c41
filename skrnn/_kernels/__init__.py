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
their gradients unit-major, ``(H, B)``, and share one forward and one
backward time loop (:mod:`skrnn._kernels._scan`, built from the steps and
blocks of :mod:`skrnn._kernels._steps`); each cell module holds only its step,
the gradient of its step and its spec.
Rows are processed right-aligned: row ``b`` runs its ``lengths[b]``
processing steps during the last ``lengths[b]`` of the ``T`` global steps, so
the rows active at any global step are a prefix of the chunk and all rows
finish together. A row of length 0 is a dummy row: its final state is its
initial state and all its gradients are zero.

Truncation, in one vocabulary. The estimators' ``bptt_steps = k`` reaches
the kernels as one of two numbers:

- ``n_store``: the forward pass keeps what the backward pass needs for the
  last ``n_store = store.shape[0]`` global steps (the stored *window*).
  ``n_store == T`` is full backpropagation through time; a many-to-one loss
  with ``bptt_steps = k < T`` sets ``n_store = k`` (the state entering the
  window and the outputs before it are constants); ``n_store == 0`` is
  inference.
- ``segment_steps``: the backward pass cuts the carried gradient every
  ``segment_steps`` processing steps. A per-step loss (the tagger) with
  ``bptt_steps = k < T`` sets ``segment_steps = k`` and ``n_store = T``;
  0 never cuts.

("Chunk" is reserved for the rows of a batch one thread runs.)

Cells are a registry: :data:`CELLS` maps each ``cell`` name to its
:class:`~skrnn._kernels._cells.CellSpec`, defined at the end of the cell's
own module. A cell's two kernels take their parameters by name from the layer
interface below (each names only those it reads, in any order; the runtime
passes them by name):

forward
    ``X, lengths, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, act, n_block,
    H_out, h_off, h_n, c_n, store``
backward
    ``X, lengths, W_ih, W_hh, b_ih, b_hh, reverse, act, segment_steps,
    n_block, store, dH_out, h_off, dh_n, dc_n, dX, dW_ih, dW_hh, db_ih,
    db_hh, dh0, dc0``

Shapes are those of one chunk (see :func:`skrnn._runtime.layer_forward`);
``c0``, ``c_n``, ``dc_n`` and ``dc0`` have width 0 unless the spec has a
cell state; ``act`` is a value of :data:`ACTIVATION_CODES`.

A cell's kernels are a few lines each: they call
:func:`~skrnn._kernels._scan.forward_scan` and
:func:`~skrnn._kernels._scan.backward_scan` with the cell's step functions
(written as that module's docstring says) and tell the scans how many
states the cell carries (``n_states``), whether the gradients of the input
and recurrent pre-activations differ (``split_gradients``) and whether part
of the carried ``dh`` bypasses ``W_hh`` (``direct_carry``). The backward
scan is the one template of BPTT:

1. Views of the stored sections, workspace buffers, parameter gradients
   zeroed, the carried gradients ``d_state`` (``dh``, and ``dc``) from
   ``dh_n`` (``dc_n``), ``W_hh_T = _transposed_copy(W_hh)``.
2. For each block of ``n_block`` stored steps, from the last backwards:

   a. for each step of the block, from its last: ``_add_output_gradients``
      (and the cut flags of ``segment_steps``); the cell's gradient step,
      which writes each gate gradient both into the step's matrix ``da``
      (active rows) and into the block's columns ``dA`` (zero for inactive
      rows) and updates the carries that do not go through ``W_hh`` (``dc``,
      or the GRU's ``z * dh``); the recurrent carry ``_recurrent_gradient``
      (``dh = W_hh.T @ da`` over the active rows) plus the direct carry; then
      ``_cut_carry`` on every carried gradient;
   b. ``_add_block_gradients``: the weight, bias and input gradients of the
      block, as GEMMs (``dA_in`` and ``dA_rec`` are one array unless the
      gradients are split).

3. ``_initial_state_gradient_units`` for ``dh0`` (and ``dc0``).
"""

from ._cells import CellSpec
from ._gru import GRU_CELL
from ._lstm import LSTM_CELL
from ._rnn import ACTIVATION_CODES, RNN_CELL

__all__ = [
    "ACTIVATION_CODES",
    "CELLS",
    "CELL_GATES",
    "STORE_WIDTHS",
    "CellSpec",
    "cell_spec",
]

# Every recurrent cell, by the name the estimators' ``cell`` takes.
CELLS = {spec.name: spec for spec in (RNN_CELL, LSTM_CELL, GRU_CELL)}

# Gate blocks per cell: weight matrices have ``CELL_GATES[cell] * H`` rows.
CELL_GATES = {name: spec.gates for name, spec in CELLS.items()}

# Floats the forward pass stores per row, stored step and hidden unit.
STORE_WIDTHS = {name: spec.store_width for name, spec in CELLS.items()}


def cell_spec(cell):
    """The :class:`CellSpec` of ``cell``; a ValueError naming the cells if unknown."""
    try:
        return CELLS[cell]
    except (KeyError, TypeError):
        raise ValueError(
            f"cell must be one of {sorted(CELLS)}, got {cell!r}."
        ) from None
