"""The single gateway to scikit-learn's private helpers.

skrnn builds on helpers that scikit-learn keeps in private modules (parameter
constraints, ``_fit_context``, feature-name bookkeeping, ...). Every such
import lives here, so that when scikit-learn moves or renames one of them only
this module has to change. Public scikit-learn names are imported from
scikit-learn directly where they are used.

scikit-learn 1.6 is the oldest supported version: it is the first one with
:func:`sklearn.utils.validation.validate_data` and the
:class:`sklearn.utils.Tags` API that replaced ``_validate_data`` and
``_more_tags``.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.fixes import _object_dtype_isnan
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_feature_names, _check_sample_weight

__all__ = [
    "Interval",
    "Options",
    "StrOptions",
    "_check_feature_names",
    "_check_optimize_result",
    "_check_partial_fit_first_call",
    "_check_sample_weight",
    "_fit_context",
    "_object_dtype_isnan",
    "validate_params",
]
