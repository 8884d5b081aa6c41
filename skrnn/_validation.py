"""Validation of sequence input: the only module that knows the input forms.

Every skrnn estimator accepts ``X`` in three forms (see the design notes and
the user guide):

========  ========================================  =========================
form      what ``X`` is                             ``n_features_in_``
========  ========================================  =========================
"table"   2-D array ``(n_sequences, n_steps)``:     ``n_steps`` (columns)
          univariate sequences, one step a column
"array"   3-D array                                 ``n_features``
          ``(n_sequences, n_steps, n_features)``
"ragged"  list or tuple of arrays, each             ``n_features``
          ``(n_steps_i, n_features)`` or
          ``(n_steps_i,)``
========  ========================================  =========================

scikit-learn's array-like rule decides the form: whatever ``np.asarray``
turns into a 2-D or 3-D array is that array form, even when it arrived as
nested lists. Only input that does not convert (sequences of different
lengths, or a 1-D object array holding sequences) is ragged.

:func:`validate_sequences` turns any of them into a :class:`Sequences`
record; :func:`validate_step_labels` checks per-step labels against it for
the sequence tagger; :func:`sequences_like` gives per-sequence outputs back
in the container form of ``X``.
"""

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, validate_data

from ._compat import _check_feature_names, _object_dtype_isnan

_COMPUTE_DTYPES = [np.float64, np.float32]

_ACCEPTED_FORMS = (
    "skrnn estimators accept a 2-D array (n_sequences, n_steps) of univariate "
    "sequences, a 3-D array (n_sequences, n_steps, n_features) or a list of "
    "arrays of shape (n_steps, n_features) or (n_steps,)."
)


@dataclass
class Sequences:
    """Validated sequences, in the form the estimators compute with.

    Parameters
    ----------
    sequences : list of ndarray
        One C-contiguous array of shape ``(n_steps_i, n_features)`` per
        sequence, in the compute dtype. The arrays may be views of the user's
        data: read them, never write into them.
    lengths : ndarray of shape (n_sequences,), dtype int64
        Number of steps of each sequence.
    form : {"table", "array", "ragged"}
        The container form ``X`` arrived in: a 2-D array, a 3-D array or a
        list of arrays.
    n_features : int
        Number of features per step (1 for the "table" form).
    dtype : numpy.dtype
        The compute dtype: float32 if the input was float32, float64
        otherwise.
    """

    sequences: list
    lengths: np.ndarray
    form: str
    n_features: int
    dtype: np.dtype

    @property
    def n_sequences(self):
        """int: Number of sequences."""
        return len(self.sequences)


def validate_sequences(estimator, X, *, reset, allow_nan=False):
    """Validate sequence input ``X`` and record or check its shape.

    Parameters
    ----------
    estimator : estimator instance
        The estimator the input is for. Its class name appears in error
        messages; with ``reset=True`` the attributes listed in the Notes are
        set on it, with ``reset=False`` ``X`` is checked against them.
    X : {array-like, list of array-like}
        A 2-D array ``(n_sequences, n_steps)`` of univariate sequences, a
        3-D array ``(n_sequences, n_steps, n_features)`` or a list (or
        tuple, or 1-D object array) of arrays of shape
        ``(n_steps_i, n_features)`` or ``(n_steps_i,)``. A pandas DataFrame is
        a 2-D array whose column names become ``feature_names_in_``.
    reset : bool
        True in ``fit`` and the first ``partial_fit``: record the input's
        shape on ``estimator``. False everywhere else: check ``X`` against
        what was recorded (the check is skipped if nothing was recorded).
    allow_nan : bool, default=False
        Accept NaN values (infinity is still refused). For transformers that
        handle missing steps themselves, such as
        :class:`~skrnn.preprocessing.SequenceScaler` and
        :class:`~skrnn.preprocessing.SequenceImputer`; the estimators keep the
        default and refuse NaN.

    Returns
    -------
    sequences : Sequences
        The validated sequences, their lengths, form, number of features per
        step and compute dtype.

    Raises
    ------
    TypeError
        If ``X`` is not an array-like or list of sequences (None, a string, a
        dict, ...), is sparse, or holds objects that are not numbers.
    ValueError
        If ``X`` holds no sequence, a sequence of length 0, NaN (unless
        ``allow_nan=True``) or infinity, strings or complex numbers, has the
        wrong number of dimensions, mixes numbers of features per step, or
        does not match what the estimator was fitted on. Messages name the
        offending sequence.

    Notes
    -----
    With ``reset=True`` these attributes are set on ``estimator``:

    - ``n_features_in_``: the number of columns for the "table" form (as
      scikit-learn defines it), the number of features per step otherwise;
    - ``feature_names_in_``: set for a 2-D pandas DataFrame, deleted
      otherwise, as scikit-learn does;
    - ``_n_step_features``: the number of features per step;
    - ``_fit_input_form``: the form of ``X``.

    With ``reset=False``, a 2-D array given to a many-to-one estimator fitted
    on a 2-D array goes through scikit-learn's column check (a per-step
    estimator labels each column, so its tables may have any width, as its
    sequences any length); otherwise the number of
    features per step must equal ``_n_step_features`` (a 2-D array always has
    one feature per step). The number of steps may differ from fit for the
    "array" and "ragged" forms.

    Input in float32 is returned in float32; any other numeric input
    (integers, booleans, float16, float64, object arrays of numbers) in
    float64. A list mixing float32 and other sequences becomes float64.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skrnn._validation import validate_sequences
    >>> est = BaseEstimator()
    >>> X = [np.zeros((4, 2)), np.ones((3, 2), dtype=np.float32)]
    >>> seqs = validate_sequences(est, X, reset=True)
    >>> seqs.form, seqs.n_features, seqs.lengths, seqs.dtype
    ('ragged', 2, array([4, 3]), dtype('float64'))
    >>> est.n_features_in_
    2
    """
    form, data = _detect_form(X)
    if form == "table":
        result = _table_sequences(estimator, data, reset, allow_nan=allow_nan)
    elif form == "array":
        result = _array_sequences(estimator, data, allow_nan=allow_nan)
    else:
        result = _ragged_sequences(estimator, data, allow_nan=allow_nan)
    _record_or_check_step_features(estimator, X, result, reset)
    return result


