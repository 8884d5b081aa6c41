"""Helpers that several test modules share: data, finite differences, PyTorch.

Kept here once so that a fix reaches every test that uses them.
"""

import numpy as np

from skrnn._kernels import CELLS


def ragged(n=24, n_features=2, seed=0, low=2, high=9):
    """``n`` sequences of ``low`` to ``high - 1`` steps of standard normals."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(rng.integers(low, high), n_features)) for _ in range(n)]


def finite_difference(fun, value, eps=1e-6):
    """Central differences of the scalar ``fun()`` with respect to ``value``.

    ``value`` is perturbed in place, one entry at a time, and restored.
    """
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        old = value[index]
        value[index] = old + eps
        plus = fun()
        value[index] = old - eps
        minus = fun()
        value[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def torch_module(torch, cell):
    """The ``torch.nn`` class with ``cell``'s weights and equations.

    Raises a ValueError naming the cells that have one, for a cell that has
    none (or is unknown), instead of a KeyError deep in a parity test.
    """
    spec = CELLS.get(cell)
    if spec is None or spec.torch_module is None:
        known = sorted(name for name, s in CELLS.items() if s.torch_module)
        raise ValueError(
            f"No PyTorch module for cell {cell!r}; the PyTorch parity helpers "
            f"support {known}. Give the cell's CellSpec a torch_module."
        )
    return getattr(torch.nn, spec.torch_module)
