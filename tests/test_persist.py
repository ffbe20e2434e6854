"""Model files: legitimate round trips, and a corpus of tampered files refused.

Every tampered file must raise ``ValueError("<path>: <problem>")`` from
``load_model`` (the command line turns it into one line and exit status 2). The
corpus, by class: loader confusion (nodes labelled with trusted types that skops
would build as something else), sizes (zip bombs, lying headers), fitted
attributes inconsistent with the model's own layout, and archive oddities.
"""

import io
import json
import os
import re
import subprocess
import sys
import tracemalloc
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sk_softmax import SoftmaxNNClassifier, _persist
from sk_softmax._persist import load_metadata, load_model, save_model

pytest.importorskip("skops")
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

METADATA = {"sk_softmax_version": "0.1.0", "classes": ["a", "b"], "cv_scores":
            {"accuracy": [0.9, 0.95]}, "command_line": "sk-softmax fit x.csv"}


def _frame(seed=0):
    """Iris as a DataFrame with a text column and missing cells; text labels."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    rng = np.random.default_rng(seed)
    X = X.copy()
    X["colour"] = pd.Series(rng.choice(["red", "green", "blue"], len(X)), dtype=object)
    X.loc[rng.choice(len(X), 10, replace=False), "colour"] = np.nan
    X["extra"] = rng.standard_normal(len(X))
    X["shape"] = pd.Series(rng.choice(["o", "x"], len(X)), dtype=object)
    X["grade"] = rng.integers(1, 4, len(X))
    X.iloc[[3, 30], 0] = np.nan
    labels = pd.Series(np.array(["setosa", "versicolor", "virginica"], dtype=object)[y])
    return X, labels


def _builders():
    X, y = load_iris(return_X_y=True, as_frame=True)
    frame, labels = _frame()
    numeric = list(X.columns)
    columns = Pipeline([
        ("features", ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                      StandardScaler()), numeric),
            ("categorical", make_pipeline(
                SimpleImputer(strategy="constant", fill_value="(missing)"),
                OneHotEncoder(handle_unknown="ignore")), ["colour"])],
            verbose_feature_names_out=False)),
        ("model", SoftmaxNNClassifier(alpha=1e-2, reference_class="virginica"))])
    mixed = Pipeline([
        ("prep", ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(), StandardScaler()),
             slice("sepal length (cm)", "petal width (cm)")),
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5,
                                  sparse_output=False), ["colour"]),
            ("gone", "drop", ["shape"]),
            ("kept", "passthrough", [5]),
            ("grade", OneHotEncoder(), ["grade"])], remainder="passthrough")),
        ("clf", SoftmaxNNClassifier(hidden_layer_sizes=(4, 3), activation="relu",
                                    random_state=0, max_iter=300))])
    bare_X = X.to_numpy(np.float32)
    return {
        "simple": (make_pipeline(StandardScaler(), SoftmaxNNClassifier(
            hidden_layer_sizes=(5,), reference_class=1, random_state=0)), X, y),
        "columns": (columns, frame, labels),
        "mixed": (mixed, frame, labels),
        "bare": (SoftmaxNNClassifier(class_weight={0: 2.0, 1: 1.0, 2: 1.0}, alpha=0.1),
                 bare_X, y.to_numpy()),
    }


class Saved:
    def __init__(self, path, model, X):
        self.path, self.model, self.X = path, model, X


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Each kind of model, fitted and saved (with metadata)."""
    folder = tmp_path_factory.mktemp("models")
    saved = {}
    for name, (model, X, y) in _builders().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        path = folder / f"{name}.skops"
        save_model(model, path, metadata=METADATA)
        saved[name] = Saved(path, model, X)
    return saved


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", ["simple", "columns", "mixed", "bare"])
def test_round_trip_predicts_identically(models, name):
    saved = models[name]
    loaded = load_model(saved.path)
    assert type(loaded) is type(saved.model)
    np.testing.assert_array_equal(loaded.predict_proba(saved.X),
                                  saved.model.predict_proba(saved.X))
    np.testing.assert_array_equal(loaded.predict(saved.X), saved.model.predict(saved.X))
    assert load_metadata(saved.path) == METADATA


