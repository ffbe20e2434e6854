"""scikit-learn's callback API (``sklearn.callback``) for the solver's iterations."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn without the callback API: fit works the same

    class CallbackSupportMixin:
        """Stand-in where scikit-learn has no ``sklearn.callback`` (before 1.9)."""


class IterationCallbacks:
    """Forward a fit and each of its solver iterations to the estimator's callbacks.

    As LogisticRegression does for lbfgs: the fit is the root task; each iteration
    is a subtask that begins at the current parameters and ends at the next ones,
    with ``reconstruction_attributes`` that make a predicting copy of the estimator
    (so that ``ScoringMonitor`` can score it). Without the callback API, or without
    callbacks set, every method does nothing.

    Parameters
    ----------
    estimator : SoftmaxNNClassifier
    X, y : the training data (y as given, for scoring)
    metadata : dict or None
        ``{"sample_weight": ...}`` when given.
    reconstruct : callable
        ``reconstruct(theta) -> dict`` of fitted attributes at ``theta``.
    max_iter : int
    """

    def __init__(self, estimator, X, y, metadata, reconstruct, max_iter):
        self.context = self.iteration = None
        if not hasattr(estimator, "_init_callback_context"):
            return
        self.estimator, self.reconstruct = estimator, reconstruct
        self.data = dict(X=X, y=y, metadata=metadata)
        # One subtask per iteration, and the one left open after the last.
        self.context = estimator._init_callback_context(max_subtasks=max_iter + 1)
        self.context.call_on_fit_task_begin(estimator=estimator, **self.data)
        self.per_iteration = bool(getattr(estimator, "_skl_callbacks", None))

    def begin(self, theta):
        """Open the first iteration's subtask at the initial parameters."""
        if self.context is not None and self.per_iteration:
            self.iteration = self._open(theta)

    def __call__(self, theta):
        """An iteration ended at ``theta``: close its subtask, open the next one."""
        if self.iteration is not None:
            self.iteration.call_on_fit_task_end(
                estimator=self.estimator, reconstruction_attributes=self.reconstruct(theta),
                **self.data)
            self.iteration = self._open(theta)

    def close_iterations(self):
        """Close the subtask left open after the last iteration (it never ran)."""
        if self.iteration is not None:
            self.iteration.call_on_fit_task_end(estimator=self.estimator)
            self.iteration = None

    def end(self):
        """End the fit's task; call once the fitted attributes are set."""
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator, reconstruction_attributes={}, **self.data)

    def _open(self, theta):
        iteration = self.context.subcontext(task_name="solver-iteration")
        iteration.call_on_fit_task_begin(
            estimator=self.estimator, reconstruction_attributes=self.reconstruct(theta),
            **self.data)
        return iteration


def reconstruction(classes, layout, dtype, to_theta):
    """``phi -> fitted attributes``: what a callback needs to predict mid-fit, from the
    solver's parameters ``phi`` (``to_theta`` maps them to ``theta``)."""
    layout_params = (layout.layer_units, layout.reference, layout.fit_intercept)

    def reconstruct(phi):
        coefs, intercepts = layout.unpack(to_theta(np.array(phi)), dtype)
        return {"classes_": classes, "_layout_params": layout_params,
                "coefs_": coefs, "intercepts_": intercepts}

    return reconstruct
