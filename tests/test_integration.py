"""SoftmaxNNClassifier inside scikit-learn's meta-estimators, on the digits data."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_softmax import SoftmaxNNClassifier


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


def test_pipeline_and_cross_val_score(digits):
    """In Pipeline(StandardScaler(), ...) under cross_val_score it classifies digits well."""
    X, y = digits
    pipe = make_pipeline(StandardScaler(), SoftmaxNNClassifier(alpha=1.0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.9


def test_grid_search_in_parallel(digits):
    """GridSearchCV with n_jobs=2 clones, fits and scores it in worker processes."""
    X, y = digits
    pipe = make_pipeline(StandardScaler(), SoftmaxNNClassifier())
    grid = {
        "softmaxnnclassifier__alpha": [0.1, 10.0],
        "softmaxnnclassifier__hidden_layer_sizes": [(), (16,)],
        "softmaxnnclassifier__random_state": [0],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X[:600], y[:600])
    assert search.best_score_ > 0.85
    assert set(search.cv_results_["param_softmaxnnclassifier__alpha"]) == {0.1, 10.0}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.score(X[600:], y[600:]) > 0.85
