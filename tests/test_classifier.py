"""SoftmaxNNClassifier behaviour: attributes, dtypes, sparse input, weights, warm start."""

import pickle
import re

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import make_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sk_softmax import SoftmaxNNClassifier

TIGHT = dict(tol=1e-8, max_iter=10_000)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("reference_class", [None, 1])
def test_linear_attributes_and_shapes(n_classes, reference_class):
    """Fitted attributes have the documented shapes and LogisticRegression's layout."""
    X, y = make_problem(n_samples=60, n_features=3, n_classes=n_classes)
    clf = SoftmaxNNClassifier(reference_class=reference_class).fit(X, y)
    assert_array_equal(clf.classes_, np.arange(n_classes))
    assert clf.n_features_in_ == 3
    assert [c.shape for c in clf.coefs_] == [(3, n_classes)]
    assert [b.shape for b in clf.intercepts_] == [(n_classes,)]
    n_rows = 1 if n_classes == 2 else n_classes
    assert clf.coef_.shape == (n_rows, 3) and clf.intercept_.shape == (n_rows,)
    if n_classes == 2:
        W, b = clf.coefs_[0], clf.intercepts_[0]
        assert_allclose(clf.coef_[0], W[:, 1] - W[:, 0])
        assert_allclose(clf.intercept_, b[1] - b[0])
        assert clf.decision_function(X).shape == (60,)
    else:
        assert clf.decision_function(X).shape == (60, n_classes)
    if reference_class is not None:
        assert np.all(clf.coefs_[0][:, 1] == 0) and clf.intercepts_[0][1] == 0
    assert_allclose(clf.decision_function(X), X @ clf.coef_.T.squeeze() + clf.intercept_.squeeze())
    assert isinstance(clf.loss_, float) and len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_curve_[-1] == pytest.approx(clf.loss_)
    assert clf.converged_ and 0 < clf.n_iter_ < 1000
    assert not hasattr(SoftmaxNNClassifier(), "coef_")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_hidden_layer_attributes_and_decision_function(n_classes):
    """With hidden layers: MLP layout, no coef_, decision_function as documented."""
    X, y = make_problem(n_samples=60, n_features=4, n_classes=n_classes)
    clf = SoftmaxNNClassifier(hidden_layer_sizes=(5, 3), random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 5), (5, 3), (3, n_classes)]
    assert [b.shape for b in clf.intercepts_] == [(5,), (3,), (n_classes,)]
    with pytest.raises(AttributeError, match="hidden_layer_sizes=()"):
        clf.coef_
    assert not hasattr(clf, "intercept_")
    logits = np.log(clf.predict_proba(X))
    decision = clf.decision_function(X)
    if n_classes == 2:
        assert_allclose(decision, logits[:, 1] - logits[:, 0], rtol=1e-6, atol=1e-8)
    else:
        assert decision.shape == (60, n_classes)
        assert_allclose(decision - decision.mean(1, keepdims=True),
                        logits - logits.mean(1, keepdims=True), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("hidden", [(), (4,)])
def test_probabilities_sum_to_one_and_log_proba_is_consistent(hidden):
    """predict_proba rows sum to one; predict_log_proba = log P; predict = argmax P."""
    X, y = make_problem(n_samples=50)
    clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10, atol=1e-14)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_log_proba_finite_where_proba_underflows():
    """predict_log_proba stays finite (log-softmax) where predict_proba underflows to 0."""
    X = np.array([[-1.0], [1.0]] * 5)
    y = np.array([0, 1] * 5)
    clf = SoftmaxNNClassifier(alpha=1e-4).fit(X, y)
    far = np.array([[1e4]])
    assert clf.predict_proba(far)[0, 0] == 0
    log_proba = clf.predict_log_proba(far)
    assert np.all(np.isfinite(log_proba)) and log_proba[0, 0] < -745


def test_labels_of_any_kind():
    """String labels and non-contiguous integer labels give the same model."""
    X, y = make_problem(n_samples=60)
    codes = SoftmaxNNClassifier().fit(X, y)
    for labels in (np.array(["cat", "dog", "emu"]), np.array([-7, 3, 100])):
        clf = SoftmaxNNClassifier(reference_class=labels[1]).fit(X, labels[y])
        ref = SoftmaxNNClassifier(reference_class=1).fit(X, y)
        assert_array_equal(clf.classes_, labels)
        assert_array_equal(clf.predict(X), labels[ref.predict(X)])
        assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
    assert_array_equal(codes.predict(X), ref.predict(X))


