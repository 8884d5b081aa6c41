"""Timing primitives: interleaved ABAB measurement and the GEMM peak.

Two implementations of the same computation are timed alternately in one
process (A, B, A, B, ...) so that slow drifts of the machine (other processes,
frequency changes, thermal state) affect both sides alike. The first rounds
are warm-up (compilation, allocator and cache warm-up) and are discarded; the
figure reported for each side is the median of the remaining rounds.

Each round of a side is a block of back-to-back calls (enough to last a few
milliseconds) preceded by a short pause. Back-to-back calls measure the steady
state of a training loop; the pause lets the other side's idle threads stop
spinning first: OpenMP runtimes (Numba's and PyTorch's are separate ones)
busy-wait for several milliseconds after a parallel region, and on a two-core
machine a spinning thread of one library would take a core from the other.
"""

import contextlib
import gc
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class TimingPolicy:
    """How many rounds to time.

    Attributes
    ----------
    warmup : int
        Calls of each side run and discarded before measuring.
    min_repeats, max_repeats : int
        Bounds on the number of measured rounds.
    budget : float
        Seconds of measured time wanted per side: the number of rounds is
        ``budget / (time of one round)``, clipped to the bounds above.
    min_round : float
        Seconds a round should last at least: a round calls the function
        ``ceil(min_round / time of one call)`` times back to back and records
        the mean time per call.
    settle : float
        Seconds of pause before each round, outside the timed region.
    """

    warmup: int = 2
    min_repeats: int = 5
    max_repeats: int = 31
    budget: float = 1.0
    min_round: float = 0.02
    settle: float = 0.03

    def repeats_for(self, seconds_per_round):
        wanted = math.ceil(self.budget / max(seconds_per_round, 1e-9))
        return int(min(self.max_repeats, max(self.min_repeats, wanted)))


@dataclass(frozen=True)
class Timing:
    """Summary of the measured rounds of one side, in seconds."""

    median: float
    q25: float
    q75: float
    best: float
    repeats: int
    calls_per_round: int

    def to_dict(self):
        return asdict(self)


def _summary(samples, calls_per_round):
    samples = np.asarray(samples)
    q25, median, q75 = np.percentile(samples, [25, 50, 75])
    return Timing(
        float(median),
        float(q25),
        float(q75),
        float(samples.min()),
        len(samples),
        calls_per_round,
    )


def _timed(func, context, n_calls, settle):
    """Mean seconds per call of a block of ``n_calls`` back-to-back calls."""
    if settle:
        time.sleep(settle)
    with context():
        start = time.perf_counter()
        for _ in range(n_calls):
            func()
        return (time.perf_counter() - start) / n_calls


def interleaved(sides, policy):
    """Time several callables alternately and summarise each.

    Parameters
    ----------
    sides : list of (callable, context factory)
        Each callable runs the computation once; its context factory returns
        a context manager entered around each block of calls but outside the
        timed region (thread limits, ...).
    policy : TimingPolicy
        Warm-up, block length, pause and repeat counts.

    Returns
    -------
    timings : list of Timing
        Seconds per call, one summary per side, in the order given.
    """
    gc.collect()
    # Garbage collection pauses would land on whichever side happens to
    # trigger them; timeit switches it off for the same reason.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        per_call = [0.0] * len(sides)
        for _ in range(policy.warmup):
            per_call = [_timed(f, ctx, 1, policy.settle) for f, ctx in sides]
        n_calls = [max(1, math.ceil(policy.min_round / max(t, 1e-9))) for t in per_call]
        round_seconds = max(t * n for t, n in zip(per_call, n_calls))
        repeats = policy.repeats_for(round_seconds)
        samples = [[] for _ in sides]
        for _ in range(repeats):
            for k, (func, ctx) in enumerate(sides):
                samples[k].append(_timed(func, ctx, n_calls[k], policy.settle))
    finally:
        if gc_was_enabled:
            gc.enable()
    return [_summary(s, n) for s, n in zip(samples, n_calls)]


def gemm_peak(dtype, threads, *, size=1024, repeats=10):
    """Measured GEMM throughput of NumPy's BLAS for square matrices.

    Parameters
    ----------
    dtype : {"float32", "float64"}
        Floating type.
    threads : int
        BLAS threads allowed during the measurement.
    size : int, default=1024
        Matrix size ``n`` of the ``n x n`` by ``n x n`` product.
    repeats : int, default=10
        Measured products (after two of warm-up).

    Returns
    -------
    result : dict
        ``gflops`` (median), ``gflops_best`` (fastest product), ``size`` and
        ``repeats``.
    """
    rng = np.random.default_rng(0)
    A = rng.standard_normal((size, size)).astype(dtype)
    B = rng.standard_normal((size, size)).astype(dtype)
    C = np.empty((size, size), dtype)
    flops = 2.0 * size**3
    with threadpool_limits(limits=threads, user_api="blas"):
        (timing,) = interleaved(
            [(lambda: np.matmul(A, B, out=C), contextlib.nullcontext)],
            TimingPolicy(
                warmup=2,
                min_repeats=repeats,
                max_repeats=repeats,
                min_round=0.0,
                settle=0.0,
            ),
        )
    return {
        "gflops": flops / timing.median / 1e9,
        "gflops_best": flops / timing.best / 1e9,
        "size": size,
        "repeats": timing.repeats,
    }
