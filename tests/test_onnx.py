"""ONNX export (sk_softmax.onnx): skl2onnx conversion served by onnxruntime.

Every case converts the bare classifier and a Pipeline([StandardScaler(), classifier])
and compares onnxruntime's outputs on float32 inputs with ``predict`` (identical
labels) and ``predict_proba`` (to 1e-5 absolute).
"""

import importlib
import json
import os
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

skl2onnx = pytest.importorskip("skl2onnx")
rt = pytest.importorskip("onnxruntime")
onnx_mod = pytest.importorskip("sk_softmax.onnx")  # skips if skl2onnx is too old

from skl2onnx import to_onnx  # noqa: E402

from sk_softmax import SoftmaxNNClassifier  # noqa: E402
from sk_softmax.onnx import export_model  # noqa: E402

ATOL = 1e-5


def fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def session(onx):
    return rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


def run(onx, X):
    """onnxruntime's (labels, probabilities) for one-input graphs; ZipMap's list of
    dicts is turned back into an array with columns in the dicts' key order."""
    sess = session(onx)
    labels, proba = sess.run(None, {sess.get_inputs()[0].name: X})
    if isinstance(proba, list):
        proba = np.array([list(row.values()) for row in proba])
    return labels, proba


def check(model, X, onx):
    """Labels identical and probabilities to ATOL; return the largest difference."""
    labels, proba = run(onx, X)
    expected = model.predict(X)
    np.testing.assert_array_equal(labels, expected)
    assert proba.shape == (len(X), len(model.classes_))
    diff = float(np.max(np.abs(proba - model.predict_proba(X))))
    assert diff <= ATOL, diff
    return diff


def _iris():
    return load_iris(return_X_y=True)


def _digits():
    return load_digits(return_X_y=True)


def _binary():
    return load_breast_cancer(return_X_y=True)


