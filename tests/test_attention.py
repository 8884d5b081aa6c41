"""Translator attention against a loop reference and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skrnn._attention import (
    ATTENTION_KINDS,
    attention_backward,
    attention_forward,
    attention_parameter_shapes,
    init_attention_params,
)


def naive_attention(kind, h, E_real, params):
    """One decoder step ``h`` (H,) over the real encoder outputs (L, K), by loops."""
    L = len(E_real)
    scores = np.zeros(L)
    for s in range(L):
        if kind == "dot":
            scores[s] = h @ E_real[s]
        elif kind == "general":
            scores[s] = h @ params["attention.weight"] @ E_real[s]
        else:
            hidden = np.tanh(
                params["attention.query.weight"] @ h
                + params["attention.key.weight"] @ E_real[s]
            )
            scores[s] = params["attention.v.weight"][0] @ hidden
    alpha = np.exp(scores - scores.max()) if L else scores
    alpha = alpha / alpha.sum() if L else alpha
    context = np.zeros(E_real.shape[1])
    for s in range(L):
        context += alpha[s] * E_real[s]
    combined = np.concatenate([context, h])
    W_c, b_c = params["attention.combine.weight"], params["attention.combine.bias"]
    return np.tanh(W_c @ combined + b_c), alpha


def _problem(kind, n, T_x, T_y, H, K, lengths, seed, dtype=np.float64):
    if kind == "dot":
        K = H
    rng = np.random.default_rng(seed)
    H_dec = rng.normal(size=(n, T_y, H)).astype(dtype)
    E = rng.normal(size=(n, T_x, K)).astype(dtype)
    params = init_attention_params(kind, H, K, random_state=seed, dtype=dtype)
    # Non-zero biases, so that their gradients are exercised too.
    params["attention.combine.bias"] += rng.normal(size=H).astype(dtype)
    return H_dec, E, np.asarray(lengths, dtype=np.int64), params


problems = st.integers(1, 3).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.integers(1, 4),  # T_x
        st.integers(1, 3),  # T_y
        st.integers(1, 3),  # H
        st.integers(1, 4),  # K
        st.integers(0, 2**16),
    ).flatmap(
        lambda p: st.tuples(
            st.just(p), st.lists(st.integers(0, p[1]), min_size=n, max_size=n)
        )
    )
)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
@settings(max_examples=30, deadline=None)
@given(problem=problems)
def test_forward_matches_loop_reference(kind, problem):
    (n, T_x, T_y, H, K, seed), lengths = problem
    H_dec, E, lengths, params = _problem(kind, n, T_x, T_y, H, K, lengths, seed)
    H_tilde, alpha, _ = attention_forward(kind, H_dec, E, lengths, params)
    for i in range(n):
        for t in range(T_y):
            expected, expected_alpha = naive_attention(
                kind, H_dec[i, t], E[i, : lengths[i]], params
            )
            np.testing.assert_allclose(H_tilde[i, t], expected, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(alpha[i, t, : lengths[i]], expected_alpha)
            assert np.all(alpha[i, t, lengths[i] :] == 0)


def _objective(kind, H_dec, E, lengths, params, weights):
    H_tilde, _, _ = attention_forward(kind, H_dec, E, lengths, params)
    return float(np.sum(weights * H_tilde))


def _numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        up = f()
        x[idx] = saved - eps
        down = f()
        x[idx] = saved
        grad[idx] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
@settings(max_examples=15, deadline=None)
@given(problem=problems)
def test_backward_matches_finite_differences(kind, problem):
    (n, T_x, T_y, H, K, seed), lengths = problem
    H_dec, E, lengths, params = _problem(kind, n, T_x, T_y, H, K, lengths, seed)
    weights = np.random.default_rng(seed + 1).normal(size=(n, T_y, H))
    _, _, cache = attention_forward(kind, H_dec, E, lengths, params)
    dH_dec, dE, dparams = attention_backward(kind, weights, cache, params)

    def f():
        return _objective(kind, H_dec, E, lengths, params, weights)

    tol = {"rtol": 1e-6, "atol": 1e-8}
    np.testing.assert_allclose(dH_dec, _numeric_gradient(f, H_dec), **tol)
    np.testing.assert_allclose(dE, _numeric_gradient(f, E), **tol)
    assert set(dparams) == set(params)
    for name, value in params.items():
        assert dparams[name].shape == value.shape
        np.testing.assert_allclose(
            dparams[name], _numeric_gradient(f, value), err_msg=name, **tol
        )


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_padding_never_changes_results(kind):
    """A sequence alone equals itself in a batch with longer ones, NaN padding too."""
    H_dec, E, lengths, params = _problem(kind, 3, 6, 4, 3, 5, [2, 6, 0], seed=1)
    H_tilde, alpha, cache = attention_forward(kind, H_dec, E, lengths, params)
    dH_tilde = np.random.default_rng(2).normal(size=H_tilde.shape)
    dH_dec, dE, dparams = attention_backward(kind, dH_tilde, cache, params)
    for i, length in enumerate(lengths):
        # The same sequence, padded with garbage to a different width.
        nan_step = np.full((1, 1, E.shape[2]), np.nan)
        E_alone = np.concatenate([E[i : i + 1, :length], nan_step], axis=1)
        alone = attention_forward(kind, H_dec[i : i + 1], E_alone, [length], params)
        np.testing.assert_allclose(alone[0][0], H_tilde[i], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(alone[1][0, :, :length], alpha[i, :, :length])
        back = attention_backward(kind, dH_tilde[i : i + 1], alone[2], params)
        np.testing.assert_allclose(back[0][0], dH_dec[i], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(back[1][0, :length], dE[i, :length], atol=1e-15)
        assert np.all(back[1][0, length:] == 0)
        assert np.all(dE[i, length:] == 0)
    # Parameter gradients of the batch are the sums of the sequences'.
    total = dict.fromkeys(dparams, 0)
    for i, length in enumerate(lengths):
        one = attention_forward(kind, H_dec[i : i + 1], E[i : i + 1], [length], params)
        for name, g in attention_backward(kind, dH_tilde[i : i + 1], one[2], params)[
            2
        ].items():
            total[name] = total[name] + g
    for name in dparams:
        np.testing.assert_allclose(total[name], dparams[name], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_empty_encoder_sequence_has_zero_context(kind):
    H_dec, E, lengths, params = _problem(kind, 1, 3, 2, 2, 2, [0], seed=3)
    H_tilde, alpha, _ = attention_forward(kind, H_dec, E, lengths, params)
    assert np.all(alpha == 0)
    no_steps = attention_forward(kind, H_dec, E[:, :0], lengths, params)[0]
    np.testing.assert_array_equal(no_steps, H_tilde)
    W_c, b_c = params["attention.combine.weight"], params["attention.combine.bias"]
    K = E.shape[2]
    np.testing.assert_allclose(H_tilde[0], np.tanh(H_dec[0] @ W_c[:, K:].T + b_c))


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_float32_is_preserved(kind):
    H_dec, E, lengths, params = _problem(
        kind, 2, 4, 3, 3, 5, [4, 1], seed=4, dtype=np.float32
    )
    H_tilde, alpha, cache = attention_forward(kind, H_dec, E, lengths, params)
    assert H_tilde.dtype == alpha.dtype == np.float32
    dH_dec, dE, dparams = attention_backward(kind, np.ones_like(H_tilde), cache, params)
    assert dH_dec.dtype == dE.dtype == np.float32
    assert all(g.dtype == np.float32 for g in dparams.values())
    ref = attention_forward(
        kind,
        H_dec.astype(float),
        E.astype(float),
        lengths,
        {k: v.astype(float) for k, v in params.items()},
    )[0]
    np.testing.assert_allclose(H_tilde, ref, rtol=1e-5, atol=1e-6)


def test_no_attention_passes_decoder_outputs_through():
    H_dec = np.ones((2, 3, 4))
    H_tilde, alpha, cache = attention_forward(
        None, H_dec, np.ones((2, 5, 6)), [5, 1], {}
    )
    assert H_tilde is H_dec
    assert alpha is None
    dH_dec, dE, dparams = attention_backward(None, H_dec * 2, cache, {})
    np.testing.assert_array_equal(dH_dec, H_dec * 2)
    assert dE is None
    assert dparams == {}


@pytest.mark.parametrize(
    ("kind", "shapes"),
    [
        ("dot", {"attention.combine.weight": (3, 6), "attention.combine.bias": (3,)}),
        (
            "general",
            {
                "attention.weight": (3, 3),
                "attention.combine.weight": (3, 6),
                "attention.combine.bias": (3,),
            },
        ),
        (
            "additive",
            {
                "attention.query.weight": (3, 3),
                "attention.key.weight": (3, 3),
                "attention.v.weight": (1, 3),
                "attention.combine.weight": (3, 6),
                "attention.combine.bias": (3,),
            },
        ),
        (None, {}),
    ],
)
def test_parameter_shapes(kind, shapes):
    assert attention_parameter_shapes(kind, 3, 3) == shapes


def test_glorot_uniform_initialisation():
    params = init_attention_params("general", 40, 60, random_state=0)
    limit = np.sqrt(6 / 100)
    W = params["attention.weight"]
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.95 * limit
    assert abs(W.std() - limit / np.sqrt(3)) < 0.01
    assert np.all(params["attention.combine.bias"] == 0)
    again = init_attention_params("general", 40, 60, random_state=0)
    np.testing.assert_array_equal(W, again["attention.weight"])
    float32 = init_attention_params("general", 4, 6, random_state=0, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in float32.values())


def test_dot_needs_equal_sizes():
    with pytest.raises(ValueError, match=r"decoder_size=4 and encoder_size=8.*general"):
        attention_parameter_shapes("dot", 4, 8)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="'kind' parameter .* must be"):
        attention_parameter_shapes("concat", 4, 8)
    with pytest.raises(ValueError, match=r"attention must be one of .* got 'concat'"):
        attention_forward("concat", np.ones((1, 1, 2)), np.ones((1, 1, 2)), [1], {})


def test_input_errors_say_what_was_expected():
    H_dec, E, lengths, params = _problem("general", 2, 4, 3, 3, 5, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"H_dec must be \(n, T_y, H\)"):
        attention_forward("general", H_dec[0], E, lengths, params)
    with pytest.raises(ValueError, match="same number of sequences"):
        attention_forward("general", H_dec[:1], E, lengths, params)
    with pytest.raises(ValueError, match=r"\[0, 4\], got values from 1 to 5"):
        attention_forward("general", H_dec, E, [5, 1], params)
    with pytest.raises(ValueError, match=r"'attention.weight' of shape \(3, 5\), got"):
        attention_forward("general", H_dec, E, lengths, {})
    _, _, cache = attention_forward("general", H_dec, E, lengths, params)
    with pytest.raises(ValueError, match="kind='dot' for a forward pass made with"):
        attention_backward("dot", H_dec, cache, params)
