"""The model-file checks branch by branch: archive, schema.json, fitted attributes.

tests/test_persist.py holds the round trips and the corpus of attacks; this file
drives every refusal of :mod:`sk_softmax._archive`, :mod:`sk_softmax._schema`,
:mod:`sk_softmax._estimator_checks` and :mod:`sk_softmax._model_checks` to its own
message, and loads the legitimate shapes each check must accept (string classes,
imputers with indicators, every ColumnTransformer column selection, passthrough
steps, infrequent categories...).

A tampered file is made in one of two ways: a fitted model, deep-copied, has an
attribute changed and is written with ``skops.io.dump`` (a file whose every node
is one skops writes; the attribute checks must catch it), or a legitimate file's
``schema.json`` and members are edited with :class:`tampered.Model`. A few guards
that no file can reach (the schema walk or an earlier check stops every input
first) are driven by calling the check on a crafted object; each says why.
"""

import copy
import io
import os
import re
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from sk_softmax import SoftmaxNNClassifier, _persist, _schema
from sk_softmax._persist import load_model, save_model

sio = pytest.importorskip("skops.io")
sys.path.insert(0, os.path.dirname(__file__))
from tampered import (  # noqa: E402
    Model,
    dict_node,
    json_node,
    list_node,
    npy_bytes,
    patch_headers,
    tuple_node,
    type_node,
)

# ----------------------------------------------------------------- the models


def _clf(**params):
    return SoftmaxNNClassifier(max_iter=50, **params)


def _numeric(seed=0, n=40, p=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, p)), np.arange(n) % 3


def _frame(seed=0):
    """Three numeric columns with missing cells, a text column with missing cells,
    text labels (what the command line reads from a CSV)."""
    X, y = _numeric(seed, p=3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame.iloc[[1, 7], 0] = np.nan
    colours = np.array(["red", "green", "blue"], dtype=object)[np.arange(40) % 3]
    frame["colour"] = pd.Series(colours, dtype=object)
    frame.loc[[2, 5], "colour"] = None
    labels = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    return frame, labels


def _builders():
    X, y = _numeric()
    frame, labels = _frame()
    # as the command line builds it (sk_softmax._csv.make_features)
    cli = Pipeline([
        ("features", ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                      StandardScaler()), ["a", "b", "c"]),
            ("categorical", make_pipeline(
                SimpleImputer(strategy="constant", fill_value="(missing)"),
                OneHotEncoder(handle_unknown="ignore")), ["colour"])],
            verbose_feature_names_out=False)),
        ("model", _clf())])
    # every kind of column selection, a passthrough inside a nested pipeline
    six = pd.DataFrame(np.random.default_rng(1).standard_normal((40, 6)),
                       columns=list("abcdef"))
    six.iloc[[0, 9], 5] = np.nan
    columns = make_pipeline(ColumnTransformer([
        ("pos", StandardScaler(), slice(0, 2)),
        ("mask", "passthrough", np.array([False, False, True, False, False, False])),
        ("idx", "drop", 3),
        ("name", "drop", "e"),
        ("span", "drop", slice("d", None)),  # names, as pandas .loc: d, e and f
        ("nested", Pipeline([("skip", "passthrough"), ("impute", SimpleImputer())]),
         ["f"])]), _clf())
    # a category seen once (infrequent); a column always missing (one category: nan)
    codes = np.column_stack([np.r_[np.arange(39) % 3, 3], np.full(40, np.nan)])
    rare = make_pipeline(OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=3,
                                       sparse_output=False), _clf())
    # an imputer first, one of its columns never observed (a NaN statistic)
    empty = X.copy()
    empty[:, 2] = np.nan
    steps = Pipeline([("identity", FunctionTransformer()), ("skip", "passthrough"),
                      ("none", None), ("unscaled", StandardScaler(with_std=False)),
                      ("uncentred", StandardScaler(with_mean=False)),
                      ("clf", _clf(hidden_layer_sizes=(3,), random_state=0))])
    return {
        "plain": (_clf(), X, y),
        "hidden": (make_pipeline(StandardScaler(), _clf(hidden_layer_sizes=(3,))), X, y),
        "cli": (cli, frame, labels),
        "columns": (columns, six, labels),
        "rare": (rare, codes, y),
        "imputed": (make_pipeline(SimpleImputer(), _clf()), empty, y),
        "steps": (steps, X, labels),
        "indicator": (make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(),
                                    _clf()), _frame()[0][["a", "b", "c"]], y),
    }


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """name -> (fitted model, X, path of its legitimate file)."""
    folder = tmp_path_factory.mktemp("checked")
    models = {}
    for name, (model, X, y) in _builders().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        path = folder / f"{name}.skops"
        save_model(model, path)
        models[name] = (model, X, path)
    return models


