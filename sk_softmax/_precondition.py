"""Preconditioning: the first layer searched in the coordinates of centred, scaled inputs
(the column moments every back-end computes, and the map between those coordinates and
``theta``)."""

# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Values of X a block of the moments' pass holds (dense X; copies of one block only),
#: and the same on a device (array-API X), where fewer, larger blocks launch fewer kernels.
MOMENT_BLOCK_VALUES = 2**16
DEVICE_MOMENT_BLOCK_VALUES = 2**24
#: Stored entries a slice of a sparse X holds in the moments' passes (their temporaries
#: are a few arrays of this length; the sums are kept for the whole X at once).
SPARSE_MOMENT_ENTRIES = 2**14

#: The centring ``mu`` is kept to this many bits below a column's scale (about 1e-6 of
#: it): enough to centre, and a mean of rounding size is exactly zero.
MEAN_BITS = 20

#: A whitening matrix is kept to this many bits of each row's largest entry.
MATRIX_BITS = 30

#: Whitening (a full ``M``) is considered for softmax regression on dense X with at most
#: ``WHITENING_FEATURES_PER_CLASS * n_classes`` (and at most ``MAX_WHITENED_FEATURES``)
#: features: its ``p x p`` covariance costs ``n p**2`` once, at most 8 evaluations of J
#: (each about ``4 n p K``), its eigendecomposition ``p**3``, and each product with it
#: ``p**2`` per class, far below a pass over X.
WHITENING_FEATURES_PER_CLASS = 32
MAX_WHITENED_FEATURES = 1024
#: ... and with at least this many rows per feature: the correlation matrix of fewer
#: rows is singular or nearly so by construction, not because the columns are
#: collinear, and whitening would amplify directions the rows do not determine.
WHITENING_ROWS_PER_FEATURE = 10

#: ... and used where the columns' correlation matrix has a condition number above this
#: (nearly collinear columns, which a diagonal cannot separate).
WHITEN_CONDITION = 1e3

#: Eigenvalues of the whitened matrix (relative to its largest) are floored here, so that
#: directions the data hardly determine are amplified at most ``1000`` times.
WHITENING_FLOOR = 1e-6


@dataclass
class LabelMoments:
    """Per-label weighted moments of X's columns: what one pass over X gives.

    Means and sums of squares are kept in per-column units, powers of two at least
    as large as the column's largest absolute value seen, so that no square overflows
    or underflows whatever the column's scale (a column of 1e300s, or of 1e-300s).

    Attributes
    ----------
    weight : ndarray of float64 of shape (n_labels,)
        Sum of the row weights of each label.
    mean : ndarray of float64 of shape (n_labels, n_features)
        Weighted column means of each label's rows, in ``unit`` (0 where a label has
        no weight).
    m2 : ndarray of float64 of shape (n_labels, n_features)
        ``sum_i w_i ((x_ij - mean_j) / unit_j)**2`` over each label's rows.
    unit : ndarray of float64 of shape (n_features,)
        Powers of two; 0 for a column with no non-zero value yet.
    """

    weight: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    unit: np.ndarray

    def in_unit(self, unit):
        """The same moments in ``unit`` (at least this one's): exact power-of-two
        rescaling."""
        ratio = np.divide(self.unit, unit, out=np.zeros_like(unit), where=unit > 0)
        return LabelMoments(self.weight, self.mean * ratio, self.m2 * ratio**2, unit)

    def merged(self, other):
        """The moments of both sets of rows (Chan, Golub and LeVeque's pairwise update:
        no sum of squares is ever subtracted from another)."""
        unit = np.maximum(self.unit, other.unit)
        a, b = self.in_unit(unit), other.in_unit(unit)
        weight = a.weight + b.weight
        safe = np.where(weight > 0, weight, 1.0)[:, np.newaxis]
        delta = b.mean - a.mean
        share = b.weight[:, np.newaxis] / safe
        mean = a.mean + delta * share
        m2 = a.m2 + b.m2 + delta**2 * a.weight[:, np.newaxis] * share
        return LabelMoments(weight, mean, m2, unit)

    def take(self, index, n_labels):
        """These moments placed at rows ``index`` of ``n_labels`` (zeros elsewhere)."""
        moments = empty_moments(n_labels, self.mean.shape[1])
        moments.weight[index], moments.mean[index], moments.m2[index] = (
            self.weight, self.mean, self.m2)
        moments.unit = self.unit
        return moments

    def pooled(self, label_weights):
        """``(weight, mean, std)`` of all rows, label ``k``'s weights multiplied by
        ``label_weights[k]`` (the class weights): the weighted column means and
        standard deviations, in X's own units."""
        weight = self.weight * label_weights
        total = weight.sum()
        mean = weight @ self.mean / total
        within = label_weights @ self.m2
        between = weight @ (self.mean - mean) ** 2
        return total, mean * self.unit, np.sqrt((within + between) / total) * self.unit


