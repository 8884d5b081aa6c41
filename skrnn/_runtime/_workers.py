"""Worker threads that run the chunks after the first, waiting by spinning.

A training step hands chunks to other threads twice per layer (forward and
backward), every millisecond or two for the small batches of a typical fit.
A thread that sleeps while it waits (on a lock, a condition or a queue) is
expensive to wake: its core has gone idle, and on a virtual machine an idle
core is halted by the hypervisor. A wake-up can cost a large part of a
small-batch training step, both for a worker picking up a chunk and for the
caller collecting it (figures in docs/performance.rst).

So the threads here wait by spinning first, as OpenMP runtimes do, and sleep
only when nothing has come for :data:`SPIN_SECONDS`:

- an idle worker spins on a counter that the caller bumps when it posts
  chunks;
- the caller, once its own chunk is done, spins on per-chunk flags that the
  workers set when theirs are done.

``SKRNN_SPIN_SECONDS`` (read when the first multi-threaded fit starts)
changes the spin time; ``0`` turns spinning off, for machines whose cores
are shared with other busy processes, where a spinning thread would hold a
core that another process could use.

Both spins run in compiled code that has released the GIL, so the thread
being waited for never queues for the GIL behind the spinning one, and a
worker sets its flag from compiled code too, after its last Python statement:
the caller can then take the GIL back at once. The counter and the flags are
``int64`` arrays read and written with atomic acquire and release operations,
which LLVM may neither hoist out of the spin loop nor reorder.

With ``NUMBA_DISABLE_JIT=1`` (kernels running as Python, holding the GIL),
nothing spins: the threads sleep and wake as ordinary Python threads do.
"""

import collections
import os
import platform
import threading
import time

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# How long an idle worker, or a caller waiting for the workers' chunks,
# spins before it sleeps. Long enough to cover the Python work between two
# kernel calls of a training loop (loss, optimiser step, next batch), short
# enough that a finished fit leaves no thread busy for long.
SPIN_SECONDS = 0.002

# A spin that takes this many times its calibrated duration, plus the slack,
# was preempted. _CONTENDED_STRIKES of them close together (each normal spin
# cancels one) are taken as oversubscribed cores, and waits then sleep at
# once for the next _BACK_OFF_SECONDS.
_CONTENDED_RATIO = 4.0
_CONTENDED_SLACK = 2e-4
_CONTENDED_STRIKES = 3
_BACK_OFF_SECONDS = 0.5

_X86 = platform.machine().lower() in {"x86_64", "amd64", "i386", "i686", "x86"}


def _is_int64_array(flags):
    return isinstance(flags, types.Array) and flags.dtype == types.int64


def _element_pointer(context, builder, signature, args):
    """LLVM pointer to ``args[0][args[1]]``, for the atomic intrinsics."""
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, array_type, array, [args[1]])


@intrinsic
def _load_acquire(typingctx, flags, index):
    """``flags[index]`` read with an atomic acquire load."""
    if not _is_int64_array(flags):
        return None

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        return builder.load_atomic(pointer, "acquire", 8)

    return types.int64(flags, index), codegen


@intrinsic
def _store_release(typingctx, flags, index, value):
    """``flags[index] = value`` written with an atomic release store."""
    if not _is_int64_array(flags):
        return None

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(value, pointer, "release", 8)
        return context.get_dummy_value()

    return types.none(flags, index, value), codegen


# On POSIX systems each spin also offers the core to other threads: when the
# machine is oversubscribed, the thread being waited for may be queued for
# this very core, and a pure spin would keep it out until the spin ends.
_YIELD = os.name == "posix"


@intrinsic
def _cpu_relax(typingctx):
    """Give the core to another runnable thread, if any (POSIX
    ``sched_yield``), or else hint a spin loop (x86 ``pause``)."""

    def codegen(context, builder, signature, args):
        if _YIELD:
            sched_yield = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield"
            )
            builder.call(sched_yield, [])
        elif _X86:
            pause = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(ir.VoidType(), []),
                "llvm.x86.sse2.pause",
            )
            builder.call(pause, [])
        return context.get_dummy_value()

    return types.none(), codegen


