"""SoftmaxNNClassifier on dask arrays: a problem larger than each worker's memory limit.

    python benchmarks/dask_run.py            # 4 million x 100 float32 (1.6 GB), 2 workers
    python benchmarks/dask_run.py --rows 400000 --max-iter 10   # a quick look

A lazily generated dense problem (labels drawn from a planted softmax model, K=10,
float32) is fitted on a LocalCluster of 2 single-threaded workers whose memory limits
are each smaller than X; beside it, an in-memory fit of a slice that fits, and the
scheduling overhead per evaluation on a small problem. The numbers replace the
"Dask" section of benchmarks/RESULTS.md.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import traced_minimize, write_marked_section  # noqa: E402

START, END = "<!-- dask section -->", "<!-- end of dask section -->"


def problem(da, n_rows, chunk_rows):
    rng = da.random.default_rng(0)
    X = rng.standard_normal((n_rows, 100), chunks=(chunk_rows, 100), dtype=np.float32)
    W = rng.standard_normal((100, 10), chunks=(100, 10)) * 0.3
    noise = rng.gumbel(size=(n_rows, 10), chunks=(chunk_rows, 10))
    return X, da.argmax(X @ W + noise, axis=1)


def timed_fit(model, X, y):
    with traced_minimize() as trace:
        start = time.perf_counter()
        model.fit(X, y)
        wall = time.perf_counter() - start
    return wall, trace


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--max-iter", type=int, default=50)
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from sk_softmax import SoftmaxNNClassifier

    warnings.simplefilter("ignore")
    x_bytes = args.rows * 100 * 4
    # Each worker's limit is smaller than X (but holds its half of X below dask's
    # 80% pause threshold, and a worker's own ~300 MB on small runs).
    limit = max(int(0.95 * x_bytes), 600_000_000)
    lines = []
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=limit,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        X, y = problem(da, args.rows, 250_000 if args.rows >= 1_000_000 else 50_000)
        model = SoftmaxNNClassifier(alpha=1e-2, tol=1e-6, max_iter=args.max_iter)
        wall, trace = timed_fit(model, X, y)
        lines.append(("dask, 2 workers", args.rows, wall, trace))
        n_slice = min(args.rows, 400_000)
        X_slice, y_slice = dask.compute(X[:n_slice], y[:n_slice])
        with threadpool_limits(1):
            wall, trace = timed_fit(SoftmaxNNClassifier(alpha=1e-2, tol=1e-6,
                                                        max_iter=args.max_iter),
                                    X_slice, y_slice)
        lines.append(("in memory, 1 thread", n_slice, wall, trace))
        # Scheduling overhead: a problem whose work is negligible, in 4 chunks.
        X_small, y_small = problem(da, 4_000, 1_000)
        wall, trace = timed_fit(SoftmaxNNClassifier(max_iter=20), X_small, y_small)
        small_eval = trace["eval_s"] / trace["nfev"]
        X_np, y_np = dask.compute(X_small, y_small)
        wall_np, trace_np = timed_fit(SoftmaxNNClassifier(max_iter=20), X_np, y_np)
        overhead = small_eval - trace_np["eval_s"] / trace_np["nfev"]
        workers = len(client.scheduler_info()["workers"])
    rows = ["| fit | rows | GB of X | fit s | iterations | evaluations | ms / evaluation "
            "| ms / evaluation / million rows |", "|---|---|---|---|---|---|---|---|"]
    for name, n, wall, trace in lines:
        per_eval = 1e3 * trace["eval_s"] / trace["nfev"]
        rows.append(f"| {name} | {n:,} | {n * 400 / 1e9:.2f} | {wall:.1f} | {trace['nit']} "
                    f"| {trace['nfev']} | {per_eval:.1f} | {per_eval / (n / 1e6):.1f} |")
    text = "\n".join([
        START, "## Dask (`python benchmarks/dask_run.py`)", "",
        f"{time.strftime('%Y-%m-%d')}: X is {args.rows:,} x 100 float32 ({x_bytes / 1e9:.2f} GB), "
        f"K=10, generated lazily; LocalCluster of {workers} workers x 1 thread, each with a "
        f"memory limit of {limit / 1e9:.2f} GB (< X); X persisted once; at most "
        f"{args.max_iter} L-BFGS iterations, alpha=1e-2.", "", *rows, "",
        f"Scheduling overhead per evaluation (4,000 x 100 in 4 chunks, dask minus in-memory): "
        f"{1e3 * overhead:.1f} ms.", END])
    print(text)
    write_marked_section(args.output, START, END, text)


if __name__ == "__main__":
    main()
