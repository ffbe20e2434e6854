"""Post-load checks of a model's structure (pipelines, column transformers) and its probe row."""

# SPDX-License-Identifier: BSD-3-Clause

import math
import os
import warnings
from numbers import Real

import numpy as np

from ._estimator_checks import (
    _array,
    _attributes,
    _bool,
    _check_classifier,
    _check_encoder,
    _check_function_transformer,
    _check_indicator,
    _check_scaler,
    _n_in,
    _plain,
)
from ._refusal import _is_int, _Refused, _short


def _check_imputer(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "_fit_dtype",
                            "_fill_dtype", "indicator_", "statistics_"})
    n = _n_in(est, what)
    for name in ("_fit_dtype", "_fill_dtype"):
        dtype = vars(est).get(name)
        if dtype is not None and (not isinstance(dtype, np.dtype)
                                  or dtype.kind not in "biufUO"):
            raise _Refused(f"{what}.{name} must be a numeric, str or object dtype")
    statistics = vars(est).get("statistics_")
    _array(statistics, f"{what}.statistics_", shape=(n,), kinds="biufUO", missing=True)
    if statistics.dtype.kind == "f" and np.isinf(statistics).any():
        # NaN is a column that was all missing; an infinite fill value is not a value
        # any fit gives, and it fails the first row with a missing cell.
        raise _Refused(f"{what}.statistics_ has infinite values")
    fill = vars(est).get("_fill_dtype")
    if fill is not None and fill.kind in "biu" and statistics.dtype.kind in "biuf":
        # the fill values are cast to _fill_dtype: 1000.5 in int8 would impute -24
        values = statistics[~np.isnan(statistics)] if statistics.dtype.kind == "f" \
            else statistics
        with np.errstate(invalid="ignore", over="ignore"):
            if not np.array_equal(values.astype(fill).astype(values.dtype), values):
                raise _Refused(f"{what}.statistics_ {_short(values.tolist())} do not fit "
                               f"its _fill_dtype {fill}")
    indicator = vars(est).get("indicator_")
    if est.add_indicator:
        if type(indicator).__name__ != "MissingIndicator":
            raise _Refused(f"{what}.indicator_ must be a MissingIndicator")
        if _check(indicator, f"{what}.indicator_") != n:
            raise _Refused(f"{what}.indicator_ does not take the imputer's {n} features")
    elif indicator is not None:
        raise _Refused(f"{what}.indicator_ must be None without add_indicator")
    return n


def _check_pipeline(est, what, final=False):
    _attributes(est, what, set())
    steps = est.steps
    if type(steps) is not list or not steps:
        raise _Refused(f"{what}.steps must be a non-empty list")
    names = []
    for k, step in enumerate(steps):
        if type(step) is not tuple or len(step) != 2 or type(step[0]) is not str:
            raise _Refused(f"{what}.steps[{k}] must be a (name, estimator) pair")
        names.append(step[0])
    if len(set(names)) != len(names):
        raise _Refused(f"{what}: duplicate step names")
    if est.memory is not None or est.transform_input is not None:
        raise _Refused(f"{what}: memory and transform_input must be None")
    width = n_first = None
    for k, (name, step) in enumerate(steps):
        where = f"{what}.steps[{k}] {name!r}"
        last = k == len(steps) - 1
        if final and last:
            if type(step).__name__ != "SoftmaxNNClassifier":
                raise _Refused(f"{where}: the last step must be a SoftmaxNNClassifier, "
                               f"got {_short(step)}")
        elif step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        elif type(step).__name__ == "SoftmaxNNClassifier":
            raise _Refused(f"{where}: a SoftmaxNNClassifier can only be the last step")
        n_in = _check(step, where)
        if width is not None and n_in != width:
            raise _Refused(f"{where} takes {n_in} features, but the step before gives "
                           f"{width}")
        n_first = n_in if n_first is None else n_first
        if not (final and last):
            width = _width(step, where)
    if n_first is None:
        raise _Refused(f"{what}: every step is 'passthrough'")
    return n_first


