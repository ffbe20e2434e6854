"""Statistics on a fitted softmax regression: marginal effects, odds ratios, Wald and
likelihood-ratio tests, and intervals for the predicted probabilities.

Every quantity is a function of the free parameters ``theta`` (docs/math.md,
"Parameter vector"); its standard errors come from the delta method with the
covariance of the :class:`InferenceResult` (``nonrobust`` or ``HC0``) and the
analytic Jacobian. Sample weights are frequency weights, as in ``inference``: an
average over rows is weighted by ``s_i / S``. The functions' docstrings give the
Jacobians.
"""

# SPDX-License-Identifier: BSD-3-Clause

from typing import NamedTuple

import numpy as np
from scipy import stats
from scipy.special import expit, logsumexp
from sklearn.utils import check_array

from ._loss import log_softmax, softmax

#: ``method``: ``(q, r)`` with the effect ``P_k^q * dlog P_k/dx_j * x_j^r``.
METHODS = {"dydx": (1, 0), "eydx": (0, 0), "dyex": (1, 1), "eyex": (0, 1)}
LABELS = {"dydx": "dy/dx", "eydx": "d(lny)/dx", "dyex": "dy/d(lnx)",
          "eyex": "d(lny)/d(lnx)"}
#: Entries per row block: the passes hold arrays of (rows, n_features, n_classes).
BLOCK_SIZE = 2 ** 22


class FitData:
    """What the statistics need from the fit behind an :class:`InferenceResult`.

    ``theta``, ``layout``, the validated data ``X`` (rows of the fit), the codes
    ``y_true``, the weights ``s_i`` (sample times class weights), all ``classes``,
    the bool mask ``separated`` per class, ``alpha``, ``n_params`` (free, identified
    parameters) and ``named`` (whether the model has ``feature_names_in_``).
    """

    def __init__(self, theta, layout, X, y_true, sample_weight, classes, separated,
                 alpha, n_params, named):
        self.theta, self.layout, self.X = theta, layout, X
        self.y_true, self.sample_weight = y_true, sample_weight
        self.classes, self.separated, self.alpha = classes, separated, alpha
        self.n_params, self.named = n_params, named
        coefs, intercepts = layout.unpack(theta, np.float64)
        self.coef = coefs[0]
        self.intercept = intercepts[0] if layout.fit_intercept else None

    def extended(self, block):
        """``[block, 1]`` (the column of ones only with an intercept)."""
        if self.intercept is None:
            return block
        return np.hstack([block, np.ones((block.shape[0], 1))])

    def logits(self, block):
        logits = block @ self.coef
        return logits if self.intercept is None else logits + self.intercept

    def unreliable(self):
        """Bool per row of the marginal effects (one row for two classes): every row
        under a separation. A class's effect ``P_k (B_kj - sum_m P_m B_mj)`` involves
        every class's coefficients, the reference's and the diverging ones' too (the
        reference's effects were once reported with p = 0.998)."""
        if len(self.classes) == 2:
            return self.separated.any(keepdims=True)
        return np.repeat(self.separated.any(), len(self.classes))


def fit_data(result):
    fit = getattr(result, "_fit", None)
    if fit is None:
        raise ValueError("This InferenceResult holds no fit: compute it with "
                         "SoftmaxNNClassifier.inference(X, y).")
    return fit


