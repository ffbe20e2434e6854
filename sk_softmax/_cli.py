"""The command line: the digits demo, and fit / predict / summary / info on CSV files."""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import contextlib
import math
import os
import shlex
import signal
import sys
import threading
import time
import warnings

import numpy as np

from ._csv import (
    CLIError,
    check_output,
    check_target,
    checked_option,
    class_weight_option,
    csv_cell,
    describe,
    feature_columns,
    hidden_option,
    label_of,
    labels,
    make_features,
    numeric_or_text,
    printable,
    read_table,
    refuse_missing,
    separator_option,
    write_atomic,
)

EXAMPLES = """\
examples:
  sk-softmax                                        the digits demo (5-fold CV vs peers)
  sk-softmax fit iris.csv --target species --save model.skops
  sk-softmax fit data.csv --target y --id customer --drop notes --impute median
  sk-softmax fit data.csv --target y --hidden 64,32 --activation relu --compare all
  sk-softmax predict model.skops new.csv --proba --output scores.csv
  sk-softmax summary iris.csv --target species --reference-class setosa --odds-ratios
  sk-softmax info model.skops

The separator (comma, tab, semicolon, pipe, spaces) and a decimal comma are detected;
text columns are one-hot encoded; empty, '?' and NA cells are missing values.
Exit status: 0 on success, 2 on bad input (a one-line message on stderr).
"""


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line naming the option, exit status 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def _version():
    import sklearn

    from . import __version__

    return f"sk-softmax {__version__} (scikit-learn {sklearn.__version__}, numpy {np.__version__})"


def _reading(parser):
    group = parser.add_argument_group("reading the CSV")
    group.add_argument("--sep", type=separator_option, metavar="SEP",
                       help="field separator (default: detected; tab, space, ';', ...)")
    group.add_argument("--decimal", choices=[".", ","], help="decimal mark (default: detected)")
    group.add_argument("--na-values", nargs="+", action="extend", default=[], metavar="TOKEN",
                       help="cells that mean missing, besides empty, '?' and NA (e.g. "
                       "NULL N/A); no other cell is missing ('None' is a label)")


def _features(parser, summary=False):
    group = parser.add_argument_group("features")
    group.add_argument("--drop", nargs="+", action="extend", default=[], metavar="COL",
                       help="columns to leave out")
    if not summary:
        group.add_argument("--id", metavar="COL",
                           help="an identifier column: not a feature, written by predict")
    group.add_argument("--categorical", nargs="+", action="extend", default=[],
                       metavar="COL", help="one-hot encode these columns even if numeric "
                       "(text columns always are)")
    group.add_argument("--impute", choices=["median", "most_frequent"],
                       help="fill missing cells" + ("" if summary else " (an indicator "
                       "column per column with missing cells)") + "; default: missing "
                       "cells are an error")
    group.add_argument("--max-iter", type=checked_option("max_iter", int, lambda v: v >= 1,
                       "an integer >= 1"), metavar="N", help="solver iteration limit")


