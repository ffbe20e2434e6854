"""Second order and inference: Hessian against finite differences, statistics against
statsmodels (MNLogit, Logit), frequency weights against repeated rows."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import make_problem, penalised_objective
from numpy.testing import assert_allclose
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sk_softmax import SeparationWarning, SoftmaxNNClassifier
from sk_softmax._hessian import SoftmaxHessian
from sk_softmax._network import ParamLayout
from sk_softmax._objective import L2Penalty

EXACT = dict(alpha=0.0, solver="trust-ncg", tol=1e-8, max_iter=200)


def fd_jacobian(fun, theta, step=1e-5):
    """Central-difference Jacobian of a vector function."""
    columns = []
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        columns.append((fun(theta + e) - fun(theta - e)) / (2 * step))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("reference", [None, 1])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_hessian_matches_finite_differences_of_gradient(reference, fit_intercept, sparse):
    """Hessian-vector products and the full Hessian equal differences of the gradient."""
    X, y = make_problem(n_samples=40, n_features=4, n_classes=3, seed=3)
    data = sp.csr_matrix(X) if sparse else X
    sample_weight = np.random.default_rng(4).uniform(0.5, 2, len(y))
    layout = ParamLayout([4, 3], reference, fit_intercept)
    theta = np.random.default_rng(5).uniform(-1, 1, layout.n_params)
    l2 = 0.3 / sample_weight.sum()
    with penalised_objective(data, y, sample_weight, layout, "identity", l2) as objective:
        expected = fd_jacobian(lambda t: objective(t)[1], theta)
    hessian = SoftmaxHessian(theta, data, y, sample_weight / sample_weight.sum(), layout)
    penalty = L2Penalty(layout, l2)
    H = penalty.add_to_matrix(hessian.matrix())
    assert_allclose(H, H.T, rtol=1e-12, atol=1e-15)
    assert_allclose(H, expected, rtol=1e-6, atol=1e-9)
    v = np.random.default_rng(6).standard_normal(layout.n_params)
    assert_allclose(penalty.add_to_product(v, hessian.product(v)), H @ v, rtol=1e-10,
                    atol=1e-13)


def test_trust_ncg_reaches_the_lbfgs_optimum_tighter(iris):
    """solver='trust-ncg' minimises the same J, to a much smaller gradient, in few steps."""
    X, y = iris
    lbfgs = SoftmaxNNClassifier(alpha=1.0, tol=1e-10).fit(X, y)
    newton = SoftmaxNNClassifier(alpha=1.0, solver="trust-ncg", tol=1e-10).fit(X, y)
    assert newton.converged_ and newton.n_iter_ < lbfgs.n_iter_ / 3
    assert newton.loss_ <= lbfgs.loss_ + 1e-15
    assert_allclose(newton.coef_, lbfgs.coef_, rtol=1e-6, atol=1e-8)


def test_trust_ncg_with_hidden_layers_is_refused():
    """trust-ncg needs the exact Hessian, which exists for softmax regression only."""
    X, y = make_problem()
    with pytest.raises(ValueError, match="hidden_layer_sizes=\\(\\) only"):
        SoftmaxNNClassifier(hidden_layer_sizes=(3,), solver="trust-ncg").fit(X, y)


def test_trust_ncg_convergence_warning():
    """trust-ncg stopped by max_iter warns like L-BFGS does."""
    X, y = make_problem()
    with pytest.warns(ConvergenceWarning, match="trust-ncg failed to converge"):
        SoftmaxNNClassifier(solver="trust-ncg", max_iter=1, tol=1e-14).fit(X, y)


def standardised(loader, columns=None):
    X, y = loader(return_X_y=True)
    X = X if columns is None else X[:, columns]
    return StandardScaler().fit_transform(X), y


# Two non-separable multinomial problems: wine's first four columns, and labels drawn
# from a softmax model (Gumbel noise) on three Gaussian features.
DATASETS = {
    "wine_4": lambda: standardised(load_wine, [0, 1, 2, 3]),
    "noisy_softmax": lambda: make_problem(n_samples=400, n_features=3, n_classes=3, seed=21),
}


def statsmodels_fit(X, y, cov_type):
    sm = pytest.importorskip("statsmodels.api")
    exog = sm.add_constant(X, prepend=True)
    model = sm.MNLogit(y, exog)
    return model.fit(method="newton", tol=1e-12, maxiter=200, disp=False,
                     cov_type=cov_type)


def assert_rel(actual, desired, rtol=3e-8):
    """Element by element to ``rtol`` relative (no absolute slack: a p-value of 1e-20
    is compared to 1e-20 * rtol)."""
    assert_allclose(actual, desired, rtol=rtol, atol=0)


#: p = 2 sf(|z|) multiplies a relative error of z by about z**2 (up to 30 here).
P_RTOL = 3e-7


@pytest.mark.parametrize("data", sorted(DATASETS))
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("reference", [0, 2])
def test_agrees_with_statsmodels_mnlogit(data, cov_type, reference):
    """Coefficients, standard errors, z and intervals equal MNLogit's to 3e-8 relative
    element by element (p-values to 3e-7; measured: 3e-9 and 5e-8), llf and the fit
    statistics to 1e-8.

    statsmodels always takes the first class as base: another reference class is
    compared by relabelling y so that it comes first.
    """
    X, y = DATASETS[data]()
    order = [reference] + [k for k in range(3) if k != reference]
    y_sm = np.argsort(order)[y]  # the reference class becomes 0
    res = statsmodels_fit(X, y_sm, cov_type)
    clf = SoftmaxNNClassifier(reference_class=reference, **EXACT).fit(X, y)
    result = clf.inference(X, y, cov_type=cov_type)
    # statsmodels: params (1 + d, K - 1) for classes order[1:], constant first.
    rows = order[1:]
    assert np.all(np.isnan(result.std_err_coef[reference]))
    assert np.isnan(result.std_err_intercept[reference])
    for ours, theirs in [
        (np.c_[result.intercept[rows], result.coef[rows]], res.params.T),
        (np.c_[result.std_err_intercept[rows], result.std_err_coef[rows]], res.bse.T),
        (np.c_[result.z_intercept[rows], result.z_coef[rows]], res.tvalues.T),
    ]:
        assert_rel(ours, theirs)
    assert_rel(np.c_[result.p_intercept[rows], result.p_coef[rows]], res.pvalues.T,
               rtol=P_RTOL)
    (c_low, c_high), (i_low, i_high) = result.conf_int(0.95)
    conf = np.asarray(res.conf_int())  # (K - 1, 1 + d, 2)
    for r, k in enumerate(rows):  # bounds near 0: absolute, on the scale of the bounds
        for ours, theirs in [(np.r_[i_low[k], c_low[k]], conf[r, :, 0]),
                             (np.r_[i_high[k], c_high[k]], conf[r, :, 1])]:
            assert_allclose(ours, theirs, rtol=3e-8, atol=3e-8 * np.abs(conf).max())
    assert result.llf == pytest.approx(res.llf, rel=1e-8)
    assert result.llnull == pytest.approx(res.llnull, rel=1e-8)
    assert result.pseudo_r2 == pytest.approx(res.prsquared, rel=1e-6)
    assert result.aic == pytest.approx(res.aic, rel=1e-8)
    assert result.bic == pytest.approx(res.bic, rel=1e-8)
    assert result.n_obs == len(y)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_binary_agrees_with_statsmodels_logit(breast_cancer, cov_type):
    """K=2 with the first class as reference: statsmodels Logit's table."""
    sm = pytest.importorskip("statsmodels.api")
    X, y = breast_cancer
    X = X[:, :5]  # a non-separable subset
    res = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=False,
                                               cov_type=cov_type)
    clf = SoftmaxNNClassifier(reference_class=0, **EXACT).fit(X, y)
    result = clf.inference(X, y, cov_type=cov_type)
    assert result.coef.shape == result.std_err_coef.shape == (1, 5)
    # tol=1e-8 on the gradient: estimates to 1e-8 relative (measured), p to 1e-7.
    assert_rel(np.r_[result.intercept, result.coef[0]], res.params, rtol=1e-7)
    assert_rel(np.r_[result.std_err_intercept, result.std_err_coef[0]], res.bse, rtol=1e-7)
    assert_rel(np.r_[result.p_intercept, result.p_coef[0]], res.pvalues, rtol=1e-6)
    assert result.llf == pytest.approx(res.llf, rel=1e-8)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_integer_weights_equal_repeated_rows(cov_type):
    """Sample weights are frequency weights: integer weights give the standard errors
    (and every statistic) of the data with rows repeated."""
    X, y = make_problem(n_samples=60, n_features=3, n_classes=3, seed=7)
    counts = np.random.default_rng(8).integers(1, 4, len(y))
    weighted = SoftmaxNNClassifier(reference_class=0, **EXACT).fit(X, y, counts)
    Xr, yr = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    repeated = SoftmaxNNClassifier(reference_class=0, **EXACT).fit(Xr, yr)
    a = weighted.inference(X, y, sample_weight=counts, cov_type=cov_type)
    b = repeated.inference(Xr, yr, cov_type=cov_type)
    assert_rel(a.std_err_coef[1:], b.std_err_coef[1:], rtol=1e-7)
    assert_rel(a.std_err_intercept[1:], b.std_err_intercept[1:], rtol=1e-7)
    assert a.llf == pytest.approx(b.llf, rel=1e-10) and a.n_obs == b.n_obs == counts.sum()


