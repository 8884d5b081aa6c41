"""Plain mode: the runtime's switches all off, one thread.

``SKRNN_SPIN_SECONDS=0 SKRNN_KEEP_HEAP=0 SKRNN_WIDE_VECTORS=0
NUMBA_NUM_THREADS=1`` turns off everything the runtime does for speed beyond
the kernels themselves (see "Plain mode" in docs/architecture.rst). CI runs
a representative part of the suite in it; in that run the first test checks
that every switch took effect. The second test shows, from any run, that
plain mode changes no result: a fit in plain mode equals, bit for bit, the
same fit with the switches at their defaults on one thread.
"""

import json
import os
import subprocess
import sys

import numba
import pytest

PLAIN = {
    "SKRNN_SPIN_SECONDS": "0",
    "SKRNN_KEEP_HEAP": "0",
    "SKRNN_WIDE_VECTORS": "0",
    "NUMBA_NUM_THREADS": "1",
}
SWITCHES = ("SKRNN_SPIN_SECONDS", "SKRNN_KEEP_HEAP", "SKRNN_WIDE_VECTORS")
IN_PLAIN_MODE = all(os.environ.get(k) == v for k, v in PLAIN.items())


@pytest.mark.skipif(not IN_PLAIN_MODE, reason="the run is not in plain mode")
def test_every_switch_is_off():
    from skrnn import RNNRegressor, _runtime
    from skrnn._runtime._heap import keep_heap
    from skrnn._runtime._workers import spin_seconds_from

    assert numba.config.NUMBA_NUM_THREADS == 1
    assert _runtime.WIDE_VECTORS is False
    assert spin_seconds_from(os.environ) == 0.0
    RNNRegressor(hidden_layer_sizes=(2,), max_iter=1).fit([[1.0, 2.0]] * 4, [0.0] * 4)
    assert keep_heap() is False


_FIT = """
import json, warnings
import numpy as np
from skrnn import RNNClassifier, SequenceTagger
rng = np.random.default_rng(0)
X = [rng.normal(size=(int(rng.integers(1, 7)), 2)) for _ in range(40)]
out = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for cell in ("rnn", "lstm", "gru"):
        clf = RNNClassifier(cell=cell, hidden_layer_sizes=(5,), max_iter=3,
                            bidirectional=True, random_state=0)
        clf.fit(X, np.arange(40) % 3)
        tag = SequenceTagger(cell=cell, hidden_layer_sizes=(4,), max_iter=3,
                             bptt_steps=2, random_state=0)
        tag.fit(X, [(x[:, 0] > 0).astype(int) for x in X])
        out[cell] = [float(v).hex() for v in np.concatenate(
            [clf.predict_proba(X).ravel(), np.concatenate(tag.predict_proba(X)).ravel()]
        )]
print(json.dumps(out))
"""


def _fit_in(environ):
    result = subprocess.run(
        [sys.executable, "-c", _FIT], env=environ, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.subprocess
def test_plain_mode_changes_no_result():
    base = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    defaults = _fit_in({**base, "NUMBA_NUM_THREADS": "1"})
    plain = _fit_in({**base, **PLAIN})
    assert plain == defaults
