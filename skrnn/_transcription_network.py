"""The transcriber's network: per-step logits over the labels and a blank, CTC loss.

:class:`TranscriptionNetwork` is a per-step :class:`~skrnn._network.RecurrentNetwork`
whose head emits, at every step, one score per label of ``classes_`` and one
for the blank, last. Its data term is the connectionist temporal
classification loss of each whole sequence (:func:`skrnn._ctc.ctc_loss`),
which does not decompose over steps: :meth:`TranscriptionNetwork._head_loss`
gathers the rows of a batch into the CTC kernels' time-major layout, and
scatters the gradient back.
"""

import numpy as np

from ._ctc import ctc_loss
from ._network import RecurrentNetwork


def batch_logits(Z, batch):
    """Per-step head outputs of a batch in the CTC kernels' layout.

    Parameters
    ----------
    Z : ndarray of shape (n_chunks * n_steps * chunk_size, n_outputs)
        The head's rows in batch layout (what the network's forward pass
        computes).
    batch : Batch
        The batch they were computed from.

    Returns
    -------
    logits : ndarray of shape (n_steps, n_real_rows, n_outputs)
        Time-major, C-contiguous: the real rows of the batch, in the order of
        ``np.nonzero(batch.real)``.
    rows : tuple of ndarray
        ``(chunks, columns)`` of those rows, to scatter a gradient back.
    """
    C, T, Bc = batch.n_chunks, batch.n_steps, batch.chunk_size
    Z4 = Z.reshape(C, T, Bc, -1)
    rows = np.nonzero(batch.real)
    # Advanced indices on axes 0 and 2 come first: (n_rows, T, K).
    logits = np.ascontiguousarray(Z4[rows[0], :, rows[1]].transpose(1, 0, 2))
    return logits, rows


class TranscriptionNetwork(RecurrentNetwork):
    """A per-step recurrent network trained by CTC (see the module docstring).

    It takes :class:`~skrnn._network.RecurrentNetwork`'s arguments; the
    transcriber builds it with ``per_step=True`` and ``loss="log_loss"``,
    which makes :meth:`forward` return frame posteriors (a softmax over the
    labels and the blank) and the pre-activations the CTC loss reads.

    In :meth:`loss_and_grad`, ``Y`` is the list of target label ids of the
    batch's sequences (in the order the batch was built from) and
    ``weights`` is ``(n_chunks, chunk_size)``: the weight of each row's
    sequence loss (zero for dummy rows and for pairs left out of the loss).
    The data term is ``sum(weights * ctc_loss)``.
    """

    def _head_loss(self, Z, batch, Y, weights):
        if not np.isfinite(Z).all():
            # Diverged: a NaN loss, which the solvers report as divergence
            # (as for the row losses), instead of the CTC kernels' refusal.
            return float("nan"), np.zeros_like(Z)
        logits, rows = batch_logits(Z, batch)
        lengths = batch.lengths[rows]
        targets = [Y[i] for i in batch.position[rows]]
        row_weight = np.asarray(weights, dtype=np.float64)[rows]
        # Pairs of likelihood zero come with weight 0 (left out of the loss):
        # the kernel gives them loss 0 and gradient 0 instead of inf.
        losses, grad = ctc_loss(logits, targets, lengths, zero_infinity=True)
        loss = float(np.dot(row_weight, losses))
        grad *= row_weight.astype(grad.dtype)[None, :, None]
        C, T, Bc = batch.n_chunks, batch.n_steps, batch.chunk_size
        dZ = np.zeros((C, T, Bc, Z.shape[1]), dtype=Z.dtype)
        dZ[rows[0], :, rows[1]] = grad.transpose(1, 0, 2)
        return loss, dZ.reshape(Z.shape)
