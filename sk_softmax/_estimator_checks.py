"""Checks of one estimator's fitted attributes (classifier, scaler, encoder...), value tests."""

# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Real

import numpy as np

from ._refusal import MAX_DEPTH, _is_int, _plain_dtype, _Refused, _short

ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


def _int(value, what, low=0, high=None):
    if not _is_int(value) or value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise _Refused(f"{what} must be an integer {bound}, got {_short(value)}")
    return int(value)


def _bool(value, what):
    if not isinstance(value, (bool, np.bool_)):
        raise _Refused(f"{what} must be a bool, got {_short(value)}")


def _array(value, what, *, ndim=None, shape=None, kinds="biuf", finite=False,
           missing=False):
    """An ndarray (exact type) of one of ``kinds`` ("O": object array of str)."""
    if type(value) is not np.ndarray:
        raise _Refused(f"{what} must be a numpy array, got {_short(value)}")
    if value.dtype.kind not in kinds or (value.dtype.kind != "O"
                                         and not _plain_dtype(value.dtype)):
        raise _Refused(f"{what} has dtype {value.dtype}")
    if value.dtype.kind == "O":
        _strings(value, what, missing=missing)
    if ndim is not None and value.ndim != ndim:
        raise _Refused(f"{what} must have {ndim} dimension(s), got shape {value.shape}")
    if shape is not None and value.shape != tuple(shape):
        raise _Refused(f"{what} has shape {value.shape}, expected {tuple(shape)}")
    if finite and value.dtype.kind == "f" and not np.isfinite(value).all():
        raise _Refused(f"{what} has non-finite values")
    return value


def _strings(value, what, missing=False):
    for item in value.ravel():
        if not (type(item) is str or (missing and (item is None or (
                isinstance(item, float) and math.isnan(item))))):
            raise _Refused(f"{what} holds {_short(item)}, not a string")


def _labels(value, what, missing=False):
    """A 1-D array of unique sorted labels: numeric, unicode or object of str."""
    _array(value, what, ndim=1, kinds="biufUO", missing=missing)
    if value.dtype.kind == "O":
        present = [v for v in value if type(v) is str]
        if len(present) < len(value) - 1 or (len(present) < len(value)
                                             and type(value[-1]) is str):
            raise _Refused(f"{what}: one missing value at most, last")
        ordered = all(a < b for a, b in zip(present[:-1], present[1:]))
    else:
        body = value[~np.isnan(value)] if value.dtype.kind == "f" else value
        if value.dtype.kind == "f" and (len(body) < len(value) - (1 if missing else 0)
                                        or np.isinf(value).any()
                                        or (len(body) < len(value)
                                            and not np.isnan(value[-1]))):
            raise _Refused(f"{what} has non-finite values")
        ordered = bool(np.all(body[1:] > body[:-1]))
    if not ordered:
        raise _Refused(f"{what} must be unique and sorted")


def _names_in(est, what, n_features):
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        _array(names, f"{what}.feature_names_in_", shape=(n_features,), kinds="O")
        if len(set(names.tolist())) != n_features:
            raise _Refused(f"{what}.feature_names_in_ has duplicates")


def _attributes(est, what, fitted, strict=False):
    """Every hyper-parameter present and valid, and no attribute outside
    ``fitted`` (the fitted attributes this check knows) unless it is plain data
    that shadows nothing (``strict``: none at all)."""
    params = type(est)._get_param_names()
    state = vars(est)
    missing = [p for p in params if p not in state]
    if missing:
        raise _Refused(f"{what} lacks the parameter(s) {', '.join(missing)}")
    for key, value in state.items():
        if key in params or key in fitted:
            continue
        if strict or key.startswith("__") or hasattr(type(est), key):
            raise _Refused(f"{what} has the unexpected attribute {key!r}")
        _plain(value, f"{what}.{key}", 0)
    try:
        est._validate_params()
    except Exception as exc:  # InvalidParameterError is a ValueError and TypeError
        raise _Refused(f"{what}: {' '.join(str(exc).split())}") from None


