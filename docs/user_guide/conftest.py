"""Doctest set-up for the user guide pages (collected by ``--doctest-glob``).

The examples keep their training budgets tiny so that they run in seconds;
the ``ConvergenceWarning`` that scikit-learn raises for such budgets says
nothing about the page and is silenced here rather than in every example.
The PyTorch page runs only where PyTorch is installed, the deploying page
only where skops, onnx, onnxruntime and skl2onnx are. Under CI (the ``CI``
environment variable is set) Hypothesis draws the same examples on every run,
as in the test suite.
"""

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import settings

if os.environ.get("CI"):
    settings.register_profile(
        "docs-ci", derandomize=True, deadline=None, print_blob=True
    )
    settings.load_profile("docs-ci")

HERE = Path(__file__).parent

collect_ignore = []
if importlib.util.find_spec("torch") is None:
    collect_ignore.append("interop.rst")
if any(
    importlib.util.find_spec(name) is None
    for name in ("skops", "onnx", "onnxruntime", "skl2onnx")
):
    collect_ignore.append("deploying.rst")


def pytest_collection_modifyitems(items):
    quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(quiet)