def _estimator_name(estimator):
    return type(estimator).__name__


def _first_text(values):
    """The first ``str`` or ``bytes`` value in an array-like, or None.

    Only called once a conversion to numbers has failed, so the scan of an
    object array in Python costs nothing on the common path.
    """
    if _is_dataframe(values):
        values = np.asarray(values, dtype=object)
    array = values if isinstance(values, np.ndarray) else None
    if array is None:
        try:
            array = np.asarray(values, dtype=object)
        except ValueError:
            return None
    if array.dtype.kind in "SU":
        return array.flat[0] if array.size else None
    if array.dtype.kind != "O":
        return None
    for value in array.flat:
        if isinstance(value, (str, bytes)):
            return value
        if isinstance(value, (list, tuple, np.ndarray)):
            found = _first_text(value)
            if found is not None:
                return found
    return None


def _text_error(name, example, where=""):
    """The error for text given where numbers are expected, with the way out."""
    if isinstance(example, np.generic):
        example = example.item()
    return ValueError(
        f"X{where} holds text ({example!r}), but {name} reads numbers: each step "
        "of a sequence is a number, a vector of numbers, or (with embedding_dim "
        "set) an integer token id. To learn from text, make "
        "skrnn.preprocessing.TextTokenizer the first step of a Pipeline and set "
        f"embedding_dim on {name}, for instance make_pipeline(TextTokenizer(), "
        f"{name}(embedding_dim=16)); TextTokenizer(level='word') reads words "
        "instead of characters."
    )


def _is_dataframe(X):
    return hasattr(X, "__dataframe__") or (
        hasattr(X, "columns") and hasattr(X, "shape")
    )


def _is_sequence_like(value):
    if isinstance(value, (str, bytes)):
        return False
    return (
        isinstance(value, (list, tuple, np.ndarray))
        or hasattr(value, "__array__")
        or sp.issparse(value)
    )


