"""Shared fixtures: small seeded problems and the standard data sets."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.preprocessing import StandardScaler


def standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def iris():
    return standardised(load_iris)


@pytest.fixture(scope="session")
def wine():
    return standardised(load_wine)


@pytest.fixture(scope="session")
def breast_cancer():
    return standardised(load_breast_cancer)


def make_problem(n_samples=40, n_features=5, n_classes=3, seed=0):
    """A small non-separable problem: Gaussian X, labels from a noisy linear model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    logits = X @ rng.standard_normal((n_features, n_classes))
    logits += rng.gumbel(size=logits.shape)
    y = logits.argmax(axis=1)
    y[:n_classes] = np.arange(n_classes)  # every class present
    return X, y


@pytest.fixture
def problem():
    return make_problem()


def penalised_objective(X, y, sample_weight, layout, activation, l2_reg_strength,
                        n_threads=1):
    """``J = data term + penalty`` as a fit builds it, from raw weights ``s_i``."""
    from sk_softmax._objective import L2Penalty, Objective, PenalisedObjective

    weight = sample_weight / sample_weight.sum()
    data_term = Objective(X, y, weight, layout, activation, n_threads=n_threads)
    return PenalisedObjective(data_term, L2Penalty(layout, l2_reg_strength))


def raw_columns(n_samples=600, seed=0, collinear=False):
    """Columns as users have them: income (lognormal, ~3e4), a year (~1990 +- 15), a
    count, a fraction, a tiny measurement (~1e-4) and a large one (1e6 +- 1e3); three
    classes from a softmax model of the standardised columns. ``collinear`` adds the
    income in thousands plus a little noise (a correlation condition number ~1e5: the
    preconditioner whitens)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, 6))
    y = np.argmax(Z @ rng.standard_normal((6, 3)) + rng.gumbel(size=(n_samples, 3)), axis=1)
    X = np.column_stack([np.exp(10.3 + 0.5 * Z[:, 0]), np.round(1990 + 15 * Z[:, 1]),
                         rng.poisson(np.exp(1 + 0.5 * Z[:, 2])), 0.5 + 0.1 * Z[:, 3],
                         1e-4 * Z[:, 4], 1e6 + 1e3 * Z[:, 5]])
    if collinear:
        noise = rng.standard_normal(n_samples) * 1e-3 * X[:, 0].std() / 1e3
        X = np.column_stack([X, X[:, 0] / 1e3 + noise])
    return X, y