def blocks(X, n_classes):
    """Yield ``(rows, dense float64 block)`` of ``X`` (dense or sparse), blocks of
    about ``BLOCK_SIZE / (n_features * n_classes)`` rows."""
    step = max(64, BLOCK_SIZE // max(1, (X.shape[1] + 1) * n_classes))
    for start in range(0, X.shape[0], step):
        rows = slice(start, min(start + step, X.shape[0]))
        block = X[rows]
        block = block.toarray() if hasattr(block, "toarray") else block
        yield rows, np.asarray(block, dtype=np.float64)


class _Table:
    """A table per class and feature: ``values``, ``std_err``, ``z``, ``p``.

    Subclasses set ``label`` (the name of the value column) and ``_bounds``.
    """

    label, digits = "estimate", 6

    def _bounds(self, q):
        return self.values - q * self.std_err, self.values + q * self.std_err

    def conf_int(self, level=0.95):
        """``(lower, upper)`` normal intervals, each shaped like the values."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}.")
        return self._bounds(stats.norm.ppf(0.5 + level / 2))

    def _rows(self, level):
        low, high = self.conf_int(level)
        for r, label in enumerate(self.classes):
            for f, name in enumerate(self.feature_names):
                yield (label, name, self.values[r, f], self.std_err[r, f], self.z[r, f],
                       self.p[r, f], low[r, f], high[r, f])

    def to_frame(self, level=0.95):
        """The table as a pandas DataFrame indexed by (class, feature)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_frame needs pandas: pip install pandas") from exc

        pct = f"{100 * level:g}%"
        rows = list(self._rows(level))
        index = pd.MultiIndex.from_tuples([r[:2] for r in rows], names=["class", "term"])
        return pd.DataFrame([r[2:] for r in rows], index=index, columns=[
            self.label, "std err", "z", "P>|z|", f"[{pct}", f"{pct}]"])

    def summary(self, level=0.95):
        """A text table per class (classes without estimates are skipped)."""
        pct = f"{100 * level:g}%"
        width = max([9] + [len(str(name)) + 2 for name in self.feature_names])
        size = max(len(self.label) + 1, 11)
        header = (f"{'':<{width}}{self.label:>{size}}{'std err':>11}{'z':>9}{'P>|z|':>9}"
                  f"{'[' + pct:>11}{pct + ']':>11}")
        f = f".{self.digits}f"
        lines, rows = [self.title], list(self._rows(level))
        for label in self.classes:
            values = [r[1:] for r in rows if r[0] == label]
            if label in self.skipped:
                continue
            lines += ["", f"class = {label}", header, "-" * len(header)]
            for term, value, err, z, p, low, high in values:
                lines.append(f"{str(term):<{width}}{value:>{size}{f}}{err:>11{f}}{z:>9.3f}"
                             f"{p:>9.4f}{low:>11{f}}{high:>11{f}}")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


class MarginalEffects(_Table):
    """Marginal effects of each feature on each class probability.

    Attributes
    ----------
    effects, std_err, z, p : ndarray of shape (n_rows, n_features)
        One row per class (for two classes one row: the effect on ``P(class 1)``).
        The statistics of separated classes are NaN.
    cov : ndarray of shape (n_rows * n_features, n_rows * n_features)
        Delta-method covariance of ``effects.ravel()``.
    at, method : str
    classes, feature_names : ndarray
    """

    def __init__(self, effects, cov, classes, feature_names, at, method, unreliable):
        self.effects = self.values = effects
        self.cov = cov
        variance = np.diag(cov).reshape(effects.shape)
        self.std_err = np.sqrt(np.where(variance > 0, variance, np.nan))
        self.std_err[unreliable] = np.nan
        self.z = effects / self.std_err
        self.p = 2 * stats.norm.sf(np.abs(self.z))
        self.classes, self.feature_names = classes, feature_names
        self.at, self.method, self.label = at, method, LABELS[method]
        self.title = f"Marginal effects ({LABELS[method]}), at = {at}"
        self.skipped = ()


class OddsRatios(_Table):
    """``exp(coef)``: the odds of each class against the reference class per unit of
    each feature, with intervals ``exp(coef -+ q se)``, the coefficient's z and p and
    the delta-method standard error ``exp(coef) * se``."""

    label, digits = "odds ratio", 4

    def __init__(self, result):
        self.coef, self.coef_err = result.coef, result.std_err_coef
        self.values = self.odds_ratio = np.exp(result.coef)
        self.std_err = self.odds_ratio * result.std_err_coef
        self.z, self.p = result.z_coef, result.p_coef
        self.classes, self.feature_names = result.classes, result.feature_names
        reference = np.all(np.isnan(result.std_err_coef), axis=1)
        self.skipped = [c for c, ref in zip(self.classes, reference)
                        if ref and c not in result.separated]
        self.title = "Odds ratios (relative to the reference class)"

    def _bounds(self, q):
        return np.exp(self.coef - q * self.coef_err), np.exp(self.coef + q * self.coef_err)


class ChiSquareTest(NamedTuple):
    """A chi-square test: ``statistic``, degrees of freedom ``df``, ``p_value``."""

    statistic: float
    df: int
    p_value: float
    name: str = "chi-square test"

    def __str__(self):
        return (f"{self.name}: chi2({self.df}) = {self.statistic:.6g}, "
                f"p = {self.p_value:.4g}")


def _effect_block(fit, Z, w, q, r):
    """Weighted sums over the rows of ``Z`` of the effects ``(d, K)`` and of their
    Jacobian ``(d, K, L, n_free)`` with respect to ``B[l, free[a]]``.

    With ``D[i, j, k] = W[j, k] - sum_m P[i, m] W[j, m]`` (= dlog P_k / dx_j) and
    ``E[i, k, a] = delta_ka - P[i, a]`` the effect is ``e = x_j^r P_k^q D_jk`` and::

        de/dB_la = x_j^r [q x~_l E_ka P_k D_jk + P_k^q (delta_jl E_ka - x~_l P_a D_ja)]
    """
    free, coef = fit.layout.free, fit.coef
    Xt = fit.extended(Z)
    p = softmax(fit.logits(Z))
    D = coef[np.newaxis] - (p @ coef.T)[:, :, np.newaxis]
    a = w[:, np.newaxis] * (Z if r else 1.0)
    u = p if q else np.ones_like(p)
    E = np.eye(p.shape[1])[:, free][np.newaxis] - p[:, np.newaxis, free]
    effects = np.einsum("ij,ik,ijk->jk", a, u, D, optimize=True)
    jac = -np.einsum("ik,il,ija->jkla", u, Xt,
                     a[:, :, np.newaxis] * p[:, np.newaxis, free] * D[:, :, free],
                     optimize=True)
    diagonal = np.arange(Z.shape[1])
    jac[diagonal, :, diagonal, :] += np.einsum("ij,ik,ika->jka", a, u, E, optimize=True)
    if q:
        jac += np.einsum("ijk,il,ika->jkla", a[:, :, np.newaxis] * p[:, np.newaxis] * D,
                         Xt, E, optimize=True)
    return effects, jac


def _dummy_block(fit, Z, w, j, q):
    """Effect of switching the 0/1 feature ``j`` from 0 to 1 (``P_1 - P_0``, or
    ``log P_1 - log P_0``), ``(K,)``, and its Jacobian ``(K, L, n_free)``."""
    effects, jac, free = 0.0, 0.0, fit.layout.free
    for value, sign in ((1.0, 1.0), (0.0, -1.0)):
        Zv = Z.copy()
        Zv[:, j] = value
        log_p = log_softmax(fit.logits(Zv))
        p = np.exp(log_p)
        E = np.eye(p.shape[1])[:, free][np.newaxis] - p[:, np.newaxis, free]
        u = p if q else np.ones_like(p)
        effects = effects + sign * (w @ (p if q else log_p))
        jac = jac + sign * np.einsum("i,ik,ika,il->kla", w, u, E, fit.extended(Zv),
                                     optimize=True)
    return effects, jac


def _points(fit, at):
    """Yield ``(rows, weights)`` blocks where the effects are evaluated and averaged."""
    weights = fit.sample_weight / fit.sample_weight.sum()
    if at == "mean":
        yield np.asarray(fit.X.T @ weights, dtype=np.float64)[np.newaxis], np.ones(1)
        return
    for rows, block in blocks(fit.X, len(fit.classes)):
        yield block, weights[rows]


def dummy_columns(X):
    """Indices of the columns holding only 0 and 1, both present (statsmodels')."""
    low, high, whole = np.inf, -np.inf, True
    for _, block in blocks(X, 1):
        low, high = np.minimum(low, block.min(axis=0)), np.maximum(high, block.max(axis=0))
        whole = whole & np.all(block % 1 == 0, axis=0)
    return np.flatnonzero((low == 0) & (high == 1) & whole)


def marginal_effects(result, at="overall", method="dydx", dummy=False):
    """:meth:`InferenceResult.marginal_effects`."""
    fit = fit_data(result)
    if at not in ("overall", "mean"):
        raise ValueError(f"at must be 'overall' or 'mean', got {at!r}.")
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}.")
    q, r = METHODS[method]
    dummies = dummy_columns(fit.X) if dummy else np.array([], dtype=np.intp)
    if dummies.size and r:
        raise ValueError(f"method={method!r} is not defined for 0/1 features "
                         "(dummy=True): use 'dydx' or 'eydx'.")
    effects, jac = 0.0, 0.0
    for Z, w in _points(fit, at):
        block_effects, block_jac = _effect_block(fit, Z, w, q, r)
        for j in dummies:
            block_effects[j], block_jac[j] = _dummy_block(fit, Z, w, j, q)
        effects, jac = effects + block_effects, jac + block_jac
    K, d = len(fit.classes), fit.coef.shape[0]
    effects = effects.T
    jac = jac.transpose(1, 0, 2, 3).reshape(K, d, -1)
    if K == 2:  # the effect on P(class 1)
        effects, jac = effects[1:], jac[1:]
    jac = jac.reshape(-1, jac.shape[-1])
    cov = jac @ result.cov @ jac.T
    return MarginalEffects(effects, (cov + cov.T) / 2, result.classes,
                           result.feature_names, at, method, fit.unreliable())