@pytest.mark.parametrize("hidden", [(), (4,)])
@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
def test_float32_stays_float32(hidden, sparse_format):
    """float32 X gives float32 coefs_, intercepts_ and probabilities, dense and sparse."""
    X, y = make_problem(n_samples=60)
    X32 = X.astype(np.float32)
    clf64 = SoftmaxNNClassifier(hidden_layer_sizes=hidden, random_state=0).fit(X, y)
    assert clf64.coefs_[0].dtype == np.float64
    for data in (X32, sp.csr_matrix(X32).asformat(sparse_format)):
        clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, random_state=0).fit(data, y)
        assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
        assert clf.predict_proba(data).dtype == np.float32
        assert clf.predict_log_proba(data).dtype == np.float32
        if hidden == ():  # convex: each float32 fit, dense and sparse, reaches the
            # float64 optimum to float32 accuracy
            assert_allclose(clf.predict_proba(X32), clf64.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("hidden", [(), (4,)])
@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
def test_sparse_fit_equals_dense_fit(hidden, sparse_format):
    """A sparse X (CSR or CSC, never densified) gives the dense model."""
    X, y = make_problem(n_samples=60)
    X[np.abs(X) < 0.7] = 0
    # alpha=1 makes the hidden-layer objective well conditioned, so that rounding
    # differences between sparse and dense products do not change the optimum.
    params = dict(hidden_layer_sizes=hidden, random_state=0, alpha=1.0, **TIGHT)
    dense = SoftmaxNNClassifier(**params).fit(X, y)
    sparse = SoftmaxNNClassifier(**params).fit(sp.csr_matrix(X).asformat(sparse_format), y)
    assert_allclose(sparse.predict_proba(X), dense.predict_proba(X), rtol=1e-6, atol=1e-9)
    assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X),
                    rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("hidden", [(), (3,)])
def test_integer_sample_weights_equal_repeated_rows(hidden):
    """Integer sample weights give the model fitted on rows repeated that many times."""
    X, y = make_problem(n_samples=40)
    counts = np.random.default_rng(0).integers(0, 4, len(y))
    counts[:3] = 1  # keep every class
    params = dict(hidden_layer_sizes=hidden, random_state=0, alpha=0.1, **TIGHT)
    weighted = SoftmaxNNClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = SoftmaxNNClassifier(**params).fit(np.repeat(X, counts, 0), np.repeat(y, counts))
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-8)
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_balanced_class_weight_equals_matching_sample_weight():
    """class_weight="balanced" equals sample weights n / (K * n_k), also with weights."""
    X, y = make_problem(n_samples=60)
    y[y == 2] = 1
    y[:4] = 2  # an imbalanced class
    sw = np.random.default_rng(1).uniform(0.5, 2, len(y))
    counts = np.bincount(y, weights=sw)
    balanced = (sw.sum() / (3 * counts))[y] * sw
    a = SoftmaxNNClassifier(class_weight="balanced", **TIGHT).fit(X, y, sample_weight=sw)
    b = SoftmaxNNClassifier(**TIGHT).fit(X, y, sample_weight=balanced)
    assert_allclose(a.coef_, b.coef_, rtol=1e-7)
    c = SoftmaxNNClassifier(class_weight={0: 2.0, 1: 1.0, 2: 0.5}, **TIGHT).fit(X, y)
    d = SoftmaxNNClassifier(**TIGHT).fit(X, y, sample_weight=np.array([2.0, 1.0, 0.5])[y])
    assert_allclose(c.coef_, d.coef_, rtol=1e-7)


@pytest.mark.parametrize("hidden", [(), (4,)])
def test_warm_start_resumes(hidden):
    """A warm second fit starts from the first solution: a converged model stays put."""
    X, y = make_problem(n_samples=60)
    clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, warm_start=True, random_state=0,
                              max_iter=5)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    first_loss = clf.loss_
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.loss_curve_[0] < first_loss  # continued, not restarted
    clf.set_params(max_iter=10_000, tol=1e-8).fit(X, y)
    loss, coefs = clf.loss_, [c.copy() for c in clf.coefs_]
    clf.fit(X, y)
    assert clf.n_iter_ <= 2 and clf.loss_ == pytest.approx(loss, rel=1e-10)
    assert_allclose(clf.coefs_[-1], coefs[-1], rtol=1e-5, atol=1e-8)
    cold = SoftmaxNNClassifier(hidden_layer_sizes=hidden, random_state=0, max_iter=5)
    with pytest.warns(ConvergenceWarning):
        cold.fit(X, y)
    assert cold.loss_ == pytest.approx(first_loss)


