"""PyTorch side of the sequence translator benchmark.

The model is the translator's design written in PyTorch: an LSTM encoder over
embedded input tokens, its final state copied into an LSTM decoder of the
same width (unidirectional, equal sizes: no bridge), teacher forcing, Luong
"general" attention after the decoder (``h~ = tanh(W_c [c; h] + b_c)``, no
input feeding) and a softmax over the output tokens plus the end token. Loss:
mean cross-entropy over the real decoder steps. Ragged batches go through
packed sequences; batches of equal lengths are not packed (what a PyTorch
user would write).

Two measurements:

- ``time_steps``: a training step (forward, backward, Adam) and greedy
  decoding of a batch (all ``T_y`` steps, even where every sequence has
  ended, so that the work does not depend on the weights), ``H = 64``, a
  vocabulary of 20 tokens, ``T_x = T_y = 10``, embeddings of 16, at ``B`` in
  {32, 128} on 1 and 2 threads, median of repeated calls after warm-up;
- ``train_addition``: the two-digit addition task of
  :func:`skrnn.datasets.make_addition` (operands 0 to 99, ``"12+7"`` ->
  ``"19"``, character level), 5,000 training sums and 1,000 held-out ones
  (all pairs of operands distinct), LSTM of 128 units, batches of 64, Adam at
  ``1e-3``, 60 epochs on one thread; reports the exact-match accuracy of
  greedy decoding on the held-out sums and the wall time of training.

Run from the root of a source checkout (PyTorch needed)::

    python benchmarks/seq2seq_torch.py            # both
    python benchmarks/seq2seq_torch.py --task steps --batch-sizes 32
    python benchmarks/seq2seq_torch.py --task addition --epochs 60
"""

import argparse
import json
import platform
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from skrnn.datasets import make_addition


class Translator(nn.Module):
    """LSTM encoder-decoder with Luong "general" attention after the decoder.

    Output ids ``0 .. n_out - 1`` are tokens, ``n_out`` is the end token
    (the last output unit) and ``n_out + 1`` the start token (the last row
    of the decoder embedding).
    """

    def __init__(self, n_in, n_out, hidden=64, embedding=16):
        super().__init__()
        self.n_out = n_out
        self.end_id, self.start_id = n_out, n_out + 1
        self.encoder_embedding = nn.Embedding(n_in, embedding)
        self.encoder = nn.LSTM(embedding, hidden, batch_first=True)
        self.decoder_embedding = nn.Embedding(n_out + 2, embedding)
        self.decoder = nn.LSTM(embedding, hidden, batch_first=True)
        self.attention = nn.Linear(hidden, hidden, bias=False)  # W_a: (H, K)
        self.combine = nn.Linear(2 * hidden, hidden)
        self.output = nn.Linear(hidden, n_out + 1)

    @staticmethod
    def _run(lstm, inputs, lengths, state=None):
        if bool((lengths == lengths[0]).all()):
            return lstm(inputs, state)
        packed = pack_padded_sequence(
            inputs, lengths, batch_first=True, enforce_sorted=False
        )
        outputs, state = lstm(packed, state)
        return pad_packed_sequence(outputs, batch_first=True)[0], state

    def encode(self, x, x_lengths):
        E, state = self._run(self.encoder, self.encoder_embedding(x), x_lengths)
        mask = torch.arange(E.shape[1])[None, :] < x_lengths[:, None]
        return E, mask, state

    def attend(self, H, E, mask):
        # scores h_t^T W_a E_s, i.e. h_t . (W_a E_s): project the keys once.
        scores = H @ self.attention(E).transpose(1, 2)
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        context = torch.softmax(scores, dim=-1) @ E
        return torch.tanh(self.combine(torch.cat([context, H], dim=-1)))

    def forward(self, x, x_lengths, y_in, y_lengths):
        """Logits ``(n, T_y, n_out + 1)`` under teacher forcing."""
        E, mask, state = self.encode(x, x_lengths)
        H, _ = self._run(self.decoder, self.decoder_embedding(y_in), y_lengths, state)
        return self.output(self.attend(H, E, mask))

    def loss(self, x, x_lengths, y_in, y_out, y_lengths):
        logits = self.forward(x, x_lengths, y_in, y_lengths)
        T = logits.shape[1]
        real = torch.arange(T)[None, :] < y_lengths[:, None]
        step_loss = nn.functional.cross_entropy(
            logits.transpose(1, 2), y_out[:, :T], reduction="none"
        )
        return (step_loss * real).sum() / real.sum()

    @torch.inference_mode()
    def greedy(self, x, x_lengths, max_length, stop_at_end=True):
        """Greedy decoding; ``(n, max_length)`` ids, the end token where ended.

        With ``stop_at_end=False`` all ``max_length`` steps run even when
        every sequence has ended (a fixed amount of work, for timing).
        """
        E, mask, state = self.encode(x, x_lengths)
        n = x.shape[0]
        tokens = torch.full((n, 1), self.start_id, dtype=torch.long)
        out = torch.full((n, max_length), self.end_id, dtype=torch.long)
        alive = torch.ones(n, dtype=torch.bool)
        for t in range(max_length):
            H, state = self.decoder(self.decoder_embedding(tokens), state)
            logits = self.output(self.attend(H, E, mask))[:, 0]
            tokens = logits.argmax(dim=1, keepdim=True)
            out[alive, t] = tokens[alive, 0]
            alive &= tokens[:, 0] != self.end_id
            if stop_at_end and not alive.any():
                break
        return out


