"""The convolution front end: kernels against the NumPy reference, gradients
against finite differences, padding invariance, causality, PyTorch parity,
initialisation and the errors of ``conv_layers`` and ``conv_padding``."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skrnn._batching import make_batch
from skrnn._conv import (
    ConvFrontEnd,
    ConvLayer,
    ConvStream,
    check_conv_layers,
    check_unit_stride,
    onnx_front_end,
    output_lengths,
)

from .naive_conv import naive_stack_backward, naive_stack_forward, padding_sides

TOL = {np.float64: 1e-10, np.float32: 2e-4}


@st.composite
def problems(draw, max_layers=3, max_length=12, dtypes=(np.float64, np.float32)):
    """A front end, its parameters, ragged sequences and a batch of them."""
    padding = draw(st.sampled_from(["same", "causal"]))
    n_inputs = draw(st.integers(1, 4))
    entries = []
    for _ in range(draw(st.integers(1, max_layers))):
        width = draw(st.integers(1, 6))
        if padding == "same" and width % 2 == 0:
            width -= 1
        filters = draw(st.integers(1, 5))
        stride = draw(st.integers(1, 3))
        entries.append((filters, width, stride) if stride > 1 else (filters, width))
    front = ConvFrontEnd(tuple(entries), padding, n_inputs)
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    lengths = draw(st.lists(st.integers(1, max_length), min_size=1, max_size=6))
    sequences = [rng.normal(size=(L, n_inputs)) for L in lengths]
    n_chunks = draw(st.integers(1, 3))
    batch = make_batch(sequences, n_chunks=n_chunks, dtype=dtype)
    # Whatever padded steps hold is never read: fill them with noise.
    padded = ~batch.step_mask()
    batch.X[padded] = rng.normal(size=(int(padded.sum()), n_inputs))
    theta = front.init_params(seed, dtype)
    # A bias that keeps some units positive and some at zero.
    for k in range(len(entries)):
        front.views(theta)[f"conv.{k}.bias"][...] += rng.normal(
            scale=0.3, size=entries[k][0]
        )
    n_block = draw(st.sampled_from([None, 1, 2, 5]))
    return front, theta, sequences, batch, n_block, rng


def _naive_params(front, theta):
    P = front.views(theta.astype(np.float64))
    return [
        (P[f"conv.{k}.weight"], P[f"conv.{k}.bias"]) for k in range(len(front.layers))
    ]


def _strides(front):
    return [layer.stride for layer in front.layers]


def _scatter(Y, lengths, position, n_sequences):
    """Per-sequence outputs from batch layout, using the given lengths."""
    out = [None] * n_sequences
    for c, b in zip(*np.nonzero(position >= 0)):
        out[position[c, b]] = Y[c, : lengths[c, b], b]
    return out


@settings(max_examples=60, deadline=None)
@given(problems())
def test_forward_matches_reference(problem):
    front, theta, sequences, batch, n_block, _ = problem
    dtype = theta.dtype.type
    Y, lengths, _ = front.forward(
        front.views(theta), batch.X, batch.lengths, n_block=n_block
    )
    assert Y.dtype == theta.dtype
    assert Y.shape[1] == front.output_steps(batch.n_steps)
    np.testing.assert_array_equal(lengths, output_lengths(batch.lengths, front.layers))
    params = _naive_params(front, theta)
    outputs = _scatter(Y, lengths, batch.position, len(sequences))
    for x, y in zip(sequences, outputs):
        x = x.astype(dtype).astype(np.float64)
        expected = naive_stack_forward(x, params, _strides(front), front.conv_padding)
        np.testing.assert_allclose(y, expected[-1], rtol=TOL[dtype], atol=TOL[dtype])
    # Steps at or after a row's output length are zero.
    steps = np.arange(Y.shape[1])[None, :, None]
    assert not Y[steps >= lengths[:, None, :]].any()


@settings(max_examples=60, deadline=None)
@given(problems())
def test_backward_matches_reference(problem):
    front, theta, sequences, batch, n_block, rng = problem
    dtype = theta.dtype.type
    P = front.views(theta)
    Y, lengths, cache = front.forward(P, batch.X, batch.lengths, n_block=n_block)
    # Gradients at steps beyond a row's output length are never read.
    dY = rng.normal(size=Y.shape).astype(dtype)
    dP, dX = front.backward(P, cache, dY, n_block=n_block)
    params = _naive_params(front, theta)
    dys = _scatter(dY, lengths, batch.position, len(sequences))
    dxs = _scatter(dX, batch.lengths, batch.position, len(sequences))
    expected = dict.fromkeys(dP, 0.0)
    for x, dy, dx in zip(sequences, dys, dxs):
        x = x.astype(dtype).astype(np.float64)
        dx_ref, grads = naive_stack_backward(
            x, params, _strides(front), front.conv_padding, dy.astype(np.float64)
        )
        np.testing.assert_allclose(dx, dx_ref, rtol=TOL[dtype], atol=TOL[dtype])
        for k, (dW, db) in enumerate(grads):
            expected[f"conv.{k}.weight"] = expected[f"conv.{k}.weight"] + dW
            expected[f"conv.{k}.bias"] = expected[f"conv.{k}.bias"] + db
    for name, value in dP.items():
        assert value.dtype == theta.dtype
        np.testing.assert_allclose(
            value, expected[name], rtol=10 * TOL[dtype], atol=10 * TOL[dtype]
        )
    # No gradient reaches padded input steps.
    assert not dX[~batch.step_mask()].any()


def _objective(front, theta, batch, R):
    """``sum(R * Y)`` over the front end's outputs, and the outputs."""
    Y, _, _ = front.forward(front.views(theta), batch.X, batch.lengths)
    return float(np.sum(R * Y)), Y


