"""Behaviour that only mutation testing (tools/mutation.py) showed unchecked: each test
names what it pins down."""

import os

import numpy as np
import pytest
from conftest import make_problem
from numpy.testing import assert_allclose

import sk_softmax
from sk_softmax._hessian import HessianProduct, SoftmaxHessian
from sk_softmax._network import ParamLayout, glorot_uniform

#: Under mutmut (tools/mutation.py) each mutated function is called through a
#: trampoline, one more frame: a warning's stacklevel then points one frame off.
UNDER_MUTMUT = "mutants" in os.path.normpath(sk_softmax.__file__).split(os.sep)


def test_hessian_product_recomputes_p_only_when_theta_changes(monkeypatch):
    """HessianProduct keeps P while theta is unchanged, compares by value (a copy of
    theta, not the caller's array), and recomputes it when theta changes; in row blocks
    (here 7 rows each, the last shorter) it equals SoftmaxHessian's one-pass product."""
    import sk_softmax._hessian as hessian_module

    monkeypatch.setattr(hessian_module, "block_rows", lambda *args: 7)
    X, y = make_problem(n_samples=30, n_features=3, n_classes=3, seed=1)
    layout = ParamLayout([3, 3], 0, True)
    weight = np.full(30, 1 / 30)
    product = HessianProduct(X, y, weight, layout)
    assert [len(block[2]) for block in product.blocks] == [7, 7, 7, 7, 2]
    theta = np.random.default_rng(2).standard_normal(layout.n_params)
    vector = np.random.default_rng(3).standard_normal(layout.n_params)
    first = product(theta, vector)
    assert_allclose(first, SoftmaxHessian(theta, X, y, weight, layout).product(vector),
                    rtol=1e-14)
    stored = product.theta
    assert stored is not theta and np.array_equal(stored, theta)
    assert_allclose(product(theta.copy(), vector), first, rtol=0)
    assert product.theta is stored  # same theta by value: P kept
    theta += 0.5  # changed in place: detected through the stored copy
    changed = product(theta, vector)
    assert product.theta is not stored
    expected = SoftmaxHessian(theta, X, y, weight, layout).product(vector)
    assert_allclose(changed, expected, rtol=1e-14)
    assert not np.allclose(changed, first)


def test_hessian_refuses_hidden_layers():
    """The exact Hessian exists for softmax regression only: a layout with a hidden
    layer is refused with that message."""
    X, y = make_problem(n_samples=10, n_features=3, n_classes=3)
    layout = ParamLayout([3, 4, 3], None, True)
    with pytest.raises(ValueError, match=r"^The Hessian is implemented for softmax "
                                         r"regression only\.$"):
        SoftmaxHessian(np.zeros(layout.n_params), X, y, np.full(10, 0.1), layout)


@pytest.mark.parametrize("activation, factor", [("logistic", 2), ("tanh", 6), ("relu", 6),
                                                ("identity", 6)])
def test_glorot_uniform_draws(activation, factor):
    """Glorot-uniform: U(-b, b), b = sqrt(factor / (fan_in + fan_out)), factor 2 for the
    logistic activation and 6 otherwise, drawn layer by layer (weights, then
    intercepts) as MLPClassifier draws them."""
    layout = ParamLayout([4, 5, 3], None, True)
    theta = glorot_uniform(layout, activation, np.random.RandomState(0))
    coefs, intercepts = layout.unpack(theta, np.float64)
    draws = np.random.RandomState(0)
    for (fan_in, fan_out), coef, intercept in zip(layout.shapes, coefs, intercepts):
        bound = np.sqrt(factor / (fan_in + fan_out))
        assert_allclose(coef, draws.uniform(-bound, bound, (fan_in, fan_out)), rtol=1e-15)
        assert_allclose(intercept, draws.uniform(-bound, bound, fan_out), rtol=1e-15)


