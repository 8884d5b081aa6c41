"""The single gateway to scikit-learn's private helpers.

skrnn builds on helpers that scikit-learn keeps in private modules (parameter
constraints, ``_fit_context``, feature-name bookkeeping, ...). Every such
import lives here, so that when scikit-learn moves or renames one of them only
this module has to change. The few public helpers the estimators use all the
time are re-exported as well, so estimator modules have one place to import
scikit-learn plumbing from.

scikit-learn 1.6 is the oldest supported version: it is the first one with
:func:`sklearn.utils.validation.validate_data` and the
:class:`sklearn.utils.Tags` API that replaced ``_validate_data`` and
``_more_tags``.
"""

from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.utils import (
    ClassifierTags,
    InputTags,
    RegressorTags,
    Tags,
    TargetTags,
    check_random_state,
    gen_batches,
)
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    Options,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.fixes import _object_dtype_isnan
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    _num_samples,
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

__all__ = [
    "ClassifierTags",
    "ConvergenceWarning",
    "HasMethods",
    "Hidden",
    "InputTags",
    "Interval",
    "Options",
    "RealNotInt",
    "RegressorTags",
    "StrOptions",
    "Tags",
    "TargetTags",
    "UndefinedMetricWarning",
    "_check_feature_names",
    "_check_n_features",
    "_check_optimize_result",
    "_check_partial_fit_first_call",
    "_check_sample_weight",
    "_fit_context",
    "_num_samples",
    "_object_dtype_isnan",
    "available_if",
    "check_array",
    "check_classification_targets",
    "check_is_fitted",
    "check_random_state",
    "column_or_1d",
    "gen_batches",
    "type_of_target",
    "unique_labels",
    "validate_data",
    "validate_params",
]
