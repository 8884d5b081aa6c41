"""The code generator's target: 512-bit vectors where they pay."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from numba.core import registry

import skrnn._runtime as runtime
from skrnn._runtime._codegen import (
    prefer_wide_vectors,
    wide_vector_features,
    wide_vectors_allowed,
)

AVX512 = "+64bit,+avx2,+avx512f,+avx512bw,+fma"
AVX2 = "+64bit,+avx2,-avx512f,+fma"


def test_wide_vectors_on_recent_avx512_cpus():
    features = wide_vector_features("sapphirerapids", AVX512, {})
    assert features == AVX512 + ",-prefer-256-bit"


@pytest.mark.parametrize(
    ("cpu_name", "features", "environ"),
    [
        ("haswell", AVX2, {}),
        ("znver3", AVX2, {}),
        ("skylake-avx512", AVX512, {}),
        ("cascadelake", AVX512, {}),
        ("sapphirerapids", AVX512, {"SKRNN_WIDE_VECTORS": "0"}),
        ("sapphirerapids", AVX512, {"SKRNN_WIDE_VECTORS": " 0 "}),
        ("sapphirerapids", AVX512, {"SKRNN_WIDE_VECTORS": "false"}),
        ("sapphirerapids", AVX512, {"SKRNN_WIDE_VECTORS": "Off"}),
        ("sapphirerapids", AVX512, {"SKRNN_WIDE_VECTORS": "NO"}),
        ("sapphirerapids", AVX512, {"NUMBA_CPU_NAME": "generic"}),
        ("sapphirerapids", AVX512, {"NUMBA_CPU_FEATURES": AVX512}),
        ("sapphirerapids", AVX512 + ",-prefer-256-bit", {}),
    ],
)
def test_target_left_alone(cpu_name, features, environ):
    """No AVX-512, a CPU that clocks down, the user's choice: no change."""
    assert wide_vector_features(cpu_name, features, environ) is None


@pytest.mark.parametrize("value", ["1", "true", "Yes", " on ", ""])
def test_wide_vectors_opt_in_values(value):
    environ = {"SKRNN_WIDE_VECTORS": value}
    assert wide_vector_features("icelake-server", AVX512, environ)


@pytest.mark.parametrize("value", ["2", "maybe", "0.5", "disable"])
def test_wide_vectors_rejects_unknown_values(value):
    with pytest.raises(ValueError, match=f"SKRNN_WIDE_VECTORS must be .*got {value!r}"):
        wide_vectors_allowed({"SKRNN_WIDE_VECTORS": value})


@pytest.mark.subprocess
def test_a_bad_value_fails_the_import_clearly():
    result = subprocess.run(
        [sys.executable, "-c", "import skrnn"],
        env={**os.environ, "SKRNN_WIDE_VECTORS": "maybe"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SKRNN_WIDE_VECTORS must be a true value" in result.stderr


def test_numba_config_left_as_found():
    """The setting reaches the code generator only, not ``numba.config``."""
    if "NUMBA_CPU_FEATURES" not in os.environ:
        assert numba.config.CPU_FEATURES is None
    tm_features = registry.cpu_target.target_context.codegen()._tm_features
    if runtime.WIDE_VECTORS:
        assert "-prefer-256-bit" in tm_features.split(",")


def test_second_call_does_not_touch_an_existing_generator():
    """Once the generator exists, nothing is changed, whatever the host."""
    assert prefer_wide_vectors() is False


def _run(code, **env):
    environ = {**os.environ, **env}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.subprocess
def test_opt_out_reaches_the_generator():
    code = (
        "from numba.core import registry\n"
        "import skrnn._runtime as runtime\n"
        "features = registry.cpu_target.target_context.codegen()._tm_features\n"
        "print(runtime.WIDE_VECTORS, '-prefer-256-bit' in features.split(','))\n"
    )
    assert _run(code, SKRNN_WIDE_VECTORS="0").split() == ["False", "False"]


_FIT = """
import sys
import numpy as np
from skrnn import SequenceTagger

rng = np.random.default_rng(0)
X = [rng.standard_normal((n, 3)).astype(np.float32) for n in rng.integers(1, 40, 45)]
y = [(x[:, 0] > 0).astype(int) for x in X]
tagger = SequenceTagger(hidden_layer_sizes=(13,), max_iter=2, random_state=0)
tagger.fit(X, y)
proba = np.concatenate(tagger.predict_proba(X))
np.save(sys.argv[1], np.concatenate([tagger._theta, proba.ravel()]))
"""


@pytest.mark.slow
@pytest.mark.subprocess
def test_vector_width_does_not_change_results(tmp_path):
    """A fit with 512-bit vectors equals the fit with 256-bit ones, bit for bit.

    The kernels allow no reassociation, so every element goes through the
    same operations at any width; this compiles the LSTM kernels for the
    narrow target in a fresh process and compares.
    """
    wide, narrow = tmp_path / "wide.npy", tmp_path / "narrow.npy"
    script = tmp_path / "fit.py"
    script.write_text(_FIT)
    subprocess.run([sys.executable, str(script), str(wide)], check=True)
    subprocess.run(
        [sys.executable, str(script), str(narrow)],
        env={**os.environ, "SKRNN_WIDE_VECTORS": "0"},
        check=True,
    )
    np.testing.assert_array_equal(np.load(wide), np.load(narrow))
