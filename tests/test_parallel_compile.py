"""Compile helper processes at a cold fit (skrnn._runtime._parallel).

The hand-over tests run a fresh interpreter on an empty kernel cache with a
plan of two small kernels, so that they take seconds; one slow test compares
a whole default fit compiled with and without helpers.
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from numba import types

import skrnn
from skrnn._runtime import _parallel
from skrnn._runtime._parallel import PLAN

SOURCE_ROOT = Path(skrnn.__file__).resolve().parent.parent

# A fresh process: _copy_vector is the trigger, the helper compiles
# _product_into, which this process then loads from the cache.
_HAND_OVER = textwrap.dedent(
    """
    import json, os, sys, time
    import numpy as np
    import skrnn
    from skrnn._kernels import _arrays
    from skrnn._runtime import _parallel

    mode = sys.argv[1]
    if mode == "broken":
        _parallel._BOOTSTRAP = "raise SystemExit(3)"
    if mode == "read-only":
        _parallel._cache._probe_writable = lambda path: False
    matrix = ["array", "float64", 2, "C", True]
    entry = "skrnn._kernels._arrays._product_into"
    if mode == "bad-entry":
        entry = "skrnn._kernels._arrays._no_such_kernel"
    key = _parallel.kernel_name(_arrays._copy_vector.py_func) + ":float64"
    _parallel.PLAN[key] = [[entry, [matrix, matrix, matrix]]]
    _arrays._copy_vector(np.ones(3), np.zeros(3))
    helpers = list(_parallel._state["helpers"])
    deadline = time.monotonic() + 120
    while any(h.alive for h in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    out = np.zeros((5, 3))
    _arrays._product_into(A, B, out)
    stats = _arrays._product_into.stats
    _parallel.shutdown()
    print(json.dumps({
        "helpers": len(helpers),
        "delivered": sorted({n for h in helpers for n in h.delivered}),
        "failed": [n for h in helpers for n in h.failed],
        "returncodes": [h.process.returncode for h in helpers],
        "cache_hits": sum(stats.cache_hits.values()),
        "cache_misses": sum(stats.cache_misses.values()),
        "out": out.tolist(),
        "expected": (A @ B).tolist(),
    }))
    """
)


def _run(tmp_path, mode="normal", workers="1"):
    env = dict(os.environ)
    env["SKRNN_CACHE_DIR"] = str(tmp_path / "cache")
    env["SKRNN_COMPILE_WORKERS"] = workers
    env["PYTHONPATH"] = str(SOURCE_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", _HAND_OVER, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_helper_compiles_the_next_kernel_into_the_cache(tmp_path):
    result = _run(tmp_path)
    assert result["helpers"] == 1
    assert "skrnn._kernels._arrays._product_into" in result["delivered"]
    assert result["failed"] == []
    assert result["returncodes"] == [0]
    # Loaded from the helper's cache entry, not compiled here.
    assert (result["cache_hits"], result["cache_misses"]) == (1, 0)
    np.testing.assert_allclose(result["out"], result["expected"])


def test_opt_out_starts_no_helper(tmp_path):
    result = _run(tmp_path, workers="0")
    assert result["helpers"] == 0
    assert (result["cache_hits"], result["cache_misses"]) == (0, 1)


def test_no_helper_for_a_cache_that_cannot_be_written(tmp_path):
    result = _run(tmp_path, mode="read-only")
    assert result["helpers"] == 0


@pytest.mark.parametrize("mode", ["broken", "bad-entry"])
def test_helper_failure_falls_back_to_compiling_here(tmp_path, mode):
    result = _run(tmp_path, mode=mode)
    assert result["helpers"] == 1
    assert result["delivered"] == []
    assert result["returncodes"] == ([3] if mode == "broken" else [0])
    if mode == "bad-entry":
        assert result["failed"] == [
            "skrnn._kernels._arrays._no_such_kernel AttributeError"
        ]
    assert (result["cache_hits"], result["cache_misses"]) == (0, 1)
    np.testing.assert_allclose(result["out"], result["expected"])


def test_helper_exits_when_the_fitting_process_goes(tmp_path):
    # A helper whose standard input closes (its parent gone) stops at once,
    # even in the middle of its plan.
    env = dict(os.environ)
    env["SKRNN_CACHE_DIR"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = str(SOURCE_ROOT)
    helper = subprocess.Popen(
        [sys.executable, "-c", _parallel._BOOTSTRAP, str(SOURCE_ROOT / "skrnn")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    matrix = ["array", "float64", 2, "C", True]
    entries = [["skrnn._kernels._arrays._product_into", [matrix] * 3]] * 50
    spec = {"version": skrnn.__version__, "entries": entries}
    helper.stdin.write(json.dumps(spec) + "\n")
    helper.stdin.flush()
    assert helper.stdout.readline().startswith("cache ")
    helper.stdin.close()
    assert helper.wait(timeout=60) == 0
    helper.stdout.close()


def test_wait_ends_when_the_helper_saves_the_kernel():
    class FakeHelper:
        compiling = {"k"}

    _parallel._state["compiling"]["k"] = FakeHelper()

    def save_later():
        time.sleep(0.2)
        with _parallel._lock:
            _parallel._state["compiling"].pop("k")
            _parallel._lock.notify_all()

    thread = threading.Thread(target=save_later)
    start = time.monotonic()
    thread.start()
    assert _parallel.wait_for_helper("k")
    assert time.monotonic() - start >= 0.15
    thread.join()
    assert not _parallel.wait_for_helper("k")


def test_wait_is_bounded(monkeypatch):
    class FakeHelper:
        compiling = {"stuck"}

    monkeypatch.setattr(_parallel, "WAIT_SECONDS", 0.1)
    _parallel._state["compiling"]["stuck"] = FakeHelper()
    start = time.monotonic()
    assert _parallel.wait_for_helper("stuck")
    assert time.monotonic() - start < 5
    assert "stuck" not in _parallel._state["compiling"]


def test_plan_shares_put_the_cells_kernels_first():
    cell = "skrnn._kernels._gru"
    entries = [
        ["skrnn._runtime._workers._spin_until_set", []],
        [f"{cell}._gru_backward_chunk", []],
        ["skrnn._kernels._optim.adam_update", []],
        ["skrnn._kernels._dense.add_rows", []],
    ]
    names = [[e[0].rsplit(".", 1)[1] for e in share] for share in
             _parallel.share_plan(entries, cell, 1)]  # fmt: skip
    assert names == [["_gru_backward_chunk"]]
    shares = _parallel.share_plan(entries, cell, 3)
    names = [[e[0].rsplit(".", 1)[1] for e in share] for share in shares]
    assert names == [
        ["_gru_backward_chunk"],
        ["_spin_until_set", "add_rows"],
        ["adam_update"],
    ]
    assert _parallel.share_plan(entries[:1], cell, 1) == []
    assert _parallel.share_plan(entries, cell, 0) == []


def test_number_of_helpers():
    assert _parallel.n_workers({}, cpu_count=1, load=0.0) == 0
    assert _parallel.n_workers({}, cpu_count=2, load=1.0) == 1
    assert _parallel.n_workers({}, cpu_count=64, load=1.0) == 3
    # Only as many as the load leaves cores idle.
    assert _parallel.n_workers({}, cpu_count=2, load=1.6) == 0
    assert _parallel.n_workers({}, cpu_count=2, load=7.0) == 0
    assert _parallel.n_workers({}, cpu_count=8, load=6.0) == 2
    # A number set by the user is taken as it is.
    env = {"SKRNN_COMPILE_WORKERS": " 0 "}
    assert _parallel.n_workers(env, cpu_count=8, load=0.0) == 0
    env = {"SKRNN_COMPILE_WORKERS": "5"}
    assert _parallel.n_workers(env, cpu_count=2, load=9.0) == 5


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_number_of_helpers_refuses_bad_values(value):
    with pytest.raises(ValueError, match=rf"SKRNN_COMPILE_WORKERS .*got '{value}'"):
        _parallel.n_workers({"SKRNN_COMPILE_WORKERS": value})


def test_bad_number_of_helpers_fails_on_import():
    env = dict(os.environ, SKRNN_COMPILE_WORKERS="many")
    env["PYTHONPATH"] = str(SOURCE_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", "import skrnn"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "SKRNN_COMPILE_WORKERS must be a number of helper processes" in done.stderr
    assert "got 'many'" in done.stderr


def test_argument_types_round_trip():
    for numba_type in [
        types.Array(types.float32, 3, "C"),
        types.Array(types.float64, 2, "A", readonly=True),
        types.Array(types.int64, 1, "C"),
        types.Array(types.boolean, 1, "C"),
        types.int64,
        types.float32,
        types.boolean,
    ]:
        description = _parallel.encode_type(numba_type)
        assert json.loads(json.dumps(description)) == description
        assert _parallel.decode_type(description) == numba_type
    with pytest.raises(TypeError, match="no plain description"):
        _parallel.encode_type(types.UniTuple(types.int64, 2))


def test_plan_has_every_cell_and_precision():
    cells = {key.split(":")[0].split(".")[2] for key in PLAN}
    assert cells == {"_rnn", "_lstm", "_gru"}
    assert {key.split(":")[1] for key in PLAN} == {"float32", "float64"}
    for entries in PLAN.values():
        assert any("backward" in name for name, _ in entries)


@pytest.mark.slow
def test_plan_matches_what_default_fits_compile():
    # A stale plan only costs speed, but say so: the kernels' signatures
    # changed, run `python -m skrnn.compile --write-plan
    # skrnn/_runtime/compile_plan.json`.
    import importlib

    from skrnn.compile import compile_kernels

    compile_kernels(("float64",), ("lstm",))
    key = next(k for k in PLAN if "_lstm" in k and k.endswith("float64"))
    for name, args in PLAN[key]:
        module_name, _, qualname = name.rpartition(".")
        dispatcher = getattr(importlib.import_module(module_name), qualname)
        signature = tuple(_parallel.decode_type(a) for a in args)
        assert signature in dispatcher.overloads, (name, args)


_FIT = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    import skrnn
    from skrnn._runtime import _parallel

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8))
    y = X.sum(axis=1)
    warnings.simplefilter("ignore")
    model = skrnn.RNNRegressor(max_iter=3, random_state=0).fit(X, y)
    helpers = len(_parallel._state["helpers"])
    _parallel.shutdown()
    print(json.dumps({"helpers": helpers, "pred": model.predict(X).tolist()}))
    """
)


@pytest.mark.slow
def test_fit_with_helpers_equals_fit_without(tmp_path):
    results = {}
    for workers in ("0", "1"):
        env = dict(os.environ)
        env["SKRNN_CACHE_DIR"] = str(tmp_path / f"cache{workers}")
        env["SKRNN_COMPILE_WORKERS"] = workers
        env["PYTHONPATH"] = str(SOURCE_ROOT)
        done = subprocess.run(
            [sys.executable, "-c", _FIT],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        results[workers] = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["0"]["helpers"] == 0
    assert results["1"]["helpers"] == 1
    assert results["0"]["pred"] == results["1"]["pred"]


def test_plan_file_missing_or_broken_means_no_helpers(tmp_path):
    assert _parallel.load_plan(tmp_path / "absent.json") == {}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert _parallel.load_plan(broken) == {}
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    assert _parallel.load_plan(listed) == {}


def test_shipped_plan_is_the_file_beside_the_module():
    assert _parallel.load_plan() == PLAN
    assert Path(_parallel.PLAN_FILE).name == "compile_plan.json"