def _refused(path, match):
    """load_model refuses ``path`` with one line: ``<path>: <problem>``, the problem
    matching ``match`` (searched after the path, which could match it on its own)."""
    with pytest.raises(ValueError) as info:
        load_model(path)
    message = str(info.value)
    prefix = f"{path}: "
    assert message.startswith(prefix) and "\n" not in message, message
    assert re.search(match, message[len(prefix):]), message


# ------------------------------------------------------- legitimate shapes load


@pytest.mark.filterwarnings("ignore:Skipping features without any observed values")
@pytest.mark.parametrize("name", ["plain", "hidden", "cli", "columns", "rare", "imputed",
                                  "steps", "indicator"])
def test_legitimate_model_loads_and_predicts_identically(fitted, name):
    model, X, path = fitted[name]
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_legitimate_shapes_are_what_the_checks_see(fitted):
    """The fixtures exercise the branches they are here for."""
    rare = fitted["rare"][0][0]
    assert [None if r is None else r.tolist() for r in rare._infrequent_indices] == [[3],
                                                                                     None]
    assert np.isnan(rare.categories_[1]).all()
    assert np.isnan(fitted["imputed"][0][0].statistics_[2])
    assert fitted["cli"][0].classes_.dtype == object
    unscaled = fitted["steps"][0][3]
    assert unscaled.var_ is None and unscaled.scale_ is None


def _dumped(model, path):
    sio.dump(model, path)
    return path


def test_plain_extra_attributes_are_accepted(fitted, tmp_path):
    """Attributes a check does not know are accepted when they are plain data
    (numbers, strings, None, slices, numpy scalars and arrays, lists, tuples and
    str-keyed dicts of them) that shadow nothing."""
    model = copy.deepcopy(fitted["hidden"][0])
    model[0].note = {"a": [1, 2.5, "x", None, True], "b": (np.float64(1.5), slice(1, 2)),
                     "c": np.arange(3), "d": np.array(["u", "v"])}
    loaded = load_model(_dumped(model, tmp_path / "note.skops"))
    assert loaded[0].note["a"] == [1, 2.5, "x", None, True]
    np.testing.assert_array_equal(loaded[0].note["c"], np.arange(3))


def test_npy_version_2_header_is_accepted(fitted, tmp_path):
    m = Model(fitted["plain"][2])
    node = m.attrs()["coefs_"]["content"][0]
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, m.array(node), version=(2, 0))
    m.members[node["file"]] = buffer.getvalue()
    model, X, _ = fitted["plain"]
    loaded = load_model(m.write(tmp_path / "v2.skops"))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_fitted_passthrough_map_of_older_scikit_learn_is_checked(fitted, tmp_path):
    """Some scikit-learn releases keep each passthrough's FunctionTransformer in
    ``_name_to_fitted_passthrough`` (this one does not): a dict of checked
    FunctionTransformers is accepted."""
    model = copy.deepcopy(fitted["columns"][0])
    six = fitted["columns"][1]
    model[0]._name_to_fitted_passthrough = {
        "mask": FunctionTransformer(feature_names_out="one-to-one").fit(six[["c"]])}
    assert load_model(_dumped(model, tmp_path / "old.skops")) is not None


@pytest.mark.parametrize("drop", ["first", "if_binary"])
def test_onehot_drop_indices_are_accepted_and_checked(tmp_path, drop):
    """scikit-learn keeps ``drop_idx_`` as an object array of ints and None (None: the
    feature drops nothing): such models save and load with the same predictions; the
    same indices as an integer array load too; indices of another type, or outside
    their feature's categories, are refused."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 3, 40), rng.integers(0, 2, 40)]
    y = np.arange(40) % 3
    model = make_pipeline(OneHotEncoder(drop=drop, sparse_output=False), _clf())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    encoder = model[0]
    assert encoder.drop_idx_.dtype == object
    assert (encoder.drop_idx_[0] is None) == (drop == "if_binary")
    save_model(model, tmp_path / "drop.skops")
    loaded = load_model(tmp_path / "drop.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert list(loaded[0].drop_idx_) == list(encoder.drop_idx_)
    if drop == "first":  # the same indices as an int array
        as_ints = copy.deepcopy(model)
        as_ints[0].drop_idx_ = np.array([0, 0])
        as_ints[0]._drop_idx_after_grouping = np.array([0, 0])
        loaded = load_model(_dumped(as_ints, tmp_path / "ints.skops"))
        np.testing.assert_array_equal(loaded.predict_proba(X), as_ints.predict_proba(X))
    for name in ("drop_idx_", "_drop_idx_after_grouping"):
        for bad, match in (
                (np.array([3, 0]), "indexes outside the categories"),
                (np.array([0, -1]), "indexes outside the categories"),
                (np.array([0, 2], dtype=object), "indexes outside the categories"),
                (np.array([None, -1], dtype=object), "indexes outside the categories"),
                (np.array(["0", 0], dtype=object), "holds str '0', not an index"),
                (np.array([0, 0, 0], dtype=object), r"has shape \(3,\), expected \(2,\)")):
            tampered = copy.deepcopy(model)
            setattr(tampered[0], name, bad)
            _refused(_dumped(tampered, tmp_path / "bad.skops"),
                     rf"'onehotencoder'\.{name} {match}")


def test_object_arrays_hold_no_floats_or_containers(tmp_path):
    """The schema lets object arrays hold strings, ints and missing values only."""
    model = make_pipeline(OneHotEncoder(drop="first", sparse_output=False), _clf())
    X = np.c_[np.arange(40) % 3, np.arange(40) % 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, np.arange(40) % 3)
    model[0].drop_idx_ = np.array([0.5, 0], dtype=object)
    _refused(_dumped(model, tmp_path / "float.skops"),
             r"object arrays may hold only strings, ints and missing values, not float 0\.5")


# ------------------------------------------- fitted attributes (skops-written files)

OBJECT_CASES = []


def case(base, match):
    """Register ``mutate(model)``: changes a deep copy of fitted[base][0] in place
    (or returns the object to write instead)."""
    def register(mutate):
        OBJECT_CASES.append(pytest.param(base, mutate, match, id=mutate.__name__))
        return mutate
    return register


def _ct(model):
    return model[0]


def _entry(ct, name):
    return next(k for k, entry in enumerate(ct.transformers_) if entry[0] == name)


def _replace(ct, name, *, transformer=None, spec=None):
    """Change the transformer or the column selection of ``ct``'s entry ``name``."""
    k = _entry(ct, name)
    old = ct.transformers_[k]
    ct.transformers_[k] = (name, old[1] if transformer is None else transformer,
                           old[2] if spec is None else spec)