def test_unpack_without_intercepts_keeps_the_dtype():
    """fit_intercept=False: the zero intercepts come in the requested dtype too."""
    layout = ParamLayout([3, 2, 2], None, False)
    coefs, intercepts = layout.unpack(np.ones(layout.n_params), np.float32)
    assert [b.dtype for b in intercepts] == [np.float32, np.float32]
    assert all(not b.any() for b in intercepts)
    assert [c.dtype for c in coefs] == [np.float32, np.float32]


@pytest.fixture(scope="module")
def wine_inference():
    """A reference-class softmax regression on wine's first three columns, and its
    inference result."""
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    from sk_softmax import SoftmaxNNClassifier

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X[:, :3])
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, solver="trust-ncg",
                                tol=1e-8).fit(X, y)
    return model, X, y, model.inference(X, y)


def test_conf_int_levels(wine_inference):
    """conf_int defaults to 95%, takes any level in (0, 1), and refuses 0, 1 and
    beyond with that message."""
    from scipy import stats

    *_, result = wine_inference
    (low, high), (i_low, i_high) = result.conf_int()
    q = stats.norm.ppf(0.975)
    assert_allclose(high - result.coef, q * result.std_err_coef, rtol=1e-12)
    assert_allclose(result.intercept - i_low, q * result.std_err_intercept, rtol=1e-12)
    (low50, _), _ = result.conf_int(0.5)
    assert_allclose(result.coef - low50, stats.norm.ppf(0.75) * result.std_err_coef,
                    rtol=1e-12)
    for level in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"^level must be in \(0, 1\), got {level}\.$"):
            result.conf_int(level)
    rows = list(result._rows())  # default level: the 95% interval
    row = next(r for r in rows if r[:2] == (1, "x0"))
    assert row[6] == low[1, 0] and row[7] == high[1, 0]


def test_summary_layout_and_frame_labels(wine_inference):
    """The table's first column is at least 9 wide (short feature names); to_frame's
    columns and index names are the table's; another level renames the bounds."""
    *_, result = wine_inference
    lines = result.summary().splitlines()
    header = next(line for line in lines if "std err" in line)
    assert header == (" " * 9 + f"{'coef':>11}{'std err':>11}{'z':>9}{'P>|z|':>9}"
                      f"{'[95%':>11}{'95%]':>11}")
    row = next(line for line in lines if line.startswith("x0"))
    assert len(row) == len(header) and row[:9] == "x0       "
    frame = result.to_frame(level=0.9)
    assert list(frame.columns) == ["coef", "std err", "z", "P>|z|", "[90%", "90%]"]
    assert list(frame.index.names) == ["class", "term"]
    assert list(frame.index[:2]) == [(0, "intercept"), (0, "x0")]


def test_to_frame_without_pandas(wine_inference, monkeypatch):
    """to_frame without pandas: an ImportError saying how to install it."""
    import sys

    *_, result = wine_inference
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"^InferenceResult\.to_frame needs pandas: "
                                          r"pip install pandas$"):
        result.to_frame()


def test_summary_with_odds_ratios(wine_inference):
    """summary(odds_ratios=True) is the table, a blank line, then the odds ratios'."""
    *_, result = wine_inference
    assert result.summary(odds_ratios=True) == (
        result.summary() + "\n\n" + result.odds_ratios().summary())


def test_null_log_likelihood_weighted_frequencies():
    """llnull = sum_k S_k log(S_k / S) over the classes with weight (S_k: class totals)."""
    from sk_softmax._inference import null_log_likelihood

    y = np.array([0, 0, 1, 2, 2, 2])
    weight = np.array([1.0, 2.0, 1.0, 0.5, 0.5, 1.0])
    totals = np.array([3.0, 1.0, 2.0])
    assert null_log_likelihood(y, weight, 3) == pytest.approx(
        float(totals @ np.log(totals / 6)), rel=1e-15)
    # A class without weight adds nothing (not 0 * log 0).
    assert null_log_likelihood(np.array([0, 0, 1]), np.ones(3), 4) == pytest.approx(
        2 * np.log(2 / 3) + np.log(1 / 3), rel=1e-15)


