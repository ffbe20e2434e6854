"""Whether softmax regression's parameters are identified and its maximum-likelihood
estimate exists: the rank of the design, and complete or quasi-complete separation
(docs/math.md, "Covariance and standard errors")."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from ._prepare import shorten

#: Eigenvalues of the design's correlation matrix at most this (relative to the
#: largest) count as zero: the design is rank-deficient.
RANK_TOL = 1e-10

#: Separation is checked by a linear programme only while its constraint matrix has
#: at most this many non-zeros (rows x (classes - 1) x 2 x columns).
MAX_SEPARATION_NONZEROS = 20_000_000


class SeparationWarning(UserWarning):
    """The classes are (quasi-)completely separated: the maximum-likelihood estimate
    does not exist, and the statistics of the affected classes are NaN."""


def _design(X, fit_intercept):
    """``X~ = [X, 1]`` (the ones only with an intercept), dense or CSR."""
    if not fit_intercept:
        return X
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    return sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([X, ones])


def check_design_rank(X, sample_weight, fit_intercept, names):
    """Raise ValueError naming the columns if the weighted design ``X~`` is
    rank-deficient (a constant column with an intercept, a duplicated column, a
    column of zeros): the likelihood then has a flat direction."""
    design = _design(X, fit_intercept)
    names = list(names) + (["intercept"] if fit_intercept else [])
    gram = design.T @ (sp.diags(sample_weight) @ design if sp.issparse(design)
                       else design * sample_weight[:, np.newaxis])
    gram = gram.toarray() if sp.issparse(gram) else np.asarray(gram, dtype=np.float64)
    scale = np.sqrt(np.diag(gram))
    zero = scale == 0
    scale[zero] = 1
    eigenvalues, eigenvectors = np.linalg.eigh(gram / np.outer(scale, scale))
    null = eigenvalues <= RANK_TOL * max(eigenvalues.max(), 1)
    involved = zero | np.any(np.abs(eigenvectors[:, null]) > 1e-6, axis=1)
    if null.any() or zero.any():
        rank = len(names) - max(int(null.sum()), int(zero.sum()))
        design_name = "the design (with the intercept)" if fit_intercept else "the design"
        raise ValueError(
            f"The model is not identified: {design_name} has rank {rank} of "
            f"{len(names)} columns; {shorten(np.array(names)[involved])} are linear "
            "combinations of each other (a constant column with the intercept, a "
            "duplicated or all-zero column). Drop the redundant column(s) and refit.")


def separated_classes(X, y_true, sample_weight, fit_intercept, n_classes, reference):
    """The classes whose coefficients a (quasi-)complete separation leaves unbounded.

    Separation exists when some direction ``d`` of the free parameters never lowers
    any row's margin ``z[i, y_i] - z[i, k]``: the log-likelihood then keeps rising
    along ``d``. A linear programme maximises the sum of the margins over
    ``|d| <= 1`` (columns scaled to a largest entry of 1); a positive optimum is a
    separation, and the classes with non-zero parts of ``d`` are returned.

    Returns
    -------
    classes : ndarray of bool of shape (n_classes,) or None
        None when the programme would be too large to solve (not checked).
    """
    keep = sample_weight > 0
    design = _design(X, fit_intercept)[keep]
    design = sp.csr_matrix(design) if sp.issparse(design) else np.asarray(design)
    y_true = y_true[keep]
    n_rows, n_cols = design.shape
    free = [k for k in range(n_classes) if k != reference]
    if n_rows * (n_classes - 1) * 2 * n_cols > MAX_SEPARATION_NONZEROS:
        return None
    column_max = abs(design).max(axis=0)
    column_max = np.asarray(column_max.toarray() if sp.issparse(column_max)
                            else column_max).ravel()
    column_max[column_max == 0] = 1
    design = sp.csr_matrix(design @ sp.diags(1 / column_max))
    block = {k: b for b, k in enumerate(free)}
    blocks = []
    for k in range(n_classes):  # rows i with y_i != k: margin z[i, y_i] - z[i, k]
        rows = np.flatnonzero(y_true != k)
        if not len(rows):
            continue
        part = [[None] * len(free)]
        for label in free:
            coef = np.where(y_true[rows] == label, -1.0, 0.0) + (label == k)
            part[0][block[label]] = sp.diags(coef) @ design[rows]
        blocks.append(sp.bmat(part, format="csr"))
    constraints = sp.vstack(blocks, format="csr")  # -margins <= 0
    objective = np.asarray(constraints.sum(axis=0)).ravel()  # minimise -sum margins
    result = linprog(objective, A_ub=constraints, b_ub=np.zeros(constraints.shape[0]),
                     bounds=(-1, 1), method="highs")
    if result.status != 0 or -result.fun <= 1e-7 * max(n_rows, 1):
        return np.zeros(n_classes, dtype=bool)
    direction = np.abs(result.x.reshape(len(free), n_cols)) > 1e-9
    separated = np.zeros(n_classes, dtype=bool)
    separated[free] = direction.any(axis=1)
    return separated
