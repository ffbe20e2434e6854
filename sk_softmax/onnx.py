"""ONNX export of SoftmaxNNClassifier with skl2onnx, to serve it in onnxruntime.

Importing this module registers a skl2onnx parser, shape calculator and converter for
:class:`~sk_softmax.SoftmaxNNClassifier`, so that ``skl2onnx.to_onnx`` converts it on
its own or as the last step of a Pipeline::

    import sk_softmax.onnx  # registers the converter
    from skl2onnx import to_onnx

    onx = to_onnx(pipeline, X[:1].astype(np.float32))

The graph is the network itself: per layer a ``MatMul`` and an ``Add`` (weights in
the input's precision: a float32 graph for float32 input, a double one for float64),
the hidden activation (``Sigmoid``, ``Tanh``, ``Relu``; nothing for ``identity``),
then ``Softmax`` on the logits for the probabilities, shape ``(n, n_classes)`` --
two columns for two classes, as skl2onnx's LogisticRegression converter gives -- and
``ArgMax`` on the logits, mapped to ``classes_`` with ``Gather``, for the labels:
int64 for integer (and boolean, or integral float) classes, strings otherwise. A
reference class needs nothing special: its output column is zero.

Options, as for scikit-learn's classifiers: ``zipmap`` (True, the default: the
probabilities as a list of ``{label: probability}`` dicts; False: one tensor;
``"columns"``: one output per class) and ``nocl`` (True: labels are the class
indices ``0 .. n_classes - 1``).

:func:`export_model` writes a fitted model (or a Pipeline ending with one, such as
those ``sk-softmax fit --save`` writes) to an ``.onnx`` file, atomically.

Needs skl2onnx (and onnxruntime to run the graphs): from the source checkout,
``python -m pip install -e '.[onnx]'``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import json
import numbers

import numpy as np

try:
    import onnx
    import skl2onnx
    from onnx import TensorProto
    from skl2onnx import to_onnx, update_registered_converter
    from skl2onnx._parse import _apply_zipmap
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as exc:  # pragma: no cover - exercised without skl2onnx
    raise ImportError(
        f"sk_softmax.onnx needs skl2onnx (and onnxruntime to run the graphs): "
        f"from the source checkout, python -m pip install -e '.[onnx]' ({exc})"
    ) from exc

from ._classifier import SoftmaxNNClassifier
from ._files import atomic_path

__all__ = ["ALIAS", "MIN_SKL2ONNX", "calculate_softmax_nn_output_shapes", "convert_softmax_nn",
           "export_model", "parse_softmax_nn"]

#: The operator name the converter is registered under in skl2onnx.
ALIAS = "SkSoftmaxNNClassifier"
#: Oldest skl2onnx tested (1.18.0, with onnx 1.17 and onnxruntime 1.20; the extra's floor).
MIN_SKL2ONNX = (1, 18)

_ACTIVATION_OPS = {"identity": None, "logistic": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}


def _version(text):
    parts = []
    for part in text.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


if _version(skl2onnx.__version__) < MIN_SKL2ONNX:  # pragma: no cover - old skl2onnx only
    raise ImportError(
        f"sk_softmax.onnx needs skl2onnx >= {'.'.join(map(str, MIN_SKL2ONNX))}, found "
        f"{skl2onnx.__version__}: from the source checkout, "
        f"python -m pip install -U -e '.[onnx]'"
    )


def _is_double(variable_type):
    return isinstance(variable_type, DoubleTensorType)


def _probability_type(input_type):
    """Probabilities in the input's precision: double for double, float otherwise."""
    return DoubleTensorType() if _is_double(input_type) else FloatTensorType()


