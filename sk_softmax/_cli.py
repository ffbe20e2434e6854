"""The command line: the digits demo, and fit / predict / summary on a user's CSV."""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import sys
import time
import warnings

import numpy as np

EXAMPLES = """\
examples:
  sk-softmax                                        the digits demo (5-fold CV vs peers)
  sk-softmax fit iris.csv --target species --save model.skops
  sk-softmax fit data.csv --target y --hidden 64,32 --activation relu --alpha 1e-3 --cv 10
  sk-softmax predict model.skops new.csv --proba --output scores.csv
  sk-softmax summary iris.csv --target species --reference-class setosa

Exit status: 0 on success, 2 on bad input (a one-line message on stderr).
"""


class CLIError(Exception):
    """Bad input: reported as one line on stderr, exit status 2."""


def _hidden(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes comma-separated integers such as 64,32; got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be >= 1; got {text!r}")
    return sizes


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sk-softmax",
        description="Softmax classifier (optional hidden layers) trained by maximum "
        "likelihood. Without a command: the digits demo.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="{fit,predict,summary}")
    fit = commands.add_parser(
        "fit", help="cross-validate against LogisticRegression and MLPClassifier, "
        "then fit on all rows (and save)", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    fit.add_argument("data", help="CSV file with a header row; numeric feature columns")
    fit.add_argument("--target", required=True, help="name of the label column")
    fit.add_argument("--hidden", type=_hidden, default=(), metavar="64,32",
                     help="hidden layer sizes (default: none, softmax regression)")
    fit.add_argument("--activation", default="tanh",
                     choices=["identity", "logistic", "tanh", "relu"])
    fit.add_argument("--alpha", type=float, default=1e-3, help="L2 penalty (default 1e-3)")
    fit.add_argument("--reference-class", metavar="LABEL",
                     help="class whose logit is fixed at 0 (default: symmetric softmax)")
    fit.add_argument("--cv", type=int, default=5, help="cross-validation folds (default 5)")
    fit.add_argument("--save", metavar="MODEL.skops", help="save the fitted model (skops)")
    predict = commands.add_parser(
        "predict", help="predict with a saved model", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    predict.add_argument("model", help="a model file written by 'sk-softmax fit --save'")
    predict.add_argument("data", help="CSV file with the model's feature columns")
    predict.add_argument("--proba", action="store_true",
                         help="write one probability column per class")
    predict.add_argument("--output", metavar="OUT.csv", help="default: standard output")
    summary = commands.add_parser(
        "summary", help="print the inference table (standard errors, z, p, intervals)",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    summary.add_argument("data", help="CSV file with a header row")
    summary.add_argument("--target", required=True, help="name of the label column")
    summary.add_argument("--reference-class", required=True, metavar="LABEL",
                         help="base category: the class whose logit is fixed at 0")
    summary.add_argument("--cov-type", default="nonrobust", choices=["nonrobust", "HC0"])
    return parser


def main(argv=None):
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes would break the tables
            if args.command is None:
                from ._demo import run_demo

                run_demo(progress=_progress)
            else:
                {"fit": fit_command, "predict": predict_command,
                 "summary": summary_command}[args.command](args)
    except (CLIError, ValueError, TypeError, OSError, ImportError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"sk-softmax: error: {message}", file=sys.stderr)
        return 2
    return 0


def _progress(text):
    """Show ``text`` on one line of stderr, overwritten by the next (empty: clear)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + text)
    elif text:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _pandas():
    try:
        import pandas
    except ImportError:
        raise CLIError(
            "the command line reads CSV files with pandas: pip install 'sk_softmax[cli]'"
        ) from None
    return pandas


def read_csv(path, target=None, columns=None):
    """Return (X, y) from a CSV: a DataFrame of numeric features and the labels.

    Every problem (missing file, empty file, missing or unexpected columns,
    non-numeric features, empty cells) raises a one-line CLIError.
    """
    pd = _pandas()
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CLIError(f"{path}: not a readable CSV ({exc})") from None
    if frame.empty:
        raise CLIError(f"{path}: no data rows under the header")
    y = None
    if target is not None:
        if target not in frame.columns:
            raise CLIError(f"{path}: no column {target!r}; the columns are "
                           f"{', '.join(map(str, frame.columns))}")
        y = frame.pop(target)
        if y.isna().any():
            raise CLIError(f"{path}: the target column {target!r} has empty cells")
        y = y.to_numpy()
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in set(columns)]
        if missing or extra:
            raise CLIError(
                f"{path}: the columns do not match the model's features"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unexpected: {', '.join(map(str, extra))}" if extra else ""))
        frame = frame[list(columns)]
    non_numeric = [str(c) for c in frame.columns
                   if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise CLIError(f"{path}: non-numeric feature column(s): {', '.join(non_numeric)}")
    empty = [str(c) for c in frame.columns if frame[c].isna().any()]
    if empty:
        raise CLIError(f"{path}: empty or NaN cells in column(s): {', '.join(empty)}")
    if frame.shape[1] == 0:
        raise CLIError(f"{path}: no feature columns besides the target")
    return frame.astype(np.float64), y


def _reference_label(text, y):
    """The label of y whose text is ``text`` (labels read from CSV may be numbers)."""
    if text is None:
        return None
    for label in np.unique(y):
        if str(label) == text:
            return label
    raise CLIError(f"--reference-class {text!r} is not one of the labels: "
                   f"{', '.join(map(str, np.unique(y)))}")


def fit_command(args):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._classifier import SoftmaxNNClassifier
    from ._demo import compare, peers

    X, y = read_csv(args.data, target=args.target)
    if args.cv < 2:
        raise CLIError(f"--cv must be at least 2; got {args.cv}")
    if args.save:
        from ._persist import require_skops

        require_skops()
    ours = SoftmaxNNClassifier(
        hidden_layer_sizes=args.hidden, activation=args.activation, alpha=args.alpha,
        reference_class=_reference_label(args.reference_class, y), random_state=0)
    print(f"{args.data}: {X.shape[0]} rows, {X.shape[1]} features, "
          f"{len(np.unique(y))} classes; StandardScaler, alpha={args.alpha:g}, "
          f"{args.cv}-fold CV")
    models = {"SoftmaxNNClassifier": ours, **peers(args.alpha, args.hidden or (100,))}
    compare(models, X, y, args.cv, progress=_progress)
    start = time.perf_counter()
    _progress(f"fitting on all {X.shape[0]} rows ...")
    model = make_pipeline(StandardScaler(), ours).fit(X, y)
    _progress("")
    print(f"fitted on all rows in {time.perf_counter() - start:.2f} s "
          f"({model[-1].n_iter_} iterations)")
    if args.save:
        from ._persist import save_model

        save_model(model, args.save)
        print(f"saved {args.save}")


def predict_command(args):
    from ._persist import load_model

    model = load_model(args.model)
    X, _ = read_csv(args.data, columns=list(model.feature_names_in_))
    pd = _pandas()
    if args.proba:
        out = pd.DataFrame(model.predict_proba(X), columns=[str(c) for c in model.classes_])
    else:
        out = pd.DataFrame({"prediction": model.predict(X)})
    if args.output:
        out.to_csv(args.output, index=False)
    else:
        out.to_csv(sys.stdout, index=False)


def summary_command(args):
    from ._classifier import SoftmaxNNClassifier

    X, y = read_csv(args.data, target=args.target)
    reference = _reference_label(args.reference_class, y)
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=reference,
                                solver="trust-ncg", tol=1e-8, max_iter=500).fit(X, y)
    if not model.converged_:
        raise CLIError("the maximum-likelihood fit did not converge (separable classes "
                       "or collinear features?); no standard errors to report")
    print(model.inference(X, y, cov_type=args.cov_type).summary())
