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


#: L-BFGS-B's ``ftol`` for float32 passes: J's relative decrease below 1/128 of float32's
#: resolution is rounding (W3, 100k x 100 float32, tol=1e-8: 22 iterations and 168
#: evaluations with ftol=0, 14 and 16 with this, to a J 2e-9 higher and 5e-7 below
#: LogisticRegression's). float64 passes use 0: a step must stop changing J at all.
FLOAT32_FTOL = float(np.finfo(np.float32).eps) / 128


def minimize_objective(
    fun, theta0, *, solver, hessp, max_iter, max_fun, tol, verbose, on_iteration=None,
    memory=LBFGS_MEMORY, dtype=np.float64,
):
    """Minimise ``fun`` (returning the value and gradient) with SciPy.

    ``solver="lbfgs"``: L-BFGS-B with ``gtol=tol``, ``maxls=50``, ``maxcor=memory``
    and ``ftol=0``: it stops on the gradient, or where a step no longer changes ``J``
    at all (LogisticRegression's ``ftol=64 * eps`` stopped fits on raw data with the
    gradient 4x above ``tol``, at a ``J`` the next dozen iterations lowered); float32
    passes stop at :data:`FLOAT32_FTOL`. ``solver="trust-ncg"``: SciPy's
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
    dtype : numpy dtype, default=np.float64
        The dtype of the passes: float32 gets :data:`FLOAT32_FTOL`.

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
            "ftol": 0.0 if np.dtype(dtype) == np.float64 else FLOAT32_FTOL,
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
    if solver == "trust-ncg" and result.status in (0, 2) and result.nit < max_iter:
        result = newton_polish(fun_recording, hessp, result, tol, max_iter, callback)
    return result, loss_curve


#: Newton steps :func:`newton_polish` tries at most.
POLISH_STEPS = 5


def newton_polish(fun, hessp, result, tol, max_iter, callback):
    """Newton steps from trust-ncg's stop, accepted on the gradient's norm.

    SciPy's trust-ncg stops where the model's predicted decrease of ``J`` is below
    rounding (``g' H^-1 g < 2 eps J``): in the preconditioned coordinates, a gradient
    norm of about 1e-8, above a tight ``tol``. Newton steps need no value of ``J``: each
    solves ``H p = -g`` by conjugate gradients on ``hessp`` and is kept while it lowers
    ``||g||`` (near the optimum of a convex ``J`` it squares it), until ``tol``, at most
    :data:`POLISH_STEPS` steps, each an iteration (``max_iter`` counts them).
    """
    from scipy.sparse.linalg import LinearOperator, cg

    x, gradient = result.x, np.asarray(result.jac, dtype=np.float64)
    norm, steps = np.linalg.norm(gradient), 0
    while norm > tol and steps < POLISH_STEPS and result.nit + steps < max_iter:
        operator = LinearOperator((len(x), len(x)), matvec=lambda v: hessp(x, v),
                                  dtype=np.float64)
        step, info = cg(operator, -gradient, rtol=1e-10, maxiter=10 * len(x))
        loss_new, gradient_new = fun(x + step)
        norm_new = np.linalg.norm(gradient_new)
        if not norm_new < norm:  # rounding reached (or not a descent): keep x
            break
        x, gradient, norm, steps = x + step, np.asarray(gradient_new), norm_new, steps + 1
        result.fun = loss_new
        callback(_Intermediate(x, loss_new))
    if steps:
        result.x, result.jac, result.nit = x, gradient, result.nit + steps
        if norm <= tol:
            result.status, result.success = 0, True
            result.message = "Optimization terminated successfully (Newton steps)."
    return result


class _Intermediate:
    """What the per-iteration callback reads of an iterate (``x``, ``fun``)."""

    def __init__(self, x, fun):
        self.x, self.fun = x, fun


def gradient_size(gradient, solver):
    """The size of the gradient that ``tol`` bounds: its largest absolute entry for
    L-BFGS, its Euclidean norm for trust-ncg."""
    gradient = np.asarray(gradient, dtype=np.float64)
    return float(np.max(np.abs(gradient), initial=0.0) if solver == "lbfgs"
                 else np.linalg.norm(gradient))


def check_result(result, *, solver, max_iter, max_fun, tol, kinks=False):
    """Return ``(n_iter, converged, warning)``.

    ``converged`` is True only when the gradient at the solution (``result.jac``, in
    the solver's coordinates) meets ``tol``: SciPy also reports success when ``J``
    stops decreasing by more than rounding (L-BFGS-B's relative reduction test),
    which is not the tolerance the user asked for. ``warning`` is None after
    convergence, else the text of a ConvergenceWarning that names the gradient reached,
    why the solver stopped (iteration limit, evaluation limit, a failed line search /
    trust-region step, or ``J`` at rounding level) and what to do about it; the caller
    issues it, pointed at the user's call. ``kinks``: J has kinks (relu hidden layers),
    another reason why a step may stop decreasing it.
    """
    n_iter = min(int(result.nit), max_iter)
    size = gradient_size(result.jac, solver)
    if size <= tol and np.isfinite(size):
        return n_iter, True, None
    norm = "max|grad|" if solver == "lbfgs" else "||grad||"
    reached = f"{norm} = {size:.3g} > tol = {tol:g}"
    if result.status == 0:
        rounding = (f"tol is below what rounding allows on this problem (J is as low as "
                    f"float64 reaches; a column whose offset dwarfs its spread, such as "
                    f"5000 +- 0.001, raises that floor): loosen tol to {size:.1g} or more")
        return n_iter, False, (
            f"{solver} stopped after {n_iter} iteration(s) with {reached}: J stopped "
            f"decreasing beyond rounding (SciPy: {str(result.message).strip(' :.')!r}). "
            + (f"Either {rounding}, or J is not smooth where it stopped (a kink of the "
               "relu activation)." if kinks else f"{rounding[0].upper()}{rounding[1:]}."))
    if n_iter >= max_iter:
        advice = f"Increase max_iter (now {max_iter})."
    elif solver == "lbfgs" and result.nfev >= max_fun:
        advice = f"Increase max_fun (now {max_fun})."
    else:
        step = "line search" if solver == "lbfgs" else "trust-region step"
        advice = (
            f"The {step} failed to decrease J, usually a sign of a tol below what "
            "rounding allows, or of a nearly singular problem: loosen tol or "
            "increase alpha."
        )
    reason = str(result.message).strip(" :.")
    message = (
        f"{solver} failed to converge after {n_iter} iteration(s) with {reached} "
        f"(status={result.status}, SciPy: {reason!r}). {advice}"
    )
    return n_iter, False, message