def _column_indices(spec, n_features, names, where):
    """The input column indices a ColumnTransformer column spec selects."""
    lookup = {name: k for k, name in enumerate(names)} if names is not None else {}

    def index(key):
        if _is_int(key) and -n_features <= key < n_features:
            return int(key) % n_features
        if type(key) is str and key in lookup:
            return lookup[key]
        raise _Refused(f"{where}: column {_short(key)} is not one of the inputs")

    if type(spec) is slice:
        bounds = (spec.start, spec.stop)
        if all(b is None or _is_int(b) for b in bounds):  # positions, as Python slices
            return list(range(n_features))[slice(*bounds, spec.step)]
        if not all(b is None or type(b) is str for b in bounds):
            raise _Refused(f"{where}: a column slice mixes names and positions")
        # Names, as pandas .loc: the stop is included.
        start = 0 if spec.start is None else index(spec.start)
        stop = n_features if spec.stop is None else index(spec.stop) + 1
        return list(range(start, stop))
    if _is_int(spec) or type(spec) is str:
        return [index(spec)]
    if type(spec) in (list, tuple) or (type(spec) is np.ndarray and spec.ndim == 1):
        items = list(spec)
        if type(spec) is np.ndarray and spec.dtype.kind == "b":
            if len(items) != n_features:
                raise _Refused(f"{where}: a boolean column mask of the wrong length")
            return [k for k, keep in enumerate(items) if keep]
        return [index(item.item() if isinstance(item, np.generic) else item)
                for item in items]
    raise _Refused(f"{where}: unsupported column selection {_short(spec)}")


def _check_column_transformer(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "_columns",
                            "_transformer_to_input_indices", "_remainder",
                            "sparse_output_", "transformers_", "output_indices_",
                            "_name_to_fitted_passthrough"})
    n = _n_in(est, what)
    _check_column_params(est, what)
    fitted = vars(est).get("transformers_")
    if type(fitted) is not list:
        raise _Refused(f"{what}.transformers_ must be a list")
    indices = vars(est).get("_transformer_to_input_indices")
    outputs = vars(est).get("output_indices_")
    if type(indices) is not dict or type(outputs) is not dict:
        raise _Refused(f"{what}: _transformer_to_input_indices and output_indices_ "
                       "must be dicts")
    _bool(vars(est).get("sparse_output_"), f"{what}.sparse_output_")
    position = _check_transformers(est, what, n, fitted, indices, outputs)
    for name, selected in indices.items():
        if type(selected) is not list or not all(
                _is_int(i) and 0 <= i < n for i in selected):
            raise _Refused(f"{what}._transformer_to_input_indices[{name!r}] must list "
                           f"input columns below {n}")
    for name, out in outputs.items():
        if type(out) is not slice or out.step is not None or not (
                _is_int(out.start) and _is_int(out.stop)
                and 0 <= out.start <= out.stop <= position):
            raise _Refused(f"{what}.output_indices_[{name!r}] is outside the output")
    passthrough = vars(est).get("_name_to_fitted_passthrough")
    if passthrough is not None:
        if type(passthrough) is not dict:
            raise _Refused(f"{what}._name_to_fitted_passthrough must be a dict")
        for name, transformer in passthrough.items():
            if type(transformer).__name__ != "FunctionTransformer":
                raise _Refused(f"{what}._name_to_fitted_passthrough[{name!r}] must be "
                               "a FunctionTransformer")
            _check(transformer, f"{what}._name_to_fitted_passthrough[{name!r}]")
    for name in ("_columns",):
        _plain(vars(est).get(name), f"{what}.{name}", 0)
    _plain(vars(est).get("_remainder"), f"{what}._remainder", 0)
    return n


def _check_column_params(est, what):
    """A ColumnTransformer's n_jobs (this machine's cores at most) and weights."""
    n_jobs = est.n_jobs
    if n_jobs is not None and not (_is_int(n_jobs) and n_jobs != 0
                                   and abs(n_jobs) <= (os.cpu_count() or 1)):
        raise _Refused(f"{what}.n_jobs {_short(n_jobs)}: at most the {os.cpu_count()} "
                       "cores of this machine")
    weights = est.transformer_weights
    if weights is not None and not all(
            isinstance(w, Real) and math.isfinite(w) for w in weights.values()):
        raise _Refused(f"{what}.transformer_weights must be finite numbers")


