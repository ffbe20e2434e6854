"""Statistics on the inference result: marginal effects, odds ratios, Wald and
likelihood-ratio tests and probability intervals, against statsmodels (MNLogit, Logit),
repeated rows and a parametric bootstrap."""

import warnings

import numpy as np
import pytest
from conftest import make_problem
from numpy.testing import assert_allclose
from scipy.special import expit, logsumexp
from sklearn.datasets import load_iris

from sk_softmax import InferenceResult, SeparationWarning, SoftmaxNNClassifier

sm = pytest.importorskip("statsmodels.api")
from statsmodels.discrete.discrete_model import MNLogit  # noqa: E402

EXACT = dict(alpha=0.0, solver="trust-ncg", tol=1e-10, max_iter=200)
# The binary iris fit has large coefficients: tol=1e-10 takes it to 3e-15 relative.
BINARY = {**EXACT, "tol": 1e-10}
METHODS = ["dydx", "eyex", "dyex", "eydx"]
ANES_COLUMNS = ["logpopul", "selfLR", "age", "educ", "income"]


def mnlogit_derivative_exog(self, params, exog=None, transform="dydx", dummy_idx=None,
                            count_idx=None):
    """statsmodels 0.15's ``MNLogit._derivative_exog`` with its ``ex`` line fixed.

    It multiplies effects of shape (n, K, J) by ``exog`` of shape (n, K), which raises
    a broadcast error for "eyex" and "dyex"; ``exog[:, :, None]`` is what it means.
    Everything else (and the complex-step Jacobian around it) is statsmodels' code.
    """
    J, K = int(self.J), int(self.K)
    exog = self.exog if exog is None else exog
    if params.ndim == 1:
        params = params.reshape(K, J - 1, order="F")
    zeroparams = np.c_[np.zeros(K), params]
    cdf = self.cdf(np.dot(exog, params))
    iterm = np.array([cdf[:, [i]] * zeroparams[:, i] for i in range(J)]).sum(0)
    margeff = np.array([cdf[:, [j]] * (zeroparams[:, j] - iterm) for j in range(J)])
    margeff = np.transpose(margeff, (1, 2, 0))
    if "ex" in transform:
        margeff *= exog[:, :, None]
    if "ey" in transform:
        margeff /= self.predict(params, exog)[:, None, :]
    margeff = self._derivative_exog_helper(margeff, params, exog, dummy_idx, count_idx,
                                           transform)
    return margeff.reshape(len(exog), -1, order="F")


@pytest.fixture
def patched_mnlogit(monkeypatch):
    monkeypatch.setattr(MNLogit, "_derivative_exog", mnlogit_derivative_exog)


def anes96(extra_dummy=False):
    data = sm.datasets.anes96.load_pandas().data
    X = data[ANES_COLUMNS].copy()
    if extra_dummy:
        X["over50"] = (data["age"] > 50).astype(float)
    return X, data["PID"].astype(int).to_numpy()


def iris_sepal_length():
    """Iris on sepal length alone: with more columns setosa is separated."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X[["sepal length (cm)"]], y.to_numpy()


def fits(X, y, cov_type="nonrobust", **kwargs):
    """Our result (reference = first class) and statsmodels' MNLogit fit."""
    result = SoftmaxNNClassifier(reference_class=0, **EXACT, **kwargs).fit(X, y).inference(
        X, y, cov_type=cov_type)
    res = sm.MNLogit(y, sm.add_constant(np.asarray(X, dtype=float))).fit(
        method="newton", tol=1e-12, maxiter=100, disp=False, cov_type=cov_type)
    return result, res


@pytest.fixture(scope="module")
def anes_fits():
    X, y = anes96()
    return {cov_type: fits(X, y, cov_type) for cov_type in ("nonrobust", "HC0")}


def assert_margins_equal(ours, theirs, rtol=1e-7):
    """Effects, std err, z, p, intervals: ours (rows, features), statsmodels' the
    transpose (for MNLogit) or 1-d (Logit). Measured: about 1e-12 relative."""
    shape = ours.effects.shape
    scale = np.abs(theirs.margeff).max()
    for mine, sm_value in [(ours.effects, theirs.margeff), (ours.std_err, theirs.margeff_se),
                           (ours.z, theirs.tvalues)]:
        assert_allclose(mine, np.reshape(np.transpose(sm_value), shape), rtol=rtol,
                        atol=rtol * np.abs(sm_value).max())
    assert_allclose(ours.p, np.reshape(np.transpose(theirs.pvalues), shape), rtol=1e-6,
                    atol=1e-300)
    low, high = ours.conf_int(0.9)
    conf = np.asarray(theirs.conf_int(0.1))  # (features, 2[, classes])
    assert_allclose(low, np.reshape(np.transpose(conf[:, 0]), shape), rtol=rtol,
                    atol=rtol * scale)
    assert_allclose(high, np.reshape(np.transpose(conf[:, 1]), shape), rtol=rtol,
                    atol=rtol * scale)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("at", ["overall", "mean"])
