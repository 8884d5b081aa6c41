"""The sequence translator built in PyTorch, for parity tests.

Same model and parameter names as ``tests/naive_seq2seq.py``: one
``torch.nn.RNN``/``LSTM``/``GRU`` module per stacked layer (so that layers may
differ in width), ragged input through packed sequences, attention, output
layer and loss written with tensor operations. Import only when PyTorch is
installed (``pytest.importorskip("torch")`` first). PyTorch cannot pack
sequences of length 0, so every input and decoder sequence needs a step.
"""

import numpy as np
import torch
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

from ._helpers import torch_module

__all__ = ["torch_seq2seq_loss_and_grad"]


def _layer_count(weights, prefix):
    k = 0
    while f"{prefix}.weight_ih_l{k}" in weights:
        k += 1
    return k


def _recurrent_layer(weights, leaves, prefix, k, cell, bidirectional, activation):
    """One PyTorch layer with our weights; maps its parameters to our names."""
    W_hh = weights[f"{prefix}.weight_hh_l{k}"]
    H, n_in = W_hh.shape[1], weights[f"{prefix}.weight_ih_l{k}"].shape[1]
    options = {"nonlinearity": activation} if cell == "rnn" else {}
    module = torch_module(torch, cell)(
        n_in, H, batch_first=True, bidirectional=bidirectional, **options
    ).double()
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            ours = f"{prefix}.{name.replace('_l0', f'_l{k}')}"
            parameter.copy_(torch.from_numpy(weights[ours]))
            leaves[ours] = parameter
    return module


def _attention(kind, H_dec, E, mask, P):
    """Attentional states (n, T_y, H) of the decoder outputs."""
    if kind is None:
        return H_dec
    if kind == "dot":
        scores = H_dec @ E.transpose(1, 2)
    elif kind == "general":
        scores = H_dec @ P["attention.weight"] @ E.transpose(1, 2)
    else:
        queries = H_dec @ P["attention.query.weight"].T
        keys = E @ P["attention.key.weight"].T
        hidden = torch.tanh(queries[:, :, None, :] + keys[:, None, :, :])
        scores = hidden @ P["attention.v.weight"][0]
    scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
    context = torch.softmax(scores, dim=-1) @ E
    combined = torch.cat([context, H_dec], dim=-1)
    return torch.tanh(
        combined @ P["attention.combine.weight"].T + P["attention.combine.bias"]
    )


def torch_seq2seq_loss_and_grad(
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
    """Translator objective and its gradient by name, computed by PyTorch.

    Parameters and conventions as in
    :func:`tests.naive_seq2seq.naive_seq2seq_loss` (``activation`` "tanh" or
    "relu" only: PyTorch's Elman cell has no other).

    Returns
    -------
    loss : float
    grads : dict of str to ndarray
        Gradient of the loss for every name of ``weights``.
    """
    if start_id is None:
        start_id = len(weights["decoder.embedding.weight"]) - 1
    if end_id is None:
        end_id = len(weights["output.weight"]) - 1
    n = len(X)
    leaves = {}
    sw = torch.as_tensor(
        np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    )

    # Encoder: stacked layers over packed ragged input.
    if "encoder.embedding.weight" in weights:
        table = torch.tensor(weights["encoder.embedding.weight"], requires_grad=True)
        leaves["encoder.embedding.weight"] = table
        inputs = [table[torch.as_tensor(np.asarray(x, dtype=np.int64))] for x in X]
    else:
        inputs = [torch.from_numpy(np.asarray(x, float).reshape(len(x), -1)) for x in X]
    packed = pack_sequence(inputs, enforce_sorted=False)
    finals = []
    for k in range(_layer_count(weights, "encoder")):
        module = _recurrent_layer(
            weights, leaves, "encoder", k, cell, bidirectional, activation
        )
        packed, state = module(packed)
        finals.append(state)
    E, enc_lengths = pad_packed_sequence(packed, batch_first=True)
    mask = torch.arange(E.shape[1])[None, :] < enc_lengths[:, None]

    for name, value in weights.items():
        if name.split(".")[0] in ("bridge", "bridge_c", "attention", "output"):
            leaves[name] = torch.tensor(value, requires_grad=True)
        if name == "decoder.embedding.weight":
            leaves[name] = torch.tensor(value, requires_grad=True)
    P = leaves

    def bridge(prefix, k, state):
        # state: (D, n, H), PyTorch's h_n of one layer -> (1, n, H_dec).
        s = torch.cat(list(state), dim=-1)
        if f"{prefix}.weight_l{k}" in P:
            s = torch.tanh(s @ P[f"{prefix}.weight_l{k}"].T + P[f"{prefix}.bias_l{k}"])
        return s[None]

    # Decoder with teacher forcing.
    targets = [[*map(int, y), end_id] for y in Y]
    dec_inputs = [
        P["decoder.embedding.weight"][torch.as_tensor([start_id, *t[:-1]])]
        for t in targets
    ]
    packed = pack_sequence(dec_inputs, enforce_sorted=False)
    for k in range(_layer_count(weights, "decoder")):
        module = _recurrent_layer(
            weights, leaves, "decoder", k, cell, False, activation
        )
        if cell == "lstm":
            h0 = (
                bridge("bridge", k, finals[k][0]),
                bridge("bridge_c", k, finals[k][1]),
            )
        else:
            h0 = bridge("bridge", k, finals[k])
        packed, _ = module(packed, h0)
    H_dec, dec_lengths = pad_packed_sequence(packed, batch_first=True)

    states = _attention(attention, H_dec, E, mask, P)
    logits = states @ P["output.weight"].T + P["output.bias"]
    log_probs = torch.log_softmax(logits, dim=-1)
    T_y = H_dec.shape[1]
    target_ids = torch.as_tensor(
        [t + [0] * (T_y - len(t)) for t in targets], dtype=torch.int64
    )
    step_loss = -log_probs.gather(2, target_ids[:, :, None])[:, :, 0]
    real = (torch.arange(T_y)[None, :] < dec_lengths[:, None]).double()
    step_weight = real * sw[:, None]
    loss = (step_weight * step_loss).sum() / step_weight.sum()
    penalty = sum((v**2).sum() for name, v in leaves.items() if "bias" not in name)
    loss = loss + 0.5 * alpha * penalty / sw.sum()
    loss.backward()
    grads = {name: leaves[name].grad.detach().numpy().copy() for name in weights}
    return float(loss.detach()), grads
