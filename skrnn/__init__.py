"""skrnn: recurrent neural networks for scikit-learn.

Elman RNN, LSTM and GRU networks trained by backpropagation through time in
Numba-compiled kernels, behind estimators that follow the conventions of
:class:`sklearn.neural_network.MLPRegressor` and
:class:`sklearn.neural_network.MLPClassifier`.
"""

import os

# The kernels split batches across Numba's OpenMP threads. GNU OpenMP's
# default is to spin while waiting, which on a busy machine (a parallel grid
# search, other processes) makes every parallel region many times slower;
# sleeping threads cost a few microseconds per region instead. This must be
# set before the OpenMP runtime starts; a value set by the user is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._recurrent import RNNClassifier, RNNRegressor
from ._tagger import SequenceTagger

__version__ = "0.1.0.dev0"

__all__ = ["RNNClassifier", "RNNRegressor", "SequenceTagger", "__version__"]
