"""Fitting on dask arrays with dask.distributed: per-chunk partial sums of J and its
gradient on the workers, L-BFGS on the client; lazy predictions with map_blocks."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from ._network import ParamLayout
from ._objective import Objective


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
            "pip install 'sk_softmax[dask]'"
        ) from None
    try:
        client = get_client()
    except ValueError:
        raise ValueError(
            "fitting on dask arrays needs a dask.distributed Client: create one "
            "(e.g. Client(LocalCluster())) before calling fit"
        ) from None
    return da, client


def _as_row_chunked(da, X, y, sample_weight):
    """Return X (one chunk of columns), y and sample_weight as dask arrays with X's
    row chunks; numpy y or sample_weight of the right length are chunked alike."""
    X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}.")
    if np.isnan(X.shape[0]):
        raise ValueError("X has unknown chunk sizes: call X.compute_chunk_sizes() first.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = X.rechunk({1: -1})
    rows = X.chunks[0]

    def like_rows(name, values):
        if values is None:
            return None
        values = values if is_dask_collection(values) else np.asarray(values)
        if values.ndim != 1 or values.shape[0] != X.shape[0]:
            raise ValueError(
                f"{name} must be 1-D with one entry per row of X ({X.shape[0]}); "
                f"got shape {values.shape}."
            )
        return da.asarray(values).rechunk((rows,))

    return X, like_rows("y", y), like_rows("sample_weight", sample_weight)


def _chunk_summary(X, y, sample_weight):
    """One pass over a chunk: labels present, per-label weight, finiteness."""
    labels, codes = np.unique(y, return_inverse=True)
    weight = np.ones(len(y)) if sample_weight is None else sample_weight
    return (labels, np.bincount(codes, weights=weight, minlength=len(labels)),
            bool(np.isfinite(X).all()), bool(np.all(weight >= 0)),
            bool(np.isfinite(weight).all()))


def _chunk_weight(y_chunk, sample_weight, classes, class_weight):
    """Sample weights times class weights for a chunk, and its label codes."""
    codes = np.searchsorted(classes, y_chunk)
    weight = np.ones(len(codes)) if sample_weight is None else np.asarray(
        sample_weight, dtype=np.float64)
    return codes, weight * class_weight[codes]


def _chunk_objective(X_chunk, y_chunk, sw_chunk, layout_params, activation, classes,
                     class_weight, weight_total):
    """The chunk's :class:`Objective`, built once per fit on the worker that holds
    the chunk: it evaluates the chunk's share of the penalty-free ``J``."""
    codes, weight = _chunk_weight(y_chunk, sw_chunk, classes, class_weight)
    return Objective(X_chunk, codes, weight, ParamLayout(*layout_params), activation,
                     0.0, weight_total=weight_total)


def _evaluate(objective, theta):
    return objective(theta)


class DaskObjective:
    """``theta -> (J, dJ/dtheta)`` over the chunks of persisted dask arrays.

    Each chunk's :class:`Objective` (its label codes, weights, row blocks and
    buffers) is built once per fit on the worker holding the chunk. Each evaluation
    sends ``theta`` to the workers once, computes every chunk's share of the
    weighted-mean NLL and of its gradient there (float64 sums), and adds them up with
    the penalty here.
    """

    def __init__(self, client, chunks, layout, activation, l2_reg_strength, classes,
                 class_weight, weight_total):
        self.client, self.layout = client, layout
        self.l2_reg_strength = l2_reg_strength
        static = ((layout.layer_units, layout.reference, layout.fit_intercept),
                  activation, classes, class_weight, weight_total)
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
        # One scatter per evaluation; each worker fetches theta once for all its
        # chunks. (A broadcast would keep replicating to a worker that died.)
        theta_future = self.client.scatter(theta, hash=False)
        futures = [
            self.client.submit(_evaluate, objective, theta_future, pure=False,
                               workers=workers, allow_other_workers=True)
            for objective, workers in zip(self.objectives, self.workers)
        ]
        parts = self.client.gather(futures)
        loss = float(sum(part[0] for part in parts))
        gradient = np.sum([part[1] for part in parts], axis=0)
        weights = theta[: self.layout.n_coef]
        loss += 0.5 * self.l2_reg_strength * float(weights @ weights)
        gradient[: self.layout.n_coef] += self.l2_reg_strength * weights
        return loss, gradient