CASES = {
    "iris": (_iris, dict()),
    "digits": (_digits, dict(alpha=1e-2)),
    "binary": (_binary, dict(alpha=1e-2)),
    "relu-2-hidden": (_iris, dict(hidden_layer_sizes=(16, 8), activation="relu",
                                  random_state=0)),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    loader, params = CASES[request.param]
    X, y = loader()
    pipe = fit(Pipeline([("scale", StandardScaler()),
                         ("clf", SoftmaxNNClassifier(**params))]), X, y)
    bare = fit(SoftmaxNNClassifier(**params), StandardScaler().fit_transform(X), y)
    return request.param, X.astype(np.float32), pipe, bare


@pytest.mark.parametrize("zipmap", [None, False])
def test_pipeline_and_bare_classifier(case, zipmap):
    name, X, pipe, bare = case
    options = None if zipmap is None else {SoftmaxNNClassifier: {"zipmap": zipmap}}
    onx = to_onnx(pipe, X[:1], options=options)
    check(pipe, X, onx)
    Xs = pipe[0].transform(X).astype(np.float32)
    onx = to_onnx(bare, Xs[:1], options=options)
    check(bare, Xs, onx)


def test_zipmap_default_is_a_list_of_dicts(case):
    name, X, pipe, _ = case
    labels, proba = session(to_onnx(pipe, X[:1])).run(None, {"X": X[:3]})
    assert isinstance(proba, list) and len(proba) == 3
    assert list(proba[0]) == pipe.classes_.tolist()
    assert labels.dtype == np.int64 and labels.shape == (3,)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("hidden", [(5,), (6, 4, 3)])
def test_every_activation_and_depth(activation, hidden):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    model = fit(SoftmaxNNClassifier(hidden_layer_sizes=hidden, activation=activation,
                                    random_state=0, max_iter=200), X, y)
    onx = to_onnx(model, X[:1], options={SoftmaxNNClassifier: {"zipmap": False}})
    check(model, X, onx)
    ops = [node.op_type for node in onx.graph.node]
    assert ops.count("MatMul") == len(hidden) + 1
    expected = {"identity": None, "logistic": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
    if expected[activation]:
        assert ops.count(expected[activation]) == len(hidden)


def test_binary_output_shaped_like_logistic_regression():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    ours = fit(SoftmaxNNClassifier(alpha=1e-2), X, y)
    theirs = fit(LogisticRegression(), X, y)
    for zipmap in (False, True):
        options = {"zipmap": zipmap}
        mine = session(to_onnx(ours, X[:1], options={id(ours): options}))
        ref = session(to_onnx(theirs, X[:1], options={id(theirs): options}))
        assert ([(o.name, o.type, o.shape) for o in mine.get_outputs()]
                == [(o.name, o.type, o.shape) for o in ref.get_outputs()])
        got, want = mine.run(None, {"X": X}), ref.run(None, {"X": X})
        assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape == (len(X),)
        if zipmap:
            assert list(got[1][0]) == list(want[1][0]) == [0, 1]
        else:
            assert got[1].shape == want[1].shape == (len(X), 2)
            assert got[1].dtype == want[1].dtype == np.float32


@pytest.mark.parametrize("hidden", [(), (4,)])
def test_string_labels_and_reference_class(hidden):
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    for reference in (None, "versicolor"):
        model = fit(Pipeline([("scale", StandardScaler()), ("clf", SoftmaxNNClassifier(
            hidden_layer_sizes=hidden, reference_class=reference, random_state=0))]),
            X, names)
        for zipmap in (False, True):
            onx = to_onnx(model, X[:1], options={SoftmaxNNClassifier: {"zipmap": zipmap}})
            check(model, X, onx)
            labels, proba = session(onx).run(None, {"X": X[:2]})
            assert labels.dtype == object
            if zipmap:
                assert list(proba[0]) == ["setosa", "versicolor", "virginica"]


def test_binary_reference_class_and_string_labels():
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    names = np.array(["benign", "malignant"])[1 - y]
    model = fit(Pipeline([("scale", StandardScaler()), ("clf", SoftmaxNNClassifier(
        alpha=1e-2, reference_class="benign"))]), X, names)
    assert np.all(model[-1].coefs_[-1][:, 0] == 0)
    onx = to_onnx(model, X[:1], options={SoftmaxNNClassifier: {"zipmap": False}})
    check(model, X, onx)


def test_float64_input_gives_a_double_graph():
    X, y = load_iris(return_X_y=True)
    model = fit(Pipeline([("scale", StandardScaler()), ("clf", SoftmaxNNClassifier(
        hidden_layer_sizes=(5,), activation="logistic", random_state=0))]), X, y)
    onx = to_onnx(model, X[:1], options={SoftmaxNNClassifier: {"zipmap": False}})
    labels, proba = run(onx, X)
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-12)


def test_float64_input_with_zipmap_casts_the_dicts_to_float32():
    X, y = load_iris(return_X_y=True)
    model = fit(Pipeline([("scale", StandardScaler()), ("clf", SoftmaxNNClassifier())]),
                X, y)
    onx = to_onnx(model, X[:1])  # ONNX ZipMap takes float32 only
    assert session(onx).get_outputs()[1].type == "seq(map(int64,tensor(float)))"
    labels, proba = run(onx, X)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=ATOL)
    onx = to_onnx(model, X[:1], options={SoftmaxNNClassifier: {"zipmap": "columns"}})
    outputs = session(onx).run(None, {"X": X})
    np.testing.assert_allclose(np.column_stack(outputs[1:]), model.predict_proba(X),
                               rtol=0, atol=1e-12)


def test_nocl_and_zipmap_columns():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    labels = np.array([10, 20, 30])[y]
    model = fit(SoftmaxNNClassifier(), X, labels)
    onx = to_onnx(model, X[:1], options={id(model): {"nocl": True, "zipmap": False}})
    got, _ = run(onx, X)
    np.testing.assert_array_equal(got, np.searchsorted(model.classes_, model.predict(X)))
    onx = to_onnx(model, X[:1], options={id(model): {"zipmap": "columns"}})
    outputs = session(onx).run(None, {"X": X})
    np.testing.assert_array_equal(outputs[0], model.predict(X))
    columns = np.column_stack(outputs[1:])
    np.testing.assert_allclose(columns, model.predict_proba(X), rtol=0, atol=ATOL)


