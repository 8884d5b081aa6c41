"""The code generator's target: 512-bit vectors on CPUs where they pay.

Numba creates one code generator per process, with the target features of
the moment, when the first function is compiled or loaded from the cache.
:func:`prefer_wide_vectors` runs once, from :mod:`skrnn._runtime`, before any
kernel of :mod:`skrnn._kernels` or of the chunk workers is decorated.
"""

import os

# Intel CPUs whose clock drops markedly while 512-bit instructions run: on
# these LLVM's default preference for 256-bit vectors stays.
_NARROW_AVX512_CPUS = frozenset(
    {"skylake-avx512", "cascadelake", "cooperlake", "cannonlake"}
)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def flag_from(environ, name, advice):
    """Read the on/off environment variable ``name`` (on when unset or empty).

    True for ``1``, ``true``, ``yes``, ``on``, False for ``0``, ``false``,
    ``no``, ``off`` (any case, surrounding spaces ignored); any other value
    raises a ``ValueError`` that ends with ``advice``.
    """
    text = environ.get(name, "").strip().lower()
    if not text or text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(
        f"{name} must be a true value (1, true, yes, on) or a false "
        f"value (0, false, no, off), got {environ[name]!r}. {advice}"
    )


def wide_vectors_allowed(environ):
    """Whether ``SKRNN_WIDE_VECTORS`` (in ``environ``) allows 512-bit vectors.

    See :func:`flag_from` for the values.
    """
    return flag_from(
        environ,
        "SKRNN_WIDE_VECTORS",
        "Set it to 0 to keep LLVM's default vector width, or unset it.",
    )


def wide_vector_features(cpu_name, features, environ):
    """Return LLVM target features that prefer 512-bit vectors, or None.

    LLVM tunes every AVX-512 CPU from Skylake-SP on to prefer 256-bit
    vectors ("prefer-256-bit"), a choice made for the clock penalty of the
    first AVX-512 generation. The gate loops of the kernels are long chains
    of polynomial arithmetic on independent rows, which 512-bit vectors
    speed up on CPUs without that penalty (measured in
    ``docs/performance.rst``, "Figures behind the runtime"). Vector width
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
        with ``SKRNN_WIDE_VECTORS`` set to a false value (see
        :func:`wide_vectors_allowed`).

    Returns
    -------
    features : str or None
        ``features`` without the 256-bit preference, or None to leave the
        target as it is.
    """
    if not wide_vectors_allowed(environ):
        return None
    if "NUMBA_CPU_NAME" in environ or "NUMBA_CPU_FEATURES" in environ:
        return None
    flags = features.split(",")
    if "+avx512f" not in flags or cpu_name in _NARROW_AVX512_CPUS:
        return None
    if "-prefer-256-bit" in flags:
        return None
    return features + ",-prefer-256-bit"


def prefer_wide_vectors():
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

    if not wide_vectors_allowed(os.environ):
        return False
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
