"""Statistical inference for softmax regression: covariance, standard errors, tests."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy import stats
from sklearn.utils.validation import check_is_fitted

from . import _statistics
from ._array_api import model_namespace
from ._hessian import SoftmaxHessian
from ._identification import (
    CONDITION_NOTE,
    SeparationWarning,
    StandardisedDesign,
    certify_estimate_exists,
    check_design_rank,
    separation,
)
from ._loss import log_softmax
from ._network import forward, logistic_regression_layout
from ._prepare import (
    check_sample_weight,
    class_weights_and_total,
    label_summary,
    shorten,
    validated,
)
from ._statistics import FitData


class InferenceResult:
    """Standard errors, tests and fit statistics of a fitted softmax regression.

    Computed by :meth:`SoftmaxNNClassifier.inference` at the fitted parameters. The
    coefficient arrays have the shapes of ``coef_`` and ``intercept_``; the rows of
    the reference class (fixed at zero, not estimated) are NaN.

    Attributes
    ----------
    coef, intercept : ndarray
        The estimates, ``coef_`` and ``intercept_`` of the estimator.
    std_err_coef, std_err_intercept : ndarray
        Standard errors, shaped like ``coef`` and ``intercept``.
    z_coef, z_intercept : ndarray
        ``estimate / std_err``.
    p_coef, p_intercept : ndarray
        Two-sided p-values of the normal distribution.
    cov : ndarray of shape (n_params, n_params)
        Covariance of the free parameters, in the order of the flat vector
        ``theta``: ``coefs_[0][:, free].ravel()`` (feature-major: for each feature,
        the free classes in ``classes_`` order), then ``intercepts_[0][free]``, where
        ``free`` is every class but the reference.
    cov_type : {"nonrobust", "HC0"}
    llf : float
        Log-likelihood ``sum_i s_i log P[i, y_i]`` at the estimate.
    llnull : float
        Log-likelihood of the intercept-only model (the weighted class frequencies).
    aic, bic : float
        ``-2 llf + 2 k`` and ``-2 llf + k log(n_obs)``, ``k`` free parameters.
    pseudo_r2 : float
        McFadden's ``1 - llf / llnull``; NaN under complete separation.
    n_obs : float
        Number of observations, ``sum_i s_i`` (sample weights count as frequencies).
    classes, feature_names : ndarray
        Row and column labels of the tables.
    separated : ndarray
        The classes whose coefficients a (quasi-)complete separation leaves
        unbounded (their statistics are NaN); empty when there is none.
    condition_number : float or None
        Of the standardised design (centred, scaled columns) when ``alpha=0``: above
        1000 the summary notes the near-collinearity; None with ``alpha > 0``.

    A result computed by ``inference`` also keeps the fit's parameters and data (a
    reference to ``X``, the labels and weights) for :meth:`marginal_effects`,
    :meth:`odds_ratios`, :meth:`wald_test`, :meth:`likelihood_ratio_test` and
    :meth:`predict_proba_interval` (sk_softmax/_statistics.py).
    """

    def __init__(self, estimates, std_errs, cov, cov_type, llf, llnull, n_obs, k,
                 classes, feature_names, has_intercept=True, separated=(),
                 complete_separation=False, condition_number=None):
        (self.coef, self.intercept), (self.std_err_coef, self.std_err_intercept) = (
            estimates, std_errs
        )
        self.z_coef = self.coef / self.std_err_coef
        self.z_intercept = self.intercept / self.std_err_intercept
        self.p_coef = 2 * stats.norm.sf(np.abs(self.z_coef))
        self.p_intercept = 2 * stats.norm.sf(np.abs(self.z_intercept))
        self.cov, self.cov_type = cov, cov_type
        self.llf, self.llnull, self.n_obs = llf, llnull, n_obs
        self.aic = -2 * llf + 2 * k
        self.bic = -2 * llf + k * np.log(n_obs)
        self.pseudo_r2 = np.nan if complete_separation else 1 - llf / llnull
        self.classes, self.feature_names = classes, feature_names
        self.has_intercept = has_intercept
        self.separated = np.asarray(separated)
        self.condition_number = condition_number

    def condition_note(self):
        """``[line]`` when the standardised design's condition number is above
        :data:`~sk_softmax._identification.CONDITION_NOTE`, else ``[]``."""
        if self.condition_number is None or self.condition_number <= CONDITION_NOTE:
            return []
        return [f"Condition number of the standardised design: {self.condition_number:.3g}:"
                " some features are nearly collinear, and their standard errors are large."]

    def conf_int(self, level=0.95):
        """Return ``(lower, upper)`` normal confidence intervals for ``coef`` and
        ``intercept``: ``((coef_low, coef_high), (intercept_low, intercept_high))``."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}.")
        q = stats.norm.ppf(0.5 + level / 2)
        return tuple(
            (estimate - q * err, estimate + q * err)
            for estimate, err in (
                (self.coef, self.std_err_coef), (self.intercept, self.std_err_intercept)
            )
        )

    def _rows(self, level=0.95):
        """Yield ``(class, term, coef, std err, z, p, low, high)`` for every estimate."""
        (c_low, c_high), (i_low, i_high) = self.conf_int(level)
        for r, label in enumerate(self.classes):
            if self.has_intercept:
                yield (label, "intercept", self.intercept[r], self.std_err_intercept[r],
                       self.z_intercept[r], self.p_intercept[r], i_low[r], i_high[r])
            for f, name in enumerate(self.feature_names):
                yield (label, name, self.coef[r, f], self.std_err_coef[r, f],
                       self.z_coef[r, f], self.p_coef[r, f], c_low[r, f], c_high[r, f])

    def summary(self, level=0.95, odds_ratios=False):
        """Return a text table per class: estimate, std err, z, p and the interval.

        ``odds_ratios=True`` appends the table of :meth:`odds_ratios`.
        """
        if odds_ratios:
            return self.summary(level) + "\n\n" + self.odds_ratios().summary(level)
        pct = f"{100 * level:g}%"
        lines = [
            f"Softmax regression: n_obs = {self.n_obs:g}, llf = {self.llf:.6g}, "
            f"llnull = {self.llnull:.6g}, pseudo R2 = {self.pseudo_r2:.4f}",
            f"AIC = {self.aic:.6g}, BIC = {self.bic:.6g}, covariance: {self.cov_type}",
        ]
        if self.separated.size:
            lines.append(f"Separation: no maximum-likelihood estimate for class(es) "
                         f"{shorten(self.separated)}; their statistics are NaN.")
        lines += self.condition_note()
        width = max([9] + [len(str(name)) + 2 for name in self.feature_names])
        header = (f"{'':<{width}}{'coef':>11}{'std err':>11}{'z':>9}{'P>|z|':>9}"
                  f"{'[' + pct:>11}{pct + ']':>11}")
        rows = list(self._rows(level))
        for label in self.classes:
            values = [r[1:] for r in rows if r[0] == label]
            if all(np.isnan(v[2]) for v in values) and label not in self.separated:
                lines += ["", f"class = {label}: reference class, every coefficient fixed at 0"]
                continue
            lines += ["", f"class = {label}", header, "-" * len(header)]
            for term, coef, err, z, p, low, high in values:
                lines.append(f"{str(term):<{width}}{coef:>11.4f}{err:>11.4f}{z:>9.3f}"
                             f"{p:>9.4f}{low:>11.4f}{high:>11.4f}")
        return "\n".join(lines)

    def to_frame(self, level=0.95):
        """Return the table as a pandas DataFrame indexed by (class, term).

        pandas is an optional dependency.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "InferenceResult.to_frame needs pandas: pip install pandas"
            ) from exc
        pct = f"{100 * level:g}%"
        columns = ["coef", "std err", "z", "P>|z|", f"[{pct}", f"{pct}]"]
        rows = list(self._rows(level))
        index = pd.MultiIndex.from_tuples([r[:2] for r in rows], names=["class", "term"])
        return pd.DataFrame([r[2:] for r in rows], index=index, columns=columns)

    def marginal_effects(self, at="overall", method="dydx", dummy=False):
        """Marginal effects of each feature on each class probability, with
        delta-method standard errors (statsmodels' ``get_margeff``).

        Parameters
        ----------
        at : {"overall", "mean"}
            ``"overall"``: the (weighted) average of the effects at the rows of the
            fit; ``"mean"``: the effect at the (weighted) mean of the features.
        method : {"dydx", "eyex", "dyex", "eydx"}
            ``dP_k/dx_j``; the elasticity ``dlog P_k/dlog x_j``; ``dP_k/dlog x_j``;
            ``dlog P_k/dx_j``.
        dummy : bool
            Treat the 0/1 features as discrete: the effect of switching 0 to 1.

        Returns
        -------
        MarginalEffects
            ``effects``, ``std_err``, ``z``, ``p`` of shape (n_classes, n_features)
            (two classes: one row, the effect on ``P(class 1)``), ``cov``,
            ``conf_int()``, ``to_frame()``, ``summary()``.
        """
        return _statistics.marginal_effects(self, at, method, dummy)

    def odds_ratios(self):
        """``exp(coef)`` relative to the reference class, with intervals
        ``exp(conf_int)``: an ``OddsRatios`` table (``odds_ratio``, ``std_err``,
        ``z``, ``p``, ``conf_int()``, ``to_frame()``, ``summary()``)."""
        return _statistics.odds_ratios(self)

    def wald_test(self, features):
        """Wald test that the coefficients of ``features`` (names or positions) are
        zero for every class: ``chi2 = b' (R cov R')^-1 b`` with ``df`` = (number of
        classes - 1) per feature. Returns ``ChiSquareTest(statistic, df, p_value)``
        (NaN under separation)."""
        return _statistics.wald_test(self, features)

    def likelihood_ratio_test(self, restricted):
        """Likelihood-ratio test of the nested fit ``restricted`` against this one:
        ``_statistics.likelihood_ratio_test(restricted, self)``."""
        return _statistics.likelihood_ratio_test(restricted, self)

    def predict_proba_interval(self, X, level=0.95):
        """``(proba, lower, upper)``, each (n_samples, n_classes): the predicted
        probabilities and delta-method intervals computed on the log-odds scale
        ``log(P_k / (1 - P_k))``, so within [0, 1]. NaN for separated classes."""
        return _statistics.predict_proba_interval(self, X, level)


def free_cov(hessian, score_outer, sw_sum, cov_type, pseudo_inverse=False):
    """Covariance of the free parameters from the Hessian of ``J``.

    ``J`` is a weighted *mean*, so the observed information of the weighted
    log-likelihood is ``S * H`` (with the penalty: ``H`` of the penalised ``J``).
    ``nonrobust`` inverts it; ``HC0`` is the sandwich
    ``(S H)^-1 (S * score_outer) (S H)^-1``, ``score_outer = sum_i w_i g_i g_i^T``.
    ``pseudo_inverse`` for an information singular along the shift of all symmetric
    intercepts.
    """
    information = sw_sum * hessian
    bread = np.linalg.pinv(information, hermitian=True) if pseudo_inverse else (
        np.linalg.inv(information)
    )
    if cov_type == "nonrobust":
        cov = bread
    else:
        cov = bread @ (sw_sum * score_outer) @ bread
    return (cov + cov.T) / 2


def null_log_likelihood(y_true, sample_weight, n_classes):
    """Log-likelihood of the intercept-only model: the weighted class frequencies."""
    counts = np.bincount(y_true, weights=sample_weight, minlength=n_classes)
    counts = counts[counts > 0]
    return float(counts @ np.log(counts / counts.sum()))


def check_inference_possible(model, cov_type):
    """Raise ValueError where a fitted model has no standard errors."""
    if cov_type not in ("nonrobust", "HC0"):
        raise ValueError(f"cov_type must be 'nonrobust' or 'HC0', got {cov_type!r}.")
    if len(model.coefs_) != 1:
        raise ValueError(
            "inference is implemented for softmax regression only "
            f"(hidden_layer_sizes=()); this model has hidden layers "
            f"{model.hidden_layer_sizes!r}."
        )
    if model._layout.reference is None and model.alpha == 0:
        raise ValueError(
            "The symmetric softmax (reference_class=None) is not identifiable with "
            "alpha=0: its parameters have no standard errors. Set reference_class "
            "to one of the labels (e.g. classes_[0]) and refit."
        )


def coef_jacobians(layout, n_params):
    """``(M, shape)`` for ``coef_`` and ``intercept_``: the matrix of the linear map
    from ``theta`` to their flattened values (LogisticRegression's layout)."""
    def linear(vector):
        coefs, intercepts = layout.unpack(vector, np.float64)
        return logistic_regression_layout(coefs[0], intercepts[0])

    columns = [linear(e) for e in np.eye(n_params)]
    return [
        (np.stack([c[part].ravel() for c in columns], axis=1), columns[0][part].shape)
        for part in (0, 1)
    ]


def inference(model, X, y, sample_weight, cov_type):
    """:meth:`SoftmaxNNClassifier.inference`: validate the data, then
    :func:`inference_result`."""
    check_is_fitted(model)
    if model_namespace(model) is not None:
        raise ValueError("inference() needs a model fitted on numpy arrays; this one "
                         "was fitted on array-API arrays (array_api_dispatch=True).")
    check_inference_possible(model, cov_type)
    X, y = validated(model, X, y, accept_sparse=["csr", "csc"],
                         dtype=[np.float64, np.float32], reset=False)
    unknown = np.setdiff1d(y, model.classes_)
    if unknown.size:
        raise ValueError(f"y contains labels not seen in fit: {shorten(unknown)}.")
    y_true = np.searchsorted(model.classes_, y)
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    class_weights, _, _ = class_weights_and_total(
        model.class_weight, model.classes_, label_summary(y, sample_weight))
    sample_weight = sample_weight * class_weights[y_true]
    weighted = np.unique(y_true[sample_weight > 0])
    if weighted.size < 2:
        raise ValueError(
            "inference() needs rows of at least two classes with positive weight; these "
            f"have {shorten(model.classes_[weighted])} only (no likelihood to compare "
            "with the intercept-only model).")
    design = StandardisedDesign(X, sample_weight, model.fit_intercept)
    condition = None
    if model.alpha == 0:  # a penalised estimate is identified and always exists
        condition = check_design_rank(design, feature_names(model, X))
    if model.alpha > 0:
        warnings.warn(
            f"alpha={model.alpha} > 0: the covariance is that of the penalised "
            "estimate (inverse penalised Hessian), not of the maximum-likelihood "
            "estimate. Fit with alpha=0 for classical standard errors.",
            UserWarning, stacklevel=3,
        )
    return inference_result(model, X, y_true, sample_weight, cov_type, design=design,
                            condition_number=condition, check_separation=model.alpha == 0)


def feature_names(model, X):
    """The model's feature names, or ``x0, x1, ...``."""
    names = getattr(model, "feature_names_in_", None)
    return np.array([f"x{j}" for j in range(X.shape[1])]) if names is None else names


def _separation(model, X, y_true, sample_weight):
    """The diverging coefficients, ``(n_classes, n_features + intercept)`` bool, by the
    linear programmes (:func:`~sk_softmax._identification.separation`), warning with
    their names when there are any."""
    layout = model._layout
    diverging = separation(X, y_true, sample_weight, model.fit_intercept,
                           len(model.classes_), layout.reference)
    if diverging is None:
        warnings.warn("The data is too large to check for separation: if the "
                      "classes are separated, the standard errors are meaningless.",
                      SeparationWarning, stacklevel=5)
        return np.zeros((len(model.classes_), X.shape[1] + model.fit_intercept), bool)
    if diverging.any():
        names = list(feature_names(model, X)) + (["intercept"] if model.fit_intercept
                                                 else [])
        which = "; ".join(
            f"class {shorten([label])[1:-1]}: "
            + shorten([n for n, d in zip(names, row) if d])[1:-1]
            for label, row in zip(model.classes_, diverging) if row.any())
        warnings.warn(
            "The classes are completely or quasi-completely separated: the "
            "maximum-likelihood estimate does not exist, and these coefficients "
            f"(relative to the reference class) grow without bound: {which}. Their "
            "statistics are NaN; the others are those of the limit (the rows the "
            "separation predicts perfectly no longer inform them). Remove the "
            "separating features, merge classes, or fit with alpha > 0.",
            SeparationWarning, stacklevel=5)
    return diverging


def _diverging_theta(diverging, layout):
    """``diverging`` (per class and column, intercept last) as a mask of ``theta``."""
    free, n_features = layout.free, layout.layer_units[0]
    mask = np.zeros(layout.n_params, dtype=bool)
    mask[: layout.n_coef] = diverging[free, :n_features].T.ravel()
    if layout.fit_intercept:
        mask[layout.n_coef:] = diverging[free, n_features]
    return mask


#: ``inference`` warns when the fit stopped farther than this from the optimum, in
#: standard errors (the Newton decrement: the Mahalanobis length of the Newton step).
NEWTON_DISTANCE_NOTE = 0.01


def transform_matrix(preconditioner, n_params):
    """``T`` as a matrix: ``theta = T phi``."""
    return np.column_stack([preconditioner.to_theta(e) for e in np.eye(n_params)])


def inference_result(model, X, y_true, sample_weight, cov_type, separated=None, *,
                     design=None, condition_number=None, check_separation=False):
    """The :class:`InferenceResult` of a fitted softmax regression on validated data.

    ``sample_weight`` are the ``s_i`` (sample weights times class weights);
    ``separated`` (bool per class) marks the classes whose statistics are NaN; with
    ``check_separation`` it is found here: by the existence certificate
    (:func:`~sk_softmax._identification.certify_estimate_exists`), else by the linear
    programme. Every matrix is built and inverted on the standardised design ``z~``
    (``design``, :class:`~sk_softmax._identification.StandardisedDesign`) and mapped
    back, ``cov = T cov_phi T^T``. Standard errors of ``coef_`` and ``intercept_`` are
    ``sqrt(diag(M cov M^T))`` with ``M`` the linear map from the free parameters;
    entries that no free parameter moves (the reference class, absent intercepts) are
    NaN. Warns when the fit is more than :data:`NEWTON_DISTANCE_NOTE` standard errors
    from the optimum.
    """
    layout, sw_sum = model._layout, sample_weight.sum()
    theta = layout.pack(model.coefs_, model.intercepts_)
    if design is None:
        design = StandardisedDesign(X, sample_weight, model.fit_intercept)
    # T = diag(d) T_unit: d = 1 / scale_j on the weights of feature j, 1 on the
    # intercepts; T_unit centres in units of the scale (b = c - (mu / scale) @ U). The
    # factors d (1e300 for a column of 1e-300s) multiply only the final numbers.
    unit, d = design.unit_transform(layout)
    transform = transform_matrix(unit, len(theta))
    z = design.matrix()
    hessian = SoftmaxHessian(theta, X.astype(np.float64), y_true,
                             sample_weight / sw_sum, layout, design=z)
    l2, weights = model.alpha / sw_sum, d[: layout.n_coef, np.newaxis] * transform[
        : layout.n_coef]
    information = hessian.matrix() + l2 * weights.T @ weights
    gradient = hessian.gradient() + weights.T @ (l2 * theta[: layout.n_coef])
    centred = layout.reference is None and model.fit_intercept
    n_free = layout.n_params - centred  # k: free, identified parameters (docs/math.md)
    classes = model.classes_
    n_columns = X.shape[1] + model.fit_intercept
    diverging = np.zeros((len(classes), n_columns), dtype=bool)
    if separated is not None:  # given per class: all of their coefficients
        diverging[np.asarray(separated, dtype=bool)] = True
    elif check_separation and not certify_estimate_exists(
            sw_sum * information, sw_sum * gradient, z[sample_weight > 0], layout)[0]:
        diverging = _separation(model, X, y_true, sample_weight)
    separated = diverging.any(axis=1)
    if not centred and not separated.any():
        check_positive_definite(information)
        _warn_if_far_from_optimum(information, gradient, sw_sum)
    score_outer = hessian.score_outer() if cov_type == "HC0" else None
    if separated.any():
        cov = _limit_cov(information, score_outer, transform,
                         _diverging_theta(diverging, layout), sw_sum, cov_type)
    else:
        cov = transform @ free_cov(information, score_outer, sw_sum, cov_type,
                                   pseudo_inverse=centred) @ transform.T
    if centred:  # the covariance of the centred intercepts: the pseudo-inverse's
        shift = np.zeros(len(theta))
        shift[layout.n_coef:] = 1 / np.sqrt(len(layout.free))
        projection = np.eye(len(theta)) - np.outer(shift, shift)
        cov = projection @ cov @ projection
    # Rows of coef_: one per class, or one (class 1 against class 0) for two classes.
    std_errs = []
    n_features = layout.layer_units[0]
    unknown = _diverging_theta(diverging, layout)
    for part, (M, shape) in enumerate(coef_jacobians(layout, len(theta))):
        variance = np.einsum("ij,jk,ik->i", M, cov, M)
        err = np.sqrt(np.where(variance > 0, variance, np.nan))  # never a variance <= 0
        if part == 0:  # coef_[r, j] moves with feature j's weights only
            err *= np.tile(d[: layout.n_coef: len(layout.free)], len(err) // n_features)
        err[~np.any(M != 0, axis=1)] = np.nan  # fixed, not estimated
        err[np.any(M[:, unknown] != 0, axis=1)] = np.nan  # diverging: no estimate
        std_errs.append(err.reshape(shape))
    with np.errstate(over="ignore", under="ignore"):  # only for columns of 1e+-300
        cov = d[:, np.newaxis] * cov * d
    log_proba = log_softmax(forward(X, model.coefs_, model.intercepts_, "identity")[-1])
    own_log_proba = log_proba[np.arange(len(y_true)), y_true]
    llf = float(sample_weight @ own_log_proba)
    result = InferenceResult(
        (model.coef_, model.intercept_), std_errs, (cov + cov.T) / 2, cov_type, llf,
        null_log_likelihood(y_true, sample_weight, len(classes)), sw_sum,
        n_free, classes[1:] if len(classes) == 2 else classes,
        feature_names(model, X), model.fit_intercept, classes[separated],
        complete_separation=separated.any() and bool(np.all(own_log_proba > -1e-6)),
        condition_number=condition_number,
    )
    result._fit = FitData(theta, layout, X, y_true, sample_weight, classes, separated,
                          model.alpha, n_free, hasattr(model, "feature_names_in_"))
    return result


def _limit_cov(information, score_outer, transform, diverging, sw_sum, cov_type):
    """The covariance (in ``theta``'s units of the scale, as ``T_unit cov_phi T_unit^T``)
    of the coefficients that do not diverge, given those that do: the information in
    ``theta`` restricted to them and inverted (their covariance in the limit, where the
    separated rows no longer inform them); zero rows and columns for the diverging."""
    inverse = np.linalg.inv(transform)  # phi = T_unit^-1 theta
    theta_information = inverse.T @ information @ inverse
    keep = ~diverging
    cov = np.zeros_like(theta_information)
    restricted = theta_information[np.ix_(keep, keep)]
    outer = None if score_outer is None else (inverse.T @ score_outer @ inverse)[
        np.ix_(keep, keep)]
    cov[np.ix_(keep, keep)] = free_cov(restricted, outer, sw_sum, cov_type,
                                       pseudo_inverse=True)
    return cov


def _warn_if_far_from_optimum(information, gradient, sw_sum):
    """Warn when the Newton step from the fit is longer than
    :data:`NEWTON_DISTANCE_NOTE` standard errors (``sqrt(S g' H^-1 g)``, the Mahalanobis
    distance to where one Newton step lands, in the covariance's own metric)."""
    distance = float(np.sqrt(max(sw_sum * gradient @ np.linalg.solve(information, gradient),
                                 0.0)))
    if distance > NEWTON_DISTANCE_NOTE:
        warnings.warn(
            f"The fit stopped about {distance:.2g} standard errors (Mahalanobis distance "
            "of one Newton step) from the optimum: the statistics are those of the "
            "fitted coefficients, not of the estimate. Refit with a smaller tol (e.g. "
            "tol=1e-8) or solver='trust-ncg'.", UserWarning, stacklevel=5)


def check_positive_definite(information):
    """Raise ValueError unless the information matrix is positive definite."""
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        smallest = np.linalg.eigvalsh(information)[0]
        raise ValueError(
            "The information matrix is not positive definite (smallest eigenvalue "
            f"{smallest:.3g}): the parameters are not identified at this fit, so they "
            "have no standard errors. Check for collinear features or classes with "
            "too few samples.") from None
