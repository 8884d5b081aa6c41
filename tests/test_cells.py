"""The cell registry: every cell's spec agrees with its kernels, and code that
reads the registry refuses an unknown cell by naming the cells it knows."""

import dataclasses
import inspect
import subprocess
import sys

import numpy as np
import pytest

from skrnn._kernels import CELLS, cell_spec
from skrnn._runtime import layer_forward
from skrnn._runtime._dispatch import LayerState, LayerWeights, _run_kernel
from skrnn.onnx import onnx_spec
from tests._helpers import torch_module
from tests.conftest import CELLS as TEST_CELLS

FORWARD_NAMES = {
    "X", "lengths", "W_ih", "W_hh", "b_ih", "b_hh", "h0", "c0", "reverse", "act",
    "n_block", "H_out", "h_off", "h_n", "c_n", "store",
}  # fmt: skip
BACKWARD_NAMES = {
    "X", "lengths", "W_ih", "W_hh", "b_ih", "b_hh", "reverse", "act",
    "segment_steps", "n_block", "store", "dH_out", "h_off", "dh_n", "dc_n", "dX",
    "dW_ih", "dW_hh", "db_ih", "db_hh", "dh0", "dc0",
}  # fmt: skip


def _parameters(kernel):
    return set(inspect.signature(getattr(kernel, "py_func", kernel)).parameters)


def test_tests_read_the_registry():
    assert list(CELLS) == TEST_CELLS
    assert set(CELLS) >= {"rnn", "lstm", "gru"}


@pytest.mark.parametrize("cell", TEST_CELLS)
def test_spec_agrees_with_its_kernels(cell):
    spec = CELLS[cell]
    assert spec.name == cell
    assert spec.store_width >= spec.gates + 1  # h_prev and the gates at least
    forward, backward = (
        _parameters(spec.forward_chunk),
        _parameters(spec.backward_chunk),
    )
    assert forward <= FORWARD_NAMES
    assert backward <= BACKWARD_NAMES
    # The cell state appears in both kernels exactly when the spec says so.
    assert ({"c0", "c_n"} <= forward) == spec.has_cell_state
    assert ({"dc_n", "dc0"} <= backward) == spec.has_cell_state
    assert ("act" in forward) == spec.uses_activation
    assert spec.forget_gate is None or 0 <= spec.forget_gate < spec.gates
    if spec.onnx_op is not None:
        assert sorted(spec.onnx_gate_order) == list(range(spec.gates))
    # The stream step takes the one interface the streaming kernel calls.
    step = inspect.signature(spec.stream_step.py_func).parameters
    assert list(step) == ["a", "a_h", "bias", "b_h", "act", "h", "c"]
    assert 0 <= spec.stream_apart_gates < spec.gates


def test_stream_kernel_reads_the_registry():
    from skrnn._kernels import _stream

    assert list(_stream.CELL_CODES) == list(CELLS)
    assert list(_stream.CELL_CODES.values()) == list(range(len(CELLS)))
    assert list(_stream._GATES) == [spec.gates for spec in CELLS.values()]
    apart = [spec.stream_apart_gates for spec in CELLS.values()]
    assert list(_stream._APART) == apart


def test_pytorch_gate_counts():
    assert {name: CELLS[name].gates for name in ("rnn", "lstm", "gru")} == {
        "rnn": 1,
        "lstm": 4,
        "gru": 3,
    }


def test_unknown_cell_is_named_with_the_known_ones():
    with pytest.raises(
        ValueError, match=r"cell must be one of \[.*'lstm'.*\], got 'mgu'"
    ):
        cell_spec("mgu")
    with pytest.raises(ValueError, match="cell must be one of"):
        onnx_spec("mgu")


@pytest.fixture
def cell_without_peers(monkeypatch):
    """A registered cell (the GRU's kernels) with no ONNX operator or torch module."""
    spec = dataclasses.replace(
        CELLS["gru"], name="mgu", onnx_op=None, torch_module=None
    )
    monkeypatch.setitem(CELLS, "mgu", spec)
    return spec


def test_onnx_refuses_a_cell_without_an_operator(cell_without_peers):
    with pytest.raises(
        NotImplementedError,
        match=r"The 'mgu' cell does not export to ONNX.*\['gru', 'lstm', 'rnn'\]",
    ):
        onnx_spec("mgu")


def test_torch_helper_refuses_a_cell_without_a_module(cell_without_peers):
    torch = pytest.importorskip("torch")
    assert torch_module(torch, "gru") is torch.nn.GRU
    with pytest.raises(ValueError, match=r"No PyTorch module for cell 'mgu'.*'gru'"):
        torch_module(torch, "mgu")


def test_a_kernel_naming_an_unknown_argument_is_refused():
    def kernel(X, weights_of_my_cell):
        raise AssertionError("never called")

    with pytest.raises(TypeError, match=r"kernel takes \['weights_of_my_cell'\]"):
        _run_kernel(kernel, {"X": np.zeros((1, 1, 1, 1))}, 1)


def test_network_reads_the_spec(cell_without_peers):
    # A registered cell is a cell: the network lays it out from its spec.
    from skrnn._network import RecurrentNetwork

    net = RecurrentNetwork("mgu", 2, (3,), 1)
    assert net.n_gates == 3
    assert not net.has_cell_state


def _bad_lengths_code():
    return """
import numpy as np
from skrnn._runtime import layer_forward
from skrnn._runtime._dispatch import KernelError, LayerState, LayerWeights
X = np.zeros((1, 3, 2, 1))
W, b, h = np.zeros((1, 1)), np.zeros(1), np.zeros((1, 2, 1))
store = np.zeros((1, 3, 2, 2))
try:
    layer_forward(
        "rnn", X, np.array([[5, 1]]), LayerWeights(W, W, b, b),
        LayerState(h, np.zeros((1, 2, 0))), reverse=False, act=0, H_out=X,
        h_off=0, final=LayerState(h.copy(), np.zeros((1, 2, 0))), store=store,
    )
except KernelError as error:
    print("refused:", error)
"""


@pytest.mark.subprocess
def test_checks_hold_under_python_O():
    result = subprocess.run(
        [sys.executable, "-O", "-c", _bad_lengths_code()],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "refused: Internal error: lengths must lie in [0, 3], got values from 1 to 5"
        in result.stdout
    )


def test_layer_forward_refuses_bad_layouts():
    X = np.zeros((1, 3, 2, 1))
    W, b, h = np.zeros((1, 1)), np.zeros(1), np.zeros((1, 2, 1))
    c = np.zeros((1, 2, 0))
    common = dict(reverse=False, act=0, H_out=X, h_off=0, store=np.zeros((1, 3, 2, 2)))
    with pytest.raises(Exception, match="lengths must be non-increasing"):
        layer_forward(
            "rnn", X, np.array([[1, 3]]), LayerWeights(W, W, b, b),
            LayerState(h, c), final=LayerState(h.copy(), c), **common,
        )  # fmt: skip
    with pytest.raises(Exception, match="must have X's dtype float64, got float32"):
        layer_forward(
            "rnn", X, np.array([[3, 1]]), LayerWeights(W.astype(np.float32), W, b, b),
            LayerState(h, c), final=LayerState(h.copy(), c), **common,
        )  # fmt: skip
