"""Luong global attention over encoder outputs, forward and backward.

The attention of the sequence translator reads the outputs of the decoder's
recurrent stack, so the recurrent part runs on the ordinary kernels and the
attention is one batched computation over all decoder steps at once. For a
decoder output ``h_t`` (width ``H``) and the encoder outputs ``E_s`` (width
``K``) of the real steps ``s < length``:

- scores ``e_ts``: ``"dot"`` ``h_t . E_s`` (needs ``H == K``); ``"general"``
  ``h_t^T W_a E_s``; ``"additive"`` (Bahdanau's score)
  ``v^T tanh(W_q h_t + W_k E_s)`` with an attention width of ``H``;
- weights ``alpha_t = softmax_s(e_ts)`` over the real steps only;
- context ``c_t = sum_s alpha_ts E_s``;
- attentional state ``h~_t = tanh(W_c [c_t; h_t] + b_c)``, read by the
  output layer.

An encoder sequence of length 0 has nothing to attend to: its weights are all
zero and its context is the zero vector, so ``h~_t = tanh(W_c [0; h_t] +
b_c)``. Padded encoder steps are excluded from the softmax and their values
are never read (they may hold anything, NaN included), so a sequence gets the
same result alone or in a batch with longer ones; their gradient is zero.
Decoder steps are independent of each other: padded decoder steps give
values the caller ignores, and a zero gradient there contributes nothing.

Everything is computed in the dtype of the inputs (float32 stays float32).
The masked softmax is a kernel of :mod:`skrnn._kernels._dense`; the products
over all decoder steps split their rows over the chunk threads
(:func:`skrnn._runtime._dispatch.matmul`), and the products of each sequence's steps
with its encoder steps are NumPy's stacked ``matmul``.
Parameters are a dict keyed by the translator's parameter names
(``"attention.weight"``, ...), shapes from :func:`attention_parameter_shapes`.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ._compat import Interval, Options, StrOptions, validate_params
from ._kernels._dense import masked_softmax
from ._runtime._dispatch import matmul, matmul_tn

__all__ = [
    "ATTENTION_KINDS",
    "attention_backward",
    "attention_forward",
    "attention_parameter_shapes",
    "init_attention_params",
]

ATTENTION_KINDS = ("dot", "general", "additive")


def _check_kind(kind):
    if kind is not None and kind not in ATTENTION_KINDS:
        raise ValueError(
            f"attention must be one of {ATTENTION_KINDS} or None, got {kind!r}."
        )


def _parameter_shapes(kind, H, K):
    """:func:`attention_parameter_shapes` without the parameter validation."""
    if kind is None:
        return {}
    if kind == "dot" and H != K:
        raise ValueError(
            f'attention="dot" scores h_t . E_s and needs the decoder width to equal '
            f"the encoder output width, got decoder_size={H} and encoder_size={K} "
            "(a bidirectional encoder doubles it). Use attention='general' or "
            "'additive', or make the sizes equal."
        )
    shapes = {}
    if kind == "general":
        shapes["attention.weight"] = (H, K)
    elif kind == "additive":
        shapes["attention.query.weight"] = (H, H)
        shapes["attention.key.weight"] = (H, K)
        shapes["attention.v.weight"] = (1, H)
    shapes["attention.combine.weight"] = (H, K + H)
    shapes["attention.combine.bias"] = (H,)
    return shapes


@validate_params(
    {
        "kind": [StrOptions(set(ATTENTION_KINDS)), None],
        "decoder_size": [Interval(Integral, 1, None, closed="left")],
        "encoder_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def attention_parameter_shapes(kind, decoder_size, encoder_size):
    """Names and shapes of the attention parameters of one kind.

    Parameters
    ----------
    kind : {"dot", "general", "additive"} or None
        Score function; None (no attention) has no parameters.
    decoder_size : int
        Width ``H`` of the decoder's last recurrent layer.
    encoder_size : int
        Width ``K`` of the encoder outputs (``D * H_enc`` with ``D = 2`` for a
        bidirectional encoder).

    Returns
    -------
    shapes : dict of str to tuple of int
        Parameter name to shape, in a fixed order: the score parameters
        (``attention.weight`` ``(H, K)`` for "general";
        ``attention.query.weight`` ``(H, H)``, ``attention.key.weight``
        ``(H, K)`` and ``attention.v.weight`` ``(1, H)`` for "additive"), then
        ``attention.combine.weight`` ``(H, K + H)`` and
        ``attention.combine.bias`` ``(H,)``.

    Raises
    ------
    ValueError
        If ``kind`` is "dot" and the two sizes differ.

    See Also
    --------
    init_attention_params : Initial values for these parameters.

    Examples
    --------
    >>> from skrnn._attention import attention_parameter_shapes
    >>> attention_parameter_shapes("general", 4, 6)
    {'attention.weight': (4, 6), 'attention.combine.weight': (4, 10), \
'attention.combine.bias': (4,)}
    """
    return _parameter_shapes(kind, int(decoder_size), int(encoder_size))


@validate_params(
    {
        "kind": [StrOptions(set(ATTENTION_KINDS)), None],
        "decoder_size": [Interval(Integral, 1, None, closed="left")],
        "encoder_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "dtype": [Options(type, {np.float32, np.float64})],
    },
    prefer_skip_nested_validation=True,
)
def init_attention_params(
    kind, decoder_size, encoder_size, random_state=None, dtype=np.float64
):
    """Initial attention parameters: Glorot-uniform weights, zero biases.

    Parameters
    ----------
    kind : {"dot", "general", "additive"} or None
        Score function.
    decoder_size : int
        Width ``H`` of the decoder's last recurrent layer.
    encoder_size : int
        Width ``K`` of the encoder outputs.
    random_state : int, RandomState instance or None, default=None
        Seed or generator of the weights.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float64
        Dtype of the arrays.

    Returns
    -------
    params : dict of str to ndarray
        Arrays of the shapes given by :func:`attention_parameter_shapes`. A
        weight of shape ``(fan_out, fan_in)`` is drawn uniformly from
        ``[-l, l]`` with ``l = sqrt(6 / (fan_in + fan_out))``.

    See Also
    --------
    attention_parameter_shapes : The names and shapes.

    Examples
    --------
    >>> from skrnn._attention import init_attention_params
    >>> params = init_attention_params("additive", 3, 5, random_state=0)
    >>> sorted(params)
    ['attention.combine.bias', 'attention.combine.weight', \
'attention.key.weight', 'attention.query.weight', 'attention.v.weight']
    >>> params["attention.combine.bias"]
    array([0., 0., 0.])
    """
    rng = check_random_state(random_state)
    params = {}
    for name, shape in attention_parameter_shapes(
        kind, decoder_size, encoder_size
    ).items():
        if name.endswith(".bias"):
            params[name] = np.zeros(shape, dtype=dtype)
        else:
            limit = np.sqrt(6.0 / (shape[0] + shape[1]))
            params[name] = rng.uniform(-limit, limit, size=shape).astype(dtype)
    return params


def _check_inputs(kind, H_dec, E, enc_lengths, params):
    _check_kind(kind)
    if H_dec.ndim != 3 or E.ndim != 3:
        raise ValueError(
            "H_dec must be (n, T_y, H) and E (n, T_x, K), got shapes "
            f"{H_dec.shape} and {E.shape}."
        )
    n, T_x, K = E.shape
    if H_dec.shape[0] != n or enc_lengths.shape != (n,):
        raise ValueError(
            f"H_dec {H_dec.shape}, E {E.shape} and enc_lengths "
            f"{enc_lengths.shape} must have the same number of sequences n on "
            "their first axis."
        )
    if n and (enc_lengths.min() < 0 or enc_lengths.max() > T_x):
        raise ValueError(
            f"enc_lengths must lie in [0, T_x] = [0, {T_x}], got values from "
            f"{enc_lengths.min()} to {enc_lengths.max()}."
        )
    expected = _parameter_shapes(kind, H_dec.shape[2], K)
    for name, shape in expected.items():
        if name not in params or np.shape(params[name]) != shape:
            got = np.shape(params[name]) if name in params else "missing"
            raise ValueError(
                f"attention={kind!r} with decoder width {H_dec.shape[2]} and "
                f"encoder width {K} needs {name!r} of shape {shape}, got {got}."
            )


def _padded(enc_lengths, T_x):
    """Whether any encoder sequence is shorter than ``T_x``."""
    return enc_lengths.shape[0] > 0 and int(enc_lengths.min()) < T_x


def _matmul(A, B):
    """``A @ B`` for ``A`` of shape (n, T, I) as one 2-D GEMM (numpy would
    multiply the ``n`` matrices one by one), its rows split over the chunk
    threads (:func:`skrnn._runtime._dispatch.matmul`)."""
    A2 = np.ascontiguousarray(A.reshape(-1, A.shape[-1]))
    return matmul(A2, B).reshape(A.shape[:-1] + (B.shape[1],))


def _weight_gradient(dY, X):
    """``dY.T @ X`` over the rows of both (flattened to 2-D), for a weight's
    gradient (:func:`skrnn._runtime._dispatch.matmul_tn`)."""
    dY2 = np.ascontiguousarray(dY.reshape(-1, dY.shape[-1]))
    X2 = np.ascontiguousarray(X.reshape(-1, X.shape[-1]))
    return matmul_tn(dY2, X2)


def attention_forward(kind, H_dec, E, enc_lengths, params):
    """Attentional states of every decoder step of a padded batch.

    Parameters
    ----------
    kind : {"dot", "general", "additive"} or None
        Score function; None returns the decoder outputs unchanged.
    H_dec : ndarray of shape (n, T_y, H)
        Outputs of the decoder's last recurrent layer, padded.
    E : ndarray of shape (n, T_x, K)
        Encoder outputs, padded; only ``E[i, :enc_lengths[i]]`` is read.
    enc_lengths : ndarray of shape (n,)
        Real length of every encoder sequence, 0 allowed (zero context).
    params : dict of str to ndarray
        Attention parameters by name (:func:`attention_parameter_shapes`),
        in the dtype of ``H_dec``.

    Returns
    -------
    H_tilde : ndarray of shape (n, T_y, H)
        Attentional states ``tanh(W_c [c_t; h_t] + b_c)`` (``H_dec`` itself
        when ``kind`` is None).
    alpha : ndarray of shape (n, T_y, T_x) or None
        Attention weights, zero on padded encoder steps (None without
        attention).
    cache : dict
        What :func:`attention_backward` needs.

    Raises
    ------
    ValueError
        If the kind, the shapes, the lengths or the parameters do not fit.

    See Also
    --------
    attention_backward : The gradients of this function.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn._attention import attention_forward, init_attention_params
    >>> rng = np.random.default_rng(0)
    >>> H_dec, E = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    >>> params = init_attention_params("dot", 4, 4, random_state=0)
    >>> H_tilde, alpha, _ = attention_forward("dot", H_dec, E, np.array([5, 2]), params)
    >>> H_tilde.shape
    (2, 3, 4)
    >>> alpha.sum(axis=-1).round(6)
    array([[1., 1., 1.],
           [1., 1., 1.]])
    >>> bool((alpha[1, :, 2:] == 0).all())
    True
    """
    H_dec, E = np.asarray(H_dec), np.asarray(E)
    enc_lengths = np.asarray(enc_lengths)
    _check_inputs(kind, H_dec, E, enc_lengths, params)
    return _attention_forward(kind, H_dec, E, enc_lengths, params)


def _attention_forward(kind, H_dec, E, enc_lengths, params):
    """:func:`attention_forward` on arrays already checked (the network's
    own calls, made every training step)."""
    if kind is None:
        return H_dec, None, {"kind": None}
    n, T_x, K = E.shape
    T_y = H_dec.shape[1]
    H_dec = np.ascontiguousarray(H_dec)
    lengths = enc_lengths.astype(np.int64, copy=False)
    mask = np.arange(T_x) < enc_lengths[:, None]  # (n, T_x)
    # Padding is zeroed rather than only masked out of the softmax: weights
    # of exactly 0 times a NaN or inf left in padding would still be NaN.
    padded = _padded(enc_lengths, T_x)
    if padded:
        E = np.where(mask[:, :, None], E, 0)
    E = np.ascontiguousarray(E, dtype=H_dec.dtype)
    cache = {"kind": kind, "H_dec": H_dec, "E": E, "mask": mask, "padded": padded}
    if kind == "dot":
        scores = H_dec @ E.transpose(0, 2, 1)
    elif kind == "general":
        projected = _matmul(H_dec, params["attention.weight"])  # (n, T_y, K)
        scores = projected @ E.transpose(0, 2, 1)
        cache["projected"] = projected
    else:
        queries = _matmul(H_dec, params["attention.query.weight"].T)  # (n, T_y, H)
        keys = _matmul(E, params["attention.key.weight"].T)  # (n, T_x, H)
        hidden = np.tanh(queries[:, :, None, :] + keys[:, None, :, :])
        scores = hidden @ params["attention.v.weight"][0]  # (n, T_y, T_x)
        cache["hidden"] = hidden
    alpha = np.empty((n, T_y, T_x), dtype=H_dec.dtype)
    masked_softmax(np.ascontiguousarray(scores), lengths, alpha)
    context = alpha @ E  # (n, T_y, K)
    combined = np.concatenate([context, H_dec], axis=-1)
    H_tilde = _matmul(combined, params["attention.combine.weight"].T)
    H_tilde += params["attention.combine.bias"]
    np.tanh(H_tilde, out=H_tilde)
    cache.update(alpha=alpha, combined=combined, H_tilde=H_tilde)
    return H_tilde, alpha, cache


def attention_backward(kind, dH_tilde, cache, params):
    """Gradients of the attention with respect to its inputs and parameters.

    Parameters
    ----------
    kind : {"dot", "general", "additive"} or None
        Score function, as given to :func:`attention_forward`.
    dH_tilde : ndarray of shape (n, T_y, H)
        Gradient of the objective with respect to ``H_tilde`` (zero on padded
        decoder steps).
    cache : dict
        The cache returned by :func:`attention_forward`.
    params : dict of str to ndarray
        The parameters given to :func:`attention_forward`.

    Returns
    -------
    dH_dec : ndarray of shape (n, T_y, H)
        Gradient with respect to the decoder outputs.
    dE : ndarray of shape (n, T_x, K) or None
        Gradient with respect to the encoder outputs, zero on padded steps
        (None without attention: the encoder outputs are not read).
    dparams : dict of str to ndarray
        Gradient of every parameter, same names and shapes as ``params``.

    Raises
    ------
    ValueError
        If ``kind`` is not the kind of the forward pass that made ``cache``.

    See Also
    --------
    attention_forward : The forward pass.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn._attention import (
    ...     attention_backward, attention_forward, init_attention_params)
    >>> rng = np.random.default_rng(0)
    >>> H_dec, E = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 6))
    >>> params = init_attention_params("general", 4, 6, random_state=0)
    >>> lengths = np.array([5, 2])
    >>> H_tilde, _, cache = attention_forward("general", H_dec, E, lengths, params)
    >>> dH_dec, dE, dparams = attention_backward(
    ...     "general", np.ones_like(H_tilde), cache, params)
    >>> dH_dec.shape, dE.shape, dparams["attention.weight"].shape
    ((2, 3, 4), (2, 5, 6), (4, 6))
    >>> bool((dE[1, 2:] == 0).all())
    True
    """
    _check_kind(kind)
    if kind != cache["kind"]:
        raise ValueError(
            f"attention_backward got kind={kind!r} for a forward pass made with "
            f"kind={cache['kind']!r}; pass the same kind to both."
        )
    dH_tilde = np.asarray(dH_tilde)
    if kind is None:
        return dH_tilde, None, {}
    H_dec, E, mask, alpha = cache["H_dec"], cache["E"], cache["mask"], cache["alpha"]
    K = E.shape[2]
    dtype = H_dec.dtype
    dZ = cache["H_tilde"] ** 2
    np.subtract(1, dZ, out=dZ)
    dZ *= dH_tilde
    dZ = dZ.astype(dtype, copy=False)
    flat_dZ = dZ.reshape(-1, dZ.shape[2])
    combined = cache["combined"]
    dparams = {
        "attention.combine.weight": _weight_gradient(dZ, combined),
        "attention.combine.bias": flat_dZ.sum(axis=0),
    }
    dcombined = _matmul(dZ, params["attention.combine.weight"])
    dcontext = np.ascontiguousarray(dcombined[..., :K])
    dH_dec = np.ascontiguousarray(dcombined[..., K:])
    # From context = alpha @ E.
    dE = alpha.transpose(0, 2, 1) @ dcontext
    dalpha = dcontext @ E.transpose(0, 2, 1)
    # Softmax backward; alpha is 0 on masked steps, so their scores get 0.
    dscores = alpha * (dalpha - (dalpha * alpha).sum(axis=-1, keepdims=True))
    if kind == "dot":
        dH_dec += dscores @ E
        dE += dscores.transpose(0, 2, 1) @ H_dec
    elif kind == "general":
        W_a = params["attention.weight"]
        dprojected = dscores @ E  # (n, T_y, K)
        dH_dec += _matmul(dprojected, W_a.T)
        dparams["attention.weight"] = _weight_gradient(H_dec, dprojected)
        dE += dscores.transpose(0, 2, 1) @ cache["projected"]
    else:
        hidden = cache["hidden"]  # (n, T_y, T_x, H)
        v = params["attention.v.weight"][0]
        A = hidden.shape[3]
        dparams["attention.v.weight"] = (
            dscores.reshape(1, -1) @ hidden.reshape(-1, A)
        ).reshape(1, A)
        # d score / d pre-activation = v * (1 - tanh**2), in one buffer.
        dpre = hidden * hidden
        np.subtract(1, dpre, out=dpre)
        dpre *= v
        dpre *= dscores[..., None]
        dqueries = dpre.sum(axis=2)  # (n, T_y, H)
        dkeys = dpre.sum(axis=1)  # (n, T_x, H)
        dH_dec += _matmul(dqueries, params["attention.query.weight"])
        dE += _matmul(dkeys, params["attention.key.weight"])
        dparams["attention.query.weight"] = _weight_gradient(dqueries, H_dec)
        dparams["attention.key.weight"] = _weight_gradient(dkeys, E)
    if cache["padded"]:
        dE *= mask[:, :, None]
    order = _parameter_shapes(kind, H_dec.shape[2], K)
    dparams = {name: dparams[name].astype(dtype, copy=False) for name in order}
    return dH_dec, dE, dparams