@settings(max_examples=25, deadline=None)
@given(problems(max_layers=2, max_length=8, dtypes=(np.float64,)))
def test_gradients_match_finite_differences(problem):
    front, theta, _, batch, _, rng = problem
    P = front.views(theta)
    Y, _, cache = front.forward(P, batch.X, batch.lengths)
    R = rng.normal(size=Y.shape)
    dP, dX = front.backward(P, cache, R)
    grad = np.concatenate([dP[name].ravel() for name, _, _ in front.layout()])
    eps = 1e-6
    checked = 0
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += eps
        down[i] -= eps
        f_up, Y_up = _objective(front, up, batch, R)
        f_down, Y_down = _objective(front, down, batch, R)
        # A ReLU that switches between the two points has no derivative there.
        if not np.array_equal(Y_up > 0, Y_down > 0):
            continue
        checked += 1
        numeric = (f_up - f_down) / (2 * eps)
        assert abs(numeric - grad[i]) <= 1e-6 * max(1.0, abs(numeric)), i
    # The input gradient at a few real steps.
    real = np.argwhere(batch.step_mask())
    for c, t, b in real[rng.permutation(len(real))[:4]]:
        for j in range(batch.X.shape[3]):
            X_up, X_down = batch.X.copy(), batch.X.copy()
            X_up[c, t, b, j] += eps
            X_down[c, t, b, j] -= eps
            Y_up = front.forward(P, X_up, batch.lengths)[0]
            Y_down = front.forward(P, X_down, batch.lengths)[0]
            if not np.array_equal(Y_up > 0, Y_down > 0):
                continue
            checked += 1
            numeric = float(np.sum(R * (Y_up - Y_down))) / (2 * eps)
            assert abs(numeric - dX[c, t, b, j]) <= 1e-6 * max(1.0, abs(numeric))
    assume(checked > 0)