def _label_values(classes):
    """``classes`` as the graph's label tensor: (TensorProto type, values).

    int64 for integers, booleans and integral floats (as skl2onnx's own
    classifiers do), UTF-8 strings for strings; anything else is refused.
    """
    classes = np.asarray(classes)
    if classes.dtype.kind in "biu":
        values = classes.astype(np.int64)
        if not np.array_equal(values, classes):
            raise ValueError(f"class labels {classes.tolist()} do not fit in int64")
        return TensorProto.INT64, values
    if classes.dtype.kind == "f":
        values = classes.astype(np.int64)
        if not np.array_equal(values, classes):
            raise ValueError(
                f"class labels {classes.tolist()} are floats that are not integers: ONNX "
                "labels are int64 or strings. Refit with integer or string labels, or "
                "convert with options={id(model): {'nocl': True}} (labels 0..K-1)")
        return TensorProto.INT64, values
    if classes.dtype.kind == "U" or all(isinstance(c, str) for c in classes):
        return TensorProto.STRING, np.array([str(c).encode("utf-8") for c in classes])
    raise ValueError(f"class labels {classes.tolist()!r} must be strings or of an "
                     "integer dtype to be exported to ONNX (refit on y.astype(int) or "
                     "y.astype(str))")


# ------------------------------------------------------------------ skl2onnx hooks


def parse_softmax_nn(scope, model, inputs, custom_parsers=None):
    """skl2onnx parser: a ``label`` and a ``probabilities`` output, then ZipMap.

    The option ``zipmap`` (default True) turns the probabilities into a list of
    dicts (``"columns"``: one output per class); ``zipmap=False`` keeps the tensor.
    """
    options = scope.get_options(model, dict(zipmap=True))
    operator = scope.declare_local_operator(ALIAS, model)
    operator.inputs = inputs
    probability_type = _probability_type(inputs[0].type)
    label = scope.declare_local_variable("label", Int64TensorType())
    probabilities = scope.declare_local_variable("probabilities", probability_type)
    operator.outputs.append(label)
    operator.outputs.append(probabilities)
    zipmap = options["zipmap"]
    if zipmap is False or (isinstance(zipmap, (bool, np.bool_)) and not zipmap):
        return operator.outputs
    outputs = operator.outputs
    if zipmap is True and _is_double(probability_type):
        # ONNX ZipMap takes float32 only: its dicts hold float32 values of the double
        # probabilities (zipmap=False keeps them double), as for float32 input.
        cast = scope.declare_local_operator("SklearnCast")
        cast.inputs = [probabilities]
        probability_type = FloatTensorType()
        cast.outputs.append(scope.declare_local_variable("probabilities_float",
                                                         probability_type))
        outputs = [label, cast.outputs[0]]
    return _apply_zipmap(zipmap, scope, model, probability_type, outputs)


def calculate_softmax_nn_output_shapes(operator):
    """skl2onnx shape calculator: labels ``(N,)``, probabilities ``(N, n_classes)``."""
    model = operator.raw_operator
    input_type = operator.inputs[0].type
    if isinstance(input_type, StringTensorType):
        raise TypeError(f"{type(model).__name__} takes numeric input, got strings")
    shape = getattr(input_type, "shape", None)
    if shape is not None and len(shape) == 2 and isinstance(shape[1], numbers.Integral):
        if shape[1] != model.n_features_in_:
            raise ValueError(f"the ONNX input has {shape[1]} columns, but the model "
                             f"was fitted on {model.n_features_in_} features")
    _label_values(get_label_classes(operator.scope_inst, model))  # refuse bad labels
    calculate_linear_classifier_output_shapes(operator)
    n_rows = operator.inputs[0].get_first_dimension()
    probability_type = _probability_type(input_type)
    probability_type.shape = [n_rows, len(model.classes_)]
    operator.outputs[1].type = probability_type


