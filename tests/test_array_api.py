"""The array-API back-end (sk_softmax/_array_api.py): fits and predictions on
array-api-strict and (where installed) torch arrays under array_api_dispatch=True, compared
with the numpy fit on the same data, and scikit-learn's array-API common checks."""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import make_classification

from sk_softmax import SoftmaxNNClassifier
from sk_softmax._array_api import ArrayAPIObjective, to_numpy
from sk_softmax._network import ParamLayout, glorot_uniform
from sk_softmax._objective import Objective

xps = pytest.importorskip("array_api_strict")


def _dispatch_works():
    """Whether this scikit-learn / SciPy can dispatch (SciPy >= 1.14 and the vendored
    array-api-compat); the lowest supported versions cannot, and these tests skip."""
    import os

    old = os.environ.get("SCIPY_ARRAY_API")
    os.environ["SCIPY_ARRAY_API"] = "1"
    try:
        from sklearn.utils._array_api import get_namespace

        with config_context(array_api_dispatch=True):
            get_namespace(xps.asarray([1.0]))
        return True
    except Exception:
        return False
    finally:
        if old is None:
            del os.environ["SCIPY_ARRAY_API"]
        else:
            os.environ["SCIPY_ARRAY_API"] = old


pytestmark = pytest.mark.skipif(
    not _dispatch_works(),
    reason="array API dispatch needs SciPy >= 1.14 and scikit-learn's array-api-compat")