@settings(max_examples=30, deadline=None)
@given(problems(), st.integers(1, 7), st.integers(1, 3))
def test_padding_changes_nothing(problem, extra_steps, extra_sequences):
    """A sequence gives the same outputs and gradients alone, in a batch with
    longer ones, and with more padding."""
    front, theta, sequences, _, _, rng = problem
    dtype = theta.dtype.type
    P = front.views(theta)
    longest = max(len(s) for s in sequences)
    others = [
        rng.normal(size=(longest + extra_steps, front.n_inputs))
        for _ in range(extra_sequences)
    ]
    results = []
    for seqs, n_chunks in ((sequences, 1), (sequences + others, 2)):
        batch = make_batch(seqs, n_chunks=n_chunks, dtype=dtype)
        X = np.concatenate(
            [
                batch.X,
                rng.normal(size=batch.X.shape[:1] + (extra_steps,) + batch.X.shape[2:]),
            ],
            axis=1,
        ).astype(dtype)  # more padded steps, filled with noise
        Y, lengths, cache = front.forward(P, X, batch.lengths)
        dY = np.zeros_like(Y)
        for c, b in zip(*np.nonzero(batch.real)):
            i = batch.position[c, b]
            if i < len(sequences):
                dY[c, : lengths[c, b], b] = np.random.default_rng(i).normal(
                    size=(lengths[c, b], Y.shape[3])
                )
        dP, dX = front.backward(P, cache, dY)
        ys = _scatter(Y, lengths, batch.position, len(seqs))[: len(sequences)]
        dxs = _scatter(dX, batch.lengths, batch.position, len(seqs))[: len(sequences)]
        results.append((ys, dxs, dP))
    (ys_a, dxs_a, dP_a), (ys_b, dxs_b, dP_b) = results
    tol = TOL[dtype]
    for a, b in zip(ys_a + dxs_a, ys_b + dxs_b):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    for name in dP_a:
        np.testing.assert_allclose(dP_a[name], dP_b[name], rtol=10 * tol, atol=10 * tol)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(dtypes=(np.float64,)), st.data())
def test_causal_outputs_see_no_later_input(problem, data):
    """With causal padding, output step ``t`` of a layer reads input steps
    ``t * s - w + 1 .. t * s`` only, so the front end's outputs on a prefix of
    ``m`` steps are the first ``output_lengths(m)`` outputs on the whole
    sequence; in gradient terms, ``dY`` at output step ``t`` of one layer
    reaches no input step after ``t * s``."""
    front, theta, sequences, _, _, _ = problem
    P = front.views(theta)
    x = sequences[0]
    m = data.draw(st.integers(1, len(x)))
    Y_full, _, _ = front.forward(P, x[None, :, None], np.array([[len(x)]]))
    Y_prefix, _, _ = front.forward(P, x[None, :m, None], np.array([[m]]))
    n = int(front.output_lengths(m))
    same = np.allclose(Y_prefix[0, :n, 0], Y_full[0, :n, 0], rtol=0, atol=1e-12)
    if front.causal:
        assert same
    # One layer's Jacobian: output step t, every filter, back to the input.
    layer = front.layers[0]
    one = ConvFrontEnd((layer,), front.conv_padding, front.n_inputs)
    P1 = {"conv.0.weight": P["conv.0.weight"], "conv.0.bias": P["conv.0.bias"] + 10.0}
    Y, lengths, cache = one.forward(P1, x[None, :, None], np.array([[len(x)]]))
    t = data.draw(st.integers(0, Y.shape[1] - 1))
    dY = np.zeros_like(Y)
    dY[0, t, 0] = 1.0
    _, dX = one.backward(P1, cache, dY)
    reached = np.flatnonzero(np.abs(dX[0, :, 0]).sum(axis=1))
    left, _ = padding_sides(layer.width, front.conv_padding)
    lo, hi = t * layer.stride - left, t * layer.stride - left + layer.width - 1
    assert reached.size == 0 or (reached.min() >= lo and reached.max() <= hi)
    if front.causal:
        assert reached.size == 0 or reached.max() <= t * layer.stride


def test_same_padding_is_not_causal():
    """The causality test can fail: with "same" padding an output step reads
    the input steps after it."""
    front = ConvFrontEnd(((2, 3),), "same", 1)
    theta = front.init_params(0)
    theta[front.n_params - 2 :] = 5.0  # biases: every unit positive
    x = np.arange(1.0, 7.0)[:, None]
    P = front.views(theta)
    Y_full = front.forward(P, x[None, :, None], np.array([[6]]))[0]
    Y_prefix = front.forward(P, x[None, :4, None], np.array([[4]]))[0]
    assert not np.allclose(Y_prefix[0, :4, 0], Y_full[0, :4, 0])
    causal = ConvFrontEnd(((2, 3),), "causal", 1)
    Y_full = causal.forward(P, x[None, :, None], np.array([[6]]))[0]
    Y_prefix = causal.forward(P, x[None, :4, None], np.array([[4]]))[0]
    np.testing.assert_array_equal(Y_prefix[0, :4, 0], Y_full[0, :4, 0])