def _detect_form(X):
    """Classify ``X`` as "table", "array" or "ragged".

    Returns the form and the data to validate further: an ndarray for the
    array forms (the original object for dataframes, sparse matrices and
    inputs of the wrong dimension, so that scikit-learn's own checks see them
    and word the error), a list for the ragged form.
    """
    # Sparse first: dok_matrix is a dict.
    if sp.issparse(X) or _is_dataframe(X):
        return "table", X
    if X is None or isinstance(X, (str, bytes, Mapping, set, frozenset)):
        raise TypeError(
            f"X must be an array-like of sequences, got {type(X).__name__} "
            f"instead. {_ACCEPTED_FORMS}"
        )
    if isinstance(X, (list, tuple)):
        if len(X) == 0:
            raise ValueError(
                f"X is an empty {type(X).__name__}: at least one sequence is required."
            )
        try:
            array = np.asarray(X)
        except ValueError:
            # numpy refuses inhomogeneous shapes: sequences of different
            # lengths (or feature counts), which is exactly the ragged form.
            return "ragged", list(X)
    elif (
        isinstance(X, (np.ndarray, numbers.Number))
        or hasattr(X, "__array__")
        or hasattr(X, "__array_interface__")
    ):
        array = np.asarray(X)
    else:
        raise TypeError(
            f"X must be an array-like of sequences, got {type(X).__name__} "
            f"instead. {_ACCEPTED_FORMS}"
        )

    if array.ndim == 1 and array.size == 0:
        raise ValueError("X holds no sequence: at least one sequence is required.")
    if (
        array.ndim == 1
        and array.dtype == object
        and any(_is_sequence_like(value) for value in array)
    ):
        return "ragged", list(array)
    if array.ndim == 2:
        return "table", array
    if array.ndim == 3:
        return "array", array
    if array.ndim < 2:
        # scikit-learn words this case ("Expected 2D array, got 1D array
        # instead ... Reshape your data"), and its common checks match on it.
        return "table", X
    raise ValueError(
        f"Found array with dim {array.ndim} (shape={array.shape}). {_ACCEPTED_FORMS}"
    )


def _table_sequences(estimator, X, reset, *, allow_nan=False):
    """Validate a 2-D table; each row becomes a univariate sequence."""
    fitted_on_table = getattr(estimator, "_fit_input_form", "table") == "table"
    # A per-step estimator (the tagger) labels every column, so its tables may
    # have any number of columns after fit, like its sequences any length.
    per_step = getattr(estimator, "_per_step", False)
    finite = "allow-nan" if allow_nan else True
    try:
        if reset or (fitted_on_table and not per_step):
            X = validate_data(
                estimator,
                X,
                reset=reset,
                dtype=_COMPUTE_DTYPES,
                ensure_all_finite=finite,
            )
        else:
            # The estimator was fitted on sequences: the columns here are
            # steps, not the features n_features_in_ counts, so only check the
            # array.
            X = check_array(
                X,
                dtype=_COMPUTE_DTYPES,
                estimator=estimator,
                input_name="X",
                ensure_all_finite=finite,
            )
    except ValueError as exc:
        text = _first_text(X)
        if text is None:
            raise
        raise _text_error(_estimator_name(estimator), text) from exc
    X = np.ascontiguousarray(X)
    n_sequences, n_steps = X.shape
    return Sequences(
        sequences=list(X[:, :, np.newaxis]),
        lengths=np.full(n_sequences, n_steps, dtype=np.int64),
        form="table",
        n_features=1,
        dtype=X.dtype,
    )


def _array_sequences(estimator, X, *, allow_nan=False):
    """Validate a 3-D array ``(n_sequences, n_steps, n_features)``."""
    name = _estimator_name(estimator)
    X = _as_compute_array(X, where="", name=name)
    n_sequences, n_steps, n_features = X.shape
    if n_sequences == 0:
        raise ValueError(
            f"Found array with 0 sequence(s) (shape={X.shape}) while a minimum "
            f"of 1 is required by {name}."
        )
    if n_steps == 0:
        raise ValueError(
            f"Found array with sequences of length 0 (shape={X.shape}): every "
            "sequence needs at least one step."
        )
    if n_features == 0:
        raise ValueError(
            f"Found array with 0 feature(s) per step (shape={X.shape}) while a "
            f"minimum of 1 is required by {name}."
        )
    X = np.ascontiguousarray(X)
    _check_finite(X, name, allow_nan=allow_nan)
    return Sequences(
        sequences=list(X),
        lengths=np.full(n_sequences, n_steps, dtype=np.int64),
        form="array",
        n_features=n_features,
        dtype=X.dtype,
    )


