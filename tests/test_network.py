"""Tests of the network: layout, initialisation, and the gradient of the whole
objective (full and truncated BPTT) against finite differences of a NumPy
reference built from tests/naive.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skrnn._batching import make_batch
from skrnn._losses import ROW_LOSSES
from skrnn._network import RecurrentNetwork, Workspace
from skrnn.testing.strategies import network_params, ragged_sequences
from tests.conftest import CELL_SPECS, CELLS

from .naive import naive_forward

LOSSES = ("squared_error", "binary_log_loss", "log_loss")


# --------------------------------------------------------------- reference
def _segments(length, k, per_step):
    """Processing-step ranges whose entering state is a constant.

    Many-to-one with ``k``: one live window, the last k processing steps.
    Per step with ``k``: chunks of k processing steps.
    """
    if k is None or k >= length:
        return [(0, length)]
    if per_step:
        return [(s, min(s + k, length)) for s in range(0, length, k)]
    return [(length - k, length)]


def _real(length, s0, s1, reverse):
    return slice(length - s1, length - s0) if reverse else slice(s0, s1)


def _direction(net, P, name, x, reverse, k, base):
    """Outputs (real time order), final state and record of one direction.

    Without ``base`` this is the plain forward pass (equal to the truncated
    one at the base point) and the record keeps its outputs and the state
    entering each live segment. With ``base``, every segment restarts from
    its recorded entering state (a constant) and steps outside the live
    segments keep their recorded outputs (constants too).
    """
    cell, length = net.cell, len(x)
    H = P[f"weight_hh_{name}"].shape[1]
    W = [P[f"{w}_{name}"] for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    zeros_c = np.zeros(H) if cell == "lstm" else None
    segments = _segments(length, k, net.per_step)
    if base is None:
        hs, h_n, _ = naive_forward(
            cell, x, *W, np.zeros(H), zeros_c, reverse, net.activation
        )
        states = []
        for s0, _ in segments:
            if s0 == 0:
                states.append((np.zeros(H), zeros_c))
            else:
                _, h, c = naive_forward(
                    cell, x[_real(length, 0, s0, reverse)], *W, np.zeros(H),
                    zeros_c, reverse, net.activation,
                )  # fmt: skip
                states.append((h, c))
        return hs, h_n, {"hs": hs.copy(), "states": states}
    hs = base["hs"].copy()
    for (s0, s1), (h, c) in zip(segments, base["states"]):
        sl = _real(length, s0, s1, reverse)
        hs[sl], h_n, _ = naive_forward(cell, x[sl], *W, h, c, reverse, net.activation)
    return hs, h_n, None


def reference_loss(net, theta, seqs, targets, weights, l2, k=None, base=None):
    """Objective by straightforward loops; ``base`` freezes truncated parts."""
    P = net.views(theta)
    records = []
    total = 0.0
    for i, x in enumerate(seqs):
        inp = x
        if net.embeds:
            inp = P["embedding.weight"][x[:, 0].astype(int)]
        seq_records = {}
        for layer in range(len(net.hidden_layer_sizes)):
            outs, finals = [], []
            for d in range(net.n_directions):
                name = f"l{layer}" + ("_reverse" if d else "")
                b = None if base is None else base[i][name]
                hs, h_n, rec = _direction(net, P, name, inp, bool(d), k, b)
                seq_records[name] = rec
                outs.append(hs)
                finals.append(h_n)
            inp = np.concatenate(outs, axis=1)
        head_in = inp if net.per_step else np.concatenate(finals)[None, :]
        Z = head_in @ P["output.weight"].T + P["output.bias"]
        total += weights[i] * ROW_LOSSES[net.loss](Z, targets[i]).sum()
        records.append(seq_records)
    return total + l2 * net.l2_penalty(theta), records


def _targets(rng, net, seqs):
    K = net.n_outputs
    out = []
    for x in seqs:
        rows = len(x) if net.per_step else 1
        if net.loss == "squared_error":
            out.append(rng.normal(size=(rows, K)))
        elif net.loss == "log_loss":
            out.append(np.eye(K)[rng.integers(0, K, size=rows)])
        else:
            out.append(rng.integers(0, 2, size=(rows, K)).astype(float))
    return out


def _batch_problem(net, seqs, targets, sw, n_chunks=1, dtype=np.float64):
    batch = make_batch(seqs, n_chunks, dtype)
    if net.per_step:
        Yb = batch.gather_steps(targets)
        w = batch.step_mask() * batch.gather(sw)[:, None, :]
        seq_weights = sw / w.sum()
    else:
        Yb = batch.gather(np.concatenate(targets))
        w = batch.gather(sw)
        seq_weights = sw / w.sum()
    return batch, Yb, (w / w.sum()).astype(dtype), seq_weights


@st.composite
def token_sequences(draw, n_tokens, max_sequences=4, max_steps=7):
    """Ragged sequences of token ids, as ``(T_i, 1)`` float arrays."""
    lengths = draw(st.lists(st.integers(1, max_steps), min_size=1,
                            max_size=max_sequences))  # fmt: skip
    ids = st.integers(0, n_tokens - 1)
    return [
        np.array(draw(st.lists(ids, min_size=n, max_size=n)), float)[:, None]
        for n in lengths
    ]


@st.composite
def problems(draw):
    params = draw(network_params(max_layers=2, max_hidden=4))
    if draw(st.booleans()):
        n_tokens = draw(st.integers(1, 5))
        params = {**params, "n_tokens": n_tokens,
                  "embedding_dim": draw(st.integers(1, 3))}  # fmt: skip
        seqs = draw(token_sequences(n_tokens))
    else:
        seqs = draw(
            ragged_sequences(max_sequences=4, max_steps=7, n_features=st.integers(1, 3))
        )
    per_step = draw(st.booleans())
    loss = draw(st.sampled_from(LOSSES))
    n_outputs = draw(st.integers(2 if loss == "log_loss" else 1, 3))
    seed = draw(st.integers(0, 2**16))
    k = draw(st.one_of(st.none(), st.integers(1, 8)))
    return params, seqs, per_step, loss, n_outputs, seed, k


def _smooth(problem):
    """Swap relu for tanh: at relu's kink, finite differences and float32
    rounding legitimately disagree (relu gets its own test, away from 0)."""
    params = problem[0]
    if params["activation"] == "relu":
        params = {**params, "activation": "tanh"}
    return (params,) + tuple(problem[1:])


def _network(params, n_inputs, n_outputs, loss, per_step):
    return RecurrentNetwork(
        params["cell"], n_inputs, params["hidden_layer_sizes"], n_outputs,
        bidirectional=params["bidirectional"], activation=params["activation"],
        loss=loss, per_step=per_step, n_tokens=params.get("n_tokens"),
        embedding_dim=params.get("embedding_dim"),
    )  # fmt: skip


# ---------------------------------------------------------------- the tests
@settings(max_examples=60, deadline=None)
@given(problems())
def test_gradient_matches_finite_differences(problem):
    params, seqs, per_step, loss, n_outputs, seed, k = _smooth(problem)
    rng = np.random.default_rng(seed)
    net = _network(params, seqs[0].shape[1], n_outputs, loss, per_step)
    theta = net.init_params(seed) + rng.normal(scale=0.1, size=net.n_params)
    targets = _targets(rng, net, seqs)
    sw = rng.uniform(0.5, 2.0, size=len(seqs))
    l2 = 0.01
    batch, Yb, wb, seq_w = _batch_problem(net, seqs, targets, sw)

    value, grad = net.loss_and_grad(theta, batch, Yb, wb, l2=l2, bptt_steps=k)
    ref_value, base = reference_loss(net, theta, seqs, targets, seq_w, l2, k)
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-12)

    eps = 1e-6
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        fp = reference_loss(net, tp, seqs, targets, seq_w, l2, k, base)[0]
        fm = reference_loss(net, tm, seqs, targets, seq_w, l2, k, base)[0]
        numeric[i] = (fp - fm) / (2 * eps)
    scale = np.abs(numeric).max() + 1e-8
    assert np.abs(grad - numeric).max() / scale < 1e-6


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("per_step", [False, True])
def test_truncation_beyond_length_equals_full_bptt(cell, per_step):
    rng = np.random.default_rng(1)
    seqs = [rng.normal(size=(n, 2)) for n in (5, 3, 6)]
    net = _network(
        {"cell": cell, "hidden_layer_sizes": (3, 2), "bidirectional": True,
         "activation": "tanh"}, 2, 1, "squared_error", per_step,
    )  # fmt: skip
    theta = net.init_params(0)
    targets = _targets(rng, net, seqs)
    batch, Yb, wb, _ = _batch_problem(net, seqs, targets, np.ones(3))
    full = net.loss_and_grad(theta, batch, Yb, wb)[1].copy()
    for k in (6, 7, 100):
        trunc = net.loss_and_grad(theta, batch, Yb, wb, bptt_steps=k)[1]
        np.testing.assert_array_equal(trunc, full)
    short = net.loss_and_grad(theta, batch, Yb, wb, bptt_steps=2)[1]
    assert not np.allclose(short, full)


def test_relu_gradient_away_from_kinks():
    rng = np.random.default_rng(3)
    seqs = [rng.uniform(0.5, 1.0, size=(n, 2)) for n in (4, 2)]
    net = _network(
        {"cell": "rnn", "hidden_layer_sizes": (3,), "bidirectional": False,
         "activation": "relu"}, 2, 1, "squared_error", False,
    )  # fmt: skip
    theta = np.abs(net.init_params(0)) + 0.1  # all pre-activations positive
    targets = _targets(rng, net, seqs)
    batch, Yb, wb, seq_w = _batch_problem(net, seqs, targets, np.ones(2))
    _, grad = net.loss_and_grad(theta, batch, Yb, wb)
    numeric = np.array(
        [
            (
                reference_loss(net, theta + e, seqs, targets, seq_w, 0.0)[0]
                - reference_loss(net, theta - e, seqs, targets, seq_w, 0.0)[0]
            )
            / 2e-6
            for e in np.eye(theta.size) * 1e-6
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(problems(), st.integers(1, 3))
def test_chunks_padding_and_dtype_do_not_change_results(problem, n_chunks):
    params, seqs, per_step, loss, n_outputs, seed, k = _smooth(problem)
    rng = np.random.default_rng(seed)
    net = _network(params, seqs[0].shape[1], n_outputs, loss, per_step)
    theta = net.init_params(seed)
    targets = _targets(rng, net, seqs)
    sw = np.ones(len(seqs))
    batch, Yb, wb, _ = _batch_problem(net, seqs, targets, sw)
    value, grad = net.loss_and_grad(theta, batch, Yb, wb, bptt_steps=k)
    grad = grad.copy()
    # Same data split across threads.
    batch2, Yb2, wb2, _ = _batch_problem(net, seqs, targets, sw, n_chunks)
    value2, grad2 = net.loss_and_grad(theta, batch2, Yb2, wb2, bptt_steps=k)
    assert value2 == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(grad2, grad, rtol=1e-10, atol=1e-13)
    # float32 agrees within float32 precision.
    b32, Y32, w32, _ = _batch_problem(net, seqs, targets, sw, 1, np.float32)
    v32, g32 = net.loss_and_grad(theta.astype(np.float32), b32, Y32, w32, bptt_steps=k)
    assert g32.dtype == np.float32
    assert v32 == pytest.approx(value, rel=1e-3, abs=1e-4)
    np.testing.assert_allclose(g32, grad, atol=2e-3 * (np.abs(grad).max() + 1))
    # Each sequence's outputs are the same alone and in the batch.
    outputs = net.forward(theta, batch)
    for i, x in enumerate(seqs):
        alone = net.forward(theta, make_batch([x]))
        c, b = np.argwhere(batch.position == i)[0]
        if per_step:
            np.testing.assert_allclose(
                outputs[c, : len(x), b], alone[0, :, 0], rtol=1e-12, atol=1e-14
            )
        else:
            np.testing.assert_allclose(outputs[c, b], alone[0, 0], rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_layout_uses_pytorch_names_and_shapes(cell):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}.get(cell, CELL_SPECS[cell].gates)
    net = RecurrentNetwork(cell, 5, (4, 3), 2, bidirectional=True)
    shapes = {b.name: b.shape for b in net.blocks}
    assert shapes["weight_ih_l0"] == (gates * 4, 5)
    assert shapes["weight_hh_l0_reverse"] == (gates * 4, 4)
    assert shapes["weight_ih_l1"] == (gates * 3, 8)
    assert shapes["bias_hh_l1_reverse"] == (gates * 3,)
    assert shapes["output.weight"] == (2, 6)
    assert shapes["output.bias"] == (2,)
    assert len(shapes) == 2 * 2 * 4 + 2
    assert net.n_params == sum(int(np.prod(s)) for s in shapes.values())


@pytest.mark.parametrize("cell", CELLS)
def test_initialisation(cell):
    net = RecurrentNetwork(cell, 3, (5,), 2)
    theta = net.init_params(42)
    P = net.views(theta)
    H = 5
    G = net.n_gates
    for g in range(G):
        block = P["weight_hh_l0"][g * H : (g + 1) * H]
        np.testing.assert_allclose(block @ block.T, np.eye(H), atol=1e-12)
    limit = np.sqrt(6 / (3 + G * H))
    assert np.abs(P["weight_ih_l0"]).max() <= limit
    expected_bias = np.zeros(G * H)
    if cell == "lstm":
        expected_bias[H : 2 * H] = 1.0
    np.testing.assert_array_equal(P["bias_ih_l0"], expected_bias)
    np.testing.assert_array_equal(P["bias_hh_l0"], 0)
    np.testing.assert_array_equal(P["output.bias"], 0)
    np.testing.assert_array_equal(theta, net.init_params(42))
    np.testing.assert_array_equal(
        net.init_params(42, np.float32), theta.astype(np.float32)
    )
    assert not np.array_equal(theta, net.init_params(43))


def test_dropout_is_seeded_and_training_only():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 2)) for n in (4, 6, 5, 3)]
    net = RecurrentNetwork("gru", 2, (6, 6), 1, dropout=0.5)
    theta = net.init_params(0)
    targets = _targets(rng, net, seqs)
    batch, Yb, wb, _ = _batch_problem(net, seqs, targets, np.ones(4))
    g1 = net.loss_and_grad(theta, batch, Yb, wb, rng=np.random.default_rng(5))[1]
    g1 = g1.copy()
    g2 = net.loss_and_grad(theta, batch, Yb, wb, rng=np.random.default_rng(5))[1]
    np.testing.assert_array_equal(g1, g2)
    g3 = net.loss_and_grad(theta, batch, Yb, wb, rng=np.random.default_rng(6))[1]
    assert not np.allclose(g1, g3)
    plain = RecurrentNetwork("gru", 2, (6, 6), 1)
    np.testing.assert_array_equal(
        net.forward(theta, batch), plain.forward(theta, batch)
    )


# ---------------------------------------------------------------- workspace
def test_workspace_reuses_grows_and_separates():
    ws = Workspace()
    a = ws.empty("a", (2, 3, 4), np.float32)
    assert a.shape == (2, 3, 4)
    assert a.dtype == np.float32
    assert a.flags.c_contiguous
    # Same key, no larger: the same memory, whatever the shape.
    b = ws.empty("a", (4, 5), np.float32)
    assert np.shares_memory(a, b)
    assert b.shape == (4, 5)
    # Larger: new memory, kept for later requests.
    c = ws.empty("a", (5, 6), np.float32)
    assert not np.shares_memory(a, c)
    assert np.shares_memory(c, ws.empty("a", (3,), np.float32))
    # Another dtype or key: other memory.
    d = ws.empty("a", (2,), np.float64)
    assert d.dtype == np.float64
    assert not np.shares_memory(c, d)
    assert not np.shares_memory(ws.empty("b", (2,), np.float64), d)
    assert ws.empty("z", (0, 3), np.float32).shape == (0, 3)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("per_step", [False, True])
@pytest.mark.parametrize("bptt_steps", [None, 2])
def test_workspace_gives_the_same_steps(cell, per_step, bptt_steps):
    # Successive steps on batches of other shapes (longer, then shorter and
    # fewer sequences) through one workspace equal steps that allocate
    # their own memory, bit for bit.
    rng = np.random.default_rng(2)
    net = _network(
        {"cell": cell, "hidden_layer_sizes": (4, 3), "bidirectional": True,
         "activation": "tanh"}, 2, 2, "squared_error", per_step,
    )  # fmt: skip
    theta = net.init_params(0)
    ws = Workspace()
    for lengths in ((5, 3, 6, 2), (9, 1, 4, 7), (3, 2), (8, 8, 8, 8, 8)):
        seqs = [rng.normal(size=(n, 2)) for n in lengths]
        targets = _targets(rng, net, seqs)
        batch, Yb, wb, _ = _batch_problem(net, seqs, targets, np.ones(len(seqs)))
        want_loss, want = net.loss_and_grad(theta, batch, Yb, wb, bptt_steps=bptt_steps)
        got_loss, got = net.loss_and_grad(
            theta, batch, Yb, wb, bptt_steps=bptt_steps, workspace=ws
        )
        assert got_loss == want_loss
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_fitted_model_keeps_no_workspace(solver):
    import pickle

    from skrnn import RNNRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 6, 2))
    y = X[:, -1, 0]
    model = RNNRegressor(
        hidden_layer_sizes=(4,), cell="lstm", solver=solver, max_iter=2,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert b"Workspace" not in pickle.dumps(model)
    assert not any(isinstance(v, Workspace) for v in vars(model).values())
    assert not any(isinstance(v, Workspace) for v in vars(model._network).values())


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from(CELLS),
    st.integers(1, 2),
    st.lists(st.integers(1, 3), min_size=1, max_size=2),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.integers(0, 2**16),
)
def test_layer_stack_gradients_match_finite_differences(cell, D, sizes, lengths, seed):
    """LayerStack.backward: parameters and initial states, from the gradients
    of the top outputs and of every layer's final states."""
    rng = np.random.default_rng(seed)
    net = RecurrentNetwork(
        cell, 2, tuple(sizes), 1, bidirectional=D == 2, per_step=True
    )
    theta = net.init_params(seed) + 0.1 * rng.normal(size=net.n_params)
    batch = make_batch([rng.normal(size=(T, 2)) for T in lengths])
    C, T, Bc = batch.n_chunks, batch.n_steps, batch.chunk_size
    c_sizes = [H if net.has_cell_state else 0 for H in sizes]

    def states():
        return [
            [
                (rng.normal(size=(C, Bc, H)), rng.normal(size=(C, Bc, c)))
                for _ in range(D)
            ]
            for H, c in zip(sizes, c_sizes)
        ]

    initial, d_final = states(), states()
    V = rng.normal(size=(C, T, Bc, D * sizes[-1])) * batch.step_mask()[..., None]
    stack = net.stack

    def objective(theta, initial):
        cache = stack.run(net.views(theta), batch, initial=initial, n_store=T)
        J = np.sum(V * cache.outputs)
        for layer, u_layer in zip(cache.final_states(), d_final):
            for (h_n, c_n), (u_h, u_c) in zip(layer, u_layer):
                J += np.sum(u_h * h_n) + np.sum(u_c * c_n)
        return J, cache

    _, cache = objective(theta, initial)
    grad = np.zeros_like(theta)
    d_initial = stack.backward(
        net.views(theta), net.views(grad), batch, cache, np.ascontiguousarray(V),
        d_final=d_final,
    )  # fmt: skip
    eps = 1e-6
    stack_params = [
        i for b in net.blocks if not b.name.startswith("output.")
        for i in range(b.start, b.stop)
    ]  # fmt: skip
    for i in stack_params:
        step = np.zeros_like(theta)
        step[i] = eps
        numeric = (objective(theta + step, initial)[0]
                   - objective(theta - step, initial)[0]) / (2 * eps)  # fmt: skip
        np.testing.assert_allclose(grad[i], numeric, rtol=1e-5, atol=1e-7)
    for k, layer in enumerate(initial):
        for d, pair in enumerate(layer):
            for s, state in enumerate(pair):
                for index in np.ndindex(state.shape):
                    saved = state[index]
                    values = []
                    for sign in (1, -1):
                        state[index] = saved + sign * eps
                        values.append(objective(theta, initial)[0])
                    state[index] = saved
                    numeric = (values[0] - values[1]) / (2 * eps)
                    np.testing.assert_allclose(
                        d_initial[k][d][s][index], numeric, rtol=1e-5, atol=1e-7
                    )
