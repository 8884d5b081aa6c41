"""Slow, obviously correct NumPy reference of the sequence translator's loss.

One sequence at a time, float64, loops over steps, built from the recurrent
cell references of ``tests/naive.py``. The model, by parameter name:

- ``encoder.embedding.weight`` ``(n_tokens_in, E_in)`` when ``X`` holds token
  ids; then the encoder's stacked layers ``encoder.weight_ih_l{k}``,
  ``encoder.weight_hh_l{k}``, ``encoder.bias_ih_l{k}``, ``encoder.bias_hh_l{k}``
  (suffix ``_reverse`` for the backward direction; PyTorch layout and gate
  order). A layer after the first reads both directions' outputs,
  concatenated forward first. The encoder outputs ``E`` are the last layer's.
- Bridge, per layer ``k``: the encoder's final state of layer ``k`` (forward
  direction at the last real step, backward direction at the first,
  concatenated) is mapped to the decoder's initial state of layer ``k`` by
  ``tanh(bridge.weight_l{k} @ s + bridge.bias_l{k})``, and for an LSTM the
  cell state by ``bridge_c.weight_l{k}``, ``bridge_c.bias_l{k}``. When the
  weights have no bridge for a layer, its state is copied (unidirectional
  encoder, equal sizes).
- Decoder: ``decoder.embedding.weight`` ``(V_out + 1, E_dec)`` (the output
  tokens and the start token, by default its last row) feeds unidirectional
  stacked layers ``decoder.weight_ih_l{k}``, ... with teacher forcing: inputs
  ``<start>, y_1, ..., y_m``, targets ``y_1, ..., y_m, <end>``.
- Attention (``skrnn._attention``) on the decoder's last layer outputs, then
  ``output.weight`` ``(V_out, H)`` and ``output.bias`` and a softmax over the
  output tokens, the end token included (by default the last one).
- Loss: ``sum_i sw_i * sum_t -log p(target_it) / sum_i sw_i * (m_i + 1)``
  plus ``0.5 * alpha * sum(W ** 2) / sum_i sw_i`` over every parameter whose
  name has no ``bias``.
"""

import numpy as np

from .naive import naive_forward

__all__ = [
    "naive_attention_step",
    "naive_seq2seq_loss",
    "random_seq2seq_weights",
    "seq2seq_weight_shapes",
]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def seq2seq_weight_shapes(
    cell,
    n_inputs,
    encoder_sizes,
    decoder_sizes,
    n_output_tokens,
    *,
    bidirectional=False,
    attention=None,
    decoder_embedding_dim=3,
    encoder_embedding_dim=None,
):
    """Name -> shape of every translator parameter, in a fixed order.

    ``n_inputs`` is the number of input features, or of input tokens when
    ``encoder_embedding_dim`` is given. ``n_output_tokens`` counts the end
    token; the decoder embedding has one more row, for the start token.
    """
    G = GATES[cell]
    D = 2 if bidirectional else 1
    shapes = {}
    in_size = n_inputs
    if encoder_embedding_dim is not None:
        shapes["encoder.embedding.weight"] = (n_inputs, encoder_embedding_dim)
        in_size = encoder_embedding_dim
    for k, H in enumerate(encoder_sizes):
        for suffix in ("", "_reverse")[:D]:
            shapes[f"encoder.weight_ih_l{k}{suffix}"] = (G * H, in_size)
            shapes[f"encoder.weight_hh_l{k}{suffix}"] = (G * H, H)
            shapes[f"encoder.bias_ih_l{k}{suffix}"] = (G * H,)
            shapes[f"encoder.bias_hh_l{k}{suffix}"] = (G * H,)
        in_size = D * H
    K = in_size
    for k, (H_enc, H_dec) in enumerate(zip(encoder_sizes, decoder_sizes)):
        if bidirectional or H_enc != H_dec:
            for prefix in ("bridge", "bridge_c") if cell == "lstm" else ("bridge",):
                shapes[f"{prefix}.weight_l{k}"] = (H_dec, D * H_enc)
                shapes[f"{prefix}.bias_l{k}"] = (H_dec,)
    shapes["decoder.embedding.weight"] = (n_output_tokens + 1, decoder_embedding_dim)
    in_size = decoder_embedding_dim
    for k, H in enumerate(decoder_sizes):
        shapes[f"decoder.weight_ih_l{k}"] = (G * H, in_size)
        shapes[f"decoder.weight_hh_l{k}"] = (G * H, H)
        shapes[f"decoder.bias_ih_l{k}"] = (G * H,)
        shapes[f"decoder.bias_hh_l{k}"] = (G * H,)
        in_size = H
    H = decoder_sizes[-1]
    if attention == "general":
        shapes["attention.weight"] = (H, K)
    elif attention == "additive":
        shapes["attention.query.weight"] = (H, H)
        shapes["attention.key.weight"] = (H, K)
        shapes["attention.v.weight"] = (1, H)
    if attention is not None:
        shapes["attention.combine.weight"] = (H, K + H)
        shapes["attention.combine.bias"] = (H,)
    shapes["output.weight"] = (n_output_tokens, H)
    shapes["output.bias"] = (n_output_tokens,)
    return shapes


def random_seq2seq_weights(shapes, seed, scale=0.5):
    """Normal weights of the given shapes (biases too, to test their gradients)."""
    rng = np.random.default_rng(seed)
    return {name: scale * rng.standard_normal(shape) for name, shape in shapes.items()}


def _layer_count(weights, prefix):
    k = 0
    while f"{prefix}.weight_ih_l{k}" in weights:
        k += 1
    return k


