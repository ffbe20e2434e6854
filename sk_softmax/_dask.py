"""Fitting on dask arrays with dask.distributed: the data preparation and the data term
as sums over chunks on the workers (L-BFGS runs on the client); lazy predictions with
map_blocks."""

# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import column_or_1d

from ._network import ParamLayout
from ._objective import Objective
from ._precondition import empty_moments, label_moments, scaled_covariance
from ._prepare import (
    FitData,
    check_not_complex,
    check_sample_weight,
    check_targets,
    check_X_shape,
    class_weights_and_total,
    label_summary,
    merge_summaries,
    normalised_weight,
    resolve_classes,
)


def is_dask_collection(value):
    """Whether ``value`` is a dask collection (without importing dask otherwise)."""
    if not type(value).__module__.startswith("dask"):
        return False
    import dask

    return dask.is_dask_collection(value)


def _require_distributed():
    try:
        import dask.array as da
        from distributed import get_client
    except ImportError:
        raise ImportError(
            "fitting on dask arrays needs dask and distributed: "
            "from the source checkout, python -m pip install -e '.[dask]'"
        ) from None
    try:
        client = get_client()
    except ValueError:
        raise ValueError(
            "fitting on dask arrays needs a dask.distributed Client: create one "
            "(e.g. Client(LocalCluster())) before calling fit"
        ) from None
    return da, client


