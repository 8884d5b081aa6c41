"""Results pinned before refactors of the training path: they must not move.

``tests/data/pinned_fits.npz`` holds the predictions, probabilities, loss
curves and weights of the small fits of :mod:`tests.pinned_fits`. On the
machine that recorded them (same CPU model as LLVM names it, same BLAS, same
NumPy) they must match bit for bit; elsewhere BLAS kernels and vector widths
may round differently, so they must match closely.
"""

import numpy as np
import pytest

from tests.pinned_fits import PINNED_PATH, fit_case, machine, pinned_cases

PINNED = np.load(PINNED_PATH)
SAME_MACHINE = str(PINNED["machine"]) == machine()


@pytest.mark.parametrize("name", sorted(pinned_cases()))
def test_fit_matches_pinned_values(name):
    arrays = fit_case(*pinned_cases()[name])
    stored = {k[len(name) + 1 :]: PINNED[k] for k in PINNED if k.startswith(name + "/")}
    assert sorted(arrays) == sorted(stored)
    for key, value in arrays.items():
        if SAME_MACHINE:
            np.testing.assert_array_equal(value, stored[key], err_msg=key)
        else:
            rtol = 1e-3 if value.dtype == np.float32 else 1e-6
            np.testing.assert_allclose(value, stored[key], rtol=rtol, atol=rtol,
                                       err_msg=key)  # fmt: skip