def _ragged_sequences(estimator, X, *, allow_nan=False):
    """Validate a list of sequences of shape ``(n_steps_i, n_features)``."""
    name = _estimator_name(estimator)
    arrays = []
    n_features = None
    all_float32 = True
    for index, sequence in enumerate(X):
        array = _ragged_element(sequence, index, name)
        if n_features is None:
            n_features = array.shape[1]
        elif array.shape[1] != n_features:
            raise ValueError(
                f"Sequence {index} of X has {_features_per_step(array.shape[1])}, "
                f"but sequence 0 has {n_features}: all sequences must have the "
                "same number of features per step."
            )
        all_float32 = all_float32 and array.dtype == np.float32
        arrays.append(array)

    dtype = np.dtype(np.float32 if all_float32 else np.float64)
    sequences = [np.ascontiguousarray(array, dtype=dtype) for array in arrays]
    # One sum per sequence finds the suspects cheaply: with many short
    # sequences, per-sequence checks would cost more than the conversion.
    with np.errstate(over="ignore", invalid="ignore"):
        sums = np.fromiter(
            (array.sum() for array in sequences), dtype=np.float64, count=len(arrays)
        )
    for index in np.flatnonzero(~np.isfinite(sums)):
        _raise_if_not_finite(
            sequences[index], name, sequence_index=int(index), allow_nan=allow_nan
        )
    lengths = np.fromiter(
        (array.shape[0] for array in sequences), dtype=np.int64, count=len(arrays)
    )
    return Sequences(
        sequences=sequences,
        lengths=lengths,
        form="ragged",
        n_features=n_features,
        dtype=dtype,
    )


_EXPECTED_SEQUENCE = "expected an array of shape (n_steps, n_features) or (n_steps,)"


def _ragged_element(sequence, index, name):
    """Convert one sequence of a ragged list to a 2-D float array."""
    if type(sequence) is not np.ndarray:
        # Only non-arrays pay for these checks: lists of arrays are the
        # common case, and may hold many short sequences.
        _refuse_non_sequence(sequence, index, name)
    try:
        array = np.asarray(sequence)
    except ValueError as exc:
        raise ValueError(
            f"Sequence {index} of X could not be read as an array ({exc}); "
            f"{_EXPECTED_SEQUENCE}."
        ) from exc
    if array.ndim not in (1, 2):
        raise ValueError(
            f"Sequence {index} of X has shape {array.shape}; {_EXPECTED_SEQUENCE}."
        )
    array = _as_compute_array(array, where=f" (sequence {index})", name=name)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.shape[0] == 0:
        raise ValueError(
            f"Sequence {index} of X has length 0 (shape {array.shape}): every "
            "sequence needs at least one step."
        )
    if array.shape[1] == 0:
        raise ValueError(
            f"Sequence {index} of X has 0 features per step (shape "
            f"{array.shape}) while a minimum of 1 is required."
        )
    return array


def _refuse_non_sequence(sequence, index, name):
    # Sparse first: dok_matrix is a dict.
    if sp.issparse(sequence):
        raise TypeError(
            f"Sparse data was passed for X (sequence {index}), but dense data is "
            "required. Use '.toarray()' to convert to a dense numpy array."
        )
    if isinstance(sequence, (str, bytes)):
        raise _text_error(name, sequence, where=f" (sequence {index})")
    if sequence is None or isinstance(sequence, (str, bytes, Mapping)):
        raise TypeError(
            f"Sequence {index} of X is {type(sequence).__name__}; {_EXPECTED_SEQUENCE}."
        )


def _as_compute_array(array, *, where, name):
    """Return ``array`` as float32 (kept) or float64, refusing non-numbers.

    The wording follows scikit-learn's ``check_array`` for the same cases;
    text gets the way to tokenize it.
    """
    kind = array.dtype.kind
    if kind == "c":
        raise ValueError(
            f"Complex data not supported: X{where} has dtype {array.dtype}, and "
            "skrnn estimators need real numbers."
        )
    if kind in "US" and array.size:
        raise _text_error(name, array.flat[0], where=where)
    if kind in "USV":
        raise ValueError(
            f"X{where} holds bytes or strings (dtype {array.dtype}), which is not "
            "compatible with dtype='numeric'. Convert your data to numeric values "
            "explicitly instead."
        )
    if kind == "O":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            text = _first_text(array)
            if text is not None:
                raise _text_error(name, text, where=where) from exc
            # Same exception type as numpy (and so scikit-learn) raises.
            raise type(exc)(
                f"X{where} holds values that are not numbers: {exc}"
            ) from exc
    if array.dtype in (np.float32, np.float64):
        return array
    if kind in "biuf":
        return array.astype(np.float64)
    raise TypeError(
        f"X{where} has dtype {array.dtype}, which is not numeric. Convert your "
        "data to numeric values explicitly."
    )


