"""Predictions share the rows among the threads the BLAS may use: same results as one
thread, BLAS threads restored."""

import pytest
import scipy.sparse as sp
from conftest import make_problem
from numpy.testing import assert_allclose, assert_array_equal
from threadpoolctl import threadpool_info

import sk_softmax._predict as predict_module
from sk_softmax import SoftmaxNNClassifier


def _blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


@pytest.mark.parametrize("hidden", [(), (5,)])
@pytest.mark.parametrize("n_threads", [2, 3])
def test_threaded_prediction_equals_one_thread(monkeypatch, hidden, n_threads):
    X, y = make_problem(n_samples=301, n_features=6, n_classes=4, seed=3)
    clf = SoftmaxNNClassifier(hidden_layer_sizes=hidden, random_state=0).fit(X, y)
    methods = ("predict", "predict_proba", "predict_log_proba", "decision_function")
    single = {m: getattr(clf, m)(X) for m in methods}
    calls = []
    real_in_blocks = predict_module._in_blocks

    def recording(model, X_part, transform, step, shift_invariant=False):
        calls.append((X_part.shape[0], _blas_threads()))
        return real_in_blocks(model, X_part, transform, step, shift_invariant)

    before = _blas_threads()
    monkeypatch.setattr(predict_module, "blas_threads", lambda: n_threads)
    monkeypatch.setattr(predict_module, "MIN_VALUES_PER_THREAD", 1)
    monkeypatch.setattr(predict_module, "PREDICT_BLOCK_VALUES", 200)
    monkeypatch.setattr(predict_module, "_in_blocks", recording)
    assert_array_equal(clf.predict(X), single["predict"])
    for method in methods[1:]:
        assert_allclose(getattr(clf, method)(X), single[method], rtol=1e-12, atol=1e-15)
    # each thread took its share of the rows, with the BLAS on one thread meanwhile
    assert len(calls) == 4 * n_threads
    assert sum(rows for rows, _ in calls[:n_threads]) == 301
    assert all(set(threads) == {1} for _, threads in calls)
    assert _blas_threads() == before
    # a sparse X stays one product on one thread
    calls.clear()
    assert_allclose(clf.predict_proba(sp.csr_matrix(X)), single["predict_proba"],
                    rtol=1e-12, atol=1e-15)
    assert len(calls) == 1
