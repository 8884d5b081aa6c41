"""Doctest set-up for the user guide pages (collected by ``--doctest-glob``).

The examples keep their training budgets tiny so that they run in seconds;
the ``ConvergenceWarning`` that scikit-learn raises for such budgets says
nothing about the page and is silenced here rather than in every example.
The PyTorch page runs only where PyTorch is installed.
"""

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent

collect_ignore = []
if importlib.util.find_spec("torch") is None:
    collect_ignore.append("interop.rst")


def pytest_collection_modifyitems(items):
    quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(quiet)