@pytest.mark.parametrize("method", METHODS)
def test_marginal_effects_agree_with_mnlogit_on_anes96(anes_fits, patched_mnlogit,
                                                       cov_type, at, method):
    """anes96, PID (7 classes) on five columns (no separation): every method at the
    overall average and at the means equals MNLogit.get_margeff."""
    result, res = anes_fits[cov_type]
    ours = result.marginal_effects(at=at, method=method)
    assert ours.effects.shape == (7, 5) and ours.cov.shape == (35, 35)
    assert_margins_equal(ours, res.get_margeff(at=at, method=method))


@pytest.mark.parametrize("at", ["overall", "mean"])
@pytest.mark.parametrize("method", METHODS)
def test_marginal_effects_agree_with_mnlogit_on_iris(patched_mnlogit, at, method):
    X, y = iris_sepal_length()
    result, res = fits(X, y)
    assert_margins_equal(result.marginal_effects(at, method),
                         res.get_margeff(at=at, method=method))


@pytest.mark.parametrize("at", ["overall", "mean"])
@pytest.mark.parametrize("method", ["dydx", "eydx"])
def test_dummy_effects_agree_with_mnlogit(at, method):
    """dummy=True: the 0/1 column's effect is the change from 0 to 1 (statsmodels')."""
    X, y = anes96(extra_dummy=True)
    result, res = fits(X, y)
    ours = result.marginal_effects(at, method, dummy=True)
    assert_margins_equal(ours, res.get_margeff(at=at, method=method, dummy=True),
                         rtol=1e-6)  # the effects are differences: 1e-9 measured
    with pytest.raises(ValueError, match="not defined for 0/1 features"):
        result.marginal_effects(method="eyex", dummy=True)


@pytest.fixture(scope="module")
def binary():
    """Iris versicolor against virginica, all four features (not separated)."""
    X, y = load_iris(return_X_y=True)
    keep = y > 0
    return X[keep], y[keep]


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("at", ["overall", "mean"])
@pytest.mark.parametrize("method", METHODS)
def test_binary_marginal_effects_agree_with_logit(binary, cov_type, at, method):
    """Two classes: one row, the effect on P(class 1), equal to Logit.get_margeff."""
    X, y = binary
    result = SoftmaxNNClassifier(reference_class=1, **BINARY).fit(X, y).inference(
        X, y, cov_type=cov_type)
    res = sm.Logit((y == 2).astype(float), sm.add_constant(X)).fit(
        method="newton", tol=1e-12, disp=False, cov_type=cov_type)
    ours = result.marginal_effects(at, method)
    assert ours.effects.shape == (1, 4)
    assert_margins_equal(ours, res.get_margeff(at=at, method=method))


def test_marginal_effects_table(anes_fits):
    result, _ = anes_fits["nonrobust"]
    ours = result.marginal_effects(method="eyex")
    frame = ours.to_frame(0.9)
    assert list(frame.columns) == ["d(lny)/d(lnx)", "std err", "z", "P>|z|", "[90%", "90%]"]
    assert frame.shape == (35, 6) and frame.index.names == ["class", "term"]
    assert_allclose(frame["std err"].to_numpy(), ours.std_err.ravel())
    text = str(ours)
    assert text.startswith("Marginal effects (d(lny)/d(lnx)), at = overall")
    assert text.count("class = ") == 7 and "selfLR" in text
    # Effects on the probabilities sum to zero over the classes.
    assert_allclose(result.marginal_effects().effects.sum(axis=0), 0, atol=1e-15)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("at", ["overall", "mean"])
