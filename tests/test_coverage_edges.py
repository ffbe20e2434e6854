"""Edges the other tests leave out, each with its exact outcome: the callback API's
absence, dask without distributed or a client and its bad inputs, the comparison's
warning report, SoftmaxNNClassifierCV.score, scalar sample weights, an overflowing
warm start, single-class separation, the solver and BLAS helpers, ONNX inputs of
unknown width, and the statistics tables' argument checks."""

import importlib.util
import sys
import warnings

import numpy as np
import pytest
import sklearn
from conftest import make_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, f1_score, get_scorer

import sk_softmax._callbacks as callbacks_module
import sk_softmax._objective as objective_module
from sk_softmax import SoftmaxNNClassifier, SoftmaxNNClassifierCV
from sk_softmax._demo import compare
from sk_softmax._identification import separated_classes
from sk_softmax._solver import minimize_objective

# -- _callbacks ------------------------------------------------------------------------


def _never(theta):
    raise AssertionError("nothing may reconstruct without the callback API")


def test_without_the_callback_api(monkeypatch):
    """scikit-learn without sklearn.callback (before 1.9): a stand-in mixin, and an
    IterationCallbacks whose every method does nothing."""
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    spec = importlib.util.spec_from_file_location("_callbacks_without_api",
                                                  callbacks_module.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mixin = module.CallbackSupportMixin
    assert mixin.__module__ == "_callbacks_without_api"
    assert mixin.__doc__.startswith("Stand-in where scikit-learn has no")

    class Estimator(mixin):
        pass

    hooks = module.IterationCallbacks(Estimator(), np.zeros((2, 1)), [0, 1], None, _never,
                                      max_iter=5)
    theta = np.zeros(3)
    hooks.begin(theta)
    hooks(theta)
    hooks.close_iterations()
    hooks.end()
    assert hooks.context is None and hooks.iteration is None


# -- _dask -----------------------------------------------------------------------------


@pytest.fixture
def dask_problem():
    pytest.importorskip("dask.array")
    return make_problem(n_samples=60, n_features=3, seed=4)


@pytest.fixture
def dask_client():
    """An in-process cluster, for this test only (other tests here need none)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_dask_fit_without_distributed(monkeypatch, dask_problem):
    import dask.array as da

    X, y = dask_problem
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError) as error:
        SoftmaxNNClassifier().fit(da.from_array(X, chunks=20), y)
    assert str(error.value) == ("fitting on dask arrays needs dask and distributed: "
                                "from the source checkout, python -m pip install -e '.[dask]'")


def test_dask_fit_without_a_client(dask_problem):
    pytest.importorskip("distributed")
    import dask.array as da

    X, y = dask_problem
    with pytest.raises(ValueError) as error:
        SoftmaxNNClassifier().fit(da.from_array(X, chunks=20), y)
    assert str(error.value) == (
        "fitting on dask arrays needs a dask.distributed Client: create one "
        "(e.g. Client(LocalCluster())) before calling fit")


def test_dask_shapes_without_a_fit(dask_client, dask_problem):
    """X not 2-D, or of unknown chunk sizes; y None: the in-memory fit's message."""
    import dask.array as da

    X, y = dask_problem
    Xd = da.from_array(X, chunks=20)
    with pytest.raises(ValueError) as error:
        SoftmaxNNClassifier().fit(Xd[:, 0], y)
    with pytest.raises(ValueError) as in_memory_1d:
        SoftmaxNNClassifier().fit(X[:, 0], y)
    assert str(error.value) == str(in_memory_1d.value) == (
        "Expected a 2-dimensional X of shape (n_samples, n_features), got an array of shape "
        "(60,). Reshape your data with X.reshape(-1, 1) if it has a single feature or "
        "X.reshape(1, -1) if it is a single sample.")
    with pytest.raises(ValueError) as error:
        SoftmaxNNClassifier().fit(Xd[Xd[:, 0] > -np.inf], y)
    assert str(error.value) == ("X has unknown chunk sizes: call X.compute_chunk_sizes() "
                                "first.")
    with pytest.raises(ValueError) as in_memory:
        SoftmaxNNClassifier().fit(X, None)
    with pytest.raises(ValueError) as on_dask:
        SoftmaxNNClassifier().fit(Xd, None)
    assert str(on_dask.value) == str(in_memory.value)


def test_dask_integer_X_is_fitted_as_float64(dask_client, dask_problem):
    import dask.array as da

    X, y = dask_problem
    counts = np.round(3 * X).astype(np.int64)
    ours = SoftmaxNNClassifier().fit(counts.astype(np.float64), y)
    dist = SoftmaxNNClassifier().fit(da.from_array(counts, chunks=25), y)
    assert dist.coefs_[0].dtype == np.float64 and dist.n_iter_ == ours.n_iter_
    assert_allclose(dist.coef_, ours.coef_, rtol=1e-8, atol=1e-12)


def test_dask_evaluation_gives_up_after_the_retries(dask_client, dask_problem, monkeypatch):
    """Every connection fails: RETRIES tries, then the last error is raised."""
    import dask.array as da

    X, y = dask_problem
    tries = []

    def failing_scatter(*args, **kwargs):
        tries.append(1)
        raise OSError("Stream is closed")

    monkeypatch.setattr(dask_client, "scatter", failing_scatter)
    monkeypatch.setattr("sk_softmax._dask.RETRY_PAUSE_S", 0.0)
    with pytest.raises(OSError, match="^Stream is closed$"):
        SoftmaxNNClassifier().fit(da.from_array(X, chunks=20), y)
    assert len(tries) == 4


@pytest.mark.parametrize("shape", [(4,), (4, 2), (4, 4)])
def test_dask_predict_checks_the_shape(shape):
    """A dask X of the wrong shape at predict: the in-memory message, word for word."""
    da = pytest.importorskip("dask.array")
    X, y = make_problem(n_samples=30, n_features=3)
    model = SoftmaxNNClassifier().fit(X, y)
    for method in ("predict", "predict_proba"):
        with pytest.raises(ValueError) as error:
            getattr(model, method)(da.zeros(shape))
        with pytest.raises(ValueError) as in_memory:
            getattr(model, method)(np.zeros(shape))
        assert str(error.value) == str(in_memory.value)
        assert str(error.value).startswith(
            "Expected a 2-dimensional X" if len(shape) == 1 else
            f"X has {shape[1]} features, but SoftmaxNNClassifier is expecting 3 features")


# -- _demo -----------------------------------------------------------------------------


class WarningClassifier(DummyClassifier):
    """Warns twice per fit with the fold's size, and once more in folds of 20 rows."""

    def fit(self, X, y, sample_weight=None):
        for _ in range(2):
            warnings.warn(f"fold of {len(y)} rows", UserWarning)
        if len(y) == 20:
            warnings.warn("a fold of 20 rows", FutureWarning)
        return super().fit(X, y, sample_weight)


def test_compare_reports_each_kind_of_warning_once(capsys):
    """One line per kind of warning (numbers aside), counted in fits (at most the
    number of fits), with the first message; the table still printed."""
    from sklearn.model_selection import StratifiedKFold

    X, y = make_problem(n_samples=31, n_features=2, n_classes=2)
    sizes = [len(train) for train, _ in
             StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)]
    lines = []
    scores = compare({"warner": WarningClassifier()}, X, y, 3, lambda text: None,
                     warn=lines.append)
    assert lines[0] == (f"warner, cross-validation: UserWarning in 3 of 3 fits: fold of "
                        f"{sizes[0]} rows")
    expected = [f"warner, cross-validation: FutureWarning in {sizes.count(20)} of 3 fits: "
                "a fold of 20 rows"] if 20 in sizes else []
    assert lines[1:] == expected
    assert list(scores) == ["warner"] and "warner" in capsys.readouterr().out