def _plain(value, what, depth):
    if depth > MAX_DEPTH:
        raise _Refused(f"{what} is nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str, np.generic, slice)):
        return
    if isinstance(value, np.ndarray):
        _array(value, what, kinds="biufUO")
    elif type(value) in (list, tuple):
        for item in value:
            _plain(item, what, depth + 1)
    elif type(value) is dict:
        for item in value.values():
            _plain(item, what, depth + 1)
    else:
        raise _Refused(f"{what} holds {_short(value)}")


def _check_classifier(clf, what):
    """SoftmaxNNClassifier: the layout first (nothing allocated from it before it
    matches the arrays), then every fitted attribute against it."""
    fitted = {"n_features_in_", "feature_names_in_", "classes_", "_layout_params",
              "coefs_", "intercepts_", "n_iter_", "converged_", "loss_", "loss_curve_"}
    state = vars(clf)
    absent = sorted(fitted - {"feature_names_in_"} - set(state))
    if absent:
        raise _Refused(f"{what} is not fitted (no {', '.join(absent)})")
    units = _layer_units(state, what)
    reference, fit_intercept = _check_layout(state, what, units)
    n_features = _int(state["n_features_in_"], f"{what}.n_features_in_", 1)
    if n_features != units[0]:
        raise _Refused(f"{what}: n_features_in_ is {n_features} but the first layer "
                       f"takes {units[0]}")
    _names_in(clf, what, n_features)
    classes = state["classes_"]
    _labels(classes, f"{what}.classes_")
    if len(classes) != units[-1]:
        raise _Refused(f"{what}.classes_ has {len(classes)} entries for {units[-1]} "
                       "output units")
    _int(state["n_iter_"], f"{what}.n_iter_")
    _bool(state["converged_"], f"{what}.converged_")
    if not isinstance(state["loss_"], Real):
        raise _Refused(f"{what}.loss_ must be a number")
    curve = state["loss_curve_"]
    if type(curve) is not list or not all(isinstance(v, Real) for v in curve):
        raise _Refused(f"{what}.loss_curve_ must be a list of numbers")
    _attributes(clf, what, fitted, strict=True)
    _check_hyperparameters(clf, what, units, classes, reference, fit_intercept)
    return n_features


def _layer_units(state, what):
    """The units of every layer, from the weights: lists of one finite float array
    per layer, all of one dtype."""
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    if type(coefs) is not list or type(intercepts) is not list or not coefs \
            or len(coefs) != len(intercepts):
        raise _Refused(f"{what}: coefs_ and intercepts_ must be lists of one array "
                       "per layer")
    dtype = getattr(coefs[0], "dtype", None)
    if dtype not in (np.float32, np.float64):
        raise _Refused(f"{what}.coefs_[0] must be a float32 or float64 array")
    for k, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        _array(coef, f"{what}.coefs_[{k}]", ndim=2, kinds="f", finite=True)
        _array(intercept, f"{what}.intercepts_[{k}]", ndim=1, kinds="f", finite=True)
        if coef.dtype != dtype or intercept.dtype != dtype:
            raise _Refused(f"{what}: coefs_ and intercepts_ must all be {dtype}")
    return [coefs[0].shape[0]] + [coef.shape[1] for coef in coefs]


def _check_layout(state, what, units):
    """``_layout_params`` against the weights' ``units``; return its reference
    class index and fit_intercept."""
    layout = state["_layout_params"]
    if type(layout) is not tuple or len(layout) != 3 or type(layout[0]) is not tuple:
        raise _Refused(f"{what}._layout_params must be (layer_units, reference, "
                       f"fit_intercept), got {_short(layout)}")
    layer_units, reference, fit_intercept = layout
    if len(layer_units) != len(units) or not all(
            _is_int(u) and u == v for u, v in zip(layer_units, units)):
        raise _Refused(f"{what}._layout_params: layer units {_short(layer_units)} do "
                       f"not match the weights' shapes {units}")
    for k, (coef, intercept) in enumerate(zip(state["coefs_"], state["intercepts_"])):
        if coef.shape != (units[k], units[k + 1]) or intercept.shape != (units[k + 1],):
            raise _Refused(f"{what}: layer {k} has weights {coef.shape} and intercepts "
                           f"{intercept.shape}; the layers do not chain")
    if any(u < 1 for u in units):
        raise _Refused(f"{what}: a layer has no units")
    n_classes = units[-1]
    if n_classes < 2:
        raise _Refused(f"{what}: {n_classes} output unit(s); at least 2 classes")
    if reference is not None:
        _int(reference, f"{what}._layout_params reference class index", 0, n_classes - 1)
    _bool(fit_intercept, f"{what}._layout_params fit_intercept")
    return reference, fit_intercept


def _check_hyperparameters(clf, what, units, classes, reference, fit_intercept):
    """The classifier's hyper-parameters (already valid) against its fitted layout."""
    if clf.activation not in ACTIVATIONS:  # also checked by _validate_params
        raise _Refused(f"{what}: unknown activation {clf.activation!r}")
    try:
        hidden = clf._check_architecture()
    except ValueError as exc:
        raise _Refused(f"{what}: {exc}") from None
    if isinstance(clf.random_state, np.random.RandomState):
        _check_random_state(clf.random_state, f"{what}.random_state")
    if list(hidden) != units[1:-1]:
        raise _Refused(f"{what}: hidden_layer_sizes {hidden} do not match the fitted "
                       f"layers {units[1:-1]}")
    if bool(clf.fit_intercept) != bool(fit_intercept):
        raise _Refused(f"{what}: fit_intercept differs from the fitted layout")
    if np.ndim(clf.reference_class) != 0:
        raise _Refused(f"{what}: reference_class must be one label, got "
                       f"{_short(clf.reference_class)}")
    if (reference is None) != (clf.reference_class is None) or (
            reference is not None and classes[reference] != clf.reference_class):
        raise _Refused(f"{what}: reference_class {clf.reference_class!r} does not match "
                       "the fitted reference class")


def _check_random_state(rng, what):
    """numpy does not bound a RandomState's position when its state is set: a
    position past the 624-word key reads outside it at the next draw (a refit)."""
    if type(rng) is not np.random.RandomState:
        raise _Refused(f"{what}: {_short(rng)}")
    state = rng.get_state(legacy=False)
    if state.get("bit_generator") != "MT19937" or not (
            0 <= state["state"]["pos"] <= 624 and state["has_gauss"] in (0, 1)
            and math.isfinite(state["gauss"])):
        raise _Refused(f"{what}: invalid RandomState state")


def _n_in(est, what):
    n_features = _int(vars(est).get("n_features_in_"), f"{what}.n_features_in_", 1)
    _names_in(est, what, n_features)
    return n_features


def _check_scaler(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "n_samples_seen_",
                            "mean_", "var_", "scale_"})
    n = _n_in(est, what)
    for name, wanted in (("mean_", est.with_mean), ("var_", est.with_std),
                         ("scale_", est.with_std)):
        value = vars(est).get(name)
        if value is None and not wanted:
            continue
        _array(value, f"{what}.{name}", shape=(n,), kinds="f", finite=True)
    if est.with_std and not (est.scale_ > 0).all():
        raise _Refused(f"{what}.scale_ must be positive")
    seen = vars(est).get("n_samples_seen_")
    if not isinstance(seen, (Real, np.ndarray)):
        raise _Refused(f"{what}.n_samples_seen_ must be a number")
    return n