def test_weighted_margins_equal_repeated_rows(cov_type, at):
    """Frequency weights: integer weights give the effects and standard errors of the
    data with the rows repeated."""
    X, y = make_problem(n_samples=60, n_features=3, n_classes=3, seed=7)
    counts = np.random.default_rng(8).integers(1, 4, len(y))
    model = SoftmaxNNClassifier(reference_class=0, **EXACT)
    weighted = model.fit(X, y, counts).inference(X, y, counts, cov_type)
    Xr, yr = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    repeated = model.fit(Xr, yr).inference(Xr, yr, cov_type=cov_type)
    for method in METHODS:
        a, b = weighted.marginal_effects(at, method), repeated.marginal_effects(at, method)
        assert_allclose(a.effects, b.effects, rtol=1e-7, atol=1e-12)
        assert_allclose(a.std_err, b.std_err, rtol=1e-7)


def test_separated_classes_have_nan_statistics():
    """Iris on all features: setosa separates classes 1 and 2 from the reference;
    the margins' statistics are NaN for every class (the reference's effects depend on
    the diverging coefficients too), their intervals NaN, the tests' statistic too."""
    X, y = load_iris(return_X_y=True)
    model = SoftmaxNNClassifier(reference_class=0, **EXACT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (SeparationWarning, UserWarning))
        result = model.fit(X, y).inference(X, y)
    margins = result.marginal_effects()
    assert np.all(np.isfinite(margins.effects))
    assert np.all(np.isnan(margins.std_err)) and np.all(np.isnan(margins.p))
    _, low, high = result.predict_proba_interval(X[:3])
    assert np.all(np.isnan(low[:, 1:])) and np.all(np.isfinite(high[:, 0]))
    assert np.isnan(result.wald_test([0]).statistic)


def test_odds_ratios_agree_with_mnlogit(anes_fits):
    result, res = anes_fits["nonrobust"]
    ratios = result.odds_ratios()
    # statsmodels: params (1 + d, K - 1), constant first.
    # both fits stop ~1e-9 (relative) from the optimum; older SciPy's trust-ncg a bit later
    assert_allclose(ratios.odds_ratio[1:], np.exp(res.params[1:].T), rtol=5e-8)
    assert_allclose(ratios.odds_ratio[0], 1)
    low, high = ratios.conf_int()
    conf = np.exp(np.asarray(res.conf_int()))  # (K - 1, 1 + d, 2)
    assert_allclose(low[1:], conf[:, 1:, 0], rtol=1e-7)
    assert_allclose(high[1:], conf[:, 1:, 1], rtol=1e-7)
    assert_allclose(ratios.p, result.p_coef)
    assert_allclose(ratios.std_err, ratios.odds_ratio * result.std_err_coef)
    text = result.summary(odds_ratios=True)
    assert text.startswith(result.summary())
    assert "Odds ratios (relative to the reference class)" in text
    assert text.count("odds ratio") == 6  # one block per non-reference class
    assert list(ratios.to_frame().columns)[0] == "odds ratio"


def test_odds_ratios_need_a_reference_class(problem):
    X, y = problem
    with pytest.warns(UserWarning, match="penalised"):
        result = SoftmaxNNClassifier(alpha=1.0).fit(X, y).inference(X, y)
    with pytest.raises(ValueError, match="need a reference class"):
        result.odds_ratios()


def sm_restrictions(n_vars, n_free, columns):
    """statsmodels' R for MNLogit: params.ravel('F') (class-major, constant first)."""
    R = np.zeros((len(columns) * n_free, n_vars * n_free))
    for row, (j, a) in enumerate((j, a) for j in columns for a in range(n_free)):
        R[row, a * n_vars + 1 + j] = 1
    return R


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("features", [["age"], ["age", "income"], [0, 1, 2, 3, 4]])
def test_wald_test_agrees_with_statsmodels(anes_fits, cov_type, features):
    """Measured: 2e-12 relative on the statistic."""
    result, res = anes_fits[cov_type]
    test = result.wald_test(features)
    columns = [ANES_COLUMNS.index(f) if isinstance(f, str) else f for f in features]
    theirs = res.wald_test(sm_restrictions(6, 6, columns), scalar=True)
    assert test.df == theirs.df_denom == 6 * len(features)
    assert test.statistic == pytest.approx(float(theirs.statistic), rel=1e-8)
    # p ~ 1e-47 here: a relative difference of the statistic moves log(p), not p,
    # by the same order, so compare log(p)
    assert np.log(test.p_value) == pytest.approx(np.log(float(theirs.pvalue)), rel=1e-7)
    assert str(test).startswith("Wald test, coefficients of [")


