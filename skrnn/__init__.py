"""skrnn: recurrent neural networks for scikit-learn.

Elman RNN, LSTM and GRU networks trained by backpropagation through time in
Numba-compiled kernels, behind estimators that follow the conventions of
:class:`sklearn.neural_network.MLPRegressor` and
:class:`sklearn.neural_network.MLPClassifier`.
"""

# The runtime first: it sets up Numba's code generator before any kernel
# compiles or loads from the cache.
from . import _runtime  # noqa: F401, I001
from ._classifier import RNNClassifier
from ._regressor import RNNRegressor
from ._stream import Stream
from ._tagger import SequenceTagger
from ._translator import SequenceTranslator

__version__ = "0.1.0.dev0"

__all__ = [
    "RNNClassifier",
    "RNNRegressor",
    "SequenceTagger",
    "SequenceTranslator",
    "Stream",
    "__version__",
]
