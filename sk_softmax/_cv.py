"""SoftmaxNNClassifierCV: the L2 strength ``alpha`` chosen by cross-validation along a
warm-started regularisation path, as LogisticRegressionCV chooses ``C``."""

# SPDX-License-Identifier: BSD-3-Clause

import inspect
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import NotFittedError
from sklearn.metrics import get_scorer, get_scorer_names, make_scorer
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_method_params,
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._classifier import SoftmaxNNClassifier
from ._prepare import class_weights_and_total, label_summary, resolve_classes, shorten

#: Decades spanned by the default grid: ``alphas=n`` runs from ``alpha_max`` down to
#: ``alpha_max * 10**-ALPHA_DECADES``.
ALPHA_DECADES = 5

#: Parameters of SoftmaxNNClassifier that the CV estimator does not take: ``alpha`` is
#: what it chooses, and every fit along a path is warm-started by construction.
_NOT_INHERITED = ("alpha", "warm_start")


def alpha_max(X, y, classes, sample_weight=None, class_weight=None, fit_intercept=True):
    """The top of the default alpha grid: the gradient scale of the null model.

    ``alpha_max = max_{j,k} |[X^T diag(s) (Y - Ybar)]_{jk}|``, the largest entry of
    the gradient of the summed weighted NLL ``sum_i s_i NLL_i`` with respect to the
    output weights at ``W = 0`` (intercepts at their optimum ``Ybar``, the weighted
    class frequencies, or ``1/K`` without intercepts). For softmax regression the
    solution at a large alpha is ``W ~= -G / alpha``, so at ``alpha_max`` no weight
    exceeds about 1 in X's units, and the path runs towards the unpenalised fit from
    there. ``s_i`` is ``sample_weight`` times the class weight. 1.0 if the
    gradient is zero (e.g. constant features).
    """
    sw = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight,
                                                                      dtype=np.float64)
    weights, class_counts, sw_sum = class_weights_and_total(
        class_weight, classes, label_summary(y, sw))
    codes = np.searchsorted(classes, y)
    s = sw * weights[codes]
    n_classes = len(classes)
    y_bar = class_counts / sw_sum if fit_intercept else np.full(n_classes, 1 / n_classes)
    sY = np.zeros((X.shape[0], n_classes))
    sY[np.arange(X.shape[0]), codes] = s
    gradient = np.asarray(X.T @ sY, dtype=np.float64)
    gradient -= np.outer(np.asarray(X.T @ s, dtype=np.float64).ravel(), y_bar)
    top = float(np.max(np.abs(gradient), initial=0.0))
    return top if np.isfinite(top) and top > 0 else 1.0


def _scorer_with_labels(scoring, classes):
    """``get_scorer(scoring)``, told all the classes where its metric takes ``labels``
    (a test fold may lack a class), as LogisticRegressionCV does."""
    scorer = get_scorer("accuracy" if scoring is None else scoring)
    score_func = getattr(scorer, "_score_func", None)
    if score_func is None or "labels" not in inspect.signature(score_func).parameters:
        return scorer
    kwargs = dict(getattr(scorer, "_kwargs", {}))
    kwargs["labels"] = classes
    if len(classes) == 2 and "pos_label" in inspect.signature(score_func).parameters:
        kwargs.setdefault("pos_label", classes[-1])
    return make_scorer(score_func, greater_is_better=scorer._sign == 1,
                       response_method=scorer._response_method, **kwargs)


class _NegLogLoss:
    """``get_scorer("neg_log_loss")`` for a fitted model that knows all the classes,
    computed as scikit-learn's log_loss does (probabilities clipped to ``[eps, 1 -
    eps]`` of their dtype, the weighted mean of ``-log p[i, y_i]``) without its input
    checks, which cost more than the predictions on a fold; the labels are coded once.
    """

    def __init__(self, classes):
        self.classes = classes

    def __call__(self, estimator, X, y, sample_weight=None):
        proba = estimator.predict_proba(X)
        eps = np.finfo(proba.dtype).eps
        codes = np.searchsorted(self.classes, y)
        true_proba = np.clip(proba[np.arange(len(codes)), codes], eps, 1 - eps)
        return -float(np.average(-np.log(true_proba), weights=sample_weight))


