"""Nothing silently wrong: statistics that cannot be trusted say so, bad weights are
refused before any work, a failed fit leaves the model whole, concurrent fits restore
the BLAS threads, written coefficients never go silently lost."""

import threading
import warnings

import numpy as np
import pytest
from conftest import make_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sk_softmax import SeparationWarning, SoftmaxNNClassifier
from sk_softmax._inference import check_positive_definite
from sk_softmax._objective import loss_gradient

EXACT = dict(alpha=0.0, solver="trust-ncg", tol=1e-8, max_iter=500)


def exact_fit(X, y, reference):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxNNClassifier(reference_class=reference, **EXACT).fit(X, y)


# ------------------------------------------------------------------ statistics
@pytest.mark.parametrize("make_bad, named", [
    (lambda X: np.c_[X, np.full(len(X), 3.0)], r"\['x4', 'intercept'\]"),
    (lambda X: np.c_[X, X[:, 1]], r"\['x1', 'x4'\]"),
    (lambda X: np.c_[X, 2 * X[:, 0] - X[:, 3]], r"\['x0', 'x3', 'x4'\]"),
    (lambda X: np.c_[X, np.zeros(len(X))], r"\['x4'\]"),
])
def test_non_identified_design_is_refused(make_bad, named):
    """A constant column with the intercept, a duplicated, collinear or zero column:
    a ValueError naming the columns, not 'std err 0.0000, z inf' or 'Singular matrix'."""
    X, y = make_problem(n_samples=200, n_features=4, n_classes=3, seed=4)
    bad = make_bad(X)
    model = exact_fit(bad, y, 0)
    with pytest.raises(ValueError, match="not identified.*" + named):
        model.inference(bad, y)


def test_information_not_positive_definite_is_refused():
    with pytest.raises(ValueError, match="not positive definite"):
        check_positive_definite(np.array([[1.0, 1.0], [1.0, 1.0 - 1e-17]]))


@pytest.mark.parametrize("loader, columns, reference, affected", [
    (load_iris, None, 0, [1, 2]),  # setosa separated from both others
    (load_iris, None, 2, [0]),     # only setosa's coefficients diverge
    (load_wine, None, 0, [1, 2]),  # all 13 columns separate the three cultivars
    (load_breast_cancer, None, 0, [1]),
])
def test_separation_warns_and_marks_nan(loader, columns, reference, affected):
    """Separated data: a SeparationWarning, NaN statistics for the affected classes
    (not standard errors of 6e4 to 1e9), finite ones for the others."""
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = exact_fit(X, y, reference)
    with pytest.warns(SeparationWarning, match="separated"):
        result = model.inference(X, y)
    assert_array_equal(result.separated, affected)
    rows = result.std_err_coef
    for row, label in enumerate(result.classes):
        if label in affected:
            assert np.all(np.isnan(rows[row])) and np.all(np.isnan(result.p_coef[row]))
        elif label != reference:
            assert np.all(np.isfinite(rows[row])) and np.all(rows[row] > 0)
    assert "Separation" in result.summary()


@pytest.mark.parametrize("loader, columns", [(load_wine, 4), (load_breast_cancer, 5)])
def test_no_separation_no_warning(loader, columns):
    """Overlapping classes (even with some confidently predicted rows): no warning,
    every standard error finite and positive."""
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :columns]
    model = exact_fit(X, y, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = model.inference(X, y)
    assert result.separated.size == 0 and np.isfinite(result.pseudo_r2)
    free = ~np.isnan(result.std_err_coef[1:])
    assert free.all() and np.all(result.std_err_coef[1:] > 0)


def test_complete_separation_has_no_pseudo_r2():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(4, 1, (30, 2)), rng.normal(-4, 1, (30, 2))]
    y = np.r_[np.zeros(30), np.ones(30)]
    model = exact_fit(X, y, 0.0)
    with pytest.warns(SeparationWarning):
        result = model.inference(X, y)
    assert np.isnan(result.pseudo_r2) and np.all(np.isnan(result.std_err_coef))


