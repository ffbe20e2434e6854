"""Alpha selection by cross-validation: SoftmaxNNClassifierCV against
LogisticRegressionCV and GridSearchCV(SoftmaxNNClassifier) on the same alphas and folds.

    python benchmarks/cv_run.py [--n-samples 20000] [--repeats 3]

make_classification (20k x 50, K=5, standardised), the 10 alphas of
SoftmaxNNClassifierCV(alphas=10)'s data-derived grid (LogisticRegressionCV gets
Cs = 1/alphas), the same 5 stratified folds, scoring="neg_log_loss", tol=1e-4 for all
three (the same L-BFGS gradient criterion on the same mean objective), folds run one
after the other (n_jobs=None). Threads: 1 (threadpoolctl limits BLAS and OpenMP to 1)
and the default. Each cell is the median of ``--repeats`` fits, the three estimators
alternating. Prints the CPU, the load average before and after, and a Markdown table.
"""

import argparse
import datetime
import os
import platform
import time
import warnings

import numpy as np
import sklearn
from run import cpu_model  # noqa: E402  (this folder's run.py)
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sk_softmax import SoftmaxNNClassifier, SoftmaxNNClassifierCV
from sk_softmax._cv import alpha_max


def run_all(X, y, alphas, cv, tol):
    """Fit the three searches once; return {name: (seconds, alpha chosen, scores)}."""
    out = {}
    t = time.perf_counter()
    ours = SoftmaxNNClassifierCV(alphas=alphas, cv=cv, tol=tol).fit(X, y)
    out["SoftmaxNNClassifierCV"] = (time.perf_counter() - t, ours.alpha_, ours.scores_,
                                    int(ours.n_iter_.sum()))
    t = time.perf_counter()
    lr = LogisticRegressionCV(Cs=1 / alphas, cv=cv, scoring="neg_log_loss", tol=tol,
                              l1_ratios=(0.0,), use_legacy_attributes=False).fit(X, y)
    out["LogisticRegressionCV"] = (time.perf_counter() - t, 1 / float(lr.C_),
                                   np.reshape(lr.scores_, (len(cv), -1)),
                                   int(np.sum(lr.n_iter_)))
    t = time.perf_counter()
    grid = GridSearchCV(SoftmaxNNClassifier(tol=tol), {"alpha": list(alphas)}, cv=cv,
                        scoring="neg_log_loss").fit(X, y)
    scores = np.array([grid.cv_results_[f"split{i}_test_score"] for i in range(len(cv))])
    out["GridSearchCV(SoftmaxNNClassifier)"] = (
        time.perf_counter() - t, grid.best_params_["alpha"], scores, None)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--n-classes", type=int, default=5)
    parser.add_argument("--n-alphas", type=int, default=10)
    parser.add_argument("--n-folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tol", type=float, default=1e-4)
    args = parser.parse_args()

    X, y = make_classification(args.n_samples, args.n_features, n_informative=20,
                               n_classes=args.n_classes, random_state=0)
    X = StandardScaler().fit_transform(X)
    alphas = alpha_max(X, y, np.unique(y)) * np.logspace(0, -5, args.n_alphas)
    cv = list(StratifiedKFold(args.n_folds, shuffle=True, random_state=0).split(X, y))
    print(f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; python {platform.python_version()}"
          f", numpy {np.__version__}, scikit-learn {sklearn.__version__}")
    print(f"load average before: {os.getloadavg()}")
    print(f"X {X.shape}, K={args.n_classes}, {args.n_alphas} alphas "
          f"{alphas[0]:.4g}..{alphas[-1]:.4g}, {args.n_folds} folds, tol={args.tol}")
    rows = []
    for threads in (1, None):
        results = []
        for _ in range(args.repeats):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", FutureWarning)
                if threads == 1:
                    with threadpool_limits(limits=1):
                        results.append(run_all(X, y, alphas, cv, args.tol))
                else:
                    results.append(run_all(X, y, alphas, cv, args.tol))
        medians = {name: float(np.median([r[name][0] for r in results]))
                   for name in results[0]}
        ours_scores = results[0]["SoftmaxNNClassifierCV"][2]
        for name, median in medians.items():
            _, chosen, scores, n_iter = results[0][name]
            rows.append((
                "1" if threads == 1 else "default", name, median,
                median / medians["LogisticRegressionCV"],
                medians["SoftmaxNNClassifierCV"] / median, chosen,
                float(np.max(np.abs(scores - ours_scores))), n_iter))
    print(f"load average after: {os.getloadavg()}")
    print()
    print("| threads | search | fit s (median) | s / LogisticRegressionCV s "
          "| ours / this | alpha chosen | max abs score diff vs ours | path iterations |")
    print("|---|---|---|---|---|---|---|---|")
    for threads, name, median, vs_lr, ours_vs, chosen, diff, n_iter in rows:
        print(f"| {threads} | {name} | {median:.2f} | {vs_lr:.2f} | {ours_vs:.2f} "
              f"| {chosen:.4g} | {diff:.1e} | {'-' if n_iter is None else n_iter} |")


if __name__ == "__main__":
    main()
