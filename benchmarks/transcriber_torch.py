"""The PyTorch side of ``benchmarks/transcriber.py``.

A bidirectional GRU, a linear layer to the labels plus the blank (last), and
``CTCLoss(blank=n_labels)``, written as a plain PyTorch training loop:
padded batches packed with ``pack_padded_sequence`` (so the backward
direction starts at each sequence's last real frame), Adam, gradient norm
clipping, best-path decoding. Imported by ``benchmarks/transcriber.py`` when
PyTorch is installed.
"""

import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class GRUCTC(nn.Module):
    """Bidirectional GRU + Linear, per-frame log-probabilities, blank last."""

    def __init__(self, n_features, n_labels, hidden=64, bidirectional=True):
        super().__init__()
        self.gru = nn.GRU(
            n_features, hidden, batch_first=True, bidirectional=bidirectional
        )
        self.output = nn.Linear((2 if bidirectional else 1) * hidden, n_labels + 1)

    def forward(self, x, lengths):
        """``(T_max, B, n_labels + 1)`` log-probabilities, time-major."""
        packed = pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=False)
        return self.output(out).log_softmax(2)


def padded(X, dtype=torch.float32):
    """A list of ``(T_i, F)`` arrays as a ``(B, T_max, F)`` tensor and lengths."""
    lengths = torch.tensor([len(x) for x in X])
    out = torch.zeros(len(X), int(lengths.max()), X[0].shape[1], dtype=dtype)
    for i, x in enumerate(X):
        out[i, : len(x)] = torch.as_tensor(x, dtype=dtype)
    return out, lengths


def _targets(Y):
    flat = torch.tensor([label for y in Y for label in y], dtype=torch.long)
    return flat, torch.tensor([len(y) for y in Y])


def greedy_decode(model, X, batch_size=256):
    """Best path of every sequence: argmax per frame, merge repeats, drop blanks."""
    blank = model.output.out_features - 1
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            chunk = X[start : start + batch_size]
            x, lengths = padded(chunk)
            best = model(x, lengths).argmax(2).numpy()
            for b, T in enumerate(lengths.tolist()):
                path = best[:T, b]
                keep = np.ones(T, dtype=bool)
                keep[1:] = path[1:] != path[:-1]
                path = path[keep]
                out.append(path[path != blank].tolist())
    return out


def train(
    X, Y, n_labels, *, hidden=64, learning_rate=3e-3, batch_size=32, clip=5.0,
    epochs=30, threads=1, seed=0,
):  # fmt: skip
    """Train the model; returns it and the wall time of the training loop.

    ``X``: list of ``(T_i, F)`` float arrays (already standardised); ``Y``:
    list of label sequences, labels in ``0 .. n_labels - 1``.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = GRUCTC(X[0].shape[1], n_labels, hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    ctc = nn.CTCLoss(blank=n_labels)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for first in range(0, len(X), batch_size):
            rows = order[first : first + batch_size]
            x, lengths = padded([X[i] for i in rows])
            flat, target_lengths = _targets([Y[i] for i in rows])
            optimizer.zero_grad()
            loss = ctc(model(x, lengths), flat, lengths, target_lengths)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
    return model, time.perf_counter() - start


class StepCase:
    """One training step (forward, CTC loss, backward) on a fixed batch.

    Starts from given weights (PyTorch names, as skrnn's ``get_weights``
    gives them); the objective is ``sum(weights * per-sequence CTC loss)``.
    """

    def __init__(self, weights, X, Y, row_weights, threads, n_labels):
        self.threads = threads
        self.model = GRUCTC(X[0].shape[1], n_labels, weights["weight_hh_l0"].shape[1])
        with torch.no_grad():
            for name, param in self.model.gru.named_parameters():
                param.copy_(torch.from_numpy(weights[name]))
            self.model.output.weight.copy_(torch.from_numpy(weights["output.weight"]))
            self.model.output.bias.copy_(torch.from_numpy(weights["output.bias"]))
        self.x, self.lengths = padded(X)
        self.flat, self.target_lengths = _targets(Y)
        self.row_weights = torch.tensor(row_weights, dtype=torch.float32)
        self.blank = n_labels

    def context(self):
        import contextlib

        @contextlib.contextmanager
        def limited():
            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)
            yield

        return limited()

    def train_step(self):
        for p in self.model.parameters():
            p.grad = None
        losses = nn.functional.ctc_loss(
            self.model(self.x, self.lengths), self.flat, self.lengths,
            self.target_lengths, blank=self.blank, reduction="none",
        )  # fmt: skip
        loss = (self.row_weights * losses).sum()
        loss.backward()
        return loss

    def loss_and_grads(self):
        """The objective and every gradient by (PyTorch) name."""
        with self.context():
            loss = float(self.train_step().detach())
        grads = {n: p.grad.numpy().copy() for n, p in self.model.gru.named_parameters()}
        grads["output.weight"] = self.model.output.weight.grad.numpy().copy()
        grads["output.bias"] = self.model.output.bias.grad.numpy().copy()
        return loss, grads
