"""The weights of a fitted recurrent estimator, by name.

:class:`WeightsMixin` reads and writes the flat parameter vector through the
network's named views (PyTorch's names and shapes).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted


class WeightsMixin:
    """``get_weights`` and ``set_weights`` of the recurrent estimators."""

    def get_weights(self):
        """Return the network's parameters by name (PyTorch names and shapes).

        Returns
        -------
        weights : dict of str to ndarray
            Copies of ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
            ``bias_hh_l{k}`` (suffix ``_reverse`` for the backward direction)
            for each layer ``k``, and ``output.weight``, ``output.bias``;
            with ``embedding_dim`` set, first ``embedding.weight`` of shape
            ``(n_tokens_, embedding_dim)`` (PyTorch's ``nn.Embedding``); with
            ``conv_layers``, then ``conv.{k}.weight`` of shape ``(filters,
            in_channels, width)`` and ``conv.{k}.bias`` of each convolution
            ``k`` (PyTorch's ``nn.Conv1d``), before the recurrent layers.
        """
        check_is_fitted(self)
        return {k: v.copy() for k, v in self._network.views(self._theta).items()}

    def set_weights(self, weights):
        """Set the network's parameters by name.

        Parameters
        ----------
        weights : dict of str to array-like
            Every name returned by :meth:`get_weights`, with the same shapes.

        Returns
        -------
        self : object
            The estimator, with the new parameters.
        """
        check_is_fitted(self)
        views = self._network.views(self._theta)
        if not isinstance(weights, dict):
            raise TypeError(
                f"weights must be a dict of name -> array, got {type(weights)}."
            )
        missing = sorted(set(views) - set(weights))
        unknown = sorted(set(weights) - set(views))
        if missing or unknown:
            raise ValueError(
                f"set_weights needs exactly the names of get_weights(). Missing: "
                f"{missing}; unknown: {unknown}. Expected names: {list(views)}."
            )
        converted = {}
        for name, view in views.items():
            value = np.asarray(weights[name])
            if value.dtype.kind not in "biuf":
                raise TypeError(
                    f"Weight {name!r} has dtype {value.dtype}; weights must be real "
                    "numbers (a float or int array)."
                )
            if value.shape != view.shape:
                raise ValueError(
                    f"Weight {name!r} has shape {value.shape}, expected {view.shape}."
                )
            if not np.isfinite(value).all():
                raise ValueError(f"Weight {name!r} contains NaN or infinity.")
            converted[name] = value
        for name, view in views.items():
            view[...] = converted[name]
        return self