def _check_transformers(est, what, n, fitted, indices, outputs):
    """Every ``(name, transformer, columns)`` of a ColumnTransformer's ``fitted``
    transformers (``n`` inputs): its columns, its width and its output slice;
    return the total output width."""
    names = _names_list(est)
    seen, position = set(), 0
    for k, entry in enumerate(fitted):
        if type(entry) is not tuple or len(entry) != 3 or type(entry[0]) is not str:
            raise _Refused(f"{what}.transformers_[{k}] must be (name, transformer, "
                           "columns)")
        name, transformer, spec = entry
        where = f"{what}.transformers_[{k}] {name!r}"
        if name in seen:
            raise _Refused(f"{what}: duplicate transformer name {name!r}")
        seen.add(name)
        selected = _column_indices(spec, n, names, where)
        if name in indices and indices[name] != selected:
            raise _Refused(f"{where}: its columns do not match "
                           "_transformer_to_input_indices")
        width = _transformer_width(transformer, len(selected), where)
        out = outputs.get(name)
        if type(out) is not slice or out.step is not None or not (
                _is_int(out.start) and _is_int(out.stop)):
            raise _Refused(f"{what}.output_indices_[{name!r}] must be an integer slice")
        if width and (out.start != position or out.stop != position + width):
            raise _Refused(f"{what}.output_indices_[{name!r}] is {out}, expected "
                           f"slice({position}, {position + width})")
        position += width
    return position


def _transformer_width(transformer, n_selected, where):
    """The output width of one ColumnTransformer entry given ``n_selected`` columns
    ("drop", "passthrough" or a checked transformer taking exactly them)."""
    if isinstance(transformer, str):
        if transformer not in ("drop", "passthrough"):
            raise _Refused(f"{where}: unknown transformer {transformer!r}")
        return 0 if transformer == "drop" else n_selected
    if type(transformer).__name__ == "SoftmaxNNClassifier":
        raise _Refused(f"{where}: a classifier cannot transform columns")
    n_in = _check(transformer, where)
    if n_in != n_selected:
        raise _Refused(f"{where} takes {n_in} features but is given "
                       f"{n_selected} columns")
    return _width(transformer, where)


def _width(est, what):
    """The number of columns ``est`` (checked) outputs."""
    kind = type(est).__name__
    if kind == "ColumnTransformer":  # (checked: every width matches its slice)
        return max([out.stop for out in est.output_indices_.values()], default=0)
    if kind == "Pipeline":
        width = None
        for _, step in est.steps:
            if step is not None and not (isinstance(step, str)):
                width = _width(step, what)
        return width if width is not None else est.n_features_in_
    if kind in ("StandardScaler", "FunctionTransformer"):
        return est.n_features_in_
    try:
        return len(est.get_feature_names_out())
    except Exception as exc:
        raise _Refused(f"{what}: inconsistent fitted attributes ({type(exc).__name__}: "
                       f"{exc})") from None


_CHECKS = {
    "sklearn.pipeline.Pipeline": _check_pipeline,
    "sklearn.preprocessing._data.StandardScaler": _check_scaler,
    "sklearn.compose._column_transformer.ColumnTransformer": _check_column_transformer,
    "sklearn.preprocessing._encoders.OneHotEncoder": _check_encoder,
    "sklearn.impute._base.SimpleImputer": _check_imputer,
    "sklearn.impute._base.MissingIndicator": _check_indicator,
    "sklearn.preprocessing._function_transformer.FunctionTransformer":
        _check_function_transformer,
    "sk_softmax._classifier.SoftmaxNNClassifier": _check_classifier,
}


def _check(est, what):
    """Check one estimator; return its number of input features."""
    cls = type(est)
    check = _CHECKS.get(f"{cls.__module__}.{cls.__qualname__}")
    if check is None:
        raise _Refused(f"{what}: {_short(est)} is not a trusted estimator")
    return check(est, what)


def _check_model(model):
    """Check a loaded model's structure and fitted attributes; raise ``_Refused``.

    The model is a SoftmaxNNClassifier, or a Pipeline whose last step is one and
    whose earlier steps are trusted transformers (:data:`TRUSTED_TYPES`); every
    step's input width is what the step before outputs; then a probe row goes
    through ``predict_proba``.
    """
    cls = type(model)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if name == "sklearn.pipeline.Pipeline":
        _check_pipeline(model, "the pipeline", final=True)
    elif name == "sk_softmax._classifier.SoftmaxNNClassifier":
        _check_classifier(model, "the classifier")
    else:
        raise _Refused(f"the file holds {_short(model)}, not a SoftmaxNNClassifier or "
                       "a Pipeline ending in one")
    _probe(model)


