"""Fitting and predicting on array-API arrays (torch, CuPy, array-api-strict, ...) under
``sklearn.set_config(array_api_dispatch=True)``: the data preparation and the data term in
the input's namespace and on its device (L-BFGS runs on the host).

As the dask back-end does, :func:`prepare_array_api` returns a
:class:`~sk_softmax._prepare.FitData` after the same label, sample-weight and
class-weight checks as the in-memory fit (the labels and weights are small: they are
checked on the host); X stays where it is. Each evaluation of the data term
(:class:`ArrayAPIObjective`) moves the parameters to the device once and the gradient
(with the loss) back once: never X.
"""

# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.externals.array_api_compat import is_array_api_obj  # scikit-learn >= 1.6
from sklearn.utils.validation import check_consistent_length, validate_data

from ._network import XP_DERIVATIVES, forward
from ._objective import SINGLE_THREADED_BLAS
from ._precondition import label_moments, scaled_covariance
from ._prepare import (
    FitData,
    check_sample_weight,
    check_targets,
    class_weights_and_total,
    label_summary,
    normalised_weight,
    resolve_classes,
)

#: Values (of X and the activations) of one row block of an evaluation on a device:
#: 256 MiB of float32, so that an evaluation of a million rows is a handful of blocks
#: (each block costs some forty operations, launched from Python). Each block's loss and
#: gradient are added up in float64 (as the in-memory data term adds its blocks), and
#: its activations (about a GiB with 256 hidden units) are freed before the next.
DEVICE_BLOCK_VALUES = 2**26

#: Rows whose gradient products (``A.T @ Delta``) are summed in float32 before the float64
#: sum, for float32 data: one batched product gives each chunk's sum, so the float32 sums
#: run over 1,024 rows (the in-memory data term's blocks are ~600) rather than a block's
#: hundred thousand, and the gradient is as accurate as numpy's.
GRADIENT_CHUNK_ROWS = 1024


def _dispatch():
    return bool(get_config().get("array_api_dispatch", False))


def _namespace_and_device(array):
    """``(xp, device)`` of an array-API array, as scikit-learn sees it under dispatch."""
    from sklearn.utils._array_api import device, get_namespace

    return get_namespace(array)[0], device(array)


def _is_device_array(value):
    """Whether ``value`` is an array-API array that is not a numpy array."""
    return (value is not None and not isinstance(value, np.ndarray)
            and not sp.issparse(value) and is_array_api_obj(value))


def is_array_api_input(X):
    """Whether ``fit`` takes the array-API path: dispatch is on and X is an array-API
    array other than numpy's (numpy, scipy.sparse, lists and data frames keep the
    in-memory path)."""
    return _dispatch() and _is_device_array(X)


def to_numpy(array):
    """A numpy copy on the host of an array of any namespace; numpy arrays, lists and
    None are returned as they are."""
    if not _is_device_array(array):
        return array
    module = type(array).__module__
    if module.startswith("torch"):
        return array.detach().cpu().numpy()
    if module.startswith("cupy"):  # pragma: no cover - needs cupy and a CUDA GPU
        return array.get()
    if module.startswith("array_api_strict"):
        xp = array.__array_namespace__()
        return np.asarray(xp.asarray(array, device=xp.Device("CPU_DEVICE")))
    return np.asarray(array)


def host_inputs(y, sample_weight):
    """``y`` and ``sample_weight`` for the in-memory fit: moved to numpy when dispatch is
    on and they are arrays of another namespace (X a numpy array, y a torch tensor)."""
    if not _dispatch():
        return y, sample_weight
    return to_numpy(y), to_numpy(sample_weight)


def supports_float64(xp, device):
    """Whether ``device`` of ``xp`` has float64 (torch's MPS has not)."""
    try:
        dtypes = xp.__array_namespace_info__().dtypes(kind="real floating", device=device)
    except Exception:  # an older namespace without the inspection API
        return True
    return "float64" in dtypes


def model_namespace(model):
    """``(xp, device)`` of a model fitted on array-API arrays; None for numpy. (The
    namespace scikit-learn's dispatch gives X, whether dispatch is on or not.)"""
    coef = model.coefs_[0]
    if isinstance(coef, np.ndarray):
        return None
    from sklearn.externals.array_api_compat import array_namespace, device

    return array_namespace(coef), device(coef)