def _check_function_transformer(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_",
                            "_sklearn_output_config"})
    if est.func is not None or est.inverse_func is not None or est.kw_args \
            or est.inv_kw_args:
        raise _Refused(f"{what}: only the FunctionTransformer of 'passthrough' "
                       "columns (no functions) is allowed")
    if est.feature_names_out not in (None, "one-to-one"):
        raise _Refused(f"{what}: feature_names_out must be 'one-to-one' or None")
    return _n_in(est, what)


def _check_indicator(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "_precomputed",
                            "_n_features", "features_"})
    n = _n_in(est, what)
    _bool(vars(est).get("_precomputed"), f"{what}._precomputed")
    if vars(est).get("_n_features") != n:
        raise _Refused(f"{what}._n_features does not match n_features_in_")
    features = _array(vars(est).get("features_"), f"{what}.features_", ndim=1, kinds="iu")
    if len(features) and (features.min() < 0 or features.max() >= n
                          or not np.all(features[1:] > features[:-1])):
        raise _Refused(f"{what}.features_ must be sorted feature indices below {n}")
    return n


def _check_encoder(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "categories_",
                            "_infrequent_enabled", "_infrequent_indices",
                            "_default_to_infrequent_mappings",
                            "_drop_idx_after_grouping", "drop_idx_",
                            "_n_features_outs"})
    n = _n_in(est, what)
    try:
        numeric = np.dtype(est.dtype).kind in "biuf"
    except TypeError:
        numeric = False
    if not numeric:
        raise _Refused(f"{what}.dtype {_short(est.dtype)} is not a numeric type")
    categories = vars(est).get("categories_")
    if type(categories) is not list or len(categories) != n:
        raise _Refused(f"{what}.categories_ must be a list of {n} arrays")
    for k, values in enumerate(categories):
        _labels(values, f"{what}.categories_[{k}]", missing=True)
        if not len(values):
            raise _Refused(f"{what}.categories_[{k}] is empty")
    _bool(vars(est).get("_infrequent_enabled"), f"{what}._infrequent_enabled")
    # transform builds a sparse matrix from these indices, which scipy does not
    # bound-check: every index must stay inside its feature's output columns.
    grouped = _grouped_widths(est, what, n, categories)
    for name, bounds in (("drop_idx_", [len(c) for c in categories]),
                         ("_drop_idx_after_grouping", grouped)):
        value = vars(est).get(name)
        if value is None:
            continue
        _drop_indices(value, f"{what}.{name}", n)
        if any(v is not None and not 0 <= v < bound for v, bound in zip(value, bounds)):
            raise _Refused(f"{what}.{name} indexes outside the categories")
    outs = vars(est).get("_n_features_outs")
    if type(outs) is not list or not all(_is_int(v) for v in outs):
        raise _Refused(f"{what}._n_features_outs must be a list of integers")
    try:
        expected = est._compute_n_features_outs()
    except Exception as exc:
        raise _Refused(f"{what}: inconsistent encoder ({type(exc).__name__}: "
                       f"{exc})") from None
    if [int(v) for v in outs] != [int(v) for v in expected]:
        raise _Refused(f"{what}._n_features_outs {outs} does not match the categories")
    return n