def test_inference_result_without_separation_argument(wine_inference):
    """inference_result's separated defaults to none: the same result as all False."""
    from sk_softmax._inference import inference_result

    model, X, y, result = wine_inference
    alone = inference_result(model, X, np.searchsorted(model.classes_, y), np.ones(len(y)),
                             "nonrobust")
    assert_allclose(alone.std_err_coef, result.std_err_coef, rtol=1e-12)
    assert alone.separated.size == 0


def test_separation_warnings_point_at_the_caller(iris, monkeypatch):
    """Separation found: a SeparationWarning with the whole explanation, pointing at
    the inference call; data too large for the check: a SeparationWarning saying so,
    nothing set to NaN."""
    import warnings

    import sk_softmax._identification as identification
    from sk_softmax import SeparationWarning, SoftmaxNNClassifier

    X, y = iris
    X = X[:, :2]
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=1, solver="trust-ncg", tol=1e-8,
                                max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    with pytest.warns(SeparationWarning) as record:
        model.inference(X, y)
    assert len(record) == 1 and (UNDER_MUTMUT or record[0].filename == __file__)
    assert str(record[0].message) == (
        "The classes are completely or quasi-completely separated: the maximum-likelihood "
        "estimate does not exist, and these coefficients (relative to the reference class) "
        "grow without bound: class 0: 'x0', 'x1', 'intercept'. Their statistics are NaN; "
        "the others are those of the limit (the rows the separation predicts perfectly no "
        "longer inform them). Remove the separating features, merge classes, or fit with "
        "alpha > 0.")
    monkeypatch.setattr(identification, "MAX_SEPARATION_NONZEROS", 1)
    with pytest.warns(SeparationWarning) as record:
        result = model.inference(X, y)
    assert len(record) == 1 and (UNDER_MUTMUT or record[0].filename == __file__)
    assert str(record[0].message) == (
        "The data is too large to check for separation: if the classes are separated, "
        "the standard errors are meaningless.")
    assert result.separated.size == 0 and np.all(np.isfinite(result.std_err_coef[2]))


def test_not_positive_definite_message():
    """A singular information matrix: ValueError naming its smallest eigenvalue."""
    from sk_softmax._inference import check_positive_definite

    check_positive_definite(np.eye(2))  # positive definite: no error
    with pytest.raises(ValueError) as excinfo:
        check_positive_definite(np.array([[1.0, 0.0], [0.0, -2.0]]))
    assert str(excinfo.value) == (
        "The information matrix is not positive definite (smallest eigenvalue -2): the "
        "parameters are not identified at this fit, so they have no standard errors. "
        "Check for collinear features or classes with too few samples.")


def test_inference_statistics_count_the_weights(wine_inference):
    """Sample weights are frequencies for llnull and n_obs too: doubling every weight
    doubles llf, llnull and n_obs, and leaves pseudo R2 unchanged."""
    model, X, y, result = wine_inference
    doubled = model.inference(X, y, sample_weight=np.full(len(y), 2.0))
    assert doubled.llf == pytest.approx(2 * result.llf, rel=1e-12)
    assert doubled.llnull == pytest.approx(2 * result.llnull, rel=1e-12)
    assert doubled.n_obs == 2 * result.n_obs
    assert doubled.pseudo_r2 == pytest.approx(result.pseudo_r2, rel=1e-12)


@pytest.fixture(scope="module")
def small_model():
    from sk_softmax import SoftmaxNNClassifier

    X, y = make_problem(n_samples=30, n_features=3)
    return SoftmaxNNClassifier().fit(X, y)