def test_metadata_round_trip_and_default(models, tmp_path):
    model = models["simple"].model
    meta = {"scores": np.array([0.5, np.nan]), "n": np.int64(3), "nested": {"a": [1, {}]}}
    save_model(model, tmp_path / "m.skops", metadata=meta)
    got = load_metadata(tmp_path / "m.skops")
    assert got["n"] == 3 and got["nested"] == {"a": [1, {}]}
    assert got["scores"][0] == 0.5 and np.isnan(got["scores"][1])
    save_model(model, tmp_path / "plain.skops")
    assert load_metadata(tmp_path / "plain.skops") == {}
    with zipfile.ZipFile(tmp_path / "plain.skops") as archive:
        assert _persist.METADATA_MEMBER not in archive.namelist()
    with pytest.raises(TypeError):
        save_model(model, tmp_path / "x.skops", metadata=["not", "a", "dict"])
    with pytest.raises(TypeError):
        save_model(model, tmp_path / "x.skops", metadata={"f": print})
    assert not (tmp_path / "x.skops").exists()


def test_bad_metadata_is_refused(models, tmp_path, monkeypatch):
    m = Model(models["simple"].path)
    for data, match in [(b"[1, 2]", "not a JSON object"), (b"{nope", "not valid JSON"),
                        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
                        (b'{"a":' * 100 + b"1" + b"}" * 100, "nested deeper than 64"),
                        (b"\xff\xfe{}", "not valid JSON")]:
        m.members[_persist.METADATA_MEMBER] = data
        path = m.write(tmp_path / "meta.skops")
        with pytest.raises(ValueError, match=match) as info:
            load_metadata(path)
        assert str(info.value).startswith(f"{path}: ")
    m.members[_persist.METADATA_MEMBER] = json.dumps(METADATA).encode()
    path = m.write(tmp_path / "meta.skops")
    monkeypatch.setattr(_persist, "MAX_METADATA_BYTES", 10)
    with pytest.raises(ValueError, match="sk_softmax.json declares"):
        load_metadata(path)
    with pytest.raises(ValueError, match="metadata of .* bytes"):
        save_model(models["simple"].model, tmp_path / "big.skops", metadata=METADATA)


