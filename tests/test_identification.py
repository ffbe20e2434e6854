"""Identification on raw columns (sk_softmax/_identification.py): the rank check on the
centred, scaled design, the condition-number note, the existence certificate that
spares the separation LP, and the warning for a fit stopped short of the optimum."""

import warnings

import numpy as np
import pytest
from conftest import make_problem, raw_columns
from numpy.testing import assert_allclose
from sklearn.datasets import load_breast_cancer, load_iris, load_wine

import sk_softmax._inference as inference_module
from sk_softmax import SoftmaxNNClassifier
from sk_softmax._identification import StandardisedDesign, certify_estimate_exists

EXACT = dict(alpha=0.0, reference_class=0, solver="trust-ncg", tol=1e-10)

sm = pytest.importorskip("statsmodels.api")


def _fit(X, y, **params):
    return SoftmaxNNClassifier(**{**EXACT, **params}).fit(X, y)


def _offset_problem(n_samples=2000, n_features=20, seed=3):
    """Independent columns with offsets far above their spread (years, 1e6 + N(0, 1))."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    y = np.argmax(Z @ rng.standard_normal((n_features, 3)) * 0.5
                  + rng.gumbel(size=(n_samples, 3)), axis=1)
    offsets = rng.uniform(1e3, 1e4, n_features)
    offsets[0] = 1e6
    return Z, Z + offsets, y


def test_offset_columns_are_identified_with_the_same_slopes():
    """Columns with large offsets (once reported as 'rank 17 of 21') and a column
    1e6 + N(0, 1) (once refused): identified; slopes and their standard errors are those
    of the centred columns (an offset moves only the intercept), and statsmodels on the
    centred design agrees."""
    Z, X, y = _offset_problem()
    centred, raw = _fit(Z, y), _fit(X, y)
    a, b = centred.inference(Z, y), raw.inference(X, y)
    assert_allclose(b.coef, a.coef, rtol=1e-8)
    assert_allclose(b.std_err_coef[1:], a.std_err_coef[1:], rtol=1e-8)
    theirs = sm.MNLogit(y, sm.add_constant(Z)).fit(method="newton", tol=1e-12, disp=False)
    assert_allclose(b.std_err_coef[1:], np.asarray(theirs.bse)[1:].T, rtol=1e-6)
    assert b.condition_number < 2


def test_nearly_collinear_columns_get_standard_errors_and_a_note():
    """x2 = x1 + 1e-3 noise: identified, finite standard errors (statsmodels') and
    the condition number of the standardised design in the summary."""
    X, y = make_problem(n_samples=500, n_features=3, seed=5)
    X = np.c_[X, X[:, 0] + 1e-3 * np.random.default_rng(1).standard_normal(len(y))]
    result = _fit(X, y).inference(X, y)
    theirs = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", tol=1e-10, maxiter=100,
                                                    disp=False)
    assert_allclose(result.std_err_coef[1:], np.asarray(theirs.bse)[1:].T, rtol=1e-5)
    assert 1e3 < result.condition_number < 1e4
    assert "Condition number of the standardised design: " in result.summary()
    plain = _fit(X[:, :3], y).inference(X[:, :3], y)
    assert "Condition number" not in plain.summary()


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_extreme_column_scale_is_not_a_zero_column(scale):
    """A column scaled by 1e-300 (once 'an all-zero column') or 1e300: identified, with
    the standard errors of the unscaled column divided by the scale."""
    X, y = make_problem(n_samples=300, n_features=3, seed=6)
    base = _fit(X, y).inference(X, y)
    X_scaled = X * [1.0, scale, 1.0]
    result = _fit(X_scaled, y).inference(X_scaled, y)
    assert_allclose(result.std_err_coef[1:, 1] * scale, base.std_err_coef[1:, 1], rtol=1e-6)


def test_constant_and_duplicated_columns_still_refused():
    X, y = raw_columns(300)
    for bad, named in [(np.c_[X, np.full(len(y), 2024.0)], "['x6', 'intercept']"),
                       (np.c_[X, X[:, 1] * 12], "['x1', 'x6']")]:
        model = _fit(bad, y, tol=1e-6)
        with pytest.raises(ValueError, match="not identified") as excinfo:
            model.inference(bad, y)
        assert named in str(excinfo.value)


def _certified(model, X, y):
    y_true = np.searchsorted(model.classes_, y)
    layout = model._layout
    design = StandardisedDesign(X, np.ones(len(y)), True)
    z = design.matrix()
    from sk_softmax._hessian import SoftmaxHessian
    from sk_softmax._inference import transform_matrix

    theta = layout.pack(model.coefs_, model.intercepts_)
    hessian = SoftmaxHessian(theta, X, y_true, np.full(len(y), 1 / len(y)), layout, design=z)
    return certify_estimate_exists(len(y) * hessian.matrix(), len(y) * hessian.gradient(),
                                   z, layout)[0], transform_matrix


def test_certificate_spares_the_linear_programme(monkeypatch):
    """Where the estimate exists, the certificate holds and the LP never runs (it took
    19.5 s of 21 on 100k x 20 rows); the statistics are unchanged."""
    X, y = raw_columns(2000)
    model = _fit(X, y)
    expected = model.inference(X, y)

    def refuse(*args, **kwargs):
        raise AssertionError("the separation LP ran")

    monkeypatch.setattr(inference_module, "separation", refuse)
    result = model.inference(X, y)
    assert_allclose(result.std_err_coef, expected.std_err_coef, rtol=1e-12)
    assert _certified(model, X, y)[0]


@pytest.mark.parametrize("loader", [load_iris, load_wine, load_breast_cancer])
@pytest.mark.parametrize("tol", [1e-4, 1e-10])
def test_certificate_never_holds_under_separation(loader, tol):
    """Separated data sets: whatever point the fit stopped at, no certificate (the
    bound it rests on forbids it), and the LP finds the separation."""
    X, y = loader(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, tol=tol,
                                    max_iter=300).fit(X, y)
        assert not _certified(model, X, y)[0]
        with pytest.warns(inference_module.SeparationWarning):
            model.inference(X, y)


def test_certificate_agrees_with_the_linear_programme():
    """On problems from overlapping to separated: wherever the certificate holds, the
    LP finds no separation; on the well-overlapping ones it holds."""
    from sk_softmax._identification import separated_classes

    held = 0
    for seed in range(24):
        rng = np.random.default_rng(seed)
        n_samples = int(rng.integers(20, 200))
        X = rng.standard_normal((n_samples, 3)) * rng.uniform(0.1, 100, 3)
        spread = rng.choice([0.3, 3.0, 30.0])
        y = np.argmax(X / X.std(0) @ rng.standard_normal((3, 3)) * spread
                      + rng.gumbel(size=(n_samples, 3)), axis=1)
        if len(np.unique(y)) < 3:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, tol=1e-8).fit(X, y)
        certified = _certified(model, X, y)[0]
        separated = separated_classes(X, y, np.ones(n_samples), True, 3, 0)
        if certified:
            held += 1
            assert not separated.any()
        if spread == 0.3 and n_samples >= 100:
            assert certified
    assert held >= 5


def test_fit_far_from_the_optimum_is_said():
    """A fit stopped after 3 iterations: inference warns how many standard errors it
    may be from the estimate; a converged one does not."""
    X, y = raw_columns(1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        short = SoftmaxNNClassifier(alpha=0.0, reference_class=0, max_iter=3).fit(X, y)
    with pytest.warns(UserWarning, match=r"The fit stopped about [0-9.e+]+ standard errors"):
        short.inference(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit(X, y).inference(X, y)
