"""Checks of the environment variables that Numba reads when it is imported.

Numba reads ``NUMBA_NUM_THREADS`` on import and fails deep inside its own
modules on a value it cannot use; checked here first, the error names the
variable and says what to set.
"""

import os


def check_thread_variable():
    """Raise a clear error if ``NUMBA_NUM_THREADS`` is set but not usable."""
    value = os.environ.get("NUMBA_NUM_THREADS")
    if value is None:
        return
    try:
        n_threads = int(value.strip())
    except ValueError:
        n_threads = None
    if n_threads is None or n_threads < 1:
        raise ValueError(
            f"The environment variable NUMBA_NUM_THREADS is {value!r}, but skrnn's "
            "kernels (through Numba) need a positive number of threads. Set it "
            "to a positive integer (at most the number of cores), for instance "
            "NUMBA_NUM_THREADS=2, or unset it to use every core."
        )