def test_penalised_symmetric_model_warns_and_centres(iris):
    """alpha > 0: a warning that the covariance is the penalised one; symmetric
    intercepts get the (pseudo-inverse) covariance of the centred intercepts."""
    X, y = iris
    clf = SoftmaxNNClassifier(alpha=1.0, tol=1e-10).fit(X, y)
    with pytest.warns(UserWarning, match="penalised"):
        result = clf.inference(X, y)
    # Centred intercepts sum to zero, so their covariance rows sum to zero.
    n_coef = X.shape[1] * 3
    assert_allclose(result.cov[n_coef:, n_coef:].sum(axis=0), 0, atol=1e-10)
    # The covariance is the pseudo-inverse of S times the penalised Hessian, here
    # from finite differences of the gradient (not SoftmaxHessian): the flat
    # direction (all intercepts shifted together) is left out.
    layout, S = clf._layout, len(y)
    theta = layout.pack(clf.coefs_, clf.intercepts_)
    with penalised_objective(X, y, np.ones(S), layout, "identity", 1.0 / S) as objective:
        hessian = fd_jacobian(lambda t: objective(t)[1], theta)
    hessian = (hessian + hessian.T) / 2
    expected = np.linalg.pinv(S * hessian, rcond=1e-7, hermitian=True)
    assert_allclose(result.cov, expected, rtol=1e-5, atol=1e-7 * np.abs(expected).max())
    # coef_[k, f] is theta[f * K + k]; intercept_[k] is theta[n_coef + k].
    variance = np.diag(expected)
    assert_allclose(result.std_err_coef, np.sqrt(variance[:n_coef]).reshape(-1, 3).T,
                    rtol=1e-5)
    assert_allclose(result.std_err_intercept, np.sqrt(variance[n_coef:]), rtol=1e-5)
    assert_allclose(result.z_coef, clf.coef_ / result.std_err_coef, rtol=1e-12)
    # k counts the free parameters: the K centred intercepts are K - 1 of them.
    k = n_coef + 3 - 1
    assert result.aic == pytest.approx(-2 * result.llf + 2 * k, rel=1e-12)
    assert result.bic == pytest.approx(-2 * result.llf + k * np.log(S), rel=1e-12)


