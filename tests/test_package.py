import re
import subprocess
import sys

import pytest

import skrnn


def test_version_is_pep440():
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", skrnn.__version__)


def test_all_names_are_importable():
    for name in skrnn.__all__:
        assert hasattr(skrnn, name), name


@pytest.mark.subprocess
def test_import_in_fresh_process_is_quick_and_clean():
    code = "import skrnn, sys; print(skrnn.__version__)"
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == skrnn.__version__


def _sklearn_imports():
    """``(module file, sklearn module, imported name)`` of every skrnn import."""
    import ast
    from pathlib import Path

    root = Path(skrnn.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "sklearn"
            ):
                for alias in node.names:
                    yield path.relative_to(root).as_posix(), node.module, alias.name


def _is_private(module, name):
    return name.startswith("_") or any(p.startswith("_") for p in module.split("."))


def test_private_sklearn_helpers_come_through_compat_only():
    imports = list(_sklearn_imports())
    private_elsewhere = [
        row for row in imports if row[0] != "_compat.py" and _is_private(*row[1:])
    ]
    assert private_elsewhere == []
    public_in_compat = [
        row for row in imports if row[0] == "_compat.py" and not _is_private(*row[1:])
    ]
    assert public_in_compat == []