def test_model_file_metadata_checks(small_model, tmp_path):
    """save_model's metadata: a dict (else TypeError naming the type), of JSON values
    or numpy ones (else TypeError naming the type), up to MAX_METADATA_BYTES inclusive
    and MAX_DEPTH levels inclusive; what load_metadata gives back."""
    pytest.importorskip("skops")
    import json

    from sk_softmax import _persist
    from sk_softmax._refusal import MAX_DEPTH, _Refused

    with pytest.raises(TypeError, match=r"^metadata must be a dict, got list$"):
        _persist.save_model(small_model, tmp_path / "a.skops", metadata=[1])
    with pytest.raises(TypeError, match=r"^metadata: set is not JSON serialisable$"):
        _persist.save_model(small_model, tmp_path / "b.skops", metadata={"a": {1}})
    path = tmp_path / "c.skops"
    _persist.save_model(small_model, path,
                        metadata={"n": np.int64(3), "v": np.arange(2), "s": "x"})
    assert _persist.load_metadata(path) == {"n": 3, "v": [0, 1], "s": "x"}
    filler = "x" * (_persist.MAX_METADATA_BYTES - len(json.dumps({"s": ""})))
    _persist.save_model(small_model, tmp_path / "d.skops", metadata={"s": filler})
    with pytest.raises(ValueError, match="is larger"):
        _persist.save_model(small_model, tmp_path / "e.skops", metadata={"s": filler + "x"})

    def nested(depth):  # a value whose innermost item sits at this depth
        value = 1
        for level in range(depth):
            value = {"k": value} if level % 2 else [value]
        return {"k": value}

    for depth in (MAX_DEPTH - 1,):
        assert _persist._parse_metadata(json.dumps(nested(depth)).encode()) == nested(depth)
    with pytest.raises(_Refused, match=rf"^metadata nested deeper than {MAX_DEPTH} levels$"):
        _persist._parse_metadata(json.dumps(nested(MAX_DEPTH)).encode())
    with pytest.raises(_Refused, match=r"^metadata is not a JSON object$"):
        _persist._parse_metadata(b"[1]")
    with pytest.raises(_Refused, match=r"^metadata nested too deeply$"):
        _persist._parse_metadata(b"[" * 100_000 + b"]" * 100_000)


def test_require_skops_says_how_to_install(monkeypatch):
    """Without skops, require_skops raises ImportError with the install line."""
    import sys

    from sk_softmax._persist import require_skops

    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=r"^model files are written with skops: from the "
                       r"source checkout, python -m pip install -e '\.\[cli\]'$"):
        require_skops()


def test_blas_controller_and_threads(monkeypatch):
    """blas_controller scans the BLAS libraries once (BLAS only, not OpenMP);
    blas_threads is their largest thread count (1 under a limit of 1, 1 for a library
    that reports 0, 1 without any library)."""
    from types import SimpleNamespace

    from threadpoolctl import threadpool_info, threadpool_limits

    import sk_softmax._objective as objective_module

    monkeypatch.setattr(objective_module, "_BLAS_CONTROLLER", None)  # scan afresh
    controller = objective_module.blas_controller()
    assert objective_module.blas_controller() is controller
    assert controller.lib_controllers
    assert {lib.user_api for lib in controller.lib_controllers} == {"blas"}
    with threadpool_limits(limits=2, user_api="blas"):
        expected = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        assert objective_module.blas_threads() == expected
        with threadpool_limits(limits=1, user_api="blas"):
            assert objective_module.blas_threads() == 1
    for libs, threads in [([], 1), ([0], 1), ([0, 3], 3)]:
        fake = SimpleNamespace(lib_controllers=[
            SimpleNamespace(get_num_threads=lambda n=n: n) for n in libs])
        monkeypatch.setattr(objective_module, "_BLAS_CONTROLLER", fake)
        assert objective_module.blas_threads() == threads


def _raise(exc):
    def raising(*args, **kwargs):
        raise exc
    return raising


