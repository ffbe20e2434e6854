"""The objective J and its gradient, evaluated in cache-sized row blocks, optionally threaded."""

# SPDX-License-Identifier: BSD-3-Clause

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ._loss import nll_gradient_inplace
from ._network import ACTIVATIONS, DERIVATIVES

#: Bytes of one row block's data and activations: small enough to stay in a core's
#: L2 cache between the forward product and the backward product.
BLOCK_BYTES = 2**18

#: Below this many values of X and activations a fit is not worth a second thread.
MIN_VALUES_PER_THREAD = 2**20


def _row_blocks(X, block_rows):
    """Split X into row blocks without copying: views of a dense or CSR X.

    Returns a list of ``(rows, X_block)``; a CSC X (which cannot be sliced by rows
    without a copy) is one block.
    """
    n_samples = X.shape[0]
    bounds = list(range(0, n_samples, block_rows)) + [n_samples]
    if sp.issparse(X) and X.format != "csr":
        return [(slice(0, n_samples), X)]
    blocks = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        if sp.issparse(X):
            lo, hi = X.indptr[start], X.indptr[stop]
            indptr = X.indptr[start : stop + 1] - lo
            block = sp.csr_matrix(
                (X.data[lo:hi], X.indices[lo:hi], indptr),
                shape=(stop - start, X.shape[1]),
                copy=False,
            )
        else:
            block = X[start:stop]
        blocks.append((slice(start, stop), block))
    return blocks


class Objective:
    """``theta -> (J, dJ/dtheta)`` for one data set, with per-fit preparation.

    ::

        J(theta) = sum_i w_i * NLL_i + l2_reg_strength/2 * sum_l ||W_l||_F^2
        w_i      = s_i / S,   Delta_L = w * (P - Y)
        dJ/dW_l  = A_{l-1}.T @ Delta_l + l2_reg_strength * W_l
        dJ/db_l  = sum_i Delta_l[i]
        Delta_{l-1} = (Delta_l @ W_l.T) * f'(Z_{l-1})

    With ``l2_reg_strength = alpha / S`` this is MATH.md's ``J``. Rows are processed
    in blocks of about ``BLOCK_BYTES``: each block's forward and backward products
    run while the block is still in cache, and the activations are stored
    unit-major (``A_l.T``) so that every reduction runs along a contiguous axis.
    The passes run in ``X.dtype``; the loss and the gradient accumulate in float64.
    Blocks are shared among ``n_threads`` threads when the data is large enough
    (BLAS is limited to one thread meanwhile). Use as a context manager.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y_true : ndarray of int of shape (n_samples,)
        Class codes in ``0 .. n_classes - 1``.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights ``s`` with a positive sum.
    layout : ParamLayout
    activation : {"identity", "logistic", "tanh", "relu"}
    l2_reg_strength : float
    n_threads : int, default=1
    """

    def __init__(
        self, X, y_true, sample_weight, layout, activation, l2_reg_strength, n_threads=1
    ):
        self.X, self.layout, self.activation = X, layout, activation
        self.l2_reg_strength = l2_reg_strength
        self.dtype = X.dtype
        units = sum(layout.layer_units[1:])
        n_samples, n_features = X.shape
        row_values = (X.nnz / n_samples if sp.issparse(X) else n_features) + units
        block_rows = max(32, int(BLOCK_BYTES // (X.dtype.itemsize * row_values)))
        weight = np.asarray(sample_weight, dtype=np.float64) / np.sum(sample_weight)
        self.blocks = []
        for rows, X_block in _row_blocks(X, block_rows):
            n_rows = rows.stop - rows.start
            label_index = y_true[rows] * n_rows + np.arange(n_rows)
            w = weight[rows]
            self.blocks.append((X_block, label_index, w, w.astype(self.dtype)))
        n_useful = max(1, int(n_samples * row_values // MIN_VALUES_PER_THREAD))
        self.n_threads = max(1, min(n_threads, n_useful, len(self.blocks)))
        self._executor = self._limits = None

    def __enter__(self):
        self._limits = threadpool_limits(limits=1, user_api="blas")
        if self.n_threads > 1:
            self._executor = ThreadPoolExecutor(self.n_threads)
        return self

    def __exit__(self, *exc_info):
        if self._executor is not None:
            self._executor.shutdown()
        self._limits.restore_original_limits()
        self._executor = self._limits = None

    def __call__(self, theta):
        """Return ``J(theta)`` and its gradient, both float64."""
        coefs, intercepts = self.layout.unpack(theta, self.dtype)
        shares = [self.blocks[t :: self.n_threads] for t in range(self.n_threads)]
        if self._executor is None:
            results = [self._sums(blocks, coefs, intercepts) for blocks in shares]
        else:
            futures = [
                self._executor.submit(self._sums, blocks, coefs, intercepts)
                for blocks in shares
            ]
            results = [future.result() for future in futures]
        loss = sum(result[0] for result in results)
        coef_grads = [sum(g) for g in zip(*(result[1] for result in results))]
        intercept_grads = [sum(g) for g in zip(*(result[2] for result in results))]
        gradient = self.layout.pack(coef_grads, intercept_grads)
        weights = theta[: self.layout.n_coef]
        loss += 0.5 * self.l2_reg_strength * float(weights @ weights)
        gradient[: self.layout.n_coef] += self.l2_reg_strength * weights
        return loss, gradient

    def _sums(self, blocks, coefs, intercepts):
        """Loss and gradient sums over some row blocks, in float64."""
        coef_grads = [np.zeros(c.shape) for c in coefs]
        intercept_grads = [np.zeros(b.shape) for b in intercepts]
        loss = 0.0
        for X_block, label_index, weight, weight_x in blocks:
            activations = self._forward_t(X_block, coefs, intercepts)
            delta_t = activations.pop()
            loss += nll_gradient_inplace(delta_t, label_index, weight, weight_x)
            for l in range(len(coefs) - 1, -1, -1):
                previous = activations[l - 1].T if l > 0 else X_block
                coef_grads[l] += previous.T @ delta_t.T
                intercept_grads[l] += delta_t.sum(axis=1)
                if l > 0:
                    delta_t = coefs[l] @ delta_t
                    DERIVATIVES[self.activation](activations[l - 1], delta_t)
        return loss, coef_grads, intercept_grads

    def _forward_t(self, X_block, coefs, intercepts):
        """Return ``[A_1.T, ..., A_{L-1}.T, Z_L.T]``, each C-contiguous (units, rows)."""
        activations = []
        previous_t = None
        for l, (coef, intercept) in enumerate(zip(coefs, intercepts)):
            if l == 0 and sp.issparse(X_block):
                Z_t = np.ascontiguousarray((X_block @ coef).T)
            else:
                previous = X_block.T if l == 0 else previous_t
                Z_t = np.matmul(coef.T, previous)
            Z_t += intercept[:, np.newaxis]
            if l < len(coefs) - 1:
                ACTIVATIONS[self.activation](Z_t)
            activations.append(Z_t)
            previous_t = Z_t
        return activations


def loss_gradient(theta, X, y_true, sample_weight, layout, activation, l2_reg_strength):
    """Return ``J(theta)`` and its gradient; a one-off :class:`Objective` evaluation."""
    with Objective(X, y_true, sample_weight, layout, activation, l2_reg_strength) as obj:
        return obj(theta)
