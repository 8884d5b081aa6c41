"""Slow, obviously correct NumPy references for the recurrent kernels.

One sequence and one direction at a time, float64, written for clarity:
plain loops over processing steps, ``np.tanh`` and ``np.exp``. Equations and
weight layout are PyTorch's (``W_ih`` of shape ``(G * H, I)``, gate blocks of
``H`` rows: LSTM ``i, f, g, o``; GRU ``r, z, n``).

Processing step ``s`` of a sequence of length ``L`` visits real time ``s``
(forward) or ``L - 1 - s`` (``reverse=True``). Gradient semantics, matching
the kernels:

- ``n_store``: only the last ``n_store`` processing steps are backpropagated
  through. The state entering them and the outputs before them are constants,
  so when ``L > n_store`` the gradient w.r.t. the initial state is zero.
- ``segment_steps``: the recurrent gradient is not carried from processing step
  ``s`` back to ``s - 1`` when ``s % segment_steps == 0`` and ``s > 0``.
- A sequence of length 0 never updates its state and gets zero gradients.
"""

import numpy as np

__all__ = ["naive_backward", "naive_forward"]


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _elman_activation(a, activation):
    if activation == "tanh":
        return np.tanh(a)
    if activation == "relu":
        return np.maximum(a, 0.0)
    if activation == "logistic":
        return _sigmoid(a)
    if activation == "identity":
        return a.copy()
    raise ValueError(f"unknown activation {activation!r}")


def _elman_derivative(a, activation):
    """Derivative of the Elman activation at the pre-activation ``a``."""
    if activation == "tanh":
        return 1.0 - np.tanh(a) ** 2
    if activation == "relu":
        return (a > 0.0).astype(float)
    if activation == "logistic":
        return _sigmoid(a) * (1.0 - _sigmoid(a))
    if activation == "identity":
        return np.ones_like(a)
    raise ValueError(f"unknown activation {activation!r}")


def _processing_order(length, reverse):
    """Real time steps in the order they are processed."""
    steps = list(range(length))
    return steps[::-1] if reverse else steps


def _step(cell, x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, activation):
    """One cell step; returns (h, c, cache) with what backward needs."""
    H = W_hh.shape[1]
    gi = W_ih @ x_t + b_ih
    gh = W_hh @ h_prev + b_hh
    if cell == "rnn":
        a = gi + gh
        return _elman_activation(a, activation), None, {"a": a}
    if cell == "lstm":
        a = gi + gh
        i = _sigmoid(a[:H])
        f = _sigmoid(a[H : 2 * H])
        g = np.tanh(a[2 * H : 3 * H])
        o = _sigmoid(a[3 * H :])
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        return h, c, {"i": i, "f": f, "g": g, "o": o, "c": c}
    if cell == "gru":
        r = _sigmoid(gi[:H] + gh[:H])
        z = _sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
        n = np.tanh(gi[2 * H :] + r * gh[2 * H :])
        h = (1.0 - z) * n + z * h_prev
        return h, None, {"r": r, "z": z, "n": n, "gh_n": gh[2 * H :]}
    raise ValueError(f"unknown cell {cell!r}")


def _run(cell, x, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, activation):
    """Forward over one sequence, keeping every step's inputs and caches."""
    h = np.array(h0, dtype=float)
    c = np.array(c0, dtype=float) if cell == "lstm" else None
    hs = np.zeros((len(x), W_hh.shape[1]))
    trace = []
    for t in _processing_order(len(x), reverse):
        h_new, c_new, cache = _step(
            cell, x[t], h, c, W_ih, W_hh, b_ih, b_hh, activation
        )
        trace.append((t, h, c, cache))
        h, c = h_new, c_new
        hs[t] = h
    return hs, h, c, trace


def naive_forward(cell, x, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, activation="tanh"):
    """Run one recurrent layer-direction over one sequence.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        Cell type.
    x : ndarray of shape (T_i, I)
        The sequence, in real time order.
    W_ih, W_hh, b_ih, b_hh : ndarray
        Parameters in PyTorch layout.
    h0 : ndarray of shape (H,)
        Initial hidden state.
    c0 : ndarray of shape (H,) or None
        Initial cell state (LSTM only).
    reverse : bool
        Process the sequence from its last step to its first.
    activation : {"tanh", "relu", "logistic", "identity"}, default="tanh"
        Elman nonlinearity.

    Returns
    -------
    hs : ndarray of shape (T_i, H)
        Hidden state at each real step.
    h_n : ndarray of shape (H,)
        State after the last processing step (``h0`` if ``T_i == 0``).
    c_n : ndarray of shape (H,) or None
        Cell state after the last processing step (LSTM), else None.
    """
    hs, h_n, c_n, _ = _run(cell, x, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, activation)
    return hs, h_n, c_n


