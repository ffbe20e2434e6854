"""Cross-validated comparison with scikit-learn's peers, and the digits demo."""

# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._classifier import SoftmaxNNClassifier


def peers(alpha, hidden):
    """LogisticRegression(C=1/alpha) and MLPClassifier(hidden, alpha), L-BFGS both."""
    return {
        "LogisticRegression(lbfgs)": LogisticRegression(C=1 / alpha, max_iter=1000),
        f"MLPClassifier{hidden}(lbfgs)": MLPClassifier(
            hidden_layer_sizes=hidden, solver="lbfgs", alpha=alpha, max_iter=500,
            random_state=0),
    }


def compare(models, X, y, n_splits, progress):
    """Print stratified-CV accuracy, log-loss and fit time of each model (scaled)."""
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=0).split(X, y))
    X = np.asarray(X)
    print(f"{'model':<32}{'accuracy':>10}{'log-loss':>10}{'fit time (s)':>14}")
    for name, model in models.items():
        scores = []
        for k, (train, test) in enumerate(folds, start=1):
            progress(f"cross-validating {name}: fold {k}/{n_splits}")
            pipe = make_pipeline(StandardScaler(), clone(model))
            start = time.perf_counter()
            pipe.fit(X[train], y[train])
            seconds = time.perf_counter() - start
            proba = pipe.predict_proba(X[test])
            scores.append((accuracy_score(y[test], pipe.classes_[proba.argmax(1)]),
                           log_loss(y[test], proba, labels=pipe.classes_), seconds))
        progress("")
        accuracy, loss, seconds = np.mean(scores, axis=0)
        print(f"{name:<32}{accuracy:>10.4f}{loss:>10.4f}{seconds:>14.3f}", flush=True)


def run_demo(progress):
    """The main job: the digits data, 5-fold CV, ours (0 and 1 hidden layer) vs peers."""
    X, y = load_digits(return_X_y=True)
    alpha, hidden = 1.0, (64,)
    print(f"digits: {X.shape[0]} samples, {X.shape[1]} features, {len(set(y))} "
          f"classes; 5-fold CV, StandardScaler, alpha={alpha}")
    models = {
        "SoftmaxNNClassifier()": SoftmaxNNClassifier(alpha=alpha),
        f"SoftmaxNNClassifier{hidden}": SoftmaxNNClassifier(
            hidden_layer_sizes=hidden, alpha=alpha, max_iter=500, random_state=0),
        **peers(alpha, hidden),
    }
    compare(models, X, y, 5, progress)
