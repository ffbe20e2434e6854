"""The benchmark workloads (fixed seeds) and the two sides fitted on each."""

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sk_softmax import SoftmaxNNClassifier

LINEAR_TOL = 1e-8


def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def classification(n_samples, dtype=np.float64):
    def make():
        X, y = make_classification(n_samples, 100, n_informative=20, n_redundant=10,
                                    n_classes=10, random_state=0)
        return X.astype(dtype), y
    return make


def planted_sparse(n_samples, n_features, nnz_per_row=100, n_classes=20):
    """CSR X with nnz_per_row standard-normal entries a row; y drawn from a softmax model."""
    def make():
        rng = np.random.default_rng(0)
        indices = rng.integers(0, n_features, (n_samples, nnz_per_row))
        indices.sort(axis=1)
        data = rng.standard_normal(n_samples * nnz_per_row)
        indptr = np.arange(0, n_samples * nnz_per_row + 1, nnz_per_row)
        X = sp.csr_matrix((data, indices.ravel(), indptr), shape=(n_samples, n_features))
        X.sum_duplicates()
        theta = rng.standard_normal((n_features, n_classes)) * 0.3
        y = np.argmax(X @ theta + rng.gumbel(size=(n_samples, n_classes)), axis=1)
        return X, y
    return make


def hidden_problem(n_samples):
    def make():
        X, y = make_classification(n_samples, 64, n_informative=32, n_classes=10,
                                   random_state=0)
        return StandardScaler().fit_transform(X), y
    return make


def linear(data, alpha, quick=False):
    return dict(data=data, alpha=alpha, quick=quick)


def network(data, activation, quick=False):
    return dict(data=data, alpha=1e-2, hidden=(64,), activation=activation, max_iter=300,
                quick=quick)


WORKLOADS = {
    "W1 digits": linear(digits, 1e-2),
    "W2 n=10k": linear(classification(10_000), 1e-2),
    "W2 n=30k": linear(classification(30_000), 1e-2),
    "W2 n=100k": linear(classification(100_000), 1e-2),
    "W2 n=300k": linear(classification(300_000), 1e-2),
    "W3 float32": linear(classification(100_000, np.float32), 1e-2),
    "W4 sparse": linear(planted_sparse(50_000, 20_000), 1.0),
    "W5 tanh": network(hidden_problem(20_000), "tanh"),
    "W5 relu": network(hidden_problem(20_000), "relu"),
    # --quick: the same kinds of work, small enough for a run under two minutes.
    "q W1 digits": linear(digits, 1e-2, quick=True),
    "q W2 n=20k": linear(classification(20_000), 1e-2, quick=True),
    "q W3 float32 n=20k": linear(classification(20_000, np.float32), 1e-2, quick=True),
    "q W4 sparse 10k": linear(planted_sparse(10_000, 5_000, n_classes=10), 1.0, quick=True),
    "q W5 tanh 5k": network(hidden_problem(5_000), "tanh", quick=True),
}


def peer_model(spec):
    """LogisticRegression(lbfgs) for linear work, MLPClassifier(lbfgs) with a hidden layer."""
    if "hidden" in spec:
        return MLPClassifier(hidden_layer_sizes=spec["hidden"], activation=spec["activation"],
                             solver="lbfgs", alpha=spec["alpha"], max_iter=spec["max_iter"],
                             random_state=0)
    return LogisticRegression(solver="lbfgs", C=1 / spec["alpha"], tol=LINEAR_TOL,
                              max_iter=10_000)


def our_model(spec):
    """SoftmaxNNClassifier on the same objective, tolerance and iteration budget."""
    if "hidden" in spec:
        return SoftmaxNNClassifier(hidden_layer_sizes=spec["hidden"],
                                   activation=spec["activation"], alpha=spec["alpha"],
                                   max_iter=spec["max_iter"], tol=1e-4, random_state=0)
    return SoftmaxNNClassifier(alpha=spec["alpha"], tol=LINEAR_TOL, max_iter=10_000)