def odds_ratios(result):
    """:meth:`InferenceResult.odds_ratios`."""
    fit = fit_data(result)
    if fit.layout.reference is None and len(fit.classes) > 2:
        raise ValueError("Odds ratios need a reference class: the symmetric softmax "
                         "(reference_class=None) has no baseline. Refit with "
                         "reference_class set to one of the labels.")
    return OddsRatios(result)


def feature_indices(fit, feature_names, features):
    """Positions of ``features`` (names or integer positions), unique, in order."""
    features = [features] if np.ndim(features) == 0 else list(features)
    if not features:
        raise ValueError("features is empty: name at least one feature.")
    names, indices = [str(name) for name in feature_names], []
    for feature in features:
        if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
            if not 0 <= feature < len(names):
                raise ValueError(f"Feature index {feature} out of range "
                                 f"[0, {len(names)}).")
            indices.append(int(feature))
        elif str(feature) in names:
            indices.append(names.index(str(feature)))
        else:
            raise ValueError(f"Unknown feature {feature!r}; features are {names}.")
    if len(set(indices)) < len(indices):
        raise ValueError(f"features {features!r} names a feature twice.")
    return indices


def wald_test(result, features):
    """:meth:`InferenceResult.wald_test`."""
    fit = fit_data(result)
    layout, n_free = fit.layout, len(fit.layout.free)
    base = 0 if layout.reference is None else None  # symmetric: contrasts to class 0
    R, indices = [], feature_indices(fit, result.feature_names, features)
    for j in indices:
        for a in range(n_free):
            if a == base:
                continue
            row = np.zeros(layout.n_params)
            row[j * n_free + a] = 1.0
            if base is not None:
                row[j * n_free + base] = -1.0
            R.append(row)
    R = np.array(R)
    names = ", ".join(str(result.feature_names[j]) for j in indices)
    name = f"Wald test, coefficients of [{names}] = 0"
    if fit.separated.any():
        return ChiSquareTest(np.nan, len(R), np.nan, name)
    b = R @ fit.theta
    statistic = float(b @ np.linalg.solve(R @ result.cov @ R.T, b))
    return ChiSquareTest(statistic, len(R), float(stats.chi2.sf(statistic, len(R))), name)


