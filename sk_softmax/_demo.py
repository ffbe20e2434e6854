"""Cross-validated comparison with scikit-learn's peers, and the digits demo."""

# SPDX-License-Identifier: BSD-3-Clause

import re
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ._classifier import SoftmaxNNClassifier


def logistic_c(alpha, n_classes=None, reference=None):
    """LogisticRegression's ``C`` with the same penalised objective as ours.

    ``J`` has the minimiser of ``C = 1/alpha``; for two classes the symmetric
    model (no reference class) equals ``C = 2/alpha``. ``alpha = 0``: no penalty.
    """
    if alpha == 0:
        return np.inf
    return 2 / alpha if n_classes == 2 and reference is None else 1 / alpha


def peers(alpha, hidden, *, n_classes=None, reference=None, which=("lr", "mlp"),
          seed=0, max_iter=None, class_weight=None):
    """LogisticRegression with the matching ``C`` and MLPClassifier(hidden, alpha),
    L-BFGS both (``which``: a subset of ``"lr"``, ``"mlp"``)."""
    models = {}
    if "lr" in which:
        C = logistic_c(alpha, n_classes, reference)
        models[f"LogisticRegression(C={C:g})"] = LogisticRegression(
            C=C, max_iter=max_iter or 1000, class_weight=class_weight)
    if "mlp" in which:
        models[f"MLPClassifier{tuple(hidden)}(lbfgs)"] = MLPClassifier(
            hidden_layer_sizes=hidden, solver="lbfgs", alpha=alpha,
            max_iter=max_iter or 500, random_state=seed)
    return models


def _aligned_proba(pipe, X, classes):
    """predict_proba with one column per class of ``classes`` (0 for a class the
    training fold lacked)."""
    proba = pipe.predict_proba(X)
    full = np.zeros((proba.shape[0], len(classes)))
    full[:, np.searchsorted(classes, pipe.classes_)] = proba
    return full


def _fold_scores(model, features, X, y, train, test, classes):
    take = X.iloc if hasattr(X, "iloc") else X
    pipe = Pipeline([("features", clone(features)), ("model", clone(model))])
    start = time.perf_counter()
    pipe.fit(take[train], y[train])
    seconds = time.perf_counter() - start
    proba = _aligned_proba(pipe, take[test], classes)
    return (accuracy_score(y[test], classes[proba.argmax(1)]),
            log_loss(y[test], proba, labels=classes), seconds)


def compare(models, X, y, n_splits, progress, *, features=None, seed=0, warn=None):
    """Print stratified-CV accuracy, log-loss and fit time of each model, each in a
    pipeline after ``features`` (default: StandardScaler); return the mean scores.

    Warnings of the fold fits are gathered per model and passed to ``warn`` as
    one line each (default: dropped). Every fold fit runs on one thread (BLAS and
    OpenMP): the same footing for every model, and no oversubscription, which on a
    busy machine made LogisticRegression and MLPClassifier ten times slower.
    """
    features = StandardScaler() if features is None else features
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(X, y))
    classes = np.unique(y)
    width = max(len(name) for name in models) + 2
    print(f"{'model':<{width}}{'accuracy':>10}{'log-loss':>12}{'fit time (s)':>14}"
          "   (one thread each)")
    results = {}
    for name, model in models.items():
        scores, start = [], time.perf_counter()
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1):
            warnings.simplefilter("always")
            for k, (train, test) in enumerate(folds, start=1):
                progress(f"cross-validating {name}: fold {k}/{n_splits} "
                         f"({time.perf_counter() - start:.0f} s)")
                scores.append(_fold_scores(model, features, X, y, train, test, classes))
        progress("")
        accuracy, loss, seconds = np.mean(scores, axis=0)
        results[name] = {"accuracy": float(accuracy), "log_loss": float(loss),
                         "fit_time_s": float(seconds)}
        print(f"{name:<{width}}{accuracy:>10.4f}{loss:>12.4f}{seconds:>14.3f}", flush=True)
        if warn is not None:
            _report(caught, f"{name}, cross-validation", n_splits, warn)
    return results


def _report(caught, where, n_fits, warn):
    """One line per kind of warning (numbers aside): where, in how many fits, the
    first such message."""
    counts, first = {}, {}
    for record in caught:
        text = " ".join(str(record.message).split())
        key = (record.category.__name__, re.sub(r"\d+", "#", text))
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, text)
    for key, count in counts.items():
        warn(f"{where}: {key[0]} in {min(count, n_fits)} of {n_fits} fits: {first[key]}")


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
        **peers(alpha, hidden, n_classes=10),
    }
    compare(models, X, y, 5, progress)