def test_model_file_failures_are_refusals(small_model, tmp_path, monkeypatch):
    """What skops or the model checks raise becomes "<path>: <problem>" on one line
    (the check's text cut at 200 characters); a model that would not load is not
    saved."""
    skops_io = pytest.importorskip("skops.io")
    from sk_softmax import _persist
    from sk_softmax._refusal import _Refused

    path = tmp_path / "m.skops"
    _persist.save_model(small_model, path)
    for exc, problem in [
        (RecursionError("deep"), "skops could not build the model"),
        (KeyError("x  y"), "skops could not build the model (KeyError: 'x y')"),
    ]:
        monkeypatch.setattr(skops_io, "load", _raise(exc))
        with pytest.raises(ValueError) as excinfo:
            _persist.load_model(path)
        assert str(excinfo.value) == f"{path}: {problem}"
    monkeypatch.undo()
    long = "bad\n   value " + "z" * 300
    monkeypatch.setattr(_persist, "_check_model", _raise(TypeError(long)))
    with pytest.raises(ValueError) as excinfo:
        _persist.load_model(path)
    assert str(excinfo.value) == (
        f"{path}: invalid model (TypeError: {' '.join(long.split())[:200]})")
    monkeypatch.setattr(_persist, "_load", _raise(_Refused("would  not\nload")))
    target = tmp_path / "n.skops"
    with pytest.raises(ValueError) as excinfo:
        _persist.save_model(small_model, target)
    assert str(excinfo.value) == f"{target}: not saved, the model would not load: would not load"
    assert not target.exists()


def test_unpack_centred_centres_the_output_layer_only():
    """unpack_centred shifts only the output layer (two hidden layers here, so that
    the output is not the second layer): intercepts to sum zero, and with ``weights``
    each row of its weights; the hidden layers are unpack's."""
    layout = ParamLayout([3, 4, 5, 3], None, True)
    if not hasattr(layout, "unpack_centred"):
        pytest.skip("no unpack_centred in this version")
    theta = np.random.default_rng(6).standard_normal(layout.n_params)
    plain_coefs, plain_intercepts = layout.unpack(theta, np.float64)
    coefs, intercepts = layout.unpack_centred(theta, np.float64, True)
    for a, b in zip(coefs[:-1] + intercepts[:-1], plain_coefs[:-1] + plain_intercepts[:-1]):
        assert_allclose(a, b, rtol=0)
    assert_allclose(coefs[-1], plain_coefs[-1] - plain_coefs[-1].mean(axis=1, keepdims=True),
                    rtol=1e-15)
    assert_allclose(intercepts[-1], plain_intercepts[-1] - plain_intercepts[-1].mean(),
                    rtol=1e-15)
    coefs, _ = layout.unpack_centred(theta, np.float64, False)
    assert_allclose(coefs[-1], plain_coefs[-1], rtol=0)


