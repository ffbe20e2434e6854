"""Solver wrappers: scipy.optimize.minimize (L-BFGS-B, trust-ncg), the per-iteration
callback and the ConvergenceWarning's text."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from scipy.optimize import minimize


def minimize_objective(
    fun, theta0, *, solver, hessp, max_iter, max_fun, tol, verbose, on_iteration=None
):
    """Minimise ``fun`` (returning the value and gradient) with SciPy.

    ``solver="lbfgs"``: L-BFGS-B with LogisticRegression's settings, ``gtol=tol``,
    ``maxls=50`` and ``ftol=64 * eps``, far tighter than SciPy's default ``ftol``,
    which stops well short of the optimum. ``solver="trust-ncg"``: SciPy's
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
        }
    else:
        method, options = "trust-ncg", {"maxiter": max_iter, "gtol": tol}
    result = minimize(
        fun_recording,
        theta0,
        method=method,
        jac=True,
        hessp=hessp,
        options=options,
        callback=callback,
    )
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