def test_nan_propagates():
    """ReLU lets NaN through: a diverging model shows instead of reading 0."""
    front = ConvFrontEnd(((3, 3),), "same", 2)
    theta = front.init_params(0)
    x = np.ones((5, 2))
    x[2, 1] = np.nan
    Y = front.forward(front.views(theta), x[None, :, None], np.array([[5]]))[0]
    assert np.isnan(Y[0, 1:4, 0]).all()
    assert np.isfinite(Y[0, [0, 4], 0]).all()


def test_layout_and_lengths():
    front = ConvFrontEnd(((8, 5, 2), (4, 3)), "same", 3)
    assert front.layout() == [
        ("conv.0.weight", (8, 3, 5), True),
        ("conv.0.bias", (8,), False),
        ("conv.1.weight", (4, 8, 3), True),
        ("conv.1.bias", (4,), False),
    ]
    assert front.n_params == 8 * 3 * 5 + 8 + 4 * 8 * 3 + 4
    assert front.layers == (ConvLayer(8, 5, 2), ConvLayer(4, 3, 1))
    assert front.n_outputs == 4
    assert front.stride == 2
    assert front.receptive_field == 1 + 4 + 2 * 2
    np.testing.assert_array_equal(
        front.output_lengths([1, 2, 3, 7, 8]), [1, 1, 2, 4, 4]
    )
    stacked = ConvFrontEnd(((2, 3, 2), (2, 3, 3)), "causal", 1)
    # ceil(ceil(L / 2) / 3)
    np.testing.assert_array_equal(
        stacked.output_lengths([1, 6, 7, 12, 13]), [1, 1, 2, 2, 3]
    )
    empty = ConvFrontEnd((), "same", 3)
    assert empty.layout() == []
    assert empty.n_outputs == 3
    assert empty.stride == 1
    X = np.ones((1, 4, 2, 3))
    Y, lengths, cache = empty.forward({}, X, np.array([[4, 2]]))
    assert Y is X
    assert empty.backward({}, cache, X)[1] is X


def test_initialisation_follows_conv1d():
    """Weights and biases uniform within 1 / sqrt(in_channels * width), drawn
    from the random state: the same seed gives the same values."""
    front = ConvFrontEnd(((64, 5), (32, 3, 2)), "causal", 13)
    theta = front.init_params(0)
    np.testing.assert_array_equal(theta, front.init_params(0))
    assert not np.array_equal(theta, front.init_params(1))
    P = front.views(theta)
    for k, fan_in in enumerate((13 * 5, 64 * 3)):
        bound = 1 / np.sqrt(fan_in)
        for kind in ("weight", "bias"):
            values = P[f"conv.{k}.{kind}"]
            assert np.abs(values).max() <= bound
            assert np.abs(values).max() > 0.9 * bound
        # The variance of U(-b, b) is b**2 / 3.
        assert abs(P[f"conv.{k}.weight"].var() / (bound**2 / 3) - 1) < 0.15
    assert front.init_params(0, np.float32).dtype == np.float32


@pytest.mark.parametrize("n_chunks", [1, 2])
def test_gradients_sum_over_chunks(n_chunks):
    """The same gradient whatever the chunks (per-chunk buffers, summed)."""
    rng = np.random.default_rng(3)
    front = ConvFrontEnd(((4, 3, 2), (3, 5)), "same", 2)
    P = front.views(front.init_params(0))
    sequences = [rng.normal(size=(L, 2)) for L in (9, 3, 7, 1, 5)]
    one = make_batch(sequences, n_chunks=1)
    many = make_batch(sequences, n_chunks=n_chunks)
    grads = []
    for batch in (one, many):
        Y, lengths, cache = front.forward(P, batch.X, batch.lengths)
        dY = np.zeros_like(Y)
        for c, b in zip(*np.nonzero(batch.real)):
            dY[c, :, b] = np.cos(np.arange(Y.shape[1]) + batch.position[c, b])[:, None]
        grads.append(front.backward(P, cache, dY, input_gradient=False))
    for name in grads[0][0]:
        np.testing.assert_allclose(grads[0][0][name], grads[1][0][name], rtol=1e-12)
    assert grads[0][1] is None


def test_gradients_into_given_views():
    front = ConvFrontEnd(((3, 3),), "causal", 2)
    theta = front.init_params(0)
    grad = np.full_like(theta, np.nan)
    dP = front.views(grad)
    batch = make_batch([np.ones((4, 2))])
    Y, _, cache = front.forward(front.views(theta), batch.X, batch.lengths)
    returned, _ = front.backward(front.views(theta), cache, np.ones_like(Y), dP=dP)
    assert returned is dP
    assert np.isfinite(grad).all()


