"""The objective J and its gradient, evaluated in cache-sized row blocks, optionally threaded."""

# SPDX-License-Identifier: BSD-3-Clause

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
import threadpoolctl

from ._loss import nll_gradient_inplace
from ._network import ACTIVATIONS, DERIVATIVES

#: Values (of X and the activations) in one row block per thread: about 600 rows of
#: 100 features, measured fastest on an Intel Xeon (OpenBLAS's AVX-512 SkylakeX
#: kernel) for float64 and float32 alike: a block stays in cache from the forward
#: product to the backward product, which are memory-bound there.
BLOCK_VALUES = 2**16
#: The same for OpenBLAS's AVX2 kernels (Haswell, Zen), where the products of a few
#: output columns are compute-bound and cache blocking saves nothing: blocks four
#: times larger make four times fewer element-wise numpy calls. Measured on an AMD
#: EPYC (Haswell kernel), one thread, per evaluation: dense 30k x 100 (10 classes)
#: 6.0-6.3 -> 5.4-5.6 ms, float32 100k x 100 12.1 -> 10.6 ms, a (64,) tanh network
#: 12.2-12.4 -> 11.7-11.8 ms (benchmarks/RESULTS.md).
BLOCK_VALUES_AVX2 = 2**18
AVX2_KERNELS = ("haswell", "zen")

#: A sparse block holds this many times more non-zeros than its dense gradient
#: product (n_features x first-layer units) has entries: each block's gradient
#: product fills and adds a dense array that size. 2 -> 8: W4 (50k x 20k, 100
#: non-zeros a row, 20 classes; 7 -> 2 blocks) 72.7-73.4 -> 68.4 ms per evaluation
#: on the AMD EPYC (one block: 67.5-68.0 ms, for more memory).
SPARSE_BLOCK_FACTOR = 8

#: Below this many values of X and activations a fit is not worth a second thread.
MIN_VALUES_PER_THREAD = 2**20


_BLAS_CONTROLLER = None


