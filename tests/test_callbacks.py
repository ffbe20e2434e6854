"""scikit-learn's callback API (sklearn.callback): one task per solver iteration."""

import numpy as np
import pytest
from conftest import make_problem
from numpy.testing import assert_allclose

from sk_softmax import SoftmaxNNClassifier

callback = pytest.importorskip("sklearn.callback")


class Recorder:
    """A FitCallback that records every hook call."""

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", None))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", None))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        self.calls.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.calls.append(("end", context.task_name))


@pytest.mark.parametrize("solver", ["lbfgs", "trust-ncg"])
def test_one_task_per_iteration(solver):
    """The fit is a task with one subtask per iteration, each begun and ended."""
    X, y = make_problem(n_samples=60)
    recorder = Recorder()
    clf = SoftmaxNNClassifier(solver=solver).set_callbacks(recorder).fit(X, y)
    kinds = [kind for kind, _ in recorder.calls]
    assert kinds[0] == "setup" and kinds[-1] == "teardown"
    iterations = [c for c in recorder.calls if c[1] == "solver-iteration"]
    # n_iter_ iterations plus the subtask left open after the last one.
    assert len(iterations) == 2 * (clf.n_iter_ + 1)
    assert kinds.count("begin") == kinds.count("end") == clf.n_iter_ + 2


def test_scoring_monitor_scores_each_iteration():
    """ScoringMonitor scores a predicting copy at every iteration; the last score is
    the fitted model's."""
    X, y = make_problem(n_samples=80)
    monitor = callback.ScoringMonitor(scoring="neg_log_loss")
    clf = SoftmaxNNClassifier(hidden_layer_sizes=(4,), random_state=0, max_iter=30)
    clf.set_callbacks(monitor).fit(X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "solver-iteration"]
    scores = np.array([r["neg_log_loss"] for r in rows])
    assert len(scores) == clf.n_iter_
    assert scores[-1] > scores[0]
    from sklearn.metrics import log_loss

    assert_allclose(-scores[-1], log_loss(y, clf.predict_proba(X)), rtol=1e-10)


def test_progress_bar_runs():
    """ProgressBar (needs rich) follows the iterations without changing the result."""
    pytest.importorskip("rich")
    X, y = make_problem(n_samples=60)
    plain = SoftmaxNNClassifier().fit(X, y)
    shown = SoftmaxNNClassifier().set_callbacks(callback.ProgressBar()).fit(X, y)
    assert_allclose(shown.coef_, plain.coef_)