def test_inference_messages_and_weights(iris, monkeypatch):
    """inference's refusals and its penalised-covariance warning, word for word (the
    warning pointing at the caller); class weights (dict, or balanced over weighted
    counts) count as in the fit; CSC X as dense; the model's feature count is kept."""
    import warnings

    import scipy.sparse as sp

    from sk_softmax import SoftmaxNNClassifier

    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        network = SoftmaxNNClassifier(hidden_layer_sizes=(3,), random_state=0,
                                      max_iter=50).fit(X, y)
        symmetric = SoftmaxNNClassifier(alpha=0.0, max_iter=50).fit(X, y)
    with pytest.raises(ValueError) as excinfo:
        network.inference(X, y)
    assert str(excinfo.value) == (
        "inference is implemented for softmax regression only (hidden_layer_sizes=()); "
        "this model has hidden layers (3,).")
    with pytest.raises(ValueError) as excinfo:
        symmetric.inference(X, y)
    assert str(excinfo.value) == (
        "The symmetric softmax (reference_class=None) is not identifiable with alpha=0: "
        "its parameters have no standard errors. Set reference_class to one of the labels "
        "(e.g. classes_[0]) and refit.")
    penalised = SoftmaxNNClassifier(alpha=1.0, tol=1e-10).fit(X, y)
    with pytest.warns(UserWarning) as record:
        result = penalised.inference(X, y)
    assert len(record) == 1 and (UNDER_MUTMUT or record[0].filename == __file__)
    assert str(record[0].message) == (
        "alpha=1.0 > 0: the covariance is that of the penalised estimate (inverse "
        "penalised Hessian), not of the maximum-likelihood estimate. Fit with alpha=0 "
        "for classical standard errors.")
    with pytest.warns(UserWarning):
        assert_allclose(penalised.inference(sp.csc_matrix(X), y).std_err_coef,
                        result.std_err_coef, rtol=1e-10)
    with pytest.raises(ValueError, match="expecting 4 features"):
        penalised.inference(X[:, :3], y)
    sw = np.random.default_rng(0).uniform(0.5, 2, len(y))
    for class_weight, per_class in [({0: 2.0, 1: 1.0, 2: 0.5}, np.array([2.0, 1.0, 0.5])),
                                    ("balanced", sw.sum() / (3 * np.bincount(y, sw)))]:
        model = SoftmaxNNClassifier(alpha=1.0, class_weight=class_weight, tol=1e-10)
        model.fit(X, y, sample_weight=sw)
        with pytest.warns(UserWarning):
            weighted = model.inference(X, y, sample_weight=sw)
            model.set_params(class_weight=None)
            plain = model.inference(X, y, sample_weight=sw * per_class[y])
        assert_allclose(weighted.std_err_coef, plain.std_err_coef, rtol=1e-12)
        assert weighted.llf == pytest.approx(plain.llf, rel=1e-12)


def test_inference_names_the_redundant_columns(iris):
    """A constant column with the intercept: refused, naming the DataFrame's columns."""
    import warnings

    pd = pytest.importorskip("pandas")
    from sk_softmax import SoftmaxNNClassifier

    X, y = iris
    df = pd.DataFrame(X[:, :2], columns=["a", "b"]).assign(c=1.0)
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(df, y)
    with pytest.raises(ValueError) as excinfo:
        model.inference(df, y)
    assert str(excinfo.value).startswith(
        "The model is not identified: the design (with the intercept) has rank 3 of 4 "
        "columns; ['c', 'intercept'] are linear combinations of each other")


def test_hidden_layer_units():
    """hidden_layer_sizes: an int or a sequence of ints >= 1 (1 included), as a tuple;
    anything else refused with that message."""
    from sk_softmax import _network

    if not hasattr(_network, "hidden_layer_units"):
        pytest.skip("no hidden_layer_units in this version")
    assert _network.hidden_layer_units(5) == (5,)
    assert _network.hidden_layer_units([1, 2]) == (1, 2)
    assert _network.hidden_layer_units(()) == ()
    for bad in [(3, 0), (True,), (2.5,)]:
        with pytest.raises(ValueError) as excinfo:
            _network.hidden_layer_units(bad)
        assert str(excinfo.value).startswith(
            "hidden_layer_sizes must contain only integers >= 1, got ")


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_array_api_softmax_is_row_stable(scale):
    """The array-API log_softmax / softmax subtract each row's own maximum: logits of
    +-1e4 (exp overflows) and rows of very different sizes give numpy's results."""
    xps = pytest.importorskip("array_api_strict")
    from scipy.special import log_softmax as scipy_log_softmax

    from sk_softmax import _loss

    raw = np.array([[1.0, -1.0, 0.5], [-3.0, -3.5, -2.0], [0.0, 2.0, 1.0]]) * scale
    raw[1] -= 50 * scale  # another row's maximum would underflow this one
    expected = scipy_log_softmax(raw, axis=1)
    with np.errstate(over="raise", invalid="raise"):
        log_p = np.asarray(_loss.log_softmax(xps.asarray(raw), xp=xps))
        p = np.asarray(_loss.softmax(xps.asarray(raw), xp=xps))
    assert_allclose(log_p, expected, rtol=1e-12, atol=1e-12)
    assert_allclose(p, np.exp(expected), rtol=1e-12, atol=1e-300)


