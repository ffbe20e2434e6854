"""The blocked, threaded Objective against a direct transcription of docs/math.md."""

import threading
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import make_problem, penalised_objective
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

import sk_softmax._objective as objective_module
from sk_softmax import SoftmaxNNClassifier
from sk_softmax._network import ParamLayout, forward


def reference_loss_gradient(theta, X, y, sample_weight, layout, activation, alpha):
    """docs/math.md's J and gradient, written out on the full (n, K) arrays in float64."""
    coefs, intercepts = layout.unpack(theta, np.float64)
    activations = forward(X.astype(np.float64), coefs, intercepts, activation)
    Z = activations[-1]
    S = sample_weight.sum()
    log_P = Z - Z.max(1, keepdims=True)
    log_P -= np.log(np.exp(log_P).sum(1, keepdims=True))
    rows = np.arange(len(y))
    loss = -(sample_weight * log_P[rows, y]).sum() / S
    loss += alpha / (2 * S) * sum((c**2).sum() for c in coefs)
    delta = np.exp(log_P)
    delta[rows, y] -= 1
    delta *= (sample_weight / S)[:, None]
    coef_grads, intercept_grads = [], []
    for l in range(len(coefs) - 1, -1, -1):
        coef_grads.insert(0, np.asarray(activations[l].T @ delta) + alpha / S * coefs[l])
        intercept_grads.insert(0, delta.sum(0))
        if l > 0:
            A = activations[l]
            delta = (delta @ coefs[l].T) * {
                "identity": np.ones_like(A), "tanh": 1 - A**2,
                "logistic": A * (1 - A), "relu": (A > 0).astype(float),
            }[activation]
    return loss, layout.pack(coef_grads, intercept_grads)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few rows, and threads from the first block on."""
    monkeypatch.setattr(objective_module, "block_values", lambda: 40)
    monkeypatch.setattr(objective_module, "BLOCK_VALUES", 40)  # sparse X
    monkeypatch.setattr(objective_module, "SPARSE_BLOCK_FACTOR", 2)
    monkeypatch.setattr(objective_module, "MIN_VALUES_PER_THREAD", 1)


@pytest.mark.parametrize("container", ["C", "F", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden, activation", [((), "tanh"), ((5,), "relu"), ((4, 3), "logistic")])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_blocked_threaded_objective_equals_reference(
    small_blocks, container, dtype, hidden, activation, n_threads
):
    """Row blocks, threads, layouts and dtypes all give docs/math.md's J and gradient."""
    X, y = make_problem(n_samples=103, n_features=6, n_classes=4, seed=8)
    X[np.abs(X) < 0.5] = 0
    data = {"C": np.ascontiguousarray, "F": np.asfortranarray,
            "csr": sp.csr_matrix, "csc": sp.csc_matrix}[container](X.astype(dtype))
    sample_weight = np.random.default_rng(9).uniform(0, 2, len(y))
    layout = ParamLayout([6, *hidden, 4], 1, True)
    theta = np.random.default_rng(10).uniform(-1, 1, layout.n_params)
    alpha = 0.5
    with penalised_objective(data, y, sample_weight, layout, activation,
                             alpha / sample_weight.sum(), n_threads=n_threads) as objective:
        loss, gradient = objective(theta)
    objective = objective.data_term
    expected_loss, expected_gradient = reference_loss_gradient(
        theta, X.astype(dtype), y, sample_weight, layout, activation, alpha)
    if container != "csc":
        assert len(objective.blocks) == 4  # 32, 32, 32 and 7 rows
    assert objective.n_threads == (n_threads if container in ("C", "F") else 1)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(expected_loss, rel=rtol)
    assert_allclose(gradient, expected_gradient, rtol=rtol * 10, atol=rtol * 1e-2)