def fit_dask(estimator, hidden, X, y, sample_weight, classes):
    """``SoftmaxNNClassifier.fit`` on dask arrays; the fitted model is in memory."""
    from ._callbacks import IterationCallbacks

    if estimator.solver != "lbfgs":
        raise ValueError("Fitting on dask arrays supports solver='lbfgs' only.")
    da, client = _require_distributed()
    X, y, sample_weight = _as_row_chunked(da, X, y, sample_weight)
    # Persist once: every evaluation reads the chunks from the workers' memory.
    if sample_weight is None:
        X, y = client.persist([X, y])
    else:
        X, y, sample_weight = client.persist([X, y, sample_weight])
    chunks = list(zip(_chunk_futures(X), _chunk_futures(y),
                      [None] * len(X.chunks[0]) if sample_weight is None
                      else _chunk_futures(sample_weight)))
    summaries = client.gather([client.submit(_chunk_summary, *chunk) for chunk in chunks])
    classes, class_weight, weight_total = _classes_and_weights(
        estimator, summaries, classes)
    estimator.n_features_in_ = X.shape[1]
    estimator.__dict__.pop("feature_names_in_", None)
    layout = ParamLayout([X.shape[1], *hidden, len(classes)],
                         estimator._reference_index(classes), estimator.fit_intercept)
    objective = DaskObjective(client, chunks, layout, estimator.activation,
                              estimator.alpha / weight_total, classes, class_weight,
                              weight_total)
    # Callbacks see the iterations (a progress bar works) but no data to score on.
    callbacks = IterationCallbacks(estimator, None, None, None, estimator._reconstruction(
        classes, layout, X.dtype), estimator.max_iter)
    # stacklevel 6: check_result -> _fit_objective -> fit_dask -> fit -> _fit_context
    # -> the user's call.
    return estimator._fit_objective(objective, None, classes, layout, X.dtype, callbacks,
                                    stacklevel=6)


def _chunk_futures(collection):
    """The futures of a persisted dask array's chunks, in row order (no new tasks,
    no copies: each is the chunk itself, in its worker's memory)."""
    from dask.core import flatten
    from distributed import futures_of

    by_key = {future.key: future for future in futures_of(collection)}
    return [by_key[key] for key in flatten(collection.__dask_keys__())]


def _classes_and_weights(estimator, summaries, classes):
    """Classes, class weights and the weight total ``S`` from the one pass over y."""
    from sklearn.utils.class_weight import compute_class_weight

    if not all(s[2] for s in summaries):
        raise ValueError("Input X contains NaN or infinity.")
    if not all(s[3] for s in summaries) or not all(s[4] for s in summaries):
        raise ValueError("sample_weight must be finite and non-negative.")
    labels = np.unique(np.concatenate([s[0] for s in summaries]))
    classes = estimator._resolve_classes(labels, classes)
    counts = np.zeros(len(classes))
    for labels_c, weights_c, *_ in summaries:
        counts[np.searchsorted(classes, labels_c)] += weights_c
    if estimator.class_weight is None:
        class_weight = np.ones(len(classes))
    elif estimator.class_weight == "balanced":
        present = counts > 0
        class_weight = np.ones(len(classes))
        class_weight[present] = counts.sum() / (present.sum() * counts[present])
    else:
        class_weight = compute_class_weight(
            estimator.class_weight, classes=classes, y=classes[counts > 0])
    weight_total = float(counts @ class_weight)
    if not weight_total > 0:
        raise ValueError("The sample weights (times the class weights) sum to zero.")
    return classes, class_weight, weight_total


def map_blocks(X, function, n_columns, dtype):
    """``function`` applied lazily to each row chunk of a dask array X."""
    X = X.rechunk({1: -1})
    if n_columns is None:
        return X.map_blocks(function, drop_axis=1, dtype=dtype)
    return X.map_blocks(function, chunks=(X.chunks[0], (n_columns,)), dtype=dtype)