@njit(cache=True, nogil=True)
def _spin_until_changed(counter, seen, max_spins):
    """Spin until ``counter[0] != seen``, at most ``max_spins`` times.

    Returns the number of spins it took, or -1 if the counter did not change.
    """
    for k in range(max_spins):
        if _load_acquire(counter, 0) != seen:
            return k
        _cpu_relax()
    return max_spins if _load_acquire(counter, 0) != seen else -1


@njit(cache=True, nogil=True)
def _spin_until_set(flags, max_spins):
    """Spin until every ``flags[i]`` is non-zero, at most ``max_spins`` times.

    Returns the number of spins it took, or -1 if some flag stayed zero.
    """
    n = flags.shape[0]
    first = 0
    for k in range(max_spins + 1):
        while first < n and _load_acquire(flags, first) != 0:
            first += 1
        if first == n:
            return k
        if k < max_spins:
            _cpu_relax()
    return -1


@njit(cache=True, nogil=True)
def _set_then_spin(flags, index, counter, seen, max_spins):
    """Set ``flags[index]``, then wait as :func:`_spin_until_changed` does."""
    _store_release(flags, index, 1)
    return _spin_until_changed(counter, seen, max_spins)


class _Chunk:
    """One chunk handed to the workers: run exactly once, by whoever claims it."""

    __slots__ = ("run_chunk", "index", "flags", "slot", "error", "_claim", "_done")

    def __init__(self, run_chunk, index, flags, slot):
        self.run_chunk = run_chunk
        self.index = index
        self.flags = flags
        self.slot = slot
        self.error = None
        self._claim = threading.Lock()
        self._done = threading.Lock()
        self._done.acquire()

    def claim(self):
        """Take the chunk; False if another thread already has."""
        return self._claim.acquire(blocking=False)

    def run(self):
        """Run the chunk, keeping its exception for the caller."""
        try:
            self.run_chunk(self.index)
        except BaseException as error:  # re-raised in the caller's thread
            self.error = error
        self._done.release()

    def skip(self):
        """Mark the (claimed) chunk as done without running it."""
        self._done.release()

    def wait(self):
        """Block until the chunk has run (after its flag was not seen)."""
        self._done.acquire()
        self._done.release()