def _fit_options(fit):
    from ._classifier import SoftmaxNNClassifier

    alpha = SoftmaxNNClassifier().alpha  # one default: the estimator's
    fit.add_argument("data", help="CSV file with a header row")
    fit.add_argument("--target", required=True, help="name of the label column")
    fit.add_argument("--hidden", type=hidden_option, default=(), metavar="64,32",
                     help="hidden layer sizes (default: none, softmax regression)")
    fit.add_argument("--activation", default="tanh",
                     choices=["identity", "logistic", "tanh", "relu"])
    fit.add_argument("--alpha", default=alpha, metavar="A", help=f"L2 penalty (default {alpha:g})",
                     type=checked_option("alpha", float, lambda v: math.isfinite(v) and v >= 0,
                                "a finite number >= 0"))
    fit.add_argument("--reference-class", metavar="LABEL",
                     help="class whose logit is fixed at 0 (default: symmetric softmax)")
    fit.add_argument("--class-weight", type=class_weight_option, metavar="W",
                     help="'balanced' or LABEL:WEIGHT,... (default: none)")
    fit.add_argument("--seed", default=0, help="random seed (default 0)",
                     type=checked_option("seed", int, lambda v: 0 <= v < 2**32,
                                "an integer in [0, 2**32)"))
    fit.add_argument("--cv", default=5, type=checked_option("cv", int, lambda v: v == 0 or v >= 2,
                     "0 (no cross-validation) or an integer >= 2"),
                     help="cross-validation folds (default 5; 0: none)")
    fit.add_argument("--compare", default="lr", choices=["none", "lr", "mlp", "all"],
                     help="peers cross-validated beside ours (default: lr, "
                     "LogisticRegression with the same penalty)")
    fit.add_argument("--save", metavar="MODEL.skops", help="save the fitted model (skops)")
    fit.add_argument("--force", action="store_true", help="replace an existing --save file")
    _features(fit)
    _reading(fit)