def test_warm_start_ignored_when_architecture_changes():
    """Other layers: warm_start falls back to a fresh initialisation; other classes
    are refused (as MLPClassifier does), naming both class sets."""
    X, y = make_problem(n_samples=60)
    clf = SoftmaxNNClassifier(warm_start=True).fit(X, y)
    clf.set_params(hidden_layer_sizes=(3,), random_state=0).fit(X, y)
    fresh = SoftmaxNNClassifier(hidden_layer_sizes=(3,), random_state=0).fit(X, y)
    assert_allclose(clf.coefs_[0], fresh.coefs_[0])
    coefs = [c.copy() for c in clf.coefs_]
    with pytest.raises(ValueError, match=r"previous fit, \[0, 1, 2\]; this fit has \[0, 1\]"):
        clf.fit(X, np.where(y == 2, 1, y))
    assert_array_equal(clf.classes_, [0, 1, 2])
    assert all(np.array_equal(a, b) for a, b in zip(clf.coefs_, coefs))


def test_symmetric_centring():
    """Symmetric mode: output intercepts sum to zero, and with alpha=0 the weights too."""
    X, y = make_problem(n_samples=80)
    for alpha in (0.0, 1.0):
        clf = SoftmaxNNClassifier(alpha=alpha, hidden_layer_sizes=(3,), random_state=0)
        clf.fit(X, y)
        assert abs(clf.intercepts_[-1].sum()) < 1e-12
        if alpha == 0:
            assert_allclose(clf.coefs_[-1].sum(axis=1), 0, atol=1e-12)


def test_convergence_warning_points_at_user_code():
    """Not converged: ConvergenceWarning with the reason, pointing at the fit call."""
    X, y = make_problem(n_samples=60)
    with pytest.warns(ConvergenceWarning, match="Increase max_iter") as record:
        clf = SoftmaxNNClassifier(max_iter=2).fit(X, y)
    assert record[0].filename == __file__
    assert not clf.converged_ and clf.n_iter_ == 2
    with pytest.warns(ConvergenceWarning, match="Increase max_fun"):
        SoftmaxNNClassifier(max_fun=3).fit(X, y)


def test_failed_step_warning(monkeypatch):
    """A step that cannot decrease J (here: J raised by 1 everywhere but at the start,
    as rounding noise beyond tol would) stops the solver early with its own
    ConvergenceWarning, pointing at the fit call; loss_ is J at the returned
    parameters. (SciPy >= 1.15's L-BFGS-B reports such a stop as converged on the
    relative reduction of J; its line-search text is checked on check_result.)"""
    import sk_softmax._classifier as classifier_module
    from sk_softmax._objective import PenalisedObjective

    class NoDecrease(PenalisedObjective):
        def __call__(self, theta):
            loss, gradient = super().__call__(theta)
            return loss + float(np.any(theta != 0)), gradient

    monkeypatch.setattr(classifier_module, "PenalisedObjective", NoDecrease)
    X, y = make_problem(n_samples=60)
    with pytest.warns(ConvergenceWarning) as record:
        clf = SoftmaxNNClassifier(solver="trust-ncg").fit(X, y)
    assert len(record) == 1 and record[0].filename == __file__
    message = str(record[0].message)
    assert re.match(r"trust-ncg failed to converge after \d+ iteration\(s\) with "
                    r"\|\|grad\|\| = [0-9.e+-]+ > tol = 0\.0001 \(status=2, "
                    r"SciPy: 'A bad approximation caused failure to predict improvement'\)"
                    r"\. The trust-region step failed to decrease J", message)
    assert message.endswith("or of a nearly singular problem: loosen tol or increase alpha.")
    assert not clf.converged_ and 0 < clf.n_iter_ < clf.max_iter


