"""Preconditioning (docs/math.md, "Preconditioning"): the map ``theta = T phi``, the
column moments it is built from, and fits on raw columns (money, years, counts side by
side) that reach the optimum as fits on standardised columns do."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import penalised_objective, raw_columns
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.preprocessing import StandardScaler

from sk_softmax import SoftmaxNNClassifier
from sk_softmax._network import ParamLayout
from sk_softmax._precondition import (
    PreconditionedObjective,
    label_moments,
    preconditioner,
    scaled_covariance,
)


def reference_moments(X, codes, weight, class_weights):
    """Weighted means and standard deviations, two-pass, in float64 (the test's own)."""
    s = weight * class_weights[codes]
    dense = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    mean = s @ dense / s.sum()
    return mean, np.sqrt(s @ (dense - mean) ** 2 / s.sum())


# ------------------------------------------------------------------------- moments
@pytest.mark.parametrize("container", ["dense", "float32", "csr", "csc", "coo"])
@pytest.mark.parametrize("block_values", [2**16, 40])
def test_label_moments_equal_two_pass_sums(container, block_values, monkeypatch):
    """Per-label moments pooled with class weights: the weighted means and standard
    deviations of all rows, in one pass of row blocks (here also 40 values a block),
    whatever the container; labels without rows take no part."""
    import sk_softmax._precondition as module

    monkeypatch.setattr(module, "MOMENT_BLOCK_VALUES", block_values)
    X, _ = raw_columns(200)
    X[np.random.default_rng(1).random(X.shape) < 0.4] = 0
    codes = np.random.default_rng(2).integers(0, 3, len(X))
    weight = np.random.default_rng(3).uniform(0, 2, len(X))
    class_weights = np.array([1.0, 3.0, 0.5, 7.0])  # label 3: no rows
    data = {"dense": X, "float32": X.astype(np.float32), "csr": sp.csr_matrix(X),
            "csc": sp.csc_matrix(X), "coo": sp.coo_matrix(X)}[container]
    total, mean, std = label_moments(data, codes, weight, 4).pooled(class_weights)
    expected_mean, expected_std = reference_moments(data, codes, weight, class_weights)
    assert total == pytest.approx((weight * class_weights[codes]).sum(), rel=1e-13)
    assert_allclose(mean, expected_mean, rtol=1e-12, atol=1e-300)
    assert_allclose(std, expected_std, rtol=1e-11)


@pytest.mark.parametrize("factor", [1e300, 1e-300, 1e-310])
def test_moments_of_extreme_columns_neither_overflow_nor_underflow(factor):
    """Columns of 1e300s, 1e-300s or subnormals: their standard deviations are the
    factor times those of the columns (kept in power-of-two units, never squared)."""
    X, _ = raw_columns(100)
    Z = StandardScaler().fit_transform(X)
    codes, weight = np.zeros(len(X), dtype=np.intp), np.ones(len(X))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        _, mean, std = label_moments(Z * factor, codes, weight, 1).pooled(np.ones(1))
    assert_allclose(std / factor, 1.0, rtol=1e-10 if factor > 1e-308 else 1e-3)


def test_scaled_covariance_is_the_correlation():
    X, _ = raw_columns(300)
    weight = np.random.default_rng(0).uniform(0.5, 2, len(X))
    mean, std = reference_moments(X, np.zeros(len(X), dtype=np.intp), weight, np.ones(1))
    correlation = scaled_covariance(X, weight, mean, std) / weight.sum()
    expected = np.cov(X.T, aweights=weight, ddof=0)
    assert_allclose(correlation, expected / np.outer(std, std), rtol=1e-9, atol=1e-12)
    assert_allclose(np.diag(correlation), 1, rtol=1e-12)


# ------------------------------------------------------------- the map theta = T phi
LAYOUTS = {
    "softmax": ([6, 3], None, True),
    "reference": ([6, 3], 1, True),
    "no intercept": ([6, 3], None, False),
    "network": ([6, 4, 3], None, True),
}


def _preconditioned(name, full, alpha=0.1):
    X, y = raw_columns(120)
    layout = ParamLayout(*LAYOUTS[name])
    weight = np.ones(len(y))
    _, mean, std = label_moments(X, np.zeros(len(y), dtype=np.intp), weight, 1).pooled(
        np.ones(1))
    covariance = (lambda centre, scale: scaled_covariance(X, weight / len(y), centre, scale)
                  ) if full else None
    pre = preconditioner(layout, mean, std, alpha / len(y), covariance)
    activation = "tanh" if len(layout.shapes) > 1 else "identity"
    objective = penalised_objective(X, y, weight, layout, activation, alpha / len(y))
    return X, y, layout, pre, objective


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_gradient_in_phi_is_the_derivative_of_J_of_T_phi(name, full):
    """``J(phi) = J(T phi)`` and its gradient ``T^T grad J`` equal central differences
    in phi, on raw columns (in phi their scales are alike: one step size fits all);
    ``T^-1 T`` is the identity."""
    if full and name == "network":
        pytest.skip("whitening is for trust-ncg, without hidden layers")
    _, _, layout, pre, objective = _preconditioned(name, full)
    phi = np.random.default_rng(4).uniform(-0.5, 0.5, layout.n_params)
    assert_allclose(pre.to_phi(pre.to_theta(phi)), phi, rtol=1e-9, atol=1e-9)
    step = 1e-6
    with PreconditionedObjective(objective, pre) as wrapped:
        loss, gradient = wrapped(phi)
        assert loss == objective(pre.to_theta(phi))[0]
        expected = np.array([(wrapped(phi + step * e)[0] - wrapped(phi - step * e)[0])
                             / (2 * step) for e in np.eye(layout.n_params)])
    assert_allclose(gradient, expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("full", [False, True])
def test_hessian_products_in_phi_are_T_transpose_H_T(full):
    """trust-ncg's products in phi equal central differences of the phi-gradient."""
    from sk_softmax._hessian import HessianProduct
    from sk_softmax._objective import L2Penalty, Objective, PenalisedObjective

    X, y, layout, pre, _ = _preconditioned("reference", full)
    weight = np.full(len(y), 1 / len(y))
    objective = PenalisedObjective(Objective(X, y, weight, layout, "identity"),
                                   L2Penalty(layout, 0.1 / len(y)),
                                   HessianProduct(X, y, weight, layout))
    rng = np.random.default_rng(5)
    phi, vector = rng.uniform(-0.5, 0.5, (2, layout.n_params))
    step = 1e-5
    with PreconditionedObjective(objective, pre) as wrapped:
        product = wrapped.hessp(phi, vector)
        expected = (wrapped(phi + step * vector)[1] - wrapped(phi - step * vector)[1]) / (
            2 * step)
    assert_allclose(product, expected, rtol=1e-6, atol=1e-9)


def test_standardised_columns_are_searched_as_given():
    """On standardised columns (mean 0 and scale 1 to rounding) T is the identity:
    M is exactly 1 (powers of two) and mu exactly 0 (20 bits below the scale), so the
    fit is the unpreconditioned one, bit for bit (same iterations, same weights)."""
    import sk_softmax._classifier as classifier_module
    from sk_softmax._precondition import Preconditioner

    X, y = raw_columns(300)
    X = StandardScaler().fit_transform(X)
    layout = ParamLayout([6, 3], None, True)
    _, mean, std = label_moments(X, y, np.ones(len(y)), 3).pooled(np.ones(3))
    pre = preconditioner(layout, mean, std, 1e-4 / len(y))
    assert np.all(pre.scale == 1) and np.all(pre.mean == 0)
    preconditioned = SoftmaxNNClassifier(tol=1e-8).fit(X, y)

    def identity(self, data, layout, l2_reg_strength):
        return Preconditioner(layout, np.zeros(data.n_features), np.ones(data.n_features))

    original = classifier_module.SoftmaxNNClassifier._preconditioner
    try:
        classifier_module.SoftmaxNNClassifier._preconditioner = identity
        plain = SoftmaxNNClassifier(tol=1e-8).fit(X, y)
    finally:
        classifier_module.SoftmaxNNClassifier._preconditioner = original
    assert preconditioned.n_iter_ == plain.n_iter_
    assert_array_equal(preconditioned.coef_, plain.coef_)


# ------------------------------------------------------------------ raw-data fits
def _optimum(X, y, **params):
    """J at the optimum: trust-ncg (Newton-polished) to a gradient of 1e-10."""
    exact = SoftmaxNNClassifier(solver="trust-ncg", tol=1e-10, max_iter=500, **params)
    return exact.fit(X, y).loss_


@pytest.mark.parametrize("data", ["breast cancer", "wine", "raw columns"])
@pytest.mark.parametrize("alpha", [1e-4, 1.0])
def test_fit_on_raw_columns_reaches_the_optimum(data, alpha):
    """As a user calls it on raw columns: with tol=1e-8, converged within the default
    max_iter, no warning, and J (a mean log-loss) within 1e-8 of the optimum (measured
    before the preconditioner on breast cancer with alpha=1: 1000 iterations, a
    ConvergenceWarning and J 5e-2 above the optimum); with the default tol, converged
    and no warning."""
    X, y = {"breast cancer": lambda: load_breast_cancer(return_X_y=True),
            "wine": lambda: load_wine(return_X_y=True), "raw columns": raw_columns}[data]()
    optimum = _optimum(X, y, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = SoftmaxNNClassifier(alpha=alpha).fit(X, y)
        tight = SoftmaxNNClassifier(alpha=alpha, tol=1e-8).fit(X, y)
    assert default.converged_ and tight.converged_
    assert tight.loss_ - optimum <= 1e-8
    assert default.loss_ >= tight.loss_ - 1e-12


@pytest.mark.parametrize("solver", ["lbfgs", "trust-ncg"])
def test_column_scales_and_offsets_do_not_change_the_fit(solver):
    """Columns multiplied by powers of two: the same fit, iteration for iteration (M
    absorbs the factors exactly), its coefficients divided by them. Any factors and
    offsets (years, money): the same optimum, in about as many iterations."""
    X, y = raw_columns(400)
    X = StandardScaler().fit_transform(X)
    factors = 2.0 ** np.array([-20, -3, 0, 5, 12, 30])
    params = dict(alpha=0.0, reference_class=0, solver=solver, tol=1e-8)
    base = SoftmaxNNClassifier(**params).fit(X, y)
    scaled = SoftmaxNNClassifier(**params).fit(X * factors, y)
    assert scaled.n_iter_ == base.n_iter_
    assert_allclose(scaled.coef_ * factors, base.coef_, rtol=1e-12, atol=1e-14)
    any_scale = X * 10.0 ** np.array([-3, -1, 0, 2, 3, 5]) + [0, 1e4, 7, -3e3, 0, 1e6]
    other = SoftmaxNNClassifier(**params).fit(any_scale, y)
    assert other.loss_ == pytest.approx(base.loss_, rel=1e-12)
    assert abs(other.n_iter_ - base.n_iter_) <= 3
    # Two stops at tol=1e-8: L-BFGS leaves the probabilities 1e-6 apart, Newton 1e-8.
    atol = 1e-5 if solver == "lbfgs" else 1e-7
    assert_allclose(other.predict_proba(any_scale), base.predict_proba(X), atol=atol)


def test_same_minimiser_as_logistic_regression_on_raw_columns():
    """Raw breast cancer: our fits and LogisticRegression's Newton-Cholesky (which is
    scale-invariant, run to 1e-10) share the optimum: the same J from our default solver
    at tol=1e-8, the same coefficients from trust-ncg at tol=1e-10."""
    from sk_softmax._objective import loss_gradient

    X, y = load_breast_cancer(return_X_y=True)
    peer = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10,
                              max_iter=1000).fit(X, y)
    layout = ParamLayout([X.shape[1], 2], 0, True)
    theta = layout.pack([np.c_[np.zeros(X.shape[1]), peer.coef_[0]]],
                        [np.r_[0.0, peer.intercept_]])
    peer_loss, _ = loss_gradient(theta, X, y, np.ones(len(y)), layout, "identity",
                                 1.0 / len(y))
    ours = SoftmaxNNClassifier(alpha=1.0, reference_class=0, tol=1e-8).fit(X, y)
    assert ours.loss_ == pytest.approx(peer_loss, rel=1e-12)
    newton = SoftmaxNNClassifier(alpha=1.0, reference_class=0, solver="trust-ncg",
                                 tol=1e-10).fit(X, y)
    assert_allclose(newton.coef_, peer.coef_, rtol=1e-7, atol=1e-9 * np.abs(peer.coef_).max())
    assert_allclose(newton.predict_proba(X), peer.predict_proba(X), atol=1e-10)


def test_network_on_raw_wine_learns():
    """A (32,) network on raw wine: 5-fold accuracy 0.56 before the preconditioner (its
    first layer saturated by proline's scale); the first layer now sees the inputs
    centred and scaled, as after a StandardScaler."""
    X, y = load_wine(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(
            SoftmaxNNClassifier(hidden_layer_sizes=(32,), random_state=0), X, y, cv=5)
    assert scores.mean() >= 0.9


def test_warm_start_continues_from_the_previous_solution_on_raw_columns():
    """A warm start maps the previous theta to phi: a refit at the optimum stops at
    once with the same weights."""
    X, y = raw_columns(300)
    model = SoftmaxNNClassifier(alpha=1e-2, tol=1e-8, warm_start=True).fit(X, y)
    coef = model.coef_.copy()
    model.fit(X, y)
    assert model.n_iter_ <= 1
    assert_allclose(model.coef_, coef, rtol=1e-9, atol=1e-15)
