"""Bad input raises a clear error before any work; extreme input stays finite."""

import warnings

import numpy as np
import pytest
from conftest import make_problem
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sk_softmax import SoftmaxNNClassifier

X, y = make_problem(n_samples=30, n_features=3)


def with_value(value, row=0, col=0):
    bad = X.copy()
    bad[row, col] = value
    return bad


@pytest.mark.parametrize(
    "params, X_fit, y_fit, fit_kwargs, error, match",
    [
        ({}, with_value(np.nan), y, {}, ValueError, "Input X contains NaN"),
        ({}, with_value(np.inf), y, {}, ValueError, "Input X contains infinity"),
        ({}, X, np.zeros(30), {}, ValueError, "only one class"),
        ({}, X, np.linspace(0, 1, 30), {}, ValueError, "Unknown label type"),
        ({}, X, np.c_[y, y], {}, ValueError, "y should be a 1d array"),
        ({}, X, y[:-1], {}, ValueError, "inconsistent numbers of samples"),
        ({}, X[:0], y[:0], {}, ValueError, "0 sample"),
        ({}, X, y, {"sample_weight": -np.ones(30)}, ValueError, "Negative values"),
        ({}, X, y, {"sample_weight": np.r_[np.nan, np.ones(29)]}, ValueError, "NaN"),
        ({}, X, y, {"sample_weight": np.zeros(30)}, ValueError, "non-zero|sum to zero"),
        ({"class_weight": {0: 0, 1: 0, 2: 0}}, X, y, {}, ValueError, "sum to zero"),
        ({}, X, y, {"sample_weight": np.ones(29)}, ValueError, "sample_weight.shape"),
        ({"alpha": -1.0}, X, y, {}, ValueError, "'alpha' parameter"),
        ({"hidden_layer_sizes": (3, 0)}, X, y, {}, ValueError, "integers >= 1"),
        ({"hidden_layer_sizes": (2.5,)}, X, y, {}, ValueError, "integers >= 1"),
        ({"hidden_layer_sizes": 0}, X, y, {}, ValueError, "'hidden_layer_sizes'"),
        ({"activation": "softplus"}, X, y, {}, ValueError, "'activation' parameter"),
        ({"reference_class": 7}, X, y, {}, ValueError, "reference_class=7 is not one"),
        ({"class_weight": "auto"}, X, y, {}, ValueError, "'class_weight' parameter"),
        ({"class_weight": {9: 1.0}}, X, y, {}, ValueError, "not in class_weight"),
        ({}, np.array([["a", "b", "c"]] * 30), y, {}, ValueError, "convert"),
    ],
)
def test_bad_fit_input(params, X_fit, y_fit, fit_kwargs, error, match):
    """Each bad input to fit raises the right error naming the problem."""
    clf = SoftmaxNNClassifier(**params)
    with pytest.raises(error, match=match):
        clf.fit(X_fit, y_fit, **fit_kwargs)
    assert not hasattr(clf, "coefs_")


def test_predict_before_fit_and_wrong_n_features():
    """predict* before fit raise NotFittedError; a wrong n_features raises ValueError."""
    clf = SoftmaxNNClassifier()
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        with pytest.raises(NotFittedError):
            getattr(clf, method)(X)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="expecting 3 features"):
        clf.predict(X[:, :2])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict_proba(with_value(np.nan))


@pytest.mark.parametrize(
    "hidden, activation",
    [((), "tanh")] + [(h, a) for h in [(4,), (4, 3)]
                      for a in ["identity", "logistic", "tanh", "relu"]],
)
def test_huge_features_stay_finite(hidden, activation):
    """Features of magnitude 1e150: finite probabilities summing to one, no RuntimeWarning."""
    X_huge = X * 1e150
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, activation=activation,
                                  alpha=0, random_state=0).fit(X_huge, y)
        proba = clf.predict_proba(X_huge)
        log_proba = clf.predict_log_proba(X_huge)
    assert {w.category for w in record} <= {ConvergenceWarning}
    assert np.all(np.isfinite(proba)) and np.all(np.isfinite(log_proba))
    assert_allclose(proba.sum(axis=1), 1)
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_ + clf.intercepts_)


@pytest.mark.parametrize("hidden", [(), (4,)])
def test_separable_data_without_penalty(hidden):
    """Perfectly separable data with alpha=0: finite, confident, correct probabilities."""
    rng = np.random.default_rng(0)
    X_sep = np.r_[rng.normal(5, 1, (20, 2)), rng.normal(-5, 1, (20, 2))]
    y_sep = np.r_[np.zeros(20), np.ones(20)]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, alpha=0, random_state=0)
        proba = clf.fit(X_sep, y_sep).predict_proba(X_sep)
    assert {w.category for w in record} <= {ConvergenceWarning}
    assert np.all(np.isfinite(proba)) and clf.score(X_sep, y_sep) == 1.0
    assert_allclose(proba.sum(axis=1), 1)