def _check_text_columns(model, text_columns):
    """Where the metadata says an input column holds text, the OneHotEncoder that reads
    it must know text categories: with numeric ones every text value would encode as
    zeros (an unknown category) and the model would predict from nothing."""
    if not text_columns or type(model).__name__ != "Pipeline":
        return
    first = model.steps[0][1]
    if type(first).__name__ != "ColumnTransformer":
        return
    inputs = _names_list(first)
    if inputs is None:
        return
    for name, transformer, spec in first.transformers_:
        if isinstance(transformer, str):
            continue
        steps = transformer.steps if type(transformer).__name__ == "Pipeline" else [
            (None, transformer)]
        encoder = next((step for _, step in steps
                        if type(step).__name__ == "OneHotEncoder"), None)
        if encoder is None:
            continue
        columns = _column_indices(spec, first.n_features_in_, inputs, name)
        for k, column in enumerate(columns):
            categories = [c for c in encoder.categories_[k].tolist()
                          if not (isinstance(c, float) and math.isnan(c))]
            if inputs[column] in text_columns and not all(isinstance(c, str)
                                                           for c in categories):
                raise _Refused(f"column {_short(inputs[column])} holds text (the file's "
                               f"metadata), but its encoder's categories are "
                               f"{_short(categories)}: every text value would encode "
                               "as unknown")


def _probe_row(model):
    """One input row the model's preprocessing accepts (see :func:`_probe_value`)."""
    steps = [s for _, s in model.steps] if type(model).__name__ == "Pipeline" else [model]
    first = steps[0]
    n_features = next(s.n_features_in_ for s in steps
                      if s is not None and not isinstance(s, str))
    values = [0.0] * n_features
    if type(first).__name__ in ("StandardScaler", "SoftmaxNNClassifier",
                                "FunctionTransformer") or isinstance(first, str):
        return values
    if type(first).__name__ == "ColumnTransformer":
        for name, transformer, spec in first.transformers_:
            if isinstance(transformer, str):
                continue
            columns = _column_indices(spec, n_features, _names_list(first), name)
            for k, column in enumerate(columns):
                values[column] = _probe_value(transformer, k)
    else:
        values = [_probe_value(first, k) for k in range(n_features)]
    return values


def _names_list(est):
    names = getattr(est, "feature_names_in_", None)
    return None if names is None else names.tolist()


def _probe_value(est, k):
    """A value for input column ``k`` of ``est`` that its fitted steps accept: the
    first known category where a OneHotEncoder reads the column, else the
    imputer's fill value, else 0.0."""
    steps = [s for _, s in est.steps] if type(est).__name__ == "Pipeline" else [est]
    value = 0.0
    for step in steps:
        kind = type(step).__name__
        if kind == "SimpleImputer":
            fill = step.statistics_[k]
            if isinstance(fill, str) or (isinstance(fill, Real) and math.isfinite(fill)):
                value = fill if isinstance(fill, str) else float(fill)
        elif kind == "OneHotEncoder":
            known = [v for v in step.categories_[k].tolist()
                     if isinstance(v, str) or (isinstance(v, Real) and math.isfinite(v))]
            if known:
                value = known[0] if isinstance(known[0], str) else float(known[0])
            break
        elif step is not None and not isinstance(step, str):
            break
    return value


def _probe(model):
    names = getattr(model, "feature_names_in_", None)
    values = _probe_row(model)
    numeric = all(type(v) is float for v in values)
    try:
        if names is not None:
            import pandas as pd

            X = pd.DataFrame(np.array([values], dtype=np.float64) if numeric
                             else [values], columns=names.tolist())
        else:
            X = np.array([values], dtype=np.float64 if numeric else object)
    except ImportError:  # pandas is optional; the static checks stand
        return
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            proba = model.predict_proba(X)
    except Exception as exc:
        raise _Refused(f"the model fails on a probe row ({type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:200]})") from None
    n_classes = len(model.classes_)
    if type(proba) is not np.ndarray or proba.shape != (1, n_classes):
        raise _Refused("the model's probe prediction has the wrong shape")