def _median_time(fn, warmup=3, repeats=15):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _random_batch(rng, B, T_x, T_y, n_in, n_out):
    """Equal-length batch: inputs, decoder inputs and targets (end included)."""
    x = torch.as_tensor(rng.integers(0, n_in, size=(B, T_x)))
    y = rng.integers(0, n_out, size=(B, T_y - 1))
    y_in = torch.as_tensor(np.hstack([np.full((B, 1), n_out + 1), y]))
    y_out = torch.as_tensor(np.hstack([y, np.full((B, 1), n_out)]))
    return x, torch.full((B,), T_x), y_in, y_out, torch.full((B,), T_y)


def time_steps(batch_sizes=(32, 128), threads=(1, 2), hidden=64, vocab=20, steps=10):
    """Seconds per training step and per greedy decoding of a batch.

    Parameters
    ----------
    batch_sizes, threads : tuple of int
        Grid of batch sizes and PyTorch thread counts.
    hidden : int
        Width of both LSTMs.
    vocab : int
        Input tokens; the output has ``vocab - 1`` tokens plus the end token.
    steps : int
        ``T_x`` and ``T_y`` (the end token included in ``T_y``).

    Returns
    -------
    rows : list of dict
        ``batch_size``, ``threads``, ``train`` and ``greedy`` (seconds).
    """
    rows = []
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        for B in batch_sizes:
            train, greedy = _time_batch(B, hidden, vocab, steps)
            rows.append(
                {
                    "batch_size": B,
                    "threads": n_threads,
                    "train": train,
                    "greedy": greedy,
                }
            )
    return rows