def test_inference_refuses_array_api_models(monkeypatch):
    """A model fitted under array_api_dispatch: inference() refuses it with the whole
    message (the statistics are numpy-only), before any work."""
    xps = pytest.importorskip("array_api_strict")
    from sklearn import config_context
    from test_array_api import _dispatch_works

    if not _dispatch_works():
        pytest.skip("this scikit-learn / SciPy cannot dispatch to array-api-strict")
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")

    from sk_softmax import SoftmaxNNClassifier

    X, y = make_problem(n_samples=40, n_features=3, n_classes=3, seed=5)
    with config_context(array_api_dispatch=True):
        model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, max_iter=50).fit(
            xps.asarray(X), xps.asarray(y))
    with pytest.raises(ValueError) as excinfo:
        model.inference(X, y)
    assert str(excinfo.value) == (
        "inference() needs a model fitted on numpy arrays; this one was fitted on "
        "array-API arrays (array_api_dispatch=True).")


def _separated_line(scale):
    X = np.array([[-3.0], [-2.0], [-1.0], [1.0], [2.0], [3.0]]) * scale
    return X, np.array([0, 0, 0, 1, 1, 1])


def test_complete_separation_with_a_singular_information():
    """Complete separation where the fit stopped with every probability saturated (the
    margins here are 100 or more): the information matrix is exactly singular
    (p (1 - p) = 0 in float64), yet the answer is the SeparationWarning and NaN
    statistics, not a 'not positive definite' ValueError (the positive-definiteness
    check is for identified fits only)."""
    import warnings

    import sk_softmax._inference as inference_module
    from sk_softmax import SeparationWarning, SoftmaxNNClassifier

    X, y = _separated_line(100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SoftmaxNNClassifier(alpha=0.0, reference_class=0).fit(X, y)
    model.coefs_[0][:, 1], model.intercepts_[0][1] = 1.0, 0.0  # saturated
    layout = model._layout
    information = inference_module.SoftmaxHessian(
        layout.pack(model.coefs_, model.intercepts_), X, y, np.full(6, 1 / 6),
        layout).matrix()
    with pytest.raises(ValueError, match="not positive definite"):
        inference_module.check_positive_definite(information)
    with pytest.warns(SeparationWarning, match="separated"):
        result = model.inference(X, y)
    assert np.isnan(result.pseudo_r2)
    assert np.all(np.isnan(result.std_err_coef)) and np.all(np.isnan(result.p_coef))
    assert result.llf == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("case", ["random overlap", "every row above 1/e"])
def test_quasi_separation_keeps_the_pseudo_r2(case):
    """Quasi-complete separation (class 0 apart, classes 1 and 2 overlapping): class 0's
    statistics are NaN, but the fit is not perfect, so McFadden's pseudo R2 is reported
    (1 - llf / llnull): with some rows predicted below 1/e, and with every row's own
    probability 0.4 or more (the overlap is 3:2 at the same points)."""
    import warnings

    from sk_softmax import SeparationWarning, SoftmaxNNClassifier

    if case == "random overlap":
        rng = np.random.default_rng(8)
        X = np.r_[rng.normal(-6, 0.5, (20, 2)), rng.normal(0, 1, (60, 2))]
        y = np.r_[np.zeros(20, int), rng.integers(1, 3, 60)]
    else:
        g = np.linspace(-1, 1, 8)
        X = np.r_[np.c_[np.full(8, -5.0), g], np.repeat(np.c_[np.cos(3 * g), g], 5, axis=0)]
        y = np.r_[np.zeros(8, int), np.tile([1, 1, 1, 2, 2], 8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SoftmaxNNClassifier(alpha=0.0, reference_class=2, solver="trust-ncg",
                                    tol=1e-10, max_iter=500).fit(X, y)
    own = model.predict_log_proba(X)[np.arange(len(y)), y]
    assert own.min() < -1.5 if case == "random overlap" else -1 < own.min() < -0.9
    with pytest.warns(SeparationWarning):
        result = model.inference(X, y)
    assert list(result.separated) == [0]
    assert np.isfinite(result.pseudo_r2)
    assert result.pseudo_r2 == 1 - result.llf / result.llnull
    assert 0.3 < result.pseudo_r2 < 1


def test_inference_result_reports_pseudo_r2_by_default(wine_inference):
    """A result built without complete_separation reports its pseudo R2."""
    from sk_softmax import InferenceResult

    _, _, _, result = wine_inference
    bare = InferenceResult((result.coef, result.intercept),
                           (result.std_err_coef, result.std_err_intercept), result.cov,
                           "nonrobust", result.llf, result.llnull, result.n_obs, 28,
                           result.classes, result.feature_names)
    assert bare.pseudo_r2 == 1 - result.llf / result.llnull
    assert bare.has_intercept and bare.separated.size == 0


def test_marginal_effects_treat_binary_columns_as_continuous_by_default():
    """dummy=False is the default: a 0/1 column's effect is the derivative, as with
    dummy=False, and differs from the discrete change of dummy=True."""
    from sk_softmax import SoftmaxNNClassifier

    X, y = make_problem(n_samples=300, n_features=3, n_classes=3, seed=6)
    X[:, 2] = (X[:, 2] > 0).astype(float)
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, tol=1e-10,
                                max_iter=500).fit(X, y)
    result = model.inference(X, y)
    default = result.marginal_effects()
    continuous = result.marginal_effects(dummy=False)
    discrete = result.marginal_effects(dummy=True)
    assert_allclose(default.effects, continuous.effects, rtol=0, atol=0)
    assert not np.allclose(default.effects[:, 2], discrete.effects[:, 2], rtol=1e-6, atol=0)


def test_statistics_check_the_feature_names_of_the_fit():
    """A model fitted on a DataFrame: the statistics on new data refuse columns in
    another order (named fit), accept the same names; a model fitted on an array
    accepts any names."""
    pd = pytest.importorskip("pandas")
    from sk_softmax import SoftmaxNNClassifier

    X, y = make_problem(n_samples=200, n_features=3, n_classes=3, seed=7)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    named = SoftmaxNNClassifier(alpha=0.0, reference_class=0).fit(frame, y)
    result = named.inference(frame, y)
    proba, low, high = result.predict_proba_interval(frame.iloc[:4])
    assert_allclose(proba, named.predict_proba(frame.iloc[:4]), rtol=1e-12)
    with pytest.raises(ValueError, match="feature names of X differ"):
        result.predict_proba_interval(frame.iloc[:4, ::-1])
    plain = SoftmaxNNClassifier(alpha=0.0, reference_class=0).fit(X, y)
    result = plain.inference(X, y)
    proba, _, _ = result.predict_proba_interval(frame.iloc[:4, ::-1])
    assert_allclose(proba, plain.predict_proba(X[:4, ::-1]), rtol=1e-12)


def test_summary_without_intercepts():
    """A model without intercepts: the summary's and the frame's rows are the features
    only, one block per estimated class."""
    from sk_softmax import SoftmaxNNClassifier

    X, y = make_problem(n_samples=200, n_features=2, n_classes=3, seed=9)
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, fit_intercept=False).fit(X, y)
    result = model.inference(X, y)
    rows = list(result._rows())
    assert [(label, term) for label, term, *_ in rows] == [
        (label, name) for label in result.classes for name in ("x0", "x1")]
    assert "intercept" not in result.summary()
