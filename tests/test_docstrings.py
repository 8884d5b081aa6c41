"""numpydoc validation of every public docstring, as rendered at run time.

The estimators' docstrings are assembled from shared sections when the
classes are created, so they are validated from the imported objects rather
than from the source text. The checks are those of
``[tool.numpydoc_validation]`` in pyproject.toml.
"""

import inspect
from pathlib import Path

import pytest

import skrnn
import skrnn.compile
import skrnn.datasets
import skrnn.metrics
import skrnn.preprocessing
import skrnn.testing

tomllib = pytest.importorskip("tomllib")
validate = pytest.importorskip("numpydoc.validate").validate

CONFIG = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
IGNORED = set(CONFIG["tool"]["numpydoc_validation"]["checks"]) - {"all"}


def _public_objects():
    for module in (
        skrnn,
        skrnn.compile,
        skrnn.metrics,
        skrnn.testing,
        skrnn.preprocessing,
        skrnn.datasets,
    ):
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            path = f"{module.__name__}.{name}"
            yield path
            if inspect.isclass(obj):
                # Methods written in skrnn, inherited ones included.
                for method, func in inspect.getmembers(obj, inspect.isfunction):
                    if not method.startswith("_") and func.__module__.startswith(
                        "skrnn"
                    ):
                        yield f"{path}.{method}"


@pytest.mark.parametrize("path", sorted(set(_public_objects())))
def test_docstring_follows_numpydoc(path):
    errors = [
        f"{code}: {message}"
        for code, message in validate(path)["errors"]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)