class ChunkWorkers:
    """Daemon threads that run chunks for :func:`run`'s callers.

    Parameters
    ----------
    n_workers : int
        Number of threads, started on the first call that needs them.
    spin_seconds : float, default=SPIN_SECONDS
        How long waits spin before they sleep (0: never spin).
    """

    def __init__(self, n_workers, spin_seconds=SPIN_SECONDS):
        self.n_workers = n_workers
        self._queue = collections.deque()
        # Bumped (under the condition's lock) whenever chunks are posted.
        self._posted = np.zeros(1, dtype=np.int64)
        self._condition = threading.Condition()
        self._sleeping = 0
        self._threads = []
        self._lock = threading.Lock()
        self._spin = not config.DISABLE_JIT and spin_seconds > 0
        self._spin_seconds = spin_seconds
        self._max_spins = 0
        self._seconds_per_spin = 0.0
        # perf_counter() time before which waits sleep at once (set when
        # the cores were found oversubscribed).
        self._no_spin_until = 0.0
        self._strikes = 0

    def _start(self):
        with self._lock:
            if self._threads:
                return
            if self._spin:
                self._seconds_per_spin = _calibrate()
                self._max_spins = max(
                    1, int(self._spin_seconds / self._seconds_per_spin)
                )
            for k in range(self.n_workers):
                thread = threading.Thread(
                    target=self._work, name=f"skrnn-chunk_{k}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def run(self, run_chunk, n_chunks):
        """Call ``run_chunk(c)`` for every chunk ``c``, concurrently.

        Chunk 0 runs in the calling thread, the others on the workers, or in
        the calling thread too if no worker has claimed them by the time
        chunk 0 is done (the workers may be busy with another caller's
        chunks). Returns when all are done; re-raises the first exception,
        in chunk order.
        """
        self._start()
        flags = np.zeros(n_chunks - 1, dtype=np.int64)
        chunks = [_Chunk(run_chunk, c, flags, c - 1) for c in range(1, n_chunks)]
        self._queue.extend(chunks)
        with self._condition:
            self._posted[0] += 1
            if self._sleeping:
                self._condition.notify_all()
        error = None
        try:
            run_chunk(0)
        except BaseException as first:
            error = first
        for chunk in chunks:
            if chunk.claim():
                if error is None:
                    chunk.run()
                else:
                    chunk.skip()  # after an error: drop the chunks not started
                flags[chunk.slot] = 1
        if not self._spun(_spin_until_set, flags):
            for chunk in chunks:
                chunk.wait()
        if error is not None:
            raise error
        for chunk in chunks:
            if chunk.error is not None:
                raise chunk.error

    def _work(self):
        posted = self._posted
        while True:
            seen = int(posted[0])
            try:
                chunk = self._queue.popleft()
            except IndexError:
                self._idle(seen)
                continue
            if not chunk.claim():
                continue  # the caller ran it
            chunk.run()
            seen = int(posted[0])
            if self._queue:
                chunk.flags[chunk.slot] = 1
            elif self._spinning():
                # The flag is set from compiled code, after the last Python
                # statement: the caller never waits for this thread's GIL.
                if not self._spun(
                    _set_then_spin, chunk.flags, chunk.slot, posted, seen
                ):
                    self._sleep(seen)
            else:
                chunk.flags[chunk.slot] = 1
                self._sleep(seen)

    def _idle(self, seen):
        if not self._spun(_spin_until_changed, self._posted, seen):
            self._sleep(seen)

    def _spinning(self):
        return self._spin and time.perf_counter() >= self._no_spin_until

    def _spun(self, spin, *args):
        """Wait by ``spin(*args, max_spins)``; True if what it waits for came.

        Spins that took several times as long as calibrated were preempted
        or yielded their core to other threads: the cores are
        oversubscribed, and spinning would take them from the threads being
        waited for. After :data:`_CONTENDED_STRIKES` such spins, with fewer
        normal ones between them, waits sleep at once for
        :data:`_BACK_OFF_SECONDS`.
        """
        if not self._spinning():
            return False
        start = time.perf_counter()
        spins = spin(*args, self._max_spins)
        elapsed = time.perf_counter() - start
        expected = (spins if spins >= 0 else self._max_spins) * self._seconds_per_spin
        if elapsed > _CONTENDED_RATIO * expected + _CONTENDED_SLACK:
            # One slow spin can be a page fault or the hypervisor; several
            # close together are a busy machine.
            self._strikes += 1
            if self._strikes >= _CONTENDED_STRIKES:
                self._strikes = 0
                self._no_spin_until = start + elapsed + _BACK_OFF_SECONDS
        elif self._strikes > 0:
            self._strikes -= 1
        return spins >= 0

    def _sleep(self, seen):
        with self._condition:
            self._sleeping += 1
            while self._posted[0] == seen:
                self._condition.wait()
            self._sleeping -= 1


def _calibrate():
    """Seconds one spin takes on this machine, when no other thread wants
    the core (the fastest of a few trials)."""
    counter = np.zeros(1, dtype=np.int64)
    trial = 2000
    _spin_until_changed(counter, 0, 1)  # compile (or load) outside the timing
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        _spin_until_changed(counter, 0, trial)
        best = min(best, time.perf_counter() - start)
    return max(best / trial, 1e-9)


def spin_seconds_from(environ):
    """The spin time set by ``SKRNN_SPIN_SECONDS`` in ``environ``, if any.

    Parameters
    ----------
    environ : mapping
        Environment variables.

    Returns
    -------
    seconds : float
        :data:`SPIN_SECONDS` when the variable is unset or empty.

    Raises
    ------
    ValueError
        If the variable is not a finite number of seconds >= 0.
    """
    text = environ.get("SKRNN_SPIN_SECONDS", "").strip()
    if not text:
        return SPIN_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = np.nan
    if not (np.isfinite(seconds) and seconds >= 0):
        raise ValueError(
            f"SKRNN_SPIN_SECONDS must be a number of seconds >= 0 (0 turns "
            f"spinning off), got {text!r}. Set it to, for example, 0.002, or "
            f"unset it for the default of {SPIN_SECONDS}."
        )
    return seconds
