"""The data preparation every fit shares: label, sample-weight and class-weight checks,
and the record (:class:`FitData`) a fit runs on, whatever holds the data.

The in-memory preparation (:func:`prepare_in_memory`) and the dask one
(``_dask.prepare_dask``) call the same checks, on the whole data or on each chunk, and
compute the class weights and ``S`` from the same per-class weighted counts, so that a
bad input gets the same error from both.
"""

# SPDX-License-Identifier: BSD-3-Clause

from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_y, check_non_negative, validate_data

from ._hessian import HessianProduct
from ._objective import Objective, blas_threads
from ._precondition import label_moments, scaled_covariance

#: Entries of a list shown in an error message; longer lists are cut with "...".
MAX_SHOWN = 10

#: Characters of one value shown in an error message.
MAX_VALUE_CHARS = 60


def shorten(values, limit=MAX_SHOWN):
    """A short text for an error message: at most ``limit`` values of at most
    :data:`MAX_VALUE_CHARS` characters each (a huge label or list never becomes a
    huge message)."""
    values = list(values)
    shown = [_short_value(value) for value in values[:limit]]
    more = f", ... ({len(values)} in all)" if len(values) > limit else ""
    return "[" + ", ".join(shown) + more + "]"


def _short_value(value):
    text = repr(value.item() if isinstance(value, np.generic) else value)
    if len(text) > MAX_VALUE_CHARS:
        return text[: MAX_VALUE_CHARS - 3] + "..."
    return text


@dataclass
class FitData:
    """What a fit needs from its data, whatever holds it (memory or a dask cluster).

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
        The sorted class labels.
    class_counts : ndarray of float64 of shape (n_classes,)
        Per-class sums of ``s_i`` (sample weights times class weights).
    sw_sum : float
        ``S = sum_i s_i``, positive.
    n_features : int
    n_values : int
        Values of X: ``n_samples * n_features``, or the non-zeros of a sparse X (what
        an evaluation reads; :func:`~sk_softmax._solver.lbfgs_memory`).
    feature_names : ndarray or None
        String feature names of X, if it had them.
    dtype : numpy dtype
        float32 or float64: the dtype of the passes and of the fitted weights.
    make_objective : callable
        ``make_objective(layout, activation)`` returns the data term
        ``theta -> (sum_i w_i NLL_i, gradient)`` (a context manager).
    make_hessp : callable or None
        ``make_hessp(layout)`` returns ``hessp(theta, vector)`` of the data term
        (softmax regression only); None where the back-end has none.
    callback_data : dict
        ``X``, ``y`` and ``metadata`` passed to callbacks (None where the data is
        not in memory).
    moments : callable
        ``moments(full)`` returns ``(weight_sum, mean, std, covariance)``: the columns'
        moments under the weights ``s_i``; ``covariance`` is a function
        ``covariance(centre, scale)``, the second moments of the scaled columns under
        the normalised weights ``w_i`` (:func:`~sk_softmax._precondition.scaled_covariance`,
        one more pass over X), when ``full`` and X is dense, else None.
    """

    classes: np.ndarray
    class_counts: np.ndarray
    sw_sum: float
    n_features: int
    n_values: int
    feature_names: Any
    dtype: Any
    make_objective: Callable
    make_hessp: Any = None
    callback_data: dict = field(default_factory=lambda: dict(X=None, y=None, metadata=None))
    moments: Any = None

    def fitted(self, coefs, intercepts):
        """``classes_``, ``coefs_`` and ``intercepts_`` as the model keeps them (here,
        as they are; a back-end may move them where its data is)."""
        return self.classes, coefs, intercepts


def _is_complex(values):
    """Whether an array (or a list) holds complex numbers; False if it cannot tell."""
    dtype = getattr(values, "dtype", None)
    if dtype is None and isinstance(values, (list, tuple)):
        dtype = np.asarray(values).dtype
    try:
        return np.dtype(dtype).kind == "c"
    except TypeError:  # no dtype, or one numpy does not know: check_array decides
        return False