# PyTorch parity --------------------------------------------------------------


def _torch_stack(torch, front, P, dtype):
    layers = []
    for k, layer in enumerate(front.layers):
        conv = torch.nn.Conv1d(
            front.in_channels[k], layer.filters, layer.width, stride=layer.stride,
            padding=layer.width // 2 if front.conv_padding == "same" else 0,
            dtype=dtype,
        )  # fmt: skip
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(np.array(P[f"conv.{k}.weight"])))
            conv.bias.copy_(torch.from_numpy(np.array(P[f"conv.{k}.bias"])))
        layers.append(conv)
    return layers


def _torch_run(torch, front, layers, x):
    """Conv1d + ReLU per layer; causal layers pad width - 1 zeros on the left."""
    h = x.T[None]  # (1, channels, steps)
    for layer, conv in zip(front.layers, layers):
        if front.conv_padding == "causal":
            h = torch.nn.functional.pad(h, (layer.width - 1, 0))
        h = torch.relu(conv(h))
    return h[0].T


@settings(max_examples=15, deadline=None)
@given(problems())
def test_matches_pytorch(problem):
    torch = pytest.importorskip("torch")
    front, theta, sequences, batch, _, rng = problem
    dtype = theta.dtype.type
    torch_dtype = torch.float64 if dtype is np.float64 else torch.float32
    P = front.views(theta)
    Y, lengths, cache = front.forward(P, batch.X, batch.lengths)
    dY = rng.normal(size=Y.shape).astype(dtype)
    dP, dX = front.backward(P, cache, dY)
    layers = _torch_stack(torch, front, P, torch_dtype)
    ys = _scatter(Y, lengths, batch.position, len(sequences))
    dys = _scatter(dY, lengths, batch.position, len(sequences))
    dxs = _scatter(dX, batch.lengths, batch.position, len(sequences))
    tol = 10 * TOL[dtype]
    for x, y, dy, dx in zip(sequences, ys, dys, dxs):
        xt = torch.tensor(x.astype(dtype), requires_grad=True)
        out = _torch_run(torch, front, layers, xt)
        np.testing.assert_allclose(y, out.detach().numpy(), rtol=tol, atol=tol)
        out.backward(torch.from_numpy(np.ascontiguousarray(dy)))
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=tol, atol=tol)
    for k, conv in enumerate(layers):
        for kind in ("weight", "bias"):
            np.testing.assert_allclose(
                dP[f"conv.{k}.{kind}"], getattr(conv, kind).grad.numpy(),
                rtol=tol, atol=tol,
            )  # fmt: skip


# Errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conv_layers", "conv_padding", "error", "match"),
    [
        (((64, 4),), "same", ValueError, r"conv_layers\[0\] has width 4, but "
         r"conv_padding='same' needs an odd width.*use width 3 or 5, or "
         r"conv_padding='causal'"),
        (((8, 3), (64, 6, 2)), "same", ValueError, r"conv_layers\[1\] has width 6"),
        (((64, 5),), "valid", ValueError,
         r"conv_padding must be 'same' or 'causal', got 'valid'"),
        (((64, 5),), None, ValueError, r"conv_padding must be .* got None"),
        ((64, 5), "same", ValueError,
         r"conv_layers got \(64, 5\), a single entry.*conv_layers=\(\(64, 5\),\)"),
        (((64,),), "same", ValueError,
         r"conv_layers\[0\] is \(64,\); each entry must be \(filters, width\) "
         r"or \(filters, width, stride\)"),
        (((64, 5, 2, 1),), "same", ValueError, r"conv_layers\[0\] is \(64, 5, 2, 1\)"),
        ((64,), "same", ValueError, r"single entry"),
        ((None,), "same", ValueError, r"conv_layers\[0\] is None"),
        (((0, 5),), "same", ValueError,
         r"conv_layers\[0\] has filters=0; .* must be positive integers"),
        (((8, 5, 0),), "causal", ValueError, r"conv_layers\[0\] has stride=0"),
        (((8, -3),), "causal", ValueError, r"has width=-3"),
        (((8, 2.5),), "causal", TypeError,
         r"conv_layers\[0\] has width=2.5 \(float\); .* must be integers"),
        (((8, True),), "causal", TypeError, r"has width=True \(bool\)"),
        ("64,5", "same", TypeError,
         r"conv_layers must be a tuple of \(filters, width\) or \(filters, "
         r"width, stride\) entries, got '64,5'"),
        (None, "same", TypeError, r"got None.*or \(\) for no convolution"),
    ],
)  # fmt: skip
def test_invalid_conv_layers(conv_layers, conv_padding, error, match):
    with pytest.raises(error, match=match):
        check_conv_layers(conv_layers, conv_padding)
    with pytest.raises(error, match=match):
        ConvFrontEnd(conv_layers, conv_padding, 3)