@pytest.fixture(autouse=True)
def scipy_array_api(monkeypatch):
    """scikit-learn refuses dispatch unless SCIPY_ARRAY_API=1 (read at each call)."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")


@pytest.fixture(autouse=True)
def torch_one_thread():
    """torch on CPU with one thread: its thread pool on these tiny problems spends
    100x the work waiting when the cores are shared (as the test runner's are)."""
    torch = _torch()
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


NAMESPACES = ["array_api_strict"] + (["torch"] if _torch() is not None else [])


def _to_namespace(name, array, dtype=None):
    if dtype is not None:
        array = np.asarray(array, dtype=dtype)
    if name == "torch":
        return _torch().asarray(array, device="cpu")
    return xps.asarray(array)


def _rel(a, b):
    a, b = np.asarray(to_numpy(a), dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _data(n_classes=3, n_samples=200, seed=0):
    X, y = make_classification(n_samples=n_samples, n_features=6, n_informative=4,
                               n_redundant=0, n_classes=n_classes, random_state=seed)
    return X, y


def _fit_both(name, params, X, y, dtype=np.float64, **fit_params):
    reference = SoftmaxNNClassifier(**params).fit(X.astype(dtype), y, **fit_params)
    device_params = {
        key: (_to_namespace(name, value) if isinstance(value, np.ndarray) else value)
        for key, value in fit_params.items()
    }
    with config_context(array_api_dispatch=True):
        model = SoftmaxNNClassifier(**params).fit(
            _to_namespace(name, X, dtype), _to_namespace(name, y), **device_params)
    return reference, model


LINEAR_CASES = {
    "multiclass": (dict(alpha=1e-2), dict(n_classes=3), {}),
    "binary": (dict(alpha=1e-2), dict(n_classes=2), {}),
    "reference class": (dict(alpha=1e-3, reference_class=0), dict(n_classes=3), {}),
    "balanced": (dict(alpha=1e-2, class_weight="balanced"), dict(n_classes=3), {}),
    "sample weight": (dict(alpha=1e-2), dict(n_classes=3), dict(sample_weight=True)),
    "no intercept": (dict(alpha=1e-2, fit_intercept=False), dict(n_classes=4), {}),
}


def _linear_case(case):
    """``(params, X, y, fit_params)`` of a LINEAR_CASES entry."""
    params, data, fit = LINEAR_CASES[case]
    X, y = _data(**data)
    fit_params = {}
    if fit.get("sample_weight"):
        fit_params["sample_weight"] = np.random.default_rng(0).uniform(0.2, 3, len(y))
    return params, X, y, fit_params


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("case", list(LINEAR_CASES))
def test_linear_float64_matches_numpy(name, case):
    """float64: the same n_iter_ and coefficients to 1e-8 as the numpy fit."""
    params, X, y, fit_params = _linear_case(case)
    reference, model = _fit_both(name, params, X, y, **fit_params)
    assert model.n_iter_ == reference.n_iter_
    assert _rel(model.coef_, reference.coef_) < 1e-8
    assert _rel(model.intercept_, reference.intercept_) < 1e-8
    assert abs(model.loss_ - reference.loss_) <= 1e-10 * abs(reference.loss_)
    assert model.coefs_[0].dtype == (
        _torch().float64 if name == "torch" else xps.float64)


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("collinear", [False, True])
def test_raw_columns_match_numpy(name, collinear):
    """Raw columns (money, years, a 1e6 offset), nearly collinear or not: the moments
    and covariance computed on the device give numpy's preconditioner, and its fit."""
    from conftest import raw_columns

    X, y = raw_columns(300, collinear=collinear)
    reference, model = _fit_both(name, dict(alpha=1e-2, tol=1e-8), X, y)
    assert model.n_iter_ == reference.n_iter_ and reference.converged_
    assert _rel(model.coefs_[0], reference.coefs_[0]) < 1e-8


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("case", ["multiclass", "reference class", "sample weight"])
def test_linear_float32_matches_numpy(name, case):
    """float32 stays float32 (weights and probabilities), within 1e-4 of numpy's fit."""
    params, X, y, fit_params = _linear_case(case)
    reference, model = _fit_both(name, params, X, y, dtype=np.float32, **fit_params)
    assert _rel(model.coefs_[0], reference.coefs_[0]) < 1e-4
    float32 = _torch().float32 if name == "torch" else xps.float32
    assert model.coefs_[0].dtype == float32 and model.intercepts_[0].dtype == float32
    with config_context(array_api_dispatch=True):
        proba = model.predict_proba(_to_namespace(name, X, np.float32))
    assert proba.dtype == float32
    assert _rel(proba, reference.predict_proba(X.astype(np.float32))) < 1e-4


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("converged", [False, True])
def test_hidden_layers_match_numpy(name, activation, converged):
    """Hidden layers, each activation: float64 fits agree with numpy's to 1e-8, with
    the same n_iter_: after a fixed budget of 20 iterations, and to convergence where
    the optimum is well determined. (A non-convex fit is as sensitive to rounding as
    its own numpy fit: perturbing X by 1e-15 moves a converged relu network by 1e-3,
    so a converged relu fit is not compared; the 20 iterations are. Measured on this
    problem: 1e-11 at 20 iterations, 5e-7 at 40 for the logistic network, whose
    rounding differences a line search amplifies after iteration 25.)"""
    if converged and activation == "relu":
        pytest.skip("a converged relu network moves by 1e-3 under 1e-15 rounding")
    X, y = _data(n_classes=3)
    params = dict(hidden_layer_sizes=(5,), activation=activation, random_state=0)
    params.update(dict(alpha=10.0) if converged else dict(alpha=1.0, max_iter=20, tol=0))
    reference, model = _fit_both(name, params, X, y)
    assert model.n_iter_ == reference.n_iter_
    for device_coef, coef in zip(model.coefs_, reference.coefs_):
        assert _rel(device_coef, coef) < 1e-8
    for device_intercept, intercept in zip(model.intercepts_, reference.intercepts_):
        assert _rel(device_intercept, intercept) < 1e-8


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("reference_class", [None, 1])
def test_data_term_matches_numpy(name, activation, reference_class, monkeypatch):
    """One evaluation: the loss and gradient of the in-memory data term, to rounding;
    several row blocks are added up as one."""
    from sklearn.utils._array_api import device, get_namespace

    monkeypatch.setattr("sk_softmax._array_api.DEVICE_BLOCK_VALUES", 500)

    X, y = _data(n_classes=3, n_samples=150)
    weight = np.random.default_rng(1).uniform(0.5, 2, len(y))
    weight /= weight.sum()
    layout = ParamLayout([6, 4, 3, 3], reference_class, True)
    theta = glorot_uniform(layout, activation, np.random.RandomState(0))
    expected = Objective(X, y, weight, layout, activation)(theta)
    X_device = _to_namespace(name, X)
    with config_context(array_api_dispatch=True):
        xp = get_namespace(X_device)[0]
        objective = ArrayAPIObjective(X_device, y, weight, layout, activation, xp,
                                      device(X_device))
    assert len(objective.blocks) == 5
    with objective:
        loss, gradient = objective(theta)
    assert loss == pytest.approx(expected[0], rel=1e-13)
    assert _rel(gradient, expected[1]) < 1e-12
    assert gradient.dtype == np.float64 and gradient.shape == (layout.n_params,)


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("block_values", [2**26, 100])
def test_fitted_attributes_and_predictions_in_namespace(name, block_values, monkeypatch):
    """coefs_, intercepts_, coef_, intercept_, classes_ and every prediction live in
    X's namespace and on its device; score is a float; predictions match numpy's
    (in one row block or several)."""
    monkeypatch.setattr("sk_softmax._array_api.DEVICE_BLOCK_VALUES", block_values)
    X, y = _data(n_classes=3)
    reference, model = _fit_both(name, dict(alpha=1e-2), X, y)
    X_device = _to_namespace(name, X)
    kind = type(X_device)
    for attribute in (*model.coefs_, *model.intercepts_, model.coef_, model.intercept_,
                      model.classes_):
        assert isinstance(attribute, kind)
    with config_context(array_api_dispatch=True):
        outputs = {method: getattr(model, method)(X_device) for method in (
            "predict", "predict_proba", "predict_log_proba", "decision_function")}
        score = model.score(X_device, _to_namespace(name, y))
    for method, output in outputs.items():
        assert isinstance(output, kind), method
        expected = getattr(reference, method)(X)
        if method == "predict":
            np.testing.assert_array_equal(to_numpy(output), expected)
        else:
            assert _rel(output, expected) < 1e-8, method
    assert isinstance(score, float)
    assert score == pytest.approx(reference.score(X, y), abs=1e-6)


@pytest.mark.parametrize("name", NAMESPACES)
def test_string_labels_stay_numpy(name):
    """Labels that no array-API namespace holds (strings, from a numpy y): classes_ and
    predict give numpy strings, as LogisticRegression."""
    X, y = _data(n_classes=3)
    labels = np.array(["ant", "bee", "cat"])[y]
    with config_context(array_api_dispatch=True):
        model = SoftmaxNNClassifier(alpha=1e-2).fit(_to_namespace(name, X), labels)
        predicted = model.predict(_to_namespace(name, X))
    assert isinstance(model.classes_, np.ndarray)
    np.testing.assert_array_equal(
        predicted, SoftmaxNNClassifier(alpha=1e-2).fit(X, labels).predict(X))


@pytest.mark.parametrize("name", NAMESPACES)
def test_other_namespace_refused_at_prediction(name):
    """A model fitted on device arrays refuses numpy X (and X without dispatch), with
    scikit-learn's message; a numpy model refuses device X under dispatch."""
    X, y = _data()
    _, model = _fit_both(name, dict(alpha=1e-2), X, y)
    with config_context(array_api_dispatch=True):
        for method in ("predict", "predict_proba", "predict_log_proba",
                       "decision_function"):
            with pytest.raises(ValueError, match=rf"SoftmaxNNClassifier.{method}\(\) "
                                                 "must use the same namespace"):
                getattr(model, method)(X)
    with pytest.raises(ValueError, match="array_api_dispatch=True"):
        model.predict(_to_namespace(name, X))
    numpy_model = SoftmaxNNClassifier().fit(X, y)
    with config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="must use the same namespace"):
            numpy_model.predict(_to_namespace(name, X))


def test_numpy_under_dispatch_is_the_numpy_fit():
    """numpy inputs under dispatch take the in-memory path: the same model."""
    X, y = _data()
    expected = SoftmaxNNClassifier(alpha=1e-2).fit(X, y)
    with config_context(array_api_dispatch=True):
        model = SoftmaxNNClassifier(alpha=1e-2).fit(X, y)
        proba = model.predict_proba(X)
    assert isinstance(model.coefs_[0], np.ndarray)
    np.testing.assert_array_equal(model.coefs_[0], expected.coefs_[0])
    np.testing.assert_array_equal(proba, expected.predict_proba(X))


def test_mixed_namespaces_follow_X():
    """y and sample_weight of another namespace (or numpy) than X are moved: the
    weights go where X is; classes_ stays in y's namespace."""
    torch = pytest.importorskip("torch")
    X, y = _data()
    sample_weight = np.random.default_rng(0).uniform(0.5, 2, len(y))
    expected = SoftmaxNNClassifier(alpha=1e-2).fit(X, y, sample_weight=sample_weight)
    with config_context(array_api_dispatch=True):
        model = SoftmaxNNClassifier(alpha=1e-2).fit(
            torch.asarray(X), xps.asarray(y), sample_weight=sample_weight)
        predicted = model.predict(torch.asarray(X))
    assert isinstance(model.coefs_[0], torch.Tensor)
    assert isinstance(model.classes_, type(xps.asarray(1)))
    assert isinstance(predicted, torch.Tensor)
    assert _rel(model.coef_, expected.coef_) < 1e-8


@pytest.mark.parametrize("name", NAMESPACES)
def test_checks_shared_with_numpy_fit(name):
    """The label, weight and class-weight checks are the in-memory fit's."""
    X, y = _data()
    X_device = _to_namespace(name, X)
    with config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="at least 2 classes"):
            SoftmaxNNClassifier().fit(X_device, _to_namespace(name, np.zeros(len(y))))
        with pytest.raises(ValueError, match="sample_weight"):
            SoftmaxNNClassifier().fit(X_device, _to_namespace(name, y),
                                      sample_weight=np.ones(3))
        with pytest.raises(ValueError, match="Negative values"):
            SoftmaxNNClassifier().fit(X_device, _to_namespace(name, y),
                                      sample_weight=-np.ones(len(y)))
        with pytest.raises(ValueError, match="sum to zero"):
            SoftmaxNNClassifier(class_weight={0: 0, 1: 0, 2: 0}).fit(
                X_device, _to_namespace(name, y))
        with pytest.raises(ValueError, match="reference_class=7"):
            SoftmaxNNClassifier(reference_class=7).fit(X_device, _to_namespace(name, y))
        with pytest.raises(ValueError, match="solver='lbfgs' only"):
            SoftmaxNNClassifier(solver="trust-ncg").fit(X_device, _to_namespace(name, y))
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            SoftmaxNNClassifier().fit(X_device, _to_namespace(name, y[:-1]))


