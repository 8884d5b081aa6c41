"""Where skrnn's kernels are cached, and read-only installs.

The read-only tests run a fresh interpreter in a private mount namespace
(``unshare``) in which the kernel cache, the skrnn package and ``HOME`` are
bound read-only; they are skipped where such namespaces are not allowed.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import skrnn
from skrnn._runtime import _cache

PACKAGE_DIR = Path(skrnn.__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


def test_cache_root_order():
    env = {"SKRNN_CACHE_DIR": "/a", "XDG_CACHE_HOME": "/c"}
    assert _cache.cache_root(env, "/b") == os.path.abspath("/a")
    env = {"XDG_CACHE_HOME": "/c"}
    assert _cache.cache_root(env, "/b") == os.path.join(os.path.abspath("/b"), "skrnn")
    assert _cache.cache_root(env, None) == os.path.join("/c", "skrnn")
    env = {"SKRNN_CACHE_DIR": "  "}
    assert _cache.cache_root(env, None, "linux") == os.path.expanduser(
        os.path.join("~", ".cache", "skrnn")
    )
    env = {"LOCALAPPDATA": "/l"}
    assert _cache.cache_root(env, None, "win32") == os.path.join("/l", "skrnn", "Cache")


def test_cache_dir_is_versioned_and_per_copy(monkeypatch, tmp_path):
    import numba

    monkeypatch.setenv("SKRNN_CACHE_DIR", str(tmp_path))
    path = Path(_cache.cache_dir())
    assert path.parent == tmp_path / f"{skrnn.__version__}-numba-{numba.__version__}"
    assert len(path.name) == 12


def test_only_skrnn_sources_are_ours():
    assert _cache.INSTALLED
    assert _cache.is_skrnn_source(str(PACKAGE_DIR / "_kernels" / "_arrays.py"))
    assert not _cache.is_skrnn_source(os.__file__)
    assert not _cache.is_skrnn_source("<ipython-input-1>")


def test_kernels_cache_outside_the_package():
    from numba.core.dispatcher import Dispatcher

    from skrnn._kernels import _arrays

    kernel = _arrays._copy_vector
    assert isinstance(kernel, Dispatcher)
    cache_path = Path(kernel._cache.cache_path)
    assert cache_path == Path(_cache.cache_dir()) / "_kernels"
    assert PACKAGE_DIR not in cache_path.parents


def test_other_functions_keep_numbas_locators(tmp_path):
    # A user's cached function beside its source, as Numba places it.
    module = tmp_path / "user_module.py"
    module.write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef twice(x):\n    return 2 * x\n"
    )
    code = (
        "import skrnn, sys; sys.path.insert(0, sys.argv[1]); import user_module; "
        "print(user_module.twice(3), user_module.twice._cache.cache_path)"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(SOURCE_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    value, path = done.stdout.split()
    assert value == "6"
    assert Path(path) == tmp_path / "__pycache__"


# The child of the read-only tests: imports skrnn, runs two small kernels
# (each compiles or loads on its first call), checks their results, and
# reports the compile events, the warnings and whether the cache folder
# took a new file.
_CHILD = textwrap.dedent(
    """
    import json, os, sys, tempfile, warnings

    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        import numpy as np
        import skrnn
        from numba.core import event
        from skrnn._kernels import _arrays
        from skrnn._runtime import _cache

        src = np.arange(6.0).reshape(2, 3)
        with event.install_recorder("numba:compile") as record:
            vector, matrix = np.zeros(6), np.zeros((2, 3))
            _arrays._copy_vector(src.ravel(), vector)
            _arrays._copy_matrix(src, matrix)
    assert (vector == src.ravel()).all() and (matrix == src).all()
    try:
        os.makedirs(_cache.cache_dir(), exist_ok=True)
        tempfile.TemporaryFile(dir=_cache.cache_dir()).close()
        writable = True
    except OSError:
        writable = False
    print(json.dumps({
        "compiled": sum(1 for _, e in record.buffer if e.is_start),
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        "cache_writable": writable,
        "package_writable": os.access(os.path.dirname(skrnn.__file__), os.W_OK),
    }))
    """
)


def _namespace_prefix():
    """``unshare`` arguments for a private mount namespace, or None."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    try:
        probe = subprocess.run(
            [*prefix, "mount", "--bind", "/", "/mnt"],
            capture_output=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if probe.returncode == 0 else None


def _run_read_only(read_only, env, tmp_path):
    """Run the child with every folder of ``read_only`` bound read-only."""
    prefix = _namespace_prefix()
    if prefix is None:
        pytest.skip("private mount namespaces (unshare -m) are not allowed here")
    mounts = " && ".join(
        f"mount --bind {p} {p} && mount -o remount,bind,ro {p} {p}"
        for p in map(str, read_only)
    )
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    command = f'{mounts} && exec "{sys.executable}" "{script}"'
    done = subprocess.run(
        [*prefix, "sh", "-c", command],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child_env(tmp_path, **variables):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"NUMBA_CACHE_DIR", "SKRNN_CACHE_DIR", "XDG_CACHE_HOME"}
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), PYTHONPATH=str(SOURCE_ROOT), **variables)
    return env


