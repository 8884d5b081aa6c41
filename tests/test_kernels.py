"""Tests of the BPTT kernels against the NumPy references in tests/naive.py."""

import contextlib
import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skrnn._runtime._dispatch as kernels
from skrnn._kernels import ACTIVATION_CODES, CELL_GATES
from skrnn._kernels._arrays import _product_into
from skrnn._kernels._steps import _recurrent_product, _transposed_copy
from skrnn._runtime import layer_backward, layer_forward, store_width
from skrnn._runtime._dispatch import KernelError, LayerState, LayerWeights
from tests._helpers import finite_difference
from tests.conftest import CELLS
from tests.naive import naive_backward, naive_forward

ACTIVATIONS = list(ACTIVATION_CODES)
# Every cell, and every Elman activation.
CELL_ACTIVATIONS = [("rnn", act) for act in ACTIVATIONS] + [
    ("lstm", "tanh"),
    ("gru", "tanh"),
]
TOL = {"rtol": 1e-12, "atol": 1e-12}


def make_params(rng, cell, n_inputs, n_hidden, dtype=np.float64, scale=0.6):
    G = CELL_GATES[cell]
    return {
        "W_ih": rng.uniform(-scale, scale, (G * n_hidden, n_inputs)).astype(dtype),
        "W_hh": rng.uniform(-scale, scale, (G * n_hidden, n_hidden)).astype(dtype),
        "b_ih": rng.uniform(-scale, scale, G * n_hidden).astype(dtype),
        "b_hh": rng.uniform(-scale, scale, G * n_hidden).astype(dtype),
    }


