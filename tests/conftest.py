"""Test configuration: Hypothesis profiles, shared constants and fixtures.

Under CI (the ``CI`` environment variable is set) Hypothesis draws the same
examples on every run, so a red build is reproducible and never a dice roll;
locally it explores new examples each run.
"""

import os
import warnings

import pytest
from hypothesis import settings
from sklearn.exceptions import ConvergenceWarning

from skrnn._kernels import CELLS as CELL_SPECS

# A helper module of the PyTorch parity tests, which import it after
# pytest.importorskip("torch"); doctest collection would import it without.
collect_ignore = ["torch_seq2seq.py"]

# Every recurrent cell, from the registry: a new cell joins every test that
# takes its cells from here.
CELLS = list(CELL_SPECS)

# A few epochs of a small network: enough to exercise a fit, not to learn.
FAST = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0}

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def quiet_convergence():
    """Silence ConvergenceWarning: short test fits stop before converging."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