def _as_row_chunked(da, X, y, sample_weight, estimator_name):
    """Return X (one chunk of columns), y and sample_weight as dask arrays with X's
    row chunks; numpy y or sample_weight of the right length are chunked alike.

    Shape and dtype errors are those of the in-memory fit."""
    X = da.asarray(X)
    check_X_shape(X, estimator_name)
    if any(np.isnan(n) for n in X.shape):
        raise ValueError("X has unknown chunk sizes: call X.compute_chunk_sizes() first.")
    if 0 in X.shape:  # the in-memory error, from an empty array of the same shape
        check_array(np.empty(X.shape), estimator=estimator_name)
    check_not_complex(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = X.rechunk({1: -1})
    rows = X.chunks[0]

    def like_rows(name, values):
        if values is None:
            return None
        values = values if is_dask_collection(values) else np.asarray(values)
        if values.shape[:1] != (X.shape[0],) or (name != "y" and values.ndim != 1):
            raise ValueError(f"Found input variables with inconsistent numbers of "
                             f"samples: {[X.shape[0], values.shape[0]]}" if name == "y"
                             else f"sample_weight.shape == {values.shape}, expected "
                             f"{(X.shape[0],)}!")
        return da.asarray(values).rechunk((rows,) + values.shape[1:])

    y = like_rows("y", y)
    if y.ndim != 1:  # the in-memory warning or error, from a stand-in of no memory
        column = y.shape[1:] == (1,)
        column_or_1d(np.zeros((2, 1)) if column else np.broadcast_to(0.0, y.shape),
                     warn=True)
        y = y.reshape(-1)
    return X, y, like_rows("sample_weight", sample_weight)


def _chunk_summary(X, y, sample_weight, estimator_name):
    """Check one chunk as the in-memory fit checks the whole data; return its
    :func:`~sk_softmax._prepare.label_summary` and the
    :class:`~sk_softmax._precondition.LabelMoments` of its columns by label (the
    preconditioner's moments, in the same pass)."""
    X = check_array(X, dtype=[np.float64, np.float32], estimator=estimator_name,
                    input_name="X", ensure_min_samples=0)
    y = check_targets(y, estimator_name)
    sample_weight = check_sample_weight(sample_weight, len(y))
    summary = label_summary(y, sample_weight)
    codes = np.searchsorted(summary[0], y)
    return summary, label_moments(X, codes, sample_weight, len(summary[0]))


def _chunk_objective(X, y, sample_weight, layout_params, activation, classes,
                     class_weights, sw_sum):
    """The chunk's data term, built once per fit on the worker that holds the chunk:
    its share of the whole data term (weights over the global ``S``)."""
    y_true = np.searchsorted(classes, y)
    weight = normalised_weight(y_true, check_sample_weight(sample_weight, len(y)),
                               class_weights, sw_sum)
    return Objective(X, y_true, weight, ParamLayout(*layout_params), activation)


def _chunk_covariance(X, y, sample_weight, classes, class_weights, sw_sum, centre, scale):
    """The chunk's share of the scaled columns' second moments under the fit's
    normalised weights (whose sum over all chunks is 1)."""
    y_true = np.searchsorted(classes, y)
    weight = normalised_weight(y_true, check_sample_weight(sample_weight, len(y)),
                               class_weights, sw_sum)
    return scaled_covariance(X, weight, centre, scale)


#: Tries of an evaluation whose connection to a worker fails, and the pause between.
RETRIES, RETRY_PAUSE_S = 4, 0.5


def _evaluate(objective, theta):
    return objective(theta)


class DaskObjective:
    """The data term ``theta -> (sum_i w_i NLL_i, gradient)`` over the chunks of
    persisted dask arrays.

    Each chunk's :class:`~sk_softmax._objective.Objective` (its label codes, weights,
    row blocks and buffers) is built once per fit on the worker holding the chunk.
    Each evaluation sends ``theta`` to the workers once, computes every chunk's share
    there (float64 sums) and adds them up here. A context manager, like
    :class:`~sk_softmax._objective.Objective`.
    """

    def __init__(self, client, chunks, layout, activation, classes, class_weights,
                 sw_sum):
        self.client, self.layout = client, layout
        static = ((layout.layer_units, layout.reference, layout.fit_intercept),
                  activation, classes, class_weights, sw_sum)
        # Each chunk's objective and its evaluations run where the chunk is: moving an
        # objective would move (pickle) its chunk of X at every evaluation. The
        # restriction is loose, so that a lost worker's share runs elsewhere.
        who_has = client.who_has([X for X, _, _ in chunks])
        self.workers = [list(who_has[X.key]) or None for X, _, _ in chunks]
        self.objectives = [
            client.submit(_chunk_objective, X, y, sw, *static, workers=workers,
                          allow_other_workers=True)
            for (X, y, sw), workers in zip(chunks, self.workers)
        ]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.client.cancel(self.objectives)

    def __call__(self, theta):
        # A worker that has just died, before the scheduler noticed, can be picked for
        # the scatter: the connection fails (OSError, e.g. CommClosedError). The
        # scheduler then reassigns its chunks; the evaluation is tried again.
        for attempt in range(RETRIES - 1):
            try:
                return self._evaluate_once(theta)
            except OSError:
                time.sleep(RETRY_PAUSE_S * (attempt + 1))
        return self._evaluate_once(theta)  # the last try: its error is raised

    def _evaluate_once(self, theta):
        # One scatter per evaluation; each worker fetches theta once for all its
        # chunks. (A broadcast would keep replicating to a worker that died.)
        theta_future = self.client.scatter(theta, hash=False)
        futures = [
            self.client.submit(_evaluate, objective, theta_future, pure=False,
                               workers=workers, allow_other_workers=True)
            for objective, workers in zip(self.objectives, self.workers)
        ]
        parts = self.client.gather(futures)
        return (float(sum(part[0] for part in parts)),
                np.sum([part[1] for part in parts], axis=0))


def prepare_dask(X, y, sample_weight, classes, *, class_weight, solver, estimator_name):
    """The :class:`~sk_softmax._prepare.FitData` of dask arrays on the current
    dask.distributed client.

    X is persisted once; one pass over the chunks checks them as the in-memory fit
    checks its data (same errors) and gives the label summary, from which the
    classes, class weights and ``S`` are computed by the same functions.
    """
    if solver != "lbfgs":
        raise ValueError("Fitting on dask arrays supports solver='lbfgs' only.")
    da, client = _require_distributed()
    if y is None:
        raise ValueError(f"This {estimator_name} estimator requires y to be passed, but "
                         "the target y is None.")  # validate_data's message
    X, y, sample_weight = _as_row_chunked(da, X, y, sample_weight, estimator_name)
    # Persist once: every evaluation reads the chunks from the workers' memory.
    persisted = client.persist([a for a in (X, y, sample_weight) if a is not None])
    X, y = persisted[:2]
    sample_weight = persisted[2] if len(persisted) == 3 else None
    n_chunks = len(X.chunks[0])
    chunks = list(zip(_chunk_futures(X), _chunk_futures(y),
                      [None] * n_chunks if sample_weight is None
                      else _chunk_futures(sample_weight)))
    parts = client.gather([client.submit(_chunk_summary, *chunk, estimator_name)
                           for chunk in chunks])
    summary = merge_summaries([part[0] for part in parts])
    classes = resolve_classes(summary[0], classes)
    class_weights, class_counts, sw_sum = class_weights_and_total(
        class_weight, classes, summary)
    moments = empty_moments(len(classes), X.shape[1])
    for (labels, _, _), chunk_moments in parts:
        index = np.searchsorted(classes, labels)
        moments = moments.merged(chunk_moments.take(index, len(classes)))
    pooled = moments.pooled(class_weights)

    def covariance(centre, scale):  # a second pass, only where whitening may pay
        return sum(client.gather([
            client.submit(_chunk_covariance, *chunk, classes, class_weights, sw_sum,
                          centre, scale) for chunk in chunks]))

    return FitData(
        classes=classes, class_counts=class_counts, sw_sum=sw_sum,
        n_features=X.shape[1], n_values=int(summary[1].sum()) * X.shape[1],
        feature_names=None, dtype=X.dtype,
        make_objective=lambda layout, activation: DaskObjective(
            client, chunks, layout, activation, classes, class_weights, sw_sum),
        moments=lambda full: (*pooled, covariance if full else None),
    )


def _chunk_futures(collection):
    """The futures of a persisted dask array's chunks, in row order (no new tasks,
    no copies: each is the chunk itself, in its worker's memory)."""
    from dask.core import flatten
    from distributed import futures_of

    by_key = {future.key: future for future in futures_of(collection)}
    return [by_key[key] for key in flatten(collection.__dask_keys__())]


def map_blocks(X, function, n_columns, dtype):
    """``function`` applied lazily to each row chunk of a dask array X."""
    X = X.rechunk({1: -1})
    if n_columns is None:
        return X.map_blocks(function, drop_axis=1, dtype=dtype)
    return X.map_blocks(function, chunks=(X.chunks[0], (n_columns,)), dtype=dtype)