# ------------------------------------------------------------ weights and labels
X, y = make_problem(n_samples=60, n_features=3, n_classes=3, seed=2)


@pytest.mark.parametrize("params, kwargs, match", [
    ({"class_weight": {0: -1, 1: 2, 2: 1}}, {}, "finite and non-negative.*-1.0"),
    ({"class_weight": {0: np.inf, 1: 2, 2: 1}}, {}, "finite and non-negative.*inf"),
    ({"class_weight": {0: np.nan, 1: 2, 2: 1}}, {}, "finite and non-negative.*nan"),
    ({}, {"sample_weight": np.full(60, 1e307)}, "sum to infinity"),
    ({}, {"sample_weight": np.r_[np.inf, np.ones(59)]}, "infinity"),
])
def test_bad_weights_refused(params, kwargs, match):
    """Negative, infinite and NaN class weights and overflowing sample weights are
    clear ValueErrors before any work (no model with loss -3.8e22 or all zeros)."""
    clf = SoftmaxNNClassifier(**params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, **kwargs)
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("hidden, activation, max_iter", [
    ((), "tanh", 1), ((), "tanh", 3), ((6,), "relu", 2), ((6,), "relu", 7),
])
def test_loss_is_J_of_the_returned_parameters_after_abnormal_stop(hidden, activation,
                                                                  max_iter):
    """After a stopped solver, loss_ is J at coefs_/intercepts_, recomputed."""
    X_big = X * 50
    clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, activation=activation,
                              max_iter=max_iter, random_state=0, alpha=1e-3)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_big, y)
    layout = clf._layout
    theta = layout.pack(clf.coefs_, clf.intercepts_)
    J, _ = loss_gradient(theta, X_big, y, np.ones(60), layout, activation, 1e-3 / 60)
    assert clf.loss_ == pytest.approx(J, rel=1e-12)


def test_error_messages_stay_short():
    """A huge label or thousands of labels never become a huge message."""
    huge = "z" * 1_000_000
    labels = np.array(["a", "b", huge])[y]
    with pytest.raises(ValueError) as error:
        SoftmaxNNClassifier().fit(X, labels, classes=["a", "b"])
    assert len(str(error.value)) < 300
    many = np.arange(60) % 30 + 0.0  # 30 classes, 28 not in classes
    with pytest.raises(ValueError) as error:
        SoftmaxNNClassifier().fit(X, many, classes=[0.0, 1.0])
    assert len(str(error.value)) < 300 and "28 in all" in str(error.value)
    with pytest.raises(ValueError) as error:
        SoftmaxNNClassifier(reference_class=huge).fit(X, y)
    assert len(str(error.value)) < 300


# --------------------------------------------------------- state and concurrency
def test_refused_refit_leaves_the_model_whole():
    """A refit refused on new data (one class, another number of features) leaves
    the estimator exactly as it was: it still predicts as before."""
    clf = SoftmaxNNClassifier(hidden_layer_sizes=(4,), random_state=0).fit(X, y)
    before = {k: v for k, v in vars(clf).items()}
    proba = clf.predict_proba(X)
    X_other = np.c_[X, X]
    for bad_X, bad_y in [(X_other, np.zeros(60)), (X_other[:, :0], y),
                         (X_other, np.r_[y[:-1], np.nan])]:
        with pytest.raises(ValueError):
            clf.fit(bad_X, bad_y)
        assert vars(clf).keys() == before.keys()
        assert all(vars(clf)[k] is v for k, v in before.items())
        assert_array_equal(clf.predict_proba(X), proba)