def convert_softmax_nn(scope, operator, container):
    """skl2onnx converter: the forward pass, Softmax, and ArgMax mapped to the labels."""
    model = operator.raw_operator
    input_type = operator.inputs[0].type
    proto, dtype = ((TensorProto.DOUBLE, np.float64) if _is_double(input_type)
                    else (TensorProto.FLOAT, np.float32))
    current = operator.inputs[0].full_name
    if not isinstance(input_type, (DoubleTensorType, FloatTensorType)):
        cast = scope.get_unique_variable_name("cast_input")
        container.add_node("Cast", current, cast, to=proto,
                           name=scope.get_unique_operator_name("Cast"))
        current = cast
    n_layers = len(model.coefs_)
    activation = _ACTIVATION_OPS[model.activation]
    for l, (coef, intercept) in enumerate(zip(model.coefs_, model.intercepts_)):
        weights = scope.get_unique_variable_name(f"coef_{l}")
        bias = scope.get_unique_variable_name(f"intercept_{l}")
        container.add_initializer(weights, proto, list(coef.shape),
                                  np.asarray(coef, dtype=dtype).ravel())
        container.add_initializer(bias, proto, [1, len(intercept)],
                                  np.asarray(intercept, dtype=dtype).ravel())
        product = scope.get_unique_variable_name(f"matmul_{l}")
        container.add_node("MatMul", [current, weights], product,
                           name=scope.get_unique_operator_name("MatMul"))
        current = scope.get_unique_variable_name(f"z_{l}")
        container.add_node("Add", [product, bias], current,
                           name=scope.get_unique_operator_name("Add"))
        if l < n_layers - 1 and activation is not None:
            activated = scope.get_unique_variable_name(f"a_{l}")
            container.add_node(activation, current, activated,
                               name=scope.get_unique_operator_name(activation))
            current = activated
    # Softmax over the classes (axis 1 of the 2-D logits, in every opset).
    container.add_node("Softmax", current, operator.outputs[1].full_name, axis=1,
                       name=scope.get_unique_operator_name("Softmax"))
    # Labels from the logits, as predict does (first maximum on ties, as np.argmax).
    index = scope.get_unique_variable_name("argmax")
    container.add_node("ArgMax", current, index, axis=1, keepdims=0,
                       name=scope.get_unique_operator_name("ArgMax"))
    label_type, labels = _label_values(get_label_classes(scope, model))
    classes = scope.get_unique_variable_name("classes")
    container.add_initializer(classes, label_type, [len(labels)], labels)
    container.add_node("Gather", [classes, index], operator.outputs[0].full_name, axis=0,
                       name=scope.get_unique_operator_name("Gather"))


update_registered_converter(
    SoftmaxNNClassifier, ALIAS, calculate_softmax_nn_output_shapes, convert_softmax_nn,
    parser=parse_softmax_nn,
    options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
)


# ------------------------------------------------------------------------- export


