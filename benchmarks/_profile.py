"""Where the time of one training step goes, for skrnn and PyTorch.

skrnn's step is split into

- the forward and backward kernels, timed by calling
  :func:`skrnn._kernels.layer_forward` and :func:`skrnn._kernels.layer_backward`
  directly on the arrays the network would pass them;
- inside the kernels, the GEMMs: a skeleton kernel makes exactly the matrix
  products the kernels make (the input projection of all steps, one
  recurrent product per step forward and one backward, the weight gradients
  after the time loop), with the same shapes, layouts and BLAS, and nothing
  else; the rest of the kernel time is the elementwise work (gate loop,
  transcendental functions, copies into the stored state);
- outside the kernels: everything ``loss_and_grad`` does in Python and NumPy
  around them (allocation of the stored state, head, loss, views).

PyTorch's step is split into its forward pass (with autograd recording) and
the rest (``backward``).

Everything runs single-threaded, so that the parts add up.
"""

import numba
import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from skrnn._kernels import (
    ACTIVATION_CODES,
    CELL_GATES,
    layer_backward,
    layer_forward,
    store_width,
)

from ._cases import SkrnnCase, TorchCase, make_data
from ._timing import interleaved


@njit(cache=True, nogil=True)
def _forward_gemms(X_2d, W_ih, W_hh, h, rec, n_steps):
    X_proj = np.dot(X_2d, W_ih.T)
    for _ in range(n_steps):
        np.dot(h, W_hh.T, out=rec)
    return X_proj


@njit(cache=True, nogil=True)
def _backward_gemms(dA, W_hh, dh, X_2d, H_2d, dW_ih, dW_hh):
    n_slots, n_rows, n_gates = dA.shape
    for slot in range(n_slots - 1, -1, -1):
        np.dot(dA[slot], W_hh, out=dh)
    dA_2d = dA.reshape(n_slots * n_rows, n_gates)
    np.dot(dA_2d.T, X_2d, out=dW_ih)
    np.dot(dA_2d.T, H_2d, out=dW_hh)


class _KernelCalls:
    """Direct calls of one layer's kernels with the network's arrays."""

    def __init__(self, case):
        shape, net = case.shape, case.network
        P = net.views(case.theta)
        self.cell = shape.cell
        dtype = case.theta.dtype
        batch = case.batch
        C, T, Bc = batch.n_chunks, batch.n_steps, batch.chunk_size
        H = shape.hidden
        c_size = H if shape.cell == "lstm" else 0
        self.batch = batch
        self.weights = (
            P["weight_ih_l0"],
            P["weight_hh_l0"],
            P["bias_ih_l0"],
            P["bias_hh_l0"],
        )
        self.h0 = np.zeros((C, Bc, H), dtype)
        self.c0 = np.zeros((C, Bc, c_size), dtype)
        self.H_out = np.zeros((C, 0, Bc, H), dtype)
        self.h_n = np.empty((C, Bc, H), dtype)
        self.c_n = np.empty((C, Bc, c_size), dtype)
        self.store = np.empty((C, T, Bc, store_width(shape.cell, H)), dtype)
        self.dh_n = np.ones((C, Bc, H), dtype) / Bc
        self.dX = np.zeros((C, 0, Bc, shape.inputs), dtype)
        self.grads = [np.empty_like(w) for w in self.weights]
        self.act = ACTIVATION_CODES["tanh"]

    def forward(self):
        layer_forward(
            self.cell,
            self.batch.X,
            self.batch.lengths,
            *self.weights,
            self.h0,
            self.c0,
            False,
            self.act,
            self.H_out,
            0,
            self.h_n,
            self.c_n,
            self.store,
        )

    def backward(self):
        layer_backward(
            self.cell,
            self.batch.X,
            self.batch.lengths,
            *self.weights,
            self.h0,
            self.c0,
            False,
            self.act,
            0,
            self.store,
            self.H_out,
            0,
            self.dh_n,
            np.zeros_like(self.c0),
            self.dX,
            *self.grads,
            np.empty_like(self.h0),
            np.empty_like(self.c0),
        )


class _GemmSkeleton:
    """The kernels' matrix products alone, same shapes, single chunk."""

    def __init__(self, case):
        shape = case.shape
        dtype = case.theta.dtype
        B, T, H, n_in = shape.batch, shape.steps, shape.hidden, shape.inputs
        G = CELL_GATES[shape.cell]
        rng = np.random.default_rng(0)
        self.X_2d = rng.standard_normal((T * B, n_in)).astype(dtype)
        self.W_ih = rng.standard_normal((G * H, n_in)).astype(dtype)
        self.W_hh = rng.standard_normal((G * H, H)).astype(dtype)
        self.h = rng.standard_normal((B, H)).astype(dtype)
        self.rec = np.empty((B, G * H), dtype)
        self.dA = rng.standard_normal((T, B, G * H)).astype(dtype)
        self.dh = np.empty((B, H), dtype)
        self.H_2d = rng.standard_normal((T * B, H)).astype(dtype)
        self.dW_ih = np.empty_like(self.W_ih)
        self.dW_hh = np.empty_like(self.W_hh)
        self.n_steps = T

    def forward(self):
        _forward_gemms(self.X_2d, self.W_ih, self.W_hh, self.h, self.rec, self.n_steps)

    def backward(self):
        _backward_gemms(
            self.dA, self.W_hh, self.dh, self.X_2d, self.H_2d, self.dW_ih, self.dW_hh
        )


def _torch_forward(torch_case):
    def run():
        for p in torch_case.params:
            p.grad = None
        torch_case.head(torch_case.final_state(torch_case.X))

    return run


def profile_step(shape, policy, *, with_torch):
    """Break one single-threaded training step down into its parts.

    Parameters
    ----------
    shape : Shape
        Configuration (its ``threads`` must be 1).
    policy : TimingPolicy
        Repeats of each measurement.
    with_torch : bool
        Also split PyTorch's step into forward and backward.

    Returns
    -------
    parts : dict
        Median seconds of ``step``, ``forward_kernel``, ``backward_kernel``,
        ``forward_gemm``, ``backward_gemm``, and derived ``outside_kernels``
        and ``elementwise`` (kernel time not spent in GEMMs); with PyTorch,
        ``torch_step`` and ``torch_forward``.
    """
    assert shape.threads == 1
    X, Y = make_data(shape)
    case = SkrnnCase(shape, X, Y)
    calls = _KernelCalls(case)
    skeleton = _GemmSkeleton(case)
    numba.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        calls.forward()  # the backward kernel reads what forward stored
        step, fwd, bwd, fwd_gemm, bwd_gemm = interleaved(
            [
                (case.train_step, case.context),
                (calls.forward, case.context),
                (calls.backward, case.context),
                (skeleton.forward, case.context),
                (skeleton.backward, case.context),
            ],
            policy,
        )
    parts = {
        "step": step.median,
        "forward_kernel": fwd.median,
        "backward_kernel": bwd.median,
        "forward_gemm": fwd_gemm.median,
        "backward_gemm": bwd_gemm.median,
    }
    parts["outside_kernels"] = step.median - fwd.median - bwd.median
    parts["elementwise"] = fwd.median + bwd.median - fwd_gemm.median - bwd_gemm.median
    if with_torch:
        peer = TorchCase(shape, X, Y, case.weights())
        torch_step, torch_fwd = interleaved(
            [(peer.train_step, peer.context), (_torch_forward(peer), peer.context)],
            policy,
        )
        parts["torch_step"] = torch_step.median
        parts["torch_forward"] = torch_fwd.median
    return parts