def blas_controller():
    """The BLAS libraries of this process, scanned once.

    A threadpoolctl scan of the loaded libraries costs about 10 ms; made at every
    fit, it was a large part of a small fit's time. The libraries numpy and scipy
    load are all there by the time a fit starts (sk_softmax imports both).
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = threadpoolctl.ThreadpoolController().select(user_api="blas")
    return _BLAS_CONTROLLER


def block_values():
    """Values a row block holds per thread: :data:`BLOCK_VALUES_AVX2` when every BLAS
    of the process is an OpenBLAS with an AVX2 kernel, else :data:`BLOCK_VALUES`
    (measured on AVX-512; kept for any BLAS not measured)."""
    kernels = [str(getattr(lib, "architecture", None)).lower()
               for lib in blas_controller().lib_controllers]
    if kernels and all(kernel in AVX2_KERNELS for kernel in kernels):
        return BLOCK_VALUES_AVX2
    return BLOCK_VALUES


def blas_threads():
    """Threads the BLAS may use now (1 under ``threadpool_limits(1)``)."""
    return max((lib.get_num_threads() or 1 for lib in blas_controller().lib_controllers),
               default=1)


def _release_blas_control():
    """Let the calling thread set OpenBLAS's threads.

    threadpoolctl >= 3.8 lets only one thread (the first to set a limit, until it
    is cleared) change a process-wide OpenBLAS pool; a set from any other thread is
    silently ignored. The limiter below sets and restores from whichever thread
    comes first and last, so it clears that control around each change.
    """
    controller = getattr(threadpoolctl, "OpenBLASController", None)
    clear = getattr(controller, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


class _SingleThreadedBLAS:
    """BLAS held to one thread while any objective of this process is in use.

    Reference-counted, so that fits overlapping in several threads restore the
    BLAS threads the process had before the first of them, whatever order they
    finish in (a per-fit ``threadpool_limits`` would restore the limit of 1 set by
    the other fit). The control of OpenBLAS's pool is released as soon as the limit is
    set, so that a user's ``threadpool_limits`` entered in another thread meanwhile
    takes effect; and the limits are restored at the end only where they are still
    the ones set here (a change made meanwhile by someone else stands).
    """

    def __init__(self):
        self._lock, self._users, self._limits = threading.Lock(), 0, None

    def __enter__(self):
        with self._lock:
            if self._users == 0:
                _release_blas_control()
                self._limits = blas_controller().limit(limits=1)
                _release_blas_control()
            self._users += 1

    def __exit__(self, *exc_info):
        with self._lock:
            self._users -= 1
            if self._users == 0:
                ours = all(lib.get_num_threads() == 1
                           for lib in blas_controller().lib_controllers)
                _release_blas_control()
                if ours:
                    self._limits.restore_original_limits()
                    _release_blas_control()
                self._limits = None


#: The one BLAS limiter every :class:`Objective` uses.
SINGLE_THREADED_BLAS = _SingleThreadedBLAS()


def block_rows(X, units, n_threads, first_units=None):
    """Rows of a block of the passes over X: about :func:`block_values` values (X and
    the activations' ``units``) per thread; threads share the GIL between numpy calls,
    so larger blocks mean fewer calls. A sparse block (scipy's products use no BLAS and
    hold the GIL: one thread) holds :data:`SPARSE_BLOCK_FACTOR` times the entries of
    its dense gradient product (``n_features x first_units``)."""
    n_features = X.shape[1]
    values = row_values(X, units)
    per_thread = BLOCK_VALUES if sp.issparse(X) else block_values()
    rows = max(32, int(per_thread * n_threads // values))
    if sp.issparse(X):
        first_layer = n_features * (units if first_units is None else first_units)
        rows = max(rows, int(SPARSE_BLOCK_FACTOR * first_layer / max(values - units, 1)))
    return rows


def row_values(X, units):
    """Values a row of X and its activations hold: features (non-zeros if sparse) + units."""
    n_samples, n_features = X.shape
    return (X.nnz / max(n_samples, 1) if sp.issparse(X) else n_features) + units


def _sparse_view(format, data, indices, indptr, shape):
    """A CSR or CSC matrix on the given arrays, without the copy scipy's constructor
    makes of small slices (its ``prune`` copies any view of under half its base)."""
    matrix = (sp.csr_matrix if format == "csr" else sp.csc_matrix)(shape, dtype=data.dtype)
    matrix.data, matrix.indices, matrix.indptr = data, indices, indptr
    return matrix


def row_blocks(X, rows_per_block):
    """Split X into row blocks without copying its values.

    Returns a list of ``(rows, X_block, X_block_t)``: views of a dense X (and their
    transposes), or CSR views of a CSR X with their CSC transposes, so that neither
    product of an evaluation converts a block. A CSC X, which cannot be cut into rows
    without a copy, is one block.
    """
    n_samples, n_features = X.shape
    if sp.issparse(X) and X.format != "csr":
        return [(slice(0, n_samples), X, X.T)]
    bounds = list(range(0, n_samples, rows_per_block)) + [n_samples]
    blocks = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        if sp.issparse(X):
            lo, hi = X.indptr[start], X.indptr[stop]
            arrays = (X.data[lo:hi], X.indices[lo:hi], X.indptr[start : stop + 1] - lo)
            block = _sparse_view("csr", *arrays, (stop - start, n_features))
            block_t = _sparse_view("csc", *arrays, (n_features, stop - start))
        else:
            block = X[start:stop]
            block_t = block.T
        blocks.append((slice(start, stop), block, block_t))
    return blocks


class Objective:
    """The data term ``theta -> (sum_i w_i NLL_i, its gradient)`` for one data set.

    ::

        w_i = s_i / S,   Delta_L = w * (P - Y)
        dW_l  = A_{l-1}.T @ Delta_l,   db_l = sum_i Delta_l[i]
        Delta_{l-1} = (Delta_l @ W_l.T) * f'(Z_{l-1})

    The penalty is not part of it: :class:`PenalisedObjective` adds it, in one place
    for every back-end (docs/math.md, "Data term and penalty"). Rows are processed
    in blocks of about :func:`block_values` values: each block's forward and backward
    products run while the block is still in cache, and the activations are stored
    unit-major (``A_l.T``) so that every reduction runs along a contiguous axis.
    The passes run in ``X.dtype``; the loss and the gradient accumulate in float64.
    Blocks are shared among ``n_threads`` threads when the data is large enough
    (BLAS is limited to one thread meanwhile). Use as a context manager.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y_true : ndarray of int of shape (n_samples,)
        Class codes in ``0 .. n_classes - 1``.
    weight : ndarray of float64 of shape (n_samples,)
        Normalised weights ``w_i = s_i / S``; for a chunk of a larger data set,
        ``S`` is the total of all chunks, so that its data term is its share of the
        whole.
    layout : ParamLayout
    activation : {"identity", "logistic", "tanh", "relu"}
    n_threads : int, default=1
    """

    def __init__(self, X, y_true, weight, layout, activation, n_threads=1):
        self.layout, self.activation = layout, activation
        self.dtype, self.sparse = X.dtype, sp.issparse(X)
        units = sum(layout.layer_units[1:])
        n_samples, n_features = X.shape
        values = row_values(X, units)
        n_useful = max(1, int(n_samples * values // MIN_VALUES_PER_THREAD))
        n_threads = max(1, min(n_threads, n_useful))
        rows_per_block = block_rows(X, units, n_threads, layout.layer_units[1])
        if self.sparse:  # scipy's sparse products hold the GIL: one thread
            n_threads = 1
        weight = np.asarray(weight, dtype=np.float64)
        self.blocks = []
        for rows, X_block, X_block_t in row_blocks(X, rows_per_block):
            n_rows = rows.stop - rows.start
            # Label positions in the block's (n_classes, n_rows) logits, as int32
            # where they fit (half the memory of intp).
            n_logits = n_rows * layout.layer_units[-1]
            label_index = y_true[rows] * n_rows + np.arange(n_rows)
            label_index = label_index.astype(np.int32 if n_logits < 2**31 else np.intp)
            w = weight[rows]
            w_x = w.astype(self.dtype, copy=False)
            self.blocks.append((X_block, X_block_t, label_index, w, w_x))
        self.n_threads = min(n_threads, len(self.blocks))
        # Thread t takes blocks t, t + n_threads, ...; each with that thread's
        # buffers for its number of rows, allocated here once per fit.
        workspaces = {}
        self.shares = [[] for _ in range(self.n_threads)]
        for k, block in enumerate(self.blocks):
            key = (k % self.n_threads, len(block[3]))
            if key not in workspaces:
                workspaces[key] = self._workspace(key[1])
            self.shares[key[0]].append(block + workspaces[key])
        self._executor = None

    def __enter__(self):
        SINGLE_THREADED_BLAS.__enter__()
        if self.n_threads > 1:
            self._executor = ThreadPoolExecutor(self.n_threads)
        return self

    def __exit__(self, *exc_info):
        if self._executor is not None:
            self._executor.shutdown()
        SINGLE_THREADED_BLAS.__exit__(*exc_info)
        self._executor = None

    def __call__(self, theta):
        """Return the data term and its gradient at ``theta``, both float64."""
        coefs, intercepts = self.layout.unpack(theta, self.dtype)
        if self._executor is None:  # one thread, or used outside a with block
            results = [self._sums(t, coefs, intercepts) for t in range(self.n_threads)]
        else:
            futures = [
                self._executor.submit(self._sums, t, coefs, intercepts)
                for t in range(self.n_threads)
            ]
            results = [future.result() for future in futures]
        loss = sum(result[0] for result in results)
        coef_grads = [sum(g) for g in zip(*(result[1] for result in results))]
        intercept_grads = [sum(g) for g in zip(*(result[2] for result in results))]
        return loss, self.layout.pack(coef_grads, intercept_grads)

    def _workspace(self, n_rows):
        """Buffers for a block of ``n_rows`` rows: ``(activations, deltas, grads)``.

        ``activations[l]`` holds ``A_{l+1}.T`` (the last one ``Z_L.T``), ``deltas[l]``
        the back-propagated ``Delta_{l+1}.T`` of a hidden layer, ``grads[l]`` one
        block's ``dJ/dW_{l+1}``.
        """
        units, dtype = self.layout.layer_units, self.dtype
        return (
            [np.empty((u, n_rows), dtype) for u in units[1:]],
            [np.empty((u, n_rows), dtype) for u in units[1:-1]],
            [np.empty(shape, dtype) for shape in self.layout.shapes],
        )

    def _sums(self, thread, coefs, intercepts):
        """Loss and gradient sums over this thread's share of the blocks, in float64."""
        coef_grads = [np.zeros(c.shape) for c in coefs]
        intercept_grads = [np.zeros(b.shape) for b in intercepts]
        intercepts = [b[:, np.newaxis] for b in intercepts]
        derivative = DERIVATIVES[self.activation]
        loss = 0.0
        for X_block, X_block_t, label_index, weight, weight_x, activations, deltas, grads in (
            self.shares[thread]
        ):
            self._forward_t(X_block, X_block_t, coefs, intercepts, activations)
            delta_t = activations[-1]
            loss += nll_gradient_inplace(delta_t, label_index, weight, weight_x)
            for l in range(len(coefs) - 1, -1, -1):
                if l == 0 and self.sparse:
                    coef_grads[0] += X_block_t @ delta_t.T
                else:
                    previous_t = activations[l - 1] if l > 0 else X_block_t
                    coef_grads[l] += np.matmul(previous_t, delta_t.T, out=grads[l])
                intercept_grads[l] += delta_t.sum(axis=1)
                if l > 0:
                    delta_t = np.matmul(coefs[l], delta_t, out=deltas[l - 1])
                    derivative(activations[l - 1], delta_t)
        return loss, coef_grads, intercept_grads

    def _forward_t(self, X_block, X_block_t, coefs, intercepts, activations):
        """Fill ``activations`` with ``[A_1.T, ..., A_{L-1}.T, Z_L.T]`` of one block.

        ``intercepts`` are columns, shaped ``(fan_out, 1)``.
        """
        previous_t = X_block_t
        for l, (coef, intercept, Z_t) in enumerate(zip(coefs, intercepts, activations)):
            if l == 0 and self.sparse:
                np.copyto(Z_t, (X_block @ coef).T)
            else:
                np.matmul(coef.T, previous_t, out=Z_t)
            Z_t += intercept
            if l < len(coefs) - 1:
                ACTIVATIONS[self.activation](Z_t)
            previous_t = Z_t


class L2Penalty:
    """The penalty ``l2_reg_strength / 2 * sum_l ||W_l||_F^2``: the one place that
    adds it to a value, a gradient, a Hessian-vector product or a Hessian.

    The weights are ``theta[:layout.n_coef]`` (see the Conventions of
    :class:`~sk_softmax._network.ParamLayout`); intercepts are never penalised.

    Parameters
    ----------
    layout : ParamLayout
    l2_reg_strength : float
        ``alpha / S``.
    """

    def __init__(self, layout, l2_reg_strength):
        self.n_coef, self.l2_reg_strength = layout.n_coef, l2_reg_strength

    def add(self, theta, loss, gradient):
        """Return ``loss`` plus the penalty; add its gradient to ``gradient``.

        Without a penalty nothing is added: weights too large to square (a column of
        1e-300s takes weights of 1e300) would otherwise give ``0 * inf``.
        """
        if self.l2_reg_strength == 0:
            return loss
        weights = theta[: self.n_coef]
        gradient[: self.n_coef] += self.l2_reg_strength * weights
        return loss + 0.5 * self.l2_reg_strength * float(weights @ weights)

    def add_to_product(self, vector, product):
        """Add the penalty's Hessian times ``vector`` to ``product``; return it."""
        product[: self.n_coef] += self.l2_reg_strength * vector[: self.n_coef]
        return product

    def add_to_matrix(self, hessian):
        """Add the penalty's Hessian ``l2_reg_strength * I_W`` to ``hessian``."""
        index = np.arange(self.n_coef)
        hessian[index, index] += self.l2_reg_strength
        return hessian


class PenalisedObjective:
    """``J = data term + penalty``, what the solver minimises, for any back-end.

    Parameters
    ----------
    data_term : callable
        ``theta -> (loss, gradient)`` of the data term; a context manager
        (:class:`Objective`, or the dask back-end's sum over chunks).
    penalty : L2Penalty
    data_hessp : callable or None
        ``hessp(theta, vector)`` of the data term, where the back-end has one.
    """

    def __init__(self, data_term, penalty, data_hessp=None):
        self.data_term, self.penalty, self.data_hessp = data_term, penalty, data_hessp

    def __enter__(self):
        self.data_term.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self.data_term.__exit__(*exc_info)

    def __call__(self, theta):
        """Return ``J(theta)`` and its gradient."""
        loss, gradient = self.data_term(theta)
        return self.penalty.add(theta, loss, gradient), gradient

    def hessp(self, theta, vector):
        """Return the Hessian of ``J`` at ``theta`` times ``vector``."""
        return self.penalty.add_to_product(vector, self.data_hessp(theta, vector))


def loss_gradient(theta, X, y_true, sample_weight, layout, activation, l2_reg_strength):
    """Return ``J(theta)`` and its gradient; a one-off evaluation.

    ``sample_weight`` are the ``s_i``; they are normalised by their sum ``S``.
    """
    weight = np.asarray(sample_weight, dtype=np.float64) / np.sum(sample_weight)
    data_term = Objective(X, y_true, weight, layout, activation)
    with PenalisedObjective(data_term, L2Penalty(layout, l2_reg_strength)) as objective:
        return objective(theta)