# -- _estimator_checks: arrays, labels, names, attributes

@case("hidden", r"'standardscaler'\.mean_ has dtype int64")
def scaler_mean_of_integers(m):
    m[0].mean_ = np.zeros(4, dtype=np.int64)


@case("plain", r"coefs_\[0\] must have 2 dimension\(s\), got shape \(12,\)")
def weights_flattened(m):
    m.coefs_[0] = m.coefs_[0].ravel()


@case("cli", r"feature_names_in_ holds NoneType None, not a string")
def feature_name_missing(m):
    m[0].feature_names_in_ = np.array(["a", None, "c", "colour"], dtype=object)


@case("cli", r"feature_names_in_ has duplicates")
def feature_names_repeated(m):
    m[0].feature_names_in_ = np.array(["a", "b", "a", "colour"], dtype=object)


@case("cli", r"categories_\[0\]: one missing value at most, last")
def category_missing_first(m):
    m[0].transformers_[1][1][1].categories_[0] = np.array(
        [None, "blue", "green", "red"], dtype=object)


@case("cli", r"categories_\[0\]: one missing value at most, last")
def categories_missing_twice(m):
    m[0].transformers_[1][1][1].categories_[0] = np.array(
        ["blue", "green", None, None], dtype=object)


@case("hidden", r"'standardscaler' lacks the parameter\(s\) copy")
def scaler_without_a_parameter(m):
    del m[0].copy


@case("hidden", r"'standardscaler'\.note holds StandardScaler StandardScaler\(\)")
def extra_attribute_holding_an_estimator(m):
    m[0].note = [StandardScaler()]


@case("hidden", r"'standardscaler'\.note holds RandomState")
def extra_attribute_holding_a_random_state(m):
    m[0].note = {"rng": np.random.RandomState(0)}


@case("hidden", r"'standardscaler'\.note holds NoneType None, not a string")
def extra_object_array_with_a_missing_value(m):
    m[0].note = np.array(["x", None], dtype=object)


# -- _estimator_checks: the classifier

@case("plain", r"the classifier\.loss_ must be a number")
def loss_not_a_number(m):
    m.loss_ = "low"


@case("plain", r"loss_curve_ must be a list of numbers")
def loss_curve_as_tuple(m):
    m.loss_curve_ = tuple(m.loss_curve_)


@case("plain", r"loss_curve_ must be a list of numbers")
def loss_curve_of_strings(m):
    m.loss_curve_ = ["1.0"]


@case("hidden", r"a layer has no units")
def hidden_layer_of_no_units(m):
    clf = m[-1]
    clf.coefs_ = [np.zeros((4, 0)), np.zeros((0, 3))]
    clf.intercepts_ = [np.zeros(0), np.zeros(3)]
    clf._layout_params = ((4, 0, 3), None, True)


@case("plain", r"1 output unit\(s\); at least 2 classes")
def one_output_unit(m):
    m.coefs_, m.intercepts_ = [np.zeros((4, 1))], [np.zeros(1)]
    m._layout_params = ((4, 1), None, True)
    m.classes_ = np.array([0])


@case("plain", r"hidden_layer_sizes must contain only integers >= 1")
def hidden_layer_of_size_zero(m):
    m.hidden_layer_sizes = (0,)  # array-like: _validate_params lets it through