def _check_finite(array, estimator_name, *, allow_nan=False):
    """Raise scikit-learn's NaN / infinity error for a 3-D array."""
    # One reduction is the cheap test for the common all-finite case; an
    # overflowing sum is settled by the exact test.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):
            return
    _raise_if_not_finite(array, estimator_name, allow_nan=allow_nan)


def _raise_if_not_finite(
    array, estimator_name, *, sequence_index=None, allow_nan=False
):
    """Raise scikit-learn's NaN / infinity error, naming where the value is.

    ``array`` is a float array of shape ``(n_sequences, n_steps, n_features)``
    or, with ``sequence_index``, one sequence ``(n_steps, n_features)``.
    Returns quietly if every value is finite, or, with ``allow_nan``, if no
    value is infinite.
    """
    is_nan = np.zeros((), dtype=bool) if allow_nan else np.isnan(array)
    if is_nan.any():
        what, position = "NaN", np.argwhere(is_nan)[0]
    else:
        is_inf = np.isinf(array)
        if not is_inf.any():
            return
        what = f"infinity or a value too large for {array.dtype!r}"
        position = np.argwhere(is_inf)[0]
    if sequence_index is None:
        sequence_index, step, feature = position
    else:
        step, feature = position
    message = (
        f"Input X contains {what} in sequence {sequence_index} (first at step "
        f"{step}, feature {feature})."
    )
    if what == "NaN":
        message += (
            f" {estimator_name} does not accept missing values encoded as NaN: "
            "impute them, or drop the sequences that hold them."
        )
    raise ValueError(message)


def _record_or_check_step_features(estimator, X, sequences, reset):
    """Set ``n_features_in_`` and friends, or check ``X`` against them."""
    if reset:
        if sequences.form != "table":
            # validate_data did this for tables; elsewhere it only drops
            # feature names left over from an earlier fit.
            _check_feature_names(estimator, X, reset=True)
            estimator.n_features_in_ = sequences.n_features
        estimator._n_step_features = sequences.n_features
        estimator._fit_input_form = sequences.form
        return

    expected = getattr(estimator, "_n_step_features", None)
    if expected is None or sequences.n_features == expected:
        return
    name = _estimator_name(estimator)
    if sequences.form == "table":
        raise ValueError(
            f"X is a 2-D array, read as univariate sequences (1 feature per "
            f"step, one step per column), but {name} was fitted with "
            f"{_features_per_step(expected)}. Pass a 3-D array of shape "
            f"(n_sequences, n_steps, {expected}) or a list of arrays of shape "
            f"(n_steps, {expected})."
        )
    if getattr(estimator, "_fit_input_form", None) == "table":
        fitted_on = "a 2-D array of univariate sequences (1 feature per step)"
    else:
        fitted_on = _features_per_step(expected)
    raise ValueError(
        f"X has {_features_per_step(sequences.n_features)}, but {name} was "
        f"fitted with {fitted_on}. Pass sequences with "
        f"{_features_per_step(expected)}, as at fit time."
    )


def _features_per_step(n_features):
    return f"{n_features} feature{'' if n_features == 1 else 's'} per step"


def _label_sequences(y, input_name="y"):
    """Split per-step labels into a list of 1-D arrays, one per sequence.

    Parameters
    ----------
    y : list of array-like or array-like of shape (n_sequences, n_steps)
        A list (tuple, or 1-D object array) of 1-D label sequences, or a
        2-D array with one row per sequence.
    input_name : str, default="y"
        Name of the argument, for error messages.

    Returns
    -------
    label_sequences : list of ndarray
        One 1-D label array per sequence.
    """
    expected = (
        "one label per step: a list of 1-D label arrays (one per sequence) or a "
        "2-D array of shape (n_sequences, n_steps)"
    )
    if y is None:
        raise ValueError(f"{input_name} is None; expected {expected}.")
    if isinstance(y, (str, bytes, Mapping, set, frozenset)):
        raise TypeError(
            f"{input_name} must hold {expected}, got {type(y).__name__} instead."
        )
    return _split_sequences(y, input_name, expected, _label_sequence, flat=False)


def _split_sequences(y, input_name, expected, read_item, *, flat):
    """The items of a container of sequences, each read by ``read_item``.

    ``y`` is a list or tuple of sequences, a 2-D array (one per row), or a
    1-D array of them: an object array, or with ``flat`` any 1-D array (whose
    items may be strings, each a sequence of characters).
    ``read_item(item, index, input_name)`` checks and converts one sequence.
    """
    if isinstance(y, (list, tuple)):
        items = y
    else:
        array = np.asarray(y)
        if array.ndim == 2:
            return list(array)
        if array.ndim != 1 or not (flat or array.dtype == object):
            raise ValueError(
                f"{input_name} has shape {array.shape}; expected {expected}."
            )
        items = array
    return [read_item(item, index, input_name) for index, item in enumerate(items)]


