"""Tests of the spinning chunk workers in skrnn._runtime._workers."""

import threading
import time

import numpy as np
import pytest

from skrnn._runtime._workers import (
    ChunkWorkers,
    _spin_until_changed,
    _spin_until_set,
)

# A pool that spins, one that sleeps at once, and one whose spins are so
# short that its workers go to sleep between calls and must be woken.
POOLS = {
    "spinning": dict(spin_seconds=0.002),
    "sleeping": dict(spin_seconds=0.0),
    "short-spin": dict(spin_seconds=1e-6),
}


@pytest.fixture(params=list(POOLS))
def pool(request):
    return ChunkWorkers(2, **POOLS[request.param])


def test_spin_until_changed_sees_another_threads_write():
    counter = np.zeros(1, dtype=np.int64)
    assert _spin_until_changed(counter, 0, 1000) == -1
    assert _spin_until_changed(counter, 5, 1) == 0

    def bump():
        time.sleep(0.01)
        counter[0] = 7

    thread = threading.Thread(target=bump)
    thread.start()
    # Far more spins than the write takes to arrive; the loop must reload
    # the counter (an atomic load), not keep the first value it read.
    assert _spin_until_changed(counter, 0, 10**9) > 0
    thread.join()
    assert counter[0] == 7


def test_spin_until_set_waits_for_every_flag():
    flags = np.zeros(3, dtype=np.int64)
    assert _spin_until_set(flags, 100) == -1
    flags[[0, 2]] = 1
    assert _spin_until_set(flags, 100) == -1
    flags[1] = 1
    assert _spin_until_set(flags, 1) == 0
    assert _spin_until_set(np.zeros(0, dtype=np.int64), 1) == 0


@pytest.mark.parametrize("n_chunks", [2, 3, 6])
def test_every_chunk_runs_exactly_once(pool, n_chunks):
    rng = np.random.default_rng(n_chunks)
    for call in range(60):
        counts = np.zeros(n_chunks, dtype=int)
        pause = rng.uniform(0, 2e-4, n_chunks)

        def run(c, counts=counts, pause=pause):
            time.sleep(pause[c])
            counts[c] += 1

        pool.run(run, n_chunks)
        assert counts.tolist() == [1] * n_chunks, call


def test_chunks_run_on_the_workers_concurrently(pool):
    # Chunk 0 cannot finish before chunk 1 has started, so chunk 1 must run
    # in a worker, also after the workers went to sleep.
    for _ in range(3):
        started = threading.Event()
        where = {}

        def run(c, where=where, started=started):
            where[c] = threading.current_thread().name
            if c == 0:
                assert started.wait(10)
            else:
                started.set()

        begin = time.perf_counter()
        pool.run(run, 2)
        assert time.perf_counter() - begin < 10
        assert where[0] == threading.current_thread().name
        assert where[1].startswith("skrnn-chunk")
        time.sleep(0.02)  # longer than any spin: the workers sleep


@pytest.mark.parametrize("failing", [[0], [1], [2], [1, 2], [0, 2]])
def test_first_error_in_chunk_order_is_raised(pool, failing):
    def run(c):
        if c in failing:
            raise RuntimeError(f"chunk {c}")

    with pytest.raises(RuntimeError, match=f"chunk {failing[0]}"):
        pool.run(run, 3)
    # The pool keeps working after an error.
    seen = []
    pool.run(seen.append, 3)
    assert sorted(seen) == [0, 1, 2]


def test_callers_in_several_threads_share_the_pool(pool):
    errors = []

    def caller(k):
        try:
            for _ in range(40):
                counts = np.zeros(3, dtype=int)

                def run(c, counts=counts):
                    counts[c] += 1

                pool.run(run, 3)
                assert counts.tolist() == [1, 1, 1]
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 0.002), ("", 0.002), ("0", 0.0), (" 1e-3 ", 0.001)],
)
def test_spin_time_from_the_environment(value, expected):
    from skrnn._runtime._workers import SPIN_SECONDS, spin_seconds_from

    assert SPIN_SECONDS == 0.002
    environ = {} if value is None else {"SKRNN_SPIN_SECONDS": value}
    assert spin_seconds_from(environ) == expected


@pytest.mark.parametrize("value", ["fast", "-1", "nan", "inf"])
def test_bad_spin_time_is_a_clear_error(value):
    from skrnn._runtime._workers import spin_seconds_from

    with pytest.raises(
        ValueError, match=rf"SKRNN_SPIN_SECONDS must be .* >= 0 .*got '{value}'"
    ):
        spin_seconds_from({"SKRNN_SPIN_SECONDS": value})


def test_waits_stop_spinning_when_spins_are_preempted(monkeypatch):
    from types import SimpleNamespace

    import skrnn._runtime._workers as workers

    pool = ChunkWorkers(1, spin_seconds=0.002)
    pool._start()
    # A clock that only the fake spins below move: the outcome does not
    # depend on how busy the machine running the tests is.
    clock = [100.0]
    monkeypatch.setattr(workers, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    assert pool._spinning()

    def preempted(max_spins):
        clock[0] += 0.01  # far longer than `max_spins` spins take
        return 0

    def prompt(max_spins):
        return 0

    # One slow spin (a page fault, the hypervisor) is forgiven...
    assert pool._spun(preempted)
    assert pool._spun(prompt)
    assert pool._spun(preempted)
    assert pool._spinning()
    # ...several close together are a busy machine: waits then sleep.
    assert pool._spun(preempted)
    assert pool._spun(preempted)
    assert not pool._spinning()
    assert not pool._spun(prompt)  # does not even try
    # Chunks still run, by sleeping waits.
    seen = []
    pool.run(seen.append, 2)
    assert sorted(seen) == [0, 1]
    # Spinning resumes after the back-off.
    clock[0] += workers._BACK_OFF_SECONDS
    assert pool._spinning()
