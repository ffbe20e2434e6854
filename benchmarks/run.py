"""Speed and memory of SoftmaxNNClassifier against LogisticRegression and MLPClassifier.

    python benchmarks/run.py            # every workload, writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick    # smaller workloads, under two minutes

For each workload, peer and ours are fitted alternately (peer, ours, peer, ours, ...),
single-threaded (BLAS and OpenMP limited to one thread with threadpoolctl) and with each
library's default threads. Reported: median fit time, iterations, loss/gradient
evaluations, time per evaluation, the final objective J of both (one independent
function, docs/math.md), the time each side needs to reach the worse of the two final
objectives, the plain matrix-product time per evaluation (the "floor"), peak extra memory
of a fit in a fresh process, and the ratios ours / peer.
"""

import argparse
import contextlib
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import logsumexp
from threadpoolctl import threadpool_info, threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from workloads import WORKLOADS, our_model, peer_model  # noqa: E402

import sk_softmax._solver  # noqa: E402


# --------------------------------------------------------------------------- objective
def objective_J(X, y, coefs, intercepts, activation, alpha):
    """docs/math.md's J (unit weights), computed independently of both libraries, in float64."""
    classes, y_codes = np.unique(y, return_inverse=True)
    total = 0.0
    for start in range(0, X.shape[0], 20_000):
        A = X[start : start + 20_000]
        A = A.astype(np.float64) if sp.issparse(A) else np.asarray(A, dtype=np.float64)
        for l, (W, b) in enumerate(zip(coefs, intercepts)):
            A = np.asarray(A @ np.asarray(W, dtype=np.float64)) + b
            if l < len(coefs) - 1:
                A = {"tanh": np.tanh, "relu": lambda Z: np.maximum(Z, 0)}[activation](A)
        codes = y_codes[start : start + 20_000]
        total += np.sum(logsumexp(A, axis=1) - A[np.arange(len(codes)), codes])
    n = X.shape[0]
    penalty = sum(float(np.sum(np.asarray(W, dtype=np.float64) ** 2)) for W in coefs)
    return total / n + alpha / (2 * n) * penalty


def fitted_network(model):
    """(coefs, intercepts) of a fitted LogisticRegression, MLPClassifier or ours."""
    if hasattr(model, "coefs_"):
        return model.coefs_, model.intercepts_
    return [model.coef_.T], [model.intercept_]


# --------------------------------------------------------------------------- tracing
@contextlib.contextmanager
def traced_minimize():
    """Record (time, f) after every L-BFGS iteration, the time spent in the objective
    function, nit and nfev, for peer and ours."""
    original = scipy.optimize.minimize
    trace = {}

    def minimize(fun, x0, *args, callback=None, **kwargs):
        takes_result = callback is not None and "intermediate_result" in (
            inspect.signature(callback).parameters
        )

        def recorder(intermediate_result):
            trace["times"].append(time.perf_counter())
            trace["funs"].append(float(intermediate_result.fun))
            if callback is not None:
                return callback(intermediate_result if takes_result else intermediate_result.x)

        def timed_fun(x, *fun_args):
            start = time.perf_counter()
            value = fun(x, *fun_args)
            trace["eval_s"] += time.perf_counter() - start
            return value

        trace.update(times=[], funs=[], eval_s=0.0)
        result = original(timed_fun, x0, *args, callback=recorder, **kwargs)
        trace.update(nit=int(result.nit), nfev=int(result.nfev), fun=float(result.fun))
        return result

    scipy.optimize.minimize = sk_softmax._solver.minimize = minimize
    try:
        yield trace
    finally:
        scipy.optimize.minimize = sk_softmax._solver.minimize = original


def timed_fit(model, X, y):
    """Fit once; return the wall time, the trace and the fitted model."""
    with traced_minimize() as trace:
        start = time.perf_counter()
        model.fit(X, y)
        wall = time.perf_counter() - start
    trace["times"] = [t - start for t in trace["times"]]
    return wall, trace, model


def time_to_reach(trace, target):
    """Seconds from the start of fit to the first iteration with f <= target."""
    for t, f in zip(trace["times"], trace["funs"]):
        if f <= target * (1 + 1e-12):
            return t
    return float("nan")


# --------------------------------------------------------------------------- floor
def median_time(fun, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fun()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def product_floor(X, hidden, n_classes):
    """Plain matrix products of one evaluation on the whole X, in X's dtype (seconds)."""
    rng = np.random.default_rng(0)
    dtype, n = X.dtype, X.shape[0]
    units = [X.shape[1], *hidden, n_classes]
    Ws = [rng.standard_normal((a, b)).astype(dtype) * 0.1 for a, b in zip(units, units[1:])]
    As = [X]
    for W in Ws[:-1]:
        As.append(np.asarray(As[-1] @ W))
    deltas = [rng.standard_normal((n, b)).astype(dtype) for b in units[1:]]
    total = 0.0
    for l, W in enumerate(Ws):  # forward: A_{l} @ W_{l+1}
        total += median_time(lambda: As[l] @ W)
    for l, W in enumerate(Ws):  # backward: A.T @ Delta, and Delta @ W.T below the top
        total += median_time(lambda: As[l].T @ deltas[l])
        if l > 0:
            total += median_time(lambda: deltas[l] @ W.T)
    return total


# --------------------------------------------------------------------------- memory
def peak_extra_memory(workload, side, threads, data_file):
    """Peak RSS above the loaded data during one fit, in a fresh process (MiB)."""
    code = (
        "import sys, json; sys.path.insert(0, %r); "
        "from run import memory_child; memory_child(%r, %r, %r, %r)"
    ) % (str(HERE), workload, side, threads, str(data_file))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _status_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)


