"""Raw data: fits on unscaled columns against LogisticRegression, and unpenalised fits with
standard errors against statsmodels' MNLogit.

    python benchmarks/raw_run.py            # both parts; writes its section of RESULTS.md
    python benchmarks/raw_run.py --no-write # print only

Part 1 (optimisation): scikit-learn's breast cancer, wine and digits as shipped, and a
synthetic set of 20,000 x 30, 4 classes, whose columns are multiplied by 10**U(-3, 3)
and offset by up to 10**4 (money, years and counts side by side). alpha = 1e-4 (the
default) and 1, tol = 1e-8 for every side: ours with the default max_iter (1000) and
solver, LogisticRegression(lbfgs, max_iter=10000) and LogisticRegression(
newton-cholesky). For two classes ours uses reference_class=classes[0] (exactly
LogisticRegression's model). One thread; each time the median of ``--repeats`` fits.
J is recomputed for every side by one independent function (run.objective_J) and
compared with J*, the lowest J any fit reached (ours with trust-ncg at tol=1e-10
included).

Part 2 (statistics): alpha=0 fits with standard errors: ours (fit + inference(), with
solver="trust-ncg", tol=1e-8 as docs/user_guide/inference.md says, and with the default
lbfgs at tol=1e-8) against statsmodels' MNLogit(...).fit(method="newton") and its
bse, on anes96 as shipped (popul in people per square mile), and on 100,000 x 20,
5 classes, standardised and with year-like offsets (1900-2020, spreads 1-50). One
thread and the default threads; medians of ``--repeats``.
"""

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from run import cpu_model, objective_J, write_marked_section  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from sk_softmax import SoftmaxNNClassifier

HERE = Path(__file__).resolve().parent
START, END = "<!-- raw section -->", "<!-- end of raw section -->"