@pytest.mark.parametrize("name", NAMESPACES)
def test_warm_start_and_refit(name):
    """A warm start from device weights continues from them (no further iterations
    at the optimum); a failed refit leaves the device model as it was."""
    X, y = _data()
    X_device, y_device = _to_namespace(name, X), _to_namespace(name, y)
    with config_context(array_api_dispatch=True):
        model = SoftmaxNNClassifier(alpha=1e-2, warm_start=True).fit(X_device, y_device)
        coef = to_numpy(model.coef_).copy()
        model.fit(X_device, y_device)
        assert model.n_iter_ <= 1
        assert _rel(model.coef_, coef) < 1e-6
        with pytest.raises(ValueError):
            model.set_params(reference_class=9).fit(X_device, y_device)
    assert _rel(model.coef_, coef) < 1e-6


def _array_api_checks():
    """scikit-learn's array-API common checks for every namespace installed (those
    this scikit-learn version has)."""
    from sklearn.utils import _array_api, estimator_checks

    checks = []
    for namespace, device, dtype in _array_api.yield_namespace_device_dtype_combinations():
        checks.append(pytest.param(
            "check_array_api_input", dict(array_namespace=namespace, device_name=device,
                                          dtype_name=dtype),
            id=f"input-{namespace}-{device}-{dtype}"))
    mixed = getattr(_array_api, "yield_mixed_namespace_input_permutations", None)
    if mixed is not None and hasattr(estimator_checks, "check_array_api_mixed_inputs"):
        for other, X_side, label in mixed():
            checks.append(pytest.param(
                "check_array_api_mixed_inputs",
                dict(other_ns_and_device=other, X_ns_and_device=X_side),
                id="mixed-" + label.replace(" ", "_")))
    if hasattr(estimator_checks, "check_array_api_same_namespace"):
        checks.append(pytest.param("check_array_api_same_namespace",
                                   dict(array_namespace="array_api_strict"),
                                   id="same-namespace"))
    return checks