@case("hidden", r"solver='trust-ncg' needs the exact Hessian")
def trust_ncg_with_hidden_layers(m):
    m[-1].solver = "trust-ncg"


@case("plain", r"fit_intercept differs from the fitted layout")
def fit_intercept_flipped(m):
    m.fit_intercept = False


# -- _estimator_checks: scaler, function transformer, indicator, encoder

@case("hidden", r"n_samples_seen_ must be a number")
def samples_seen_as_text(m):
    m[0].n_samples_seen_ = "forty"


@case("steps", r"only the FunctionTransformer of 'passthrough' columns")
def function_transformer_with_arguments(m):
    m[0].kw_args = {"copy": True}


@case("indicator", r"indicator_\._n_features does not match n_features_in_")
def indicator_feature_count(m):
    m[0].indicator_._n_features = 7


@case("cli", r"'onehotencoder'\.dtype str 'nope' is not a numeric type")
def encoder_dtype_not_a_type(m):
    m[0].transformers_[1][1][1].dtype = "nope"


@case("cli", r"categories_ must be a list of 1 arrays")
def encoder_categories_as_tuple(m):
    encoder = m[0].transformers_[1][1][1]
    encoder.categories_ = tuple(encoder.categories_)


@case("cli", r"categories_\[0\] is empty")
def encoder_without_categories(m):
    m[0].transformers_[1][1][1].categories_ = [np.array([], dtype=object)]


@case("cli", r"_n_features_outs must be a list of integers")
def encoder_output_counts_as_tuple(m):
    encoder = m[0].transformers_[1][1][1]
    encoder._n_features_outs = tuple(encoder._n_features_outs)


@case("cli", r"inconsistent encoder \(AttributeError: .*_drop_idx_after_grouping")
def encoder_without_its_drop_indices(m):
    # optional for the check (None: no drop), read by _compute_n_features_outs
    del m[0].transformers_[1][1][1]._drop_idx_after_grouping


@case("cli", r"_infrequent_indices and _default_to_infrequent_mappings must be lists "
             r"of 1 entries")
def encoder_infrequent_enabled_without_indices(m):
    m[0].transformers_[1][1][1]._infrequent_enabled = True


@case("rare", r"_default_to_infrequent_mappings\[0\] does not group the infrequent")
def encoder_infrequent_mapping_scrambled(m):
    m[0]._default_to_infrequent_mappings[0] = np.array([1, 0, 2, 3])


@case("rare", r"_default_to_infrequent_mappings\[0\] has shape \(3,\), expected \(4,\)")
def encoder_infrequent_mapping_short(m):
    m[0]._default_to_infrequent_mappings[0] = np.array([0, 1, 2])


@case("rare", r"_infrequent_indices\[0\] must be sorted category indices")
def encoder_infrequent_indices_empty(m):
    m[0]._infrequent_indices[0] = np.array([], dtype=np.int64)


# -- _model_checks: the imputer

@case("indicator", r"'simpleimputer'\._fit_dtype must be a numeric, str or object dtype")
def imputer_dtype_not_a_dtype(m):
    m[0]._fit_dtype = "float64"


@case("indicator", r"indicator_ must be a MissingIndicator")
def imputer_indicator_lost(m):
    m[0].indicator_ = None


@case("indicator", r"indicator_ does not take the imputer's 3 features")
def imputer_indicator_wider(m):
    indicator = m[0].indicator_
    indicator.n_features_in_ = indicator._n_features = 5


@case("indicator", r"indicator_ must be None without add_indicator")
def imputer_indicator_not_asked_for(m):
    m[0].add_indicator = False


@case("indicator", r"inconsistent fitted attributes \(ValueError: .*input_features")
def indicator_names_other_columns(m):
    # the imputer passes its input names to the indicator, which knows others
    m[0].indicator_.feature_names_in_ = np.array(["x", "y", "z"], dtype=object)


# -- _model_checks: pipelines

@case("hidden", r"the pipeline\.steps must be a non-empty list")
def pipeline_without_steps(m):
    m.steps = []


@case("hidden", r"the pipeline\.steps\[0\] must be a \(name, estimator\) pair")
def pipeline_step_as_list(m):
    m.steps[0] = list(m.steps[0])


@case("hidden", r"the pipeline: memory and transform_input must be None")
def pipeline_with_a_cache(m):
    m.memory = "cache"


@case("hidden", r"the last step must be a SoftmaxNNClassifier, got StandardScaler")
def pipeline_ending_in_a_scaler(m):
    del m.steps[-1]


@case("hidden", r"steps\[0\] 'inner': every step is 'passthrough'")
def nested_pipeline_of_passthroughs(m):
    m.steps[0] = ("inner", Pipeline([("p", "passthrough"), ("q", None)]))


@case("hidden", r"steps\[0\] 'x': dict \{'a': 1\} is not a trusted estimator")
def pipeline_step_a_dict(m):
    m.steps[0] = ("x", {"a": 1})


@case("hidden", r"the file holds StandardScaler")
def root_a_scaler(m):
    return m[0]