def likelihood_ratio_test(restricted, full):
    """Likelihood-ratio test of a ``restricted`` fit nested in a ``full`` fit.

    ``LR = 2 (llf_full - llf_restricted)`` is chi-square with ``df`` = the difference
    in the numbers of free parameters. Both are :class:`InferenceResult` of
    maximum-likelihood fits (``alpha=0``) on the same rows, labels and weights; that
    the restricted model is nested in the full one (e.g. a subset of its features) is
    the caller's responsibility. The intercept-only model is a fit on a column of ones
    with ``fit_intercept=False``.
    """
    small, large = fit_data(restricted), fit_data(full)
    if small.alpha > 0 or large.alpha > 0:
        raise ValueError("The likelihood-ratio test needs maximum-likelihood fits "
                         "(alpha=0); a penalised fit does not maximise llf.")
    if restricted.n_obs != full.n_obs:
        raise ValueError(f"The fits have different numbers of observations "
                         f"({restricted.n_obs:g} and {full.n_obs:g}): the test needs "
                         "both models fitted on the same rows.")
    same = (np.array_equal(small.classes, large.classes)
            and np.array_equal(small.y_true, large.y_true)
            and np.array_equal(small.sample_weight, large.sample_weight))
    if not same:
        raise ValueError("The fits have different labels or weights: the test needs "
                         "both models fitted on the same rows.")
    df = large.n_params - small.n_params
    if df <= 0:
        raise ValueError(f"The restricted model has {small.n_params} free parameters, "
                         f"not fewer than the full model's {large.n_params}: pass the "
                         "restricted (nested) fit first.")
    statistic = 2 * (full.llf - restricted.llf)
    return ChiSquareTest(float(statistic), int(df),
                         float(stats.chi2.sf(max(statistic, 0.0), df)),
                         "Likelihood-ratio test")