def _label_sequence(item, index, input_name):
    if type(item) is np.ndarray and item.ndim == 1:
        return item
    expected = f"expected a 1-D array with one label per step of sequence {index}"
    if item is None:
        raise ValueError(f"{input_name}[{index}] is None; {expected}.")
    if isinstance(item, (str, bytes)) or np.isscalar(item):
        raise ValueError(
            f"{input_name}[{index}] is a single label ({item!r}); {expected}."
        )
    try:
        array = np.asarray(item)
    except ValueError as exc:
        raise ValueError(
            f"{input_name}[{index}] could not be read as an array ({exc}); {expected}."
        ) from exc
    if array.ndim != 1:
        raise ValueError(f"{input_name}[{index}] has shape {array.shape}; {expected}.")
    return array


def _check_labels_defined(flat_labels, offsets, input_name="y"):
    """Refuse missing labels (None, NaN) and infinite float labels."""
    kind = flat_labels.dtype.kind
    if kind == "f":
        bad = ~np.isfinite(flat_labels)
    elif kind == "O":
        bad = np.equal(flat_labels, None) | _object_dtype_isnan(flat_labels)
    else:
        return
    if not bad.any():
        return
    position = int(np.flatnonzero(bad)[0])
    value = flat_labels[position]
    index = int(np.searchsorted(offsets, position, side="right")) - 1
    step = position - offsets[index]
    if value is None:
        raise ValueError(
            f"{input_name} contains None in sequence {index} (step {step}): every "
            "step needs a label."
        )
    what = "NaN" if value != value else "infinity"
    raise ValueError(
        f"Input {input_name} contains {what} in sequence {index} (step {step}): "
        "every step needs a label."
    )


def _offsets(lengths):
    """Start of each sequence in the concatenation of all sequences."""
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return offsets


def validate_step_labels(y, X_seqs):
    """Validate per-step labels for a sequence tagger.

    Parameters
    ----------
    y : list of array-like or array-like of shape (n_sequences, n_steps)
        One label per step: a list (tuple, or 1-D object array) of 1-D label
        sequences with the lengths of the sequences of ``X``, or, when ``X``
        has equal-length sequences, a 2-D array with one row per sequence.
        Labels may be of any hashable type; None, NaN and infinity are
        refused.
    X_seqs : Sequences
        The validated ``X``, as returned by :func:`validate_sequences`.

    Returns
    -------
    label_sequences : list of ndarray
        One 1-D label array per sequence (rows of a 2-D ``y`` are views).
    flat_labels : ndarray of shape (sum of lengths,)
        The labels of all steps, sequence after sequence.

    Raises
    ------
    ValueError
        If ``y`` is None, has a different number of sequences than ``X``, a
        sequence whose length differs from the matching sequence of ``X``, or
        a missing (None or NaN) label. Messages name the sequence index.
    TypeError
        If ``y`` is a string, a dict or a set.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skrnn._validation import validate_sequences, validate_step_labels
    >>> X = [np.zeros((3, 2)), np.zeros((2, 2))]
    >>> seqs = validate_sequences(BaseEstimator(), X, reset=True)
    >>> y = [["B", "I", "O"], ["O", "B"]]
    >>> label_sequences, flat = validate_step_labels(y, seqs)
    >>> flat
    array(['B', 'I', 'O', 'O', 'B'], dtype='<U1')
    """
    label_sequences = _label_sequences(y)
    n_sequences = X_seqs.n_sequences
    if len(label_sequences) != n_sequences:
        raise ValueError(
            f"y has {len(label_sequences)} sequences of labels, but X has "
            f"{n_sequences} sequences: a sequence tagger needs one label sequence "
            "per sequence of X."
        )
    y_is_2d = not isinstance(y, (list, tuple)) and np.ndim(y) == 2
    for index, (labels, n_steps) in enumerate(
        zip(label_sequences, X_seqs.lengths, strict=True)
    ):
        if labels.shape[0] != n_steps:
            message = (
                f"y[{index}] has {labels.shape[0]} labels, but sequence {index} of "
                f"X has {n_steps} steps: a sequence tagger needs exactly one label "
                "per step."
            )
            if y_is_2d and X_seqs.form == "ragged":
                message += (
                    " X holds sequences of different lengths, so pass y as a list "
                    "of 1-D label arrays with the same lengths."
                )
            raise ValueError(message)
    flat_labels = np.concatenate(label_sequences)
    _check_labels_defined(flat_labels, _offsets(X_seqs.lengths))
    return label_sequences, flat_labels