def test_blocked_threaded_fit_equals_single_block_fit(monkeypatch):
    """Fitting with many blocks and two threads gives the single-block model."""
    X, y = make_problem(n_samples=200, n_features=5, n_classes=3, seed=11)
    params = dict(hidden_layer_sizes=(4,), alpha=1.0, random_state=0, tol=1e-10)
    one_block = SoftmaxNNClassifier(**params).fit(X, y)
    monkeypatch.setattr(objective_module, "block_values", lambda: 100)
    monkeypatch.setattr(objective_module, "MIN_VALUES_PER_THREAD", 1)
    blocked = SoftmaxNNClassifier(**params).fit(X, y)
    assert_allclose(blocked.predict_proba(X), one_block.predict_proba(X), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("container", ["float64", "float32", "csr"])
def test_fit_never_copies_X(container):
    """A valid float32/float64 array or CSR matrix is used in place: a fit allocates
    well under one X (tracemalloc sees every numpy allocation; a copy would be 1 X)."""
    rng = np.random.default_rng(12)
    if container == "csr":
        X = sp.random(20_000, 1_000, density=0.02, format="csr", random_state=12)
        size = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    else:
        X = rng.standard_normal((20_000, 50)).astype(container)
        size = X.nbytes
    y = rng.integers(0, 5, X.shape[0])
    clf = SoftmaxNNClassifier(max_iter=5)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.6 * size


class _RecordingNumpy:
    """numpy, with every ``np.matmul`` call's operand and output dtypes recorded."""

    def __init__(self):
        self.matmul_dtypes = []

    def __getattr__(self, name):
        return getattr(np, name)

    def matmul(self, a, b, out=None):
        result = np.matmul(a, b, out=out)
        self.matmul_dtypes.append((a.dtype, b.dtype, result.dtype))
        return result


@pytest.mark.parametrize("container", ["C", "csr", "csc"])
def test_float32_passes_run_in_float32(monkeypatch, container):
    """float32 X: every product of the forward and backward passes, and every
    per-block buffer, is float32 (not an upcast to float64); J and the gradient are
    float64 and agree with the float64 evaluation to float32 accuracy."""
    recorder = _RecordingNumpy()
    monkeypatch.setattr(objective_module, "np", recorder)
    X, y = make_problem(n_samples=100, n_features=6, n_classes=3, seed=13)
    X[np.abs(X) < 0.5] = 0
    make = {"C": np.ascontiguousarray, "csr": sp.csr_matrix, "csc": sp.csc_matrix}[container]
    layout = ParamLayout([6, 5, 4, 3], None, True)
    theta = np.random.default_rng(14).uniform(-1, 1, layout.n_params)
    weight = np.full(100, 0.01)
    objective = objective_module.Objective(make(X.astype(np.float32)), y, weight, layout,
                                           "tanh")
    assert objective.dtype == np.float32
    with objective:
        loss, gradient = objective(theta)
    # 3 forward products (2 with a sparse X), 2 backward weight products below the
    # top layer and 3 gradient products (2 with a sparse X): all float32.
    assert len(recorder.matmul_dtypes) >= 6
    assert all(dtypes == (np.float32,) * 3 for dtypes in recorder.matmul_dtypes)
    for share in objective.shares:
        for block in share:
            X_block, _, _, weight_block, weight_x, activations, deltas, grads = block
            assert X_block.dtype == weight_x.dtype == np.float32
            assert weight_block.dtype == np.float64
            assert all(a.dtype == np.float32 for a in activations + deltas + grads)
    assert isinstance(loss, float) and gradient.dtype == np.float64
    monkeypatch.undo()
    loss64, gradient64 = objective_module.Objective(make(X), y, weight, layout, "tanh")(theta)
    assert loss == pytest.approx(loss64, rel=1e-6)
    assert_allclose(gradient, gradient64, rtol=1e-4, atol=1e-6)


def test_float32_gradient_accumulates_in_float64(monkeypatch):
    """The per-block float32 gradients are summed in float64: after a heavy first
    block, 2000 blocks whose contributions are each below half a float32 ulp of the
    running sum still count (a float32 accumulator drops them all: 5e-5 off)."""
    monkeypatch.setattr(objective_module, "block_values", lambda: 40)  # blocks of 32 rows
    n_blocks = 2000
    n = 32 * (n_blocks + 1)
    X = np.ones((n, 1), np.float32)
    y = np.zeros(n, dtype=np.intp)
    s = np.ones(n)
    s[:32] = 1000.0 * n_blocks  # the first block holds 1000 / 1001 of the weight
    layout = ParamLayout([1, 2], None, True)
    objective = objective_module.Objective(X, y, s / s.sum(), layout, "identity")
    assert len(objective.blocks) == n_blocks + 1
    with objective:
        loss, gradient = objective(np.zeros(layout.n_params))
    # At theta = 0, P = 1/2: dJ/dW[0, k] = dJ/db[k] = sum_i w_i (1/2 - Y[i, k]).
    assert_allclose(gradient, [-0.5, 0.5, -0.5, 0.5], rtol=1e-7)
    assert loss == pytest.approx(np.log(2), rel=1e-7)


def test_csc_fit_is_never_densified():
    """A CSC X is fitted as one sparse block: the fit allocates a small fraction of
    the dense X (which would be 160 MB here)."""
    X = sp.random(20_000, 1_000, density=0.01, format="csc", random_state=15)
    y = np.random.default_rng(15).integers(0, 3, X.shape[0])
    sparse_size = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    dense_size = X.shape[0] * X.shape[1] * 8
    objective = objective_module.Objective(X, y, np.full(X.shape[0], 1 / X.shape[0]),
                                           ParamLayout([1_000, 3], None, True), "identity")
    assert [sp.issparse(block[0]) and block[0].format for block in objective.blocks] == ["csc"]
    clf = SoftmaxNNClassifier(max_iter=3)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
            clf.predict_proba(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * sparse_size < 0.05 * dense_size


def _blas_threads(user_api="blas"):
    from threadpoolctl import threadpool_info

    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == user_api]


def test_blas_held_to_one_thread_while_objectives_are_in_use():
    """BLAS (and only BLAS: OpenMP keeps its threads) runs one thread from the first
    objective entered to the last one left, whichever thread enters or leaves them and
    in whatever order; then it has its threads back."""
    from threadpoolctl import threadpool_limits

    X, y = make_problem(n_samples=40)
    layout = ParamLayout([5, 3], None, True)
    weight = np.full(40, 1 / 40)
    with threadpool_limits(limits=2, user_api="blas"):  # whatever the environment says
        before, openmp = _blas_threads(), _blas_threads("openmp")
        if not before or max(before) < 2:
            pytest.skip("BLAS cannot run two threads here: nothing to restore")
        first, second = (objective_module.Objective(X, y, weight, layout, "identity")
                         for _ in range(2))
        thread = threading.Thread(target=first.__enter__)  # the limit is set elsewhere
        thread.start()
        thread.join()
        try:
            assert set(_blas_threads()) == {1}
            assert _blas_threads("openmp") == openmp
            second.__enter__()
            first(np.zeros(layout.n_params))  # usable from this thread too
            first.__exit__(None, None, None)  # the first in, not the last out
            assert set(_blas_threads()) == {1}
        finally:
            second.__exit__(None, None, None)  # restored from this thread
        assert _blas_threads() == before
        assert objective_module.SINGLE_THREADED_BLAS._users == 0
        # A limiter of its own: counts from zero, restores on the last exit only.
        limiter = objective_module._SingleThreadedBLAS()
        with limiter:
            with limiter:
                assert set(_blas_threads()) == {1} and limiter._users == 2
            assert set(_blas_threads()) == {1} and limiter._users == 1
        assert _blas_threads() == before and limiter._users == 0
        assert limiter._limits is None


def test_threads_share_the_blocks(small_blocks):
    """With n_threads=2 the blocks are evaluated in a pool of two threads (one thread:
    in the caller's); the pool exists only inside the with block, and the objective
    still evaluates (in the caller's thread) after it."""
    X, y = make_problem(n_samples=200, n_features=6, n_classes=3, seed=16)
    layout = ParamLayout([6, 3], None, True)
    weight = np.full(200, 1 / 200)
    theta = np.random.default_rng(17).standard_normal(layout.n_params)
    # One thread unless asked, however large the data.
    assert objective_module.Objective(X, y, weight, layout, "identity").n_threads == 1
    for n_threads in (1, 2):
        objective = objective_module.Objective(X, y, weight, layout, "identity", n_threads)
        assert objective.n_threads == n_threads
        threads, sums = set(), objective._sums

        def recording(*args, sums=sums, threads=threads):
            threads.add(threading.get_ident())
            return sums(*args)

        objective._sums = recording
        with objective:
            loss, gradient = objective(theta)
            pool = objective._executor
        main = {threading.get_ident()}
        if n_threads == 1:
            assert pool is None and threads == main
        else:  # an idle pool thread may take both shares
            assert pool._max_workers == 2 and threads and not threads & main
        assert objective._executor is None
        threads.clear()
        after = objective(theta)
        assert threads == main
        assert after[0] == pytest.approx(loss, rel=1e-14)
        assert_allclose(after[1], gradient, rtol=1e-13, atol=1e-16)


def test_row_values_counts_features_or_non_zeros():
    """The block sizes are planned from the values a row holds: its features (dense) or
    its mean non-zeros (sparse), plus the units of the activations."""
    X = np.zeros((4, 10))
    X[0, :3] = X[2, 5] = 1.0  # 4 non-zeros in 4 rows
    assert objective_module.row_values(X, 7) == 10 + 7
    for make in (sp.csr_matrix, sp.csc_matrix):
        assert objective_module.row_values(make(X), 7) == 1 + 7
    one_row = sp.csr_matrix(np.ones((1, 6)))
    assert objective_module.row_values(one_row, 0) == 6
    assert objective_module.row_values(sp.csr_matrix((0, 6)), 2) == 2


def test_block_and_thread_planning(monkeypatch):
    """Rows per block: block_values() values (times the threads); a second thread only
    from MIN_VALUES_PER_THREAD values a thread; a sparse block holds at least 8 times
    as many non-zeros as its dense gradient product has entries."""
    monkeypatch.setattr(objective_module, "block_values", lambda: 2**16)
    monkeypatch.setattr(objective_module, "BLOCK_VALUES", 2**16)  # sparse X

    def plan(X, layer_units, n_threads=1):
        y = np.zeros(X.shape[0], dtype=np.intp)
        weight = np.full(X.shape[0], 1 / X.shape[0])
        objective = objective_module.Objective(X, y, weight, ParamLayout(layer_units, None, True),
                                               "identity", n_threads=n_threads)
        return objective.n_threads, [len(block[3]) for block in objective.blocks]

    # 103 values a row: 2**16 // 103 = 636 rows a block; 103k values: one thread.
    assert plan(np.zeros((1000, 100)), [100, 3], n_threads=2) == (1, [636, 364])
    # 2**15 rows of 64 values = 2 * 2**20: two threads, each block twice as large.
    n_threads, rows = plan(np.zeros((2**15, 61), np.float32), [61, 3], n_threads=4)
    assert n_threads == 2 and rows == [2048] * 16
    # One non-zero a row, 500 features, 10 classes: a block of 2**16 // 11 = 5957 rows
    # would hold fewer non-zeros than 8 times its 5000-entry gradient product: blocks
    # of 8 * 5000 / 1 = 40k rows instead.
    n = 50_000
    X = sp.csr_matrix((np.ones(n), (np.arange(n), np.arange(n) % 500)), shape=(n, 500))
    assert plan(X, [500, 10], n_threads=2) == (1, [40_000, 10_000])
    # Ten non-zeros a row, 5000 features, 10 classes: 8 * 50k / 10 = 40k rows a block
    # (more than the 2**16 // 20 = 3276 of the value count).
    rows = np.repeat(np.arange(n), 10)
    X = sp.csr_matrix((np.ones(10 * n), (rows, np.arange(10 * n) % 5_000)),
                      shape=(n, 5_000))
    assert plan(X, [5_000, 10]) == (1, [40_000, 10_000])


@pytest.mark.parametrize("kernels, expected", [
    (["Haswell"], 2**18), (["Haswell", "Zen"], 2**18), (["SkylakeX"], 2**16),
    (["Haswell", "SkylakeX"], 2**16), ([None], 2**16), ([], 2**16),
])
def test_block_values_follow_the_blas_kernel(monkeypatch, kernels, expected):
    """Larger blocks only where every BLAS is an OpenBLAS with an AVX2 kernel (measured
    faster there); AVX-512, unknown kernels (MKL has none) and no BLAS keep 2**16."""
    class Lib:
        def __init__(self, architecture):
            if architecture is not None:
                self.architecture = architecture

    class Controller:
        lib_controllers = [Lib(kernel) for kernel in kernels]

    monkeypatch.setattr(objective_module, "blas_controller", lambda: Controller())
    assert objective_module.block_values() == expected
