"""Compilation options shared by every Numba kernel in :mod:`skrnn._kernels`.

The code generator's target (the vector width) is set up by
:mod:`skrnn._runtime` before any kernel is compiled; this module only holds
the per-function options.

Numba's on-disk cache is keyed on the source file of each compiled function,
not on the files it depends on: after editing this module (or ``_math.py``),
clear ``NUMBA_CACHE_DIR`` (or the ``__pycache__`` folders) so that the kernels
recompile with the new settings.
"""

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
# no_cfunc_wrapper: Numba otherwise builds, for every function, a C-callable
# wrapper that only a function passed as a first-class value needs, which no
# kernel is; the wrappers of a fit's kernels and of every helper they link
# cost about a tenth of a cold compile. The kernels' own code is unchanged.
JIT_OPTIONS = {
    "cache": True,
    "nogil": True,
    "fastmath": FASTMATH,
    "error_model": "numpy",
    "no_cfunc_wrapper": True,
}

# Options of the helpers that only compiled code calls (never Python, tests
# included): without the CPython wrapper, which boxes and unboxes every
# argument type, each helper compiles in less time. Calling such a helper
# from Python fails, so a function that Python calls (tests included) keeps
# JIT_OPTIONS.
HELPER_OPTIONS = {**JIT_OPTIONS, "no_cpython_wrapper": True}
