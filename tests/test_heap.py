"""The C heap kept through training (skrnn._runtime._heap)."""

import os
import platform
import subprocess
import sys

import pytest

from skrnn._runtime._heap import heap_allowed, keep_heap

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.parametrize("value", ["", "1", "true", " Yes ", "ON"])
def test_heap_tuning_is_on_by_default(value):
    assert heap_allowed({"SKRNN_KEEP_HEAP": value})
    assert heap_allowed({})


@pytest.mark.parametrize("value", ["0", "false", " no ", "OFF"])
def test_heap_tuning_can_be_turned_off(value):
    assert not heap_allowed({"SKRNN_KEEP_HEAP": value})


def test_a_bad_value_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"SKRNN_KEEP_HEAP must be .*got 'sometimes'"):
        heap_allowed({"SKRNN_KEEP_HEAP": "sometimes"})


def _fit_in_fresh_process(value):
    code = (
        "import numpy as np, skrnn\n"
        "from skrnn._runtime._heap import keep_heap\n"
        "X = np.random.default_rng(0).normal(size=(8, 3, 2))\n"
        "skrnn.RNNRegressor(hidden_layer_sizes=(3,), max_iter=2).fit(X, X[:, -1, 0])\n"
        "print(keep_heap())\n"
    )
    env = {**os.environ, "SKRNN_KEEP_HEAP": value}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.subprocess
def test_a_fit_applies_the_setting_once_per_process():
    assert _fit_in_fresh_process("1") == str(GLIBC)
    assert _fit_in_fresh_process("0") == "False"


def test_keep_heap_answers_the_same_every_time():
    assert keep_heap() == keep_heap() == keep_heap({"SKRNN_KEEP_HEAP": "0"})
