"""The benchmarked computation, once per implementation.

A case is one shape (cell, dtype, threads, batch ``B``, hidden ``H``, steps
``T``, inputs ``I``) of a many-to-one network: one recurrent layer, a linear
head on the final hidden state and half the mean squared error. Each side
offers two callables:

- ``train_step``: forward pass, backpropagation through time and the
  gradient of every parameter (no optimiser step);
- ``infer``: forward pass to the predictions, without keeping anything for
  a backward pass.

All sides start from the same weights (skrnn's initialisation, copied) and
the same data, and :func:`check_agreement` verifies that they compute the
same loss, gradient and predictions before anything is timed.
"""

import contextlib
from dataclasses import asdict, dataclass

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from skrnn._batching import make_batch
from skrnn._kernels import CELL_GATES
from skrnn._network import RecurrentNetwork, Workspace

from ._numpy_peer import NumpyNetwork


@dataclass(frozen=True)
class Shape:
    """One benchmarked configuration."""

    cell: str
    dtype: str
    threads: int
    batch: int
    hidden: int
    steps: int
    inputs: int

    def to_dict(self):
        return asdict(self)


def gemm_flops(shape, mode):
    """Floating-point operations of the matrix products of one call.

    Counts the GEMMs of the recurrent layer, ``2 m n k`` each: the forward
    pass does ``2 B T G H (I + H)`` (input and recurrent projections, ``G``
    gates); the backward pass adds the recurrent gradient ``dh = dA W_hh``
    and the weight gradients ``dW_hh`` and ``dW_ih``, ``2 B T G H (2 H + I)``
    (the input gradient is not needed for a first layer). The head and the
    elementwise gate arithmetic are left out: they are the same for every
    implementation and small next to the GEMMs at the sizes where throughput
    matters.

    Parameters
    ----------
    shape : Shape
        The configuration.
    mode : {"train", "infer"}
        Training step or inference.

    Returns
    -------
    flops : float
    """
    B, T, H, n_in = shape.batch, shape.steps, shape.hidden, shape.inputs
    G = CELL_GATES[shape.cell]
    forward = 2.0 * B * T * G * H * (n_in + H)
    if mode == "infer":
        return forward
    return forward + 2.0 * B * T * G * H * (2 * H + n_in)