def make_problem(rng, cell, lengths, n_steps, n_inputs, n_hidden, n_dirs=2):
    """Random chunk-major inputs with NaN padding and output gradients.

    Padding (and the other direction's gradient columns) is NaN so that any
    read of it shows up in the results.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n_chunks, n_rows = lengths.shape
    steps = np.arange(n_steps)[None, :, None]
    padded = steps >= lengths[:, None, :]  # (C, T, Bc)
    X = rng.standard_normal((n_chunks, n_steps, n_rows, n_inputs))
    X[padded] = np.nan
    dH_out = rng.standard_normal((n_chunks, n_steps, n_rows, n_dirs * n_hidden))
    dH_out[padded] = np.nan
    dH_out[..., : (n_dirs - 1) * n_hidden] = np.nan  # the other direction's
    state_dim = n_hidden if cell == "lstm" else 0
    shape = (n_chunks, n_rows)
    return {
        "X": X,
        "lengths": lengths,
        "h0": rng.standard_normal(shape + (n_hidden,)),
        "c0": rng.standard_normal(shape + (state_dim,)),
        "dH_out": dH_out,
        "dh_n": rng.standard_normal(shape + (n_hidden,)),
        "dc_n": rng.standard_normal(shape + (state_dim,)),
    }


def run_kernels(
    cell,
    problem,
    params,
    reverse,
    act="tanh",
    n_store=None,
    segment_steps=0,
    outputs=True,
    h_off=None,
    n_dirs=2,
    dtype=np.float64,
):
    """Forward and (if n_store > 0) backward through the dispatchers."""
    X = problem["X"].astype(dtype)
    n_chunks, n_steps, n_rows, n_inputs = X.shape
    H = params["W_hh"].shape[1]
    n_store = n_steps if n_store is None else n_store
    h_off = (n_dirs - 1) * H if h_off is None else h_off
    p = {k: v.astype(dtype) for k, v in params.items()}
    h0 = problem["h0"].astype(dtype)
    c0 = problem["c0"].astype(dtype)
    lengths = problem["lengths"]
    code = ACTIVATION_CODES[act]
    T_out = n_steps if outputs else 0

    H_out = np.full((n_chunks, T_out, n_rows, n_dirs * H), 7.0, dtype=dtype)
    H_out[..., h_off : h_off + H] = np.nan
    h_n = np.full(h0.shape, np.nan, dtype=dtype)
    c_n = np.full(c0.shape, np.nan, dtype=dtype)
    store = np.full(
        (n_chunks, n_store, n_rows, store_width(cell, H)), np.nan, dtype=dtype
    )
    weights = LayerWeights(p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    layer_forward(
        cell,
        X,
        lengths,
        weights,
        LayerState(h0, c0),
        reverse=reverse,
        act=code,
        H_out=H_out,
        h_off=h_off,
        final=LayerState(h_n, c_n),
        store=store,
    )
    result = {"H_out": H_out, "h_n": h_n, "c_n": c_n}
    if n_store == 0:
        return result

    dH_out = problem["dH_out"][:, :T_out].astype(dtype)
    dX = np.zeros((n_chunks, T_out, n_rows, n_inputs), dtype=dtype)
    grads = {k: np.full(v.shape, np.nan, dtype=dtype) for k, v in p.items()}
    dh0 = np.full(h0.shape, np.nan, dtype=dtype)
    dc0 = np.full(c0.shape, np.nan, dtype=dtype)
    layer_backward(
        cell, X, lengths, weights, reverse=reverse, act=code,
        segment_steps=segment_steps, store=store, dH_out=dH_out, h_off=h_off,
        d_final=LayerState(
            problem["dh_n"].astype(dtype), problem["dc_n"].astype(dtype)
        ),
        dX=dX,
        d_weights=LayerWeights(grads["W_ih"], grads["W_hh"], grads["b_ih"],
                               grads["b_hh"]),
        d_initial=LayerState(dh0, dc0),
    )  # fmt: skip
    result.update({"d" + k: v for k, v in grads.items()})
    result.update({"dX": dX, "dh0": dh0, "dc0": dc0})
    return result


def run_naive(
    cell,
    problem,
    params,
    reverse,
    act="tanh",
    n_store=None,
    segment_steps=0,
    outputs=True,
):
    """The same quantities as run_kernels, row by row with tests/naive.py."""
    X, lengths = problem["X"], problem["lengths"]
    n_chunks, n_steps, n_rows, _ = X.shape
    H = params["W_hh"].shape[1]
    lstm = cell == "lstm"
    expected = {
        "hs": np.zeros((n_chunks, n_steps, n_rows, H)),
        "h_n": np.zeros((n_chunks, n_rows, H)),
        "c_n": np.zeros(problem["c0"].shape),
        "dX": np.zeros(X.shape if outputs else (n_chunks, 0) + X.shape[2:]),
        "dh0": np.zeros((n_chunks, n_rows, H)),
        "dc0": np.zeros(problem["c0"].shape),
    }
    for k, v in params.items():
        expected["d" + k] = np.zeros_like(v)
    for c, b in itertools.product(range(n_chunks), range(n_rows)):
        L = lengths[c, b]
        x = X[c, :L, b]
        c0 = problem["c0"][c, b] if lstm else None
        args = (cell, x, *params.values(), problem["h0"][c, b], c0, reverse)
        hs, h_n, c_n = naive_forward(*args, activation=act)
        expected["hs"][c, :L, b] = hs
        expected["h_n"][c, b] = h_n
        if lstm:
            expected["c_n"][c, b] = c_n
        dhs = problem["dH_out"][c, :L, b, -H:] if outputs else None
        dc_n = problem["dc_n"][c, b] if lstm else None
        g = naive_backward(
            *args, dhs, problem["dh_n"][c, b], dc_n,
            activation=act, n_store=n_store, segment_steps=segment_steps,
        )  # fmt: skip
        for k in params:
            expected["d" + k] += g["d" + k]
        if outputs:
            expected["dX"][c, :L, b] = g["dx"]
        expected["dh0"][c, b] = g["dh0"]
        if lstm:
            expected["dc0"][c, b] = g["dc0"]
    return expected


def assert_matches_naive(
    cell, problem, params, reverse, act, n_store, segment_steps, outputs, tol=TOL
):
    H = params["W_hh"].shape[1]
    got = run_kernels(
        cell, problem, params, reverse, act, n_store, segment_steps, outputs
    )
    want = run_naive(
        cell, problem, params, reverse, act, n_store, segment_steps, outputs
    )
    if outputs:
        # Our columns match (zeros at padding), the other direction's are
        # untouched.
        np.testing.assert_allclose(got["H_out"][..., H:], want["hs"], **tol)
        assert np.all(got["H_out"][..., :H] == 7.0)
    else:
        assert got["H_out"].size == 0
    np.testing.assert_allclose(got["h_n"], want["h_n"], **tol)
    np.testing.assert_allclose(got["c_n"], want["c_n"], **tol)
    if n_store == 0:
        return
    for key in ["dW_ih", "dW_hh", "db_ih", "db_hh", "dX", "dh0", "dc0"]:
        np.testing.assert_allclose(got[key], want[key], err_msg=key, **tol)


@contextlib.contextmanager
def block_rows(n_rows):
    """Let one projection or gradient GEMM cover ``ceil(n_rows / Bc)`` steps.

    The default block covers every step of the small test problems; smaller
    blocks exercise the block boundaries.
    """
    saved = kernels._BLOCK_MIN_ROWS, kernels._BLOCK_BYTES
    kernels._BLOCK_MIN_ROWS, kernels._BLOCK_BYTES = n_rows, 0
    try:
        yield
    finally:
        kernels._BLOCK_MIN_ROWS, kernels._BLOCK_BYTES = saved


def random_lengths(rng, n_chunks, n_rows, n_steps):
    """Ragged, sorted lengths with a full-length row and a dummy row."""
    lengths = rng.integers(0, n_steps + 1, (n_chunks, n_rows))
    lengths[0, 0] = n_steps
    lengths[-1, -1] = 0
    return -np.sort(-lengths, axis=1)


@pytest.mark.parametrize(("cell", "act"), CELL_ACTIVATIONS)
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
@pytest.mark.parametrize("n_chunks", [1, 2], ids=["C1", "C2"])
@pytest.mark.parametrize(
    ("storage", "segment_steps"),
    [("full", 0), ("full", 2), ("full", 3), ("truncated", 0), ("none", 0)],
)
@pytest.mark.parametrize("outputs", [True, False], ids=["seq", "last"])
def test_matches_naive_grid(
    cell, act, reverse, n_chunks, storage, segment_steps, outputs
):
    rng = np.random.default_rng(0)
    n_steps, n_rows, n_inputs, n_hidden = 7, 4, 3, 5
    lengths = random_lengths(rng, n_chunks, n_rows, n_steps)
    problem = make_problem(rng, cell, lengths, n_steps, n_inputs, n_hidden)
    params = make_params(rng, cell, n_inputs, n_hidden)
    n_store = {"full": n_steps, "truncated": 3, "none": 0}[storage]
    assert_matches_naive(
        cell, problem, params, reverse, act, n_store, segment_steps, outputs
    )


@st.composite
def layer_cases(draw):
    n_chunks = draw(st.sampled_from([1, 2]))
    n_rows = draw(st.integers(1, 5))
    n_steps = draw(st.integers(1, 12))
    row_lengths = st.lists(st.integers(0, n_steps), min_size=n_rows, max_size=n_rows)
    lengths = [sorted(draw(row_lengths), reverse=True) for _ in range(n_chunks)]
    return {
        "lengths": lengths,
        "n_steps": n_steps,
        "n_inputs": draw(st.integers(1, 4)),
        "n_hidden": draw(st.integers(1, 8)),
        "act": draw(st.sampled_from(ACTIVATIONS)),
        "reverse": draw(st.booleans()),
        "n_store": draw(st.integers(0, n_steps)),
        "segment_steps": draw(st.sampled_from([0, 1, 2, 3])),
        "outputs": draw(st.booleans()),
        "block_steps": draw(st.integers(1, n_steps)),
        "seed": draw(st.integers(0, 2**16)),
    }


@pytest.mark.parametrize("cell", CELLS)
@settings(max_examples=25, deadline=None)
@given(case=layer_cases())
def test_matches_naive_random_shapes(cell, case):
    rng = np.random.default_rng(case["seed"])
    problem = make_problem(
        rng, cell, case["lengths"], case["n_steps"], case["n_inputs"], case["n_hidden"]
    )
    params = make_params(rng, cell, case["n_inputs"], case["n_hidden"])
    act = case["act"] if cell == "rnn" else "tanh"
    n_rows = len(case["lengths"][0])
    with block_rows(case["block_steps"] * n_rows):
        assert_matches_naive(
            cell, problem, params, case["reverse"], act, case["n_store"],
            case["segment_steps"], case["outputs"],
        )  # fmt: skip


@pytest.mark.parametrize("cell", CELLS)
def test_small_batch_every_cell(cell):
    # Also run without JIT by test_python_path_matches.
    rng = np.random.default_rng(1)
    for n_chunks, reverse, (n_store, segment_steps), block_steps in itertools.product(
        [1, 2], [False, True], [(4, 0), (4, 2), (2, 0)], [4, 3]
    ):
        lengths = random_lengths(rng, n_chunks, 3, 4)
        problem = make_problem(rng, cell, lengths, 4, 2, 3)
        params = make_params(rng, cell, 2, 3)
        act = "relu" if cell == "rnn" else "tanh"
        with block_rows(3 * block_steps):
            assert_matches_naive(
                cell, problem, params, reverse, act, n_store, segment_steps, True
            )


@pytest.mark.parametrize(("cell", "act"), CELL_ACTIVATIONS)
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
@pytest.mark.parametrize("block_steps", [1, 2, 3])
@pytest.mark.parametrize(
    ("n_store", "segment_steps"), [(9, 0), (9, 2), (5, 0), (0, 0)], ids=str
)
def test_blocks_of_steps_match_naive(
    cell, act, reverse, block_steps, n_store, segment_steps
):
    # Input projections and weight gradients computed block by block, with
    # ragged rows starting inside blocks and a window that does not divide
    # into whole blocks, equal the unblocked reference.
    rng = np.random.default_rng(5)
    lengths = [[8, 6, 3, 0], [9, 9, 4, 1]]
    problem = make_problem(rng, cell, lengths, 9, 3, 4)
    params = make_params(rng, cell, 3, 4)
    with block_rows(4 * block_steps):
        assert_matches_naive(
            cell, problem, params, reverse, act, n_store, segment_steps, True
        )


@given(
    n_rows=st.integers(1, 600),
    n_steps=st.integers(1, 2000),
    gate_units=st.integers(1, 4096),
    itemsize=st.sampled_from([4, 8]),
)
@settings(max_examples=200, deadline=None)
def test_block_steps_rule(n_rows, n_steps, gate_units, itemsize):
    # A block has at least one step and at most all of them; it reaches the
    # minimum number of GEMM rows when the sequence allows it, and goes beyond
    # that only while its gate values fit in the byte budget.
    step_bytes = n_rows * gate_units * itemsize
    n = kernels._block_steps(n_rows, n_steps, step_bytes)
    assert 1 <= n <= n_steps
    if n < n_steps:
        assert n * n_rows >= kernels._BLOCK_MIN_ROWS or (
            (n + 1) * step_bytes > kernels._BLOCK_BYTES
        )
    if n > 1:
        assert (n - 1) * n_rows < kernels._BLOCK_MIN_ROWS or (
            n * step_bytes <= kernels._BLOCK_BYTES
        )


def test_block_steps_examples():
    # LSTM (4 gates) in float32: a chunk of 128 rows at H = 256 takes the two
    # steps that a gradient GEMM of 256 rows needs, though one step already
    # holds 512 KiB; at H = 16 four steps fit in 128 KiB; a chunk of 32 rows
    # takes 8 steps; tiny problems get whole sequences.
    assert kernels._block_steps(128, 100, 128 * 4 * 256 * 4) == 2
    assert kernels._block_steps(128, 100, 128 * 4 * 16 * 4) == 4
    assert kernels._block_steps(32, 100, 32 * 4 * 256 * 4) == 8
    assert kernels._block_steps(4, 9, 4 * 4 * 5 * 8) == 9


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_padding_invariance(cell, reverse):
    # A sequence gives the same outputs and gradients alone as in a chunk
    # with longer rows (where it starts later and its padding is garbage).
    rng = np.random.default_rng(2)
    params = make_params(rng, cell, 3, 4)
    batch = make_problem(rng, cell, [[9, 6, 4]], 9, 3, 4, n_dirs=1)
    alone = {
        k: (v[:, :4, 2:3] if v.ndim == 4 else v[:, 2:3])
        for k, v in batch.items()
        if k != "lengths"
    }
    alone["lengths"] = np.array([[4]])
    got_batch = run_kernels(cell, batch, params, reverse, n_dirs=1)
    got_alone = run_kernels(cell, alone, params, reverse, n_dirs=1)
    np.testing.assert_allclose(
        got_batch["H_out"][:, :4, 2:3], got_alone["H_out"], **TOL
    )
    np.testing.assert_array_equal(got_batch["H_out"][:, 4:, 2], 0.0)
    for key in ["h_n", "c_n", "dh0", "dc0"]:
        np.testing.assert_allclose(got_batch[key][:, 2:3], got_alone[key], **TOL)
    np.testing.assert_allclose(got_batch["dX"][:, :4, 2:3], got_alone["dX"], **TOL)
    np.testing.assert_array_equal(got_batch["dX"][:, 4:, 2], 0.0)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_agrees_with_float64(cell):
    rng = np.random.default_rng(3)
    lengths = random_lengths(rng, 2, 5, 10)
    problem = make_problem(rng, cell, lengths, 10, 3, 6)
    params = make_params(rng, cell, 3, 6)
    act = "tanh"
    got32 = run_kernels(cell, problem, params, True, act, dtype=np.float32)
    got64 = run_kernels(cell, problem, params, True, act, dtype=np.float64)
    for key, value in got32.items():
        assert value.dtype == np.float32, key
        scale = max(1.0, np.nanmax(np.abs(got64[key]), initial=0.0))
        np.testing.assert_allclose(
            value, got64[key], rtol=1e-4, atol=1e-5 * scale, err_msg=key
        )


@pytest.mark.parametrize("cell", CELLS)
def test_one_and_two_chunks_agree(cell):
    # The parallel path (C=2, per-chunk buffers reduced afterwards) and the
    # serial path (C=1) give the same sums up to rounding.
    rng = np.random.default_rng(4)
    params = make_params(rng, cell, 3, 5)
    lengths = [[8, 7, 5, 5, 3, 2, 1, 0]]
    one = make_problem(rng, cell, lengths, 8, 3, 5)
    # Rows 0, 2, 4, 6 form chunk 0 and rows 1, 3, 5, 7 chunk 1 (still sorted).
    two = {
        k: np.stack([v[0][..., 0::2, :], v[0][..., 1::2, :]])
        if k != "lengths"
        else np.stack([v[0][0::2], v[0][1::2]])
        for k, v in one.items()
    }
    got1 = run_kernels(cell, one, params, False, n_store=5, segment_steps=0)
    got2 = run_kernels(cell, two, params, False, n_store=5, segment_steps=0)
    for key in ["dW_ih", "dW_hh", "db_ih", "db_hh"]:
        np.testing.assert_allclose(got1[key], got2[key], err_msg=key, **TOL)
    np.testing.assert_allclose(got1["h_n"][0, 1::2], got2["h_n"][1], **TOL)
    np.testing.assert_allclose(got1["dX"][0, :, 1::2], got2["dX"][1], **TOL)


def _forward_two_chunks(queue):
    rng = np.random.default_rng(6)
    problem = make_problem(rng, "gru", [[3, 2], [3, 1]], 3, 2, 2)
    params = make_params(rng, "gru", 2, 2)
    queue.put(run_kernels("gru", problem, params, False, n_store=0)["h_n"])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.subprocess
def test_chunks_run_in_a_forked_child():
    # The thread pool that runs the chunks after the first does not survive a
    # fork; a forked child (multiprocessing's default on Linux) must still be
    # able to run several chunks instead of waiting forever.
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    _forward_two_chunks(queue)  # starts the pool in this process
    expected = queue.get(timeout=60)
    child = ctx.Process(target=_forward_two_chunks, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    np.testing.assert_array_equal(got, expected)


def test_store_width_and_tables():
    assert CELL_GATES == {"rnn": 1, "lstm": 4, "gru": 3}
    assert ACTIVATION_CODES == {"tanh": 0, "relu": 1, "logistic": 2, "identity": 3}
    for cell in CELLS:
        assert store_width(cell, 5) % 5 == 0
        assert store_width(cell, 5) >= 5 * (CELL_GATES[cell] + 1)


def test_unknown_cell_raises():
    X = np.zeros((1, 2, 1, 1))
    lengths = np.array([[2]])
    W, b, h = np.zeros((1, 1)), np.zeros(1), np.zeros((1, 1, 1))
    store = np.zeros((1, 2, 1, 2))
    with pytest.raises(
        ValueError, match=r"cell must be one of \['gru', 'lstm', 'rnn'\], got 'elman'"
    ):
        layer_forward(
            "elman", X, lengths, LayerWeights(W, W, b, b), LayerState(h, h),
            reverse=False, act=0, H_out=X, h_off=0, final=LayerState(h, h),
            store=store,
        )  # fmt: skip


def test_dispatcher_rejects_lengths_the_kernels_cannot_index():
    rng = np.random.default_rng(8)
    params = make_params(rng, "gru", 2, 3)
    for lengths in ([[2, 3]], [[4, 1]], [[2, -1]]):
        problem = make_problem(rng, "gru", [[3, 2]], 3, 2, 3)
        problem["lengths"] = np.array(lengths, dtype=np.int64)
        with pytest.raises(KernelError, match="lengths must"):
            run_kernels("gru", problem, params, False)


# The references themselves: naive_backward against finite differences of
# naive_forward.


def _naive_loss(cell, x, params, h0, c0, reverse, act, dhs, dh_n, dc_n):
    hs, h_n, c_n = naive_forward(cell, x, *params.values(), h0, c0, reverse, act)
    loss = np.sum(dhs * hs) + dh_n @ h_n
    return loss + (dc_n @ c_n if cell == "lstm" else 0.0)


def _segment_gradients(cell, x, params, h0, c0, reverse, act, dhs, dh_n, dc_n, a, b):
    """Finite-difference gradients of the loss terms of processing steps
    [a, b) when the state entering step a is a constant (b == len(x) adds the
    final-state terms)."""
    L = len(x)
    # Enter the segment: run the first a processing steps.
    head = slice(L - a, L) if reverse else slice(0, a)
    _, h_a, c_a = naive_forward(cell, x[head], *params.values(), h0, c0, reverse, act)
    if a == 0:
        h_a, c_a = h0.copy(), (c0.copy() if c0 is not None else None)
    part = slice(L - b, L - a) if reverse else slice(a, b)
    x_seg = x[part].copy()
    last = b == L
    H = len(h0)
    dh_end = dh_n if last else np.zeros(H)
    dc_end = (dc_n if last else np.zeros(H)) if cell == "lstm" else None

    def loss():
        return _naive_loss(
            cell, x_seg, params, h_a, c_a, reverse, act, dhs[part], dh_end, dc_end
        )

    grads = {"d" + k: finite_difference(loss, v) for k, v in params.items()}
    grads["dx"] = np.zeros_like(x)
    grads["dx"][part] = finite_difference(loss, x_seg)
    grads["dh0"] = finite_difference(loss, h_a) if a == 0 else np.zeros(H)
    if cell == "lstm":
        grads["dc0"] = finite_difference(loss, c_a) if a == 0 else np.zeros(H)
    return grads


@pytest.mark.parametrize(("cell", "act"), CELL_ACTIVATIONS)
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
@pytest.mark.parametrize(
    ("n_store", "segment_steps"),
    [(None, 0), (3, 0), (None, 2)],
    ids=["full", "trunc", "k2"],
)
def test_naive_backward_finite_differences(cell, act, reverse, n_store, segment_steps):
    # Truncated and chunked gradients are sums of gradients of segments that
    # start from a constant state, which finite differences check directly.
    rng = np.random.default_rng(6)
    L, n_inputs, H = 5, 2, 3
    params = make_params(rng, cell, n_inputs, H)
    x = rng.standard_normal((L, n_inputs))
    h0, dh_n = rng.standard_normal(H), rng.standard_normal(H)
    c0 = rng.standard_normal(H) if cell == "lstm" else None
    dc_n = rng.standard_normal(H) if cell == "lstm" else None
    dhs = rng.standard_normal((L, H))
    if act == "relu":
        # Keep pre-activations away from the kink.
        params["b_ih"] += 0.5
    args = (cell, x, params, h0, c0, reverse, act, dhs, dh_n, dc_n)
    if n_store is not None:
        segments = [(L - n_store, L)]
    elif segment_steps:
        segments = [(a, min(a + segment_steps, L)) for a in range(0, L, segment_steps)]
    else:
        segments = [(0, L)]
    expected = {}
    for a, b in segments:
        for key, value in _segment_gradients(*args, a, b).items():
            expected[key] = expected.get(key, 0.0) + value
    got = naive_backward(
        cell, x, *params.values(), h0, c0, reverse, dhs, dh_n, dc_n,
        activation=act, n_store=n_store, segment_steps=segment_steps,
    )  # fmt: skip
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-6, atol=1e-8, err_msg=key)


def test_naive_dummy_sequence_has_zero_gradients():
    rng = np.random.default_rng(7)
    params = make_params(rng, "lstm", 2, 3)
    h0, c0 = rng.standard_normal(3), rng.standard_normal(3)
    x = np.zeros((0, 2))
    hs, h_n, c_n = naive_forward("lstm", x, *params.values(), h0, c0, False)
    assert hs.shape == (0, 3)
    np.testing.assert_array_equal(h_n, h0)
    np.testing.assert_array_equal(c_n, c0)
    grads = naive_backward(
        "lstm", x, *params.values(), h0, c0, False, None, np.ones(3), np.ones(3)
    )
    for key, value in grads.items():
        np.testing.assert_array_equal(value, 0.0, err_msg=key)


@pytest.mark.subprocess
def test_python_path_matches():
    # With NUMBA_DISABLE_JIT=1 the kernels run as plain Python: the same code
    # must give the same results.
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-p", "no:xdist", str(root / "tests" / "test_kernels.py"),
        "-k", "test_small_batch_every_cell or test_padding_invariance",
    ]  # fmt: skip
    out = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "passed" in out.stdout


def test_chunks_run_once_and_do_not_wait_for_a_busy_pool():
    import threading
    import time

    from skrnn._runtime._dispatch import _chunk_pool, run_chunks

    pool = _chunk_pool()
    release = threading.Event()
    started = threading.Semaphore(0)

    def block(c):
        if c > 0:
            started.release()
            release.wait(30)

    # Occupy every worker, as another caller's chunks would.
    n_workers = pool.n_workers
    other = threading.Thread(target=pool.run, args=(block, n_workers + 1))
    other.start()
    timer = threading.Timer(20, release.set)  # never hang the suite
    timer.start()
    try:
        for _ in range(n_workers):
            assert started.acquire(timeout=10)
        seen, lock = [], threading.Lock()

        def run(c):
            with lock:
                seen.append(c)

        start = time.perf_counter()
        run_chunks(run, 4)
        assert time.perf_counter() - start < 10  # ran inline, did not wait
        assert sorted(seen) == [0, 1, 2, 3]
    finally:
        release.set()
        timer.cancel()
        other.join()
    # With free workers every chunk still runs exactly once.
    seen.clear()
    run_chunks(run, 3)
    assert sorted(seen) == [0, 1, 2]


@pytest.mark.parametrize("failing", [0, 1])
def test_chunk_errors_propagate(failing):
    from skrnn._runtime._dispatch import run_chunks

    def run(c):
        if c == failing:
            raise RuntimeError(f"chunk {c}")

    with pytest.raises(RuntimeError, match=f"chunk {failing}"):
        run_chunks(run, 2)


def test_concurrent_sessionsrun_chunks_in_their_own_thread():
    import threading

    from skrnn._runtime import session
    from skrnn._runtime._dispatch import run_chunks

    threads = []

    def run(c):
        threads.append(threading.get_ident())

    with session():
        run_chunks(run, 3)
        assert len(threads) == 3
        with session():  # a second fit running at the same time
            threads.clear()
            run_chunks(run, 3)
            assert set(threads) == {threading.get_ident()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recurrent_product_equals_the_transposed_view_bit_for_bit(dtype):
    # The backward kernels multiply by a contiguous copy of W_hh.T; the
    # result must be that of the transposed view for every number of active
    # rows, one included (where BLAS switches to GEMV).
    rng = np.random.default_rng(0)
    for H, G in [(3, 1), (8, 3), (16, 4), (64, 4)]:
        W = rng.normal(size=(G * H, H)).astype(dtype)
        W_T = _transposed_copy(W)
        assert W_T.flags.c_contiguous
        np.testing.assert_array_equal(W_T, W.T)
        for n_act in (1, 2, 3, 7, 32, 33):
            da = rng.normal(size=(G * H, n_act)).astype(dtype)
            expected = np.empty((H, n_act), dtype)
            got = np.empty((H, n_act), dtype)
            _product_into(W.T, da, expected)
            _recurrent_product(W, W_T, da, got)
            np.testing.assert_array_equal(got, expected, err_msg=f"{H=} {G=} {n_act=}")