def test_read_only_prebuilt_cache_loads_without_compiling(tmp_path):
    cache = tmp_path / "cache"
    env = _child_env(tmp_path, SKRNN_CACHE_DIR=str(cache))
    script = tmp_path / "fill.py"
    script.write_text(_CHILD)
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    filled = json.loads(done.stdout.strip().splitlines()[-1])
    assert filled["cache_writable"]
    assert filled["compiled"] == 2, filled
    assert filled["warnings"] == []

    report = _run_read_only([cache, PACKAGE_DIR, env["HOME"]], env, tmp_path)
    assert not report["cache_writable"]
    assert not report["package_writable"]
    assert report["compiled"] == 0, report
    assert report["warnings"] == []


def test_nothing_writable_compiles_in_memory_with_one_warning(tmp_path):
    # No cache variable: the per-user folder under a read-only HOME.
    env = _child_env(tmp_path)
    report = _run_read_only([PACKAGE_DIR, env["HOME"]], env, tmp_path)
    assert not report["cache_writable"]
    assert not report["package_writable"]
    assert report["compiled"] == 2, report
    (warning,) = report["warnings"]
    assert warning.startswith("KernelCacheWarning: skrnn cannot write its kernel")
    assert "compile in memory" in warning
    assert "SKRNN_CACHE_DIR" in warning


_NOTICE_CHILD = textwrap.dedent(
    """
    import logging, sys
    import numpy as np
    import skrnn
    from skrnn._kernels import _arrays

    if sys.argv[1] == "quiet":
        logging.getLogger("skrnn").setLevel(logging.ERROR)
    src = np.arange(6.0).reshape(2, 3)
    _arrays._copy_vector(src.ravel(), np.zeros(6))
    _arrays._copy_matrix(src, np.zeros((2, 3)))
    """
)


def _notice_lines(tmp_path, cache, mode):
    env = _child_env(tmp_path, SKRNN_CACHE_DIR=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", _NOTICE_CHILD, mode],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return [line for line in done.stderr.splitlines() if line.startswith("skrnn:")]


def test_one_compile_notice_per_process_then_none_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    (line,) = _notice_lines(tmp_path, cache, "loud")
    assert line.startswith("skrnn: compiling kernels for first use")
    assert str(cache) in line
    assert "python -m skrnn.compile" in line
    assert _notice_lines(tmp_path, cache, "loud") == []


def test_compile_notice_silenced_by_the_logger_level(tmp_path):
    assert _notice_lines(tmp_path, tmp_path / "cache", "quiet") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cells", "lstm,foo"], "--cells got 'lstm,foo'; expected"),
        (["--cells", ","], "--cells got ','; expected"),
        (["--dtype", "float16"], "invalid choice: 'float16'"),
    ],
)
def test_compile_command_refuses_bad_options(argv, message, capsys):
    from skrnn.compile import main

    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_compile_command_fills_the_cache_a_fit_loads_from(tmp_path):
    cache = tmp_path / "cache"
    env = _child_env(tmp_path, SKRNN_CACHE_DIR=str(cache))
    done = subprocess.run(
        [sys.executable, "-m", "skrnn.compile", "--cells", "gru", "--dtype",
         "float32"],
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "skrnn kernels ready in" in done.stdout
    assert "skrnn:" not in done.stderr  # no compile notice from the command
    fit = textwrap.dedent(
        """
        import numpy as np, skrnn, warnings
        from numba.core import event
        X = np.random.default_rng(1).normal(size=(70, 9)).astype(np.float32)
        warnings.simplefilter("ignore")
        with event.install_recorder("numba:compile") as record:
            model = skrnn.RNNClassifier(cell="gru", max_iter=2).fit(X, X[:, 0] > 0)
            model.predict_proba(X)
            # The transcriber's CTC kernels are compiled ahead too.
            Y = [np.flatnonzero(row > 1.0) % 3 for row in X]
            model = skrnn.SequenceTranscriber(cell="gru", max_iter=2).fit(X, Y)
            model.predict(X)
        print(sum(1 for _, e in record.buffer if e.is_start))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", fit],
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == "0"