def empty_moments(n_labels, n_features):
    """The moments of no rows."""
    return LabelMoments(np.zeros(n_labels), np.zeros((n_labels, n_features)),
                        np.zeros((n_labels, n_features)), np.zeros(n_features))


def column_unit(largest):
    """The smallest power of two above ``largest`` (per column; 0 where it is 0),
    between the smallest normal float64 and ``2**1023`` (so that it and its reciprocal
    are finite)."""
    largest = np.asarray(largest, dtype=np.float64)
    _, exponent = np.frexp(largest)
    unit = np.ldexp(1.0, np.clip(exponent, -1022, 1023))
    return np.where(largest > 0, unit, 0.0)


def _reciprocal(unit):
    """``1 / unit``, 1 where ``unit`` is 0 (an all-zero column: nothing to scale)."""
    return 1 / np.where(unit > 0, unit, 1.0)


def label_moments(X, codes, weight, n_labels, xp=None, to_host=np.asarray,
                  dtype=None):
    """The :class:`LabelMoments` of X's rows by label, in one pass of row blocks.

    Each block's moments are exact two-pass sums (the block's label means first, then
    the squares of the deviations from them), in units of the block's column maxima,
    merged block by block.

    Parameters
    ----------
    X : {ndarray, sparse matrix, array of ``xp``} of shape (n_samples, n_features)
    codes : ndarray of int of shape (n_samples,)
        Label codes in ``0 .. n_labels - 1`` (on the host).
    weight : ndarray of float64 of shape (n_samples,)
        Row weights (on the host).
    n_labels : int
    xp : array-API namespace or None, default=None
        X's namespace (None: numpy). The blocks are reduced where X is; only the
        ``(n_labels, n_features)`` results come to the host, through ``to_host``.
    to_host : callable, default=np.asarray
        An array of ``xp`` as a numpy array.
    dtype : dtype of ``xp`` or None, default=None
        The dtype the sums run in (None: float64).
    """
    if sp.issparse(X):
        return _sparse_moments(X, codes, weight, n_labels)
    n_samples, n_features = X.shape
    moments = empty_moments(n_labels, n_features)
    values = MOMENT_BLOCK_VALUES if xp is None else DEVICE_MOMENT_BLOCK_VALUES
    block_rows = max(1, values // max(n_features, 1))
    if xp is None:
        from sklearn.externals.array_api_compat import numpy as xp
    for start in range(0, n_samples, block_rows):
        rows = slice(start, min(start + block_rows, n_samples))
        moments = moments.merged(_dense_moments(
            X[rows, ...], codes[rows], weight[rows], n_labels, xp, to_host,
            xp.float64 if dtype is None else dtype))
    return moments


def _dense_moments(X, codes, weight, n_labels, xp, to_host, dtype):
    """One dense block's moments by label: its sums are products with the weighted
    one-hot labels, computed where X is."""
    device = getattr(X, "device", None)
    one_hot = (codes[:, np.newaxis] == np.arange(n_labels)).astype(np.float64)
    weighted = one_hot * weight[:, np.newaxis]
    label_weight = weighted.sum(axis=0)
    safe = np.where(label_weight > 0, label_weight, 1)[:, np.newaxis]
    X = xp.astype(X, dtype, copy=False)
    largest = xp.max(xp.abs(X), axis=0) if X.shape[0] else xp.zeros(X.shape[1:])
    unit = column_unit(to_host(largest))
    X = X * xp.asarray(_reciprocal(unit), dtype=dtype, device=device)
    weighted, one_hot, safe = (xp.asarray(a, dtype=dtype, device=device)
                               for a in (weighted, one_hot, safe))
    mean = xp.matmul(weighted.T, X) / safe
    deviation = X - xp.matmul(one_hot, mean)
    m2 = xp.matmul(weighted.T, deviation * deviation)
    return LabelMoments(label_weight, np.asarray(to_host(mean), dtype=np.float64),
                        np.asarray(to_host(m2), dtype=np.float64), unit)


def _sparse_entries(X, step):
    """Yield ``(rows, columns, values)`` of a CSR or CSC matrix's stored entries, in
    slices of ``step`` entries (views of its arrays; no conversion, no copy of X)."""
    csr, indptr = X.format == "csr", X.indptr
    for start in range(0, X.nnz, step):
        stop = min(start + step, X.nnz)
        first, last = np.searchsorted(indptr, [start, stop - 1], side="right") - 1
        counts = np.diff(np.clip(indptr[first:last + 2], start, stop))
        major = np.repeat(np.arange(first, last + 1), counts)
        minor = X.indices[start:stop]
        yield (major, minor, X.data[start:stop]) if csr else (minor, major, X.data[start:stop])


def _sparse_moments(X, codes, weight, n_labels):
    """The moments of a CSR or CSC X by label, from its stored entries only (never
    densified, never converted), in slices of :data:`SPARSE_MOMENT_ENTRIES` entries::

        m2 = sum over stored (x - mean)**2 w + mean**2 * (weight of the rows storing 0)

    Three passes over the entries: the column maxima (the units), the sums, the squared
    deviations from the label means (exact two-pass sums)."""
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    n_features = X.shape[1]
    size = n_labels * n_features
    largest = np.zeros(n_features)
    for _, columns, values in _sparse_entries(X, SPARSE_MOMENT_ENTRIES):
        np.maximum.at(largest, columns, np.abs(values))
    unit = column_unit(largest)
    reciprocal = _reciprocal(unit)
    label_weight = np.bincount(codes, weights=weight, minlength=n_labels)
    sums = np.zeros(size)
    for rows, columns, values in _sparse_entries(X, SPARSE_MOMENT_ENTRIES):
        cell = codes[rows] * n_features + columns
        np.add.at(sums, cell, weight[rows] * values * reciprocal[columns])
    safe = np.where(label_weight > 0, label_weight, 1)[:, np.newaxis]
    mean = sums.reshape(n_labels, n_features) / safe
    stored, stored_weight = np.zeros(size), np.zeros(size)
    for rows, columns, values in _sparse_entries(X, SPARSE_MOMENT_ENTRIES):
        cell = codes[rows] * n_features + columns
        deviation = values * reciprocal[columns] - mean.ravel()[cell]
        np.add.at(stored, cell, weight[rows] * deviation**2)
        np.add.at(stored_weight, cell, weight[rows])
    zeros_weight = np.maximum(label_weight[:, np.newaxis]
                              - stored_weight.reshape(n_labels, n_features), 0)
    m2 = stored.reshape(n_labels, n_features) + mean**2 * zeros_weight
    return LabelMoments(label_weight, mean, m2, unit)


def scaled_covariance(X, weight, centre, scale, xp=None, to_host=np.asarray, dtype=None):
    """``sum_i w_i z_i z_i^T`` with ``z_i = (x_i - centre) / scale`` (the weighted second
    moments of the scaled columns: never a square of X's own values), for a dense X, by
    row blocks, computed where X is.

    Parameters
    ----------
    X : {ndarray, array of ``xp``} of shape (n_samples, n_features)
    weight : ndarray of float64 of shape (n_samples,)
        Row weights (on the host).
    centre, scale : ndarray of shape (n_features,)
    xp, to_host, dtype
        As for :func:`label_moments`.
    """
    if xp is None:
        from sklearn.externals.array_api_compat import numpy as xp
    dtype = xp.float64 if dtype is None else dtype
    device = getattr(X, "device", None)
    n_samples, n_features = X.shape
    values = MOMENT_BLOCK_VALUES if xp.__name__.endswith("numpy") else (
        DEVICE_MOMENT_BLOCK_VALUES)
    block_rows = max(1, values // max(n_features, 1))
    centre, reciprocal = (xp.asarray(a, dtype=dtype, device=device)
                          for a in (centre, 1 / np.asarray(scale, dtype=np.float64)))
    total = np.zeros((n_features, n_features))
    for start in range(0, n_samples, block_rows):
        stop = min(start + block_rows, n_samples)
        z = (xp.astype(X[start:stop, ...], dtype, copy=False) - centre) * reciprocal
        w = xp.asarray(np.ascontiguousarray(weight[start:stop])[:, np.newaxis], dtype=dtype,
                       device=device)
        total += np.asarray(to_host(xp.matmul(z.T, z * w)), dtype=np.float64)
    return total


class Preconditioner:
    """``theta = T phi``: the first layer searched in the coordinates of centred, scaled
    inputs, every other parameter as it is (docs/math.md, "Preconditioning")::

        W_1 = M U,   b_1 = c - mu @ W_1

    ``phi`` holds ``U`` and ``c`` where ``theta`` holds ``W_1`` and ``b_1`` (same shapes,
    same places; see the Conventions of :class:`~sk_softmax._network.ParamLayout`).
    Then ``Z_1 = X W_1 + b_1 = ((X - mu) M) U + c``: the solver sees the inputs centred
    and scaled, while the data passes still read X as it is. ``J(phi) = J(T phi)``, so
    the minimiser is the same, and::

        dJ/dU = M^T (dJ/dW_1 - outer(mu, dJ/db_1)),   dJ/dc = dJ/db_1

    Parameters
    ----------
    layout : ParamLayout
    mean : ndarray of shape (n_features,)
        ``mu``; zeros without intercepts (``b_1`` is then fixed at zero).
    scale : ndarray of shape (n_features,) or (n_features, n_features)
        ``M``: a diagonal (given as a vector) or a full symmetric matrix.
    """

    def __init__(self, layout, mean, scale):
        self.layout, self.mean, self.scale = layout, mean, scale
        n_features = layout.layer_units[0]
        self._coef = layout._slices[0]
        self._intercept = layout._slices[len(layout.shapes)] if layout.fit_intercept else None
        self._shape = (n_features, -1)
        self.inverse = 1 / scale if scale.ndim == 1 else np.linalg.inv(scale)

    def _times(self, matrix, values):
        return matrix[:, np.newaxis] * values if matrix.ndim == 1 else matrix @ values

    def to_theta(self, phi):
        """``theta = T phi``."""
        theta = np.array(phi, dtype=np.float64)
        coef = self._times(self.scale, phi[self._coef].reshape(self._shape))
        theta[self._coef] = coef.ravel()
        if self._intercept is not None:
            theta[self._intercept] = phi[self._intercept] - self.mean @ coef
        return theta

    def to_phi(self, theta):
        """``phi = T^-1 theta`` (a warm start's parameters in the solver's coordinates)."""
        phi = np.array(theta, dtype=np.float64)
        coef = theta[self._coef].reshape(self._shape)
        phi[self._coef] = self._times(self.inverse, coef).ravel()
        if self._intercept is not None:
            phi[self._intercept] = theta[self._intercept] + self.mean @ coef
        return phi

    def gradient(self, gradient):
        """``T^T gradient``: a gradient (or Hessian product) in ``theta`` as one in ``phi``."""
        out = np.array(gradient, dtype=np.float64)
        coef = gradient[self._coef].reshape(self._shape)
        if self._intercept is not None:
            coef = coef - np.outer(self.mean, gradient[self._intercept])
        out[self._coef] = self._times(self.scale.T, coef).ravel()
        return out


def preconditioner(layout, mean, std, l2_reg_strength, covariance=None):
    """The :class:`Preconditioner` of a fit, from the weighted column moments.

    ``M`` makes the first layer's Hessian at the start (its feature part: the second
    moments of the centred columns, ``cov(X)`` times a class factor about ``1/K``,
    plus the penalty's ``l2_reg_strength``) about the identity::

        s_j = sqrt(std_j**2 + K * l2_reg_strength)               (a column's scale)
        M   = diag(1 / s_j), each rounded to a power of two      (diagonal, Jacobi)
        M   = D^-1 R^-1/2,  R = D^-1 (cov + K l2 I) D^-1,  D = diag(s_j)   (full)

    The full ``M`` (whitening, ``R``'s eigenvalues floored at :data:`WHITENING_FLOOR`
    times its largest) where ``covariance`` is given and the columns are nearly
    collinear, ``R``'s condition number above :data:`WHITEN_CONDITION`; the diagonal
    otherwise (benchmarks/RESULTS.md, "Raw data": whitening takes 5-200x fewer
    iterations on nearly collinear columns, and 1.2-26x more on the merely correlated
    pixels of digits, whose optimum is nearly separated).

    The diagonal's powers of two make ``M`` exact to apply and the same whatever the
    last bits of the moments (in memory, on dask, on a device), and ``mu`` is rounded to
    :data:`MEAN_BITS` bits below the column's scale: on standardised columns (scale 1,
    mean 0 to that precision) ``T`` is the identity, and the fit is the one without a
    preconditioner. Without intercepts nothing is centred and ``std`` is the root mean
    square about zero. A column with no spread and no penalty keeps ``M_jj = 1``.

    Parameters
    ----------
    layout : ParamLayout
    mean, std : ndarray of shape (n_features,)
        Weighted column means and standard deviations.
    l2_reg_strength : float
        ``alpha / S``.
    covariance : callable or None
        ``covariance(centre, scale)``: :func:`scaled_covariance` of the data under the
        fit's normalised weights, to consider a full ``M``; None for the diagonal.
    """
    n_classes = layout.layer_units[-1]
    mean = np.asarray(mean, dtype=np.float64)
    centre = mean if layout.fit_intercept else np.zeros_like(mean)
    if not layout.fit_intercept:  # nothing is centred: the root mean square about 0
        std = np.hypot(std, mean)
    shift = n_classes * l2_reg_strength
    root = np.hypot(std, np.sqrt(shift))
    root = np.where(root > 0, root, 1.0)
    if covariance is not None:
        correlation = covariance(centre, root) + np.diag((np.sqrt(shift) / root) ** 2)
        spread = std > 0
        correlation[~spread, :] = correlation[:, ~spread] = 0
        correlation[~spread, ~spread] = 1
        eigenvalues, vectors = np.linalg.eigh(correlation)
        if not eigenvalues[0] * WHITEN_CONDITION >= eigenvalues[-1]:
            eigenvalues = np.maximum(eigenvalues, WHITENING_FLOOR * eigenvalues[-1])
            scale = (vectors / np.sqrt(eigenvalues)) @ vectors.T / root[:, np.newaxis]
            # each row to MATRIX_BITS bits of its largest entry: the same matrix whatever
            # the last bits of the moments (the eigenvectors amplify them ~1000 times)
            unit = np.exp2(np.ceil(np.log2(np.abs(scale).max(axis=1))) - MATRIX_BITS)
            scale = np.round(scale / unit[:, np.newaxis]) * unit[:, np.newaxis]
            return Preconditioner(layout, _rounded(centre, 1 / root), scale)
    scale = np.exp2(-np.round(np.log2(root)))
    return Preconditioner(layout, _rounded(centre, scale), scale)


def _rounded(centre, scale):
    """``centre`` to :data:`MEAN_BITS` bits below each column's scale ``1 / scale``."""
    step = np.exp2(MEAN_BITS + np.round(np.log2(scale)))
    return np.round(centre * step) / step


class PreconditionedObjective:
    """``phi -> (J(T phi), T^T grad J)``: what the solver minimises (a context manager, as
    the objective it wraps). ``hessp(phi, v) = T^T H (T v)``."""

    def __init__(self, objective, preconditioner):
        self.objective, self.preconditioner = objective, preconditioner

    def __enter__(self):
        self.objective.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self.objective.__exit__(*exc_info)

    def __call__(self, phi):
        loss, gradient = self.objective(self.preconditioner.to_theta(phi))
        return loss, self.preconditioner.gradient(gradient)

    def hessp(self, phi, vector):
        to_theta = self.preconditioner.to_theta
        product = self.objective.hessp(to_theta(phi), to_theta(vector))
        return self.preconditioner.gradient(product)
