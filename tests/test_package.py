import re
import subprocess
import sys

import skrnn


def test_version_is_pep440():
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", skrnn.__version__)


def test_all_names_are_importable():
    for name in skrnn.__all__:
        assert hasattr(skrnn, name), name


def test_import_in_fresh_process_is_quick_and_clean():
    code = "import skrnn, sys; print(skrnn.__version__)"
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == skrnn.__version__