def test_integral_float_and_bool_labels_become_int64():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    for target in (y.astype(float), y.astype(bool)):
        model = fit(SoftmaxNNClassifier(alpha=1e-2), X, target)
        got, proba = run(to_onnx(model, X[:1], options={id(model): {"zipmap": False}}), X)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, model.predict(X).astype(np.int64))


def test_non_integral_float_labels_are_refused():
    X, y = load_iris(return_X_y=True)
    model = fit(SoftmaxNNClassifier(), X, y)
    model.classes_ = model.classes_ + 0.5  # scikit-learn refuses to fit on such labels
    with pytest.raises(ValueError, match="floats that are not integers"):
        to_onnx(model, X[:1].astype(np.float32), options={id(model): {"zipmap": False}})


def test_labels_that_are_neither_int64_nor_strings_are_refused():
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    model = fit(SoftmaxNNClassifier(), X, y)
    model.classes_ = model.classes_.astype(object)  # scikit-learn refuses to fit on these
    with pytest.raises(ValueError, match="must be strings or of an integer dtype"):
        to_onnx(model, X[:1], options={id(model): {"zipmap": False}})
    model = fit(SoftmaxNNClassifier(), X, np.array([0, 1, 2**64 - 1], np.uint64)[y])
    with pytest.raises(ValueError, match="do not fit in int64"):
        to_onnx(model, X[:1], options={id(model): {"zipmap": False}})


def test_integer_input_is_cast_and_strings_are_refused():
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    X, y = load_iris(return_X_y=True)
    X = np.round(X * 10).astype(np.int64)
    model = fit(SoftmaxNNClassifier(), X, y)
    onx = to_onnx(model, X[:1], options={id(model): {"zipmap": False}})
    assert session(onx).get_inputs()[0].type == "tensor(int64)"
    check(model, X, onx)
    with pytest.raises(TypeError, match="takes numeric input"):
        to_onnx(model, initial_types=[("X", StringTensorType([None, 4]))])
    assert Int64TensorType  # the cast path above


def test_wrong_number_of_columns_is_refused():
    X, y = load_iris(return_X_y=True)
    model = fit(SoftmaxNNClassifier(), X, y)
    with pytest.raises(ValueError, match="fitted on 4 features"):
        to_onnx(model, X[:1, :3].astype(np.float32))


def test_import_without_skl2onnx_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    monkeypatch.delitem(sys.modules, "sk_softmax.onnx")
    with pytest.raises(ImportError, match=r"python -m pip install -e '\.\[onnx\]'"):
        importlib.import_module("sk_softmax.onnx")


# ------------------------------------------------------------------------- export


def _listdir(path):
    return sorted(os.listdir(path))


def test_export_model_writes_atomically(tmp_path):
    X, y = load_iris(return_X_y=True)
    names = np.array(["a", "b", "c"])[y]
    model = fit(Pipeline([("scale", StandardScaler()), ("clf", SoftmaxNNClassifier())]),
                X, names)
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    onx = export_model(model, path)
    assert _listdir(tmp_path) == ["model.onnx"]  # no temporary file left
    sess = rt.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["X"]
    assert [o.name for o in sess.get_outputs()] == ["label", "probabilities"]
    labels, proba = sess.run(None, {"X": X.astype(np.float32)})
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=ATOL)
    meta = {p.key: p.value for p in onx.metadata_props}
    assert json.loads(meta["classes"]) == ["a", "b", "c"]
    export_model(model[-1], tmp_path / "double.onnx", dtype=np.float64, target_opset=15)
    sess = rt.InferenceSession(str(tmp_path / "double.onnx"),
                               providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].type == "tensor(double)"


def test_export_model_failure_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    X, y = load_iris(return_X_y=True)
    with pytest.raises(TypeError, match="SoftmaxNNClassifier"):
        export_model(fit(LogisticRegression(), X, y), path)
    with pytest.raises(ValueError, match="float32 or float64"):
        export_model(fit(SoftmaxNNClassifier(), X, y), path, dtype=np.int64)
    assert path.read_bytes() == b"old" and _listdir(tmp_path) == ["model.onnx"]


