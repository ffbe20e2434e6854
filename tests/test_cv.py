"""SoftmaxNNClassifierCV: the grid, equivalence with GridSearchCV and
LogisticRegressionCV, hidden layers, sample weights, sparse and float32 data,
Pipelines and scikit-learn's common checks."""

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from conftest import make_problem
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import get_scorer, log_loss, make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from sk_softmax import SoftmaxNNClassifier, SoftmaxNNClassifierCV
from sk_softmax._cv import ALPHA_DECADES

TIGHT = dict(tol=1e-8, max_iter=5000)


@pytest.fixture(scope="module")
def data():
    """A standardised 3-class problem, not separable."""
    X, y = make_problem(n_samples=240, n_features=6, n_classes=3, seed=3)
    return StandardScaler().fit_transform(X), y


def folds(X, y, n_splits=4):
    return list(StratifiedKFold(n_splits, shuffle=True, random_state=0).split(X, y))


def grid_scores(search, n_folds):
    """GridSearchCV's test scores as (n_folds, n_alphas)."""
    return np.array([search.cv_results_[f"split{i}_test_score"] for i in range(n_folds)])


# -- the grid --------------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_default_grid_is_what_the_docstring_says(data, weighted, fit_intercept):
    """alphas=n: n values log-spaced from max|X^T diag(s) (Y - Ybar)| down five decades."""
    X, y = data
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.5, 2.0, len(y)) if weighted else None
    cw = {0: 1.0, 1: 2.0, 2: 0.5} if weighted else None
    clf = SoftmaxNNClassifierCV(alphas=7, cv=3, class_weight=cw,
                                fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    s = (np.ones(len(y)) if sw is None else sw) * (
        np.ones(3) if cw is None else np.array([cw[k] for k in range(3)]))[y]
    Y = np.eye(3)[y]
    y_bar = (s @ Y) / s.sum() if fit_intercept else np.full(3, 1 / 3)
    top = np.abs(X.T @ (s[:, None] * (Y - y_bar))).max()
    assert ALPHA_DECADES == 5
    np.testing.assert_allclose(clf.alphas_, top * np.logspace(0, -5, 7), rtol=1e-12)
    assert clf.scores_.shape == clf.n_iter_.shape == (3, 7)


def test_alphas_list_sorted_decreasing_and_checked(data):
    X, y = data
    clf = SoftmaxNNClassifierCV(alphas=[0.1, 10.0, 1.0], cv=3).fit(X, y)
    np.testing.assert_array_equal(clf.alphas_, [10.0, 1.0, 0.1])
    assert clf.alpha_ == clf.alphas_[np.argmax(clf.scores_.mean(axis=0))]
    for bad in ([], [1.0, -1.0], [[1.0]], [np.inf]):
        with pytest.raises(ValueError, match="alphas must be"):
            SoftmaxNNClassifierCV(alphas=bad, cv=3).fit(X, y)


# -- equivalence with GridSearchCV and LogisticRegressionCV ----------------------------

def test_matches_grid_search(data):
    """Same scores (1e-6), the same alpha_ and the same refitted model as
    GridSearchCV's cold fits at a tight tol: warm starts change only the path."""
    X, y = data
    cv = folds(X, y)
    clf = SoftmaxNNClassifierCV(alphas=6, cv=cv, **TIGHT).fit(X, y)
    search = GridSearchCV(SoftmaxNNClassifier(**TIGHT), {"alpha": list(clf.alphas_)},
                          cv=cv, scoring="neg_log_loss").fit(X, y)
    np.testing.assert_allclose(clf.scores_, grid_scores(search, len(cv)), atol=1e-6)
    assert clf.alpha_ == search.best_params_["alpha"]
    np.testing.assert_allclose(clf.coef_, search.best_estimator_.coef_, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X), search.predict_proba(X), atol=1e-7)
    # score() is the accuracy by default (as every classifier's), the scoring's if given
    assert clf.score(X, y) == pytest.approx(np.mean(search.predict(X) == y), abs=1e-12)
    explicit = SoftmaxNNClassifierCV(alphas=clf.alphas_, cv=cv, scoring="neg_log_loss",
                                     **TIGHT).fit(X, y)
    assert explicit.alpha_ == clf.alpha_
    assert explicit.score(X, y) == pytest.approx(search.score(X, y), abs=1e-7)
    # warm starts save iterations along the path
    assert clf.n_iter_[:, 1:].sum() < sum(
        SoftmaxNNClassifier(alpha=a, **TIGHT).fit(X[tr], y[tr]).n_iter_
        for tr, _ in cv for a in clf.alphas_[1:])