# -- _model_checks: ColumnTransformer columns

@case("columns", r"'pos': a column slice mixes names and positions")
def slice_of_name_and_position(m):
    _replace(_ct(m), "pos", spec=slice("a", 2))


@case("columns", r"'mask': a boolean column mask of the wrong length")
def mask_too_short(m):
    _replace(_ct(m), "mask", spec=np.array([True, False]))


@case("columns", r"'idx': unsupported column selection float 3\.5")
def column_as_float(m):
    _replace(_ct(m), "idx", spec=3.5)


@case("columns", r"'idx': unsupported column selection ndarray")
def columns_as_matrix(m):
    _replace(_ct(m), "idx", spec=np.array([[3]]))


@case("columns", r"'idx': column int 6 is not one of the inputs")
def column_past_the_inputs(m):
    _replace(_ct(m), "idx", spec=6)


# -- _model_checks: ColumnTransformer attributes

@case("columns", r"'columntransformer'\.transformers_ must be a list")
def transformers_as_tuple(m):
    _ct(m).transformers_ = tuple(_ct(m).transformers_)


@case("columns", r"_transformer_to_input_indices and output_indices_ must be dicts")
def output_indices_as_list(m):
    _ct(m).output_indices_ = list(_ct(m).output_indices_.values())


@case("columns", r"_transformer_to_input_indices\['extra'\] must list input columns "
                 r"below 6")
def input_indices_past_the_inputs(m):
    _ct(m)._transformer_to_input_indices["extra"] = [99]


@case("columns", r"output_indices_\['extra'\] is outside the output")
def output_slice_past_the_output(m):
    _ct(m).output_indices_["extra"] = slice(0, 99)


@case("columns", r"_name_to_fitted_passthrough must be a dict")
def fitted_passthrough_as_list(m):
    _ct(m)._name_to_fitted_passthrough = ["mask"]


@case("columns", r"_name_to_fitted_passthrough\['mask'\] must be a FunctionTransformer")
def fitted_passthrough_a_scaler(m):
    _ct(m)._name_to_fitted_passthrough = {"mask": StandardScaler()}


@case("columns", r"_name_to_fitted_passthrough\['mask'\]: only the FunctionTransformer")
def fitted_passthrough_with_arguments(m):
    _ct(m)._name_to_fitted_passthrough = {
        "mask": FunctionTransformer(kw_args={"a": 1}).fit(np.zeros((2, 1)))}


@case("columns", r"transformer_weights must be finite numbers")
def infinite_transformer_weight(m):
    _ct(m).transformer_weights = {"pos": float("inf")}


@case("columns", r"transformer_weights must be finite numbers")
def transformer_weight_as_text(m):
    _ct(m).transformer_weights = {"pos": "2"}


@case("columns", r"transformers_\[0\] must be \(name, transformer, columns\)")
def transformer_entry_as_list(m):
    _ct(m).transformers_[0] = list(_ct(m).transformers_[0])


@case("columns", r"duplicate transformer name 'pos'")
def transformer_named_twice(m):
    _ct(m).transformers_.append(_ct(m).transformers_[0])


@case("columns", r"'pos': its columns do not match _transformer_to_input_indices")
def input_indices_swapped(m):
    _ct(m)._transformer_to_input_indices["pos"] = [1, 0]


@case("columns", r"output_indices_\['extra'\] is outside the output")
def extra_output_slice_without_a_start(m):
    _ct(m).output_indices_["extra"] = slice(None, 2)


@case("columns", r"output_indices_\['extra'\] is outside the output")
def extra_output_slice_with_a_step(m):
    _ct(m).output_indices_["extra"] = slice(0, 2, 1)


@case("plain", r"reference_class must be one label, got ndarray")
def reference_class_an_array(m):
    m.reference_class = np.array([1, 2])


@case("columns", r"output_indices_\['pos'\] must be an integer slice")
def output_slice_with_a_step(m):
    _ct(m).output_indices_["pos"] = slice(0, 2, 1)


@case("columns", r"output_indices_\['pos'\] must be an integer slice")
def output_slice_missing(m):
    del _ct(m).output_indices_["pos"]


@case("columns", r"'idx': unknown transformer 'keep'")
def transformer_named_by_an_unknown_string(m):
    _replace(_ct(m), "idx", transformer="keep")


@case("columns", r"'pos': a classifier cannot transform columns")
def classifier_transforming_columns(m):
    _replace(_ct(m), "pos", transformer=m[-1])


@case("columns", r"'pos' takes 2 features but is given 3 columns")
def scaler_given_three_columns(m):
    _replace(_ct(m), "pos", spec=slice(0, 3))
    _ct(m)._transformer_to_input_indices["pos"] = [0, 1, 2]


@case("columns", r"'pos': RandomState .* is not a trusted estimator")
def transformer_a_random_state(m):
    _replace(_ct(m), "pos", transformer=np.random.RandomState(0))


