"""Whether softmax regression's parameters are identified and its maximum-likelihood
estimate exists: the rank of the design, and complete or quasi-complete separation
(docs/math.md, "Covariance and standard errors")."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import linprog

from ._precondition import Preconditioner, label_moments, scaled_covariance
from ._prepare import shorten

#: Eigenvalues of the standardised design's correlation matrix at most this (relative to
#: the largest) count as zero: the design is rank-deficient. Beyond a condition number of
#: 1e6 (the square root) an inverse information in float64 keeps at most four digits.
RANK_TOL = 1e-12

#: A standardised design with a condition number above this gets a note in the summary:
#: its columns are nearly collinear (Belsley's condition index: above 30 strong).
CONDITION_NOTE = 1e3

#: Separation is checked by a linear programme only while its constraint matrix has
#: at most this many non-zeros (rows x (classes - 1) x 2 x columns).
MAX_SEPARATION_NONZEROS = 20_000_000

#: The existence certificate must hold with this margin (its bound is 1/2): rounding in
#: the inverse information and the gradient never decides it.
CERTIFICATE_MARGIN = 0.25


class SeparationWarning(UserWarning):
    """The classes are (quasi-)completely separated: the maximum-likelihood estimate
    does not exist, and the statistics of the affected classes are NaN."""


class StandardisedDesign:
    """The design of softmax regression in the coordinates inference works in::

        z~_i = [(x_i - centre) / scale, 1]       (the 1 only with an intercept)

    ``centre`` the weighted column means (zeros without an intercept, and for sparse X,
    which is never densified) and ``scale`` the weighted standard deviations (root mean
    squares about zero without an intercept), 1 for a column with no spread. Every
    matrix inference inverts is built on ``z~``, whose columns are of one scale
    whatever X's (a column of years, of 1e-300s): ``theta = T phi`` maps back
    (:class:`~sk_softmax._precondition.Preconditioner` with ``M = diag(1 / scale)``).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
    fit_intercept : bool
    """

    def __init__(self, X, sample_weight, fit_intercept):
        self.X, self.sample_weight, self.fit_intercept = X, sample_weight, fit_intercept
        _, mean, std = label_moments(
            X, np.zeros(X.shape[0], dtype=np.intp), sample_weight, 1).pooled(np.ones(1))
        self.mean = mean
        spread = std if fit_intercept else np.hypot(std, mean)
        self.constant = spread == 0
        self.scale = np.where(self.constant, 1.0, spread)
        centred = fit_intercept and not sp.issparse(X)
        self.centre = mean if centred else np.zeros_like(mean)

    def matrix(self):
        """``z~`` (dense, or CSR for sparse X)."""
        X = self.X
        if sp.issparse(X):
            X = sp.csr_matrix(X @ sp.diags(1 / self.scale))
        else:
            X = (np.asarray(X, dtype=np.float64) - self.centre) / self.scale
        return _design(X, self.fit_intercept)

    def unit_transform(self, layout):
        """``(T_unit, d)`` with ``theta = diag(d) T_unit phi`` for parameters ``phi`` on
        ``z~``: ``T_unit`` centres in units of the scale (``W' = U``,
        ``b = c - (centre / scale) @ U``), ``d`` is ``1 / scale_j`` on the weights of
        feature ``j`` (``theta`` order) and 1 on the intercepts."""
        n_features = len(self.scale)
        unit = Preconditioner(layout, self.centre / self.scale, np.ones(n_features))
        d = np.ones(layout.n_params)
        d[: layout.n_coef] = np.repeat(1 / self.scale, layout.n_coef // n_features)
        return unit, d

    def correlation(self):
        """The weighted correlation matrix of X's columns, centred with an intercept
        (about zero without); computed from ``z~`` (dense) or from ``X^T W X`` (sparse)."""
        w = self.sample_weight
        centre = self.mean if self.fit_intercept else np.zeros_like(self.mean)
        if not sp.issparse(self.X):
            return scaled_covariance(self.X, w, centre, self.scale) / w.sum()
        gram = self.X.T @ (sp.diags(w) @ self.X)
        gram = np.asarray(gram.toarray(), dtype=np.float64) / w.sum()
        return (gram - np.outer(centre, centre)) / np.outer(self.scale, self.scale)


def _design(X, fit_intercept):
    """``X~ = [X, 1]`` (the ones only with an intercept), dense or CSR."""
    if not fit_intercept:
        return X
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    return sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([X, ones])


def check_design_rank(design, names):
    """Raise ValueError naming the columns if the weighted design ``[X, 1]`` is
    rank-deficient (a constant column with an intercept, a duplicated column, a
    column of zeros): the likelihood then has a flat direction. Return the condition
    number of the standardised design (centred and scaled columns: a column's offset
    or unit never makes a design look singular).
    """
    fit_intercept, constant = design.fit_intercept, design.constant
    names = np.array(list(names) + (["intercept"] if fit_intercept else []), dtype=object)
    keep = np.flatnonzero(~constant)
    correlation = design.correlation()[np.ix_(keep, keep)]
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    null = eigenvalues <= RANK_TOL * eigenvalues.max(initial=1.0)
    involved = np.zeros(len(names), dtype=bool)
    involved[np.flatnonzero(constant)] = True
    involved[keep] = np.any(np.abs(eigenvectors[:, null]) > 1e-6, axis=1)
    if fit_intercept:  # a combination with an offset, or a nonzero constant column
        ratio = design.mean[keep] / design.scale[keep]
        offsets = ratio @ eigenvectors[:, null]
        involved[-1] = bool(np.any(constant & (design.mean != 0))) or bool(
            np.any(np.abs(offsets) > 1e-6 * max(1.0, np.abs(ratio).max(initial=0.0))))
    if null.any() or constant.any():
        rank = len(names) - int(null.sum()) - int(constant.sum())
        design_name = "the design (with the intercept)" if fit_intercept else "the design"
        raise ValueError(
            f"The model is not identified: {design_name} has rank {rank} of "
            f"{len(names)} columns; {shorten(names[involved])} are linear "
            "combinations of each other (a constant column with the intercept, a "
            "duplicated or all-zero column). Drop the redundant column(s) and refit.")
    return float(np.sqrt(eigenvalues.max() / eigenvalues.min()))


def certify_estimate_exists(information, gradient, design_rows, layout):
    """Whether a maximum-likelihood estimate of softmax regression provably exists: a
    certificate from one point, with no linear programme.

    At ``theta_0`` with gradient ``g`` and information ``I`` (of the total weighted
    negative log-likelihood ``f``; positive definite), let ``lambda^2 = g' I^-1 g`` (the
    Newton decrement) and ``kappa^2 = max_i max_k z~_i' [I^-1]_kk z~_i`` (the largest
    change of a logit per unit of ``||v||_I``). A step ``v`` changes every logit by at
    most ``kappa ||v||_I``, so every probability by a factor in ``[e^-2M, e^2M]``,
    ``M = kappa ||v||_I``, and the Hessian along the step stays above ``e^(-2 t M) I``
    (the softmax's class covariance scales so); integrating twice::

        f(theta_0 + v) - f(theta_0) >= ||v||_I (1 / (2 kappa) - lambda) - 1 / (4 kappa^2)

    With ``lambda kappa < 1/2``, ``f`` grows without bound along every ray: it has a
    minimiser (convex and coercive), so no (quasi-)complete separation. Required here
    with the margin :data:`CERTIFICATE_MARGIN`. Returns ``(certified, lambda)``.

    Parameters
    ----------
    information : ndarray of shape (n_params, n_params)
    gradient : ndarray of shape (n_params,)
    design_rows : {ndarray, sparse matrix} of shape (n_rows, n_columns)
        The rows of ``z~`` with positive weight.
    layout : ParamLayout
        Of a model with a reference class (or no intercept): ``I`` is invertible.
    """
    try:
        factor = cho_factor(information)
    except np.linalg.LinAlgError:
        return False, np.inf
    decrement = float(np.sqrt(max(gradient @ cho_solve(factor, gradient), 0.0)))
    inverse = cho_solve(factor, np.eye(len(gradient)))
    n_free, n_coef = len(layout.free), layout.n_coef
    blocks = []
    for a in range(n_free):
        index = np.arange(a, n_coef, n_free)
        if layout.fit_intercept:
            index = np.append(index, n_coef + a)
        blocks.append(inverse[np.ix_(index, index)])
    # kappa^2 <= max_i ||z~_i||^2 * max_a lambda_max(block_a): one pass over the rows;
    # the leverages themselves only where that bound is not enough.
    squares = design_rows.multiply(design_rows) if sp.issparse(design_rows) else (
        design_rows * design_rows)
    largest_row = float(np.max(np.asarray(squares.sum(axis=1)), initial=0.0))
    largest_eigenvalue = max(np.linalg.eigvalsh(block)[-1] for block in blocks)
    if decrement * np.sqrt(max(largest_row * largest_eigenvalue, 0.0)) < CERTIFICATE_MARGIN:
        return True, decrement
    kappa = 0.0
    for block in blocks:
        if sp.issparse(design_rows):
            leverage = np.asarray(design_rows.multiply(design_rows @ block).sum(axis=1))
        else:
            leverage = ((design_rows @ block) * design_rows).sum(axis=1)
        kappa = max(kappa, float(np.sqrt(max(np.max(leverage, initial=0.0), 0.0))))
    return bool(decrement * kappa < CERTIFICATE_MARGIN), decrement


#: The box of the separation programme's direction, on columns scaled to a largest
#: entry of 1: a row's margin counts as positive above ``SEPARATION_EPS`` there (a
#: separation whose smallest positive margin is below ``SEPARATION_EPS / SEPARATION_BOX``
#: per unit of direction is not told from a touching one).
SEPARATION_BOX, SEPARATION_EPS = 1e4, 1e-5


def _margin_matrix(design, y_true, n_classes, free):
    """The rows ``-margin_r(d)`` (one per row ``i`` and class ``k != y_i``:
    ``z[i, k] - z[i, y_i]``) as a CSR matrix on the free classes' directions ``d``,
    class-major (``d[a * n_columns + j]``: class ``free[a]``, column ``j``)."""
    block = {k: b for b, k in enumerate(free)}
    blocks = []
    for k in range(n_classes):
        rows = np.flatnonzero(y_true != k)
        if not len(rows):
            continue
        part = [[None] * len(free)]
        for label in free:
            coef = np.where(y_true[rows] == label, -1.0, 0.0) + (label == k)
            part[0][block[label]] = sp.diags(coef) @ design[rows]
        blocks.append(sp.bmat(part, format="csr"))
    return sp.vstack(blocks, format="csr")


def _positive_margins(constraints, known):
    """One programme: a direction in the recession cone (every margin >= 0) that makes
    as many of the rows not in ``known`` positive as it can (``max sum t_r``,
    ``0 <= t_r <= margin_r``, ``t_r <= 1``, ``|d| <= SEPARATION_BOX``); the mask of
    the rows it makes positive, or None if the programme fails."""
    n_rows, n_vars = constraints.shape
    open_rows = np.flatnonzero(~known)
    # -margin_r(d) + t_r <= 0 for the open rows; -margin_r(d) <= 0 for the known ones.
    slack = sp.csr_matrix((np.ones(len(open_rows)), (open_rows, np.arange(len(open_rows)))),
                          shape=(n_rows, len(open_rows)))
    A_ub = sp.hstack([constraints, slack], format="csr")
    objective = np.r_[np.zeros(n_vars), -np.ones(len(open_rows))]
    bounds = [(-SEPARATION_BOX, SEPARATION_BOX)] * n_vars + [(0, 1)] * len(open_rows)
    result = linprog(objective, A_ub=A_ub, b_ub=np.zeros(n_rows), bounds=bounds,
                     method="highs")
    if result.status != 0:
        return None
    margins = -(constraints @ result.x[:n_vars])
    return margins > SEPARATION_EPS


def separation(X, y_true, sample_weight, fit_intercept, n_classes, reference):
    """Where a (quasi-)complete separation leaves the coefficients unbounded.

    Separation exists when some direction ``d`` of the free parameters lowers no row's
    margin ``z[i, y_i] - z[i, k]`` and raises at least one: the log-likelihood keeps
    rising along ``d``. Such directions form a convex cone. Linear programmes
    (:func:`_positive_margins`) find the rows ``S`` that some direction of the cone
    separates, adding rows until none is left (the sum of two directions of the cone is
    one). Every direction of the cone keeps the other rows' margins at 0, and near a
    direction separating all of ``S`` every direction of the space ``L`` those
    equations leave is in the cone: the coefficients that move in ``L`` are those that
    diverge (all the classes' for a class that is an interval of one column; only the
    column's own where a dummy is 1 in one class's rows alone). Columns are scaled to a
    largest entry of 1.

    Returns
    -------
    diverging : ndarray of bool of shape (n_classes, n_columns) or None
        Per class and column (the intercept last), whether that coefficient diverges;
        all False without separation; None when the programme would be too large
        (rows x (classes - 1) x 2 x columns above MAX_SEPARATION_NONZEROS).
    """
    keep = sample_weight > 0
    design = _design(X, fit_intercept)[keep]
    design = sp.csr_matrix(design) if sp.issparse(design) else np.asarray(design)
    y_true = y_true[keep]
    n_rows, n_cols = design.shape
    free = [k for k in range(n_classes) if k != reference]
    diverging = np.zeros((n_classes, n_cols), dtype=bool)
    if n_rows * (n_classes - 1) * 2 * n_cols > MAX_SEPARATION_NONZEROS:
        return None
    column_max = abs(design).max(axis=0)
    column_max = np.asarray(column_max.toarray() if sp.issparse(column_max)
                            else column_max).ravel()
    column_max[column_max == 0] = 1
    design = sp.csr_matrix(design @ sp.diags(1 / column_max))
    constraints = _margin_matrix(design, y_true, n_classes, free)
    separated_rows = np.zeros(constraints.shape[0], dtype=bool)
    while not separated_rows.all():
        found = _positive_margins(constraints, separated_rows)
        if found is None or not (found & ~separated_rows).any():
            break
        separated_rows |= found
    if not separated_rows.any():
        return diverging
    # L = {d : margin_r(d) = 0 for the rows not separated}: its coordinates that move.
    tied = constraints[~separated_rows]
    gram = np.asarray((tied.T @ tied).toarray()) if tied.shape[0] else np.zeros(
        (constraints.shape[1],) * 2)
    eigenvalues, vectors = np.linalg.eigh(gram)
    null = eigenvalues <= 1e-10 * max(eigenvalues.max(initial=0.0), 1.0)
    moving = np.sum(vectors[:, null] ** 2, axis=1) > 1e-8
    diverging[free] = moving.reshape(len(free), n_cols)
    return diverging


def separated_classes(X, y_true, sample_weight, fit_intercept, n_classes, reference):
    """The classes with a diverging coefficient (:func:`separation`), bool per class;
    None when the programme would be too large."""
    diverging = separation(X, y_true, sample_weight, fit_intercept, n_classes, reference)
    return None if diverging is None else diverging.any(axis=1)