def _drop_indices(value, what, n):
    """A drop index per feature: an int array, or (as scikit-learn stores it) an object
    array of Python ints and None (None: that feature drops nothing)."""
    if type(value) is np.ndarray and value.dtype.kind == "O":
        if value.shape != (n,):
            raise _Refused(f"{what} has shape {value.shape}, expected ({n},)")
        for item in value:
            if item is not None and type(item) is not int:
                raise _Refused(f"{what} holds {_short(item)}, not an index")
        return
    _array(value, what, shape=(n,), kinds="iu")


def _grouped_widths(est, what, n, categories):
    """Each feature's output columns before any drop (infrequent categories grouped
    into one), its infrequent indices and mapping checked."""
    grouped = [len(c) for c in categories]
    infrequent = vars(est).get("_infrequent_indices")
    mappings = vars(est).get("_default_to_infrequent_mappings")
    if est._infrequent_enabled or infrequent is not None or mappings is not None:
        if type(infrequent) is not list or type(mappings) is not list \
                or len(infrequent) != n or len(mappings) != n:
            raise _Refused(f"{what}: _infrequent_indices and "
                           f"_default_to_infrequent_mappings must be lists of {n} entries")
        for k, (rare, mapping) in enumerate(zip(infrequent, mappings)):
            if rare is None and mapping is None:
                continue
            grouped[k] = _grouped_width(rare, mapping, len(categories[k]), what, k)
    return grouped


def _grouped_width(rare, mapping, n_cats, what, k):
    """Feature ``k``'s infrequent category indices and their mapping; return its
    number of output columns (the frequent categories and the infrequent group)."""
    where = f"{what}._infrequent_indices[{k}]"
    _array(rare, where, ndim=1, kinds="iu")
    if not len(rare) or rare.min() < 0 or rare.max() >= n_cats or not np.all(
            rare[1:] > rare[:-1]):
        raise _Refused(f"{where} must be sorted category indices")
    _array(mapping, f"{what}._default_to_infrequent_mappings[{k}]",
           shape=(n_cats,), kinds="iu")
    expected = np.empty(n_cats, dtype=np.int64)
    frequent = np.setdiff1d(np.arange(n_cats), rare)
    expected[rare] = len(frequent)
    expected[frequent] = np.arange(len(frequent))
    if not np.array_equal(mapping, expected):
        raise _Refused(f"{what}._default_to_infrequent_mappings[{k}] does not "
                       "group the infrequent categories")
    return len(frequent) + 1