@pytest.mark.parametrize("n_classes", [3, 2])
def test_same_choice_as_logistic_regression_cv(n_classes):
    """C = 1/alpha (multinomial; binary with reference_class = classes_[0]): the same
    choice and scores as LogisticRegressionCV on the same folds."""
    X, y = make_problem(n_samples=300, n_features=5, n_classes=n_classes, seed=1)
    cv = folds(X, y, 5)
    reference = {"reference_class": 0} if n_classes == 2 else {}
    clf = SoftmaxNNClassifierCV(alphas=8, cv=cv, **reference, **TIGHT).fit(X, y)
    # scikit-learn >= 1.8 deprecates the per-class attributes; older ones lack the option
    modern = "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters
    extra = dict(l1_ratios=(0.0,), use_legacy_attributes=False) if modern else {}
    lr = LogisticRegressionCV(Cs=1 / clf.alphas_, cv=cv, scoring="neg_log_loss",
                              tol=1e-10, max_iter=5000, **extra)
    lr.fit(X, y)
    C = np.ravel(lr.C_)[0]
    assert 1 / C == pytest.approx(clf.alpha_, rel=1e-12)
    # scores_: (n_folds, n_l1_ratios=1, n_Cs), or a dict of (n_folds, n_Cs) per class
    scores = lr.scores_ if modern else next(iter(lr.scores_.values()))
    np.testing.assert_allclose(clf.scores_, np.reshape(scores, (5, -1)), atol=1e-5)
    np.testing.assert_allclose(clf.coef_, lr.coef_, atol=1e-5)


# -- hidden layers ---------------------------------------------------------------------

def test_hidden_layers_path(data):
    """With hidden layers: deterministic given random_state, the same with n_jobs=2,
    finite scores, and the first (largest) alpha of each fold is a cold fit from the
    same Glorot initialisation, so it matches GridSearchCV's fit there."""
    X, y = data
    cv = folds(X, y, 3)
    params = dict(hidden_layer_sizes=(4,), random_state=0, alphas=[30.0, 3.0, 0.3],
                  cv=cv, tol=1e-8, max_iter=2000)
    clf = SoftmaxNNClassifierCV(**params).fit(X, y)
    again = SoftmaxNNClassifierCV(**params, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(clf.scores_, again.scores_)
    np.testing.assert_array_equal(clf.coefs_[0], again.coefs_[0])
    assert np.all(np.isfinite(clf.scores_))
    assert len(clf.coefs_) == 2 and clf.coefs_[0].shape == (6, 4)
    cold = GridSearchCV(SoftmaxNNClassifier(hidden_layer_sizes=(4,), random_state=0,
                                            tol=1e-8, max_iter=2000),
                        {"alpha": [30.0]}, cv=cv, scoring="neg_log_loss").fit(X, y)
    np.testing.assert_allclose(clf.scores_[:, 0], grid_scores(cold, 3)[:, 0], atol=1e-9)
    # refit: the same path on all the data, down to alpha_
    best = list(clf.alphas_).index(clf.alpha_)
    model = SoftmaxNNClassifier(hidden_layer_sizes=(4,), random_state=0, tol=1e-8,
                                max_iter=2000, warm_start=True)
    for alpha in clf.alphas_[: best + 1]:
        model.set_params(alpha=alpha).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), model.predict_proba(X))
    with pytest.raises(AttributeError, match="hidden_layer_sizes"):
        clf.coef_