def check_same_namespace(X, model, method):
    """Refuse X of another namespace or device than the fitted weights (as
    scikit-learn's ``check_same_namespace``); a numpy model takes any numpy-like X."""
    fitted = model_namespace(model)
    X_on_device = is_array_api_input(X)
    if fitted is None and not X_on_device:
        return
    name = f"{type(model).__name__}.{method}()"
    if fitted is not None and not _dispatch():
        raise ValueError(
            f"Inputs passed to {name} must use the same namespace and the same device "
            f"as those passed to fit() ({fitted[0].__name__} on {fitted[1]}): call it "
            "under sklearn.set_config(array_api_dispatch=True).")
    X_xp, X_device = _namespace_and_device(X) if X_on_device else (np, None)
    if fitted is None:
        fitted = (np, None)
    if X_xp is not fitted[0] or X_device != fitted[1]:
        raise ValueError(
            f"Inputs passed to {name} must use the same namespace and the same device "
            f"as those passed to fit(): fitted on {fitted[0].__name__} "
            f"({fitted[1]}), got {X_xp.__name__} ({X_device}).")


def predicted_labels(classes, logits, xp):
    """The labels of the largest logits: in the logits' namespace and device, or numpy
    labels (strings) as they are, as LogisticRegression returns them."""
    index = xp.argmax(logits, axis=1)
    classes = to_numpy(classes)
    if classes.dtype.kind not in "biuf":
        return classes[to_numpy(index)]
    classes = xp.asarray(classes, device=getattr(logits, "device", None))
    return xp.take(classes, index, axis=0)