def make_data(shape, seed=0):
    """Inputs ``(B, T, I)`` and targets ``(B, 1)`` of a shape, in its dtype."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((shape.batch, shape.steps, shape.inputs))
    Y = rng.standard_normal((shape.batch, 1))
    return X.astype(shape.dtype), Y.astype(shape.dtype)


class SkrnnCase:
    """skrnn's side: :class:`~skrnn._network.RecurrentNetwork` on a batch.

    The batch is split into one chunk per thread (numba threads, with
    single-threaded BLAS inside the kernels), as the estimators do.
    """

    name = "skrnn"

    def __init__(self, shape, X, Y, seed=0):
        self.shape = shape
        self.network = RecurrentNetwork(shape.cell, shape.inputs, (shape.hidden,), 1)
        self.theta = self.network.init_params(seed, np.dtype(shape.dtype))
        self.batch = make_batch(list(X), n_chunks=shape.threads, dtype=shape.dtype)
        self.Y = self.batch.gather(Y)
        self.row_weights = self.batch.gather(np.full(shape.batch, 1.0 / shape.batch))
        self.grad = np.empty_like(self.theta)
        # As in a fit: the stored states of successive steps reuse one memory.
        self.workspace = Workspace()

    def weights(self):
        """Copies of the parameters by (PyTorch) name."""
        return {k: v.copy() for k, v in self.network.views(self.theta).items()}

    @contextlib.contextmanager
    def context(self):
        numba.set_num_threads(self.shape.threads)
        with threadpool_limits(limits=1, user_api="blas"):
            yield

    def train_step(self):
        return self.network.loss_and_grad(
            self.theta, self.batch, self.Y, self.row_weights, grad=self.grad,
            workspace=self.workspace,
        )  # fmt: skip

    def infer(self):
        return self.network.forward(self.theta, self.batch)

    def loss_grads_predictions(self):
        """Loss, gradients by name and predictions in sequence order."""
        with self.context():
            loss, grad = self.train_step()
            pred = self.batch.scatter(self.infer())
        return loss, self.network.views(grad.copy()), pred


class NumpyCase:
    """The NumPy reference side (see :mod:`benchmarks._numpy_peer`)."""

    name = "NumPy"

    def __init__(self, shape, X, Y, weights):
        self.shape = shape
        self.net = NumpyNetwork(shape.cell, weights)
        self.X = np.ascontiguousarray(X.transpose(1, 0, 2))
        self.Y = Y

    def context(self):
        return threadpool_limits(limits=self.shape.threads, user_api="blas")

    def train_step(self):
        return self.net.loss_and_grad(self.X, self.Y)

    def infer(self):
        return self.net.forward(self.X)

    def loss_grads_predictions(self):
        with self.context():
            loss, grads = self.train_step()
            pred = self.infer()
        return loss, grads, pred


class TorchCase:
    """PyTorch's side: ``nn.RNN``/``nn.LSTM``/``nn.GRU`` and an ``nn.Linear`` head.

    Inputs are sequence-first, PyTorch's native layout; parameters are the
    module's own (copied from skrnn's initialisation). ``train_step`` resets
    the gradients to ``None``, runs the forward pass and ``backward``;
    ``infer`` runs under ``torch.inference_mode``.
    """

    name = "PyTorch"

    def __init__(self, shape, X, Y, weights):
        import torch
        from torch import nn

        self.torch = torch
        self.shape = shape
        dtype = getattr(torch, shape.dtype)
        module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[shape.cell]
        self.rnn = module(shape.inputs, shape.hidden, dtype=dtype)
        self.head = nn.Linear(shape.hidden, 1, dtype=dtype)
        with torch.no_grad():
            for name, param in self.rnn.named_parameters():
                param.copy_(torch.from_numpy(weights[name]))
            self.head.weight.copy_(torch.from_numpy(weights["output.weight"]))
            self.head.bias.copy_(torch.from_numpy(weights["output.bias"]))
        self.params = list(self.rnn.parameters()) + list(self.head.parameters())
        self.X = torch.from_numpy(np.ascontiguousarray(X.transpose(1, 0, 2)))
        self.Y = torch.from_numpy(Y)

    @contextlib.contextmanager
    def context(self):
        if self.torch.get_num_threads() != self.shape.threads:
            self.torch.set_num_threads(self.shape.threads)
        yield

    def final_state(self, X):
        """Hidden state of the (only) layer after the last step."""
        _, state = self.rnn(X)
        h_n = state[0] if isinstance(state, tuple) else state
        return h_n[-1]

    def train_step(self):
        for p in self.params:
            p.grad = None
        pred = self.head(self.final_state(self.X))
        loss = 0.5 * self.torch.nn.functional.mse_loss(pred, self.Y)
        loss.backward()
        return loss

    def infer(self):
        with self.torch.inference_mode():
            return self.head(self.final_state(self.X))

    def loss_grads_predictions(self):
        with self.context():
            loss = float(self.train_step().detach())
            pred = self.infer().numpy()
        grads = {f"{n}": p.grad.numpy() for n, p in self.rnn.named_parameters()}
        grads["output.weight"] = self.head.weight.grad.numpy()
        grads["output.bias"] = self.head.bias.grad.numpy()
        return loss, grads, pred


def check_agreement(skrnn_case, peer):
    """Largest relative differences between two sides' results.

    Parameters
    ----------
    skrnn_case : SkrnnCase
    peer : NumpyCase or TorchCase

    Returns
    -------
    differences : dict
        ``loss``, ``gradient`` (largest over parameters of
        ``|g - g_peer| / |g_peer|`` in the L2 norm) and ``prediction``.
    """
    loss_a, grads_a, pred_a = skrnn_case.loss_grads_predictions()
    loss_b, grads_b, pred_b = peer.loss_grads_predictions()

    def rel(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))

    return {
        "loss": rel(loss_a, loss_b),
        "gradient": max(rel(grads_a[name], grads_b[name]) for name in grads_b),
        "prediction": rel(pred_a, pred_b),
    }


def agreement_tolerance(dtype):
    """Relative difference above which two sides do not compute the same thing."""
    return 2e-3 if np.dtype(dtype) == np.float32 else 1e-8
