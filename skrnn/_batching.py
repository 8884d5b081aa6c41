"""Padded, chunk-major batches of ragged sequences.

The kernels read a batch as arrays of shape ``(n_chunks, n_steps, chunk_size, ...)``:
one chunk per thread, each chunk's rows sorted longest first so that the rows
still running at any step form a contiguous prefix. :class:`Batch` builds that
layout from a list of sequences and maps per-sequence values to and from it.
Padding never changes a result: padded steps are skipped by the kernels and
dummy rows (length 0, added to fill the last chunk) carry zero loss weight.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Batch:
    """Sequences padded into the kernels' chunk-major layout.

    Attributes
    ----------
    X : ndarray of shape (n_chunks, n_steps, chunk_size, n_features)
        Padded inputs in real time order; padded entries are zero.
    lengths : ndarray of shape (n_chunks, chunk_size), dtype int64
        Length of each row, non-increasing within a chunk; 0 for dummy rows.
    position : ndarray of shape (n_chunks, chunk_size), dtype int64
        Position of each row in the list of sequences the batch was built
        from, -1 for dummy rows.
    """

    X: np.ndarray
    lengths: np.ndarray
    position: np.ndarray

    @property
    def n_chunks(self):
        return self.X.shape[0]

    @property
    def n_steps(self):
        return self.X.shape[1]

    @property
    def chunk_size(self):
        return self.X.shape[2]

    @property
    def n_sequences(self):
        return int(np.count_nonzero(self.position >= 0))

    @property
    def real(self):
        """Boolean mask ``(n_chunks, chunk_size)`` of rows that hold a sequence."""
        return self.position >= 0

    def step_mask(self):
        """Boolean mask ``(n_chunks, n_steps, chunk_size)`` of real steps."""
        steps = np.arange(self.n_steps)[None, :, None]
        return steps < self.lengths[:, None, :]

    def gather(self, values):
        """Arrange per-sequence values ``(n_sequences, ...)`` as ``(C, Bc, ...)``.

        Dummy rows get zeros.
        """
        values = np.asarray(values)
        out = np.zeros(self.position.shape + values.shape[1:], dtype=values.dtype)
        real = self.real
        out[real] = values[self.position[real]]
        return out

    def scatter(self, rows):
        """Inverse of :meth:`gather`: ``(C, Bc, ...)`` back to sequence order."""
        real = self.real
        out = np.empty((self.n_sequences,) + rows.shape[2:], dtype=rows.dtype)
        out[self.position[real]] = rows[real]
        return out

    def gather_steps(self, values, fill=0):
        """Arrange per-step values as ``(C, n_steps, Bc, ...)``.

        Parameters
        ----------
        values : list of ndarray
            ``values[i]`` has shape ``(length_i, ...)`` for the i-th sequence
            the batch was built from.
        fill : scalar, default=0
            Value of padded entries.
        """
        trailing = np.asarray(values[0]).shape[1:]
        dtype = np.asarray(values[0]).dtype
        out = np.full(
            (self.n_chunks, self.n_steps, self.chunk_size) + trailing, fill, dtype
        )
        for c, b in zip(*np.nonzero(self.real)):
            seq = values[self.position[c, b]]
            out[c, : len(seq), b] = seq
        return out

    def scatter_steps(self, steps):
        """Inverse of :meth:`gather_steps`: a list of ``(length_i, ...)`` arrays."""
        out = [None] * self.n_sequences
        for c, b in zip(*np.nonzero(self.real)):
            out[self.position[c, b]] = steps[c, : self.lengths[c, b], b].copy()
        return out


def make_batch(sequences, n_chunks=1, dtype=np.float64):
    """Pad a list of sequences into a chunk-major :class:`Batch`.

    Sequences are sorted by decreasing length and dealt to the chunks in turn,
    so chunks get similar lengths and every chunk stays sorted.

    Parameters
    ----------
    sequences : list of ndarray
        Each of shape ``(length_i, n_features)`` with ``length_i >= 1``.
    n_chunks : int, default=1
        Number of chunks (threads); reduced when there are fewer sequences.
    dtype : dtype, default=np.float64
        Floating dtype of the padded inputs.

    Returns
    -------
    batch : Batch
    """
    n = len(sequences)
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=n)
    n_chunks = max(1, min(int(n_chunks), n))
    chunk_size = -(-n // n_chunks)
    n_steps = int(lengths.max())
    n_features = sequences[0].shape[1]
    # Stable sort keeps equal-length sequences in their given order, so a
    # batch is a deterministic function of its input.
    order = np.argsort(-lengths, kind="stable")
    position = np.full((n_chunks, chunk_size), -1, dtype=np.int64)
    for c in range(n_chunks):
        members = order[c::n_chunks]
        position[c, : len(members)] = members
    batch_lengths = np.where(position >= 0, lengths[np.maximum(position, 0)], 0)
    X = np.zeros((n_chunks, n_steps, chunk_size, n_features), dtype=dtype)
    for c in range(n_chunks):
        for b in range(chunk_size):
            i = position[c, b]
            if i >= 0:
                X[c, : lengths[i], b] = sequences[i]
    return Batch(X=X, lengths=batch_lengths, position=position)
