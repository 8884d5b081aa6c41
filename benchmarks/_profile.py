"""Where the time of one training step goes, for skrnn and PyTorch.

skrnn's step is split into

- the forward and backward kernels, timed by calling
  :func:`skrnn._runtime.layer_forward` and :func:`skrnn._runtime.layer_backward`
  directly on the arrays the network would pass them;
- inside the kernels, the GEMMs: a skeleton kernel makes exactly the matrix
  products the LSTM kernels make (per block of steps the input projection,
  per step one recurrent product forward and one backward, per block of
  stored steps the weight and bias gradients), with the same shapes, layouts
  and BLAS, and nothing else; the rest of the kernel time is the elementwise
  work (gate loop, transcendental functions, copies into the stored state);
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

from skrnn._kernels import ACTIVATION_CODES, CELL_GATES
from skrnn._runtime import layer_backward, layer_forward, store_width
from skrnn._runtime._dispatch import LayerState, LayerWeights, _block_steps

from ._cases import SkrnnCase, TorchCase, make_data
from ._timing import interleaved


@njit(cache=True, nogil=True)
def _forward_gemms(X_2d, W_ih, W_hh, h, rec, proj, n_steps, n_block):
    n_rows = h.shape[1]
    for u in range(0, n_steps, n_block):
        n = min(n_block, n_steps - u)
        X_block = X_2d[u * n_rows : (u + n) * n_rows]
        out = proj[: W_ih.shape[0] * n * n_rows].reshape(W_ih.shape[0], n * n_rows)
        np.dot(W_ih, X_block.T, out=out)
        for _ in range(n):
            np.dot(W_hh, h, out=rec)


@njit(cache=True, nogil=True)
def _backward_gemms(dA, da, W_hh, dh, X_2d, H_2d, ones, dW_ih, dW_hh, n_block):
    n_steps = H_2d.shape[0] // da.shape[1]
    n_rows = da.shape[1]
    for end in range(n_steps, 0, -n_block):
        start = max(0, end - n_block)
        for _ in range(start, end):
            np.dot(W_hh.T, da, out=dh)
        width = (end - start) * n_rows
        dA_block = dA[: da.shape[0] * width].reshape(da.shape[0], width)
        np.dot(dA_block, X_2d[start * n_rows : end * n_rows], out=dW_ih)
        np.dot(dA_block, H_2d[start * n_rows : end * n_rows], out=dW_hh)
        np.dot(dA_block, ones[:width])


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
            self.cell, self.batch.X, self.batch.lengths, LayerWeights(*self.weights),
            LayerState(self.h0, self.c0), reverse=False, act=self.act,
            H_out=self.H_out, h_off=0, final=LayerState(self.h_n, self.c_n),
            store=self.store,
        )  # fmt: skip

    def backward(self):
        layer_backward(
            self.cell, self.batch.X, self.batch.lengths, LayerWeights(*self.weights),
            reverse=False, act=self.act, segment_steps=0, store=self.store,
            dH_out=self.H_out, h_off=0,
            d_final=LayerState(self.dh_n, np.zeros_like(self.c0)), dX=self.dX,
            d_weights=LayerWeights(*self.grads),
            d_initial=LayerState(np.empty_like(self.h0), np.empty_like(self.c0)),
        )  # fmt: skip


class _GemmSkeleton:
    """The LSTM kernels' matrix products alone, same shapes, single chunk."""

    def __init__(self, case):
        shape = case.shape
        dtype = case.theta.dtype
        B, T, H, n_in = shape.batch, shape.steps, shape.hidden, shape.inputs
        G = CELL_GATES[shape.cell]
        self.n_block = _block_steps(B, T, B * G * H * np.dtype(dtype).itemsize)
        width = self.n_block * B
        rng = np.random.default_rng(0)
        self.X_2d = rng.standard_normal((T * B, n_in)).astype(dtype)
        self.W_ih = rng.standard_normal((G * H, n_in)).astype(dtype)
        self.W_hh = rng.standard_normal((G * H, H)).astype(dtype)
        self.h = rng.standard_normal((H, B)).astype(dtype)
        self.rec = np.empty((G * H, B), dtype)
        # Flat, as in the kernels: a block's view of them is contiguous.
        self.proj = np.empty(G * H * width, dtype)
        self.dA = rng.standard_normal(G * H * width).astype(dtype)
        self.da = rng.standard_normal((G * H, B)).astype(dtype)
        self.dh = np.empty((H, B), dtype)
        self.H_2d = rng.standard_normal((T * B, H)).astype(dtype)
        self.ones = np.ones(width, dtype)
        self.dW_ih = np.empty_like(self.W_ih)
        self.dW_hh = np.empty_like(self.W_hh)
        self.n_steps = T

    def forward(self):
        _forward_gemms(
            self.X_2d, self.W_ih, self.W_hh, self.h, self.rec, self.proj,
            self.n_steps, self.n_block,
        )  # fmt: skip

    def backward(self):
        _backward_gemms(
            self.dA, self.da, self.W_hh, self.dh, self.X_2d, self.H_2d, self.ones,
            self.dW_ih, self.dW_hh, self.n_block,
        )  # fmt: skip


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