# -- _model_checks: the probe row

@case("indicator", r"statistics_ has infinite values")
def imputer_filling_with_infinity(m):
    m[0].statistics_ = np.array([np.inf, 0.0, 0.0])


@case("indicator", r"the model fails on a probe row \(ValueError: .*could not convert")
def imputer_filling_numbers_with_text(m):
    m[0].statistics_ = np.array(["x", "y", "z"], dtype=object)


@pytest.mark.parametrize("base,mutate,match", OBJECT_CASES)
def test_tampered_estimator_is_refused(fitted, tmp_path, base, mutate, match):
    model = copy.deepcopy(fitted[base][0])
    written = mutate(model)
    path = _dumped(model if written is None else written, tmp_path / "tampered.skops")
    _refused(path, match)


def test_probe_needs_pandas_for_named_features(fitted, tmp_path, monkeypatch):
    """Without pandas (optional) a model fitted on a DataFrame is not probed: the
    static checks stand, a model that fails only its probe row loads."""
    model = copy.deepcopy(fitted["indicator"][0])
    model[0].statistics_ = np.array(["x", "y", "z"], dtype=object)
    path = _dumped(model, tmp_path / "text.skops")
    _refused(path, r"fails on a probe row")
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert type(load_model(path)).__name__ == "Pipeline"


# -------------------------------------------- guards no file reaches: direct calls


def test_activation_guard_behind_validate_params(fitted):
    """_check_hyperparameters runs after _validate_params, which refuses any
    activation outside ACTIVATIONS first; the guard holds on its own."""
    from sk_softmax._estimator_checks import _check_hyperparameters
    from sk_softmax._refusal import _Refused

    clf = copy.deepcopy(fitted["plain"][0])
    clf.activation = "softplus"
    with pytest.raises(_Refused, match="unknown activation 'softplus'"):
        _check_hyperparameters(clf, "clf", [4, 3], clf.classes_, None, True)


def test_random_state_subclass_is_refused():
    """The schema builds numpy.random.mtrand.RandomState only; a subclass, which
    could override get_state or the draws, is refused by the check itself."""
    from sk_softmax._estimator_checks import _check_random_state
    from sk_softmax._refusal import _Refused

    class Rigged(np.random.RandomState):
        pass

    with pytest.raises(_Refused, match="rng: Rigged"):
        _check_random_state(Rigged(0), "rng")
    _check_random_state(np.random.RandomState(0), "rng")


def test_function_transformer_with_a_feature_names_function_is_refused():
    """A function cannot come through the schema (FunctionNode is refused); the
    check refuses a callable feature_names_out anyway."""
    from sk_softmax._estimator_checks import _check_function_transformer
    from sk_softmax._refusal import _Refused

    transformer = FunctionTransformer(feature_names_out=lambda est, names: names)
    transformer.fit(np.zeros((2, 2)))
    with pytest.raises(_Refused, match="feature_names_out must be 'one-to-one' or None"):
        _check_function_transformer(transformer, "ft")


def test_probe_prediction_of_the_wrong_shape_is_refused(fitted):
    """A SoftmaxNNClassifier's predict_proba is (1, len(classes_)) once checked; the
    probe still refuses another shape (here a shadowing instance attribute, which
    the strict attribute check refuses in a file)."""
    from sk_softmax._model_checks import _probe
    from sk_softmax._refusal import _Refused

    clf = copy.deepcopy(fitted["plain"][0])
    clf.predict_proba = lambda X: np.zeros((1, 2))
    with pytest.raises(_Refused, match="probe prediction has the wrong shape"):
        _probe(clf)


# ------------------------------------------------------------------ schema.json

SCHEMA_CASES = []


def schema_case(base, match):
    """Register ``craft(m)``: edits the tampered.Model of fitted[base]'s file."""
    def register(craft):
        SCHEMA_CASES.append(pytest.param(base, craft, match, id=craft.__name__))
        return craft
    return register


def _fresh(node):
    """``node`` without its ``__id__``: skops (and the walk) build a node whose id
    was seen before as that first node, which would hide the edit."""
    node.pop("__id__", None)
    return node


def _object_array(items, length=None):
    return {"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode",
            "type": "json", "content": [json_node(item) for item in items],
            "shape": tuple_node([json_node(len(items) if length is None else length)])}


def _dtype_node(content):
    return {"__class__": "dtype", "__module__": "numpy", "__loader__": "DTypeNode",
            "content": content}


def _slice_node(start, stop, step):
    return {"__class__": "slice", "__module__": "builtins", "__loader__": "SliceNode",
            "content": {"start": start, "stop": stop, "step": step}}


@schema_case("plain", r"schema.json: _skops_version is not a string")
def skops_version_a_number(m):
    m.schema["_skops_version"] = 1


@schema_case("plain", r"\['activation'\]: schema node is not a JSON object")
def node_a_bare_string(m):
    m.attrs()["activation"] = "tanh"