ESTIMATORS = {
    "linear": SoftmaxNNClassifier(alpha=1e-2),
    "reference": SoftmaxNNClassifier(alpha=1e-2, reference_class=1, class_weight="balanced"),
    "hidden": SoftmaxNNClassifier(hidden_layer_sizes=(4,), activation="tanh", alpha=1.0,
                                  random_state=0),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
@pytest.mark.parametrize("check, kwargs", _array_api_checks())
def test_sklearn_array_api_checks(estimator, check, kwargs):
    """scikit-learn's check_array_api_input (and, where this version has them, the
    mixed-namespace and same-namespace checks); a namespace or device that is not
    installed here is skipped by the check itself."""
    from sklearn.utils import estimator_checks

    function = getattr(estimator_checks, check)
    if check == "check_array_api_input" and "device_name" not in _parameters(function):
        kwargs = {("device" if key == "device_name" else key): value  # scikit-learn < 1.8
                  for key, value in kwargs.items()}
    function("SoftmaxNNClassifier", clone(ESTIMATORS[estimator]), **kwargs)


def _parameters(function):
    import inspect

    return inspect.signature(function).parameters


@pytest.mark.parametrize("name", NAMESPACES)
def test_extreme_inputs_predict_without_warnings(name):
    """Overflowing activations saturate silently at prediction time, as on numpy (the
    suite turns RuntimeWarning into an error)."""
    X, y = _data()
    _, model = _fit_both(name, dict(hidden_layer_sizes=(4,), activation="logistic",
                                    alpha=1.0, random_state=0), X, y)
    X_big = _to_namespace(name, 1e4 * X)
    with config_context(array_api_dispatch=True):
        proba = model.predict_proba(X_big)
        log_proba = model.predict_log_proba(X_big)
    assert np.all(np.isfinite(to_numpy(proba))) and np.all(np.isfinite(to_numpy(log_proba)))


def test_inference_needs_a_numpy_model():
    """inference() (host statistics) refuses a model fitted on device arrays."""
    X, y = _data()
    _, model = _fit_both("array_api_strict", dict(alpha=1e-2), X, y)
    with pytest.raises(ValueError, match="fitted on numpy arrays"):
        model.inference(X, y)


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("hidden", [(), (8,)])
def test_float32_gradient_as_accurate_as_numpy(name, hidden):
    """float32 data: the gradient products are summed in float32 over 1,024 rows at
    most (then in float64), so the gradient is about as close to the float64 one as the
    in-memory float32 data term's, which sums ~600-row blocks in float64 (torch's CPU
    products are the least accurate: 3x numpy's error here; 11x in one product)."""
    from sklearn.utils._array_api import device, get_namespace

    X, y = make_classification(n_samples=5000, n_features=20, n_informative=10,
                               n_classes=4, random_state=0)
    weight = np.full(len(y), 1 / len(y))
    layout = ParamLayout([20, *hidden, 4], None, True)
    theta = glorot_uniform(layout, "tanh", np.random.RandomState(0))
    exact = Objective(X, y, weight, layout, "tanh")(theta)
    numpy32 = Objective(X.astype(np.float32), y, weight, layout, "tanh")(theta)
    X_device = _to_namespace(name, X, np.float32)
    with config_context(array_api_dispatch=True):
        xp = get_namespace(X_device)[0]
        loss, gradient = ArrayAPIObjective(X_device, y, weight, layout, "tanh", xp,
                                           device(X_device))(theta)
    numpy_error = np.max(np.abs(numpy32[1] - exact[1]))
    assert np.max(np.abs(gradient - exact[1])) <= 5 * numpy_error + 1e-12
    assert abs(loss - exact[0]) <= 1e-6 * exact[0]


def test_one_transfer_each_way_per_evaluation(monkeypatch):
    """Per evaluation, the parameters cross to the device once and the loss with the
    gradient back once; X never moves (every asarray and every copy to the host
    is counted)."""
    from sklearn.utils._array_api import device, get_namespace

    import sk_softmax._array_api as back_end

    X, y = _data(n_samples=150)
    weight = np.full(len(y), 1 / len(y))
    layout = ParamLayout([6, 4, 3], 0, True)
    theta = glorot_uniform(layout, "tanh", np.random.RandomState(0))
    X_device = xps.asarray(X)
    with config_context(array_api_dispatch=True):
        xp = get_namespace(X_device)[0]
        objective = ArrayAPIObjective(X_device, y, weight, layout, "tanh", xp,
                                      device(X_device))
    calls = {"to_device": 0, "to_host": 0}

    class Counting:
        def __getattr__(self, name):
            return getattr(xp, name)

        def asarray(self, *args, **kwargs):
            calls["to_device"] += 1
            return xp.asarray(*args, **kwargs)

    def to_host(array):
        calls["to_host"] += 1
        return to_numpy(array)

    objective.xp = Counting()
    monkeypatch.setattr(back_end, "to_numpy", to_host)
    loss, gradient = objective(theta)
    assert calls == {"to_device": 1, "to_host": 1}
    expected = Objective(X, y, weight, layout, "tanh")(theta)
    assert _rel(gradient, expected[1]) < 1e-12


def test_numpy_X_with_device_labels_is_the_numpy_fit():
    """numpy X with y and sample_weight of another namespace (under dispatch): the
    labels and weights come to the host and the fit is the in-memory one."""
    torch = pytest.importorskip("torch")
    X, y = _data()
    sample_weight = np.random.default_rng(0).uniform(0.5, 2, len(y))
    expected = SoftmaxNNClassifier(alpha=1e-2).fit(X, y, sample_weight=sample_weight)
    with config_context(array_api_dispatch=True):
        model = SoftmaxNNClassifier(alpha=1e-2).fit(
            X, torch.asarray(y), sample_weight=torch.asarray(sample_weight))
        predicted = model.predict(X)
    assert isinstance(model.coefs_[0], np.ndarray) and isinstance(predicted, np.ndarray)
    np.testing.assert_array_equal(model.coefs_[0], expected.coefs_[0])


def test_readme_example_prints_what_the_readme_says(capsys):
    """README "GPUs (array API)": the example runs (torch on the CPU here) and prints
    what the README says."""
    import re
    from pathlib import Path

    pytest.importorskip("torch")
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("## GPUs (array API)\n"):readme.index("## Performance\n")]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    exec(compile(code, "README.md", "exec"), {})  # SCIPY_ARRAY_API: restored by monkeypatch
    assert "prints `Tensor torch.float32 cpu`" in section
    assert capsys.readouterr().out == "Tensor torch.float32 cpu\n"