def naive_backward(
    cell,
    x,
    W_ih,
    W_hh,
    b_ih,
    b_hh,
    h0,
    c0,
    reverse,
    dhs,
    dh_n,
    dc_n,
    activation="tanh",
    n_store=None,
    segment_steps=0,
):
    """Backpropagation through time for one sequence and direction.

    Parameters
    ----------
    cell, x, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, activation
        As in :func:`naive_forward`.
    dhs : ndarray of shape (T_i, H) or None
        Gradient w.r.t. ``hs`` (None for zero).
    dh_n : ndarray of shape (H,)
        Gradient w.r.t. ``h_n``.
    dc_n : ndarray of shape (H,) or None
        Gradient w.r.t. ``c_n`` (LSTM only).
    n_store : int or None, default=None
        Backpropagate through the last ``n_store`` processing steps only;
        None for all of them.
    segment_steps : int, default=0
        If positive, cut the recurrent gradient every ``segment_steps`` processing
        steps.

    Returns
    -------
    grads : dict
        ``dx`` (T_i, I), ``dW_ih``, ``dW_hh``, ``db_ih``, ``db_hh`` (shapes of
        the parameters), ``dh0`` (H,) and ``dc0`` (H,) or None.
    """
    H = W_hh.shape[1]
    length = len(x)
    _, _, _, trace = _run(cell, x, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse, activation)
    if dhs is None:
        dhs = np.zeros((length, H))
    grads = {
        "dx": np.zeros_like(x, dtype=float),
        "dW_ih": np.zeros_like(W_ih, dtype=float),
        "dW_hh": np.zeros_like(W_hh, dtype=float),
        "db_ih": np.zeros_like(b_ih, dtype=float),
        "db_hh": np.zeros_like(b_hh, dtype=float),
        "dh0": np.zeros(H),
        "dc0": np.zeros(H) if cell == "lstm" else None,
    }
    first = 0 if n_store is None else max(0, length - n_store)
    dh = np.array(dh_n, dtype=float)
    dc = np.array(dc_n, dtype=float) if cell == "lstm" else None
    for s in range(length - 1, first - 1, -1):
        t, h_prev, c_prev, cache = trace[s]
        dh = dh + dhs[t]
        if cell == "rnn":
            da_i = dh * _elman_derivative(cache["a"], activation)
            da_h = da_i
            dh_prev = W_hh.T @ da_h
        elif cell == "lstm":
            i, f, g, o, c = (cache[k] for k in "ifgoc")
            dc = dc + dh * o * (1.0 - np.tanh(c) ** 2)
            da_i = np.concatenate(
                [
                    dc * g * i * (1.0 - i),
                    dc * c_prev * f * (1.0 - f),
                    dc * i * (1.0 - g**2),
                    dh * np.tanh(c) * o * (1.0 - o),
                ]
            )
            da_h = da_i
            dh_prev = W_hh.T @ da_h
            dc = dc * f
        else:
            r, z, n, gh_n = cache["r"], cache["z"], cache["n"], cache["gh_n"]
            dn = dh * (1.0 - z) * (1.0 - n**2)
            dz = dh * (h_prev - n) * z * (1.0 - z)
            dr = dn * gh_n * r * (1.0 - r)
            da_i = np.concatenate([dr, dz, dn])
            da_h = np.concatenate([dr, dz, dn * r])
            dh_prev = W_hh.T @ da_h + dh * z
        grads["dx"][t] += W_ih.T @ da_i
        grads["dW_ih"] += np.outer(da_i, x[t])
        grads["db_ih"] += da_i
        grads["dW_hh"] += np.outer(da_h, h_prev)
        grads["db_hh"] += da_h
        dh = dh_prev
        if segment_steps and s > 0 and s % segment_steps == 0:
            dh = np.zeros(H)
            if cell == "lstm":
                dc = np.zeros(H)
    if length > 0 and first == 0:
        grads["dh0"] = dh
        if cell == "lstm":
            grads["dc0"] = dc
    return grads
