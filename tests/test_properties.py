"""Property-based tests (hypothesis) on small random problems."""

import warnings

import numpy as np
import pytest
from conftest import penalised_objective
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sk_softmax import SoftmaxNNClassifier
from sk_softmax._network import ParamLayout, forward
from sk_softmax._objective import loss_gradient

# derandomize: the same examples on every run, so that CI cannot flake.
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw):
    """A random problem: n x d Gaussian X of random scale, K >= 2 present classes."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_classes = draw(st.integers(2, 4))
    # At least 4 rows a class (tiny problems are a separate concern: test_validation).
    n_samples = draw(st.integers(4 * n_classes, 40))
    n_features = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) * scale
    y = np.r_[np.arange(n_classes), rng.integers(0, n_classes, n_samples - n_classes)]
    hidden = draw(st.sampled_from([(), (3,), (2, 3)]))
    activation = draw(st.sampled_from(["identity", "logistic", "tanh", "relu"]))
    reference = draw(st.sampled_from([None, 0]))
    alpha = draw(st.sampled_from([0.0, 1e-2, 1.0]))
    return X, y, hidden, activation, reference, alpha, seed


@SETTINGS
@given(problems())
def test_probabilities_are_the_fitted_models(problem):
    """Any fit gives the softmax of its own logits (finite, rows summing to one),
    predict is their argmax, loss_ is J at the fitted weights and no more than J at
    the start, and the only warning a fit may give is a ConvergenceWarning."""
    X, y, hidden, activation, reference, alpha, seed = problem
    clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, activation=activation,
                              reference_class=reference, alpha=alpha, max_iter=50,
                              random_state=seed % 1000)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        proba = clf.fit(X, y).predict_proba(X)
    assert {w.category for w in record} <= {ConvergenceWarning}
    assert np.all(np.isfinite(proba))
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    logits = forward(X, clf.coefs_, clf.intercepts_, activation)[-1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert_allclose(proba, expected, rtol=1e-12, atol=1e-300)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])
    layout = clf._layout
    loss, _ = loss_gradient(layout.pack(clf.coefs_, clf.intercepts_), X, y, np.ones(len(y)),
                            layout, activation, alpha / len(y))
    assert clf.loss_ == pytest.approx(loss, rel=1e-9, abs=1e-12)
    curve = np.array(clf.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-12 * np.maximum(1, np.abs(curve[:-1])))
    if hidden == ():  # started from zero weights: J(0) = log K
        assert clf.loss_ <= np.log(len(clf.classes_)) + 1e-12


@SETTINGS
@given(problems())
def test_gradient_matches_finite_differences(problem):
    """At a random point the analytic gradient equals central differences."""
    X, y, hidden, activation, reference, alpha, seed = problem
    X = X / np.abs(X).max()  # keep the finite-difference step meaningful
    layout = ParamLayout([X.shape[1], *hidden, y.max() + 1], reference, True)
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-1, 1, layout.n_params)
    step = 1e-6
    with penalised_objective(X, y, rng.uniform(0.5, 2, len(y)), layout, activation,
                             alpha / len(y)) as objective:
        _, gradient = objective(theta)
        expected = np.array([
            (objective(theta + step * e)[0] - objective(theta - step * e)[0]) / (2 * step)
            for e in np.eye(layout.n_params)
        ])
    # Central differences: error O(step^2) plus rounding O(eps / step); a relu kink
    # inside the stencil is the only other source of error.
    assert_allclose(gradient, expected, rtol=1e-5, atol=1e-7)


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_row_permutation_does_not_change_predictions(problem, random):
    """Permuting the rows of X (and y) leaves the fitted model's predictions unchanged.

    Except where a relu network stopped at a kink without converging (J no longer
    decreasing, the gradient above tol): there the order of the sums' rounding
    decides where the stop is (measured: 1.5e-5 apart in probability)."""
    X, y, hidden, activation, reference, alpha, seed = problem
    X = X / np.abs(X).max()
    order = list(range(len(y)))
    random.shuffle(order)
    params = dict(hidden_layer_sizes=hidden, activation=activation, alpha=max(alpha, 0.1),
                  reference_class=reference, random_state=seed % 1000, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)
        a = SoftmaxNNClassifier(**params).fit(X, y)
        b = SoftmaxNNClassifier(**params).fit(X[order], y[order])
    stalled = a.n_iter_ < 30 and not (a.converged_ and b.converged_)
    if hidden and activation == "relu" and stalled:
        return
    assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-6, atol=1e-8)
    assert_array_equal(b.predict(X), a.predict(X))


@given(problems())
@SETTINGS
def test_examples_are_not_tiny(problem):
    """The strategy's examples have at least 4 rows a class (most have many more)."""
    X, y = problem[:2]
    assert len(y) >= 4 * (y.max() + 1)