def memory_child(workload, side, threads, data_file):
    import warnings

    warnings.simplefilter("ignore")
    data = np.load(data_file, allow_pickle=False)
    if "indptr" in data:
        X = sp.csr_matrix((data["data"], data["indices"], data["indptr"]),
                          shape=tuple(data["shape"]))
    else:
        X = data["X"]
    y = data["y"]
    spec = WORKLOADS[workload]
    factory = peer_model if side == "peer" else our_model
    with threadpool_limits(limits=threads):
        # A fit on 500 rows first: one-off costs (lazy imports, thread pools) are
        # not the fit's memory, on either side.
        factory(spec).fit(X[:500], y[:500])
        model = factory(spec)
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to now
        base = _status_kib("VmRSS")
        model.fit(X, y)
        peak = _status_kib("VmHWM")
    print(json.dumps((peak - base) / 1024))


def save_data(X, y, path):
    if sp.issparse(X):
        X = X.tocsr()
        np.savez(path, data=X.data, indices=X.indices, indptr=X.indptr,
                 shape=np.array(X.shape), y=y)
    else:
        np.savez(path, X=X, y=y)


def data_mib(X):
    if sp.issparse(X):
        return (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    return X.nbytes / 2**20


# --------------------------------------------------------------------------- driver
def run_workload(name, spec, repeats, threads, tmpdir, with_memory):
    import warnings

    warnings.simplefilter("ignore")
    X, y = spec["data"]()
    n_classes = len(np.unique(y))
    rows = []
    limit = 1 if threads == 1 else None
    with threadpool_limits(limits=limit):
        results = {"peer": [], "ours": []}
        for _ in range(repeats):
            for side, factory in (("peer", peer_model), ("ours", our_model)):
                # A pause first: BLAS and OpenMP threads of the previous fit spin-wait
                # for a while and would slow whichever side runs next.
                time.sleep(0.5)
                results[side].append(timed_fit(factory(spec), X, y))
        if sp.issparse(X):
            floor = product_floor_sparse(X, n_classes)
        else:
            floor = product_floor(X, spec.get("hidden", ()), n_classes)
        predict = {
            side: median_time(lambda m=results[side][-1][2]: m.predict_proba(X), repeats=3)
            for side in ("peer", "ours")
        }
    finals = {}
    for side in ("peer", "ours"):
        model = results[side][-1][2]
        finals[side] = objective_J(X, y, *fitted_network(model), spec.get("activation"),
                                   spec["alpha"])
    target = max(results["peer"][-1][1]["fun"], results["ours"][-1][1]["fun"])
    memory = {}
    if with_memory:
        path = Path(tmpdir) / f"{name}.npz"
        save_data(X, y, path)
        for side in ("peer", "ours"):
            memory[side] = peak_extra_memory(name, side, threads, path)
    for side in ("peer", "ours"):
        runs = results[side]
        wall = float(np.median([r[0] for r in runs]))
        trace = runs[-1][1]
        rows.append(dict(
            workload=name, side=side, threads=threads or "default",
            model=type(runs[-1][2]).__name__, fit_s=wall,
            nit=trace["nit"], nfev=trace["nfev"],
            per_eval_ms=float(np.median([1e3 * r[1]["eval_s"] / r[1]["nfev"] for r in runs])),
            J=finals[side],
            to_target_s=float(np.median([time_to_reach(r[1], target) for r in runs])),
            floor_ms=1e3 * floor, predict_proba_ms=1e3 * predict[side],
            memory_mib=memory.get(side), data_mib=data_mib(X),
        ))
    return rows


def product_floor_sparse(X, n_classes):
    """scipy's sparse products of one evaluation: X @ W and X.T @ Delta (seconds)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((X.shape[1], n_classes)).astype(X.dtype)
    delta = rng.standard_normal((X.shape[0], n_classes)).astype(X.dtype)
    return median_time(lambda: X @ W) + median_time(lambda: X.T @ delta)


def cpu_model():
    """The CPU's model name (Linux: /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_kernel():
    """`` (<kernel> kernel)`` of the BLAS (OpenBLAS's, e.g. Haswell or SkylakeX), which
    tells two machines of one CPU name apart; empty where it is unknown."""
    kernels = sorted({str(info.get("architecture")) for info in threadpool_info()
                      if info.get("user_api") == "blas" and info.get("architecture")})
    return f" ({', '.join(kernels)} kernel)" if kernels else ""


def l2_cache():
    """The L2 cache of one core, as the OS reports it (Linux sysfs), or "?"."""
    try:
        return Path("/sys/devices/system/cpu/cpu0/cache/index2/size").read_text().strip()
    except OSError:
        return "?"


def environment():
    lines = [f"CPU: {cpu_model()}, L2 {l2_cache()} per core",
             f"python {platform.python_version()}, {platform.machine()}, "
             f"{os.cpu_count()} cores"]
    import sklearn
    lines.append(f"numpy {np.__version__}, scipy {scipy.__version__}, "
                 f"scikit-learn {sklearn.__version__}")
    for info in threadpool_info():
        lines.append(f"{info['user_api']}: {info['internal_api']} {info.get('version')} "
                     f"kernel={info.get('architecture')} threads={info['num_threads']} "
                     f"({Path(info['filepath']).name})")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            lines.append(f"{var}={os.environ[var]} is set")
    return lines


HEADER = ("workload", "threads", "side", "model", "fit s", "iters", "evals", "ms/eval",
          "floor ms", "eval/floor", "J final", "s to target", "fit ratio",
          "target ratio", "predict ms", "mem MiB", "mem/X")


def table_rows(rows):
    out = []
    for peer, ours in zip(rows[0::2], rows[1::2]):
        for r in (peer, ours):
            mem = r["memory_mib"]
            out.append((
                r["workload"], str(r["threads"]), r["side"], r["model"], f"{r['fit_s']:.3f}",
                str(r["nit"]), str(r["nfev"]), f"{r['per_eval_ms']:.2f}",
                f"{r['floor_ms']:.2f}", f"{r['per_eval_ms'] / r['floor_ms']:.2f}",
                f"{r['J']:.12g}", f"{r['to_target_s']:.3f}",
                f"{r['fit_s'] / peer['fit_s']:.2f}",
                f"{r['to_target_s'] / peer['to_target_s']:.2f}",
                f"{r['predict_proba_ms']:.1f}",
                "-" if mem is None else f"{mem:.1f}",
                "-" if mem is None else f"{mem / r['data_mib']:.3f}",
            ))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads, < 2 min")
    parser.add_argument("--only", nargs="*", help="workload names to run")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    names = [n for n in WORKLOADS if WORKLOADS[n]["quick"] == args.quick]
    if args.only:
        names = [n for n in names if n in args.only]
    repeats = 3
    env = environment()
    print("\n".join(env))
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for name in names:
            for threads in (1, None):
                new = run_workload(name, WORKLOADS[name], repeats, threads, tmpdir,
                                   with_memory=threads == 1)
                rows.extend(new)
                for line in table_rows(new):
                    print(" | ".join(line), flush=True)
    write_results(args, env, rows)


def write_marked_section(path, start, end, text):
    """Write ``text`` (which begins with ``start`` and ends with ``end``) into the file
    at ``path``, in place of the part between those markers, or at its end."""
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    if start in old:
        old = old[: old.index(start)] + old[old.index(end) + len(end):].lstrip("\n")
    path.write_text(old.rstrip("\n") + "\n\n" + text + "\n")


def replace_section(text, heading, section):
    """``text`` (Markdown) with the ``## heading`` section replaced by ``section``
    (a list of lines), or ``section`` inserted after the title if there is none."""
    lines = text.rstrip("\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    if heading in lines:
        start = lines.index(heading)
        stop = next((i for i in starts if i > start), len(lines))
    else:
        start = stop = starts[0] if starts else len(lines)
        section = section + [""]
    return "\n".join(lines[:start] + section + lines[stop:]) + "\n"


def write_results(args, env, rows):
    """Write this run's table into its CPU's section of RESULTS.md (one section per
    CPU and size, dated); the other sections stay as they are."""
    heading = (f"## Main workloads{' (quick)' if args.quick else ''}: {cpu_model()}"
               f"{blas_kernel()}")
    lines = [heading, "",
             f"`python benchmarks/run.py{' --quick' if args.quick else ''}`, "
             f"{time.strftime('%Y-%m-%d %H:%M')}. Medians of 3 alternating fits per side. "
             "Ratios are ours / peer in the same run (below 1: ours is faster).", "",
             "Environment:", ""] + [f"- {line}" for line in env] + [""]
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(rows)]
    lines += ["", "Columns: `evals` = loss/gradient evaluations; `ms/eval` = time spent inside "
              "the objective function (loss and gradient) per evaluation; "
              "`floor ms` = the plain matrix products of one evaluation on the whole X "
              "(dense: X @ W and X.T @ Delta, five products with a hidden layer; sparse: "
              "scipy's sparse products); `J final` = docs/math.md's objective of the fitted "
              "parameters, one independent function for both; `s to target` = time from "
              "the start of fit to the first iteration whose objective is at most the worse "
              "of the two final objectives; `mem MiB` = peak RSS above the loaded data "
              "during one fit in a fresh process (after a warm-up fit on 500 rows); "
              "`mem/X` = that over the size of X.", ""]
    path = Path(args.output)
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    path.write_text(replace_section(text, heading, lines))
    print(f"wrote {heading!r} in {args.output}")


if __name__ == "__main__":
    main()
