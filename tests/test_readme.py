"""The README's two commands: what they say, what CI runs, and what they do.

The first tests read README.md and .ci/run and check that they agree; the
slow one runs the two commands as a new user would, one after the other in
one fresh virtual environment, importing skrnn from another folder after
each, then the first command again.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
CI_RUN = REPO_ROOT / ".ci" / "run"

DEMO_COMMAND = 'pip install ".[examples]" && python examples/quickstart.py'
TEST_INSTALL = 'pip install -e ".[test]"'


def _bash_blocks(text):
    return [
        block.strip() for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    ]


def _readme_commands():
    if not README.exists():
        pytest.skip("README.md is not part of this installation")
    blocks = _bash_blocks(README.read_text())
    assert len(blocks) >= 2, f"README.md has {len(blocks)} bash blocks, expected 2"
    return blocks[0], blocks[1]


def test_readme_blocks_are_the_demo_then_the_tests():
    demo, tests = _readme_commands()
    assert demo == DEMO_COMMAND
    assert tests.startswith(TEST_INSTALL + " && python -m pytest")
    assert "\n" not in tests


def test_ci_runs_the_readme_test_command():
    if not CI_RUN.exists():
        pytest.skip(".ci/run is not part of this installation")
    _, tests = _readme_commands()
    script = CI_RUN.read_text()
    # The pattern .ci/run greps README.md with finds exactly block 2.
    (pattern,) = re.findall(r"grep -m1 -E '([^']+)' README\.md", script)
    matches = [
        line for line in README.read_text().splitlines() if re.search(pattern, line)
    ]
    assert matches[:1] == [tests]
    # It installs what the README installs, from the clone, and runs it.
    assert 'pip install --quiet -e ".[test]"' in script
    assert 'bash -c "$TEST_COMMAND' in script
    # And it runs the slow tests, this file's included.
    assert "not slow" not in tests


def _copy_clone(destination):
    """The project's files as a fresh clone has them (git's list of them)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=REPO_ROOT, capture_output=True, check=True, timeout=60,
        ).stdout.decode().split("\0")  # fmt: skip
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        pytest.skip("not a git checkout: cannot tell the project's files")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.mark.slow
def test_readme_blocks_in_one_venv_then_import_elsewhere(tmp_path):
    demo, tests = _readme_commands()
    clone, elsewhere, home = tmp_path / "clone", tmp_path / "elsewhere", tmp_path / "h"
    _copy_clone(clone)
    elsewhere.mkdir()
    home.mkdir()
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
        check=True, timeout=300,
    )  # fmt: skip
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    # A new user's environment: no cache variables, a home of its own.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"NUMBA_CACHE_DIR", "SKRNN_CACHE_DIR", "XDG_CACHE_HOME"}
        and not k.startswith("PYTHON")
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        HOME=str(home),
        MPLBACKEND="Agg",
    )

    def run(command, cwd):
        done = subprocess.run(
            command, shell=True, cwd=cwd, env=env,
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}"
        return done.stdout

    run(demo, clone)
    site = run(
        'python -c "import skrnn, os; print(os.path.dirname(skrnn.__file__))"',
        elsewhere,
    ).strip()
    installed = Path(site)
    assert clone not in installed.parents
    left = [p for p in installed.rglob("*") if p.suffix in {".nbi", ".nbc"}]
    assert left == [], f"kernel cache files in the installed package: {left[:3]}"
    # The parallel compile's plan is package data: the installed copy has it.
    assert (installed / "_runtime" / "compile_plan.json").is_file()

    run(tests.split(" && ")[0], clone)
    where = run(
        'python -c "from skrnn import RNNClassifier; import skrnn; '
        'print(skrnn.__file__)"',
        elsewhere,
    ).strip()
    assert Path(where) == clone / "skrnn" / "__init__.py"

    # And the other order: block 1 again, after block 2.
    run(demo, clone)
    where = run(
        'python -c "from skrnn import RNNClassifier; import skrnn; '
        'print(skrnn.__file__)"',
        elsewhere,
    ).strip()
    assert Path(where) == installed / "__init__.py"
    left = [p for p in installed.rglob("*") if p.suffix in {".nbi", ".nbc"}]
    assert left == [], f"kernel cache files in the installed package: {left[:3]}"
    # The parallel compile's plan is package data: the installed copy has it.
    assert (installed / "_runtime" / "compile_plan.json").is_file()
