"""skrnn: recurrent neural networks for scikit-learn.

Elman RNN, LSTM and GRU networks trained by backpropagation through time in
Numba-compiled kernels, behind estimators that follow the conventions of
:class:`sklearn.neural_network.MLPRegressor` and
:class:`sklearn.neural_network.MLPClassifier`.
"""

__version__ = "0.1.0.dev0"

# The runtime first: it sets up Numba's code generator and skrnn's kernel
# cache before any kernel compiles or loads from the cache.
from . import _runtime  # noqa: F401, E402, I001
from ._classifier import RNNClassifier  # noqa: E402
from ._regressor import RNNRegressor  # noqa: E402
from ._stream import Stream, TranscriptionStream  # noqa: E402
from ._tagger import SequenceTagger  # noqa: E402
from ._transcriber import SequenceTranscriber  # noqa: E402
from ._translator import SequenceTranslator  # noqa: E402

__all__ = [
    "RNNClassifier",
    "RNNRegressor",
    "SequenceTagger",
    "SequenceTranscriber",
    "SequenceTranslator",
    "Stream",
    "TranscriptionStream",
    "__version__",
]