def test_binary_wald_test_agrees_with_logit(binary):
    X, y = binary
    result = SoftmaxNNClassifier(reference_class=1, **BINARY).fit(X, y).inference(X, y)
    res = sm.Logit((y == 2).astype(float), sm.add_constant(X)).fit(
        method="newton", tol=1e-12, disp=False)
    theirs = res.wald_test(np.eye(5)[[1, 3]], scalar=True)
    test = result.wald_test([0, 2])
    assert test.df == 2 and test.statistic == pytest.approx(float(theirs.statistic),
                                                          rel=1e-8)


def test_wald_test_of_the_symmetric_model_uses_contrasts(problem):
    """reference_class=None: the hypothesis is that every class has the same
    coefficient (K - 1 contrasts per feature), not that K penalised weights are 0."""
    X, y = problem
    with pytest.warns(UserWarning, match="penalised"):
        result = SoftmaxNNClassifier(alpha=1.0).fit(X, y).inference(X, y)
    assert result.wald_test(["x0", "x3"]).df == 4
    with pytest.raises(ValueError, match="Unknown feature"):
        result.wald_test(["nope"])
    with pytest.raises(ValueError, match="twice"):
        result.wald_test(["x1", 1])


def exact_null(result):
    """statsmodels' llnull, its null model fitted by Newton to 1e-12 (its default,
    Nelder-Mead then BFGS, stops 7e-7 away from the closed form)."""
    result.set_null_options(method="newton", tol=1e-12, maxiter=100)
    return result


def test_likelihood_ratio_tests_agree_with_statsmodels(anes_fits):
    """Against the null model (statsmodels' llr) and a nested pair of MNLogit fits.
    The intercept-only model is a column of ones without an intercept."""
    X, y = anes96()
    full, res = anes_fits["nonrobust"]
    ones = np.ones((len(y), 1))
    null = SoftmaxNNClassifier(fit_intercept=False, reference_class=0, **EXACT).fit(
        ones, y).inference(ones, y)
    test = full.likelihood_ratio_test(null)
    res = exact_null(res)
    assert test.df == res.df_model == 30
    assert test.statistic == pytest.approx(res.llr, rel=1e-10)
    assert test.p_value == pytest.approx(res.llr_pvalue, rel=1e-8)
    small, res_small = fits(X[["selfLR", "educ"]], y)
    nested = full.likelihood_ratio_test(small)
    assert nested.df == res.df_model - res_small.df_model == 18
    assert nested.statistic == pytest.approx(2 * (res.llf - res_small.llf), rel=1e-10)
    with pytest.raises(ValueError, match="not fewer than the full"):
        small.likelihood_ratio_test(full)
    with pytest.raises(ValueError, match="different numbers of observations"):
        full.likelihood_ratio_test(fits(X[:-1][["selfLR"]], y[:-1])[0])


def test_binary_likelihood_ratio_test_agrees_with_logit(binary):
    X, y = binary
    full = SoftmaxNNClassifier(reference_class=1, **BINARY).fit(X, y).inference(X, y)
    ones = np.ones((len(y), 1))
    null = SoftmaxNNClassifier(fit_intercept=False, reference_class=1, **EXACT).fit(
        ones, y).inference(ones, y)
    res = exact_null(sm.Logit((y == 2).astype(float), sm.add_constant(X)).fit(
        method="newton", tol=1e-12, disp=False))
    test = full.likelihood_ratio_test(null)
    assert test.df == 4 and test.statistic == pytest.approx(res.llr, rel=1e-10)


def test_likelihood_ratio_test_refusals(problem):
    X, y = problem
    model = SoftmaxNNClassifier(reference_class=0, **EXACT)
    full = model.fit(X, y).inference(X, y)
    small = model.fit(X[:, :2], y).inference(X[:, :2], y)
    shuffled = np.roll(y, 1)
    other = model.fit(X[:, :2], shuffled).inference(X[:, :2], shuffled)
    with pytest.raises(ValueError, match="different labels or weights"):
        full.likelihood_ratio_test(other)
    with pytest.warns(UserWarning, match="penalised"):
        penalised = SoftmaxNNClassifier(alpha=1.0, reference_class=0).fit(
            X[:, :2], y).inference(X[:, :2], y)
    with pytest.raises(ValueError, match="maximum-likelihood fits"):
        full.likelihood_ratio_test(penalised)
    assert full.likelihood_ratio_test(small).df == 6