@pytest.mark.parametrize("name", NAMESPACES)
def test_missing_y_same_message_as_in_memory(name):
    """fit(X, None) under dispatch: the in-memory fit's (validate_data's) message."""
    X, _ = _data()
    with pytest.raises(ValueError) as in_memory:
        SoftmaxNNClassifier().fit(X, None)
    with config_context(array_api_dispatch=True):
        with pytest.raises(ValueError) as on_device:
            SoftmaxNNClassifier().fit(_to_namespace(name, X), None)
    assert str(on_device.value) == str(in_memory.value)


@pytest.mark.parametrize("name", NAMESPACES)
def test_float32_rows_for_a_float64_model(name):
    """Predicting float32 rows with a model fitted on float64 arrays: the rows are
    promoted (numpy's rule), the probabilities those of the float64 rows."""
    X, y = _data()
    _, model = _fit_both(name, dict(alpha=1e-2), X, y)
    with config_context(array_api_dispatch=True):
        wide = to_numpy(model.predict_proba(_to_namespace(name, X)))
        narrow = model.predict_proba(_to_namespace(name, X, np.float32))
    assert str(narrow.dtype).endswith("float64")
    assert np.abs(to_numpy(narrow) - wide).max() < 1e-6


@pytest.mark.parametrize("n_samples", [2048, 2048 + 5])
def test_gradient_chunks_with_and_without_a_tail(n_samples):
    """The device gradient sums whole chunks of GRADIENT_CHUNK_ROWS rows, then the
    rows left over (none when the rows are a multiple): the numpy fit's model."""
    X, y = _data(n_samples=n_samples)
    reference, model = _fit_both("array_api_strict", dict(alpha=1e-2, max_iter=30), X, y)
    assert _rel(model.coef_, reference.coef_) < 1e-10


def test_float64_support_without_the_inspection_api():
    """A namespace without __array_namespace_info__ is assumed to have float64."""
    from sk_softmax._array_api import supports_float64

    assert supports_float64(object(), None) is True
    assert supports_float64(xps, None) is True
