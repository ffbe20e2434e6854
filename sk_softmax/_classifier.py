"""SoftmaxNNClassifier: hyper-parameters, validation, fit orchestration and predictions."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._array_api import (
    host_inputs,
    is_array_api_input,
    prepare_array_api,
    to_numpy,
)
from ._callbacks import CallbackSupportMixin, IterationCallbacks, reconstruction
from ._dask import is_dask_collection, prepare_dask
from ._inference import inference
from ._network import (
    ACTIVATIONS,
    ParamLayout,
    glorot_uniform,
    hidden_layer_units,
    logistic_regression_layout,
)
from ._objective import L2Penalty, PenalisedObjective
from ._precondition import (
    MAX_WHITENED_FEATURES,
    WHITENING_FEATURES_PER_CLASS,
    WHITENING_ROWS_PER_FEATURE,
    PreconditionedObjective,
    preconditioner,
)
from ._predict import predictions, read_only
from ._prepare import prepare_in_memory, reference_index, restored_on_error, shorten
from ._solver import NON_FINITE, check_result, lbfgs_memory, minimize_objective


def _rescaled(covariance, std, cache, key):
    """``covariance(centre, scale)`` from one pass of the data at ``scale = std``, kept in
    ``cache``: for another scale (the penalty's share changes it with alpha) the matrix
    is rescaled, ``C_std * outer(std / scale, std / scale)``."""
    unit = np.where(std > 0, std, 1.0)

    def rescaled(centre, scale):
        stored = cache.setdefault(key + ("covariance",), {})
        if "matrix" not in stored:
            stored["matrix"] = covariance(centre, unit)
        ratio = unit / scale
        return stored["matrix"] * np.outer(ratio, ratio)

    return rescaled


class SoftmaxNNClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """Softmax classifier with optional hidden layers, fitted by maximum likelihood.

    The output layer is the softmax of the logits ``Z_L``; with no hidden layers
    this is multinomial logistic (softmax) regression. The parameters minimise the
    weighted, L2-penalised negative log-likelihood with SciPy's L-BFGS, fed the
    exact analytic gradient ``P - Y`` back-propagated through the hidden layers::

        Z_l = A_{l-1} @ W_l + b_l,   A_0 = X,   A_l = f(Z_l),   P = softmax(Z_L)

        J(theta) = (1/S) * sum_i s_i * (logsumexp(Z_L[i, :]) - Z_L[i, y_i])
                   + alpha / (2 S) * sum_l ||W_l||_F^2

    where ``s_i`` is ``sample_weight`` times the class weight and ``S = sum_i s_i``.
    Intercepts are never penalised.

    Equivalences: with ``hidden_layer_sizes=()`` the minimiser is that of
    ``LogisticRegression(C=1/alpha)`` (multinomial). For two classes,
    ``reference_class=classes_[0]`` is exactly ``LogisticRegression(C=1/alpha)``,
    while the symmetric binary model (``reference_class=None``) equals
    ``LogisticRegression(C=2/alpha)``: at its optimum ``w_1 = -w_0``, so the
    penalty on both columns is ``alpha/4 * ||w_1 - w_0||^2``. With hidden layers
    the objective is that of ``MLPClassifier(alpha=alpha)``.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or int, default=()
        Units of each hidden layer; ``()`` is softmax regression, ``(64, 32)``
        two hidden layers.

    activation : {"identity", "logistic", "tanh", "relu"}, default="tanh"
        Activation ``f`` of the hidden layers (unused without hidden layers).

    alpha : float, default=1e-4
        L2 strength on the weights ``W_l`` (never on intercepts); must be >= 0.

    reference_class : label or None, default=None
        None keeps all ``K`` output units (symmetric softmax; after fitting the
        output intercepts are centred to sum to zero, and with ``alpha=0`` the
        output weights too, which leaves predictions unchanged). A label of ``y``
        fixes that class's logit at 0: its output column is not a parameter.

    fit_intercept : bool, default=True
        Whether to fit the intercepts ``b_l``; if False they are fixed at zero in
        every layer.

    class_weight : dict, "balanced" or None, default=None
        Class weights multiplied into the sample weights, as in
        LogisticRegression (``"balanced"`` uses the weighted class counts).

    solver : {"lbfgs", "trust-ncg"}, default="lbfgs"
        ``"lbfgs"``: SciPy's L-BFGS-B. ``"trust-ncg"``: SciPy's trust-region
        Newton-CG with the exact Hessian-vector product (two matrix products per
        call), which reaches the optimum to much tighter precision in few
        iterations; only with ``hidden_layer_sizes=()``. Same objective either way.

    max_iter : int, default=1000
        Maximum number of solver iterations.

    tol : float, default=1e-4
        Stop when the gradient of ``J`` is this small: its largest absolute entry
        for L-BFGS, its Euclidean norm for trust-ncg.

    max_fun : int, default=15000
        Maximum number of evaluations of ``J`` and its gradient (L-BFGS only).

    warm_start : bool, default=False
        Start a new ``fit`` from the previous solution when the classes and the
        architecture are unchanged.

    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot-uniform initialisation of the weights when there are
        hidden layers (softmax regression starts from zero).

    verbose : int, default=0
        If positive, print one line per L-BFGS iteration: iteration, ``J`` and the
        largest absolute gradient entry.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only when X has string feature names.

    coefs_ : list of ndarray
        ``coefs_[l]`` is ``W_{l+1}`` of shape ``(fan_in, fan_out)``, in X's dtype;
        the last has ``n_classes`` columns, the reference column exactly zero.

    intercepts_ : list of ndarray
        ``intercepts_[l]`` is ``b_{l+1}`` of shape ``(fan_out,)``.

    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Only when ``hidden_layer_sizes=()``: LogisticRegression's layout, ``w_1 -
        w_0`` for two classes and ``coefs_[0].T`` otherwise. Read-only view of
        ``coefs_``.

    intercept_ : ndarray of shape (1,) or (n_classes,)
        Only when ``hidden_layer_sizes=()``; matches ``coef_``.

    n_iter_ : int
        Number of L-BFGS iterations of the last fit.

    loss_ : float
        Final value of ``J``.

    loss_curve_ : list of float
        ``J`` after each iteration.

    converged_ : bool
        Whether the gradient met ``tol`` (SciPy's stop where ``J`` no longer decreases
        beyond rounding is not convergence: a ConvergenceWarning names the gradient).

    See Also
    --------
    sklearn.linear_model.LogisticRegression : Same objective without hidden layers.
    sklearn.neural_network.MLPClassifier : Same objective with hidden layers.

    Notes
    -----
    Every fit searches the first layer in the coordinates of centred, scaled inputs,
    ``W_1 = M U``, ``b_1 = c - mu @ W_1`` (``mu`` the weighted column means, ``M``
    1/scale as powers of two, or a whitening matrix where the columns are nearly
    collinear): the same objective and optimum, reached on raw columns (money, years,
    counts side by side) as on standardised ones, with no StandardScaler needed for the
    solver's sake (docs/math.md, "Preconditioning").

    Data may be dense or scipy.sparse CSR/CSC (never densified). float32 data
    stays float32 through the forward and backward passes, and ``coefs_`` and
    ``predict_proba`` are float32; the loss accumulates in float64.

    :meth:`inference` gives standard errors, tests and intervals for softmax
    regression. With scikit-learn's callback API (``sklearn.callback``,
    scikit-learn >= 1.9), each solver iteration is a task:
    ``set_callbacks(ProgressBar())`` shows a progress bar and ``ScoringMonitor``
    scores every iteration.

    References
    ----------
    Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of training
    deep feedforward neural networks. AISTATS.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sk_softmax import SoftmaxNNClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxNNClassifier(alpha=1.0).fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> clf.predict_proba(X[:1]).round(2)
    array([[0.98, 0.02, 0.  ]])
    >>> round(clf.score(X, y), 2)
    0.97
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "reference_class": "no_validation",  # checked against classes_ in fit
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "solver": [StrOptions({"lbfgs", "trust-ncg"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(),
        activation="tanh",
        alpha=1e-4,
        reference_class=None,
        fit_intercept=True,
        class_weight=None,
        solver="lbfgs",
        max_iter=1000,
        tol=1e-4,
        max_fun=15000,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.reference_class = reference_class
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, classes=None):
        """Fit the model by minimising ``J`` with L-BFGS.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data; float32 is kept, other dtypes become float64. A dask
            array (chunked along rows) is fitted on the current dask.distributed
            client: each evaluation sums per-chunk shares of ``J`` and its gradient
            on the workers; the fitted model is an ordinary in-memory one.
        y : array-like or dask array of shape (n_samples,)
            Class labels (at least two distinct ones).
        sample_weight : array-like or dask array of shape (n_samples,), default=None
            Non-negative weights ``s_i`` (multiplied by the class weights).
        classes : array-like, default=None
            All class labels, if known: fixes ``classes_`` (a label may be absent
            from this ``y``); every label of ``y`` must be in it.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        hidden = self._check_architecture()
        with restored_on_error(self):
            data = self._prepare(X, y, sample_weight, classes)
            layout = ParamLayout([data.n_features, *hidden, len(data.classes)],
                                 reference_index(self.reference_class, data.classes),
                                 self.fit_intercept)
            # J is the weighted *mean* NLL, so the penalty alpha/2 ||W||^2 is divided
            # by S too: the minimiser is that of LogisticRegression(C=1/alpha).
            penalty = L2Penalty(layout, self.alpha / data.sw_sum)
            hessp = data.make_hessp(layout) if self.solver == "trust-ncg" else None
            objective = PenalisedObjective(
                data.make_objective(layout, self.activation), penalty, hessp)
            # The solver searches phi, the first layer in centred, scaled coordinates.
            pre = self._preconditioner(data, layout, penalty.l2_reg_strength)
            callbacks = IterationCallbacks(
                self, **data.callback_data, max_iter=self.max_iter,
                reconstruct=reconstruction(data.classes, layout, data.dtype, pre.to_theta))
            memory = lbfgs_memory(data.n_values, data.n_features, len(hidden), data.dtype)
            result, loss_curve = self._minimise(
                PreconditionedObjective(objective, pre),
                self._initial_phi(layout, data.classes, pre), callbacks, memory, data.dtype)
            n_iter, converged, warning = check_result(
                result, solver=self.solver, max_iter=self.max_iter, max_fun=self.max_fun,
                tol=self.tol, kinks=bool(hidden) and self.activation == "relu")
            self._set_fitted(layout, data, pre.to_theta(result.x), float(result.fun),
                             n_iter, converged, loss_curve)
        if warning is not None:  # stacklevel 3: fit -> _fit_context -> the caller
            warnings.warn(warning, ConvergenceWarning, stacklevel=3)
        callbacks.end()
        return self

    def _preconditioner(self, data, layout, l2_reg_strength):
        """The fit's :class:`~sk_softmax._precondition.Preconditioner`: diagonal, or
        whitening for softmax regression on few enough dense features that are nearly
        collinear (docs/user_guide/convergence.md, "Preconditioning")."""
        n_classes, n_features = layout.layer_units[-1], data.n_features
        full = (len(layout.shapes) == 1
                and n_features <= min(MAX_WHITENED_FEATURES,
                                      WHITENING_FEATURES_PER_CLASS * n_classes)
                and data.n_values >= WHITENING_ROWS_PER_FEATURE * n_features**2)
        cache = getattr(self, "_moments_cache", None)
        if cache is None:
            _, mean, std, covariance = data.moments(full)
        else:  # a path of fits on the same data (SoftmaxNNClassifierCV): computed once
            key = ("moments", full, data.n_features, data.sw_sum)
            if key not in cache:
                cache[key] = data.moments(full)
            _, mean, std, covariance = cache[key]
            covariance = covariance and _rescaled(covariance, std, cache, key)
        return preconditioner(layout, mean, std, l2_reg_strength, covariance)

    def _prepare(self, X, y, sample_weight, classes):
        """The :class:`~sk_softmax._prepare.FitData` of in-memory or dask data."""
        if any(map(is_dask_collection, (X, y, sample_weight))):
            return prepare_dask(X, y, sample_weight, classes,
                                class_weight=self.class_weight, solver=self.solver,
                                estimator_name=type(self).__name__)
        if is_array_api_input(X):
            return prepare_array_api(self, X, y, sample_weight, classes,
                                     class_weight=self.class_weight, solver=self.solver)
        return prepare_in_memory(self, X, *host_inputs(y, sample_weight), classes)

    def _minimise(self, objective, phi0, callbacks, memory, dtype):
        """Run the solver from ``phi0``; return SciPy's result and the loss curve.

        After an abnormal stop SciPy's ``fun`` may belong to a rejected trial point:
        it is recomputed at the returned parameters, so ``loss_`` is ``J(x)``.
        """
        callbacks.begin(phi0)
        # Trial points of a line search may overflow; the solver rejects them, and
        # the accepted parameters are checked for finiteness below.
        with objective, np.errstate(all="ignore"):
            result, loss_curve = minimize_objective(
                objective, phi0, solver=self.solver,
                hessp=objective.hessp if self.solver == "trust-ncg" else None,
                max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
                verbose=self.verbose, on_iteration=callbacks, memory=memory, dtype=dtype,
            )
            finite = np.all(np.isfinite(result.x))
            if finite and result.status != 0:
                result.fun = objective(result.x)[0]
        callbacks.close_iterations()
        if not finite or not np.isfinite(result.fun):
            raise ValueError(NON_FINITE)
        return result, loss_curve

    def _set_fitted(self, layout, data, theta, loss, n_iter, converged, loss_curve):
        """Set the fitted attributes from the solver's solution ``theta`` and ``J`` there."""
        self.n_features_in_ = data.n_features
        if data.feature_names is None:
            self.__dict__.pop("feature_names_in_", None)
        else:
            self.feature_names_in_ = data.feature_names
        # Plain values (not the ParamLayout object), so that skops can load models.
        self._layout_params = (layout.layer_units, layout.reference, layout.fit_intercept)
        self.n_iter_, self.converged_ = n_iter, converged
        # The symmetric output layer centred (predictions unchanged), docs/math.md.
        self.classes_, self.coefs_, self.intercepts_ = data.fitted(
            *layout.unpack_centred(theta, data.dtype, weights=self.alpha == 0))
        self.loss_, self.loss_curve_ = loss, loss_curve

    def _check_architecture(self):
        """Return ``hidden_layer_sizes`` as a tuple of ints >= 1, or raise ValueError."""
        sizes = hidden_layer_units(self.hidden_layer_sizes)
        if sizes and self.solver == "trust-ncg":
            raise ValueError(
                "solver='trust-ncg' needs the exact Hessian, implemented for "
                f"hidden_layer_sizes=() only; got {self.hidden_layer_sizes!r}. Use "
                "solver='lbfgs'."
            )
        return sizes

    def _initial_phi(self, layout, classes, pre):
        """The solver's start: the previous solution (warm start), zeros, or
        Glorot-uniform weights drawn in the preconditioned coordinates (the first layer
        sees its inputs centred and scaled).

        A warm start with other classes is refused (as MLPClassifier does); with
        another architecture it starts afresh.
        """
        warm = self.warm_start and hasattr(self, "coefs_")
        if warm and not np.array_equal(to_numpy(self.classes_), classes):
            raise ValueError(
                f"warm_start=True needs the classes of the previous fit, "
                f"{shorten(self.classes_)}; this fit has {shorten(classes)}. Set "
                "warm_start=False to start afresh.")
        if warm and self._layout == layout:
            with np.errstate(all="ignore"):  # non-finite: refused by the solver's check
                return pre.to_phi(layout.pack([to_numpy(c) for c in self.coefs_],
                                              [to_numpy(b) for b in self.intercepts_]))
        if len(layout.shapes) == 1:
            return np.zeros(layout.n_params)
        return glorot_uniform(layout, self.activation, check_random_state(self.random_state))

    def inference(self, X, y, sample_weight=None, cov_type="nonrobust"):
        """Standard errors, z tests, intervals and fit statistics at the fitted model.

        Softmax regression only (``hidden_layer_sizes=()``). The covariance is the
        inverse observed information, the Hessian of the weighted negative
        log-likelihood ``-sum_i s_i log P[i, y_i]`` on the given (training) data,
        sample weights acting as frequency weights (docs/math.md, "Covariance and
        standard errors")::

            nonrobust:  cov = H^-1
            HC0:        cov = H^-1 (sum_i s_i g_i g_i^T) H^-1,  g_i the score of sample i

        With ``alpha > 0`` it is the covariance of the *penalised* estimate: ``H``
        includes the penalty ``alpha * I`` on the weights (a warning says so). The
        symmetric parameterisation (``reference_class=None``) is not identifiable
        with ``alpha=0``; with ``alpha > 0`` its intercepts are identified only
        up to a constant, and their covariance is that of the centred intercepts
        (pseudo-inverse). A design that does not identify the parameters (e.g. a
        constant column with the intercept) is refused; classes that separated data
        leave without a maximum-likelihood estimate get NaN statistics and a
        :class:`~sk_softmax.SeparationWarning`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data the model was fitted on.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        cov_type : {"nonrobust", "HC0"}, default="nonrobust"

        Returns
        -------
        result : InferenceResult
            ``std_err_coef``, ``z_coef``, ``p_coef`` (shaped like ``coef_``), the
            same for the intercept, ``conf_int()``, ``cov``, ``llf``, ``llnull``,
            ``aic``, ``bic``, ``pseudo_r2``, ``n_obs``, ``summary()`` and
            ``to_frame()``.
        """
        return inference(self, X, y, sample_weight, cov_type)

    @property
    def _layout(self):
        """The fitted model's :class:`ParamLayout`."""
        return ParamLayout(*self._layout_params)

    @property
    def coef_(self):
        """LogisticRegression-layout weights; only when ``hidden_layer_sizes=()``.

        Read-only: writing into it raises (set ``coefs_`` instead).
        """
        return read_only(logistic_regression_layout(*self._linear_output())[0])

    @property
    def intercept_(self):
        """LogisticRegression-layout intercepts; only when ``hidden_layer_sizes=()``.

        Read-only: writing into it raises (set ``intercepts_`` instead).
        """
        return read_only(logistic_regression_layout(*self._linear_output())[1])

    def _linear_output(self):
        check_is_fitted(self)
        if len(self.coefs_) != 1:
            raise AttributeError(
                "coef_ and intercept_ exist only when hidden_layer_sizes=(); use "
                "coefs_ and intercepts_."
            )
        return self.coefs_[0], self.intercepts_[0]

    def decision_function(self, X):
        """Return the logits, shaped like LogisticRegression's.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray or dask array of shape (n_samples,) or (n_samples, n_classes)
            For two classes the logit of ``classes_[1]`` minus that of
            ``classes_[0]``; otherwise all ``n_classes`` logits.
        """
        return predictions(self, X, "decision_function")

    def predict(self, X):
        """Return the most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray or dask array of shape (n_samples,)
        """
        return predictions(self, X, "predict")

    def predict_proba(self, X):
        """Return the class probabilities ``P = softmax(Z_L)``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray or dask array of shape (n_samples, n_classes)
            Columns ordered as ``classes_``; rows sum to one.
        """
        return predictions(self, X, "predict_proba")

    def predict_log_proba(self, X):
        """Return ``log P``, computed from the logits by a stable log-softmax.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray or dask array of shape (n_samples, n_classes)
        """
        return predictions(self, X, "predict_log_proba")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # fit and the predictions run in the namespace and on the device of X under
        # sklearn.set_config(array_api_dispatch=True) (sk_softmax/_array_api.py).
        tags.array_api_support = True
        return tags
