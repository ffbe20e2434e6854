"""scikit-learn's common estimator checks on several configurations."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from sk_softmax import SoftmaxNNClassifier

ESTIMATORS = [
    SoftmaxNNClassifier(),
    # A tight tol on a well-conditioned objective, so that the sample-weight
    # equivalence checks compare two optima rather than two early stops.
    SoftmaxNNClassifier(alpha=1e-2, tol=1e-8),
    SoftmaxNNClassifier(
        hidden_layer_sizes=(8,), activation="relu", alpha=1.0, tol=1e-6, random_state=0
    ),
    # The default alpha: the blobs of check_classifiers_train are separated so far
    # that some probabilities underflow; see expected_failed_checks.
    SoftmaxNNClassifier(hidden_layer_sizes=(8,), activation="relu", random_state=0),
    # As scikit-learn tests MLPClassifier: the same iteration budget on both sides,
    # so that two fits of a non-convex objective follow the same path.
    SoftmaxNNClassifier(
        hidden_layer_sizes=(5, 4), activation="logistic", max_iter=100, random_state=0
    ),
]

LOG_PROBA_REASON = (
    "predict_log_proba is log_softmax of the logits, finite where predict_proba "
    "underflows to 0; the check compares it with log(predict_proba) = -inf there."
)


def expected_failed_checks(estimator):
    """Checks that fail by design, with the reason."""
    if estimator.hidden_layer_sizes == (8,) and estimator.alpha == 1e-4:
        return {"check_classifiers_train": LOG_PROBA_REASON}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    """Every scikit-learn common check passes."""
    with warnings.catch_warnings():  # the checks' tiny data sets rarely converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_param_validation():
    """Invalid hyper-parameters raise InvalidParameterError naming the parameter."""
    check_param_validation("SoftmaxNNClassifier", SoftmaxNNClassifier())