def test_inference_refusals(iris):
    """Unidentifiable, hidden-layer and unknown settings raise a clear ValueError."""
    X, y = iris
    symmetric = SoftmaxNNClassifier(alpha=0.0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        symmetric.fit(X, y)
    with pytest.raises(ValueError, match="set reference_class|Set reference_class"):
        symmetric.inference(X, y)
    network = SoftmaxNNClassifier(hidden_layer_sizes=(3,), random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="hidden layers"):
        network.inference(X, y)
    model = SoftmaxNNClassifier(reference_class=0, alpha=0.0, **{"max_iter": 500}).fit(
        X[:, :2], y)
    with pytest.raises(ValueError, match="cov_type"):
        model.inference(X[:, :2], y, cov_type="HC3")
    with pytest.raises(ValueError, match="labels not seen"):
        model.inference(X[:, :2], np.where(y == 2, 5, y))


def test_summary_and_frame(iris):
    """summary() is a table per class naming the features; to_frame() mirrors it."""
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X[:, :2], columns=["sepal length", "sepal width"])
    # Setosa is separated by the sepal measurements: with versicolor as the
    # reference, setosa's statistics are NaN and virginica's are estimated.
    clf = SoftmaxNNClassifier(reference_class=1, **EXACT).fit(df, y)
    with pytest.warns(SeparationWarning, match=r"grow without bound: class 0: "):
        result = clf.inference(df, y)
    text = result.summary()
    assert "class = 0" in text and "class = 2" in text and "sepal width" in text
    assert "reference" in text and "pseudo R2" in text and "Separation" in text
    assert np.all(np.isfinite(result.std_err_coef[2]))
    frame = result.to_frame()
    assert frame.shape == (9, 6)
    assert frame.loc[(2, "sepal width"), "std err"] == pytest.approx(
        result.std_err_coef[2, 1])


def test_binary_summary_and_frame(breast_cancer):
    """A binary model's table has one class (class 1 against the reference class 0),
    in summary() and to_frame() alike, with the estimates of coef_ and intercept_."""
    pytest.importorskip("pandas")
    X, y = breast_cancer
    X = X[:, :3]
    clf = SoftmaxNNClassifier(reference_class=0, **EXACT).fit(X, y)
    result = clf.inference(X, y)
    assert list(result.classes) == [1]
    text = result.summary()
    assert "class = 1" in text and "class = 0" not in text
    assert text.count("intercept") == 1 and all(f"x{j} " in text for j in range(3))
    frame = result.to_frame()
    assert frame.shape == (4, 6)
    assert list(frame.index) == [(1, "intercept"), (1, "x0"), (1, "x1"), (1, "x2")]
    assert_allclose(frame["coef"], np.r_[clf.intercept_, clf.coef_[0]], rtol=1e-15)
    assert_allclose(frame["std err"], np.r_[result.std_err_intercept,
                                            result.std_err_coef[0]], rtol=1e-15)
    # Reference-class model: k = d + 1 free parameters, no centring.
    assert result.aic == pytest.approx(-2 * result.llf + 2 * 4, rel=1e-12)


def test_readme_inference_table():
    """The README's printed inference table is what its example prints."""
    pytest.importorskip("pandas")
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    code = readme.split("result = model.inference(X, y)")[0].rsplit("```python\n", 1)[1]
    printed = readme.split("returns the same table as a\nDataFrame):\n\n```\n", 1)[1]
    printed = printed.split("\n```", 1)[0]
    namespace = {}
    exec(code, namespace)  # the README's own lines: load wine, standardise, fit
    result = namespace["model"].inference(namespace["X"], namespace["y"])
    assert result.summary() == printed