def _checked_folds(splits, n_samples):
    """The splitter's folds as a list: at least one, each with training and test rows,
    every index a row of X (an empty or an out-of-range split is a ValueError that
    says so, not an IndexError)."""
    folds = []
    for number, (train, test) in enumerate(splits, start=1):
        train, test = np.asarray(train), np.asarray(test)
        for name, rows in (("training", train), ("test", test)):
            if rows.size == 0:
                raise ValueError(f"cv split {number} has no {name} rows.")
            if rows.dtype.kind == "b":
                continue
            if rows.dtype.kind not in "iu" or rows.min() < -n_samples \
                    or rows.max() >= n_samples:
                raise ValueError(f"cv split {number}: its {name} indices must be integers "
                                 f"in [0, {n_samples}) (X has {n_samples} rows).")
        folds.append((train, test))
    if not folds:
        raise ValueError("cv gave no splits: give a number of folds, a splitter or an "
                         "iterable of (train, test) index arrays.")
    return folds


def _path(params, X, y, sample_weight, classes, alphas, *, train=None, test=None,
          scorer=None, score_params=None, keep_coefs=False):
    """Fit ``alphas`` in order on the training rows, each fit warm-started from the
    previous one; score each on the test rows.

    Returns ``(scores, n_iter, coefs, estimator)``: ``coefs`` holds
    ``(coefs_, intercepts_)`` at each alpha if ``keep_coefs``; ``estimator`` is the
    fitted model at the last alpha.
    """
    X_train, y_train, sw_train = X, y, sample_weight
    if train is not None:
        X_train, y_train = X[train], y[train]
        sw_train = None if sample_weight is None else sample_weight[train]
    if test is not None:
        X_test, y_test = X[test], y[test]
        score_params = _check_method_params(X, score_params or {}, indices=test)
    estimator = SoftmaxNNClassifier(**params, alpha=alphas[0], warm_start=True)
    # One training set for every alpha: its column moments are computed once.
    estimator._moments_cache = {}
    scores, n_iter, coefs = [], [], []
    for alpha in alphas:
        estimator.set_params(alpha=alpha)
        estimator.fit(X_train, y_train, sample_weight=sw_train, classes=classes)
        n_iter.append(estimator.n_iter_)
        if test is not None:
            scores.append(scorer(estimator, X_test, y_test, **score_params))
        if keep_coefs:
            coefs.append(([c.copy() for c in estimator.coefs_],
                          [b.copy() for b in estimator.intercepts_]))
    del estimator._moments_cache
    return scores, n_iter, coefs, estimator