def sequences_like(values_list, X_seqs):
    """Return per-sequence outputs in the container form of ``X``.

    Parameters
    ----------
    values_list : list of array-like
        One array of shape ``(n_steps_i, ...)`` per sequence of ``X``, for
        instance the predicted label of every step.
    X_seqs : Sequences
        The validated ``X`` the values belong to.

    Returns
    -------
    values : list of ndarray or ndarray
        A list of arrays for the "ragged" form; for the "table" and "array"
        forms one stacked array of shape ``(n_sequences, n_steps, ...)``,
        which is ``(n_sequences, n_steps)`` when each step holds one scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skrnn._validation import sequences_like, validate_sequences
    >>> seqs = validate_sequences(BaseEstimator(), np.zeros((2, 3)), reset=True)
    >>> sequences_like([np.array([0, 1, 1]), np.array([1, 1, 0])], seqs)
    array([[0, 1, 1],
           [1, 1, 0]])
    """
    if len(values_list) != X_seqs.n_sequences:
        raise ValueError(
            f"Got outputs for {len(values_list)} sequences, but X has "
            f"{X_seqs.n_sequences} sequences."
        )
    if X_seqs.form == "ragged":
        return [np.asarray(values) for values in values_list]
    return np.stack(values_list)


def validate_tokens(estimator, X_seqs, *, reset):
    """Check that validated sequences hold token ids; record the vocabulary size.

    Used by estimators with ``embedding_dim`` set, where each step of ``X`` is
    one integer token id.

    Parameters
    ----------
    estimator : estimator instance
        With ``reset=True`` its ``n_tokens_`` is set to its
        ``vocabulary_size`` if that is not None, else to the largest id plus
        one; with ``reset=False`` every id must be below ``n_tokens_``.
    X_seqs : Sequences
        The validated ``X``.
    reset : bool
        True in ``fit`` and the first ``partial_fit``.

    Returns
    -------
    n_tokens : int
        The size of the vocabulary the ids index (``n_tokens_``).

    Raises
    ------
    ValueError
        If a step holds more than one feature, or a value that is not a
        non-negative integer, or an id the vocabulary does not have.
        Messages name the sequence and step.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skrnn._validation import validate_sequences, validate_tokens
    >>> est = BaseEstimator()
    >>> seqs = validate_sequences(est, [np.array([3, 1, 4]), np.array([1, 5])],
    ...                           reset=True)
    >>> validate_tokens(est, seqs, reset=True)
    6
    """
    name = _estimator_name(estimator)
    if X_seqs.n_features != 1:
        raise ValueError(
            f"{name} has embedding_dim set, so each step of X must be one token "
            f"id, but X has {_features_per_step(X_seqs.n_features)}. Pass a 2-D "
            "array (n_sequences, n_steps) of ids or a list of 1-D id arrays (as "
            "skrnn.preprocessing.TextTokenizer returns), or set embedding_dim=None "
            "for numeric features."
        )
    flat = np.concatenate([s[:, 0] for s in X_seqs.sequences])
    bad = (flat < 0) | (flat != np.floor(flat))
    if bad.any():
        i, t = _locate(np.flatnonzero(bad)[0], X_seqs.lengths)
        raise ValueError(
            f"{name} has embedding_dim set, so every step of X must be a token "
            f"id (a non-negative integer), but sequence {i} holds "
            f"{float(X_seqs.sequences[i][t, 0]):g} at step {t}. Encode text with "
            "skrnn.preprocessing.TextTokenizer, or set embedding_dim=None for "
            "numeric features."
        )
    largest = int(flat.max())
    declared = getattr(estimator, "vocabulary_size", None)
    if reset and declared is None:
        _check_embedding_size(estimator, largest, X_seqs)
    if reset:
        n_tokens = largest + 1 if declared is None else int(declared)
    else:
        n_tokens = estimator.n_tokens_
    if largest >= n_tokens:
        i, t = _locate(int(np.argmax(flat)), X_seqs.lengths)
        if reset:
            raise ValueError(
                f"X holds token id {largest} (sequence {i}, step {t}), but "
                f"vocabulary_size={n_tokens} allows ids 0 to {n_tokens - 1}. "
                "Increase vocabulary_size, or leave it None to learn it from X."
            )
        hint = (
            "Set vocabulary_size to the size of the whole vocabulary (for "
            "instance TextTokenizer's n_tokens_) so that fit on part of the data "
            "(a cross-validation fold, a partial_fit batch) knows every id"
            if declared is None
            else "Increase vocabulary_size and refit"
        )
        raise ValueError(
            f"X holds token id {largest} (sequence {i}, step {t}), but {name} "
            f"was fitted on a vocabulary of n_tokens_={n_tokens} ids (0 to "
            f"{n_tokens - 1}). {hint}, or map tokens unseen in training to a "
            "reserved id (skrnn.preprocessing.TextTokenizer maps them to its "
            "unknown id 0, so a Pipeline starting with it never has this problem)."
        )
    if reset:
        estimator.n_tokens_ = n_tokens
    return n_tokens