def _time_batch(B, hidden, vocab, steps):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Translator(vocab, vocab - 1, hidden=hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, x_len, y_in, y_out, y_len = _random_batch(rng, B, steps, steps, vocab, vocab - 1)

    def train_step():
        optimizer.zero_grad()
        model.loss(x, x_len, y_in, y_out, y_len).backward()
        optimizer.step()

    def decode():
        model.greedy(x, x_len, steps, stop_at_end=False)

    return _median_time(train_step), _median_time(decode)


INPUT_CHARS = "0123456789+"
OUTPUT_CHARS = "0123456789"


def _encode_pairs(pairs):
    """Padded id tensors of string pairs for :class:`Translator`."""
    n_out = len(OUTPUT_CHARS)
    src = [[INPUT_CHARS.index(c) for c in s] for s, _ in pairs]
    tgt = [[OUTPUT_CHARS.index(c) for c in t] for _, t in pairs]
    T_x, T_y = max(map(len, src)), max(map(len, tgt)) + 1
    x = torch.zeros((len(pairs), T_x), dtype=torch.long)
    y_in = torch.zeros((len(pairs), T_y), dtype=torch.long)
    y_out = torch.zeros((len(pairs), T_y), dtype=torch.long)
    for i, (s, t) in enumerate(zip(src, tgt)):
        x[i, : len(s)] = torch.as_tensor(s)
        y_in[i, : len(t) + 1] = torch.as_tensor([n_out + 1, *t])
        y_out[i, : len(t) + 1] = torch.as_tensor([*t, n_out])
    x_len = torch.as_tensor([len(s) for s in src])
    y_len = torch.as_tensor([len(t) + 1 for t in tgt])
    return x, x_len, y_in, y_out, y_len


def _decode(ids, end_id):
    words = []
    for row in ids.tolist():
        row = row[: row.index(end_id)] if end_id in row else row
        words.append("".join(OUTPUT_CHARS[i] for i in row))
    return words


def train_addition(
    n_train=5000, n_test=1000, epochs=60, hidden=128, batch_size=64, seed=0
):
    """Train the translator on two-digit addition in PyTorch, on one thread.

    Parameters
    ----------
    n_train, n_test : int
        Training and held-out sums (all pairs of operands distinct).
    epochs : int
        Passes over the training sums, shuffled every epoch.
    hidden : int
        LSTM width (embeddings of 32).
    batch_size : int
        Sums per Adam step (learning rate 1e-3).
    seed : int
        Seed of the data, the initial weights and the shuffling.

    Returns
    -------
    result : dict
        ``accuracy`` (exact match of greedy decoding on the held-out sums),
        ``train_accuracy``, ``seconds`` (training wall time), ``final_loss``
        (mean loss of the last epoch) and the settings.
    """
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    pairs = make_addition(n_train + n_test, random_state=seed)
    train, test = pairs[:n_train], pairs[n_train:]
    x, x_len, y_in, y_out, y_len = _encode_pairs(train)
    model = Translator(len(INPUT_CHARS), len(OUTPUT_CHARS), hidden, embedding=32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n_train, generator=generator)
        losses = []
        for batch in order.split(batch_size):
            y_len_b = y_len[batch]
            T_y = int(y_len_b.max())
            x_len_b = x_len[batch]
            x_b = x[batch, : int(x_len_b.max())]
            optimizer.zero_grad()
            loss = model.loss(
                x_b, x_len_b, y_in[batch, :T_y], y_out[batch, :T_y], y_len_b
            )
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
    seconds = time.perf_counter() - start

    def accuracy(subset):
        sx, sx_len, *_ = _encode_pairs(subset)
        predicted = _decode(model.greedy(sx, sx_len, max_length=4), model.end_id)
        return float(np.mean([p == t for p, (_, t) in zip(predicted, subset)]))

    return {
        "accuracy": accuracy(test),
        "train_accuracy": accuracy(train),
        "seconds": seconds,
        "final_loss": float(np.mean(losses)),
        "n_train": n_train,
        "n_test": n_test,
        "epochs": epochs,
        "hidden": hidden,
        "batch_size": batch_size,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["steps", "addition", "all"], default="all")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    results = {
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
    }
    if args.task in ("steps", "all"):
        results["steps"] = time_steps(tuple(args.batch_sizes), tuple(args.threads))
        print(f"{'B':>5} {'threads':>7} {'train ms':>9} {'greedy ms':>9}")
        for row in results["steps"]:
            print(
                f"{row['batch_size']:>5} {row['threads']:>7} "
                f"{1e3 * row['train']:>9.2f} {1e3 * row['greedy']:>9.2f}"
            )
    if args.task in ("addition", "all"):
        result = train_addition(epochs=args.epochs)
        results["addition"] = result
        print(
            f"addition: exact match {result['accuracy']:.3f} on {result['n_test']} "
            f"held-out sums (train {result['train_accuracy']:.3f}), "
            f"{result['seconds']:.1f} s for {result['epochs']} epochs on 1 thread, "
            f"final loss {result['final_loss']:.4f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