@pytest.fixture(scope="module")
def small_problem():
    """A small well-conditioned problem for the probability intervals."""
    X, y = make_problem(n_samples=300, n_features=2, n_classes=3, seed=11)
    model = SoftmaxNNClassifier(reference_class=0, **EXACT).fit(X, y)
    points = np.random.default_rng(12).standard_normal((8, 2))
    return model, model.inference(X, y), points


def log_odds(model, result, theta, points):
    coefs, intercepts = result._fit.layout.unpack(theta, np.float64)
    logits = points @ coefs[0] + intercepts[0]
    out = np.empty_like(logits)
    for k in range(logits.shape[1]):
        others = logits.copy()
        others[:, k] = -np.inf
        out[:, k] = logits[:, k] - logsumexp(others, axis=1)
    return out


def test_probability_intervals_are_the_delta_method_on_the_log_odds(small_problem):
    """The interval is expit(eta -+ q se), se from a finite-difference gradient of
    the log-odds eta; within [0, 1] and containing the estimate."""
    model, result, points = small_problem
    proba, low, high = result.predict_proba_interval(points, level=0.9)
    assert_allclose(proba, model.predict_proba(points), rtol=1e-12)
    assert np.all((0 <= low) & (low < proba) & (proba < high) & (high <= 1))
    theta = result._fit.theta
    step, grads = 1e-6, []
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        grads.append((log_odds(model, result, theta + e, points)
                      - log_odds(model, result, theta - e, points)) / (2 * step))
    grads = np.stack(grads, axis=-1)
    err = np.sqrt(np.einsum("ika,ab,ikb->ik", grads, result.cov, grads))
    eta = log_odds(model, result, theta, points)
    assert_allclose(low, expit(eta - 1.6448536269514722 * err), rtol=1e-6)
    assert_allclose(high, expit(eta + 1.6448536269514722 * err), rtol=1e-6)


def test_probability_intervals_match_a_parametric_bootstrap(small_problem):
    """4000 draws theta ~ N(theta_hat, cov), at 8 points and 3 classes (intervals 0.02
    to 0.2 wide). The delta-method bounds agree with the 2.5% and 97.5% quantiles of
    P_k to 0.015 in probability: with 1e5 draws the gap is at most 0.006 (the curvature
    the linearisation of the log-odds leaves out), and the quantiles of 4000 draws
    add a Monte Carlo error of about 0.002 (sd). Measured: 0.009 at this seed, at most
    0.0125 over 20 seeds. The share of the draws inside each interval is 0.95 to within
    0.02 (sd 0.0035; measured at most 0.0095 over 20 seeds)."""
    model, result, points = small_problem
    rng = np.random.default_rng(13)
    draws = rng.multivariate_normal(result._fit.theta, result.cov, size=4000)
    boot = np.stack([expit(log_odds(model, result, t, points)) for t in draws])
    _, low, high = result.predict_proba_interval(points)
    assert np.abs(np.quantile(boot, 0.025, axis=0) - low).max() < 0.015
    assert np.abs(np.quantile(boot, 0.975, axis=0) - high).max() < 0.015
    inside = ((low <= boot) & (boot <= high)).mean(axis=0)
    assert np.abs(inside - 0.95).max() < 0.02


def test_probability_intervals_check_the_data(anes_fits):
    result, _ = anes_fits["nonrobust"]
    X, _ = anes96()
    proba, low, high = result.predict_proba_interval(X.iloc[:5])
    assert proba.shape == low.shape == high.shape == (5, 7)
    with pytest.raises(ValueError, match="feature names"):
        result.predict_proba_interval(X.iloc[:5, ::-1])
    with pytest.raises(ValueError, match="X has 4 features"):
        result.predict_proba_interval(X.iloc[:5, :4].to_numpy())
    with pytest.raises(ValueError, match="level"):
        result.predict_proba_interval(X.iloc[:5], level=1.0)


def test_bare_result_has_no_fit(anes_fits):
    result, _ = anes_fits["nonrobust"]
    bare = InferenceResult((result.coef, result.intercept),
                           (result.std_err_coef, result.std_err_intercept), result.cov,
                           "nonrobust", result.llf, result.llnull, result.n_obs, 36,
                           result.classes, result.feature_names)
    with pytest.raises(ValueError, match="holds no fit"):
        bare.marginal_effects()


def perturbed(result, theta):
    """A copy of ``result`` whose fit has the parameters ``theta``."""
    from copy import copy

    from sk_softmax._statistics import FitData

    fit, other = result._fit, copy(result)
    other._fit = FitData(theta, fit.layout, fit.X, fit.y_true, fit.sample_weight,
                         fit.classes, fit.separated, fit.alpha, fit.n_params, fit.named)
    return other