def _cli_like(impute=None):
    """A model shaped like ``sk-softmax fit``'s: ColumnTransformer on a DataFrame."""
    pd = pytest.importorskip("pandas")
    from sk_softmax._csv import make_features

    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.normal(5, 2, n),
                          "party": rng.choice(["red", "blue", "green"], n)})
    y = np.where(frame.age + 10 * (frame.party == "red") + rng.normal(0, 5, n) > 45,
                 "yes", "no")
    model = fit(Pipeline([("features", make_features(["age", "income"], ["party"], impute)),
                          ("model", SoftmaxNNClassifier(hidden_layer_sizes=(3,),
                                                        random_state=0))]), frame, y)
    return model, frame


def test_export_cli_model_one_input_per_column(tmp_path):
    model, frame = _cli_like()
    path = tmp_path / "model.onnx"
    export_model(model, path)
    sess = rt.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in sess.get_inputs()] == [
        ("age", "tensor(float)"), ("income", "tensor(float)"), ("party", "tensor(string)")]
    feeds = {"age": frame.age.to_numpy(np.float32)[:, None],
             "income": frame.income.to_numpy(np.float32)[:, None],
             "party": frame.party.to_numpy(object)[:, None]}
    labels, proba = sess.run(None, feeds)
    np.testing.assert_array_equal(labels, model.predict(frame))
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=0, atol=ATOL)


def test_export_column_positions_and_a_dropped_column(tmp_path):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    _, frame = _cli_like()
    frame = frame.assign(note="unused")
    y = (frame.income > 5).to_numpy()
    features = ColumnTransformer([
        ("num", StandardScaler(), [0, 1]),
        ("text", make_pipeline(SimpleImputer(missing_values="", strategy="constant",
                                             fill_value="none"),
                               OneHotEncoder(handle_unknown="ignore")), [2])])
    model = fit(Pipeline([("features", features), ("model", SoftmaxNNClassifier())]),
                frame, y)
    export_model(model, tmp_path / "model.onnx")
    sess = rt.InferenceSession(str(tmp_path / "model.onnx"),
                               providers=["CPUExecutionProvider"])
    types = {i.name: i.type for i in sess.get_inputs()}
    assert types["party"] == "tensor(string)" and types["age"] == "tensor(float)"
    feeds = {"age": frame.age.to_numpy(np.float32)[:, None],
             "income": frame.income.to_numpy(np.float32)[:, None],
             "party": frame.party.to_numpy(object)[:, None],
             "note": np.zeros((len(frame), 1), np.float32)}  # dropped: typed as numbers
    labels, proba = sess.run(None, feeds)
    np.testing.assert_array_equal(labels, model.predict(frame))
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=0, atol=ATOL)


def test_export_onto_a_directory_fails_cleanly(tmp_path):
    X, y = load_iris(return_X_y=True)
    (tmp_path / "model.onnx").mkdir()
    with pytest.raises(OSError):
        export_model(fit(SoftmaxNNClassifier(), X, y), tmp_path / "model.onnx")
    assert _listdir(tmp_path) == ["model.onnx"]


def test_export_after_a_skops_round_trip(tmp_path):
    pytest.importorskip("skops")
    from sk_softmax._persist import load_model, save_model

    model, frame = _cli_like()
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")
    export_model(loaded, tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").stat().st_size > 0


def test_export_refuses_imputed_cli_models(tmp_path):
    model, _ = _cli_like(impute="median")
    with pytest.raises(ValueError, match="refit without --impute"):
        export_model(model, tmp_path / "model.onnx")
    assert _listdir(tmp_path) == []


def test_readme_example_prints_what_the_readme_says(capsys):
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("## ONNX\n"):readme.index("## Performance\n")]
    (code,) = re.findall(r"```py\n(.*?)```", section, re.S)
    exec(compile(code, "README.md", "exec"), {})
    assert "prints `True True`" in section
    assert capsys.readouterr().out == "True True\n"
