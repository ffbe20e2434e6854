"""SoftmaxNNClassifier: hyper-parameters, validation, fit orchestration and predictions."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from threadpoolctl import threadpool_info

from ._callbacks import CallbackSupportMixin, IterationCallbacks
from ._dask import fit_dask, is_dask_collection, map_blocks
from ._hessian import HessianProduct
from ._inference import check_inference_possible, inference_result
from ._loss import log_softmax, softmax
from ._network import ACTIVATIONS, ParamLayout, forward
from ._objective import Objective, row_values
from ._solver import check_result, minimize_objective

#: Values (of X and the activations) per row block at prediction time: about 600
#: rows of 100 features, so that a block's logits stay in cache (measured faster
#: than both larger blocks and a single product on 300k x 100).
PREDICT_BLOCK_VALUES = 2**16


def _blas_threads():
    """Threads the BLAS may use now (1 under ``threadpool_limits(1)``)."""
    return max(
        (info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"),
        default=1,
    )


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

    feature_names_in_ : ndarray of shape (n_features_in_,)
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
        Whether L-BFGS reported convergence.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : Same objective without hidden layers.
    sklearn.neural_network.MLPClassifier : Same objective with hidden layers.

    Notes
    -----
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
        if any(map(is_dask_collection, (X, y, sample_weight))):
            return fit_dask(self, hidden, X, y, sample_weight, classes)
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32]
        )
        check_classification_targets(y)
        y_true, classes = self._encode_labels(y, classes)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        sample_weight = self._sample_weight(X, y_true, classes, sample_weight)
        layout = ParamLayout([X.shape[1], *hidden, len(classes)],
                             self._reference_index(classes), self.fit_intercept)
        # J is the weighted *mean* NLL, so the penalty alpha/2 ||W||^2 is divided by
        # S too: the minimiser is that of LogisticRegression(C=1/alpha).
        l2_reg_strength = self.alpha / sample_weight.sum()
        objective = Objective(X, y_true, sample_weight, layout, self.activation,
                              l2_reg_strength, n_threads=_blas_threads())
        hessp = None
        if self.solver == "trust-ncg":
            hessp = HessianProduct(X, y_true, sample_weight, layout, l2_reg_strength)
        callbacks = IterationCallbacks(self, X, y, metadata, self._reconstruction(
            classes, layout, X.dtype), self.max_iter)
        # stacklevel 5: check_result -> _fit_objective -> fit -> _fit_context -> user.
        return self._fit_objective(objective, hessp, classes, layout, X.dtype,
                                   callbacks, stacklevel=5)

    def _fit_objective(self, objective, hessp, classes, layout, dtype, callbacks,
                       stacklevel):
        """Minimise ``objective`` from the initial parameters and set the fitted
        attributes; ``stacklevel`` points a ConvergenceWarning at the user's call."""
        theta0 = self._initial_theta(layout, classes, dtype)
        callbacks.begin(theta0)
        # Trial points of a line search may overflow; the solver rejects them, and
        # the accepted parameters are checked for finiteness below.
        with objective, np.errstate(all="ignore"):
            result, loss_curve = minimize_objective(
                objective, theta0, solver=self.solver, hessp=hessp,
                max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
                verbose=self.verbose, on_iteration=callbacks,
            )
        callbacks.close_iterations()
        n_iter, converged = check_result(
            result, solver=self.solver, max_iter=self.max_iter, max_fun=self.max_fun,
            stacklevel=stacklevel,
        )
        if not np.all(np.isfinite(result.x)):
            raise ValueError(
                "The solver produced non-finite parameters; scale the data or "
                "increase alpha."
            )
        self.classes_ = classes
        # Plain values (not the ParamLayout object), so that skops can load models.
        self._layout_params = (layout.layer_units, layout.reference, layout.fit_intercept)
        self.n_iter_, self.converged_ = n_iter, converged
        self.coefs_, self.intercepts_ = self._centred(layout.unpack(result.x, dtype))
        self.loss_, self.loss_curve_ = float(result.fun), loss_curve
        callbacks.end()
        return self

    def _reconstruction(self, classes, layout, dtype):
        """``theta -> fitted attributes``: what a callback needs to predict mid-fit."""
        layout_params = (layout.layer_units, layout.reference, layout.fit_intercept)

        def reconstruct(theta):
            coefs, intercepts = layout.unpack(np.array(theta), dtype)
            return {"classes_": classes, "_layout_params": layout_params,
                    "coefs_": coefs, "intercepts_": intercepts}

        return reconstruct

    def _check_architecture(self):
        """Return ``hidden_layer_sizes`` as a tuple of ints >= 1, or raise ValueError."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must contain only integers >= 1, got "
                f"{self.hidden_layer_sizes!r}."
            )
        if sizes and self.solver == "trust-ncg":
            raise ValueError(
                "solver='trust-ncg' needs the exact Hessian, implemented for "
                f"hidden_layer_sizes=() only; got {self.hidden_layer_sizes!r}. Use "
                "solver='lbfgs'."
            )
        return tuple(int(s) for s in sizes)

    def _encode_labels(self, y, classes=None):
        """Return integer codes ``y_true`` and ``classes``; at least two classes."""
        classes = self._resolve_classes(np.unique(y), classes)
        return np.searchsorted(classes, y), classes

    @staticmethod
    def _resolve_classes(labels, classes):
        """The sorted classes: the labels of y, or ``classes`` if given (which must
        hold every label); at least two, else ValueError."""
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            unknown = np.setdiff1d(labels, classes)
            if unknown.size:
                raise ValueError(
                    f"y contains labels that are not in classes: {unknown.tolist()}."
                )
            labels = classes
        if len(labels) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {labels[0]!r}."
            )
        return labels

    def _sample_weight(self, X, y_true, classes, sample_weight):
        """Return ``s``: sample weights times class weights, float64, positive sum."""
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
        )
        if self.class_weight is not None:
            class_weight = compute_class_weight(
                self.class_weight,
                classes=classes,
                y=classes[y_true],
                sample_weight=sample_weight,
            )
            sample_weight *= class_weight[y_true]
        if not sample_weight.sum() > 0:
            raise ValueError(
                "The sample weights (times the class weights) sum to zero; at least "
                "one sample needs a positive weight."
            )
        return sample_weight

    def _reference_index(self, classes):
        """Return the index of ``reference_class`` in ``classes`` (None if symmetric)."""
        if self.reference_class is None:
            return None
        matches = [k for k, label in enumerate(classes) if label == self.reference_class]
        if not matches:
            raise ValueError(
                f"reference_class={self.reference_class!r} is not one of the labels "
                f"in y: {classes.tolist()}."
            )
        return matches[0]

    def _initial_theta(self, layout, classes, dtype):
        """Return the previous solution (warm start), zeros or Glorot-uniform weights."""
        if (
            self.warm_start
            and hasattr(self, "coefs_")
            and np.array_equal(self.classes_, classes)
            and self._layout == layout
        ):
            return layout.pack(self.coefs_, self.intercepts_)
        if len(layout.shapes) == 1:
            return np.zeros(layout.n_params)
        # Glorot uniform, drawn in the same order as MLPClassifier's _init_coef.
        rng = check_random_state(self.random_state)
        factor = 2.0 if self.activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in layout.shapes:
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rng.uniform(-bound, bound, fan_out))
        return layout.pack(coefs, intercepts)

    def _centred(self, params):
        """Centre the symmetric output layer across classes (predictions unchanged)."""
        coefs, intercepts = params
        if self._layout.reference is None:
            intercepts[-1] = intercepts[-1] - intercepts[-1].mean()
            if self.alpha == 0:
                coefs[-1] = coefs[-1] - coefs[-1].mean(axis=1, keepdims=True)
        return coefs, intercepts

    def inference(self, X, y, sample_weight=None, cov_type="nonrobust"):
        """Standard errors, z tests, intervals and fit statistics at the fitted model.

        Softmax regression only (``hidden_layer_sizes=()``). The covariance is the
        inverse observed information, the Hessian of the weighted negative
        log-likelihood ``-sum_i s_i log P[i, y_i]`` on the given (training) data,
        sample weights acting as frequency weights (MATH.md, "Second order")::

            nonrobust:  cov = H^-1
            HC0:        cov = H^-1 (sum_i s_i g_i g_i^T) H^-1,  g_i the score of sample i

        With ``alpha > 0`` it is the covariance of the *penalised* estimate: ``H``
        includes the penalty ``alpha * I`` on the weights (a warning says so). The
        symmetric parameterisation (``reference_class=None``) is not identifiable
        with ``alpha=0``; with ``alpha > 0`` its intercepts are identified only
        up to a constant, and their covariance is that of the centred intercepts
        (pseudo-inverse).

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
        check_is_fitted(self)
        check_inference_possible(self, cov_type)
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
            reset=False,
        )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels not seen in fit: {unknown.tolist()}.")
        y_true = np.searchsorted(self.classes_, y)
        sample_weight = self._sample_weight(X, y_true, self.classes_, sample_weight)
        if self.alpha > 0:
            warnings.warn(
                f"alpha={self.alpha} > 0: the covariance is that of the penalised "
                "estimate (inverse penalised Hessian), not of the maximum-likelihood "
                "estimate. Fit with alpha=0 for classical standard errors.",
                UserWarning, stacklevel=2,
            )
        return inference_result(self, X, y_true, sample_weight, cov_type)

    @property
    def _layout(self):
        """The fitted model's :class:`ParamLayout`."""
        return ParamLayout(*self._layout_params)

    @property
    def coef_(self):
        """LogisticRegression-layout weights; only when ``hidden_layer_sizes=()``."""
        coef = self._linear_output()[0]
        if coef.shape[1] == 2:
            return (coef[:, 1] - coef[:, 0])[np.newaxis, :]
        return coef.T

    @property
    def intercept_(self):
        """LogisticRegression-layout intercepts; only when ``hidden_layer_sizes=()``."""
        intercept = self._linear_output()[1]
        if intercept.shape[0] == 2:
            return intercept[1:] - intercept[:1]
        return intercept.copy()

    def _linear_output(self):
        check_is_fitted(self)
        if len(self.coefs_) != 1:
            raise AttributeError(
                "coef_ and intercept_ exist only when hidden_layer_sizes=(); use "
                "coefs_ and intercepts_."
            )
        return self.coefs_[0], self.intercepts_[0]

    def _map_logits(self, X, transform, n_columns):
        """Apply ``transform`` to the output logits ``Z_L`` of X, block by block.

        Dense rows are processed in blocks, so the logits (and any hidden
        activations) of only one block exist at a time and stay in cache; a sparse X
        is one block. A dask array gives a lazy dask array (``map_blocks``), with
        ``n_columns`` columns (None: one value a row).
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has shape {X.shape}, but {type(self).__name__} is "
                                 f"expecting {self.n_features_in_} features as input.")
            probe = self._map_logits(np.zeros((1, X.shape[1]), X.dtype), transform,
                                     n_columns)
            return map_blocks(X, lambda block: self._map_logits(block, transform,
                                                                n_columns),
                              n_columns, probe.dtype)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
            reset=False,
        )
        n_samples = X.shape[0]
        values = row_values(X, sum(self._layout.layer_units[1:]))
        step = max(1, int(PREDICT_BLOCK_VALUES // values))
        if sp.issparse(X):  # scipy's row slices copy: one product over all rows
            step = n_samples
        parts = []
        with np.errstate(over="ignore", under="ignore"):
            for start in range(0, n_samples, step):
                X_block = X if step >= n_samples else X[start : start + step]
                logits = forward(X_block, self.coefs_, self.intercepts_, self.activation)
                parts.append(transform(logits[-1]))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

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
        if len(getattr(self, "classes_", ())) == 2:
            return self._map_logits(X, lambda Z: Z[:, 1] - Z[:, 0], None)
        return self._map_logits(X, lambda Z: Z, len(getattr(self, "classes_", ())))

    def predict(self, X):
        """Return the most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray or dask array of shape (n_samples,)
        """
        return self._map_logits(X, lambda Z: self.classes_[np.argmax(Z, axis=1)], None)

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
        return self._map_logits(X, softmax, len(getattr(self, "classes_", ())))

    def predict_log_proba(self, X):
        """Return ``log P``, computed from the logits by a stable log-softmax.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray or dask array of shape (n_samples, n_classes)
        """
        return self._map_logits(X, log_softmax, len(getattr(self, "classes_", ())))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
