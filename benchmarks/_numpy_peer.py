"""A batched NumPy implementation of the benchmarked network: the fallback peer.

When PyTorch is not installed, skrnn is timed against this: the same model
(one recurrent layer in PyTorch's layout and gate order, a linear head on the
final state, half the mean squared error) written the way a careful NumPy user
would write it: one GEMM for the input projection of all steps, one recurrent
GEMM per step on the whole batch, vectorised gate arithmetic with ``np.tanh``
and ``np.exp``, and weight gradients as GEMMs over all steps after the time
loop. NumPy's BLAS gets the benchmark's thread count.

Every sequence has the full length ``T`` (the benchmark's batches are not
ragged), so there is no masking.
"""

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


class NumpyNetwork:
    """One recurrent layer and a linear head, forward and backward in NumPy.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        Recurrent cell (the Elman cell uses ``tanh``).
    weights : dict of str to ndarray
        ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``,
        ``output.weight`` and ``output.bias`` in PyTorch's layout; every
        array has the dtype the network computes in.
    """

    def __init__(self, cell, weights):
        self.cell = cell
        self.W_ih = weights["weight_ih_l0"]
        self.W_hh = weights["weight_hh_l0"]
        self.b_ih = weights["bias_ih_l0"]
        self.b_hh = weights["bias_hh_l0"]
        self.W_out = weights["output.weight"]
        self.b_out = weights["output.bias"]
        self.H = self.W_hh.shape[1]

    # ----------------------------------------------------------- forward
    def _run(self, X, keep):
        """Run the layer over ``X`` of shape (T, B, I); return h_T and caches."""
        T, B, _ = X.shape
        H, cell = self.H, self.cell
        gi_all = (X.reshape(T * B, -1) @ self.W_ih.T + self.b_ih).reshape(T, B, -1)
        h = np.zeros((B, H), X.dtype)
        c = np.zeros((B, H), X.dtype)
        caches = []
        for t in range(T):
            gh = h @ self.W_hh.T + self.b_hh
            if cell == "rnn":
                h_new = np.tanh(gi_all[t] + gh)
                cache = (h, h_new)
            elif cell == "lstm":
                a = gi_all[t] + gh
                i = _sigmoid(a[:, :H])
                f = _sigmoid(a[:, H : 2 * H])
                g = np.tanh(a[:, 2 * H : 3 * H])
                o = _sigmoid(a[:, 3 * H :])
                c_new = f * c + i * g
                tanh_c = np.tanh(c_new)
                h_new = o * tanh_c
                cache = (h, c, i, f, g, o, tanh_c)
                c = c_new
            else:
                gi = gi_all[t]
                r = _sigmoid(gi[:, :H] + gh[:, :H])
                z = _sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
                gh_n = gh[:, 2 * H :]
                n = np.tanh(gi[:, 2 * H :] + r * gh_n)
                h_new = (1.0 - z) * n + z * h
                cache = (h, r, z, n, gh_n)
            if keep:
                caches.append(cache)
            h = h_new
        return h, caches

    def forward(self, X):
        """Predictions ``(B, n_outputs)`` for inputs ``X`` of shape (T, B, I)."""
        h, _ = self._run(X, keep=False)
        return h @ self.W_out.T + self.b_out

    # ---------------------------------------------------------- backward
    def loss_and_grad(self, X, Y):
        """Half the mean squared error and the gradient of every parameter.

        Parameters
        ----------
        X : ndarray of shape (T, B, I)
            Inputs, sequence-first.
        Y : ndarray of shape (B, n_outputs)
            Targets.

        Returns
        -------
        loss : float
        grads : dict of str to ndarray
            Keyed like the constructor's ``weights``.
        """
        T, B, n_inputs = X.shape
        h, caches = self._run(X, keep=True)
        Z = h @ self.W_out.T + self.b_out
        diff = Z - Y
        loss = 0.5 * float(np.sum(diff * diff)) / B
        dZ = diff / B
        grads = {"output.weight": dZ.T @ h, "output.bias": dZ.sum(axis=0)}
        dh = dZ @ self.W_out
        dc = np.zeros_like(dh)
        G, H = GATES[self.cell], self.H
        d_in = np.empty((T, B, G * H), X.dtype)  # w.r.t. W_ih x + b_ih
        d_rec = d_in if self.cell != "gru" else np.empty_like(d_in)
        H_prev = np.empty((T, B, H), X.dtype)
        for t in range(T - 1, -1, -1):
            cache = caches[t]
            H_prev[t] = cache[0]
            if self.cell == "rnn":
                d_in[t] = dh * (1.0 - cache[1] ** 2)
            elif self.cell == "lstm":
                _, c_prev, i, f, g, o, tanh_c = cache
                dc = dc + dh * o * (1.0 - tanh_c**2)
                d_in[t, :, :H] = dc * g * i * (1.0 - i)
                d_in[t, :, H : 2 * H] = dc * c_prev * f * (1.0 - f)
                d_in[t, :, 2 * H : 3 * H] = dc * i * (1.0 - g**2)
                d_in[t, :, 3 * H :] = dh * tanh_c * o * (1.0 - o)
                dc = dc * f
            else:
                h_prev, r, z, n, gh_n = cache
                da_n = dh * (1.0 - z) * (1.0 - n**2)
                da_r = da_n * gh_n * r * (1.0 - r)
                da_z = dh * (h_prev - n) * z * (1.0 - z)
                d_in[t, :, :H] = da_r
                d_in[t, :, H : 2 * H] = da_z
                d_in[t, :, 2 * H :] = da_n
                d_rec[t, :, : 2 * H] = d_in[t, :, : 2 * H]
                d_rec[t, :, 2 * H :] = da_n * r
                dh = dh * z
            if self.cell == "gru":
                dh = dh + d_rec[t] @ self.W_hh
            else:
                dh = d_in[t] @ self.W_hh
        d_in_2d = d_in.reshape(T * B, G * H)
        d_rec_2d = d_rec.reshape(T * B, G * H)
        grads["weight_ih_l0"] = d_in_2d.T @ X.reshape(T * B, n_inputs)
        grads["bias_ih_l0"] = d_in_2d.sum(axis=0)
        grads["weight_hh_l0"] = d_rec_2d.T @ H_prev.reshape(T * B, H)
        grads["bias_hh_l0"] = d_rec_2d.sum(axis=0)
        return loss, grads