def money_years(n_samples=20_000, n_features=30, n_classes=4, seed=0):
    """The issue's synthetic set: a softmax model of standard columns, each column then
    multiplied by 10**U(-3, 3) and offset by U(0, 10**4)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    y = np.argmax(Z @ rng.standard_normal((n_features, n_classes)) * 0.5
                  + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    return Z * 10.0 ** rng.uniform(-3, 3, n_features) + rng.uniform(0, 1e4, n_features), y


DATA = {
    "breast cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "money/years 20k": money_years,
}


def _timed(make, X, y, repeats):
    times, model, caught = [], None, []
    for _ in range(repeats):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            start = time.perf_counter()
            model = make().fit(X, y)
            times.append(time.perf_counter() - start)
        caught = [w for w in record if "converge" in str(w.message).lower()]
    return float(np.median(times)), model, bool(caught)


def _network(model):
    if hasattr(model, "coefs_"):
        return model.coefs_, model.intercepts_
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # binary: class 1 against class 0
        return [np.c_[np.zeros(coef.shape[1]), coef[0]]], [np.r_[0.0, intercept]]
    return [coef.T], [intercept]


def optimisation(repeats):
    rows = []
    for name, load in DATA.items():
        X, y = load()
        binary = len(np.unique(y)) == 2
        reference = dict(reference_class=np.unique(y)[0]) if binary else {}
        for alpha in (1e-4, 1.0):
            sides = {
                "ours (lbfgs)": lambda: SoftmaxNNClassifier(alpha=alpha, tol=1e-8,
                                                            **reference),
                "LR lbfgs": lambda: LogisticRegression(C=1 / alpha, tol=1e-8,
                                                       max_iter=10_000),
                "LR newton-cholesky": lambda: LogisticRegression(
                    C=1 / alpha, tol=1e-8, solver="newton-cholesky", max_iter=1000),
            }
            results = {}
            with threadpool_limits(limits=1):
                for side, make in sides.items():
                    seconds, model, warned = _timed(make, X, y, repeats)
                    J = objective_J(X, y, *_network(model), "identity", alpha)
                    n_iter = int(np.max(model.n_iter_))
                    results[side] = (seconds, n_iter, J, warned)
                exact = SoftmaxNNClassifier(alpha=alpha, solver="trust-ncg", tol=1e-10,
                                            max_iter=500, **reference).fit(X, y)
            best = min([objective_J(X, y, *_network(exact), "identity", alpha)]
                       + [r[2] for r in results.values()])
            for side, (seconds, n_iter, J, warned) in results.items():
                rows.append((name, alpha, side, n_iter, seconds, J, J - best, warned,
                             seconds / results["LR lbfgs"][0]))
    return rows


def anes96():
    import statsmodels.api as sm

    data = sm.datasets.anes96.load_pandas().data
    X = data[["popul", "selfLR", "age", "educ", "income"]].to_numpy(dtype=float)
    return X, data["PID"].astype(int).to_numpy()


def statistics_data(offsets, n_samples=100_000, n_features=20, n_classes=5, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    y = np.argmax(Z @ rng.standard_normal((n_features, n_classes)) * 0.3
                  + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    if offsets:
        Z = Z * rng.uniform(1, 50, n_features) + rng.uniform(1900, 2020, n_features)
    return Z, y


STATS_DATA = {
    "anes96 (raw)": anes96,
    "100k x 20, standardised": lambda: statistics_data(False),
    "100k x 20, year offsets": lambda: statistics_data(True),
}


def statistics(repeats):
    import statsmodels.api as sm

    rows = []
    for name, load in STATS_DATA.items():
        X, y = load()
        for threads in (1, None):
            limit = threadpool_limits(limits=1) if threads == 1 else _nothing()
            with limit, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sm_times, bse = [], None
                ours = {"trust-ncg": [], "lbfgs": []}
                errors = {}
                for _ in range(repeats):
                    start = time.perf_counter()
                    res = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton",
                                                                maxiter=100, disp=False)
                    bse = np.asarray(res.bse)
                    sm_times.append(time.perf_counter() - start)
                    for solver in ours:
                        start = time.perf_counter()
                        model = SoftmaxNNClassifier(alpha=0.0, reference_class=0,
                                                    solver=solver, tol=1e-8).fit(X, y)
                        result = model.inference(X, y)
                        ours[solver].append(time.perf_counter() - start)
                        mine = np.r_[result.std_err_intercept[1:][np.newaxis],
                                     result.std_err_coef[1:].T]
                        errors[solver] = float(np.max(np.abs(mine - bse) / bse))
            sm_time = float(np.median(sm_times))
            for solver, times in ours.items():
                seconds = float(np.median(times))
                rows.append((name, "1" if threads == 1 else "default", solver, seconds,
                             sm_time, seconds / sm_time, errors[solver]))
    return rows


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def report(optimisation_rows, statistics_rows):
    lines = [START, "## Raw data (`python benchmarks/raw_run.py`)", "",
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
             f"{cpu_model()}, {os.cpu_count()} cores; python {platform.python_version()}, "
             f"numpy {np.__version__}, scikit-learn {sklearn.__version__}.", ""]
    if optimisation_rows:
        lines += ["Unscaled columns, tol=1e-8 on every side, one thread. J - J*: above the "
                  "lowest J any fit reached (a mean log-loss: nats per sample). "
                  "'warned': a ConvergenceWarning.", "",
                  "| data | alpha | fit | iterations | s | J | J - J* | warned "
                  "| s / LR lbfgs s |", "|---|---|---|---|---|---|---|---|---|"]
        for name, alpha, side, n_iter, seconds, J, gap, warned, ratio in optimisation_rows:
            lines.append(f"| {name} | {alpha:g} | {side} | {n_iter} | {seconds:.3f} "
                         f"| {J:.10g} | {gap:.1e} | {'yes' if warned else 'no'} "
                         f"| {ratio:.3f} |")
        ours = sum(r[4] for r in optimisation_rows if r[2] == "ours (lbfgs)")
        peer = sum(r[4] for r in optimisation_rows if r[2] == "LR lbfgs")
        lines += ["", f"Whole suite: ours {ours:.2f} s, LogisticRegression(lbfgs) "
                  f"{peer:.2f} s: {ours / peer:.3f}x.", ""]
    if statistics_rows:
        lines += ["alpha=0, fit + standard errors (ours: fit + inference(); statsmodels: "
                  "MNLogit newton + bse), tol=1e-8. Largest relative difference of the "
                  "standard errors from statsmodels'.", "",
                  "| data | threads | ours | ours s | statsmodels s | ratio "
                  "| std err rel. diff |", "|---|---|---|---|---|---|---|"]
        for name, threads, solver, seconds, sm_time, ratio, error in statistics_rows:
            lines.append(f"| {name} | {threads} | {solver} | {seconds:.3f} | {sm_time:.3f} "
                         f"| {ratio:.3f} | {error:.1e} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["optimisation", "statistics"])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    opt = optimisation(args.repeats) if args.only != "statistics" else []
    stats = statistics(args.repeats) if args.only != "optimisation" else []
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    text = report(opt, stats)
    print(text)
    if not args.no_write:
        write_marked_section(args.output, START, END, text)


if __name__ == "__main__":
    main()