def validated(estimator, *args, **kwargs):
    """scikit-learn's ``validate_data``, with numbers too large for float64 (an object
    array of 10**400) a ValueError that says so (numpy raises OverflowError), and no
    RuntimeWarning for finite values whose sum overflows (its finiteness check sums X
    first, then looks at each value)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return validate_data(estimator, *args, **kwargs)
    except OverflowError as exc:
        raise ValueError(f"Input holds a number too large for float64 ({exc}).") from None


def check_X_shape(X, estimator_name, n_features=None):
    """Refuse an X that is not 2-dimensional, or (``n_features`` given: a fitted model)
    has another number of columns, with one message whatever holds it (numpy, sparse,
    dask, a list) and no dump of its values (scikit-learn's prints the array)."""
    if not hasattr(X, "shape"):  # a list: validate_data converts and checks it
        return
    shape = tuple(X.shape)
    if len(shape) != 2:
        hint = (" Reshape your data with X.reshape(-1, 1) if it has a single feature or "
                "X.reshape(1, -1) if it is a single sample.") if len(shape) == 1 else ""
        raise ValueError(f"Expected a 2-dimensional X of shape (n_samples, n_features), "
                         f"got an array of shape {shape}.{hint}")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(f"X has {shape[1]} features, but {estimator_name} is expecting "
                         f"{n_features} features as input.")


def check_not_complex(X):
    """Refuse complex X with a short message (scikit-learn's prints the data)."""
    if _is_complex(X):
        raise ValueError("Complex data not supported in X.")


def check_targets(y, estimator_name):
    """Check labels (a whole ``y`` or a chunk of it) as scikit-learn's classifiers do.

    Returns ``y`` as a 1-D ndarray. Complex labels are refused with a short message
    (scikit-learn's would print the whole array).
    """
    if _is_complex(y):
        raise ValueError("Complex data not supported in y: class labels must be "
                         "integers or strings.")
    y = _check_y(y, estimator=estimator_name)
    check_classification_targets(y)
    return y


def check_sample_weight(sample_weight, n_samples):
    """Return float64 sample weights of length ``n_samples`` (ones if None).

    Finite and non-negative, else ValueError; a zero total is checked later, on the
    weights times the class weights (:func:`class_weights_and_total`).
    """
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, Real):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    sample_weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                                copy=True, ensure_min_samples=0,
                                input_name="sample_weight")
    if sample_weight.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected "
                         f"{(n_samples,)}!")
    check_non_negative(sample_weight, "`sample_weight`")
    return sample_weight


def label_summary(y, sample_weight):
    """``(labels, row_counts, weighted_counts)`` of the labels in ``y``."""
    labels, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    return (labels, np.bincount(codes, minlength=len(labels)),
            np.bincount(codes, weights=sample_weight, minlength=len(labels)))


def merge_summaries(summaries):
    """One :func:`label_summary` from those of several chunks."""
    labels = np.unique(np.concatenate([s[0] for s in summaries]))
    row_counts, weighted_counts = np.zeros(len(labels), np.intp), np.zeros(len(labels))
    with np.errstate(over="ignore"):  # an infinite total is refused with a message
        for labels_c, rows_c, weighted_c in summaries:
            index = np.searchsorted(labels, labels_c)
            row_counts[index] += rows_c
            weighted_counts[index] += weighted_c
    return labels, row_counts, weighted_counts


def resolve_classes(labels, classes):
    """The sorted classes: the labels of y, or ``classes`` if given (which must hold
    every label); at least two, else ValueError."""
    if classes is not None:
        classes = np.unique(np.asarray(classes))
        unknown = np.setdiff1d(labels, classes)
        if unknown.size:
            raise ValueError(f"y contains labels that are not in classes: "
                             f"{shorten(unknown)}.")
        labels = classes
    if len(labels) < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the "
            f"data contains only one class: {_short_value(labels[0])}.")
    return labels


def reference_index(reference_class, classes):
    """The index of ``reference_class`` in ``classes``; None if it is None. A list, an
    array or any other container is refused: the reference is one label."""
    if reference_class is None:
        return None
    if np.ndim(reference_class) != 0 or isinstance(reference_class, (dict, set, frozenset)):
        raise ValueError(f"reference_class must be one label of y (such as 0 or "
                         f"'setosa'), got {_short_value(reference_class)}.")
    matches = [k for k, label in enumerate(classes) if label == reference_class]
    if not matches:
        raise ValueError(f"reference_class={_short_value(reference_class)} is not one "
                         f"of the labels in y: {shorten(classes)}.")
    return matches[0]


