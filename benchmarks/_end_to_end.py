"""End to end: ``RNNRegressor.fit`` against the same training as a PyTorch loop.

The task is the cosine next-value task: each sequence is a window of a
cosine with a random phase and a little noise, and the target is the next
value of the clean cosine. Both sides train the same model (an LSTM layer of
64 units and a linear head on its final state, starting from the same
weights: skrnn's initialisation, copied into PyTorch) with the same objective
(half the mean squared error, no weight decay, no gradient clipping), the
same optimiser (Adam, learning rate 1e-3, betas 0.9 and 0.999, epsilon 1e-8),
batch size and number of epochs, with shuffling. PyTorch's side is a plain
training loop as its tutorials write it (``batch_first`` tensors,
``zero_grad``, ``backward``, ``step``).

The wall time of the whole training is measured for each side, alternately
(skrnn, PyTorch, skrnn, PyTorch, ...) after a short warm-up of both, and the
median is reported together with each model's mean squared error on held-out
windows.
"""

import time
import warnings

import numba
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNRegressor
from skrnn._network import RecurrentNetwork


def cosine_task(n_sequences, n_steps, *, noise=0.02, omega=0.3, seed=0):
    """Windows of a noisy cosine and the next clean value.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_steps, 1)
    y : ndarray of shape (n_sequences,)
    """
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=(n_sequences, 1))
    t = np.arange(n_steps + 1)[None, :]
    clean = np.cos(omega * t + phase)
    X = clean[:, :-1] + noise * rng.standard_normal((n_sequences, n_steps))
    return X[:, :, None], clean[:, -1]


def _skrnn_model(params, dtype, epochs):
    return RNNRegressor(
        hidden_layer_sizes=(params["hidden"],),
        cell="lstm",
        solver="adam",
        alpha=0.0,
        batch_size=params["batch_size"],
        learning_rate_init=params["learning_rate"],
        max_iter=epochs,
        shuffle=True,
        random_state=params["seed"],
        tol=0.0,
        n_iter_no_change=epochs + 1,
        clip_norm=None,
    )


def _initial_weights(params, dtype):
    # What RNNRegressor(random_state=seed) draws first in fit: the network's
    # initial parameters, from a RandomState seeded with the same value.
    network = RecurrentNetwork("lstm", 1, (params["hidden"],), 1)
    theta = network.init_params(np.random.RandomState(params["seed"]), dtype)
    return {k: v.copy() for k, v in network.views(theta).items()}


def _fit_skrnn(params, X, y, epochs):
    model = _skrnn_model(params, X.dtype, epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, model.predict


def _fit_torch(params, X, y, epochs, weights, round_seed):
    import torch
    from torch import nn

    dtype = getattr(torch, str(X.dtype))
    torch.manual_seed(round_seed)
    lstm = nn.LSTM(1, params["hidden"], batch_first=True, dtype=dtype)
    head = nn.Linear(params["hidden"], 1, dtype=dtype)
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            p.copy_(torch.from_numpy(weights[name]))
        head.weight.copy_(torch.from_numpy(weights["output.weight"]))
        head.bias.copy_(torch.from_numpy(weights["output.bias"]))
    parameters = list(lstm.parameters()) + list(head.parameters())

    start = time.perf_counter()
    optimizer = torch.optim.Adam(
        parameters, lr=params["learning_rate"], betas=(0.9, 0.999), eps=1e-8
    )
    X_t = torch.from_numpy(X)
    y_t = torch.from_numpy(y.reshape(-1, 1))
    n, batch_size = len(X_t), params["batch_size"]
    for _ in range(epochs):
        order = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            optimizer.zero_grad()
            _, (h_n, _) = lstm(X_t[idx])
            loss = 0.5 * nn.functional.mse_loss(head(h_n[-1]), y_t[idx])
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start

    def predict(X_new):
        with torch.inference_mode():
            _, (h_n, _) = lstm(torch.from_numpy(X_new))
            return head(h_n[-1]).numpy().ravel()

    return seconds, predict


def compare(params, dtype, *, rounds):
    """Train both sides ``rounds`` times each, alternately; report both.

    Parameters
    ----------
    params : dict
        ``n_train``, ``n_test``, ``n_steps``, ``hidden``, ``batch_size``,
        ``epochs``, ``learning_rate``, ``seed``.
    dtype : {"float32", "float64"}
        Floating type of the data (and so of both models).
    rounds : int
        Timed trainings per side.

    Returns
    -------
    result : dict
        Median wall time, per-round times and held-out mean squared error of
        each side, and the ratio of the medians (skrnn / PyTorch).
    """
    import torch

    n_train, n_test = params["n_train"], params["n_test"]
    X, y = cosine_task(n_train + n_test, params["n_steps"], seed=params["seed"])
    X, y = X.astype(dtype), y.astype(dtype)
    X_train, y_train = X[:n_train], y[:n_train]
    X_test, y_test = X[n_train:], y[n_train:]
    weights = _initial_weights(params, np.dtype(dtype))
    # All cores for both, as each library would use them by default.
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(threads)
    torch.set_num_threads(threads)

    # Warm-up: load the kernels and let both libraries allocate their pools.
    _fit_skrnn(params, X_train[:64], y_train[:64], 1)
    _fit_torch(params, X_train[:64], y_train[:64], 1, weights, 0)

    times = {"skrnn": [], "PyTorch": []}
    errors = {}
    epochs = params["epochs"]
    for r in range(rounds):
        seconds, predict = _fit_skrnn(params, X_train, y_train, epochs)
        times["skrnn"].append(seconds)
        errors["skrnn"] = float(np.mean((predict(X_test) - y_test) ** 2))
        seconds, predict = _fit_torch(params, X_train, y_train, epochs, weights, r)
        times["PyTorch"].append(seconds)
        errors["PyTorch"] = float(np.mean((predict(X_test) - y_test) ** 2))
    medians = {k: float(np.median(v)) for k, v in times.items()}
    return {
        "dtype": dtype,
        "threads": threads,
        "seconds": medians,
        "all_seconds": times,
        "test_mse": errors,
        "ratio": medians["skrnn"] / medians["PyTorch"],
        "baseline_mse": float(np.mean((y_test - y_test.mean()) ** 2)),
    }