# -- _cv -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cv_model():
    X, y = make_problem(n_samples=60, n_features=3)
    return SoftmaxNNClassifierCV(alphas=2, cv=2, scoring="accuracy").fit(X, y), X, y


def test_cv_binary_scorer_gets_the_positive_label():
    """f1 on string labels: the scorer is told pos_label (the last class)."""
    X, y = make_problem(n_samples=60, n_features=3, n_classes=2)
    labels = np.array(["no", "yes"])[y]
    clf = SoftmaxNNClassifierCV(alphas=2, cv=2, scoring="f1").fit(X, labels)
    assert np.all(np.isfinite(clf.scores_))
    assert clf.score(X, labels) == f1_score(labels, clf.predict(X), pos_label="yes")


def test_cv_score_unfitted():
    with pytest.raises(NotFittedError) as error:
        SoftmaxNNClassifierCV().score(np.zeros((2, 1)), [0, 1])
    assert str(error.value) == ("This SoftmaxNNClassifierCV instance has no model to score "
                                "(refit=False with hidden layers, or not fitted).")


@pytest.mark.filterwarnings("ignore::FutureWarning")  # LogisticRegressionCV's 1.10 changes
def test_cv_score_with_sample_weight_and_routing(cv_model):
    clf, X, y = cv_model
    sw = np.where(y == 0, 5.0, 0.2)
    predicted = clf.predict(X)
    weighted = accuracy_score(y, predicted, sample_weight=sw)
    assert weighted != accuracy_score(y, predicted)
    assert clf.score(X, y, sample_weight=sw) == weighted
    with sklearn.config_context(enable_metadata_routing=True):
        # The scorer's request is not set: whatever LogisticRegressionCV does with it
        # (an error from scikit-learn 1.8; scikit-learn 1.7 scores without complaint).
        from sklearn.linear_model import LogisticRegressionCV

        peer = LogisticRegressionCV(Cs=2, cv=2, scoring="accuracy").fit(X, y)
        try:
            peer_score = peer.score(X, y, sample_weight=sw)
        except sklearn.exceptions.UnsetMetadataPassedError:
            with pytest.raises(sklearn.exceptions.UnsetMetadataPassedError):
                clf.score(X, y, sample_weight=sw)
        else:
            peer_unweighted = accuracy_score(y, peer.predict(X))
            ours = clf.score(X, y, sample_weight=sw)
            assert ours == (accuracy_score(y, predicted) if peer_score == peer_unweighted
                            else weighted)
        ignoring = SoftmaxNNClassifierCV(alphas=2, cv=2, scoring=get_scorer(
            "accuracy").set_score_request(sample_weight=False)).fit(X, y)
        assert_array_equal(ignoring.predict(X), predicted)
        assert ignoring.score(X, y, sample_weight=sw) == accuracy_score(y, predicted)


