"""Solver wrappers: scipy.optimize.minimize (L-BFGS-B, trust-ncg), the per-iteration
callback and the ConvergenceWarning's text."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from scipy.optimize import minimize

#: L-BFGS memory (SciPy's ``maxcor``): LogisticRegression's and MLPClassifier's 10 ...
LBFGS_MEMORY = 10
#: ... or, for a linear model on float64 data whose evaluation touches at least
#: ``LONG_MEMORY_VALUES_PER_FEATURE`` values of X per feature, 50. The solver's own
#: work per iteration grows with memory x parameters (about 4 ns each, measured on an
#: AMD EPYC), an evaluation with the values of X (about 0.2 ns per value and output
#: unit): from 2**14 rows of a dense X, the 40 more pairs cost under 5% of an evaluation
#: and save 8-13% of the evaluations at the same J (benchmarks/RESULTS.md).
LBFGS_LONG_MEMORY = 50
LONG_MEMORY_VALUES_PER_FEATURE = 2**14


#: The error for a fit whose parameters, loss or products stopped being finite.
NON_FINITE = ("The solver produced non-finite parameters or a non-finite loss; scale the "
              "data or increase alpha.")


def lbfgs_memory(n_values, n_features, n_hidden_layers, dtype):
    """L-BFGS's memory for a fit: :data:`LBFGS_LONG_MEMORY` for a linear model on
    float64 data with ``n_values / n_features >= LONG_MEMORY_VALUES_PER_FEATURE``
    (``n_values``: the values of X, its non-zeros if sparse), else
    :data:`LBFGS_MEMORY`. Networks keep MLPClassifier's memory. float32 passes keep
    10 too: near the optimum their J is rounding noise, line searches fail there, and
    with 50 pairs the fits measured took more evaluations in all (4 problems of
    40k x 100: 526 -> 606), though fewer iterations."""
    if (n_hidden_layers == 0 and np.dtype(dtype) == np.float64
            and n_values >= LONG_MEMORY_VALUES_PER_FEATURE * n_features):
        return LBFGS_LONG_MEMORY
    return LBFGS_MEMORY


def minimize_objective(
    fun, theta0, *, solver, hessp, max_iter, max_fun, tol, verbose, on_iteration=None,
    memory=LBFGS_MEMORY,
):
    """Minimise ``fun`` (returning the value and gradient) with SciPy.

    ``solver="lbfgs"``: L-BFGS-B with LogisticRegression's settings, ``gtol=tol``,
    ``maxls=50`` and ``ftol=64 * eps``, far tighter than SciPy's default ``ftol``,
    which stops well short of the optimum, and ``maxcor=memory``. ``solver="trust-ncg"``: SciPy's
    trust-region Newton-CG with the exact Hessian-vector product ``hessp``, which
    stops when the Euclidean norm of the gradient is at most ``tol``.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (float, ndarray of float64)``.
    theta0 : ndarray of float64 of shape (n_params,)
    solver : {"lbfgs", "trust-ncg"}
    hessp : callable or None
        ``hessp(theta, vector) -> ndarray``; needed by trust-ncg.
    max_iter, max_fun : int
        Limits on iterations and (L-BFGS-B only) on evaluations of ``fun``.
    tol : float
        Stop when the gradient is this small (largest absolute entry for
        L-BFGS-B, Euclidean norm for trust-ncg).
    verbose : int
        If positive, print the iteration, ``J`` and the gradient norm after
        every iteration.
    on_iteration : callable or None
        Called with the parameters after every iteration.
    memory : int, default=LBFGS_MEMORY
        L-BFGS-B's number of stored correction pairs (``maxcor``); see
        :func:`lbfgs_memory`.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
    loss_curve : list of float
        ``J`` after each iteration.
    """
    last = {}

    def fun_recording(theta):
        loss, gradient = fun(theta)
        last["theta"], last["gradient"] = theta, gradient
        return loss, gradient

    loss_curve = []

    def callback(intermediate_result):
        loss_curve.append(float(intermediate_result.fun))
        if on_iteration is not None:
            on_iteration(intermediate_result.x)
        if verbose > 0:
            grad_norm = np.max(np.abs(last["gradient"]))
            print(
                f"Iteration {len(loss_curve)}: J = {intermediate_result.fun:.10g}, "
                f"max|grad| = {grad_norm:.3e}",
                flush=True,
            )

    if solver == "lbfgs":
        method, options = "L-BFGS-B", {
            "maxiter": max_iter,
            "maxfun": max_fun,
            "gtol": tol,
            "ftol": 64 * np.finfo(float).eps,
            "maxls": 50,
            "maxcor": memory,
        }
    else:
        method, options = "trust-ncg", {"maxiter": max_iter, "gtol": tol}
    def hessp_recording(theta, vector):
        last["product"] = product = hessp(theta, vector)
        return product

    try:
        result = minimize(
            fun_recording,
            theta0,
            method=method,
            jac=True,
            hessp=None if hessp is None else hessp_recording,
            options=options,
            callback=callback,
        )
    except ValueError:
        # trust-ncg checks its vectors and raises SciPy's "array must not contain
        # infs or NaNs" right after an overflowing product (or gradient) reached them:
        # only then are the last ones looked at, no pass over each product before.
        latest = (last.get("product", 0.0), last.get("gradient", 0.0))
        if not all(np.isfinite(vector).all() for vector in latest):
            raise ValueError(NON_FINITE) from None
        raise
    return result, loss_curve


def check_result(result, *, solver, max_iter, max_fun):
    """Return ``(n_iter, converged, warning)``.

    ``warning`` is None after convergence, else the text of a ConvergenceWarning
    saying why the solver stopped (iteration limit, evaluation limit, or a failed
    line search / trust-region step) and what to do about it; the caller issues it,
    pointed at the user's call.
    """
    n_iter = min(int(result.nit), max_iter)
    if result.status == 0:
        return n_iter, True, None
    if n_iter >= max_iter:
        advice = f"Increase max_iter (now {max_iter}) or scale the data."
    elif solver == "lbfgs" and result.nfev >= max_fun:
        advice = f"Increase max_fun (now {max_fun}) or scale the data."
    else:
        step = "line search" if solver == "lbfgs" else "trust-region step"
        advice = (
            f"The {step} failed to decrease J, usually a sign of badly "
            "scaled data or of a tol below what rounding allows: scale the data "
            "(e.g. with StandardScaler), increase alpha, or loosen tol."
        )
    reason = str(result.message).strip(" :.")
    message = (
        f"{solver} failed to converge after {n_iter} iteration(s) "
        f"(status={result.status}, SciPy: {reason!r}). {advice}"
    )
    return n_iter, False, message