class SoftmaxNNClassifierCV(SoftmaxNNClassifier):
    """SoftmaxNNClassifier with the L2 strength ``alpha`` chosen by cross-validation.

    For each fold, the whole path of ``alphas`` is fitted from the largest alpha to the
    smallest, each fit warm-started from the previous one, and each fit is scored on
    the fold's test rows. The alpha with the best mean score over the folds is
    ``alpha_``; with ``refit=True`` the model is then refitted on all the data at
    ``alpha_``, warm-started from the path: for softmax regression from the mean of
    the folds' solutions at ``alpha_`` (as LogisticRegressionCV does); with hidden
    layers by running the same path on all the data, from the largest alpha down to
    ``alpha_`` (the procedure that was scored, from the same initialisation).

    The fitted model is a SoftmaxNNClassifier at ``alpha_``: it has all its fitted
    attributes and methods. Softmax regression is convex, so the warm starts change
    only the solver's path, not the optimum: with a tight ``tol`` the scores are those
    of ``GridSearchCV(SoftmaxNNClassifier(), {"alpha": alphas_}, cv=...)``. With
    hidden layers every alpha's fit starts where the previous one ended, so its local
    optimum may differ from a cold fit's; set ``random_state`` to an int for
    reproducible paths (each fold starts from the same initialisation).

    Parameters
    ----------
    alphas : int or array-like of float, default=10
        The grid of ``alpha`` values (each >= 0). An int ``n`` gives ``n`` values
        log-spaced from ``alpha_max`` down to ``alpha_max * 1e-5`` (five decades),
        where ``alpha_max = max_{j,k} |[X^T diag(s) (Y - Ybar)]_{jk}|`` is the largest
        gradient entry of the summed weighted negative log-likelihood with respect to
        the output weights at the null model (``W = 0``, intercepts at the weighted
        class frequencies ``Ybar``; ``Ybar = 1/K`` with ``fit_intercept=False``),
        computed on all the data with the sample and class weights ``s``. At
        ``alpha_max`` softmax regression's weights are about ``-G / alpha_max``, at
        most about 1 in X's units; the grid then runs five decades towards the
        unpenalised fit. (On standardised iris, wine, breast cancer, digits and
        make_classification data, LogisticRegressionCV's best ``1/C`` was between
        ``3e-4`` and ``0.3`` times ``alpha_max``.) Scale X (e.g. StandardScaler) for
        the range to be meaningful. The path is always fitted in decreasing order of
        alpha.

    cv : int, cross-validation generator or iterable, default=5
        As in LogisticRegressionCV: an int is the number of folds of
        :class:`~sklearn.model_selection.StratifiedKFold` (no shuffling); see
        :func:`~sklearn.model_selection.check_cv`.

    scoring : str, callable or None, default=None
        The score maximised, as in GridSearchCV (:func:`~sklearn.metrics.get_scorer`),
        and what :meth:`score` returns, as LogisticRegressionCV. None: alpha is chosen
        by the log-loss (``"neg_log_loss"``, the criterion for a penalty's strength)
        and :meth:`score` is the accuracy, as every scikit-learn classifier's (pass
        ``scoring="accuracy"`` to choose by accuracy too). Metrics with a ``labels``
        argument are given all the classes, since a test fold may lack one.

    refit : bool, default=True
        Refit on all the data at ``alpha_``. If False, for softmax regression the
        model is the mean of the folds' models at their own best alpha and ``alpha_``
        the mean of those alphas (as LogisticRegressionCV does); with hidden layers
        (whose units need not correspond across folds) only the selection attributes
        are set and the model cannot predict.

    n_jobs : int, default=None
        Folds fitted in parallel (joblib); None means 1 unless in a
        ``joblib.parallel_backend`` context, -1 all processors.

    hidden_layer_sizes, activation, reference_class, fit_intercept, class_weight, \
solver, max_iter, tol, max_fun, random_state, verbose
        As in :class:`SoftmaxNNClassifier`, for every fit. ``alpha`` is what is chosen
        and ``warm_start`` is implied along each path, so neither is a parameter.
        ``class_weight="balanced"`` is computed on each fit's training rows, as with
        GridSearchCV.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha (largest of any tie).

    alphas_ : ndarray of shape (n_alphas,)
        The grid, in decreasing order (the order of the path).

    scores_ : ndarray of shape (n_folds, n_alphas)
        Test score of each fold at each alpha.

    n_iter_ : ndarray of shape (n_folds, n_alphas)
        Solver iterations of each fit of the paths.

    classes_, n_features_in_, feature_names_in_, coefs_, intercepts_, coef_, \
intercept_, loss_, loss_curve_, converged_
        Those of the model at ``alpha_`` (see :class:`SoftmaxNNClassifier`; ``loss_``,
        ``loss_curve_`` and ``converged_`` of the refit only).

    See Also
    --------
    SoftmaxNNClassifier : The model at a given alpha.
    sklearn.linear_model.LogisticRegressionCV : The same search for ``C = 1/alpha``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_softmax import SoftmaxNNClassifierCV
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), SoftmaxNNClassifierCV(alphas=6, cv=3))
    >>> clf = pipe.fit(X, y)[-1]
    >>> clf.alphas_.round(4)
    array([6.52494e+01, 6.52490e+00, 6.52500e-01, 6.52000e-02, 6.50000e-03,
           7.00000e-04])
    >>> clf.scores_.shape
    (3, 6)
    >>> clf.scores_.mean(axis=0).round(3)
    array([-0.632, -0.336, -0.138, -0.068, -0.062, -0.083])
    >>> round(clf.alpha_, 4)
    0.0065
    >>> clf.coef_.shape, pipe.predict(X[:3])
    ((3, 4), array([0, 0, 0]))
    """

    _parameter_constraints: dict = {
        **{key: value for key, value in SoftmaxNNClassifier._parameter_constraints.items()
           if key not in _NOT_INHERITED},
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        alphas=10,
        *,
        cv=5,
        scoring=None,
        refit=True,
        n_jobs=None,
        hidden_layer_sizes=(),
        activation="tanh",
        reference_class=None,
        fit_intercept=True,
        class_weight=None,
        solver="lbfgs",
        max_iter=1000,
        tol=1e-4,
        max_fun=15000,
        random_state=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.reference_class = reference_class
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose ``alpha`` by cross-validation and (``refit=True``) refit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 is kept, other dtypes become float64.
        y : array-like of shape (n_samples,)
            Class labels (at least two distinct ones).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, passed to every fit (training rows) and to the
            scorer (test rows), as LogisticRegressionCV does.
        **params : dict
            Parameters for the splitter (e.g. ``groups``) and the scorer; only with
            metadata routing enabled (``sklearn.set_config(enable_metadata_routing=
            True)``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        hidden = self._check_architecture()
        X, y = validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32])
        check_classification_targets(y)
        classes = resolve_classes(np.unique(y), None)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
        alphas = self._alpha_grid(X, y, classes, sample_weight)
        routed = self._routed(sample_weight, params)
        folds = _checked_folds(check_cv(self.cv, y, classifier=True).split(
            X, y, **routed.splitter.split), len(y))
        selection = self._selection_scoring()
        if selection == "neg_log_loss" and not _routing_enabled():
            scorer = _NegLogLoss(classes)  # the default: the same value, faster
        else:
            scorer = _scorer_with_labels(selection, classes)
        paths = Parallel(n_jobs=self.n_jobs)(
            delayed(_path)(self._fit_params(), X, y, sample_weight, classes, alphas,
                           train=train, test=test, scorer=scorer,
                           score_params=routed.scorer.score, keep_coefs=not hidden)
            for train, test in folds)
        scores = np.array([path[0] for path in paths], dtype=np.float64)
        n_iter = np.array([path[1] for path in paths], dtype=np.intp)
        mean = scores.mean(axis=0)
        if np.isnan(mean).all():
            raise ValueError(f"The scorer gave NaN for every alpha ({selection!r}): "
                             "no alpha can be chosen.")
        if np.isnan(mean).any():
            warnings.warn(f"The scorer gave NaN at alpha(s) {shorten(alphas[np.isnan(mean)])}; "
                          "they rank last.", UserWarning, stacklevel=2)
        best = int(np.argmax(np.where(np.isnan(mean), -np.inf, mean)))
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")
                    and k not in ("n_features_in_", "feature_names_in_")]:
            delattr(self, key)  # nothing of a previous fit survives a refit
        if self.refit:
            model = self._refit(X, y, sample_weight, classes, alphas, best, paths, hidden)
            self._take_fitted(model)
            self.alpha_ = float(alphas[best])
        else:
            self.alpha_ = self._average_folds(scores, alphas, paths, hidden)
        self.classes_ = classes
        self.alphas_, self.scores_, self.n_iter_ = alphas, scores, n_iter
        return self

    def _fit_params(self):
        """The SoftmaxNNClassifier parameters shared by every fit."""
        names = SoftmaxNNClassifier._get_param_names()
        return {name: getattr(self, name) for name in names if name not in _NOT_INHERITED}

    def _alpha_grid(self, X, y, classes, sample_weight):
        """``alphas_``: the given values, or the data-derived grid; decreasing."""
        if isinstance(self.alphas, (bool, np.bool_)):
            raise ValueError(f"alphas must be an int or a non-empty 1-D list of finite "
                             f"values >= 0; got {self.alphas!r}.")
        if isinstance(self.alphas, Integral):
            top = alpha_max(X, y, classes, sample_weight, self.class_weight,
                            self.fit_intercept)
            return top * np.logspace(0, -ALPHA_DECADES, self.alphas)
        alphas = np.asarray(self.alphas, dtype=np.float64)
        if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) \
                or np.any(alphas < 0):
            raise ValueError("alphas must be an int or a non-empty 1-D list of finite "
                             f"values >= 0; got {self.alphas!r}.")
        return np.sort(alphas)[::-1].copy()

    def _routed(self, sample_weight, params):
        """Routed parameters of the splitter and the scorer (as LogisticRegressionCV)."""
        if _routing_enabled():
            return process_routing(self, "fit", sample_weight=sample_weight, **params)
        score = {} if sample_weight is None else {"sample_weight": sample_weight}
        return Bunch(splitter=Bunch(split={}), scorer=Bunch(score=score))

    def _refit(self, X, y, sample_weight, classes, alphas, best, paths, hidden):
        """The model at ``alphas[best]`` on all the data, warm-started from the path."""
        if hidden:  # the scored procedure: the same path, on all the data
            return _path(self._fit_params(), X, y, sample_weight, classes,
                         alphas[: best + 1])[3]
        model = paths[0][3]  # a fitted model of the same layout; its solution replaced
        model.coefs_, model.intercepts_ = _mean_model([path[2][best] for path in paths])
        model.set_params(alpha=alphas[best], warm_start=True)
        return model.fit(X, y, sample_weight=sample_weight, classes=classes)

    def _average_folds(self, scores, alphas, paths, hidden):
        """``refit=False``: each fold's best model, averaged (softmax regression only);
        return the mean of the folds' best alphas."""
        best = np.argmax(np.where(np.isnan(scores), -np.inf, scores), axis=1)
        if not hidden:
            model = paths[0][3]
            model.coefs_, model.intercepts_ = _mean_model(
                [path[2][b] for path, b in zip(paths, best)])
            self.coefs_, self.intercepts_ = model.coefs_, model.intercepts_
            self._layout_params = model._layout_params
        return float(np.mean(alphas[best]))

    def _take_fitted(self, model):
        """Copy the fitted attributes of a SoftmaxNNClassifier into self."""
        for key, value in vars(model).items():
            if (key.endswith("_") and not key.startswith("_")
                    and key not in ("n_features_in_", "feature_names_in_")):
                setattr(self, key, value)
        self._layout_params = model._layout_params

    def _as_classifier(self):
        """The fitted model at ``alpha_`` as a plain SoftmaxNNClassifier."""
        check_is_fitted(self)
        model = SoftmaxNNClassifier(**self._fit_params(), alpha=self.alpha_)
        for key, value in vars(self).items():
            if key.endswith("_") and not key.startswith("_") and key not in (
                    "alpha_", "alphas_", "scores_", "n_iter_"):
                setattr(model, key, value)
        model._layout_params = self._layout_params
        return model

    def inference(self, X, y, sample_weight=None, cov_type="nonrobust"):
        """Standard errors and tests at the model of ``alpha_``; see
        :meth:`SoftmaxNNClassifier.inference` (the penalty ``alpha_`` included).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        cov_type : {"nonrobust", "HC0"}, default="nonrobust"

        Returns
        -------
        result : InferenceResult
        """
        return self._as_classifier().inference(X, y, sample_weight, cov_type)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    def _selection_scoring(self):
        """The scoring alpha is chosen by: ``scoring``, or the log-loss by default."""
        return "neg_log_loss" if self.scoring is None else self.scoring

    def score(self, X, y, sample_weight=None, **score_params):
        """The ``scoring`` score of the fitted model on ``(X, y)``; the accuracy when
        ``scoring`` is None (as LogisticRegressionCV, and every classifier).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        **score_params : dict
            Parameters for the scorer; only with metadata routing enabled.

        Returns
        -------
        score : float
        """
        _raise_for_params(score_params, self, "score")
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"This {type(self).__name__} instance has no model to "
                                 "score (refit=False with hidden layers, or not fitted).")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if _routing_enabled():
            score_params = process_routing(self, "score", **score_params).scorer.score
        return _scorer_with_labels(self.scoring, self.classes_)(self, X, y, **score_params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = False  # the folds and the grid are numpy code
        return tags

    def get_metadata_routing(self):
        """Metadata routing of this object (splitter and scorer), as in
        LogisticRegressionCV.

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(splitter=check_cv(self.cv),
                 method_mapping=MethodMapping().add(caller="fit", callee="split"))
            .add(scorer=get_scorer(self._selection_scoring()),
                 method_mapping=MethodMapping().add(caller="score", callee="score")
                 .add(caller="fit", callee="score"))
        )


def _mean_model(models):
    """The mean of several ``(coefs_, intercepts_)`` of one layout."""
    coefs = [np.mean([m[0][layer] for m in models], axis=0).astype(models[0][0][layer].dtype)
             for layer in range(len(models[0][0]))]
    intercepts = [np.mean([m[1][layer] for m in models], axis=0).astype(
        models[0][1][layer].dtype) for layer in range(len(models[0][1]))]
    return coefs, intercepts

