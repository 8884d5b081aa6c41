"""Small fits whose predictions and weights are pinned in ``data/pinned_fits.npz``.

Refactors of the training path must leave these results unchanged. Run this
module as a script (``python -m tests.pinned_fits``) only when a change is
meant to alter results, and say why in the commit message.
"""

import platform
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNClassifier, RNNRegressor, SequenceTagger

PINNED_PATH = __file__.rsplit("/", 1)[0] + "/data/pinned_fits.npz"


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(int(rng.integers(2, 9)), 2)) for _ in range(20)]
    y = np.array([x[:, 0].sum() for x in X])
    labels = np.where(y > 0, "up", "down")
    steps = [np.where(x[:, 1] > 0, "a", "b") for x in X]
    tokens = [rng.integers(0, 5, size=int(rng.integers(2, 7))) for _ in range(20)]
    token_labels = [np.roll(t, 1) % 3 for t in tokens]
    table = rng.normal(size=(20, 5)).astype(np.float32)
    return X, y, labels, steps, tokens, token_labels, table


def pinned_cases():
    """``name -> (estimator, X, y, sample_weight, X_predict)`` of every pinned fit."""
    X, y, labels, steps, tokens, token_labels, table = _data()
    sw = np.linspace(0.5, 2.0, len(X))
    fast = {"hidden_layer_sizes": (5,), "max_iter": 6, "random_state": 0}
    cases = {}
    for cell in ("rnn", "lstm", "gru"):
        cases[f"reg_{cell}_adam"] = (RNNRegressor(cell=cell, **fast), X, y, None, X)
        cases[f"clf_{cell}_sgd_bi"] = (
            RNNClassifier(cell=cell, solver="sgd", bidirectional=True, **fast),
            X, labels, sw, X,
        )  # fmt: skip
        cases[f"tag_{cell}_stacked"] = (
            SequenceTagger(cell=cell, hidden_layer_sizes=(4, 3), max_iter=4,
                           random_state=0, dropout=0.2),
            X, steps, None, X,
        )  # fmt: skip
    cases["reg_lstm_lbfgs"] = (
        RNNRegressor(cell="lstm", solver="lbfgs", alpha=0.01, **fast),
        X,
        y,
        sw,
        X,
    )
    cases["reg_gru_truncated_early"] = (
        RNNRegressor(cell="gru", bptt_steps=3, early_stopping=True,
                     validation_fraction=0.2, **fast),
        X, y, None, X,
    )  # fmt: skip
    cases["clf_rnn_relu_multiclass"] = (
        RNNClassifier(cell="rnn", activation="relu", **fast),
        X, np.arange(len(X)) % 3, None, X,
    )  # fmt: skip
    # Integer ids compute in float32; float64 ids keep the float64 this case
    # was pinned in.
    float_tokens = [t.astype(np.float64) for t in tokens]
    cases["tag_gru_tokens_truncated"] = (
        SequenceTagger(cell="gru", embedding_dim=3, bptt_steps=2, **fast),
        float_tokens, token_labels, None, float_tokens,
    )  # fmt: skip
    cases["reg_lstm_float32_table"] = (
        RNNRegressor(cell="lstm", bidirectional=True, **fast),
        table, table.sum(axis=1), None, table,
    )  # fmt: skip
    return cases


def fit_case(estimator, X, y, sample_weight, X_predict):
    """Fit one pinned case; its arrays by name (predictions, proba, weights)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y, sample_weight=sample_weight)
    arrays = {f"weights/{k}": v for k, v in estimator.get_weights().items()}
    arrays["loss_curve"] = np.asarray(estimator.loss_curve_)
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X_predict)
        if isinstance(proba, list):
            proba = np.concatenate(proba)
        arrays["proba"] = np.asarray(proba)
    else:
        arrays["predict"] = np.asarray(estimator.predict(X_predict))
    return arrays


def machine():
    """What must match for results to be equal bit for bit."""
    import llvmlite.binding as llvm

    blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    return "|".join(
        [platform.machine(), llvm.get_host_cpu_name(), blas["name"],
         str(blas.get("version")), np.__version__]
    )  # fmt: skip


def main():
    out = {"machine": np.array(machine())}
    for name, case in pinned_cases().items():
        for key, value in fit_case(*case).items():
            out[f"{name}/{key}"] = value
    np.savez_compressed(PINNED_PATH, **out)
    print(f"wrote {len(out)} arrays to {PINNED_PATH}")


if __name__ == "__main__":
    main()