def test_refit_false():
    """refit=False: softmax regression averages each fold's best model (as
    LogisticRegressionCV); with hidden layers there is no model to predict with."""
    X, y = make_problem(n_samples=120, n_features=4, seed=2)
    clf = SoftmaxNNClassifierCV(alphas=4, cv=3, refit=False, **TIGHT).fit(X, y)
    best = clf.alphas_[np.argmax(clf.scores_, axis=1)]
    assert clf.alpha_ == pytest.approx(best.mean())
    assert clf.predict(X).shape == (120,)
    mlp = SoftmaxNNClassifierCV(alphas=2, cv=3, refit=False, hidden_layer_sizes=(3,),
                                random_state=0).fit(X, y)
    assert mlp.scores_.shape == (3, 2)
    with pytest.raises(NotFittedError):
        mlp.predict(X)


# -- sample weights, sparse X, float32, Pipelines --------------------------------------

def test_sample_weight_matches_grid_search_with_routing(data):
    """Weights go to every fit and to the scorer: the same as GridSearchCV with
    metadata routing, and as a manual loop; unit weights change nothing."""
    X, y = data
    cv = folds(X, y, 3)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    alphas = [20.0, 2.0, 0.2, 0.02]
    clf = SoftmaxNNClassifierCV(alphas=alphas, cv=cv, **TIGHT).fit(X, y, sample_weight=sw)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("neg_log_loss").set_score_request(sample_weight=True)
        inner = SoftmaxNNClassifier(**TIGHT).set_fit_request(sample_weight=True)
        search = GridSearchCV(inner, {"alpha": alphas}, cv=cv, scoring=scorer)
        search.fit(X, y, sample_weight=sw)
        routed = SoftmaxNNClassifierCV(alphas=alphas, cv=cv, scoring=scorer, **TIGHT)
        routed.set_fit_request(sample_weight=True).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(clf.scores_, grid_scores(search, 3), atol=1e-6)
    np.testing.assert_allclose(routed.scores_, clf.scores_, atol=1e-9)
    assert clf.alpha_ == search.best_params_["alpha"] == routed.alpha_
    train, test = cv[1]
    manual = SoftmaxNNClassifier(alpha=alphas[2], **TIGHT).fit(X[train], y[train], sw[train])
    expected = -log_loss(y[test], manual.predict_proba(X[test]), sample_weight=sw[test])
    assert clf.scores_[1, 2] == pytest.approx(expected, abs=1e-6)
    unit = SoftmaxNNClassifierCV(alphas=alphas, cv=cv, **TIGHT)
    np.testing.assert_allclose(unit.fit(X, y, sample_weight=np.ones(len(y))).scores_,
                               unit.fit(X, y).scores_, atol=1e-9)


