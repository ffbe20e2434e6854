"""SoftmaxNNClassifier on torch arrays (array API): W2 at 1M x 100 float32 on one GPU.

    python benchmarks/gpu_run.py                         # CUDA, 1,000,000 rows (< 5 minutes)
    python benchmarks/gpu_run.py --device cpu --rows 20000   # torch on the CPU, a quick look

W2's problem (make_classification: 100 features, 10 classes, alpha=1e-2) as float32, fitted
under sklearn.set_config(array_api_dispatch=True) with X a torch tensor on --device:
softmax regression next to LogisticRegression(solver="lbfgs") on the same tensors and
device (scikit-learn's own array-API fit), and next to our numpy fit on the CPU; then a
hidden layer of 256 (tanh) on the device and on the CPU, for a fixed iteration budget.
Prints, per fit: time, iterations, evaluations, time per evaluation (inside the loss and
gradient function) and the final J (docs/math.md's objective computed independently in
float64 on the host, benchmarks/run.py's objective_J). The table replaces the
"GPU (array API)" section of benchmarks/RESULTS.md, and nothing else of it.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # scikit-learn's dispatch needs it

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from run import objective_J, traced_minimize, write_marked_section  # noqa: E402

START, END = "<!-- gpu section -->", "<!-- end of gpu section -->"
ALPHA = 1e-2


def problem(n_rows):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_rows, 100, n_informative=20, n_redundant=10,
                               n_classes=10, random_state=0)
    return X.astype(np.float32), y


def host(array):
    """A numpy copy of a torch tensor (or the array itself)."""
    if hasattr(array, "detach"):
        return array.detach().cpu().numpy()
    return np.asarray(array)


def synchronise(torch, device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(fit, torch, device):
    """Run ``fit()`` (under dispatch where asked); return wall time, trace, model."""
    synchronise(torch, device)
    with traced_minimize() as trace:
        start = time.perf_counter()
        model = fit()
        synchronise(torch, device)
        wall = time.perf_counter() - start
    return wall, trace, model


def network(model):
    if hasattr(model, "coefs_"):
        return [host(W) for W in model.coefs_], [host(b) for b in model.intercepts_]
    return [host(model.coef_).T], [host(model.intercept_)]


def notes(device):
    """What a reader needs beside a run without a GPU."""
    if device.type == "cuda":
        return []
    return ["", "No GPU was used: this run checks that the script works end to end on torch's "
            "CPU at a small size; it measures no GPU. On a CPU our torch data term runs a "
            "block at a time on one torch thread, without the numpy data term's cache-sized "
            "blocks and threads, hence the slower evaluations. float32 rounding differs "
            "between torch and numpy, which moves float32 L-BFGS paths near their noise "
            "floor (other iteration and evaluation counts); the final J of the converged "
            "fits agree to about 1e-8. Our fits hold the host's BLAS (SciPy's L-BFGS) to one "
            "thread, LogisticRegression leaves it as it is: on this loaded 2-core machine its "
            "threads contend with torch's. Run `python benchmarks/gpu_run.py` on a CUDA "
            "machine for the GPU table."]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="torch device (cuda, cpu, mps)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--tol", type=float, default=1e-6,
                        help="gradient tolerance of the linear fits (both libraries)")
    parser.add_argument("--max-iter", type=int, default=1000,
                        help="iteration budget of the linear fits")
    parser.add_argument("--hidden-iter", type=int, default=50,
                        help="fixed iteration budget of the hidden-layer fits")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's own)")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    command = f"--device {args.device} --rows {args.rows}" + (
        f" --threads {args.threads}" if args.threads is not None else "")

    import sklearn
    import torch
    from sklearn.linear_model import LogisticRegression

    from sk_softmax import SoftmaxNNClassifier

    warnings.simplefilter("ignore")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    X, y = problem(args.rows)
    X_device, y_device = torch.asarray(X, device=device), torch.asarray(y, device=device)

    def on_device(make):
        def fit(X_fit=X_device, y_fit=y_device):
            with sklearn.config_context(array_api_dispatch=True):
                return make().fit(X_fit, y_fit)
        return fit

    linear = dict(alpha=ALPHA, tol=args.tol, max_iter=args.max_iter)
    hidden = dict(hidden_layer_sizes=(args.hidden,), activation="tanh", alpha=ALPHA,
                  tol=0.0, max_iter=args.hidden_iter, random_state=0)
    fits = [
        ("ours, softmax regression", args.device,
         on_device(lambda: SoftmaxNNClassifier(**linear))),
        ("LogisticRegression lbfgs (array API)", args.device,
         on_device(lambda: LogisticRegression(C=1 / ALPHA, tol=args.tol,
                                              max_iter=args.max_iter))),
        ("ours, softmax regression", "numpy CPU",
         lambda: SoftmaxNNClassifier(**linear).fit(X, y)),
        (f"ours, hidden {args.hidden} tanh", args.device,
         on_device(lambda: SoftmaxNNClassifier(**hidden))),
        (f"ours, hidden {args.hidden} tanh", "numpy CPU",
         lambda: SoftmaxNNClassifier(**hidden).fit(X, y)),
    ]
    # Warm-up on 2,000 rows (CUDA context, cuBLAS handles, first-call compilation).
    for _, where, fit in fits:
        if where != "numpy CPU":
            fit(X_device[:2000], y_device[:2000])
    rows = ["| fit | where | s | iterations | evaluations | ms / evaluation | J final |",
            "|---|---|---|---|---|---|---|"]
    for name, where, fit in fits:
        wall, trace, model = timed(fit, torch, device)
        coefs, intercepts = network(model)
        J = objective_J(X, y, coefs, intercepts, "tanh", ALPHA)
        per_eval = 1e3 * trace["eval_s"] / trace["nfev"]
        line = (f"| {name} | {where} | {wall:.2f} | {trace['nit']} | {trace['nfev']} "
                f"| {per_eval:.2f} | {J:.10f} |")
        print(line, flush=True)
        rows.append(line)
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    else:
        threads = torch.get_num_threads()
        device_name = (f"torch's CPU ({threads} thread{'s' if threads > 1 else ''}; no GPU "
                       "was used)")
    text = "\n".join([
        START, "## GPU (array API)", "",
        f"{time.strftime('%Y-%m-%d')}, `python benchmarks/gpu_run.py {command}`: "
        f"W2's problem as float32, {args.rows:,} x 100, K=10, "
        f"alpha={ALPHA}, on {device_name}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}. Softmax regression to a gradient tolerance of {args.tol} "
        f"(max_iter {args.max_iter}); the hidden layer for {args.hidden_iter} iterations. "
        "`ms / evaluation` is the time inside the loss and gradient function; `J final` "
        "is docs/math.md's J of the fitted parameters, computed in float64 on the host.",
        "", *rows, *notes(device), END])
    print(text)
    write_marked_section(args.output, START, END, text)


if __name__ == "__main__":
    main()
