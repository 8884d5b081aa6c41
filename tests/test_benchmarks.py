"""Smoke test of the benchmark suite: it runs in quick mode and writes its report.

No timing is asserted: the suite measures, it does not judge. What is checked
is that every part runs, that the outputs are complete, that skrnn and its
peer compute the same thing, and how the targets are read.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._cases import NumpyCase, Shape, SkrnnCase, check_agreement, make_data
from benchmarks._targets import evaluate

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.subprocess
def test_quick_run(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "benchmark.json").read_text())

    rows = results["rows"]
    assert {r["mode"] for r in rows} == {"train", "infer"}
    assert {r["cell"] for r in rows} == {"rnn", "lstm", "gru"}
    for row in rows:
        assert row["skrnn"]["median"] > 0
        assert row["peer"]["median"] > 0
    assert results["startup"]["warm"]["fit"] > 0
    assert results["profile"]
    if results["meta"]["peer"] == "PyTorch":
        (e2e,) = results["end_to_end"]
        assert set(e2e["test_mse"]) == {"skrnn", "PyTorch"}
    else:
        assert "PyTorch was not found" in results["meta"]["peer_note"]

    markdown = (tmp_path / "benchmark.md").read_text()
    for title in ("## Targets", "## Training step", "## Inference", "## Start-up"):
        assert title in markdown
    assert (tmp_path / "benchmark.rst").read_text().strip()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_numpy_peer_computes_what_skrnn_computes(cell):
    shape = Shape(cell, "float64", 1, batch=5, hidden=4, steps=7, inputs=3)
    X, Y = make_data(shape)
    ours = SkrnnCase(shape, X, Y)
    peer = NumpyCase(shape, X, Y, ours.weights())
    differences = check_agreement(ours, peer)
    assert max(differences.values()) < 1e-10


def _row(mode, dtype, hidden, ratio, peak_pct):
    return {
        "cell": "lstm", "dtype": dtype, "threads": 1, "batch": 32,
        "hidden": hidden, "mode": mode, "ratio": ratio,
        "skrnn_peak_pct": peak_pct,
    }  # fmt: skip


def test_a_target_is_met_only_if_every_row_meets_it():
    rows = [
        _row("train", "float32", 16, 0.5, 5.0),
        _row("train", "float32", 64, 0.8, 20.0),
        _row("infer", "float64", 16, 0.4, 5.0),
        _row("train", "float64", 256, 1.5, 85.0),
    ]
    meta = {"peer": "PyTorch"}
    met = {t["target"]: t["met"] for t in evaluate({"meta": meta, "rows": rows})}
    assert met["Training step, H in {16, 64}, float32"] is False
    assert met["Inference, H in {16, 64}, float64"] is True
    assert met["Training step, H = 256, float64"] is True

    # Against the NumPy reference the ratio targets cannot be judged.
    meta = {"peer": "NumPy"}
    met = {t["target"]: t["met"] for t in evaluate({"meta": meta, "rows": rows})}
    assert met["Training step, H in {16, 64}, float32"] is None
    assert met["Training step, H = 256, float64"] is True


def test_onnx_inference_quick_run():
    pytest.importorskip("onnxruntime")
    from benchmarks import onnx_inference

    rows = onnx_inference.main(["--quick"])
    assert {(r["cell"], r["batch"], r["threads"]) for r in rows} == {
        (cell, batch, threads)
        for cell in ("lstm", "gru")
        for batch in (1, 16)
        for threads in (1, 2)
    }
    assert all(r["skrnn_s"] > 0 and r["onnxruntime_s"] > 0 for r in rows)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_step_computes_what_pytorch_computes(stride):
    # The conv row's two skrnn sides (a network with conv_layers, and the
    # front end and a plain network composed by hand) give the same loss and
    # gradients, and PyTorch's Conv1d + GRU given their weights gives them too.
    import numpy as np

    from benchmarks import conv

    X, Y = conv.step_data()
    ours = conv.SkrnnStep(X[:4], Y[:4], stride, 1)
    composed = conv.SkrnnStep(X[:4], Y[:4], stride, 1, composed=True)
    assert not ours.composed
    assert composed.composed
    composed.set_weights(ours.weights())
    loss, grads = ours.loss_and_grads()
    composed_loss, composed_grads = composed.loss_and_grads()
    assert composed_loss == pytest.approx(loss, rel=1e-6)
    for name, g in grads.items():
        np.testing.assert_allclose(composed_grads[name], g, rtol=1e-4, atol=1e-6)
    pytest.importorskip("torch")
    theirs = conv.TorchStep(X[:4], Y[:4], stride, 1, ours.weights())
    assert conv.check_same_step(ours, theirs)["max_rel_diff"] < 2e-3
    # A network that computed something else is caught before any timing.
    theirs.head.bias.data += 1.0
    with pytest.raises(RuntimeError, match="skrnn and PyTorch disagree"):
        conv.check_same_step(ours, theirs)