# -- _prepare, _classifier, _identification, _solver, _objective ------------------------


def test_scalar_sample_weight_is_every_row_alike():
    """A number as sample_weight is that weight on every row (as scikit-learn)."""
    X, y = make_problem()
    scalar = SoftmaxNNClassifier().fit(X, y, sample_weight=2.5)
    rows = SoftmaxNNClassifier().fit(X, y, sample_weight=np.full(len(y), 2.5))
    assert scalar.n_iter_ == rows.n_iter_
    assert_allclose(scalar.coef_, rows.coef_, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("value", [1e308, np.inf])
def test_warm_start_from_overflowing_parameters_is_refused(value):
    X, y = make_problem()
    model = SoftmaxNNClassifier(warm_start=True).fit(X, y)
    model.coefs_[0][:] = value
    with pytest.raises(ValueError) as error:
        model.fit(X, y)
    assert str(error.value) == ("The solver produced non-finite parameters or a non-finite "
                                "loss; scale the data or increase alpha.")


@pytest.mark.parametrize("label", [0, 1])
def test_separation_of_data_with_one_class(label):
    """Rows of one class only: every class but the reference is separated (their
    logits can move away from that class's without bound); symmetric: all."""
    X, y = make_problem(n_samples=60, n_features=2)
    rows = y == label
    args = X[rows], y[rows], np.ones(rows.sum()), True, 3
    for reference in (0, 1, 2):
        expected = np.arange(3) != reference
        assert_array_equal(separated_classes(*args, reference), expected)
    assert_array_equal(separated_classes(*args, None), [True, True, True])


def test_minimize_without_an_iteration_callback():
    def fun(theta):
        return float(np.sum((theta - 1) ** 2)), 2 * (theta - 1)

    result, curve = minimize_objective(fun, np.zeros(3), solver="lbfgs", hessp=None,
                                       max_iter=50, max_fun=500, tol=1e-10, verbose=0)
    assert result.status == 0 and len(curve) == result.nit
    assert_allclose(result.x, 1.0, atol=1e-8)
    assert curve == sorted(curve, reverse=True) and curve[-1] < 1e-16


def test_release_blas_control_with_and_without_clearing(monkeypatch):
    """threadpoolctl >= 3.8 has clear_controlling_thread (called); older has none."""
    threadpoolctl = objective_module.threadpoolctl
    cleared = []

    class Controller:
        @staticmethod
        def clear_controlling_thread(force):
            cleared.append(force)

    monkeypatch.setattr(threadpoolctl, "OpenBLASController", Controller, raising=False)
    objective_module._release_blas_control()
    assert cleared == [True]
    monkeypatch.setattr(threadpoolctl, "OpenBLASController", type("Old", (), {}))
    objective_module._release_blas_control()
    monkeypatch.delattr(threadpoolctl, "OpenBLASController")
    objective_module._release_blas_control()
    assert cleared == [True]


# -- onnx ------------------------------------------------------------------------------


def test_onnx_input_of_unknown_width():
    pytest.importorskip("skl2onnx")
    rt = pytest.importorskip("onnxruntime")
    pytest.importorskip("sk_softmax.onnx")
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    X, y = make_problem(n_samples=40, n_features=3)
    X = X.astype(np.float32)
    model = SoftmaxNNClassifier().fit(X, y)
    onx = to_onnx(model, initial_types=[("X", FloatTensorType([None, None]))],
                  options={id(model): {"zipmap": False}})
    session = rt.InferenceSession(onx.SerializeToString(),
                                  providers=["CPUExecutionProvider"])
    labels, proba = session.run(None, {"X": X})
    assert_array_equal(labels, model.predict(X))
    assert_allclose(proba, model.predict_proba(X), atol=1e-5)


# -- _statistics -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def result():
    X, y = make_problem(n_samples=60, n_features=2)
    return SoftmaxNNClassifier(alpha=0.0, reference_class=0).fit(X, y).inference(X, y)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5])
def test_table_interval_level_is_checked(result, level):
    effects = result.marginal_effects()
    with pytest.raises(ValueError) as error:
        effects.conf_int(level)
    assert str(error.value) == f"level must be in (0, 1), got {level!r}."


def test_table_to_frame_without_pandas(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError) as error:
        result.odds_ratios().to_frame()
    assert str(error.value) == "to_frame needs pandas: pip install pandas"
    assert isinstance(error.value.__cause__, ImportError)


@pytest.mark.parametrize("kwargs, message", [
    ({"at": "median"}, "at must be 'overall' or 'mean', got 'median'."),
    ({"method": "dyd"},
     "method must be one of ['dydx', 'dyex', 'eydx', 'eyex'], got 'dyd'."),
])
def test_marginal_effects_arguments_are_checked(result, kwargs, message):
    with pytest.raises(ValueError) as error:
        result.marginal_effects(**kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("features, message", [
    ([], "features is empty: name at least one feature."),
    (2, "Feature index 2 out of range [0, 2)."),
    ([0, -1], "Feature index -1 out of range [0, 2)."),
])
def test_wald_test_features_are_checked(result, features, message):
    with pytest.raises(ValueError) as error:
        result.wald_test(features)
    assert str(error.value) == message
