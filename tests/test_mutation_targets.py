"""Behaviour that only mutation testing (tools/mutation.py) showed unchecked: each test
names what it pins down."""

import numpy as np
import pytest
from conftest import make_problem
from numpy.testing import assert_allclose

from sk_softmax._hessian import HessianProduct, SoftmaxHessian
from sk_softmax._network import ParamLayout, glorot_uniform


def test_hessian_product_recomputes_p_only_when_theta_changes():
    """HessianProduct keeps the SoftmaxHessian (and its P) while theta is unchanged,
    compares by value (a copy of theta, not the caller's array), and rebuilds it when
    theta changes."""
    X, y = make_problem(n_samples=30, n_features=3, n_classes=3, seed=1)
    layout = ParamLayout([3, 3], 0, True)
    weight = np.full(30, 1 / 30)
    product = HessianProduct(X, y, weight, layout)
    theta = np.random.default_rng(2).standard_normal(layout.n_params)
    vector = np.random.default_rng(3).standard_normal(layout.n_params)
    first = product(theta, vector)
    hessian = product.hessian
    assert hessian.theta is not theta and np.array_equal(hessian.theta, theta)
    assert_allclose(product(theta.copy(), vector), first, rtol=0)
    assert product.hessian is hessian  # same theta by value: P kept
    theta += 0.5  # changed in place: detected through the stored copy
    changed = product(theta, vector)
    assert product.hessian is not hessian
    expected = SoftmaxHessian(theta, X, y, weight, layout).product(vector)
    assert_allclose(changed, expected, rtol=1e-15)
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