def _blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_overlapping_fits_restore_blas_threads():
    """Fits overlapping in several threads leave BLAS with the threads it had."""
    before = _blas_threads()
    X_large, y_large = make_problem(n_samples=3000, n_features=20, n_classes=4, seed=1)
    barrier = threading.Barrier(3)
    errors = []

    def fit(seed):
        try:
            for _ in range(3):
                barrier.wait(timeout=60)
                SoftmaxNNClassifier(hidden_layer_sizes=(5,), random_state=seed,
                                    max_iter=15 + seed).fit(X_large, y_large)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        threads = [threading.Thread(target=fit, args=(seed,)) for seed in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors
    assert _blas_threads() == before


@pytest.mark.parametrize("n_classes", [2, 3])
def test_coef_and_intercept_writes_raise(n_classes):
    """Writing into coef_ or intercept_ raises, never silently lost or half-applied."""
    X_c, y_c = make_problem(n_samples=60, n_classes=n_classes)
    clf = SoftmaxNNClassifier().fit(X_c, y_c)
    decision = clf.decision_function(X_c)
    for attribute in ("coef_", "intercept_"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(clf, attribute)[:] = 0
        with pytest.raises(AttributeError):
            setattr(clf, attribute, np.zeros_like(getattr(clf, attribute)))
    assert_allclose(clf.decision_function(X_c), decision)


@pytest.mark.parametrize("subset", ["rows of one class", "weight on one class"])
def test_inference_needs_two_weighted_classes(subset):
    """Statistics on rows where a single class carries weight: a ValueError before
    any work (the intercept-only log-likelihood is 0: no pseudo R2, no tests), not a
    ZeroDivisionError."""
    X3, y3 = make_problem(n_samples=90, n_features=2, n_classes=3, seed=3)
    model = exact_fit(X3, y3, 0)
    args = ((X3[y3 == 1], y3[y3 == 1]) if subset == "rows of one class"
            else (X3, y3, np.where(y3 == 1, 1.0, 0.0)))
    with pytest.raises(ValueError) as excinfo:
        model.inference(*args)
    assert str(excinfo.value) == (
        "inference() needs rows of at least two classes with positive weight; these have "
        "[1] only (no likelihood to compare with the intercept-only model).")


def test_overflowing_newton_products_are_the_non_finite_error():
    """trust-ncg whose Hessian products overflow: the package's one-line 'non-finite'
    ValueError (not SciPy's 'array must not contain infs or NaNs')."""
    from sk_softmax._solver import NON_FINITE, minimize_objective

    def fun(theta):
        return 0.5 * float(theta @ theta), theta.copy()

    with pytest.raises(ValueError) as excinfo, np.errstate(all="ignore"):
        minimize_objective(fun, np.ones(3), solver="trust-ncg",
                           hessp=lambda theta, vector: vector * np.inf, max_iter=5,
                           max_fun=5, tol=1e-8, verbose=0)
    assert str(excinfo.value) == NON_FINITE


@pytest.mark.parametrize("solver", ["lbfgs", "trust-ncg"])
@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_extreme_column_scales_fit_as_the_data_scaled_back(solver, factor):
    """X * 1e300 or X * 1e-300 (whose products once overflowed, and whose penalty-free
    J was 0 * inf): the preconditioned fit is the fit of X, with the coefficients
    divided by the factor (alpha=0, so the optimum scales exactly)."""
    params = dict(alpha=0.0, reference_class=0, solver=solver, tol=1e-8)
    model = SoftmaxNNClassifier(**params).fit(X, y)
    scaled = SoftmaxNNClassifier(**params).fit(X * factor, y)
    assert scaled.converged_
    assert scaled.loss_ == pytest.approx(model.loss_, rel=1e-9)
    assert_allclose(scaled.coef_ * factor, model.coef_, rtol=1e-4, atol=1e-6)
    assert_allclose(scaled.predict_proba(X * factor), model.predict_proba(X), atol=1e-6)


def test_other_solver_errors_pass_through():
    """Only non-finite products become the 'non-finite' error: any other ValueError
    from inside the solver reaches the caller as it was."""
    from sk_softmax._solver import minimize_objective

    def fun(theta):
        raise ValueError("boom")

    for solver in ("lbfgs", "trust-ncg"):
        with pytest.raises(ValueError, match="^boom$"):
            minimize_objective(fun, np.zeros(2), solver=solver,
                               hessp=(lambda t, v: v) if solver == "trust-ncg" else None,
                               max_iter=5, max_fun=5, tol=1e-8,
                               verbose=0)
