"""Compilation settings shared by every Numba kernel in :mod:`skrnn._kernels`.

Numba's on-disk cache is keyed on the source file of each compiled function,
not on the files it depends on: after editing this module (or ``_math.py``),
clear ``NUMBA_CACHE_DIR`` (or the ``__pycache__`` folders) so that the kernels
recompile with the new settings.
"""

import os

# LLVM fast-math flags for every kernel, in one place.
#
# - 'contract' lets LLVM fuse multiply-adds (FMA), which makes the polynomial
#   evaluations both faster and more accurate.
# - 'arcp' and 'nsz' allow reciprocals and ignore the sign of zero: harmless
#   for the gate arithmetic.
# - 'nnan' and 'ninf' are deliberately absent: with them LLVM may assume that
#   no NaN or inf ever occurs and fold away the comparisons that let NaN
#   propagate, so a diverging model would silently produce finite garbage
#   instead of the non-finite values that the estimators detect.
# - 'reassoc' is absent too: it would allow LLVM to undo the two-constant
#   range reduction of the exponential (destroying its accuracy) and to
#   reorder sums, making results depend on the vector width.
FASTMATH = {"contract", "arcp", "nsz"}

# Options of every kernel. error_model="numpy" makes float division by zero
# give inf/NaN as in NumPy instead of raising ZeroDivisionError: the check
# that Python semantics need is a branch that stops LLVM from vectorising.
JIT_OPTIONS = {
    "cache": True,
    "nogil": True,
    "fastmath": FASTMATH,
    "error_model": "numpy",
}


# Intel CPUs whose clock drops markedly while 512-bit instructions run: on
# these LLVM's default preference for 256-bit vectors stays.
_NARROW_AVX512_CPUS = frozenset(
    {"skylake-avx512", "cascadelake", "cooperlake", "cannonlake"}
)


def wide_vector_features(cpu_name, features, environ):
    """Return LLVM target features that prefer 512-bit vectors, or None.

    LLVM tunes every AVX-512 CPU from Skylake-SP on to prefer 256-bit
    vectors ("prefer-256-bit"), a choice made for the clock penalty of the
    first AVX-512 generation. The gate loops of the kernels are long chains
    of polynomial arithmetic on independent rows; with 512-bit vectors they
    run about 1.6 times faster on CPUs without that penalty. Vector width
    never changes a result here: the kernels allow no reassociation, so
    every element follows the same sequence of operations at any width.

    Parameters
    ----------
    cpu_name : str
        LLVM's name of the host CPU, e.g. ``"sapphirerapids"``.
    features : str
        LLVM's comma-separated host feature string (``"+avx512f,..."``).
    environ : mapping
        Environment variables. Nothing changes when the user chose the
        target (``NUMBA_CPU_NAME`` or ``NUMBA_CPU_FEATURES``) or opted out
        with ``SKRNN_WIDE_VECTORS=0``.

    Returns
    -------
    features : str or None
        ``features`` without the 256-bit preference, or None to leave the
        target as it is.
    """
    if environ.get("SKRNN_WIDE_VECTORS", "1").strip() == "0":
        return None
    if "NUMBA_CPU_NAME" in environ or "NUMBA_CPU_FEATURES" in environ:
        return None
    flags = features.split(",")
    if "+avx512f" not in flags or cpu_name in _NARROW_AVX512_CPUS:
        return None
    if "-prefer-256-bit" in flags:
        return None
    return features + ",-prefer-256-bit"


def _prefer_wide_vectors():
    """Let Numba's code generator use 512-bit vectors where they pay.

    Numba creates one code generator per process, with the target features
    of the moment, when the first function is decorated. This runs before
    any kernel is decorated; if some other library created the generator
    already, the kernels keep its settings (same results, narrower
    vectors). ``numba.config`` is left as it was found.

    Returns
    -------
    applied : bool
        Whether the generator now prefers 512-bit vectors.
    """
    import llvmlite.binding as llvm
    from numba.core import config, registry

    try:
        if "_toplevel_target_context" in vars(registry.cpu_target):
            return False
        if config.CPU_NAME is not None or config.CPU_FEATURES is not None:
            return False
        features = wide_vector_features(
            llvm.get_host_cpu_name(),
            llvm.get_host_cpu_features().flatten(),
            os.environ,
        )
    except (AttributeError, RuntimeError):
        # A Numba without these internals, or a host whose features LLVM
        # cannot read: keep the defaults.
        return False
    if features is None:
        return False
    config.CPU_FEATURES = features
    try:
        _ = registry.cpu_target.target_context  # creates the generator
    finally:
        config.CPU_FEATURES = None
    return True


WIDE_VECTORS = _prefer_wide_vectors()
