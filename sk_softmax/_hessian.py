"""Second order of J for softmax regression: Hessian-vector products, the full Hessian
and the outer product of the per-sample scores."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp

from ._loss import softmax
from ._network import forward
from ._objective import block_rows, row_blocks


class SoftmaxHessian:
    """The Hessian of the data term of ``J`` at ``theta``, for softmax regression.

    With ``w_i = s_i / S``, ``P`` the probabilities at ``theta`` and ``x~ = [x, 1]``
    (the ``1`` only with intercepts), docs/math.md's "Second order" gives::

        H = sum_i w_i (x~_i x~_i^T) kron (diag(p_i) - p_i p_i^T)    (theta order)

        H v:  U = X @ V + v_b,   R = w * P * (U - rowsum(P * U)),
              (H v)_W = X.T @ R,   (H v)_b = sum_i R[i]

    restricted to the free parameters (the reference column of ``V`` is zero and its
    rows and columns are dropped). The penalty's part is added by
    :class:`~sk_softmax._objective.L2Penalty`. Vectors are ordered as ``theta``: see
    the Conventions of :class:`~sk_softmax._network.ParamLayout`.

    Parameters
    ----------
    theta : ndarray of float64 of shape (layout.n_params,)
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y_true : ndarray of int of shape (n_samples,)
    weight : ndarray of float64 of shape (n_samples,)
        Normalised weights ``w_i = s_i / S``.
    layout : ParamLayout
        Must have no hidden layers.
    design : {ndarray, sparse matrix} or None, default=None
        The rows ``z~_i`` the matrices are assembled on (:meth:`matrix`,
        :meth:`score_outer`), with the column of ones: the Hessian in the coordinates
        ``phi`` of ``theta = T phi`` whose design it is (docs/math.md,
        "Preconditioning"); None for ``[X, 1]`` (``theta`` itself).
    """

    def __init__(self, theta, X, y_true, weight, layout, design=None):
        if len(layout.shapes) != 1:
            raise ValueError("The Hessian is implemented for softmax regression only.")
        self.X, self.y_true, self.layout, self.weight = X, y_true, layout, weight
        self.design = design
        self.theta = theta
        coefs, intercepts = layout.unpack(theta, np.float64)
        self.proba = softmax(forward(X, coefs, intercepts, "identity")[-1])

    def product(self, vector):
        """Return ``H @ vector`` (two matrix products)."""
        coefs, intercepts = self.layout.unpack(vector, np.float64)
        U = np.asarray(self.X @ coefs[0]) + intercepts[0]
        R = U - (self.proba * U).sum(axis=1, keepdims=True)
        R *= self.proba
        R *= self.weight[:, np.newaxis]
        return self.layout.pack([np.asarray(self.X.T @ R)], [R.sum(axis=0)])

    def _blocks(self, column_weight):
        """Assemble ``sum_i c_i(j, k) x~_i x~_i^T`` over free classes ``j, k``.

        ``column_weight(j, k)`` returns the per-sample weights ``c(j, k)``; the result
        is a (n_params, n_params) matrix in ``theta`` order.
        """
        X = self._design()
        free = self.layout.free
        n_dof, n_free = X.shape[1], len(free)
        blocks = np.empty((n_dof, n_free, n_dof, n_free))
        for a, j in enumerate(free):
            for b, k in enumerate(free[a:], start=a):
                c = column_weight(j, k)
                block = X.T @ (sp.diags(c) @ X if sp.issparse(X) else X * c[:, None])
                block = block.toarray() if sp.issparse(block) else np.asarray(block)
                blocks[:, a, :, b] = block
                blocks[:, b, :, a] = block.T
        return blocks.reshape(n_dof * n_free, n_dof * n_free)

    def gradient(self):
        """Return the data term's gradient ``sum_i w_i z~_i kron (p_i - y_i)`` on the
        free classes, in ``theta`` order, on the rows of :meth:`_blocks` (the design)."""
        residual = self.proba.copy()
        residual[np.arange(len(self.y_true)), self.y_true] -= 1
        residual *= self.weight[:, np.newaxis]
        design = self._design()
        grad = np.asarray(design.T @ residual[:, self.layout.free], dtype=np.float64)
        n_features = self.layout.layer_units[0]
        return np.concatenate([grad[:n_features].ravel(), grad[n_features:].ravel()])

    def _design(self):
        """``[X, 1]`` (the ones only with an intercept), or the given design."""
        if self.design is not None:
            return self.design
        X = self.X
        if self.layout.fit_intercept:
            ones = np.ones((X.shape[0], 1))
            X = sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([X, ones])
        return X

    def matrix(self):
        """Return the full Hessian, (n_params, n_params), in ``theta`` order."""
        P, w = self.proba, self.weight
        return self._blocks(lambda j, k: w * P[:, j] * ((j == k) - P[:, k]))

    def score_outer(self):
        """Return ``sum_i w_i g_i g_i^T`` with ``g_i`` the score of sample ``i``.

        ``g_i = x~_i kron (p_i - y_i)`` on the free classes (theta order): the
        gradient of ``NLL_i``.
        """
        residual = self.proba.copy()
        residual[np.arange(len(self.y_true)), self.y_true] -= 1
        return self._blocks(lambda j, k: self.weight * residual[:, j] * residual[:, k])


class HessianProduct:
    """``hessp(theta, vector)`` of the data term, for scipy's trust-region solvers.

    The product of :meth:`SoftmaxHessian.product`, in row blocks (the data term's, of
    :func:`~sk_softmax._objective.block_rows`) and unit-major (``(n_classes, rows)``,
    so that every reduction runs along a contiguous axis) into buffers allocated once:
    ``P`` of each block is recomputed only when ``theta`` changes. Arguments as
    :class:`SoftmaxHessian`'s, without ``theta``; float64 throughout.
    """

    def __init__(self, X, y_true, weight, layout):
        if len(layout.shapes) != 1:
            raise ValueError("The Hessian is implemented for softmax regression only.")
        self.layout, self.sparse = layout, sp.issparse(X)
        n_classes = layout.layer_units[-1]
        rows = block_rows(X, n_classes, 1)
        self.blocks = []
        for index, X_block, X_block_t in row_blocks(X, rows):
            n_rows = index.stop - index.start
            self.blocks.append((X_block, X_block_t, np.asarray(weight[index], np.float64),
                                np.empty((n_classes, n_rows)), np.empty((n_classes, n_rows))))
        self.theta = None

    def _logits_t(self, X_block, X_block_t, coef, intercept, out):
        if self.sparse:
            np.copyto(out, np.asarray(X_block @ coef).T)
        else:
            np.matmul(coef.T, X_block_t, out=out)
        out += intercept[:, np.newaxis]
        return out

    def __call__(self, theta, vector):
        layout = self.layout
        if self.theta is None or not np.array_equal(theta, self.theta):
            self.theta = theta.copy()
            coefs, intercepts = layout.unpack(theta, np.float64)
            for X_block, X_block_t, _, proba_t, _ in self.blocks:
                self._logits_t(X_block, X_block_t, coefs[0], intercepts[0], proba_t)
                proba_t -= proba_t.max(axis=0)
                np.exp(proba_t, out=proba_t)
                proba_t /= proba_t.sum(axis=0)
        coefs, intercepts = layout.unpack(vector, np.float64)
        coef_grad = np.zeros(coefs[0].shape[::-1])
        intercept_grad = np.zeros(len(intercepts[0]))
        for X_block, X_block_t, weight, proba_t, buffer in self.blocks:
            U = self._logits_t(X_block, X_block_t, coefs[0], intercepts[0], buffer)
            U *= proba_t                   # P * U
            mean = U.sum(axis=0)           # rowsum(P * U)
            mean *= weight
            U *= weight
            U -= proba_t * mean            # R = w * P * (U - rowsum(P * U))
            coef_grad += np.asarray(U @ X_block) if not self.sparse else (
                np.asarray((X_block_t @ U.T).T))
            intercept_grad += U.sum(axis=1)
        return layout.pack([coef_grad.T], [intercept_grad])
