"""The encoder-decoder network of the sequence translator.

An encoder (stacked, optionally bidirectional recurrent layers, on the
kernels of :mod:`skrnn._kernels`) reads each input sequence; a bridge maps
the encoder's final state of every layer to the initial state of the same
layer of a unidirectional decoder; the decoder reads the previous output
token (teacher forcing in training: ``<start>, y_1, ..., y_m``) and, through
optional attention over the encoder outputs (:mod:`skrnn._attention`), a
softmax layer gives the next token (targets ``y_1, ..., y_m, <end>``).

The encoder and the decoder of one batch sort their rows differently (each
by its own lengths, as the kernels require), so per-row values cross from
one layout to the other through a row map (:class:`DecoderBatch`).

Parameters live in one flat vector with named views, in the order and with
the names of the reference in ``tests/naive_seq2seq.py``: ``encoder.*``,
``bridge.*``, ``bridge_c.*``, ``decoder.*``, ``attention.*``, ``output.*``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax

from ._attention import (
    _attention_forward,
    _matmul,
    _parameter_shapes,
    attention_backward,
)
from ._batching import Batch, make_batch
from ._kernels._dense import (
    log_softmax_rows,
    masked_softmax,
    softmax_cross_entropy,
)
from ._network import (
    FlatNetwork,
    LayerStack,
    StackCache,
    Workspace,
)
from ._runtime import n_chunks

__all__ = ["DecoderBatch", "TranslationNetwork", "make_decoder_batch"]


# Rows per chunk below which a decoding step runs in one thread.
_STEP_ROWS_PER_CHUNK = 64


@dataclass
class DecoderBatch:
    """Teacher-forced decoder inputs and targets of one training batch.

    Attributes
    ----------
    batch : Batch
        Decoder input token ids ``<start>, y_1, ..., y_m`` as
        ``(C, T_y, Bc, 1)`` floats, rows sorted by their own lengths.
    targets : ndarray of shape (C, T_y, Bc), dtype intp
        Target token of every step, ``y_1, ..., y_m, <end>``; 0 on padding.
    rows : ndarray of shape (C * Bc,), dtype intp
        For every decoder row, the flat index ``c * Bc_enc + b`` of the
        encoder row of the same sequence (0 for dummy rows).
    """

    batch: Batch
    targets: np.ndarray
    rows: np.ndarray


def make_decoder_batch(encoder_batch, Y, sample_weight, start_id, end_id):
    """The :class:`DecoderBatch` and per-step loss weights of a training batch.

    Parameters
    ----------
    encoder_batch : Batch
        The input sequences' batch, built from the same list of sequences.
    Y : list of ndarray of int
        Output token ids of each sequence, without start and end tokens.
    sample_weight : ndarray of shape (n_sequences,)
        Weight of each sequence; each of its ``m_i + 1`` steps gets it.
    start_id, end_id : int
        Start token (decoder embedding row) and end token (output unit).

    Returns
    -------
    decoder : DecoderBatch
    weights : ndarray of shape (C, T_y, Bc)
        Unnormalised loss weight of every step, zero on padding.
    """
    dtype = encoder_batch.X.dtype
    inputs = [
        np.concatenate([[start_id], np.asarray(y, dtype=np.intp)])
        .astype(dtype)
        .reshape(-1, 1)
        for y in Y
    ]
    batch = make_batch(inputs, encoder_batch.n_chunks, dtype)
    targets = batch.gather_steps(
        [np.concatenate([np.asarray(y, dtype=np.intp), [end_id]]) for y in Y]
    )
    weights = batch.gather_steps(
        [np.full(len(y) + 1, w, dtype=dtype) for y, w in zip(Y, sample_weight)]
    )
    enc_flat = np.empty(len(Y), dtype=np.intp)
    enc_real = encoder_batch.real
    enc_flat[encoder_batch.position[enc_real]] = np.flatnonzero(enc_real.reshape(-1))
    rows = np.where(batch.real, enc_flat[np.maximum(batch.position, 0)], 0)
    return DecoderBatch(batch, targets.astype(np.intp), rows.reshape(-1)), weights


def _to_rows(steps):
    """``(C, T, Bc, F)`` to ``(C * Bc, T, F)`` (a copy, row-major)."""
    C, T, Bc, F = steps.shape
    return np.ascontiguousarray(steps.transpose(0, 2, 1, 3)).reshape(C * Bc, T, F)


def _from_rows(rows, C, Bc):
    """Inverse of :func:`_to_rows`."""
    T, F = rows.shape[1:]
    return np.ascontiguousarray(rows.reshape(C, Bc, T, F).transpose(0, 2, 1, 3))


@dataclass
class TranslationCache:
    """What the teacher-forced forward pass leaves for the backward pass."""

    encoder: StackCache
    bridges: list  # a _Bridge per layer
    decoder: StackCache
    attention: dict  # the attention's own cache ({"kind": None} without)
    H_tilde: np.ndarray  # (R_dec, T_y, H): attentional states, decoder rows
    real: np.ndarray  # (R_dec, T_y): the real decoder steps
    head_input: np.ndarray  # (n_real_steps, H): what the output layer read
    head_mask: np.ndarray | None


@dataclass
class _Bridge:
    """One decoder layer's initial state and what its gradient needs."""

    source_h: np.ndarray  # (R_dec, D * H_enc): encoder final states, decoder rows
    source_c: np.ndarray | None
    h0: np.ndarray  # (C, Bc, H_dec) decoder layout
    c0: np.ndarray  # (C, Bc, H_dec) or (C, Bc, 0)


