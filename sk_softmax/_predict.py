"""Predictions of a fitted model: the output logits of X in cache-sized row blocks, or
lazily on the chunks of a dask array."""

# SPDX-License-Identifier: BSD-3-Clause

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from ._array_api import (
    check_same_namespace,
    map_logits_xp,
    model_namespace,
    predicted_labels,
)
from ._dask import is_dask_collection, map_blocks
from ._loss import log_softmax, softmax
from ._network import forward, forward_scaled
from ._objective import MIN_VALUES_PER_THREAD, SINGLE_THREADED_BLAS, blas_threads, row_values
from ._prepare import check_not_complex, check_X_shape, validated

#: Values (of X and the activations) per row block at prediction time: about 600
#: rows of 100 features, so that a block's logits stay in cache (measured faster
#: than both larger blocks and a single product on 300k x 100).
PREDICT_BLOCK_VALUES = 2**16


def read_only(array):
    """A read-only view of a fitted array: a write raises instead of being lost
    (arrays of other namespaces, which have no such flag, are returned as they are)."""
    if not isinstance(array, np.ndarray):
        return array
    view = array.view()
    view.flags.writeable = False
    return view


def n_classes(model):
    """``len(classes_)`` (0 before fit), whatever namespace holds it."""
    classes = getattr(model, "classes_", ())
    return classes.shape[0] if hasattr(classes, "shape") else len(classes)


def predictions(model, X, method):
    """The output of the prediction ``method`` of ``model`` on X.

    A model fitted on array-API arrays predicts on arrays of the same namespace and
    device (and a numpy one on numpy-like X), as LogisticRegression; an unfitted
    model is refused by :func:`map_logits`.
    """
    if hasattr(model, "coefs_"):
        check_same_namespace(X, model, method)
    n = n_classes(model)

    def labels(logits, xp=None):  # the argmax of predict_proba's own numbers (ties too)
        if xp is None:
            return model.classes_[np.argmax(softmax(logits), axis=1)]
        return predicted_labels(model.classes_, softmax(logits, xp), xp)

    if method == "decision_function" and n == 2:
        return map_logits(model, X, lambda Z, xp=None: Z[:, 1] - Z[:, 0], None)
    transform, columns = {
        "decision_function": (lambda Z, xp=None: Z, n),
        "predict": (labels, None),
        "predict_proba": (softmax, n),
        "predict_log_proba": (log_softmax, n),
    }[method]
    return map_logits(model, X, transform, columns,
                      shift_invariant=method != "decision_function")


def map_logits(model, X, transform, n_columns, shift_invariant=False):
    """Apply ``transform`` to the output logits ``Z_L`` of X, block by block.

    Dense rows are processed in blocks, so the logits (and any hidden activations)
    of only one block exist at a time and stay in cache; a sparse X is one block
    (scipy's row slices copy). A dask array gives a lazy dask array
    (``map_blocks``), with ``n_columns`` columns (None: one value a row). A model
    fitted on array-API arrays (``array_api_dispatch=True``) computes the logits of X,
    of its namespace and device, there, and calls ``transform(Z_L, xp)``.

    Parameters
    ----------
    model : fitted SoftmaxNNClassifier
    X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
    transform : callable
        ``transform(Z_L) -> ndarray`` with one row (or value) per sample.
    n_columns : int or None
    shift_invariant : bool, default=False
        Whether adding one number to a row of logits leaves ``transform`` unchanged
        (probabilities, labels): rows whose logits overflow are then given shifted.
    """
    check_is_fitted(model)
    if model_namespace(model) is None:  # numpy models: one message for every holder
        check_not_complex(X)
        check_X_shape(X, type(model).__name__, model.n_features_in_)
    if is_dask_collection(X):
        probe = map_logits(model, np.zeros((1, X.shape[1]), X.dtype), transform,
                           n_columns)
        return map_blocks(X, lambda block: map_logits(model, block, transform, n_columns,
                                                      shift_invariant), n_columns, probe.dtype)
    fitted = model_namespace(model)
    if fitted is not None:
        return map_logits_xp(model, X, transform, *fitted)
    X = validated(model, X, accept_sparse=["csr", "csc"],
                      dtype=[np.float64, np.float32], reset=False)
    n_samples = X.shape[0]
    values = row_values(X, sum(coef.shape[1] for coef in model.coefs_))
    if sp.issparse(X):
        return _in_blocks(model, X, transform, n_samples, shift_invariant)
    step = max(1, int(PREDICT_BLOCK_VALUES // values))
    n_threads = min(blas_threads(), max(1, int(n_samples * values // MIN_VALUES_PER_THREAD)))
    if n_threads == 1:
        return _in_blocks(model, X, transform, step, shift_invariant)
    # The threads the BLAS may use share the rows (each its cache-sized blocks), with
    # the BLAS on one thread meanwhile: numpy releases the GIL in the products.
    bounds = np.linspace(0, n_samples, n_threads + 1).astype(int)
    with SINGLE_THREADED_BLAS, ThreadPoolExecutor(n_threads) as executor:
        parts = list(executor.map(
            lambda rows: _in_blocks(model, X[rows[0] : rows[1]], transform, step,
                                    shift_invariant),
            zip(bounds[:-1], bounds[1:])))
    return np.concatenate(parts)


def _in_blocks(model, X, transform, step, shift_invariant=False):
    """``transform`` of the logits of X, ``step`` rows at a time, concatenated. Rows
    whose logits overflow (finite inputs of 1e307) are computed again by
    :func:`~sk_softmax._network.forward_scaled`."""
    parts = []
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], step):
            X_block = X if step >= X.shape[0] else X[start : start + step]
            logits = forward(X_block, model.coefs_, model.intercepts_, model.activation)[-1]
            bad = ~np.all(np.isfinite(logits), axis=1)
            if bad.any():
                logits = _overflowed(model, X_block, logits, bad, shift_invariant)
            parts.append(transform(logits))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _overflowed(model, X_block, logits, bad, shift_invariant):
    """``logits`` with the ``bad`` rows' replaced: for a transform that a common shift
    of a row does not change (probabilities, labels), ``scale * (Z - max Z)`` (finite, or
    -inf where a probability is 0: never NaN); for the decision function,
    ``scale * Z`` (+-inf where it overflows)."""
    rows = X_block[bad]
    rows = rows.toarray() if sp.issparse(rows) else rows
    Z, scale = forward_scaled(rows, model.coefs_, model.intercepts_, model.activation)
    if shift_invariant:
        Z = Z - Z.max(axis=1, keepdims=True)
    logits = np.array(logits, dtype=np.result_type(logits.dtype, np.float64))
    logits[bad] = scale[:, np.newaxis] * Z
    return logits
