"""scikit-learn's common estimator checks on several configurations."""

import traceback
import warnings

import numpy as np
from numpy.testing import assert_allclose
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_classifiers_train,
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
    # that some probabilities underflow; see _underflow_case.
    SoftmaxNNClassifier(hidden_layer_sizes=(8,), activation="relu", random_state=0),
    # As scikit-learn tests MLPClassifier, an iteration budget of 100, with a penalty
    # that makes the optimum well determined: with alpha=1e-4 the 15-row problem of
    # the sample-weight checks is so flat that rounding alone (weights vs repeated
    # rows) sends two fits 2e-4 apart in probability, with or without a
    # preconditioner (tol=0, 100 iterations: 2.3e-4 before it, 6.5e-4 after).
    SoftmaxNNClassifier(
        hidden_layer_sizes=(5, 4), activation="logistic", alpha=1.0, max_iter=100,
        random_state=0,
    ),
]


def _underflow_case(estimator, check):
    """check_classifiers_train on the (8,) relu network with the default alpha: the
    blobs of the check are separated so far that some probabilities underflow to 0."""
    name = getattr(check, "func", check).__name__
    return (name == "check_classifiers_train" and estimator.hidden_layer_sizes == (8,)
            and estimator.alpha == 1e-4)


def _assert_fails_only_at_log_of_proba(run):
    """``run()`` passes, or fails exactly at check_classifiers_train's comparison of
    predict_log_proba with log(predict_proba): predict_log_proba is log_softmax of the
    logits, finite where predict_proba underflows to 0 and log(predict_proba) = -inf.
    (Whether a probability underflows depends on where the fit stops.)"""
    try:
        run()
    except AssertionError as error:
        assert "inf location mismatch" in str(error)
        frames = traceback.extract_tb(error.__traceback__)
        assert any("assert_allclose(y_log_prob, np.log(y_prob)" in (frame.line or "")
                   for frame in frames)


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    """Every scikit-learn common check passes, but for one possible, exact failure."""
    with warnings.catch_warnings():  # the checks' tiny data sets rarely converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        if _underflow_case(estimator, check):
            _assert_fails_only_at_log_of_proba(lambda: check(estimator))  # or passes
        else:
            check(estimator)


class _LogOfProba(SoftmaxNNClassifier):
    """predict_log_proba as log(predict_proba): -inf where P underflows."""

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def test_classifiers_train_passes_beyond_the_log_of_proba():
    """Where check_classifiers_train fails by design (above), the rest of the check
    passes: with log(predict_proba) as predict_log_proba, the whole check passes; and
    predict_log_proba itself is finite where predict_proba is 0."""
    params = dict(hidden_layer_sizes=(8,), activation="relu", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_classifiers_train("SoftmaxNNClassifier", _LogOfProba(**params))
    X, y = make_blobs(n_samples=300, random_state=0)
    clf = SoftmaxNNClassifier(**params).fit(StandardScaler().fit_transform(X), y)
    far = np.array([[1e3, -1e3], [-1e3, 1e3]])  # logits hundreds apart
    proba, log_proba = clf.predict_proba(far), clf.predict_log_proba(far)
    assert np.any(proba == 0) and np.all(np.isfinite(log_proba))
    finite = proba > 0
    assert_allclose(log_proba[finite], np.log(proba[finite]), rtol=1e-10, atol=1e-12)


def test_param_validation():
    """Invalid hyper-parameters raise InvalidParameterError naming the parameter."""
    check_param_validation("SoftmaxNNClassifier", SoftmaxNNClassifier())