def map_logits_xp(model, X, transform, xp, device):
    """``transform(Z_L, xp)`` of X's output logits on X's device, in row blocks."""
    X = validate_data(model, X, dtype=[xp.float64, xp.float32], reset=False)
    coefs, intercepts = model.coefs_, model.intercepts_
    dtype = xp.result_type(X.dtype, coefs[0].dtype)  # numpy's promotion
    if X.dtype != dtype:
        X = xp.astype(X, dtype)
    if coefs[0].dtype != dtype:
        coefs = [xp.astype(c, dtype) for c in coefs]
        intercepts = [xp.astype(b, dtype) for b in intercepts]
    n_samples = X.shape[0]
    values = X.shape[1] + sum(c.shape[1] for c in coefs)
    step = max(1, DEVICE_BLOCK_VALUES // values)
    with np.errstate(over="ignore", under="ignore"):  # numpy-backed namespaces
        parts = [
            transform(forward(X[start : min(start + step, n_samples), ...], coefs,
                              intercepts, model.activation, xp=xp)[-1], xp)
            for start in range(0, n_samples, step)
        ]
    if len(parts) == 1:
        return parts[0]
    return xp.concat(parts) if not isinstance(parts[0], np.ndarray) else np.concatenate(parts)


@dataclass
class ArrayAPIFitData(FitData):
    """:class:`~sk_softmax._prepare.FitData` of array-API arrays: also the namespace
    and device of X, where the fitted weights go, and ``classes_`` as LogisticRegression
    sets it (in y's namespace and device; numpy for string labels)."""

    xp: Any = None
    device: Any = None
    fitted_classes: Any = None

    def to_device(self, arrays):
        """Copies of host (numpy) arrays in X's namespace, on X's device."""
        return [self.xp.asarray(np.ascontiguousarray(a), device=self.device, copy=True)
                for a in arrays]

    def fitted(self, coefs, intercepts):
        """``classes_``, ``coefs_`` and ``intercepts_`` on X's device."""
        return self.fitted_classes, self.to_device(coefs), self.to_device(intercepts)


class ArrayAPIObjective:
    """The data term ``theta -> (sum_i w_i NLL_i, gradient)`` on array-API arrays.

    Same maths and the same operations as :class:`~sk_softmax._objective.Objective`
    (docs/math.md): for each row block,

    ::

        Z_L = forward(X_block),   m_i = max_k Z_L[i, k]
        NLL_i = log sum_k e^(Z_L[i, k] - m_i) - (Z_L[i, y_i] - m_i)
        Delta_L = e^(Z_L - m) * (w / sum_k e^(Z_L - m)) - w * Y
        dW_l = A_{l-1}.T @ Delta_l,  db_l = sum_i Delta_l[i],  Delta_{l-1} = (Delta_l @ W_l.T) * f'

    with the one-hot ``Y`` built on the device once per fit. The passes run in X's
    dtype and on its device; the blocks' loss and gradient are added up in float64
    (float32 on a device without float64). Per evaluation, ``theta`` crosses to the
    device once (the full-shape weights, in X's dtype) and the loss with the gradient
    comes back once. Use as a context manager, like the in-memory data term.

    Parameters
    ----------
    X : array of shape (n_samples, n_features), of ``xp``, float32 or float64
    y_true : ndarray of int of shape (n_samples,)
        Class codes (host).
    weight : ndarray of float64 of shape (n_samples,)
        Normalised weights ``w_i = s_i / S`` (host).
    layout : ParamLayout
    activation : {"identity", "logistic", "tanh", "relu"}
    xp : array-API namespace
    device : X's device
    """

    def __init__(self, X, y_true, weight, layout, activation, xp, device):
        self.layout, self.activation, self.xp, self.device = layout, activation, xp, device
        self.dtype = X.dtype
        self.host_dtype = np.float32 if X.dtype == xp.float32 else np.float64
        self.accumulate = xp.float64 if supports_float64(xp, device) else xp.float32
        accumulate_host = np.float64 if self.accumulate == xp.float64 else np.float32
        shapes = layout.shapes
        sizes = [fan_in * fan_out for fan_in, fan_out in shapes]
        sizes += [fan_out for _, fan_out in shapes]
        self.bounds = np.cumsum([0] + sizes).tolist()
        n_samples, n_features = X.shape
        units = sum(layout.layer_units[1:])
        block_rows = max(1, DEVICE_BLOCK_VALUES // (n_features + units))
        class_codes = xp.reshape(
            xp.arange(layout.layer_units[-1], device=device), (1, -1))
        self.blocks = []
        for start in range(0, n_samples, block_rows):
            stop = min(n_samples, start + block_rows)
            codes = xp.asarray(np.ascontiguousarray(y_true[start:stop]), device=device)
            one_hot = xp.astype(xp.reshape(codes, (-1, 1)) == class_codes, self.dtype)
            w = xp.asarray(weight[start:stop].astype(accumulate_host), device=device)
            w_x = xp.reshape(xp.astype(w, self.dtype), (-1, 1))
            ones = xp.ones((stop - start, 1), dtype=self.dtype, device=device)
            self.blocks.append((X[start:stop, ...], one_hot, w, w_x, ones))

    def __enter__(self):
        # The host's share is SciPy's L-BFGS on the parameter vector: BLAS threads
        # there only wait on each other (5 ms a step on a loaded 2-core machine).
        SINGLE_THREADED_BLAS.__enter__()
        return self

    def __exit__(self, *exc_info):
        SINGLE_THREADED_BLAS.__exit__(*exc_info)

    def _chunked(self, n_rows):
        """Rows summed in float64 by chunks: ``(chunks, rows in them)``, or None where
        the products already run in the accumulation dtype (float64 data)."""
        chunks = n_rows // GRADIENT_CHUNK_ROWS
        if self.dtype == self.accumulate or chunks < 2:
            return None
        return chunks, chunks * GRADIENT_CHUNK_ROWS

    def _product_sum(self, A, delta):
        """``A.T @ delta`` in the accumulation dtype (float32 sums over at most
        :data:`GRADIENT_CHUNK_ROWS` rows, then float64 ones)."""
        xp, acc = self.xp, self.accumulate
        chunked = self._chunked(A.shape[0])
        if chunked is None:
            return xp.astype(xp.matmul(A.T, delta), acc)
        chunks, head = chunked
        A_3 = xp.reshape(A[:head, ...], (chunks, GRADIENT_CHUNK_ROWS, A.shape[1]))
        delta_3 = xp.reshape(delta[:head, ...], (chunks, GRADIENT_CHUNK_ROWS, delta.shape[1]))
        total = xp.sum(xp.astype(xp.matmul(xp.permute_dims(A_3, (0, 2, 1)), delta_3), acc),
                       axis=0)
        if head < A.shape[0]:
            total = total + xp.astype(xp.matmul(A[head:, ...].T, delta[head:, ...]), acc)
        return total

    def _row_sum(self, delta, ones):
        """``sum_i delta[i]`` in the accumulation dtype: for float32 data, as the product
        ``ones.T @ delta`` chunked as :meth:`_product_sum` (no float64 copy of delta)."""
        xp = self.xp
        if self._chunked(delta.shape[0]) is None:
            return xp.astype(xp.sum(delta, axis=0), self.accumulate)
        return xp.reshape(self._product_sum(ones, delta), (-1,))

    def _weights(self, theta):
        """The full-shape weights at ``theta`` on the device: one host-to-device copy."""
        coefs, intercepts = self.layout.unpack(theta, self.host_dtype)
        flat = np.concatenate([c.ravel() for c in coefs] + list(intercepts))
        flat = self.xp.asarray(flat, device=self.device)
        pieces = [flat[a:b] for a, b in zip(self.bounds[:-1], self.bounds[1:])]
        n_layers = len(coefs)
        return ([self.xp.reshape(p, shape) for p, shape in zip(pieces, self.layout.shapes)],
                pieces[n_layers:])

    def __call__(self, theta):
        """Return the data term and its gradient at ``theta``, both float64 (host)."""
        xp, acc = self.xp, self.accumulate
        coefs, intercepts = self._weights(theta)
        n_layers = len(coefs)
        derivative = XP_DERIVATIVES[self.activation]
        loss = xp.zeros((1,), dtype=acc, device=self.device)
        coef_grads = [xp.zeros(c.shape, dtype=acc, device=self.device) for c in coefs]
        intercept_grads = [xp.zeros(b.shape, dtype=acc, device=self.device)
                           for b in intercepts]
        for X_block, one_hot, w, w_x, ones in self.blocks:
            activations = forward(X_block, coefs, intercepts, self.activation, xp=xp)
            logits = activations[-1]
            shifted = logits - xp.max(logits, axis=1, keepdims=True)
            label_logit = xp.sum(shifted * one_hot, axis=1)
            exp = xp.exp(shifted)
            sum_exp = xp.sum(exp, axis=1)
            nll = xp.log(sum_exp) - label_logit
            loss = loss + xp.sum(w * xp.astype(nll, acc))
            delta = exp * (w_x / xp.reshape(sum_exp, (-1, 1))) - one_hot * w_x
            for l in range(n_layers - 1, -1, -1):
                coef_grads[l] = coef_grads[l] + self._product_sum(activations[l], delta)
                intercept_grads[l] = intercept_grads[l] + self._row_sum(delta, ones)
                if l > 0:
                    delta = derivative(activations[l], xp.matmul(delta, coefs[l].T), xp)
        flat = xp.concat([loss] + [xp.reshape(g, (-1,)) for g in coef_grads]
                         + intercept_grads)
        flat = np.asarray(to_numpy(flat), dtype=np.float64)  # one device-to-host copy
        parts = [flat[1 + a : 1 + b] for a, b in zip(self.bounds[:-1], self.bounds[1:])]
        grads = [p.reshape(shape) for p, shape in zip(parts, self.layout.shapes)]
        return float(flat[0]), self.layout.pack(grads, parts[n_layers:])


def _fitted_classes(classes, y):
    """``classes_`` as LogisticRegression sets it under dispatch: in y's namespace and
    on its device when y is such an array with numeric labels; numpy otherwise."""
    if not _is_device_array(y) or classes.dtype.kind not in "biuf":
        return classes
    xp, device = _namespace_and_device(y)
    return xp.asarray(classes, device=device)


def prepare_array_api(estimator, X, y, sample_weight, classes, *, class_weight, solver):
    """The :class:`ArrayAPIFitData` of an array-API X (dispatch on).

    X is validated where it is (``validate_data``: dtype, finiteness, shape; sets
    ``n_features_in_``); y, sample_weight and classes, of any namespace, are checked
    on the host by the in-memory fit's functions, and the normalised weights go to
    X's device once.
    """
    name = type(estimator).__name__
    if solver != "lbfgs":
        raise ValueError("Fitting on array-API arrays (array_api_dispatch=True) supports "
                         "solver='lbfgs' only.")
    if y is None:
        raise ValueError(f"This {name} estimator requires y to be passed, but the target "
                         "y is None.")  # validate_data's message, as in memory
    xp, device = _namespace_and_device(X)
    X = validate_data(estimator, X, dtype=[xp.float64, xp.float32])
    y_host = check_targets(to_numpy(y), name)
    check_consistent_length(X, y_host)
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    weights_in = check_sample_weight(to_numpy(sample_weight), X.shape[0])
    summary = label_summary(y_host, weights_in)
    classes = resolve_classes(summary[0], to_numpy(classes))
    class_weights, class_counts, sw_sum = class_weights_and_total(
        class_weight, classes, summary)
    y_true = np.searchsorted(classes, y_host)
    weight = normalised_weight(y_true, weights_in, class_weights, sw_sum)
    accumulate = xp.float64 if supports_float64(xp, device) else X.dtype
    pooled = label_moments(X, y_true, weights_in, len(classes), xp=xp, to_host=to_numpy,
                           dtype=accumulate).pooled(class_weights)
    return ArrayAPIFitData(
        classes=classes, class_counts=class_counts, sw_sum=sw_sum,
        n_features=X.shape[1], n_values=X.shape[0] * X.shape[1],
        feature_names=getattr(estimator, "feature_names_in_", None),
        dtype=np.dtype(np.float32 if X.dtype == xp.float32 else np.float64),
        make_objective=lambda layout, activation: ArrayAPIObjective(
            X, y_true, weight, layout, activation, xp, device),
        callback_data=dict(X=X, y=y, metadata=metadata),
        moments=lambda full: (*pooled, (lambda centre, scale: scaled_covariance(
            X, weight, centre, scale, xp=xp, to_host=to_numpy, dtype=accumulate))
            if full else None),
        xp=xp, device=device, fitted_classes=_fitted_classes(classes, y),
    )