def _classifier_of(model):
    """The fitted SoftmaxNNClassifier that is ``model`` or ends its Pipeline."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    last = model.steps[-1][1] if isinstance(model, Pipeline) else model
    if not isinstance(last, SoftmaxNNClassifier):
        raise TypeError("export_model takes a fitted SoftmaxNNClassifier or a Pipeline "
                        f"ending with one, got {type(last).__name__}")
    check_is_fitted(last)
    return last


def _takes_strings(transformer):
    """Whether a ColumnTransformer's transformer reads text (one-hot/ordinal encoders,
    or imputers, of non-numeric categories)."""
    from sklearn.pipeline import Pipeline

    steps = ([step for _, step in transformer.steps] if isinstance(transformer, Pipeline)
             else [transformer])
    for step in steps:
        categories = getattr(step, "categories_", None)
        if categories is not None:
            return any(np.asarray(c).dtype.kind in "OUS" for c in categories)
        statistics = getattr(step, "statistics_", None)
        if statistics is not None and np.asarray(statistics).dtype.kind in "OUS":
            return True
    return False


def _estimators(model):
    """``model`` and every estimator inside its Pipelines and ColumnTransformers."""
    yield model
    children = getattr(model, "steps", None) or getattr(model, "transformers_", None) or []
    for child in children:
        if not isinstance(child[1], str) and child[1] is not None:
            yield from _estimators(child[1])


def _refuse_unconvertible(model):
    """A clear error for what skl2onnx cannot convert in ``sk-softmax fit`` models."""
    from sklearn.impute import SimpleImputer

    for est in _estimators(model):
        if isinstance(est, SimpleImputer) and (
                est.add_indicator or (np.asarray(est.statistics_).dtype.kind in "OUS"
                                      and not isinstance(est.missing_values, str))):
            raise ValueError(
                "cannot export to ONNX: skl2onnx converts neither SimpleImputer's "
                "indicator columns nor imputing text cells that are missing as NaN "
                "(models fitted with sk-softmax fit --impute); refit without --impute")


def _column_names(columns, names):
    """The names of a fitted ColumnTransformer's ``columns`` (names, positions,
    a boolean mask or a slice)."""
    names = np.asarray(names, dtype=object)
    listed = names[columns] if isinstance(columns, slice) else np.atleast_1d(
        np.asarray(columns, dtype=object))
    if not all(isinstance(c, str) for c in listed):
        listed = names[np.atleast_1d(np.asarray(columns))]
    return [str(c) for c in listed]


def _initial_types(model, classifier, tensor_type):
    """One input ``X`` of shape ``(None, n_features)``; for a Pipeline that starts with
    a ColumnTransformer selecting columns by name (``sk-softmax fit``'s models), one
    ``(None, 1)`` input per column, named after it: strings for text columns."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    first = model.steps[0][1] if isinstance(model, Pipeline) else model
    names = getattr(first, "feature_names_in_", None)
    if isinstance(first, ColumnTransformer) and names is not None:
        text = set()
        for _, transformer, columns in first.transformers_:
            if isinstance(transformer, str):
                continue
            if _takes_strings(transformer):
                text.update(_column_names(columns, names))
        return [(str(name), StringTensorType([None, 1]) if str(name) in text
                 else tensor_type([None, 1])) for name in names]
    n_features = getattr(model, "n_features_in_", classifier.n_features_in_)
    return [("X", tensor_type([None, n_features]))]


def export_model(model, path, *, target_opset=None, dtype=np.float32, zipmap=False):
    """Convert a fitted model to ONNX and write it to ``path``, atomically.

    Parameters
    ----------
    model : SoftmaxNNClassifier or Pipeline ending with one
        Fitted. A Pipeline that starts with a ColumnTransformer selecting columns by
        name (as ``sk-softmax fit --save`` writes) gets one input per column, named
        after it and shaped ``(n, 1)``: strings for one-hot encoded text columns,
        numbers otherwise; any other model gets one input ``X`` of shape
        ``(n, n_features_in_)``.
    path : str or os.PathLike
        Written to a temporary file in the same directory, checked with
        ``onnx.checker``, then renamed over ``path``: an interrupted export leaves
        no partial file.
    target_opset : int or None, default=None
        ONNX opset of the graph (None: the latest skl2onnx supports).
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Precision of the numeric inputs and of the whole graph.
    zipmap : bool or "columns", default=False
        False: outputs ``label`` (n,) and ``probabilities`` (n, n_classes), columns
        ordered as ``classes_``; True: the probabilities as a list of dicts.

    Returns
    -------
    onnx.ModelProto
        The model written; its ``metadata_props`` hold ``classes`` (a JSON list of
        the labels as strings) and ``sk_softmax_version``.
    """
    from . import __version__

    classifier = _classifier_of(model)
    if np.dtype(dtype) == np.float64:
        tensor_type = DoubleTensorType
    elif np.dtype(dtype) == np.float32:
        tensor_type = FloatTensorType
    else:
        raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
    _refuse_unconvertible(model)
    onx = to_onnx(model, initial_types=_initial_types(model, classifier, tensor_type),
                  target_opset=target_opset,
                  options={id(classifier): {"zipmap": zipmap}})
    for key, value in (("classes", json.dumps([str(c) for c in classifier.classes_])),
                       ("sk_softmax_version", __version__)):
        entry = onx.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(onx)
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(onx.SerializeToString())
    return onx
