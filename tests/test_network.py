"""Parameter layout and the objective J of _network.py, checked against finite differences."""

import numpy as np
import pytest
from conftest import make_problem, penalised_objective
from numpy.testing import assert_allclose

from sk_softmax._network import ACTIVATIONS, ParamLayout, forward
from sk_softmax._objective import loss_gradient


def fd_gradient(fun, theta, step=1e-4):
    """Five-point central finite-difference gradient of a scalar function."""
    grad = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        grad[j] = (
            -fun(theta + 2 * e) + 8 * fun(theta + e) - 8 * fun(theta - e) + fun(theta - 2 * e)
        ) / (12 * step)
    return grad


@pytest.mark.parametrize("reference", [None, 1])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_pack_unpack_round_trip(reference, fit_intercept):
    """unpack(pack(params)) keeps every free entry and pins the reference column at 0."""
    layout = ParamLayout([4, 3, 2, 3], reference, fit_intercept)
    theta = np.random.default_rng(0).standard_normal(layout.n_params)
    coefs, intercepts = layout.unpack(theta, np.float64)
    assert [c.shape for c in coefs] == [(4, 3), (3, 2), (2, 3)]
    assert [b.shape for b in intercepts] == [(3,), (2,), (3,)]
    assert_allclose(layout.pack(coefs, intercepts), theta, rtol=0)
    if reference is not None:
        assert np.all(coefs[-1][:, reference] == 0) and intercepts[-1][reference] == 0
    if not fit_intercept:
        assert all(np.all(b == 0) for b in intercepts)
    n_free_out = 3 if reference is None else 2
    assert layout.n_coef == 12 + 6 + 2 * n_free_out
    assert layout.n_params == layout.n_coef + fit_intercept * (3 + 2 + n_free_out)


def test_unpack_casts_to_dtype():
    """unpack returns weights in the requested dtype (float32 stays float32)."""
    layout = ParamLayout([3, 2, 2], 0, True)
    coefs, intercepts = layout.unpack(np.ones(layout.n_params), np.float32)
    assert all(a.dtype == np.float32 for a in coefs + intercepts)


# Without hidden layers the activation is unused: test it once.
ARCHITECTURES = [((), "tanh")] + [
    (hidden, activation)
    for hidden in [(4,), (4, 3), (3, 4, 2)]
    for activation in sorted(ACTIVATIONS)
]


@pytest.mark.parametrize("hidden, activation", ARCHITECTURES)
@pytest.mark.parametrize("reference", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_finite_differences(
    hidden, activation, reference, weighted, fit_intercept
):
    """The analytic gradient of J equals a finite-difference gradient to 1e-6 relative."""
    X, y = make_problem(n_samples=25, n_features=4, n_classes=3, seed=1)
    rng = np.random.default_rng(2)
    sample_weight = rng.uniform(0.1, 3, len(y)) if weighted else np.ones(len(y))
    layout = ParamLayout([4, *hidden, 3], reference, fit_intercept)
    theta = rng.uniform(-1, 1, layout.n_params)
    # relu has kinks at Z = 0: a smaller step keeps the stencil on one side of them.
    step = 1e-6 if activation == "relu" else 1e-4
    with penalised_objective(X, y, sample_weight, layout, activation,
                             0.3 / sample_weight.sum()) as objective:
        _, gradient = objective(theta)
        expected = fd_gradient(lambda t: objective(t)[0], theta, step)
    error = np.linalg.norm(gradient - expected) / np.linalg.norm(expected)
    assert error < 1e-6


def test_objective_is_math_md_J():
    """J equals the weighted mean NLL plus alpha/(2S) times the squared weights."""
    X, y = make_problem(n_samples=30, n_features=3, n_classes=4, seed=3)
    sample_weight = np.random.default_rng(4).uniform(0.5, 2, 30)
    layout = ParamLayout([3, 5, 4], None, True)
    theta = np.random.default_rng(5).standard_normal(layout.n_params)
    coefs, intercepts = layout.unpack(theta, np.float64)
    Z = np.tanh(X @ coefs[0] + intercepts[0]) @ coefs[1] + intercepts[1]
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    S, alpha = sample_weight.sum(), 0.7
    expected = -(sample_weight * np.log(P[np.arange(30), y])).sum() / S + alpha / (
        2 * S
    ) * sum((c**2).sum() for c in coefs)
    loss, _ = loss_gradient(theta, X, y, sample_weight, layout, "tanh", alpha / S)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert_allclose(forward(X, coefs, intercepts, "tanh")[-1], Z, rtol=1e-12)


def test_float32_forward_and_objective_agree_with_float64():
    """forward keeps float32 activations; J and its gradient on float32 X agree with
    float64 to float32 accuracy. (That the objective's passes really run in float32
    and accumulate in float64: test_objective.py's float32 tests.)"""
    X, y = make_problem(seed=6)
    layout = ParamLayout([5, 4, 3], None, True)
    theta = np.random.default_rng(7).standard_normal(layout.n_params)
    coefs, intercepts = layout.unpack(theta, np.float32)
    acts = forward(X.astype(np.float32), coefs, intercepts, "relu")
    assert all(a.dtype == np.float32 for a in acts)
    args = (y, np.ones(len(y)), layout, "relu", 1e-3)
    loss32, grad32 = loss_gradient(theta, X.astype(np.float32), *args)
    loss64, grad64 = loss_gradient(theta, X, *args)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-6)