def _layer(weights, prefix, k, suffix=""):
    return tuple(
        weights[f"{prefix}.{kind}_l{k}{suffix}"]
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


def _encode(weights, x, cell, bidirectional, activation):
    """Encoder outputs (T, K) and per layer the final states [(h, c), ...]."""
    if "encoder.embedding.weight" in weights:
        inputs = weights["encoder.embedding.weight"][np.asarray(x, dtype=int)]
    else:
        inputs = np.asarray(x, dtype=float)
        inputs = inputs[:, None] if inputs.ndim == 1 else inputs
    finals = []
    for k in range(_layer_count(weights, "encoder")):
        outputs, states = [], []
        for suffix in ("", "_reverse") if bidirectional else ("",):
            W_ih, W_hh, b_ih, b_hh = _layer(weights, "encoder", k, suffix)
            H = W_hh.shape[1]
            c0 = np.zeros(H) if cell == "lstm" else None
            hs, h_n, c_n = naive_forward(
                cell, inputs, W_ih, W_hh, b_ih, b_hh, np.zeros(H), c0,
                reverse=bool(suffix), activation=activation,
            )  # fmt: skip
            outputs.append(hs)
            states.append((h_n, c_n))
        inputs = np.concatenate(outputs, axis=1)
        finals.append(states)
    return inputs, finals


def _bridge(weights, k, states, cell):
    """Decoder initial (h0, c0) of layer k from the encoder's final states."""
    h = np.concatenate([state[0] for state in states])
    c = np.concatenate([state[1] for state in states]) if cell == "lstm" else None
    if f"bridge.weight_l{k}" in weights:
        h = np.tanh(weights[f"bridge.weight_l{k}"] @ h + weights[f"bridge.bias_l{k}"])
        if cell == "lstm":
            c = np.tanh(
                weights[f"bridge_c.weight_l{k}"] @ c + weights[f"bridge_c.bias_l{k}"]
            )
    return h, c


def naive_attention_step(kind, h, E_real, weights):
    """Attentional state of one decoder output ``h`` (H,) over ``E_real`` (L, K)."""
    if kind is None:
        return h
    L = len(E_real)
    scores = np.zeros(L)
    for s in range(L):
        if kind == "dot":
            scores[s] = h @ E_real[s]
        elif kind == "general":
            scores[s] = h @ weights["attention.weight"] @ E_real[s]
        else:
            hidden = np.tanh(
                weights["attention.query.weight"] @ h
                + weights["attention.key.weight"] @ E_real[s]
            )
            scores[s] = weights["attention.v.weight"][0] @ hidden
    context = np.zeros(E_real.shape[1])
    if L:
        alpha = np.exp(scores - scores.max())
        alpha /= alpha.sum()
        for s in range(L):
            context += alpha[s] * E_real[s]
    combined = np.concatenate([context, h])
    return np.tanh(
        weights["attention.combine.weight"] @ combined
        + weights["attention.combine.bias"]
    )


def _sequence_loss(weights, x, y, cell, bidirectional, attention, activation, ids):
    start_id, end_id = ids
    E, finals = _encode(weights, x, cell, bidirectional, activation)
    inputs = weights["decoder.embedding.weight"][[start_id, *y]]
    for k in range(_layer_count(weights, "decoder")):
        h0, c0 = _bridge(weights, k, finals[k], cell)
        W_ih, W_hh, b_ih, b_hh = _layer(weights, "decoder", k)
        inputs, _, _ = naive_forward(
            cell, inputs, W_ih, W_hh, b_ih, b_hh, h0, c0, reverse=False,
            activation=activation,
        )  # fmt: skip
    loss = 0.0
    for t, target in enumerate([*y, end_id]):
        state = naive_attention_step(attention, inputs[t], E, weights)
        logits = weights["output.weight"] @ state + weights["output.bias"]
        top = logits.max()
        log_norm = top + np.log(np.sum(np.exp(logits - top)))
        loss -= logits[target] - log_norm
    return loss


def naive_seq2seq_loss(
    weights,
    X,
    Y,
    *,
    cell,
    bidirectional=False,
    attention=None,
    activation="tanh",
    start_id=None,
    end_id=None,
    sample_weight=None,
    alpha=0.0,
):
    """Translator objective on sequences ``X`` -> ``Y`` for the given weights.

    Parameters
    ----------
    weights : dict of str to ndarray
        Parameters by name (see the module docstring). The layer counts and
        sizes are read from them.
    X : list of ndarray
        Input sequences, each ``(T_i, n_features)`` (or ``(T_i,)`` token ids
        when the weights have ``encoder.embedding.weight``).
    Y : list of array-like of int
        Output token sequences (without start and end tokens), ids in
        ``[0, V_out)`` other than ``end_id``.
    cell : {"rnn", "lstm", "gru"}
    bidirectional : bool, default=False
    attention : {"dot", "general", "additive"} or None, default=None
    activation : str, default="tanh"
        Elman nonlinearity.
    start_id, end_id : int or None
        Start token (a row of ``decoder.embedding.weight``, default its last)
        and end token (a row of ``output.weight``, default its last).
    sample_weight : array-like of shape (n_sequences,) or None
    alpha : float, default=0.0
        L2 coefficient.

    Returns
    -------
    loss : float
    """
    if start_id is None:
        start_id = len(weights["decoder.embedding.weight"]) - 1
    if end_id is None:
        end_id = len(weights["output.weight"]) - 1
    sw = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight)
    total, n_steps = 0.0, 0.0
    for x, y, w in zip(X, Y, sw):
        y = [int(token) for token in y]
        total += w * _sequence_loss(
            weights, x, y, cell, bidirectional, attention, activation,
            (start_id, end_id),
        )  # fmt: skip
        n_steps += w * (len(y) + 1)
    loss = total / n_steps
    penalty = sum(np.sum(v**2) for name, v in weights.items() if "bias" not in name)
    return loss + 0.5 * alpha * penalty / sw.sum()
