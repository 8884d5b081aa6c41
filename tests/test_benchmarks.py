"""Smoke test of the benchmark suite: it runs in quick mode and writes its report.

No timing is asserted: the suite measures, it does not judge. What is checked
is that every part runs, that the outputs are complete and consistent, and
that skrnn and its peer computed the same thing before they were timed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


def _run_quick(output, *extra):
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output-dir", str(output),
         *extra],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((output / "benchmark.json").read_text()), done.stdout


def _check_outputs(output, results):
    for name in ("benchmark.md", "benchmark.rst"):
        assert (output / name).read_text().strip()
    rows = results["rows"]
    assert rows
    assert {r["mode"] for r in rows} == {"train", "infer"}
    for row in rows:
        assert row["skrnn"]["median"] > 0
        assert row["peer"]["median"] > 0
        assert row["skrnn"]["repeats"] >= 3


def test_quick_run_against_numpy(tmp_path):
    results, stdout = _run_quick(tmp_path, "--peer", "numpy")
    _check_outputs(tmp_path, results)
    assert results["meta"]["peer"] == "NumPy"
    assert "skipping end-to-end" in stdout
    assert results["startup"]["warm"]["fit"] > 0
    for row in results["rows"]:
        assert max(row["agreement"].values()) < 1e-8
    if results["memory"] is not None:
        assert results["memory"]["full"]["step_peak_mib"] >= 0
    markdown = (tmp_path / "benchmark.md").read_text()
    assert "## Targets" in markdown
    assert "## Where the time goes" in markdown


@pytest.mark.torch
@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")
def test_quick_run_against_torch(tmp_path):
    results, _ = _run_quick(tmp_path, "--peer", "torch", "--skip", "startup", "memory")
    _check_outputs(tmp_path, results)
    assert results["meta"]["peer"] == "PyTorch"
    (e2e,) = results["end_to_end"]
    assert set(e2e["test_mse"]) == {"skrnn", "PyTorch"}
    assert (tmp_path / "ratios.png").stat().st_size > 0