def test_failed_line_search_message():
    """L-BFGS-B stopped by its line search (status 2, neither limit reached): the
    warning names the line search and the remedies, with SciPy's reason."""
    from scipy.optimize import OptimizeResult

    from sk_softmax._solver import check_result

    result = OptimizeResult(status=2, nit=7, nfev=20, jac=np.array([1e-3, -2e-3]),
                            message="ABNORMAL_TERMINATION_IN_LNSRCH")
    n_iter, converged, message = check_result(result, solver="lbfgs", max_iter=100,
                                              max_fun=15_000, tol=1e-4)
    assert (n_iter, converged) == (7, False)
    assert message == (
        "lbfgs failed to converge after 7 iteration(s) with max|grad| = 0.002 > tol = "
        "0.0001 (status=2, SciPy: 'ABNORMAL_TERMINATION_IN_LNSRCH'). The line search "
        "failed to decrease J, usually a sign of a tol below what rounding allows, or of "
        "a nearly singular problem: loosen tol or increase alpha.")
    assert check_result(OptimizeResult(status=0, nit=3, nfev=4, message="CONVERGENCE",
                                       jac=np.array([1e-5, 0.0])),
                        solver="lbfgs", max_iter=100, max_fun=100, tol=1e-5) == (3, True, None)


def test_converged_only_when_tol_is_met():
    """SciPy's success on the relative reduction of J is not convergence: with the
    gradient above tol, converged_ is False and the warning names the gradient reached;
    trust-ncg's tol bounds the Euclidean norm (here 5e-5 > 4e-5 though every entry is
    below it)."""
    from scipy.optimize import OptimizeResult

    from sk_softmax._solver import check_result

    stalled = OptimizeResult(status=0, nit=40, nfev=44, jac=np.array([4.48e-10, 1e-12]),
                             message="CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH")
    n_iter, converged, message = check_result(stalled, solver="lbfgs", max_iter=100,
                                              max_fun=100, tol=1e-10)
    assert (n_iter, converged) == (40, False)
    assert message.startswith(
        "lbfgs stopped after 40 iteration(s) with max|grad| = 4.48e-10 > tol = 1e-10: J "
        "stopped decreasing beyond rounding")
    assert "loosen tol to 4e-10 or more" in message and "relu" not in message
    kinked = check_result(stalled, solver="lbfgs", max_iter=100, max_fun=100, tol=1e-10,
                          kinks=True)[2]
    assert "or J is not smooth where it stopped (a kink of the relu activation)." in kinked
    newton = OptimizeResult(status=0, nit=3, nfev=4, jac=np.array([3e-5, 4e-5]),
                            message="Optimization terminated successfully.")
    assert check_result(newton, solver="trust-ncg", max_iter=9, max_fun=9, tol=4e-5)[1] is False
    assert check_result(newton, solver="trust-ncg", max_iter=9, max_fun=9, tol=5.1e-5)[1] is True
    assert check_result(newton, solver="lbfgs", max_iter=9, max_fun=9, tol=4e-5)[1] is True
    nan = OptimizeResult(status=0, nit=3, nfev=4, jac=np.array([np.nan]), message="")
    assert check_result(nan, solver="lbfgs", max_iter=9, max_fun=9, tol=1.0)[1] is False


def test_verbose_prints_one_line_per_iteration(capsys):
    """verbose=1 prints iteration, J and gradient norm once per iteration."""
    X, y = make_problem(n_samples=60)
    clf = SoftmaxNNClassifier(verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == clf.n_iter_
    assert re.fullmatch(r"Iteration 1: J = \S+, max\|grad\| = \S+", lines[0])
    assert float(lines[-1].split("J = ")[1].split(",")[0]) == pytest.approx(clf.loss_)


@pytest.mark.parametrize("hidden", [(), (4,)])
def test_pickle_round_trip(hidden):
    """A pickled and restored model predicts identically."""
    X, y = make_problem(n_samples=60)
    clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_feature_names_in():
    """A DataFrame's column names are kept in feature_names_in_ and checked at predict."""
    pd = pytest.importorskip("pandas")
    X, y = make_problem(n_samples=60, n_features=3)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = SoftmaxNNClassifier().fit(df, y)
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c"])
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df[["c", "b", "a"]])


PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def _record_forward(monkeypatch):
    """Wrap the prediction module's forward: return the list of the X it is given."""
    import sk_softmax._predict as predict_module

    seen, forward = [], predict_module.forward

    def recording(X, *args):
        seen.append(X)
        return forward(X, *args)

    monkeypatch.setattr(predict_module, "forward", recording)
    return seen


@pytest.mark.parametrize("n_classes", [2, 3])
def test_prediction_in_blocks_equals_one_block(monkeypatch, n_classes):
    """Dense X predicted block by block (one row a block) gives the one-block results."""
    import sk_softmax._predict as predict_module

    X, y = make_problem(n_samples=60, n_classes=n_classes)
    clf = SoftmaxNNClassifier(hidden_layer_sizes=(3,), random_state=0).fit(X, y)
    seen = _record_forward(monkeypatch)
    whole = {m: getattr(clf, m)(X) for m in PREDICT_METHODS}
    assert [len(block) for block in seen] == [60] * len(PREDICT_METHODS)
    monkeypatch.setattr(predict_module, "PREDICT_BLOCK_VALUES", 1)
    seen.clear()
    assert_array_equal(clf.predict(X), whole["predict"])
    assert len(seen) == 60 and all(len(block) == 1 for block in seen)
    for method in PREDICT_METHODS[1:]:  # one-row products may round differently: 1e-12
        assert_allclose(getattr(clf, method)(X), whole[method], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("hidden", [(), (3,)])
@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_prediction_is_never_densified(monkeypatch, hidden, sparse_format, dtype):
    """A sparse X reaches the forward pass as the same sparse matrix (never densified,
    one block), and predicts as its dense copy does."""
    X, y = make_problem(n_samples=60)
    X[np.abs(X) < 0.7] = 0
    X = X.astype(dtype)
    clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, random_state=0).fit(X, y)
    data = sp.csr_matrix(X).asformat(sparse_format)
    dense = {m: getattr(clf, m)(X) for m in PREDICT_METHODS}
    seen = _record_forward(monkeypatch)
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    for method in PREDICT_METHODS:
        result = getattr(clf, method)(data)
        assert len(seen) == 1 and seen.pop() is data
        assert result.dtype == dense[method].dtype
        assert_allclose(result, dense[method], rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the network
@pytest.mark.parametrize("n_rows, sparse, hidden, dtype, memory", [
    (2**14, False, (), np.float64, 50),      # a dense linear model from 2**14 rows
    (2**14 - 1, False, (), np.float64, 10),  # below: LogisticRegression's 10
    (2**14, True, (), np.float64, 10),       # sparse: non-zeros per feature (~2**13)
    (2**14, False, (3,), np.float64, 10),    # networks keep MLPClassifier's 10
    (2**14, False, (), np.float32, 10),      # float32 passes keep 10
])
def test_lbfgs_memory_follows_the_values_per_feature(monkeypatch, n_rows, sparse, hidden,
                                                     dtype, memory):
    """L-BFGS-B is given maxcor 50 only where an evaluation is long compared with the
    solver's own work (docs: _solver.lbfgs_memory), and the fit reaches the same
    optimum with either memory."""
    import sk_softmax._solver as solver

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, 2)).astype(dtype)
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    y = (X @ np.array([1.0, -1.0]) + rng.logistic(size=n_rows) > 0).astype(int)
    seen = []
    real = solver.minimize

    def spy(*args, options, **kwargs):
        seen.append(options["maxcor"])
        return real(*args, options=options, **kwargs)

    monkeypatch.setattr(solver, "minimize", spy)
    params = dict(hidden_layer_sizes=hidden, alpha=1e-2, tol=1e-10, max_iter=2000,
                  random_state=0)
    clf = SoftmaxNNClassifier(**params).fit(X, y)
    assert seen == [memory]
    if not hidden and dtype == np.float64:  # the other memory: 50 below, 3 above
        monkeypatch.setattr(solver, "LONG_MEMORY_VALUES_PER_FEATURE",
                            2**40 if memory == 50 else 1)
        monkeypatch.setattr(solver, "LBFGS_MEMORY", 3)
        other = SoftmaxNNClassifier(**params).fit(X, y)
        assert seen[-1] == (3 if memory == 50 else 50)
        assert_allclose(other.coef_, clf.coef_, rtol=1e-6, atol=1e-8)
        assert other.loss_ == pytest.approx(clf.loss_, rel=1e-12)