# Largest embedding table (in bytes) that a vocabulary learned from the ids
# of X may ask for; beyond it the ids are almost surely not consecutive.
_MAX_LEARNED_EMBEDDING_BYTES = 2**30


def _check_embedding_size(estimator, largest, X_seqs):
    """Refuse token ids that would make a huge embedding, before allocating it."""
    embedding_dim = getattr(estimator, "embedding_dim", None) or 1
    n_tokens = largest + 1
    size = n_tokens * int(embedding_dim) * X_seqs.dtype.itemsize
    if size <= _MAX_LEARNED_EMBEDDING_BYTES:
        return
    flat = np.concatenate([s[:, 0] for s in X_seqs.sequences])
    i, t = _locate(int(np.argmax(flat)), X_seqs.lengths)
    raise ValueError(
        f"X holds token id {largest} (sequence {i}, step {t}). Without "
        "vocabulary_size, the vocabulary is taken as the largest id + 1, here "
        f"{n_tokens} ids: an embedding of {n_tokens} x {embedding_dim} weights "
        f"({size / 2**30:.1f} GiB). Number the tokens 0, 1, 2, ... "
        "(skrnn.preprocessing.TextTokenizer does), or set vocabulary_size to the "
        "number of ids if the vocabulary really is that large."
    )


# Every integer up to 2 ** 24 is exact in float32.
_FLOAT32_EXACT_IDS = 2**24


def token_dtype(X, n_tokens):
    """The compute dtype of a model that embeds the token ids ``X``.

    Token ids index an embedding table: their float width carries no
    precision, so the rule of float32 input for float32 computation does not
    fit them. Integer ids (:class:`~skrnn.preprocessing.TextTokenizer`'s
    int64 arrays, lists of Python ints), booleans and float32 ids compute in
    float32, the faster dtype; ids given as float64 arrays (or lists of Python
    floats) keep float64, which is how to ask for it. A vocabulary of more
    than ``2 ** 24`` ids, not all exact in float32, computes in float64.

    Parameters
    ----------
    X : {array-like, list of array-like}
        The token ids, already accepted by :func:`validate_sequences` and
        :func:`validate_tokens`.
    n_tokens : int
        The vocabulary size, as :func:`validate_tokens` returns it.

    Returns
    -------
    dtype : numpy.dtype
        float32 or float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn._validation import token_dtype
    >>> token_dtype([np.array([3, 1, 4]), np.array([1, 5])], 6)
    dtype('float32')
    >>> token_dtype(np.array([[3.0, 1.0], [1.0, 5.0]]), 6)
    dtype('float64')
    """
    if n_tokens > _FLOAT32_EXACT_IDS:
        return np.dtype(np.float64)
    form, data = _detect_form(X)
    if form == "ragged":
        dtypes = [np.asarray(sequence).dtype for sequence in data]
    elif hasattr(data, "dtypes"):  # a DataFrame: one dtype per column
        dtypes = list(data.dtypes)
    else:
        dtypes = [np.asarray(data).dtype]
    wide = any(str(dtype) == "float64" for dtype in dtypes)
    return np.dtype(np.float64 if wide else np.float32)


def _locate(flat_index, lengths):
    """(sequence, step) of an index into the concatenated steps."""
    ends = np.cumsum(lengths)
    i = int(np.searchsorted(ends, flat_index, side="right"))
    start = ends[i - 1] if i else 0
    return i, int(flat_index - start)
