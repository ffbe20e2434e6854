"""The demo job: 5-fold cross-validation on the digits data against scikit-learn's peers."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import SoftmaxNNClassifier

ALPHA = 1.0
HIDDEN = (64,)
MAX_ITER = 500


def models():
    """The four contenders, all with the same L2 penalty alpha (LogisticRegression: C)."""
    return {
        "SoftmaxNNClassifier()": SoftmaxNNClassifier(alpha=ALPHA),
        "LogisticRegression(lbfgs)": LogisticRegression(C=1 / ALPHA),
        f"SoftmaxNNClassifier{HIDDEN}": SoftmaxNNClassifier(
            hidden_layer_sizes=HIDDEN, alpha=ALPHA, max_iter=MAX_ITER, random_state=0
        ),
        f"MLPClassifier{HIDDEN}(lbfgs)": MLPClassifier(
            hidden_layer_sizes=HIDDEN, solver="lbfgs", alpha=ALPHA, max_iter=MAX_ITER,
            random_state=0,
        ),
    }


def main():
    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    print(f"digits: {X.shape[0]} samples, {X.shape[1]} features, {len(set(y))} classes; "
          f"5-fold CV, StandardScaler, alpha={ALPHA}")
    print(f"{'model':<32}{'accuracy':>10}{'log-loss':>10}{'fit time (s)':>14}")
    for name, model in models().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores = cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=cv,
                                    scoring=("accuracy", "neg_log_loss"))
        print(f"{name:<32}{np.mean(scores['test_accuracy']):>10.4f}"
              f"{-np.mean(scores['test_neg_log_loss']):>10.4f}"
              f"{np.mean(scores['fit_time']):>14.3f}")


if __name__ == "__main__":
    main()