def test_valid_entries():
    assert check_conv_layers(((64, 4),), "causal") == (ConvLayer(64, 4, 1),)
    assert check_conv_layers([[8, 3, np.int64(2)]], "same") == (ConvLayer(8, 3, 2),)
    assert check_conv_layers((), "same") == ()


def test_unit_stride_refusal():
    layers = check_conv_layers(((8, 3), (8, 3, 2)), "same")
    reason = "SequenceTagger predicts one label per input step"
    with pytest.raises(
        ValueError,
        match=r"conv_layers\[1\] has stride 2, but SequenceTagger predicts one "
        r"label per input step, .*ceil\(T / 2\) output steps.*use entries",
    ):
        check_unit_stride(layers, reason)
    check_unit_stride(layers[:1], reason)


@pytest.mark.parametrize(
    ("X_shape", "lengths", "match"),
    [
        (
            (1, 4, 2),
            [[4, 2]],
            r"X must have shape \(n_chunks, n_steps, chunk_size, 3\)",
        ),
        ((1, 4, 2, 2), [[4, 2]], r"X must have shape .* got \(1, 4, 2, 2\)"),
        ((1, 4, 2, 3), [[4]], r"lengths must have shape \(1, 2\)"),
        ((1, 4, 2, 3), [[5, 2]], r"lengths must lie in \[0, 4\]"),
    ],
)
def test_invalid_batch(X_shape, lengths, match):
    front = ConvFrontEnd(((2, 3),), "same", 3)
    with pytest.raises(ValueError, match=match):
        front.forward(front.views(front.init_params(0)), np.zeros(X_shape), lengths)


def test_invalid_inputs_and_gradient():
    with pytest.raises(ValueError, match="n_inputs must be a positive integer, got 0"):
        ConvFrontEnd(((2, 3),), "same", 0)
    front = ConvFrontEnd(((2, 3),), "same", 1)
    P = front.views(front.init_params(0))
    Y, _, cache = front.forward(P, np.ones((1, 4, 1, 1)), [[4]])
    with pytest.raises(
        ValueError, match=r"dY has shape \(1, 3, 1, 2\); .* \(1, 4, 1, 2\)"
    ):
        front.backward(P, cache, np.ones((1, 3, 1, 2)))
    with pytest.raises(TypeError, match="Parameters must be float32 or float64"):
        front.forward(
            {k: v.astype(np.int64) for k, v in P.items()}, np.ones((1, 4, 1, 1)), [[4]]
        )


# Streaming -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(problems(), st.data())
def test_stream_matches_batch(problem, data):
    """Steps pushed in pieces of any size give, concatenated, the batch
    forward of each stream's sequence; streams may push different numbers
    of steps at once (and so be at different phases of the strides)."""
    front, theta, sequences, _, _, _ = problem
    causal = ConvFrontEnd(
        tuple(tuple(layer) for layer in front.layers), "causal", front.n_inputs
    )
    P = causal.views(theta)
    dtype = theta.dtype.type
    stream = ConvStream(causal, P, n_streams=len(sequences))
    outputs = [[] for _ in sequences]
    done = np.zeros(len(sequences), np.int64)
    lengths = np.array([len(x) for x in sequences])
    while (done < lengths).any():
        k = data.draw(st.integers(1, 4))
        counts = np.array(
            [data.draw(st.integers(0, min(k, L - d))) for L, d in zip(lengths, done)]
        )
        if not counts.any():  # progress: the first unfinished stream moves on
            counts[np.flatnonzero(done < lengths)[0]] = 1
        X = np.zeros((len(sequences), k, causal.n_inputs), dtype)
        for n, x in enumerate(sequences):
            X[n, : counts[n]] = x[done[n] : done[n] + counts[n]]
        Y, out_counts = stream.push(X, counts)
        for n in range(len(sequences)):
            outputs[n].append(Y[n, : out_counts[n]])
            assert not Y[n, out_counts[n] :].any()
        done += counts
    np.testing.assert_array_equal(stream.steps_seen, lengths)
    tol = TOL[dtype]
    for n, x in enumerate(sequences):
        expected = causal.forward(P, x[None, :, None].astype(dtype), [[len(x)]])[0]
        got = np.concatenate(outputs[n])
        assert got.shape == (int(causal.output_lengths(len(x))), causal.n_outputs)
        np.testing.assert_allclose(got, expected[0, :, 0], rtol=tol, atol=tol)