def check_new_data(fit, feature_names, X):
    """Validate ``X`` for the fitted features: dense float64 or CSR."""
    columns = getattr(X, "columns", None)
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    if X.shape[1] != fit.coef.shape[0]:
        raise ValueError(f"X has {X.shape[1]} features, but the fit has "
                         f"{fit.coef.shape[0]}.")
    if fit.named and columns is not None and not np.array_equal(
            np.asarray(columns, dtype=object), np.asarray(feature_names, dtype=object)):
        raise ValueError("The feature names of X differ from those of the fit: "
                         f"{list(feature_names)}.")
    return X


def predict_proba_interval(result, X, level=0.95):
    """:meth:`InferenceResult.predict_proba_interval`."""
    fit = fit_data(result)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    X = check_new_data(fit, result.feature_names, X)
    quantile = stats.norm.ppf(0.5 + level / 2)
    free, K = fit.layout.free, len(fit.classes)
    n_ext = fit.extended(np.zeros((1, fit.coef.shape[0]))).shape[1]
    cov = result.cov.reshape(n_ext, len(free), n_ext, len(free))
    proba, lower, upper = (np.empty((X.shape[0], K)) for _ in range(3))
    for rows, Z in blocks(X, K):
        logits, Xt = fit.logits(Z), fit.extended(Z)
        proba[rows] = softmax(logits)
        Q = np.einsum("il,lamb,im->iab", Xt, cov, Xt, optimize=True)
        for k in range(K):
            others = logits.copy()
            others[:, k] = -np.inf
            rest = logsumexp(others, axis=1)
            log_odds = logits[:, k] - rest
            # d log_odds / dB[l, a] = x~_l (delta_ka - [a != k] P_a / (1 - P_k))
            grad = (free == k) - np.exp(others[:, free] - rest[:, np.newaxis])
            err = np.sqrt(np.maximum(np.einsum("ia,iab,ib->i", grad, Q, grad), 0))
            lower[rows, k] = expit(log_odds - quantile * err)
            upper[rows, k] = expit(log_odds + quantile * err)
    unreliable = fit.separated if K > 2 else np.repeat(fit.separated.any(), 2)
    lower[:, unreliable] = upper[:, unreliable] = np.nan
    return proba, lower, upper
