"""The runtime of the kernels: code generation, threads and BLAS.

Everything that is not arithmetic lives here, between the pure kernels of
:mod:`skrnn._kernels` and the network of :mod:`skrnn._network`:

- where compiled kernels are cached (:mod:`._cache`): a per-user folder,
  never the package's own, installed on import before any kernel is
  decorated, and the one notice per process that kernels are compiling
  (:mod:`._notice`);
- the code generator's target (:mod:`._codegen`), set up on import, before
  any kernel is compiled or loaded from Numba's cache;
- the chunk workers, threads that wait by spinning before they sleep
  (:mod:`._workers`), and the dispatchers that split a layer's work into one
  chunk per thread and sum the chunks' gradients (:mod:`._dispatch`), which
  also own the thread count;
- the kernel session, which holds BLAS to one thread while kernels run
  (:mod:`._blas`), and keeps freed memory in the C heap from batch to batch
  (:mod:`._heap`);
- a fork handler: a child process forked from this one starts its own
  threads and BLAS bookkeeping.

Python threads rather than a Numba ``prange`` region: a ``parallel=True``
wrapper compiles the whole chunk kernel a second time (LLVM inlines it into
the parallel region), and its OpenMP workers spin or sleep outside our
control.
"""

import os

from ._environment import check_thread_variable

# Before Numba is imported: it fails without naming the variable.
check_thread_variable()

from . import _cache, _notice, _parallel  # noqa: E402
from ._codegen import prefer_wide_vectors  # noqa: E402

# Before anything below (or skrnn._kernels) decorates a Numba function.
_cache.install()
_notice.install()
_parallel.install()
WIDE_VECTORS = prefer_wide_vectors()

from . import _blas, _dispatch  # noqa: E402
from ._blas import session  # noqa: E402
from ._dispatch import (  # noqa: E402
    layer_backward,
    layer_forward,
    max_threads,
    n_chunks,
    store_width,
)

__all__ = [
    "WIDE_VECTORS",
    "layer_backward",
    "layer_forward",
    "max_threads",
    "n_chunks",
    "session",
    "store_width",
]


def _after_fork_in_child():
    _dispatch.forget_after_fork()
    _blas.forget_after_fork()
    _parallel.forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