def test_stream_reset_and_refusals():
    front = ConvFrontEnd(((3, 3, 2), (2, 2)), "causal", 2)
    P = front.views(front.init_params(0))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 2))
    stream = ConvStream(front, P, n_streams=2)
    first, counts = stream.push(x)
    np.testing.assert_array_equal(counts, [3, 3])
    stream.push(rng.normal(size=(2, 2, 2)))
    stream.reset([1])
    np.testing.assert_array_equal(stream.steps_seen, [7, 0])
    again, counts = stream.push(x)
    # Steps 7..11 of stream 0 complete outputs 4 and 5 (at steps 8 and 10).
    np.testing.assert_array_equal(counts, [2, 3])
    np.testing.assert_array_equal(again[1], first[1])
    with pytest.raises(
        ValueError, match=r"X must have shape \(2, k, 2\) .* got \(5, 2\)"
    ):
        stream.push(x[0])
    with pytest.raises(
        ValueError,
        match=r"Only a causal front end can stream, got conv_padding='same'.*"
        r"Use conv_padding='causal'",
    ):
        ConvStream(ConvFrontEnd(((3, 3),), "same", 2), P)
    with pytest.raises(
        ValueError, match=r"counts must hold 2 values in \[0, 5\] .* got \[6, 1\]"
    ):
        stream.push(x, counts=[6, 1])
    np.testing.assert_array_equal(
        stream.steps_seen, [12, 5]
    )  # unchanged by the refusal


def test_outputs_into_workspace():
    """A workspace's memory is reused from one call to the next."""
    from skrnn._network import Workspace

    front = ConvFrontEnd(((3, 3), (2, 3, 2)), "same", 2)
    P = front.views(front.init_params(0))
    batch = make_batch([np.ones((6, 2)), np.ones((3, 2))])
    workspace = Workspace()
    first, _, _ = front.forward(P, batch.X, batch.lengths, workspace=workspace)
    expected = front.forward(P, batch.X, batch.lengths)[0]
    np.testing.assert_array_equal(first, expected)
    second, _, _ = front.forward(P, batch.X, batch.lengths, workspace=workspace)
    assert np.shares_memory(first, second)


def test_one_compiled_signature_per_dtype():
    """Strides, paddings, widths, block sizes and chunks are run-time values:
    each kernel compiles once per dtype (cold compiles are costly)."""
    from skrnn._kernels import _conv as kernels

    if not hasattr(kernels.conv_forward, "signatures"):
        pytest.skip("Numba's JIT is disabled")
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for padding, layers in (
            ("same", ((3, 1), (2, 5, 3))),
            ("causal", ((4, 2, 2), (2, 4))),
        ):
            front = ConvFrontEnd(layers, padding, 2)
            P = front.views(front.init_params(0, dtype))
            for n_chunks in (1, 2):
                batch = make_batch(
                    [rng.normal(size=(L, 2)) for L in (7, 2, 5)], n_chunks, dtype
                )
                Y, _, cache = front.forward(P, batch.X, batch.lengths, n_block=2)
                front.backward(P, cache, np.ones_like(Y), input_gradient=False)
                front.backward(P, cache, np.ones_like(Y))
            if front.causal:
                ConvStream(front, P, 2).push(rng.normal(size=(2, 3, 2)))
    for kernel in (
        kernels.conv_forward,
        kernels.conv_backward,
        kernels.conv_stream_push,
    ):
        assert len(kernel.signatures) <= 2, kernel.signatures


# ONNX ------------------------------------------------------------------------