def test_save_is_atomic_and_refuses_what_would_not_load(models, tmp_path):
    from sklearn.decomposition import PCA

    target = tmp_path / "m.skops"
    save_model(models["simple"].model, target)
    before = target.read_bytes()
    X, y = load_iris(return_X_y=True)
    untrusted = make_pipeline(PCA(2), SoftmaxNNClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="not saved"):
        save_model(untrusted, target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.skops"]  # no temporary file left
    # A symbolic link at the path is replaced, its target left alone.
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    link = tmp_path / "link.skops"
    link.symlink_to(victim)
    save_model(models["simple"].model, link)
    assert victim.read_text() == "keep" and not link.is_symlink()
    assert load_model(link) is not None


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        load_model(tmp_path / "absent.skops")
    with pytest.raises(OSError):
        load_metadata(tmp_path / "absent.skops")


def test_trusted_types_exist():
    """The allow-list names the classes where this scikit-learn defines them."""
    import importlib

    for name in _persist.TRUSTED_TYPES:
        module, _, cls = name.rpartition(".")
        assert getattr(importlib.import_module(module), cls).__module__ == module


# --------------------------------------------------------------- tampered corpus

CASES = []


def case(kind, base="simple", match=None):
    """Register ``craft(model, path)``: edit the Model (written after it returns
    None) or write ``path`` itself and return it."""
    def register(craft):
        CASES.append(pytest.param(base, craft, match, id=f"{kind}-{craft.__name__}"))
        return craft
    return register


# -- loader confusion: trusted labels on nodes that skops builds as other things

# A FunctionNode labelled builtins.str (it builds the type ``str``): a node that only
# names trusted types, inside the partial and defaultdict nodes below.
FUNC = {"__class__": "str", "__module__": "builtins", "__loader__": "FunctionNode"}


@case("loader", match="PartialNode")
def partial_labelled_dict(m, path):
    m.attrs(1)["class_weight"] = {
        "__class__": "dict", "__module__": "builtins", "__loader__": "PartialNode",
        "content": {"func": FUNC, "args": tuple_node([]), "kwds": dict_node({}),
                    "namespace": json_node(None)}}


@case("loader", match="SliceNode")
def slice_labelled_str(m, path):
    m.attrs(1)["activation"] = {"__class__": "str", "__module__": "builtins",
                                "__loader__": "SliceNode",
                                "content": {"start": 0, "stop": 1, "step": None}}


@case("loader", match="SetNode")
def set_labelled_dict(m, path):
    m.attrs(1)["class_weight"] = {"__class__": "dict", "__module__": "builtins",
                                  "__loader__": "SetNode", "content": [json_node(1)]}


@case("loader", match="BytesNode")
def bytes_labelled_str(m, path):
    m.members["payload.npy"] = b"\x00" * 16
    m.attrs(1)["solver"] = {"__class__": "str", "__module__": "builtins",
                            "__loader__": "BytesNode", "file": "payload.npy"}


@case("loader", match="MaskedArrayNode")
def masked_array_labelled_ndarray(m, path):
    coefs = m.attrs(1)["coefs_"]["content"]
    coefs[0] = {"__class__": "ndarray", "__module__": "numpy",
                "__loader__": "MaskedArrayNode",
                "content": {"data": coefs[0], "mask": m.array_node(np.zeros((4, 5), bool))}}


@case("loader", match="SparseMatrixNode")
def sparse_matrix_labelled_ndarray(m, path):
    m.members["sparse.npy"] = b"x"
    m.attrs(1)["coefs_"]["content"][0] = {
        "__class__": "ndarray", "__module__": "numpy", "__loader__": "SparseMatrixNode",
        "type": "scipy", "file": "sparse.npy"}


@case("loader", match="TreeNode")
def sklearn_tree_labelled_ndarray(m, path):
    m.attrs(1)["classes_"] = {
        "__class__": "ndarray", "__module__": "numpy", "__loader__": "TreeNode",
        "__reduce__": {"args": tuple_node([json_node(4), m.array_node(np.array([3])),
                                           json_node(1)])},
        "content": dict_node({})}


@case("loader", match="functools.partial with the skops loader PartialNode")
def object_array_of_partial_as_classes(m, path):
    partial = {"__class__": "partial", "__module__": "functools", "__loader__": "PartialNode",
               "content": {"func": FUNC, "args": tuple_node([json_node("pwned")]),
                           "kwds": dict_node({}), "namespace": json_node(None)}}
    m.attrs(1)["classes_"] = {"__class__": "ndarray", "__module__": "numpy",
                              "__loader__": "NdArrayNode", "type": "json",
                              "content": [json_node("a"), partial, json_node("c")],
                              "shape": tuple_node([json_node(3)])}


@case("loader", match="builtins.print with the skops loader FunctionNode")
def function_node(m, path):
    m.attrs(1)["activation"] = {**FUNC, "__class__": "print"}


@case("loader", match="builtins.str with the skops loader FunctionNode")
def function_labelled_str(m, path):
    m.attrs(1)["activation"] = FUNC


@case("loader", match="MethodNode")
def method_labelled_str(m, path):
    m.attrs(1)["activation"] = {"__class__": "str", "__module__": "builtins",
                                "__loader__": "MethodNode",
                                "content": {"func": "upper", "obj": json_node("x")}}


@case("loader", match="OperatorFuncNode")
def operator_labelled_str(m, path):
    m.attrs(1)["activation"] = {"__class__": "attrgetter", "__module__": "operator",
                                "__loader__": "OperatorFuncNode",
                                "attrs": tuple_node([json_node("__class__")])}


@case("loader", match="DefaultDictNode")
def defaultdict_labelled_dict(m, path):
    m.attrs(1)["class_weight"] = {
        "__class__": "dict", "__module__": "builtins", "__loader__": "DefaultDictNode",
        "content": {"main": dict_node({}), "default_factory": FUNC}}


@case("loader", match="CachedNode")
def cached_node(m, path):
    m.attrs(1)["classes_"] = {"__class__": "ndarray", "__module__": "numpy",
                              "__loader__": "CachedNode", "__id__": 1}


@case("loader", match="ConstructorFromReduceNode")
def reduce_constructor_scalar(m, path):
    m.attrs(1)["alpha"] = {"__class__": "float64", "__module__": "numpy",
                           "__loader__": "ConstructorFromReduceNode",
                           "content": tuple_node([json_node(1.0)])}


@case("loader", match="RandomGeneratorNode")
def generator_labelled_random_state(m, path):
    m.attrs(1)["random_state"] = {
        "__class__": "RandomState", "__module__": "numpy.random.mtrand",
        "__loader__": "RandomGeneratorNode",
        "content": {"bit_generator": dict_node({"bit_generator": json_node("seed")}),
                    "seed_seq": dict_node({})}}


@case("loader", match="builtins.eval with the skops loader TypeNode")
def type_node_naming_eval(m, path):
    m.attrs(1)["class_weight"] = type_node("builtins", "eval")


@case("loader", match="DecisionTreeClassifier with the skops loader ObjectNode")
def untrusted_estimator(m, path):
    scaler = m.estimator(0)
    scaler["__module__"], scaler["__class__"] = "sklearn.tree._classes", "DecisionTreeClassifier"


@case("loader", match="builtins.dict with the skops loader ObjectNode")
def object_node_labelled_dict(m, path):
    m.attrs(1)["class_weight"] = {"__class__": "dict", "__module__": "builtins",
                                  "__loader__": "ObjectNode", "content": dict_node({})}


@case("loader", match="numpy.ma.MaskedArray with the skops loader NdArrayNode")
def ndarray_node_building_masked_array(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    node["__module__"], node["__class__"] = "numpy.ma", "MaskedArray"


@case("loader", match="dtype object")
def pickled_object_npy(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    buffer = io.BytesIO()
    np.save(buffer, np.array([1, "x"], dtype=object), allow_pickle=True)
    m.members[node["file"]] = buffer.getvalue()


@case("loader", match="dtype")
def structured_npy(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    m.members[node["file"]] = npy_bytes(np.zeros(3, dtype=[("a", "<f8"), ("b", "<i4")]))


@case("loader", match=r"classes_ holds int 0, not a string")
def object_array_of_ints(m, path):
    # The schema lets ints through object arrays (OneHotEncoder's drop_idx_); the
    # classes' own check refuses them.
    m.attrs(1)["classes_"] = {"__class__": "ndarray", "__module__": "numpy",
                              "__loader__": "NdArrayNode", "type": "json",
                              "content": [json_node(0), json_node(1), json_node(2)],
                              "shape": tuple_node([json_node(3)])}


@case("loader", match="one-dimensional")
def object_array_two_dimensional(m, path):
    m.attrs(1)["classes_"] = {"__class__": "ndarray", "__module__": "numpy",
                              "__loader__": "NdArrayNode", "type": "json",
                              "content": [json_node("a")] * 4,
                              "shape": tuple_node([json_node(2), json_node(2)])}


@case("loader", match="classes_ must be a numpy array")
def id_aliasing_an_estimator(m, path):
    # skops builds a node whose __id__ it has seen as that first node: here the
    # StandardScaler, in place of classes_.
    m.attrs(1)["classes_"] = {**json_node("x"), "__id__": m.estimator(0)["__id__"]}


@case("loader", match="cycle")
def id_cycle(m, path):
    m.attrs(1)["classes_"] = {**json_node("x"), "__id__": m.estimator(1)["__id__"]}


@case("loader", match="numpy scalar with shape")
def scalar_with_array_data(m, path):
    m.attrs(1)["alpha"] = {**m.array_node(np.zeros(3)), "__class__": "float64"}


# -- sizes

def _npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


@case("size", match=r"declares 288 bytes, but its header \(float64, shape \(1000000000,\)\)")
def npy_header_promising_a_gigabyte(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    m.members[node["file"]] = _npy_header((10**9,)) + m.array(node).tobytes()


@case("size", match="needs 144")
def npy_header_promising_less_than_its_data(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    m.members[node["file"]] = _npy_header((2,)) + m.array(node).tobytes()


@case("size", match=r"has shape \(-4, -5\)")
def npy_header_with_negative_dimensions(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    m.members[node["file"]] = _npy_header((-4, -5)) + m.array(node).tobytes()


@case("size", match="damaged member")
def npy_inflating_past_its_declared_size(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    name = node["file"]
    true_size = len(m.members[name])
    m.members[name] = m.members[name] + b"\x00" * 20_000_000
    m.write(path, compression=zipfile.ZIP_DEFLATED)
    return patch_headers(path, name, size=true_size)


# -- fitted attributes

@case("attributes", match="layer units")
def layout_of_ten_billion_units(m, path):
    m.attrs(1)["_layout_params"] = tuple_node([
        tuple_node([json_node(3), json_node(4), json_node(10**10)]), json_node(None),
        json_node(True)])


@case("attributes", match="_layout_params must be")
def layout_as_list(m, path):
    layout = m.attrs(1)["_layout_params"]
    m.attrs(1)["_layout_params"] = list_node(layout["content"])


@case("attributes", match="reference class index")
def reference_index_out_of_range(m, path):
    m.attrs(1)["_layout_params"]["content"][1] = json_node(7)


@case("attributes", match="fit_intercept must be a bool")
def fit_intercept_not_bool(m, path):
    m.attrs(1)["_layout_params"]["content"][2] = json_node("yes")


@case("attributes", match="activation")
def unknown_activation(m, path):
    m.attrs(1)["activation"] = json_node("softplus")


@case("attributes", match="classes_ has 2 entries for 3 output units")
def short_classes(m, path):
    m.attrs(1)["classes_"] = m.array_node(np.array([0, 1]))


@case("attributes", match="unique and sorted")
def unsorted_classes(m, path):
    m.attrs(1)["classes_"] = m.array_node(np.array([2, 0, 1]))


@case("attributes", match="non-finite")
def nan_class(m, path):
    m.attrs(1)["classes_"] = m.array_node(np.array([0.0, 1.0, np.nan]))


@case("attributes", match="can only be the last step")
def extra_step_after_the_classifier(m, path):
    steps = m.attrs()["steps"]["content"]
    steps.append(tuple_node([json_node("again"), steps[0]["content"][1]]))


@case("attributes", match="only be the last step")
def classifier_in_the_middle(m, path):
    steps = m.attrs()["steps"]["content"]
    steps.insert(0, tuple_node([json_node("early"), steps[1]["content"][1]]))


@case("attributes", match="duplicate step names")
def duplicate_step_names(m, path):
    m.attrs()["steps"]["content"][0]["content"][0] = json_node("softmaxnnclassifier")


@case("attributes", match="scale_ must be positive")
def zero_scale(m, path):
    m.attrs(0)["scale_"] = m.array_node(np.array([1.0, 0.0, 1.0, 1.0]))


@case("attributes", match=r"mean_ has shape \(3,\)")
def short_mean(m, path):
    m.attrs(0)["mean_"] = m.array_node(np.zeros(3))


@case("attributes", match="non-finite")
def nan_weight(m, path):
    coefs = m.attrs(1)["coefs_"]["content"]
    weights = m.array(coefs[1])
    weights[0, 0] = np.nan
    coefs[1] = m.array_node(weights)


@case("attributes", match="must be a float32 or float64 array")
def integer_weights(m, path):
    coefs = m.attrs(1)["coefs_"]["content"]
    coefs[0] = m.array_node(np.ones((4, 5), dtype=np.int64))


@case("attributes", match="must all be float64")
def mixed_precision(m, path):
    coefs = m.attrs(1)["coefs_"]["content"]
    coefs[1] = m.array_node(m.array(coefs[1]).astype(np.float32))


@case("attributes", match="do not chain")
def layers_that_do_not_chain(m, path):
    intercepts = m.attrs(1)["intercepts_"]["content"]
    intercepts[0] = m.array_node(np.zeros(4))


@case("attributes", match="must be lists")
def weights_as_tuple(m, path):
    m.attrs(1)["coefs_"]["__loader__"] = "TupleNode"
    m.attrs(1)["coefs_"]["__class__"] = "tuple"


@case("attributes", match="n_features_in_ is 5")
def wrong_feature_count(m, path):
    m.attrs(1)["n_features_in_"] = json_node(5)


@case("attributes", match="hidden_layer_sizes")
def hidden_sizes_disagree(m, path):
    m.attrs(1)["hidden_layer_sizes"] = tuple_node([json_node(7)])


@case("attributes", match="reference_class")
def reference_class_disagrees(m, path):
    m.attrs(1)["reference_class"] = json_node(2)


@case("attributes", match="alpha")
def negative_alpha(m, path):
    m.attrs(1)["alpha"] = json_node(-1.0)


@case("attributes", match="unexpected attribute 'predict'")
def attribute_shadowing_a_method(m, path):
    attrs = m.attrs(1)
    attrs["predict"] = json_node("x")
    m.estimator(1)["content"]["key_types"]["content"].append(type_node("builtins", "str"))


@case("attributes", match="not fitted")
def missing_weights(m, path):
    attrs = m.attrs(1)
    del attrs["coefs_"]
    m.estimator(1)["content"]["key_types"]["content"].pop()


@case("attributes", match=r"feature_names_in_ has shape \(3,\)")
def short_feature_names(m, path):
    m.attrs(0)["feature_names_in_"]["content"].pop()
    m.attrs(0)["feature_names_in_"]["shape"] = tuple_node([json_node(3)])


@case("attributes", "columns", match="unique and sorted")
def encoder_categories_unsorted(m, path):
    cats = m.attrs(0, ("t", 1), 1)["categories_"]["content"][0]
    cats["content"] = cats["content"][::-1]


@case("attributes", "columns", match="_n_features_outs")
def encoder_output_count(m, path):
    m.attrs(0, ("t", 1), 1)["_n_features_outs"] = list_node([json_node(40)])


@case("attributes", "columns", match=r"statistics_ has shape \(2,\)")
def imputer_statistics_short(m, path):
    m.attrs(0, ("t", 0), 0)["statistics_"] = m.array_node(np.zeros(2))


@case("attributes", "columns", match="features_ must be sorted feature indices")
def indicator_feature_out_of_range(m, path):
    imputer = m.attrs(0, ("t", 0), 0)
    imputer["indicator_"]["content"]["content"]["features_"] = m.array_node(np.array([0, 9]))


@case("attributes", "columns", match="output_indices_")
def column_output_slice(m, path):
    outputs = m.attrs(0)["output_indices_"]["content"]
    outputs["numeric"]["content"]["stop"] += 2


@case("attributes", "columns", match="is not one of the inputs")
def column_not_an_input(m, path):
    # A fresh node: the list shared (same __id__) with `transformers` is built
    # from its first occurrence.
    m.attrs(0)["transformers_"]["content"][1]["content"][2] = list_node(
        [json_node("password")])


@case("attributes", "columns", match="takes 8 features, but the step before gives 9")
def classifier_narrower_than_preprocessing(m, path):
    clf = m.attrs(1)
    coefs = clf["coefs_"]["content"]
    coefs[0] = m.array_node(m.array(coefs[0])[:8])
    clf["n_features_in_"] = json_node(8)
    clf["_layout_params"]["content"][0] = tuple_node([json_node(8), json_node(3)])


def _infrequent(m, mapping):
    encoder = m.attrs(0, ("t", 1))
    assert json.loads(encoder["_infrequent_enabled"]["content"]) is True
    encoder["_infrequent_indices"] = list_node([m.array_node(np.array([3]))])
    encoder["_default_to_infrequent_mappings"] = list_node([m.array_node(mapping)])


@case("attributes", "mixed", match="_infrequent_indices.* must be sorted category indices")
def encoder_infrequent_index_past_its_categories(m, path):
    _infrequent(m, np.array([0, 1, 2, 3]))
    m.attrs(0, ("t", 1))["_infrequent_indices"] = list_node([m.array_node(np.array([9]))])


@case("attributes", "columns", match="n_jobs")
def thousand_jobs(m, path):
    m.attrs(0)["n_jobs"] = json_node(1000)


@case("attributes", "columns", match="dtype type <class 'str'> is not a numeric type")
def encoder_to_strings(m, path):
    m.attrs(0, ("t", 1), 1)["dtype"] = type_node("builtins", "str")


@case("attributes", "mixed", match="FunctionTransformer")
def passthrough_with_a_function(m, path):
    attrs = m.attrs(0, ("t", 3))
    attrs["func"] = json_node("print")


@case("attributes", "mixed", match="FunctionNode")
def passthrough_calling_a_function(m, path):
    m.attrs(0, ("t", 3))["func"] = FUNC


@case("loader", "bare", match=r"classes_ holds int 4, not a string")
def object_array_item_aliasing_an_int(m, path):
    # An item labelled as a string whose __id__ is that of an int node before it:
    # skops would build the int.
    four = m.attrs()["n_features_in_"]
    assert json.loads(four["content"]) == 4 and four["__id__"]
    m.attrs()["classes_"] = {"__class__": "ndarray", "__module__": "numpy",
                             "__loader__": "NdArrayNode", "type": "json",
                             "content": [json_node("a"), {**json_node("b"),
                                                          "__id__": four["__id__"]},
                                         json_node("c")],
                             "shape": tuple_node([json_node(3)])}


# -- archive oddities

@case("archive", match="nested JSON")
def nested_json_value(m, path):
    m.attrs(1)["activation"] = {**json_node(None), "content": '{"a": [1, 2]}'}


@case("archive", match="nested deeper than")
def deeply_nested_nodes(m, path):
    node = json_node(0.1)
    for _ in range(100):
        node = list_node([node])
    m.attrs(1)["loss_curve_"] = node


@case("archive", match="nested too deeply")
def deeply_nested_json(m, path):
    return m.write(path, schema_bytes=b"[" * 200_000 + b"]" * 200_000)


@case("archive", match="encrypted")
def encrypted_member(m, path):
    name = m.attrs(1)["coefs_"]["content"][0]["file"]
    return patch_headers(m.write(path), name, flags=0x1)


@case("archive", match="compression method 12")
def bzip2_member(m, path):
    return m.write(path, compression=zipfile.ZIP_BZIP2)


@case("archive", match="compression method 99")
def unknown_compression(m, path):
    name = m.attrs(1)["coefs_"]["content"][0]["file"]
    return patch_headers(m.write(path), name, method=99)


@case("archive", match="unexpected archive member name '../up.npy'")
def parent_path_member(m, path):
    return m.write(path, extra=[("../up.npy", b"")])


@case("archive", match="unexpected archive member name '/abs.npy'")
def absolute_member(m, path):
    return m.write(path, extra=[("/abs.npy", b"")])


@case("archive", match="unexpected archive member name 'dir/x.npy'")
def member_in_a_folder(m, path):
    return m.write(path, extra=[("dir/x.npy", b"")])


@case("archive", match=r"unexpected archive member name 'payload.bin'")
def bin_member(m, path):
    return m.write(path, extra=[("payload.bin", b"")])


@case("archive", match="array without a .npy member")
def node_naming_a_path(m, path):
    m.attrs(1)["coefs_"]["content"][0]["file"] = "../../etc/passwd"


@case("archive", match="duplicate archive member")
def duplicate_member(m, path):
    name = m.attrs(1)["coefs_"]["content"][0]["file"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return m.write(path, extra=[(name, npy_bytes(np.zeros((4, 5))))])


@case("archive", match="missing archive member")
def missing_member(m, path):
    del m.members[m.attrs(1)["coefs_"]["content"][0]["file"]]


@case("archive", match="no schema.json")
def no_schema(m, path):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in m.members.items():
            archive.writestr(name, data)
    return path


@case("archive", match="not a zip archive")
def not_a_zip(m, path):
    path.write_text("sepal_length,species\n1,a\n")
    return path


@case("archive", match="not a zip archive")
def truncated_zip(m, path):
    data = m.write(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@case("archive", match="not valid JSON")
def schema_not_json(m, path):
    return m.write(path, schema_bytes=b"{'protocol': 2")


@case("archive", match="not a JSON object")
def schema_a_list(m, path):
    return m.write(path, schema_bytes=b"[]")


@case("archive", match="protocol")
def other_protocol(m, path):
    m.schema["protocol"] = 1


@case("archive", match="unexpected key")
def unknown_node_key(m, path):
    m.attrs(1)["activation"]["__reduce__"] = {}


@case("archive", match="bad .npy header")
def bad_npy_magic(m, path):
    node = m.attrs(1)["coefs_"]["content"][0]
    m.members[node["file"]] = b"NOTNUMPY" + m.members[node["file"]][8:]


@case("archive", match="does not hold an estimator")
def root_not_an_estimator(m, path):
    m.schema = {**dict_node({}), "protocol": m.schema["protocol"]}


@pytest.mark.parametrize("base,craft,match", CASES)
def test_tampered_file_is_refused(models, tmp_path, base, craft, match):
    m = Model(models[base].path)
    path = tmp_path / "model.skops"  # a neutral name: the match must come from the check
    written = craft(m, path)
    if written is None:
        m.write(path)
    with pytest.raises(ValueError) as info:
        load_model(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert match is None or re.search(match, message[len(f"{path}: "):]), message
    assert "\n" not in message


def _random_state_node(m, pos):
    state = np.random.RandomState(0).get_state(legacy=False)
    return {"__class__": "RandomState", "__module__": "numpy.random.mtrand",
            "__loader__": "RandomStateNode", "content": dict_node({
                "bit_generator": json_node("MT19937"),
                "state": dict_node({"key": m.array_node(state["state"]["key"]),
                                    "pos": json_node(pos)}),
                "has_gauss": json_node(0), "gauss": json_node(0.0)})}


def test_random_state_position_is_checked(models, tmp_path):
    """numpy accepts any position in a RandomState's state and then reads past its
    key at the next draw (a refit would crash): refused on load."""
    m = Model(models["simple"].path)
    m.attrs(1)["random_state"] = _random_state_node(m, 624)
    assert isinstance(load_model(m.write(tmp_path / "ok.skops"))[-1].random_state,
                      np.random.RandomState)
    m.attrs(1)["random_state"] = _random_state_node(m, 10**9)
    with pytest.raises(ValueError, match="invalid RandomState state"):
        load_model(m.write(tmp_path / "bad.skops"))


# ------------------------------------------------------------------ size limits


@pytest.mark.parametrize("member", ["schema.json", "array"])
def test_zip_bomb_is_refused_fast_without_inflating(models, tmp_path, monkeypatch, member):
    """A deflated member of 50 MB of zeros (about 50 kB on disk), honestly
    declared: refused from its declared size, before any decompression."""
    m = Model(models["simple"].path)
    schema = None
    if member == "array":
        node = m.attrs(1)["coefs_"]["content"][0]
        m.members[node["file"]] = npy_bytes(np.zeros(50_000_000 // 8))
        match = "the arrays declare .* bytes in all"
    else:
        schema = json.dumps(m.schema)[:-1].encode() + b', "pad": "' + b"0" * 50_000_000 + b'"}'
        match = r"schema.json declares \d+ bytes \(limit 10000000\)"
    path = m.write(tmp_path / "bomb.skops", compression=zipfile.ZIP_DEFLATED,
                   schema_bytes=schema)
    del schema
    assert path.stat().st_size < 1_000_000
    monkeypatch.setattr(_persist, "MAX_ARRAY_BYTES", 10_000_000)
    monkeypatch.setattr(_persist, "MAX_SCHEMA_BYTES", 10_000_000)
    tracemalloc.start()  # refused before inflating: the peak stays far below 1.5 GB
    try:
        with pytest.raises(ValueError, match=match):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak


def test_lying_zip_bomb_inflates_no_more_than_declared(models, tmp_path):
    """Declared small, inflating to 20 MB: read in bounded chunks up to the declared
    size only, then the CRC check fails."""
    path = npy_inflating_past_its_declared_size(Model(models["simple"].path),
                                                tmp_path / "lie.skops")
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="damaged member"):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, peak


def test_schema_size_cap(models, monkeypatch):
    monkeypatch.setattr(_persist, "MAX_SCHEMA_BYTES", 1000)
    with pytest.raises(ValueError, match=r"schema.json declares \d+ bytes \(limit 1000\)"):
        load_model(models["simple"].path)


def test_total_array_cap(models, monkeypatch):
    monkeypatch.setattr(_persist, "MAX_ARRAY_BYTES", 100)
    with pytest.raises(ValueError, match=r"limit 100\)"):
        load_model(models["simple"].path)


# ----------------------------------------------- segfault class, command line


def _segfault_file(models, path):
    """classes_ built as numpy.ndarray((3,), "O", buffer=<int64 array>) by a
    reduce-style constructor node: every node names only numpy.ndarray,
    builtins.tuple and builtins.str; predict would dereference the integers."""
    m = Model(models["simple"].path)
    pointers = m.array_node(np.array([0x4141414141, 0x4242424242, 0x4343434343]))
    m.attrs(1)["classes_"] = {
        "__class__": "ndarray", "__module__": "numpy",
        "__loader__": "ConstructorFromReduceNode",
        "content": tuple_node([tuple_node([json_node(3)]), json_node("O"), pointers])}
    return m.write(path)


def _encoder_past_its_columns(models, path):
    """A OneHotEncoder whose infrequent-category mapping sends a category to column
    10**8: transform builds a sparse matrix that scipy does not bound-check, and
    densifying it writes far outside the output."""
    m = Model(models["mixed"].path)
    _infrequent(m, np.array([0, 1, 2, 10**8]))
    return m.write(path)


def _encoder_with_fewer_outputs(models, path):
    """_n_features_outs smaller than the categories: the same unchecked indices."""
    m = Model(models["columns"].path)
    m.attrs(0, ("t", 1), 1)["_n_features_outs"] = list_node([json_node(1)])
    return m.write(path)


def _references_doubling(models, path):
    """40 levels of lists whose second item refers (by __id__) to the first: 200
    nodes in the file, 2**40 for skops' audit, which walks every reference."""
    m = Model(models["simple"].path)
    node = {**json_node(0.5), "__id__": 1000}
    for level in range(40):
        node = {**list_node([node, {**json_node(0), "__id__": node["__id__"]}]),
                "__id__": 2000 + level}
    m.attrs(1)["loss_curve_"] = node
    return m.write(path)


SEGFAULT_CLASS = {
    "reduce-constructor object array": (_segfault_file, "ConstructorFromReduceNode"),
    "encoder mapping past its columns": (_encoder_past_its_columns,
                                         "does not group the infrequent categories"),
    "encoder with fewer outputs": (_encoder_with_fewer_outputs, "_n_features_outs"),
    "references doubling (a hang, not a crash)": (_references_doubling,
                                                  "shared __id__ references expand"),
}


def test_segfault_class_refused_in_a_subprocess(models, tmp_path):
    """Files that crashed (or hung) the interpreter with skops' type checks only are
    refused; run in a subprocess, so that a regression fails this test, not the run."""
    paths = [craft(models, tmp_path / f"segv{k}.skops")
             for k, (craft, _) in enumerate(SEGFAULT_CLASS.values())]
    models["simple"].X.to_csv(tmp_path / "data.csv", index=False)
    script = (
        "import sys, pandas as pd\n"
        "from sk_softmax._persist import load_model\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        model = load_model(path)\n"
        "    except ValueError as exc:\n"
        "        print('refused:', exc, flush=True)\n"
        "    else:\n"
        "        print('LOADED', path, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script, *map(str, paths)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    lines = done.stdout.splitlines()
    assert len(lines) == len(paths), lines
    for line, path, (_, match) in zip(lines, paths, SEGFAULT_CLASS.values()):
        assert line.startswith(f"refused: {path}: ") and match in line, line


def test_command_line_reports_a_tampered_file_in_one_line(models, tmp_path, capsys):
    from sk_softmax._cli import main

    path = _segfault_file(models, tmp_path / "segv.skops")
    models["simple"].X.to_csv(tmp_path / "data.csv", index=False)
    status = main(["predict", str(path), str(tmp_path / "data.csv")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and f"{path}: " in err and "ConstructorFromReduceNode" in err
    done = subprocess.run([sys.executable, "-m", "sk_softmax", "predict", str(path),
                           str(tmp_path / "data.csv")], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert done.stderr.count("\n") == 1 and f"{path}: " in done.stderr