@schema_case("plain", r"\['activation'\]: schema node without __module__, __class__ and "
                      r"__loader__ strings")
def node_without_a_loader(m):
    del m.attrs()["activation"]["__loader__"]


@schema_case("plain", r"\['activation'\]: __id__ is not an integer")
def id_as_text(m):
    m.attrs()["activation"]["__id__"] = "7"


@schema_case("plain", r"\['class_weight'\]: dict without content")
def dict_without_content(m):
    m.attrs()["class_weight"] = {**dict_node({}), "content": []}


@schema_case("plain", r"the model \(SoftmaxNNClassifier\): dict key types are not a list of "
                      r"one type a key")
def attribute_without_its_name_type(m):
    m.schema["content"]["key_types"]["content"].pop()


@schema_case("plain", r"\['class_weight'\]: dict key types are not a list")
def dict_key_types_as_tuple(m):
    m.attrs()["class_weight"] = {**dict_node({"a": json_node(1.0)}),
                                 "key_types": tuple_node([type_node("builtins", "str")])}


@schema_case("plain", r"\['class_weight'\]: dict keys must be str or int")
def dict_key_of_type_bool(m):
    m.attrs()["class_weight"] = {**dict_node({"a": json_node(1.0)}),
                                 "key_types": list_node([type_node("builtins", "bool")])}


@schema_case("plain", r"\['class_weight'\]: dict keys must be str or int")
def dict_key_type_not_a_type(m):
    m.attrs()["class_weight"] = {**dict_node({"a": json_node(1.0)}),
                                 "key_types": list_node([json_node("str")])}


@schema_case("plain", r"\['loss_curve_'\]: builtins.list without content")
def list_without_content(m):
    _fresh(m.attrs()["loss_curve_"])["content"] = {}


@schema_case("plain", r"\['activation'\]: JSON value without content")
def json_value_not_marked_json(m):
    _fresh(m.attrs()["activation"])["is_json"] = False


@schema_case("plain", r"\['activation'\]: JSON value without content")
def json_value_not_text(m):
    _fresh(m.attrs()["activation"])["content"] = 7


@schema_case("plain", r"\['activation'\]: bad JSON value \(Expecting")
def json_value_broken(m):
    _fresh(m.attrs()["activation"])["content"] = "{nope"


@schema_case("plain", r"\['activation'\]: a slice must have int or str bounds")
def slice_with_a_text_step(m):
    m.attrs()["activation"] = _slice_node(0, 1, "x")


@schema_case("plain", r"\['activation'\]: a slice must have int or str bounds")
def slice_with_a_float_bound(m):
    m.attrs()["activation"] = _slice_node(0.5, 1, None)


@schema_case("plain", r"\['activation'\]: a slice must have int or str bounds")
def slice_without_a_step(m):
    m.attrs()["activation"] = {**_slice_node(0, 1, None), "content": {"start": 0, "stop": 1}}


@schema_case("plain", r"\['activation'\]: dtype without its empty array")
def dtype_from_a_string(m):
    m.attrs()["activation"] = _dtype_node(json_node("float64"))


@schema_case("plain", r"\['activation'\]: a dtype's array must be empty")
def dtype_of_a_full_object_array(m):
    m.attrs()["activation"] = _dtype_node(_object_array(["a"]))


@schema_case("plain", r"\['activation'\]: a dtype's array must be empty")
def dtype_of_a_full_numeric_array(m):
    m.attrs()["activation"] = _dtype_node(m.array_node(np.zeros(3)))


@schema_case("plain", r"\['classes_'\]: object array without items")
def object_array_items_as_text(m):
    m.attrs()["classes_"] = {**_object_array([]), "content": "abc"}


@schema_case("plain", r"\['classes_'\]: object array shape does not match its items")
def object_array_shape_longer(m):
    m.attrs()["classes_"] = _object_array(["a", "b", "c"], length=5)


@schema_case("plain", r"\['classes_'\]: object array shape does not match its items")
def object_array_length_as_text(m):
    m.attrs()["classes_"] = {**_object_array(["a", "b", "c"]),
                             "shape": tuple_node([json_node("3")])}


@schema_case("plain", r"\['coefs_'\]\[0\]: unknown array storage 'pickle' for numpy.ndarray")
def array_stored_as_pickle(m):
    m.attrs()["coefs_"]["content"][0]["type"] = "pickle"


@schema_case("plain", r"\['alpha'\]: unknown array storage 'json' for numpy.float64")
def numpy_scalar_stored_as_json(m):
    m.attrs()["alpha"] = {**_object_array(["1"]), "__class__": "float64"}


@schema_case("plain", r"the model: sk_softmax._classifier.SoftmaxNNClassifier without its "
                      r"attributes")
def estimator_attributes_as_list(m):
    m.schema["content"] = list_node([])


@schema_case("plain", r"the model: sk_softmax._classifier.SoftmaxNNClassifier attribute "
                      r"names must be strings")
