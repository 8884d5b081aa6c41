"""Slow, obviously correct NumPy references for the convolution front end.

One sequence at a time, float64, plain loops over output steps and taps.
A layer is a 1-D convolution in PyTorch's ``Conv1d`` layout (``W`` of shape
``(filters, in_channels, width)``) followed by ReLU; the sequence is padded
with ``left`` zeros before its first step and ``right`` after its last, where
``"same"`` pads ``width // 2`` on both sides and ``"causal"`` ``width - 1``
on the left only, and output step ``t`` reads the padded steps
``t * stride .. t * stride + width - 1``, for ``t < ceil(L / stride)``.
"""

import numpy as np

__all__ = [
    "naive_conv_backward",
    "naive_conv_forward",
    "naive_stack_backward",
    "naive_stack_forward",
    "padding_sides",
]


def padding_sides(width, padding):
    """Zeros ``(left, right)`` of ``padding`` around a sequence."""
    if padding == "same":
        return width // 2, width // 2
    if padding == "causal":
        return width - 1, 0
    raise ValueError(f"unknown padding {padding!r}")


def _padded(x, width, padding):
    left, right = padding_sides(width, padding)
    L, n_in = x.shape
    out = np.zeros((left + L + right, n_in))
    out[left : left + L] = x
    return out


def naive_conv_forward(x, W, bias, stride, padding):
    """One layer on one sequence ``x`` ``(L, I)``: ``(ceil(L / stride), F)``."""
    n_filters, _, width = W.shape
    xp = _padded(np.asarray(x, dtype=np.float64), width, padding)
    n_out = -(-x.shape[0] // stride)
    y = np.zeros((n_out, n_filters))
    for t in range(n_out):
        for f in range(n_filters):
            total = bias[f]
            for k in range(width):
                total += np.dot(W[f, :, k], xp[t * stride + k])
            y[t, f] = max(total, 0.0)
    return y


def naive_conv_backward(x, W, bias, stride, padding, dy):
    """Gradients ``(dx, dW, db)`` of ``sum(dy * y)`` for one layer and sequence."""
    n_filters, _, width = W.shape
    left, _ = padding_sides(width, padding)
    xp = _padded(np.asarray(x, dtype=np.float64), width, padding)
    y = naive_conv_forward(x, W, bias, stride, padding)
    dxp = np.zeros_like(xp)
    dW = np.zeros(W.shape)
    db = np.zeros(n_filters)
    for t in range(y.shape[0]):
        for f in range(n_filters):
            if y[t, f] <= 0.0:
                continue
            g = dy[t, f]
            db[f] += g
            for k in range(width):
                dW[f, :, k] += g * xp[t * stride + k]
                dxp[t * stride + k] += g * W[f, :, k]
    dx = dxp[left : left + x.shape[0]]
    return dx, dW, db


def naive_stack_forward(x, params, strides, padding):
    """Layers in turn: ``params`` is a list of ``(W, bias)``; returns each output."""
    outputs = []
    for (W, bias), stride in zip(params, strides):
        x = naive_conv_forward(x, W, bias, stride, padding)
        outputs.append(x)
    return outputs


def naive_stack_backward(x, params, strides, padding, dy):
    """``(dx, [(dW, db), ...])`` of ``sum(dy * output)`` through every layer."""
    inputs = [x] + naive_stack_forward(x, params, strides, padding)[:-1]
    grads = [None] * len(params)
    for k in reversed(range(len(params))):
        W, bias = params[k]
        dy, dW, db = naive_conv_backward(inputs[k], W, bias, strides[k], padding, dy)
        grads[k] = (dW, db)
    return dy, grads