def test_sparse_and_float32(data):
    """Sparse X gives the dense results; float32 stays float32, close to float64."""
    X, y = data
    cv = folds(X, y, 3)
    dense = SoftmaxNNClassifierCV(alphas=4, cv=cv, **TIGHT).fit(X, y)
    for sparse in (sp.csr_matrix(X), sp.csc_matrix(X)):
        model = SoftmaxNNClassifierCV(alphas=4, cv=cv, **TIGHT).fit(sparse, y)
        np.testing.assert_allclose(model.scores_, dense.scores_, atol=1e-8)
        np.testing.assert_allclose(model.alphas_, dense.alphas_, rtol=1e-12)
    with warnings.catch_warnings():  # float32 cannot reach tol=1e-10
        warnings.simplefilter("ignore", ConvergenceWarning)
        single = SoftmaxNNClassifierCV(alphas=4, cv=cv, tol=1e-5).fit(
            X.astype(np.float32), y)
    assert single.coefs_[0].dtype == np.float32
    assert single.predict_proba(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(single.scores_, dense.scores_, atol=1e-4)
    assert single.alpha_ == pytest.approx(dense.alpha_, rel=1e-6)  # X rounded to float32


def test_pipeline_strings_and_missing_test_class():
    """In a Pipeline and inside cross_val_score; string labels; a test fold without
    one class is scored with all the classes (log loss needs them)."""
    X, y = make_problem(n_samples=90, n_features=4, seed=5)
    labels = np.array(["a", "b", "c"])[y]
    pipe = make_pipeline(StandardScaler(), SoftmaxNNClassifierCV(alphas=3, cv=3))
    # cross_val_score gives the accuracy, as for any classifier (and LogisticRegressionCV)
    scores = cross_val_score(pipe, X * 10 + 3, labels, cv=3)
    np.testing.assert_allclose(scores, cross_val_score(pipe, X * 10 + 3, labels, cv=3,
                                                       scoring="accuracy"), atol=0)
    assert np.all((scores >= 0) & (scores <= 1))
    pipe.fit(X, labels)
    assert set(pipe.predict(X)) <= {"a", "b", "c"}
    order = np.argsort(labels, kind="stable")
    X, labels = X[order], labels[order]
    n_c = (labels == "c").sum()
    train = np.arange(len(labels) - n_c // 2)
    test_a = np.arange(10)  # only "a"
    cv = [(np.arange(10, len(labels)), test_a), (train, np.arange(len(train), len(labels)))]
    clf = SoftmaxNNClassifierCV(alphas=3, cv=cv).fit(X, labels)
    assert np.all(np.isfinite(clf.scores_))
    assert list(clf.classes_) == ["a", "b", "c"]


def test_scoring_and_inference(data):
    """Any scorer; score() uses it; inference at alpha_ is that of the plain model."""
    X, y = data
    clf = SoftmaxNNClassifierCV(alphas=3, cv=3, scoring="accuracy").fit(X, y)
    assert np.all((clf.scores_ >= 0) & (clf.scores_ <= 1))
    assert clf.score(X, y) == pytest.approx(np.mean(clf.predict(X) == y))
    # the default neg_log_loss is computed without scikit-learn's checks: the same value
    custom = make_scorer(log_loss, greater_is_better=False, response_method="predict_proba")
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    # (float32: scikit-learn < 1.8 clips float32 probabilities at float32's eps)
    for X_, sw_, rtol in ((X, None, 1e-12), (X, sw, 1e-12), (X.astype(np.float32), sw, 1e-7)):
        np.testing.assert_allclose(
            SoftmaxNNClassifierCV(alphas=3, cv=3, scoring=custom).fit(X_, y, sw_).scores_,
            SoftmaxNNClassifierCV(alphas=3, cv=3).fit(X_, y, sw_).scores_, rtol=rtol)
    plain = SoftmaxNNClassifier(alpha=clf.alpha_).fit(X, y)
    with pytest.warns(UserWarning, match="penalised estimate"):
        ours = clf.inference(X, y)
    with pytest.warns(UserWarning, match="penalised estimate"):
        theirs = plain.inference(X, y)
    np.testing.assert_allclose(ours.std_err_coef, theirs.std_err_coef, rtol=1e-4)


# -- scikit-learn's checks -------------------------------------------------------------

@parametrize_with_checks([SoftmaxNNClassifierCV(alphas=3, cv=3)])
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():  # the checks' tiny data sets rarely converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_parameters_are_the_classifiers_but_alpha_and_warm_start():
    """Every SoftmaxNNClassifier parameter but alpha (chosen) and warm_start (implied),
    so that a parameter added to the classifier is not silently dropped here."""
    ours = set(SoftmaxNNClassifierCV().get_params())
    theirs = set(SoftmaxNNClassifier().get_params()) - {"alpha", "warm_start"}
    assert ours == theirs | {"alphas", "cv", "scoring", "refit", "n_jobs"}
    assert not SoftmaxNNClassifierCV().__sklearn_tags__().array_api_support


def test_param_validation():
    check_param_validation("SoftmaxNNClassifierCV", SoftmaxNNClassifierCV(alphas=2, cv=2))