def estimator_attribute_named_by_an_int(m):
    m.schema["content"]["key_types"]["content"][0] = type_node("builtins", "int")


@schema_case("plain", r"\['random_state'\]: RandomState without its state")
def random_state_from_a_list(m):
    m.attrs()["random_state"] = {"__class__": "RandomState",
                                 "__module__": "numpy.random.mtrand",
                                 "__loader__": "RandomStateNode", "content": list_node([])}


@schema_case("hidden", r"__id__ \d+ refers to a node that contains it \(a cycle\)")
def reference_to_the_enclosing_estimator(m):
    m.attrs(1)["classes_"] = {**json_node("x"), "__id__": m.estimator(1)["__id__"]}


@schema_case("plain", r"shared __id__ references expand \d+ schema nodes to \d+")
def references_doubling(m):
    # 12 levels of lists whose second item refers to the first: 2**13 nodes to walk
    node = {**json_node(0.5), "__id__": 1000}
    for level in range(12):
        node = {**list_node([node, {**json_node(0), "__id__": node["__id__"]}]),
                "__id__": 2000 + level}
    m.attrs()["loss_curve_"] = node


@schema_case("hidden", r"'standardscaler'\.deep_b is nested too deeply")
def plain_data_nested_through_a_reference(m):
    # Each written list is 40 deep (within the schema's 64 levels), but deep_b's
    # innermost item is a reference to deep_a: skops builds a list 81 deep.
    deep_a = json_node(1)
    for _ in range(40):
        deep_a = list_node([deep_a])
    deep_a["__id__"] = 4242
    deep_b = {**json_node(0), "__id__": 4242}
    for _ in range(40):
        deep_b = list_node([deep_b])
    attrs = m.attrs(0)
    attrs["deep_a"], attrs["deep_b"] = deep_a, deep_b
    m.estimator(0)["content"]["key_types"]["content"] += [type_node("builtins", "str")] * 2


@pytest.mark.parametrize("base,craft,match", SCHEMA_CASES)
def test_tampered_schema_is_refused(fitted, tmp_path, base, craft, match):
    m = Model(fitted[base][2])
    craft(m)
    _refused(m.write(tmp_path / "tampered.skops"), match)


def test_recursion_in_the_schema_walk_is_a_refusal(fitted, tmp_path, monkeypatch):
    """The depth cap stops the walk long before Python's recursion limit; without
    it, a RecursionError is still a refusal, not a crash. Each dtype node nests one
    JSON object (which json.loads reads well within the limit) but costs the walk two
    frames (visit, DTypeNode)."""
    m = Model(fitted["plain"][2])
    node = json_node("x")
    for _ in range(int(0.6 * sys.getrecursionlimit())):
        node = _dtype_node(node)
    m.attrs()["activation"] = node
    path = m.write(tmp_path / "deep.skops")
    _refused(path, r"schema nested deeper than 64 levels")  # (json.loads read it)
    monkeypatch.setattr(_schema, "MAX_DEPTH", 10**6)
    _refused(path, r"^schema.json is nested too deeply$")


# ---------------------------------------------------------------------- archive


def test_member_shorter_than_declared_is_refused(fitted, tmp_path):
    m = Model(fitted["plain"][2])
    path = m.write(tmp_path / "short.skops")
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("schema.json").file_size
    patch_headers(path, "schema.json", size=size + 10)
    _refused(path, rf"member 'schema.json' holds {size} bytes, not the {size + 10} it "
                   "declares")


@pytest.mark.parametrize("flag", [0x1, 0x40])
def test_encrypted_member_is_refused_from_its_flags(fitted, tmp_path, flag):
    """Traditional (bit 0) or strong (bit 6) encryption: refused from the header,
    before zipfile is asked to read the member."""
    m = Model(fitted["plain"][2])
    name = m.attrs()["coefs_"]["content"][0]["file"]
    path = patch_headers(m.write(tmp_path / "locked.skops"), name, flags=flag)
    _refused(path, rf"^archive member '{name}' is encrypted$")


def test_member_count_cap(fitted, monkeypatch):
    path = fitted["plain"][2]
    with zipfile.ZipFile(path) as archive:
        count = len(archive.infolist())
    monkeypatch.setattr(_persist, "MAX_MEMBERS", count - 1)
    _refused(path, rf"{count} archive members \(at most {count - 1}\)")
    monkeypatch.setattr(_persist, "MAX_MEMBERS", count)
    assert load_model(path) is not None


def test_npy_of_an_unknown_version_is_refused(fitted, tmp_path):
    m = Model(fitted["plain"][2])
    node = m.attrs()["coefs_"]["content"][0]
    data = npy_bytes(m.array(node))
    assert data[6:8] == b"\x01\x00"
    m.members[node["file"]] = data[:6] + b"\x03\x00" + data[8:]
    _refused(m.write(tmp_path / "v3.skops"),
             r"bad .npy header \(unsupported .npy version \(3, 0\)\)")
