import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skrnn._batching import make_batch
from skrnn.testing.strategies import ragged_sequences


@settings(max_examples=40, deadline=None)
@given(ragged_sequences(max_sequences=9), st.integers(1, 3))
def test_batch_layout_round_trip(seqs, n_chunks):
    batch = make_batch(seqs, n_chunks)
    assert batch.n_sequences == len(seqs)
    assert batch.n_steps == max(len(s) for s in seqs)
    # rows sorted longest first within each chunk
    assert (np.diff(batch.lengths, axis=1) <= 0).all()
    for c, b in zip(*np.nonzero(batch.real)):
        seq = seqs[batch.position[c, b]]
        np.testing.assert_array_equal(batch.X[c, : len(seq), b], seq)
        assert (batch.X[c, len(seq) :, b] == 0).all()
    assert (batch.lengths[~batch.real] == 0).all()
    values = np.arange(len(seqs)) * 10.0
    np.testing.assert_array_equal(batch.scatter(batch.gather(values)), values)
    steps = [np.arange(len(s)) + 100 * i for i, s in enumerate(seqs)]
    back = batch.scatter_steps(batch.gather_steps(steps, fill=-1))
    for a, b in zip(back, steps):
        np.testing.assert_array_equal(a, b)
    mask = batch.step_mask()
    assert mask.sum() == sum(len(s) for s in seqs)


def test_chunks_are_balanced_and_deterministic():
    seqs = [np.ones((n, 1)) for n in (5, 3, 8, 1, 2)]
    batch = make_batch(seqs, 2)
    assert batch.n_chunks == 2
    assert batch.chunk_size == 3
    np.testing.assert_array_equal(batch.lengths, [[8, 3, 1], [5, 2, 0]])
    np.testing.assert_array_equal(batch.position, [[2, 1, 3], [0, 4, -1]])
    again = make_batch(seqs, 2)
    np.testing.assert_array_equal(again.X, batch.X)
