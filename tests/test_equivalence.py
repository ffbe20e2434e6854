"""Same objective, same minimiser: LogisticRegression and MLPClassifier."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sk_softmax import SoftmaxNNClassifier
from sk_softmax._network import ParamLayout
from sk_softmax._objective import loss_gradient

TIGHT = dict(tol=1e-8, max_iter=10_000)


def fit_both(X, y, alpha, C, **params):
    ours = SoftmaxNNClassifier(alpha=alpha, **TIGHT, **params).fit(X, y)
    peer = LogisticRegression(C=C, **TIGHT).fit(X, y)
    return ours, peer


def assert_same_model(ours, peer, X):
    scale = np.abs(peer.coef_).max()
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-4, atol=1e-4 * scale)
    assert_allclose(ours.intercept_, peer.intercept_, rtol=1e-4, atol=1e-4 * scale)
    # Probabilities lie in [0, 1]: compare them to 1e-5 absolute.
    assert_allclose(ours.predict_proba(X), peer.predict_proba(X), rtol=0, atol=1e-5)
    assert_allclose(ours.decision_function(X), peer.decision_function(X), rtol=1e-4,
                    atol=1e-4 * scale)


@pytest.mark.parametrize("data", ["iris", "wine"])
@pytest.mark.parametrize("alpha", [1e-2, 1.0])
def test_multinomial_equals_logistic_regression(data, alpha, request):
    """Softmax regression with alpha equals multinomial LogisticRegression(C=1/alpha)."""
    X, y = request.getfixturevalue(data)
    ours, peer = fit_both(X, y, alpha, 1 / alpha)
    assert_same_model(ours, peer, X)
    # Symmetric mode: output intercepts centred to sum to zero. A fit from zeros stays
    # centred by itself (the gradient of the intercepts sums to zero), so the
    # centring is checked from a shifted start: a warm start whose intercepts are all
    # moved by the same amount (J unchanged) must still end centred.
    assert abs(ours.intercepts_[-1].sum()) < 1e-12
    shifted = SoftmaxNNClassifier(alpha=alpha, warm_start=True, **TIGHT).fit(X, y)
    shifted.intercepts_ = [shifted.intercepts_[0] + 5.0]
    shifted.fit(X, y)
    assert abs(shifted.intercepts_[-1].sum()) < 1e-12
    assert_allclose(shifted.intercepts_[-1], ours.intercepts_[-1], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("alpha", [1e-2, 1.0])
def test_binary_reference_class_equals_logistic_regression(breast_cancer, alpha):
    """K=2 with reference_class=classes_[0] is exactly LogisticRegression(C=1/alpha)."""
    X, y = breast_cancer
    ours, peer = fit_both(X, y, alpha, 1 / alpha, reference_class=0)
    assert_same_model(ours, peer, X)
    assert np.all(ours.coefs_[0][:, 0] == 0) and ours.intercepts_[0][0] == 0


@pytest.mark.parametrize("alpha", [1e-2, 1.0])
def test_binary_symmetric_equals_logistic_regression_2_over_alpha(breast_cancer, alpha):
    """The symmetric binary model equals LogisticRegression(C=2/alpha), w_1 = -w_0."""
    X, y = breast_cancer
    ours, peer = fit_both(X, y, alpha, 2 / alpha)
    assert_same_model(ours, peer, X)
    # At tol=1e-8 (in the whitened coordinates of these nearly collinear columns) the
    # two columns agree to 1e-6 of the largest weight.
    scale = np.abs(ours.coefs_[0]).max()
    assert_allclose(ours.coefs_[0][:, 1], -ours.coefs_[0][:, 0], rtol=0, atol=1e-6 * scale)


def test_reference_class_does_not_change_unpenalised_model(iris):
    """With alpha=0 (non-separable data) every parameterisation gives the same P."""
    X, y = iris
    X = X[:, :2]  # sepal measurements only: the classes overlap
    probas = [
        SoftmaxNNClassifier(alpha=0, reference_class=r, **TIGHT).fit(X, y).predict_proba(X)
        for r in (None, 0, 2)
    ]
    assert_allclose(probas[1], probas[0], rtol=1e-5, atol=1e-8)
    assert_allclose(probas[2], probas[0], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("data", ["iris", "wine"])
@pytest.mark.parametrize("hidden", [(), (6,)])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_objective_equals_mlp_loss_at_same_weights(data, hidden, request):
    """At MLPClassifier's fitted weights, our J equals MLPClassifier's loss_."""
    X, y = request.getfixturevalue(data)
    alpha = 0.1
    mlp = MLPClassifier(hidden_layer_sizes=hidden, solver="lbfgs", alpha=alpha,
                        max_iter=50, random_state=0).fit(X, y)
    layout = ParamLayout([X.shape[1], *hidden, 3], None, True)
    theta = layout.pack(mlp.coefs_, mlp.intercepts_)
    n = len(y)
    loss, _ = loss_gradient(theta, X, y, np.ones(n), layout, "relu", alpha / n)
    assert loss == pytest.approx(mlp.loss_, rel=1e-10)


def test_same_minimiser_as_mlp(wine):
    """Without hidden layers, MLPClassifier(alpha) and ours reach the same optimum.

    MLPClassifier keeps SciPy's default ftol and stops early, so its optimum is
    only accurate to about 1e-4; ours must be at least as low.
    """
    X, y = wine
    mlp = MLPClassifier(hidden_layer_sizes=(), solver="lbfgs", alpha=1.0,
                        tol=1e-12, max_iter=10_000, random_state=0).fit(X, y)
    ours = SoftmaxNNClassifier(alpha=1.0, **TIGHT).fit(X, y)
    assert ours.loss_ <= mlp.loss_ + 1e-12
    assert_allclose(ours.predict_proba(X), mlp.predict_proba(X), rtol=0, atol=1e-3)


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu"])
def test_same_initialisation_and_first_step_as_mlp(iris, activation):
    """Glorot init drawn as MLPClassifier draws it: one L-BFGS step lands on the same weights."""
    X, y = iris
    params = dict(hidden_layer_sizes=(5, 4), activation=activation, alpha=0.1,
                  random_state=3, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        mlp = MLPClassifier(solver="lbfgs", **params).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        ours = SoftmaxNNClassifier(**params).fit(X, y)
    for theirs, mine in zip(mlp.coefs_ + mlp.intercepts_[:-1], ours.coefs_ + ours.intercepts_[:-1]):
        assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
    # Our symmetric output intercepts are centred; MLP's are not.
    centred = mlp.intercepts_[-1] - mlp.intercepts_[-1].mean()
    assert_allclose(ours.intercepts_[-1], centred, rtol=1e-12, atol=1e-14)
    assert ours.loss_ == pytest.approx(mlp.loss_, rel=1e-12)