class TranslationNetwork(FlatNetwork):
    """Encoder, bridge, decoder, attention and softmax over one flat vector.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        Recurrent cell of the encoder and the decoder.
    n_inputs : int
        Features per input step (1 with token input).
    hidden_layer_sizes : tuple of int
        Units of each stacked layer, the same for the encoder (per direction)
        and the decoder.
    n_outputs : int
        Output tokens, the end token included (it is the last).
    bidirectional : bool, default=False
        Bidirectional encoder (the bridge maps both directions' final
        states to the decoder's).
    activation : str, default="tanh"
        Elman nonlinearity.
    attention : {"dot", "general", "additive"} or None, default=None
        Attention of the decoder over the encoder outputs.
    n_tokens : int or None, default=None
        Input vocabulary size when the input is token ids.
    embedding_dim : int or None, default=None
        Width of the input embedding; required with ``n_tokens``.
    decoder_embedding_dim : int, default=32
        Width of the decoder's token embedding.
    dropout : float, default=0.0
        Inverted dropout rate in training: between stacked layers of the
        encoder and of the decoder, and on the attentional states before the
        output layer.
    conv_layers : tuple of tuple, default=()
        Convolutions plus ReLU before the encoder's first layer, parameters
        ``encoder.conv.{k}.weight`` and ``encoder.conv.{k}.bias``; the
        encoder (and the attention) run on their frames.
    conv_padding : {"same", "causal"}, default="same"
        Padding of the convolutions.
    """

    loss = "log_loss"
    out_activation = "softmax"

    def __init__(
        self, cell, n_inputs, hidden_layer_sizes, n_outputs, *,
        bidirectional=False, activation="tanh", attention=None, n_tokens=None,
        embedding_dim=None, decoder_embedding_dim=32, dropout=0.0,
        conv_layers=(), conv_padding="same",
    ):  # fmt: skip
        self.attention = attention
        self.decoder_embedding_dim = int(decoder_embedding_dim)
        super().__init__(**FlatNetwork.shared_arguments(locals()))

    # The convolutions belong to the encoder: encoder.conv.{k}.weight.
    _conv_prefix = "encoder."

    @property
    def start_id(self):
        """Row of the decoder embedding that starts every output."""
        return self.n_outputs

    @property
    def end_id(self):
        """Output unit of the end token."""
        return self.n_outputs - 1

    @property
    def encoder_width(self):
        """Width ``K`` of the encoder outputs."""
        return self.n_directions * self.hidden_layer_sizes[-1]

    def _has_bridge(self, k):
        return self.bidirectional

    def _layout(self):
        G, D = self.n_gates, self.n_directions
        sizes = self.hidden_layer_sizes
        shapes = []
        in_size = self.n_inputs
        if self.embeds:
            shapes.append(
                ("encoder.embedding.weight", (self.n_tokens, self.embedding_dim))
            )
            in_size = self.embedding_dim
        front = self.front
        shapes += [(f"encoder.{name}", shape) for name, shape, _ in front.layout()]
        in_size = front.n_outputs
        for k, H in enumerate(sizes):
            for suffix in ("", "_reverse")[:D]:
                shapes += [
                    (f"encoder.weight_ih_l{k}{suffix}", (G * H, in_size)),
                    (f"encoder.weight_hh_l{k}{suffix}", (G * H, H)),
                    (f"encoder.bias_ih_l{k}{suffix}", (G * H,)),
                    (f"encoder.bias_hh_l{k}{suffix}", (G * H,)),
                ]
            in_size = D * H
        for k, H in enumerate(sizes):
            if self._has_bridge(k):
                prefixes = (
                    ("bridge", "bridge_c") if self.has_cell_state else ("bridge",)
                )
                for prefix in prefixes:
                    shapes += [
                        (f"{prefix}.weight_l{k}", (H, D * H)),
                        (f"{prefix}.bias_l{k}", (H,)),
                    ]
        shapes.append(
            (
                "decoder.embedding.weight",
                (self.n_outputs + 1, self.decoder_embedding_dim),
            )
        )
        in_size = self.decoder_embedding_dim
        for k, H in enumerate(sizes):
            shapes += [
                (f"decoder.weight_ih_l{k}", (G * H, in_size)),
                (f"decoder.weight_hh_l{k}", (G * H, H)),
                (f"decoder.bias_ih_l{k}", (G * H,)),
                (f"decoder.bias_hh_l{k}", (G * H,)),
            ]
            in_size = H
        H = sizes[-1]
        shapes += list(_parameter_shapes(self.attention, H, self.encoder_width).items())
        shapes += [
            ("output.weight", (self.n_outputs, H)),
            ("output.bias", (self.n_outputs,)),
        ]
        return [(name, shape, "bias" not in name) for name, shape in shapes]

    # -------------------------------------------------------------- forward
    @property
    def encoder_stack(self):
        """The encoder's :class:`~skrnn._network.LayerStack`."""
        embedding = "encoder.embedding.weight" if self.embeds else None
        return LayerStack(self, "encoder.", self.n_directions, embedding, self.front)

    @property
    def decoder_stack(self):
        """The decoder's :class:`~skrnn._network.LayerStack` (on its embedding)."""
        return LayerStack(self, "decoder.", 1, "decoder.embedding.weight")

    def encode(self, theta, batch, *, n_store=0, workspace=None, rng=None, views=None):
        """Encoder layers of a batch: a StackCache (``rng``: dropout).

        ``views``, if given, is ``self.views(theta)``.
        """
        return self.encoder_stack.run(
            self.views(theta) if views is None else views, batch,
            top_steps=self.attention is not None, n_store=n_store, rng=rng,
            workspace=workspace,
        )  # fmt: skip

    def bridge(self, P, k, layer, rows, C, Bc):
        """Initial state of decoder layer ``k`` in a layout of ``C x Bc`` rows.

        ``layer`` is the encoder's LayerCache of layer ``k``; ``rows`` the
        encoder row (flat index) of every decoder row.
        """
        h = np.concatenate([d.h_n for d in layer.directions], axis=-1)
        h = h.reshape(-1, h.shape[-1])[rows]
        c = None
        if self.has_cell_state:
            c = np.concatenate([d.c_n for d in layer.directions], axis=-1)
            c = c.reshape(-1, c.shape[-1])[rows]
        H = self.hidden_layer_sizes[k]
        if self._has_bridge(k):
            h0 = np.tanh(h @ P[f"bridge.weight_l{k}"].T + P[f"bridge.bias_l{k}"])
            c0 = None
            if c is not None:
                c0 = np.tanh(
                    c @ P[f"bridge_c.weight_l{k}"].T + P[f"bridge_c.bias_l{k}"]
                )
        else:
            h0, c0 = h, c
        h0 = np.ascontiguousarray(h0.reshape(C, Bc, H))
        if c0 is None:
            c0 = np.zeros((C, Bc, 0), h0.dtype)
        else:
            c0 = np.ascontiguousarray(c0.reshape(C, Bc, H))
        return _Bridge(h, c, h0, c0)

    def _forward(self, theta, batch, decoder, *, workspace, rng=None, views=None):
        """Teacher-forced scores of the real output steps, and the cache.

        With ``rng`` (training) and ``dropout > 0``, dropout applies between
        stacked layers of the encoder and of the decoder, and to the
        attentional states before the output layer. ``views``, if given, is
        ``self.views(theta)``.
        """
        P = self.views(theta) if views is None else views
        enc_layers = self.encode(
            theta, batch, n_store=batch.n_steps, workspace=workspace, rng=rng,
            views=P,
        )  # fmt: skip
        dec = decoder.batch
        C, T_y, Bc = dec.n_chunks, dec.n_steps, dec.chunk_size
        bridges = [
            self.bridge(P, k, layer, decoder.rows, C, Bc)
            for k, layer in enumerate(enc_layers.layers)
        ]
        dec_layers = self.decoder_stack.run(
            P, dec, initial=[[(b.h0, b.c0)] for b in bridges], n_store=T_y,
            rng=rng, workspace=workspace,
        )  # fmt: skip
        H_dec = _to_rows(dec_layers.outputs)
        E = enc_lengths = None
        if self.attention is not None:
            E = _to_rows(enc_layers.outputs)[decoder.rows]
            enc_lengths = enc_layers.frames.lengths.reshape(-1)[decoder.rows]
            H_tilde, _, att_cache = _attention_forward(
                self.attention, H_dec, E, enc_lengths, P
            )
        else:
            H_tilde, att_cache = H_dec, {"kind": None}
        real = dec.step_mask().transpose(0, 2, 1).reshape(C * Bc, T_y)
        A = H_tilde[real]
        head_mask = None
        if rng is not None and self.dropout > 0:
            head_mask = self._dropout_mask(A.shape, A.dtype, rng)
            A = A * head_mask
        Z = A @ P["output.weight"].T
        Z += P["output.bias"]
        cache = TranslationCache(
            enc_layers, bridges, dec_layers, att_cache, H_tilde, real, A, head_mask
        )
        return Z, cache

    def _step_targets(self, decoder, weights, real):
        def flat(values):
            return values.transpose(0, 2, 1).reshape(real.shape)[real]

        return flat(decoder.targets), flat(weights)

    def objective(self, theta, batch, Y, weights, *, l2=0.0):
        """Objective on a batch (no gradient)."""
        return self.loss_and_grad(theta, batch, Y, weights, l2=l2, grad=False)[0]

    def loss_and_grad(
        self, theta, batch, Y, weights, *, l2=0.0, bptt_steps=None, rng=None,
        grad=None, workspace=None,
    ):  # fmt: skip
        """Teacher-forced cross-entropy of a batch, and its gradient.

        The decoder reads the target tokens shifted by one (the start token
        first); every real output step, the end token included, adds its
        weighted log-loss. The signature is that of
        :meth:`RecurrentNetwork.loss_and_grad`, so that the estimators' one
        training path drives both networks.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            Flat parameters.
        batch : Batch
            Padded input sequences.
        Y : DecoderBatch
            Decoder inputs, targets and row map (:func:`make_decoder_batch`).
        weights : ndarray of shape (C, T_y, Bc)
            Weight of every decoder step in the objective, zero on padding.
        l2 : float, default=0.0
            Coefficient of ``0.5 * sum(W**2)`` over the weights.
        bptt_steps : None
            Truncated backpropagation is not supported: must be None.
        rng : numpy.random.Generator or None, default=None
            Source of the dropout masks; needed when ``dropout > 0``.
        grad : ndarray of shape (n_params,), None or False, default=None
            Output array for the gradient; False computes the loss only.
        workspace : Workspace or None, default=None
            Memory reused for the stored states.

        Returns
        -------
        loss : float
        grad : ndarray of shape (n_params,) or None
        """
        if bptt_steps is not None:
            raise ValueError(
                f"The sequence translator backpropagates through whole sequences; "
                f"got bptt_steps={bptt_steps}. Set bptt_steps=None."
            )
        if workspace is None:
            workspace = Workspace()
        if self.dropout > 0 and rng is None and grad is not False:
            raise ValueError("A network with dropout > 0 trains with an rng.")
        P = self.views(theta)
        Z, cache = self._forward(theta, batch, Y, workspace=workspace, rng=rng, views=P)
        real = cache.real
        targets, w = self._step_targets(Y, weights.astype(theta.dtype), real)
        dZ = np.empty_like(Z)
        loss = softmax_cross_entropy(Z, targets.astype(np.int64, copy=False), w, dZ)
        if l2:
            loss += l2 * self.l2_penalty(theta)
        if grad is False:
            return loss, None
        if grad is None:
            grad = np.empty_like(theta)
        grad[...] = 0.0
        dP = self.views(grad)
        dP["output.weight"][...] = dZ.T @ cache.head_input
        dP["output.bias"][...] = dZ.sum(axis=0)
        dH_tilde = np.zeros_like(cache.H_tilde)
        dA = dZ @ P["output.weight"]
        if cache.head_mask is not None:
            dA *= cache.head_mask
        dH_tilde[real] = dA
        dH_dec, dE, dattention = attention_backward(
            self.attention, dH_tilde, cache.attention, P
        )
        for name, value in dattention.items():
            dP[name][...] = value
        self._backward(P, dP, batch, Y, cache, dH_dec, dE)
        if l2:
            self.add_l2_gradient(theta, grad, l2)
        return loss, grad

    def _backward(self, P, dP, batch, decoder, cache, dH_dec, dE):
        dec = decoder.batch
        C, Bc = dec.n_chunks, dec.chunk_size
        C_e, Bc_e = batch.n_chunks, batch.chunk_size
        d_initial = self.decoder_stack.backward(
            P, dP, dec, cache.decoder, _from_rows(dH_dec, C, Bc)
        )
        real_dec = np.flatnonzero(dec.real.reshape(-1))
        enc_rows = decoder.rows[real_dec]
        # Bridge: decoder initial states back to the encoder's final states.
        D = self.n_directions
        d_final = []
        for k, bridge in enumerate(cache.bridges):
            H = self.hidden_layer_sizes[k]
            dh0, dc0 = d_initial[k][0]
            dh0 = dh0.reshape(-1, H)
            dc0 = dc0.reshape(-1, H) if self.has_cell_state else None
            if self._has_bridge(k):
                dh_src = self._bridge_backward(
                    P, dP, "bridge", k, bridge.h0, dh0, bridge.source_h
                )
                dc_src = None
                if self.has_cell_state:
                    dc_src = self._bridge_backward(
                        P, dP, "bridge_c", k, bridge.c0, dc0, bridge.source_c
                    )
            else:
                dh_src, dc_src = dh0, (dc0 if self.has_cell_state else None)
            layer = []
            for d in range(D):
                cols = slice(d * H, (d + 1) * H)
                dh_n = np.zeros((C_e * Bc_e, H), dh0.dtype)
                dh_n[enc_rows] = dh_src[real_dec, cols]
                if dc_src is None:
                    dc_n = np.zeros((C_e, Bc_e, 0), dh0.dtype)
                else:
                    dc_n = np.zeros((C_e * Bc_e, H), dh0.dtype)
                    dc_n[enc_rows] = dc_src[real_dec, cols]
                    dc_n = dc_n.reshape(C_e, Bc_e, H)
                layer.append((dh_n.reshape(C_e, Bc_e, H), dc_n))
            d_final.append(layer)
        K = self.encoder_width
        if dE is None:
            dH_top = np.zeros((C_e, 0, Bc_e, K), dH_dec.dtype)
        else:
            dE_rows = np.zeros((C_e * Bc_e,) + dE.shape[1:], dE.dtype)
            dE_rows[enc_rows] = dE[real_dec]
            dH_top = _from_rows(dE_rows, C_e, Bc_e)
        self.encoder_stack.backward(
            P, dP, batch, cache.encoder, dH_top, d_final=d_final
        )

    @staticmethod
    def _bridge_backward(P, dP, prefix, k, out, d_out, source):
        """Gradient of ``out = tanh(source @ W.T + b)``; returns that of ``source``."""
        dpre = d_out * (1 - out.reshape(d_out.shape) ** 2)
        dP[f"{prefix}.weight_l{k}"][...] = dpre.T @ source
        dP[f"{prefix}.bias_l{k}"][...] = dpre.sum(axis=0)
        return dpre @ P[f"{prefix}.weight_l{k}"]

    # ------------------------------------------------------------ inference
    def score_targets(self, theta, batch, decoder):
        """Teacher-forced log-likelihood of the targets and attention weights.

        Returns the log-probability of every sequence's targets (end token
        included), in the order of the sequences the batches were built
        from, and the attention weights ``(C * Bc, T_y, T_x)`` in decoder
        row order (None without attention).
        """
        Z, cache = self._forward(theta, batch, decoder, workspace=Workspace())
        real = cache.real
        targets = decoder.targets.transpose(0, 2, 1).reshape(real.shape)[real]
        picked = log_softmax(Z.astype(np.float64), axis=1)[
            np.arange(len(targets)), targets
        ]
        dec = decoder.batch
        rows = np.broadcast_to(dec.position.reshape(-1, 1), real.shape)[real]
        log_likelihood = np.zeros(dec.n_sequences)
        np.add.at(log_likelihood, rows, picked)
        alpha = cache.attention.get("alpha")
        return log_likelihood, alpha

    def initial_decoder_state(self, theta, batch):
        """Decoder state of every sequence of ``batch``, in sequence order.

        A tuple of arrays with one row per sequence: ``h`` and ``c`` of each
        decoder layer (``c`` of width 0 but for LSTM), then, with attention,
        the encoder outputs ``(n, T_x, K)`` (zero on padding), their keys
        for the attention scores and the number of real encoder steps ``(n,)``
        (int64).
        """
        P = self.views(theta)
        encoded = self.encode(theta, batch)
        layers = encoded.layers
        n = batch.n_sequences
        real = batch.real
        rows = np.empty(n, dtype=np.intp)
        rows[batch.position[real]] = np.flatnonzero(real.reshape(-1))
        state = []
        for k, layer in enumerate(layers):
            bridge = self.bridge(P, k, layer, rows, 1, n)
            state += [bridge.h0[0], bridge.c0[0]]
        if self.attention is not None:
            E = _to_rows(layers[-1].outputs)[rows]
            lengths = encoded.frames.lengths.reshape(-1)[rows].astype(np.int64)
            E *= (np.arange(E.shape[1]) < lengths[:, None])[:, :, None]
            if self.attention == "general":
                keys = _matmul(E, P["attention.weight"].T)
            elif self.attention == "additive":
                keys = _matmul(E, P["attention.key.weight"].T)
            else:
                keys = E
            state += [E, keys, lengths]
        return tuple(state)

    def _attend_step(self, P, h, E, keys, lengths):
        """Attentional state and weights of one decoder step, ``h`` ``(n, H)``.

        The step-wise form of :func:`skrnn._attention.attention_forward`,
        with the keys projected once per decoding (``E`` zero on padding).
        """
        if self.attention == "additive":
            query = h @ P["attention.query.weight"].T
            hidden = np.tanh(query[:, None, :] + keys)
            scores = hidden @ P["attention.v.weight"][0]
        else:
            scores = (keys @ h[:, :, None])[:, :, 0]
        n, T_x = scores.shape
        alpha = np.empty((n, T_x), scores.dtype)
        masked_softmax(
            np.ascontiguousarray(scores).reshape(n, 1, T_x),
            lengths,
            alpha.reshape(n, 1, T_x),
        )
        context = (alpha[:, None, :] @ E)[:, 0]
        H_tilde = np.concatenate([context, h], axis=1) @ P["attention.combine.weight"].T
        H_tilde += P["attention.combine.bias"]
        return np.tanh(H_tilde, out=H_tilde), alpha

    def decoder_step(self, theta, tokens, state, *, views=None, return_attention=False):
        """One decoder step for all rows: ``(log_probs, new_state)``.

        ``tokens`` ``(rows,)`` are the previous tokens, ``state`` as
        :meth:`initial_decoder_state` returns it (rows in any order).
        ``views``, if given, is ``self.views(theta)``, made once for all the
        steps of a decoding.
        """
        P = self.views(theta) if views is None else views
        n = len(tokens)
        # Rows split into one chunk per thread when they divide evenly and
        # each chunk has enough rows to pay for the hand-off to another
        # thread, which a single step's work barely does; with one step, row
        # r of chunk c is row c * Bc + r of the state.
        C = max(1, min(n_chunks(n), n // _STEP_ROWS_PER_CHUNK))
        C = C if n % C == 0 else 1
        Bc = n // C
        inputs = np.ascontiguousarray(
            P["decoder.embedding.weight"][np.asarray(tokens, dtype=np.intp)]
        ).reshape(C, 1, Bc, -1)
        lengths = np.ones((C, Bc), dtype=np.int64)
        initial = [
            [tuple(s.reshape(C, Bc, s.shape[-1]) for s in state[2 * k : 2 * k + 2])]
            for k in range(len(self.hidden_layer_sizes))
        ]
        step = self.decoder_stack.forward(P, inputs, lengths, initial=initial)
        new_state = []
        for ((h_n, c_n),) in step.final_states():
            new_state += [h_n.reshape(n, h_n.shape[-1]), c_n.reshape(n, c_n.shape[-1])]
        top = step.outputs.reshape(n, -1)
        alpha = None
        if self.attention is not None:
            top, alpha = self._attend_step(P, top, *state[-3:])
            new_state += state[-3:]
        logits = top @ P["output.weight"].T
        logits += P["output.bias"]
        log_probs = np.empty(logits.shape, np.float64)
        log_softmax_rows(logits, log_probs)
        if return_attention:
            return log_probs, tuple(new_state), alpha
        return log_probs, tuple(new_state)