def class_weights_and_total(class_weight, classes, summary):
    """Per-class weights, per-class ``s`` sums and ``S``, from the label summary.

    ``class_weight`` is the estimator's parameter (None, "balanced" or a dict);
    "balanced" uses the weighted class counts, as LogisticRegression does.
    """
    labels, row_counts, weighted_counts = summary
    counts = np.zeros(len(classes))
    counts[np.searchsorted(classes, labels)] = weighted_counts
    if class_weight is None:
        weights = np.ones(len(classes))
    else:
        # A y with one entry per present label, weighted by its count, has the same
        # weighted class counts as the data: compute_class_weight sees the same sums.
        present = labels[row_counts > 0]
        weights = compute_class_weight(
            class_weight, classes=classes, y=present,
            sample_weight=counts[np.searchsorted(classes, present)])
        weights = np.asarray(weights, dtype=np.float64)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        raise ValueError(
            f"class_weight must be finite and non-negative; got {shorten(weights[bad])} "
            f"for class(es) {shorten(classes[bad])}.")
    with np.errstate(over="ignore", invalid="ignore"):  # refused just below
        class_counts = counts * weights
        sw_sum = float(class_counts.sum())
    if not np.isfinite(sw_sum):
        raise ValueError("The sample weights (times the class weights) sum to "
                         "infinity; rescale sample_weight.")
    if not sw_sum > 0:
        raise ValueError(
            "The sample weights (times the class weights) sum to zero; at least one "
            "sample needs a positive weight.")
    if sw_sum < np.finfo(np.float64).tiny:
        raise ValueError(
            f"The sample weights (times the class weights) sum to {sw_sum:.3g}, below the "
            "smallest normal float64: the weights lose their precision and the "
            "penalty alpha / sum overflows. Multiply sample_weight by a constant (only "
            "the penalty's weight changes).")
    return weights, class_counts, sw_sum


def normalised_weight(y_true, sample_weight, class_weights, sw_sum):
    """``w_i = s_i / S``: sample weights times class weights, over the global ``S``."""
    return sample_weight * class_weights[y_true] / sw_sum


def prepare_in_memory(estimator, X, y, sample_weight, classes):
    """Validate in-memory data for ``estimator.fit`` and return its :class:`FitData`.

    Sets ``n_features_in_`` and ``feature_names_in_`` (through ``validate_data``);
    the caller restores the estimator if the fit fails.
    """
    check_not_complex(X)
    check_X_shape(X, type(estimator).__name__)
    if _is_complex(y):
        check_targets(y, type(estimator).__name__)  # its short message
    X, y = validated(estimator, X, y, accept_sparse=["csr", "csc"],
                         dtype=[np.float64, np.float32])
    check_classification_targets(y)
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    summary = label_summary(y, sample_weight)
    classes = resolve_classes(summary[0], classes)
    weights, class_counts, sw_sum = class_weights_and_total(
        estimator.class_weight, classes, summary)
    y_true = np.searchsorted(classes, y)
    weight = normalised_weight(y_true, sample_weight, weights, sw_sum)
    n_threads = blas_threads()

    def moments(full):
        total, mean, std = label_moments(X, y_true, sample_weight, len(classes)).pooled(
            weights)
        covariance = None
        if full and not sp.issparse(X):
            def covariance(centre, scale):
                return scaled_covariance(X, weight, centre, scale)
        return total, mean, std, covariance

    return FitData(
        classes=classes, class_counts=class_counts, sw_sum=sw_sum,
        n_features=X.shape[1], n_values=X.nnz if sp.issparse(X) else X.size,
        feature_names=getattr(estimator, "feature_names_in_", None), dtype=X.dtype,
        make_objective=lambda layout, activation: Objective(
            X, y_true, weight, layout, activation, n_threads=n_threads),
        make_hessp=lambda layout: HessianProduct(X, y_true, weight, layout),
        callback_data=dict(X=X, y=y, metadata=metadata), moments=moments,
    )


@contextmanager
def restored_on_error(estimator):
    """Leave ``estimator`` exactly as it was if the block raises (a refused refit
    keeps the previously fitted model whole)."""
    state = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(state)
        raise