def _onnx_session(front, P, with_lengths):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    from skrnn.onnx import _Graph

    graph = _Graph()
    y, lengths = onnx_front_end(
        front, graph, P, "X", "lengths" if with_lengths else None
    )
    outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", "T2", "F"])]
    graph.nodes.append(helper.make_node("Identity", [y], ["Y"]))
    if with_lengths:
        graph.nodes.append(helper.make_node("Identity", [lengths], ["out_lengths"]))
        outputs.append(
            helper.make_tensor_value_info("out_lengths", TensorProto.INT32, ["N"])
        )
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", "T", "I"])]
    if with_lengths:
        inputs.append(
            helper.make_tensor_value_info("lengths", TensorProto.INT32, ["N"])
        )
    model = helper.make_model(
        helper.make_graph(graph.nodes, "conv", inputs, outputs, graph.initializers),
        opset_imports=[helper.make_operatorsetid("", 15)],
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


@settings(max_examples=15, deadline=None)
@given(problems(dtypes=(np.float32,)))
def test_onnx_front_end_matches(problem):
    """ONNX's Conv and Relu, with the lengths' masks, give the front end's
    outputs and lengths on a padded batch whose padding holds noise."""
    front, theta, sequences, _, _, rng = problem
    P = front.views(theta)
    session = _onnx_session(front, P, with_lengths=True)
    lengths = np.array([len(x) for x in sequences], np.int32)
    X = rng.normal(size=(len(sequences), lengths.max(), front.n_inputs))
    for i, x in enumerate(sequences):
        X[i, : len(x)] = x
    Y, out_lengths = session.run(None, {"X": X.astype(np.float32), "lengths": lengths})
    np.testing.assert_array_equal(out_lengths, front.output_lengths(lengths))
    for i, x in enumerate(sequences):
        expected = front.forward(P, x[None, :, None].astype(np.float32), [[len(x)]])[0]
        np.testing.assert_allclose(
            Y[i, : out_lengths[i]], expected[0, :, 0], rtol=1e-4, atol=1e-5
        )
        assert not Y[i, out_lengths[i] :].any()


def test_onnx_front_end_without_lengths():
    front = ConvFrontEnd(((4, 3, 2), (3, 5)), "same", 2)
    P = front.views(front.init_params(0, np.float32))
    X = np.random.default_rng(0).normal(size=(3, 7, 2)).astype(np.float32)
    (Y,) = _onnx_session(front, P, with_lengths=False).run(None, {"X": X})
    batch = make_batch(list(X), dtype=np.float32)
    expected = front.forward(P, batch.X, batch.lengths)[0]
    np.testing.assert_allclose(Y, batch.scatter_steps(expected), rtol=1e-5, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(problems(dtypes=(np.float64,)), st.data())
def test_causal_stack_reads_its_receptive_field_exactly(problem, data):
    """Output step ``t`` of a causal stack depends on input steps within
    ``t * stride - receptive_field + 1 .. t * stride`` and on both ends (the
    first where it exists): with every unit active (positive weights and
    biases) the input gradient of a one-hot output gradient reaches them.
    Strides above the width below them leave gaps inside the span."""
    front, theta, _, _, _, rng = problem
    front = ConvFrontEnd(
        tuple(tuple(layer) for layer in front.layers), "causal", front.n_inputs
    )
    theta = rng.uniform(0.1, 1.0, size=front.n_params)
    P = front.views(theta)
    L = data.draw(st.integers(1, 30))
    x = rng.uniform(0.1, 1.0, size=(L, front.n_inputs))
    Y, lengths, cache = front.forward(P, x[None, :, None], np.array([[L]]))
    t = data.draw(st.integers(0, int(lengths[0, 0]) - 1))
    dY = np.zeros_like(Y)
    dY[0, t, 0, data.draw(st.integers(0, front.n_outputs - 1))] = 1.0
    _, dX = front.backward(P, cache, dY)
    reached = np.flatnonzero(np.abs(dX[0, :, 0]).sum(axis=1))
    end = t * front.stride
    start = end - front.receptive_field + 1
    assert reached.max() == end
    assert reached.min() == max(start, 0)
    if all(layer.stride <= layer.width for layer in front.layers):
        np.testing.assert_array_equal(reached, np.arange(max(start, 0), end + 1))