def build_parser():
    parser = Parser(
        prog="sk-softmax", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Softmax classifier (optional hidden layers) trained by maximum "
        "likelihood. Without a command: the digits demo.")
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="{fit,predict,summary,info,export}")

    def command(name, help):
        return commands.add_parser(name, help=help, epilog=EXAMPLES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    _fit_options(command("fit", "cross-validate (next to LogisticRegression by default), "
                         "then fit on all rows (and save)"))
    predict = command("predict", "predict with a saved model")
    predict.add_argument("model", help="a model file written by 'sk-softmax fit --save'")
    predict.add_argument("data", help="CSV file with the model's feature columns (others "
                         "are ignored)")
    predict.add_argument("--proba", action="store_true",
                         help="write one probability column per class")
    predict.add_argument("--id", metavar="COL", help="key column written beside the "
                         "predictions (default: the model's --id)")
    predict.add_argument("--output", metavar="OUT.csv",
                         help="a regular file; - or nothing: standard output")
    predict.add_argument("--force", action="store_true", help="replace an existing --output")
    _reading(predict)
    summary = command("summary", "print the inference table (standard errors, z, p, "
                      "intervals) of the unpenalised softmax regression")
    summary.add_argument("data", help="CSV file with a header row")
    summary.add_argument("--target", required=True, help="name of the label column")
    summary.add_argument("--reference-class", required=True, metavar="LABEL",
                         help="base category: the class whose logit is fixed at 0")
    summary.add_argument("--cov-type", default="nonrobust", choices=["nonrobust", "HC0"])
    summary.add_argument("--margins", action="store_true",
                         help="also print the average marginal effects (dP/dx)")
    summary.add_argument("--odds-ratios", action="store_true",
                         help="add exp(coef) with its interval")
    _features(summary, summary=True)
    _reading(summary)
    info = command("info", "print what a model file records")
    info.add_argument("model", help="a model file written by 'sk-softmax fit --save'")
    export = command("export", "convert a model file to ONNX (needs onnx and skl2onnx)")
    export.add_argument("model", help="a model file written by 'sk-softmax fit --save'")
    export.add_argument("output", metavar="OUT.onnx", help="the ONNX file to write")
    export.add_argument("--force", action="store_true", help="replace an existing OUT.onnx")
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    text = " ".join(str(message).split())
    if category.__name__ == "ConvergenceWarning":
        text += " (on the command line: --max-iter N)"
    sys.stderr.write(f"sk-softmax: warning: {category.__name__}: {text}\n")


class _Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where the command is, so that its files are cleaned up
    (a temporary model file is removed, never left beside the target)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


@contextlib.contextmanager
def terminations_raise():
    """SIGTERM and SIGHUP raise :class:`_Terminated` in the block (the main thread
    only: elsewhere Python cannot set handlers); the previous handlers come back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, _raise_terminated) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv=None):
    """Run the command line; return the exit status."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = build_parser().parse_args(argv)
    args.argv = argv
    with terminations_raise():
        return _run(args)


def _run(args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            warnings.showwarning = _show_warning
            if args.command is None:
                from ._demo import run_demo

                run_demo(progress=_progress)
            else:
                {"fit": fit_command, "predict": predict_command, "info": info_command,
                 "summary": summary_command, "export": export_command}[args.command](args)
            sys.stdout.flush()
    except BrokenPipeError:  # the reader (head, less) closed the pipe: end quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    except KeyboardInterrupt:
        print("sk-softmax: interrupted", file=sys.stderr)
        return 130
    except _Terminated as exc:
        print(f"sk-softmax: terminated ({signal.Signals(exc.signum).name})", file=sys.stderr)
        return 128 + exc.signum
    except MemoryError:
        print("sk-softmax: error: out of memory: the data or the model does not fit in "
              "memory (fewer rows, or fewer --hidden units)", file=sys.stderr)
        return 2
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


def _warn(text):
    sys.stderr.write(f"sk-softmax: warning: {text}\n")


def _cross_validate(args, ours, features, X, y, n_classes):
    """Print the cross-validated scores of ours and the --compare peers; return them."""
    from ._demo import compare, peers

    print(f"{args.cv}-fold cross-validation, alpha={args.alpha:g}, seed {args.seed}")
    if args.hidden and args.compare in ("lr", "all"):
        print("(LogisticRegression has no hidden layers: a linear baseline)")
    which = {"none": (), "lr": ("lr",), "mlp": ("mlp",), "all": ("lr", "mlp")}
    models = {f"SoftmaxNNClassifier{args.hidden}": ours, **peers(
        args.alpha, args.hidden or (100,), n_classes=n_classes,
        reference=ours.reference_class, which=which[args.compare], seed=args.seed,
        max_iter=args.max_iter, class_weight=ours.class_weight)}
    return compare(models, X, y, args.cv, _progress, features=features, seed=args.seed,
                   warn=_warn)


def fit_command(args):
    from sklearn.pipeline import Pipeline

    from ._classifier import SoftmaxNNClassifier

    save = check_output(args.save, "--save", [args.data], args.force)
    if save:
        from ._persist import require_skops

        require_skops()
    table = read_table(args.data, args.sep, args.decimal, args.categorical, args.na_values)
    y = labels(table, args.target)
    if args.id in {args.target, *args.drop} and args.id:
        raise CLIError(f"--id {args.id!r} is also the --target or a --drop column")
    numeric, categorical = feature_columns(table, args, exclude=[args.target, args.id])
    classes, _ = check_target(y, args)
    missing = refuse_missing(table, numeric + categorical, args.impute)
    X = table.frame[numeric + categorical]
    weights = args.class_weight
    if isinstance(weights, dict):
        weights = {label_of(k, y, "--class-weight"): w for k, w in weights.items()}
    ours = SoftmaxNNClassifier(
        hidden_layer_sizes=args.hidden, activation=args.activation, alpha=args.alpha,
        reference_class=label_of(args.reference_class, y), class_weight=weights,
        max_iter=args.max_iter or SoftmaxNNClassifier().max_iter, random_state=args.seed)
    features = make_features(numeric, categorical, args.impute)
    check_memory(len(y), len(numeric) + len(categorical), args.hidden, len(classes))
    describe(table, y, numeric, categorical)
    if missing:
        print(f"imputed: {missing[0]} missing cell(s) ({args.impute}, with indicator columns)")
    scores = _cross_validate(args, ours, features, X, y, len(classes)) if args.cv else {}
    start = time.perf_counter()
    _progress(f"fitting on all {len(y)} rows ...")
    model = Pipeline([("features", features), ("model", ours)]).fit(X, y)
    _progress("")
    print(f"fitted on all rows in {time.perf_counter() - start:.2f} s "
          f"({model[-1].n_iter_} iterations, {model[0].transform(X[:1]).shape[1]} inputs)")
    if save:
        from ._persist import save_model

        save_model(model, save, metadata=_metadata(args, table, classes, numeric,
                                                   categorical, scores))
        print(f"saved {save}")


#: Bytes a fit needs per parameter (theta, gradients, L-BFGS's 10 pairs of corrections,
#: the solver's copies) and per hidden activation of a row (the passes' buffers).
BYTES_PER_PARAMETER, BYTES_PER_ACTIVATION = 8 * 30, 8 * 3


def check_memory(n_rows, n_columns, hidden, n_classes):
    """Refuse (before any work) a network whose fit needs more memory than this machine
    has: ``--hidden 100000000`` ended in a MemoryError traceback."""
    units = [n_columns, *hidden, n_classes]
    n_params = sum((a + 1) * b for a, b in zip(units[:-1], units[1:]))
    needed = n_params * BYTES_PER_PARAMETER + n_rows * sum(hidden) * BYTES_PER_ACTIVATION
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf: the MemoryError catch
        return
    if needed > available:
        raise CLIError(
            f"--hidden {','.join(map(str, hidden))}: a network of {n_params:,} parameters "
            f"on {n_rows:,} rows needs about {needed / 2**30:,.0f} GiB to fit; this "
            f"machine has {available / 2**30:,.0f} GiB. Use fewer hidden units.")


def _metadata(args, table, classes, numeric, categorical, scores):
    import datetime

    import sklearn

    from . import __version__

    return {
        "sk_softmax_version": __version__, "sklearn_version": sklearn.__version__,
        "saved_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command_line": shlex.join(["sk-softmax", *args.argv]),
        "target": args.target, "classes": [str(c) for c in classes],
        "feature_names": numeric + categorical, "numeric": numeric,
        "categorical": categorical, "id_column": args.id, "dropped": list(args.drop),
        "impute": args.impute, "na_values": list(args.na_values),
        "n_rows": int(len(table.frame)),
        "cv_folds": args.cv, "cv_scores": scores,
    }


def predict_command(args):
    from ._persist import command_line_metadata, load_model

    output = check_output(args.output, "--output", [args.data, args.model], args.force,
                          stdout=True)
    model = load_model(args.model)
    meta = command_line_metadata(args.model)
    if not hasattr(model, "feature_names_in_"):
        raise CLIError(f"{args.model}: the model has no feature names (it was fitted on an "
                       "array, not a table), so the CSV's columns cannot be matched to its "
                       "features: fit it with sk-softmax fit or on a pandas DataFrame")
    names = [str(c) for c in model.feature_names_in_]
    categorical = [c for c in meta.get("categorical", []) if c in names]
    key = args.id or meta.get("id_column")
    text = categorical + ([key] if key and key not in names else [])  # a feature: as fitted
    na_values = args.na_values or meta.get("na_values") or []  # as the model was fitted
    table = read_table(args.data, args.sep, args.decimal, text, na_values)
    absent = [c for c in names if c not in table.frame.columns]
    if absent:
        raise CLIError(f"{args.data}: lacks the model's feature column(s) {', '.join(absent)} "
                       f"(the model's features: {', '.join(names)})")
    for name in names:
        if numeric_or_text(table, name, name in categorical) != (
                "categorical" if name in categorical else "numeric"):
            raise CLIError(f"{args.data}: column {name!r} holds text; the model was fitted "
                           "on numbers there")
    refuse_missing(table, names, meta.get("impute"),
                   hint="or refit the model with --impute median (or most_frequent)")
    X = table.frame[names]
    out = {}
    if key and key in table.frame.columns:
        out[csv_cell(key)] = [csv_cell(v) for v in table.frame[key].to_numpy()]
    elif args.id:
        table.column(args.id, "--id")
    elif key:
        _warn(f"{args.data} has no ID column {key!r}; the predictions are in row order")
    pd = __import__("pandas")
    if args.proba:
        out.update(zip([csv_cell(str(c)) for c in model.classes_], model.predict_proba(X).T))
    else:
        out["prediction"] = [csv_cell(v) for v in model.predict(X)]
    frame = pd.DataFrame(out)
    if output:
        write_atomic(output, lambda handle: frame.to_csv(handle, index=False))
    else:
        frame.to_csv(sys.stdout, index=False)


def _number(value, kind="coef"):
    """A table cell: fixed notation where it reads well, else scientific."""
    if not np.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if kind == "p":
        return f"{value:.4f}" if value >= 1e-4 else f"{value:.1e}"
    digits = 3 if kind == "z" else 4
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.{digits}f}"
    return f"{value:.{digits - 1}e}"


def format_summary(result, classes, reference, level=0.95, odds_ratios=False):
    """The inference table, columns as wide as their values (never run together).

    Each class is read against the reference class; two classes: ``classes[1]``
    against ``classes[0]`` (LogisticRegression's layout, whatever the reference).
    """
    against = classes[0] if len(classes) == 2 else reference
    pct_low, pct_high = f"{50 - 50 * level:g}%", f"{50 + 50 * level:g}%"
    header = ["", "coef", "std err", "z", "P>|z|", f"[{pct_low}", f"{pct_high}]"]
    if odds_ratios:
        header += ["odds ratio", f"[{pct_low}", f"{pct_high}]"]
    (c_low, c_high), (i_low, i_high) = result.conf_int(level)
    blocks = []
    for r, label in enumerate(result.classes):
        terms = [("intercept", result.intercept[r], result.std_err_intercept[r],
                  result.z_intercept[r], result.p_intercept[r], i_low[r], i_high[r])
                 ] if result.has_intercept else []
        terms += [(str(name), result.coef[r, f], result.std_err_coef[r, f],
                   result.z_coef[r, f], result.p_coef[r, f], c_low[r, f], c_high[r, f])
                  for f, name in enumerate(result.feature_names)]
        if label == reference and len(classes) > 2:
            blocks.append((label, None))
            continue
        rows = []
        for name, coef, err, z, p, low, high in terms:
            row = [name, _number(coef), _number(err), _number(z, "z"), _number(p, "p"),
                   _number(low), _number(high)]
            if odds_ratios:
                with np.errstate(over="ignore"):
                    row += [_number(v) for v in np.exp([coef, low, high])]
            rows.append(row)
        blocks.append((label, rows))
    all_rows = [header] + [row for _, rows in blocks if rows for row in rows]
    widths = [max(len(row[k]) for row in all_rows) for k in range(len(header))]

    def line(row):
        return "  ".join([row[0].ljust(widths[0])] + [
            cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]).rstrip()

    lines = [f"Softmax regression: n_obs = {result.n_obs:g}, llf = {result.llf:.6g}, "
             f"llnull = {result.llnull:.6g}, pseudo R2 = {result.pseudo_r2:.4f}",
             f"AIC = {result.aic:.6g}, BIC = {result.bic:.6g}, covariance: {result.cov_type}"]
    if result.separated.size:
        lines.append(f"separated: no maximum-likelihood estimate for class(es) "
                     f"{', '.join(map(str, result.separated))}; their statistics are nan")
    lines += result.condition_note()
    for label, rows in blocks:
        if rows is None:
            lines += ["", f"class = {label}: reference class, every coefficient fixed at 0"]
            continue
        lines += ["", f"class = {label} (against {against})", line(header),
                  "-" * len(line(header))]
        lines += [line(row) for row in rows]
    return "\n".join(lines)


def summary_command(args):
    from ._classifier import SoftmaxNNClassifier

    table = read_table(args.data, args.sep, args.decimal, args.categorical, args.na_values)
    y = labels(table, args.target)
    numeric, categorical = feature_columns(table, args, exclude=[args.target])
    check_target(y, args)
    refuse_missing(table, numeric + categorical, args.impute)
    base = [table.frame[c].mode().iloc[0] for c in categorical]  # the most frequent
    features = make_features(numeric, categorical, args.impute, base_levels=base)
    pd = __import__("pandas")
    design = features.fit_transform(table.frame[numeric + categorical])
    X = pd.DataFrame(np.asarray(design, dtype=np.float64),
                     columns=[str(c) for c in features.get_feature_names_out()])
    # Columns of any scale: the estimator's preconditioner centres and scales them.
    model = SoftmaxNNClassifier(
        alpha=0.0, reference_class=label_of(args.reference_class, y), solver="trust-ncg",
        tol=1e-8, max_iter=args.max_iter or 500).fit(X, y)
    if not model.converged_:
        raise CLIError("the maximum-likelihood fit did not converge (separable classes "
                       "or collinear features?); no standard errors to report")
    result = model.inference(X, y, cov_type=args.cov_type)
    text = format_summary(result, model.classes_, model.reference_class,
                          odds_ratios=args.odds_ratios)
    if categorical:
        head, rest = text.split("\n\n", 1)
        levels = ", ".join(f"{c} = {level}" for c, level in zip(categorical, base))
        text = f"{head}\none-hot encoded, relative to the most frequent level: {levels}" + (
            f"\n\n{rest}")
    print(text)
    if args.margins:
        print("\n" + result.marginal_effects(at="overall", method="dydx").summary())


def info_command(args):
    from ._persist import command_line_metadata, load_model

    model = load_model(args.model)
    meta = command_line_metadata(args.model)
    p = printable

    def listed(values):
        return ", ".join(p(v) for v in values)

    print(f"{p(args.model)}: " + (" -> ".join(type(step).__name__ for _, step in model.steps)
                                  if hasattr(model, "steps") else type(model).__name__))
    if not meta:
        print("no metadata (a model file written before sk-softmax recorded it)")
        names = getattr(model, "feature_names_in_", None)
        print(f"features: {listed(names)}" if names is not None else
              f"features: {model.n_features_in_}, unnamed (fitted on an array)")
        print(f"classes: {listed(model.classes_)}")
        return
    print(f"saved {p(meta.get('saved_utc'))} by sk-softmax {p(meta.get('sk_softmax_version'))} "
          f"(scikit-learn {p(meta.get('sklearn_version'))})")
    print(f"command line: {p(meta.get('command_line'))}")
    print(f"target: {p(meta.get('target'))}; classes: {listed(meta.get('classes', []))}")
    print(f"features ({len(meta.get('feature_names', []))}): numeric "
          f"{listed(meta.get('numeric', [])) or '-'}; one-hot encoded "
          f"{listed(meta.get('categorical', [])) or '-'}")
    print(f"ID column: {p(meta.get('id_column') or '-')}; dropped: "
          f"{listed(meta.get('dropped', [])) or '-'}; missing cells: "
          f"{'imputed (' + p(meta['impute']) + ')' if meta.get('impute') else 'refused'}"
          f" (empty, ?, NA{''.join(', ' + p(v) for v in meta.get('na_values', []))})")
    scores = meta.get("cv_scores") or {}
    if scores:
        width = max(len(p(name)) for name in scores) + 2
        print(f"cross-validation ({p(meta.get('cv_folds'))} folds, {p(meta.get('n_rows'))} "
              "rows):")
        print(f"  {'model':<{width}}{'accuracy':>10}{'log-loss':>12}{'fit time (s)':>14}")
        for name, s in scores.items():
            print(f"  {p(name):<{width}}{s['accuracy']:>10.4f}{s['log_loss']:>12.4f}"
                  f"{s['fit_time_s']:>14.3f}")
    else:
        print("cross-validation: none (--cv 0)")


def export_command(args):
    from ._persist import load_model

    output = check_output(args.output, "OUT.onnx", [args.model], args.force)
    model = load_model(args.model)
    from .onnx import export_model

    export_model(model, output)
    print(f"wrote {output}")