@pytest.mark.parametrize("kind", ["symmetric", "no_intercept", "binary_symmetric"])
@pytest.mark.parametrize("method", METHODS)
def test_margins_covariance_is_the_delta_method(kind, method):
    """Beyond statsmodels' cases (symmetric penalised models, no intercept, 0/1
    features): the covariance is J cov J^T with J the central-difference Jacobian of
    the effects with respect to theta."""
    n_classes = 2 if kind == "binary_symmetric" else 3
    X, y = make_problem(n_samples=80, n_features=3, n_classes=n_classes, seed=5)
    X[:, 2] = X[:, 2] > 0  # a 0/1 column (treated as discrete by dummy=True)
    params = (dict(alpha=0.0, reference_class=1, fit_intercept=False)
              if kind == "no_intercept" else dict(alpha=0.5))
    model = SoftmaxNNClassifier(solver="trust-ncg", tol=1e-6, **params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the penalised covariance
        result = model.inference(X, y, np.linspace(0.5, 2, len(y)), "HC0")
    dummy = method in ("dydx", "eydx")
    for at in ("overall", "mean"):
        theta, step, columns = result._fit.theta, 1e-6, []
        for j in range(theta.size):
            e = np.zeros_like(theta)
            e[j] = step
            columns.append((perturbed(result, theta + e).marginal_effects(at, method, dummy)
                            .effects - perturbed(result, theta - e).marginal_effects(
                                at, method, dummy).effects).ravel() / (2 * step))
        jac = np.stack(columns, axis=1)
        ours = result.marginal_effects(at, method, dummy)
        assert_allclose(ours.cov, jac @ result.cov @ jac.T, rtol=1e-6,
                        atol=1e-9 * np.abs(ours.cov).max())


def test_sparse_and_float32_data_give_the_same_statistics():
    import scipy.sparse as sp

    X, y = make_problem(n_samples=60, n_features=3, n_classes=3, seed=9)
    model = SoftmaxNNClassifier(reference_class=0, **EXACT).fit(X, y)
    dense = model.inference(X, y)
    sparse = model.inference(sp.csr_matrix(X), y)
    for at in ("overall", "mean"):
        a, b = dense.marginal_effects(at, "eyex"), sparse.marginal_effects(at, "eyex")
        assert_allclose(a.effects, b.effects, rtol=1e-12)
        assert_allclose(a.std_err, b.std_err, rtol=1e-10)
    for ours, theirs in zip(dense.predict_proba_interval(X[:5]),
                            sparse.predict_proba_interval(sp.csr_matrix(X[:5]))):
        assert_allclose(ours, theirs, rtol=1e-12)
    single = model.inference(X.astype(np.float32), y)
    assert_allclose(single.marginal_effects().std_err, dense.marginal_effects().std_err,
                    rtol=1e-5)


def test_readme_statistics_example():
    """The README's printed statistics are what its example prints."""
    import contextlib
    import io
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    start = readme.index("### Marginal effects, odds ratios")
    section = readme[readme.rindex("## Inference", 0, start):readme.index("\n## ", start)]
    first, second = re.findall(r"```python\n(.*?)```", section, re.S)
    printed = re.findall(r"prints\n\n```\n(.*?)```", readme[start:], re.S)[0]
    namespace, output = {}, io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(first.split("print(result.summary())")[0], namespace)  # load, fit, inference
        namespace["result"] = namespace["model"].inference(namespace["X"], namespace["y"])
        exec(second, namespace)
    assert output.getvalue() == printed


def test_row_blocks_do_not_change_the_statistics(anes_fits, monkeypatch):
    """Blocks of 64 rows (15 blocks of anes96) give the one-block figures."""
    import sk_softmax._statistics as statistics

    result, _ = anes_fits["HC0"]
    X, _ = anes96()
    whole = result.marginal_effects(method="eyex"), result.predict_proba_interval(X)
    monkeypatch.setattr(statistics, "BLOCK_SIZE", 1)
    blocked = result.marginal_effects(method="eyex"), result.predict_proba_interval(X)
    assert_allclose(blocked[0].effects, whole[0].effects, rtol=1e-12, atol=1e-15)
    assert_allclose(blocked[0].cov, whole[0].cov, rtol=1e-10, atol=1e-18)
    for ours, theirs in zip(blocked[1], whole[1]):
        assert_allclose(ours, theirs, rtol=1e-12)
