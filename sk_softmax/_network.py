"""The network: activations, the flat parameter layout and the forward pass."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from scipy.special import expit


def _identity(Z):
    return Z


def _logistic(Z):
    return expit(Z, out=Z)


def _tanh(Z):
    return np.tanh(Z, out=Z)


def _relu(Z):
    return np.maximum(Z, 0, out=Z)


def _identity_derivative(A, delta):
    pass


def _logistic_derivative(A, delta):
    delta *= A
    A -= 1
    delta *= A
    np.negative(delta, out=delta)  # delta * A * (1 - A)


def _tanh_derivative(A, delta):
    np.multiply(A, A, out=A)
    np.subtract(1, A, out=A)
    delta *= A  # delta * (1 - A**2)


def _relu_derivative(A, delta):
    np.multiply(delta, A > 0, out=delta)


#: In-place activations ``A = f(Z)`` of the hidden layers.
ACTIVATIONS = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": _tanh,
    "relu": _relu,
}

#: In-place ``delta *= f'(Z)``, written through the activation output ``A = f(Z)``,
#: which they overwrite (the backward pass no longer needs it).
DERIVATIVES = {
    "identity": _identity_derivative,
    "logistic": _logistic_derivative,
    "tanh": _tanh_derivative,
    "relu": _relu_derivative,
}

#: The activations for arrays of any array-API namespace ``xp`` (new arrays, nothing
#: overwritten), with the same operations, in the same order, as the in-place ones.
XP_ACTIVATIONS = {
    "identity": lambda Z, xp: Z,
    "logistic": lambda Z, xp: 1 / (1 + xp.exp(-Z)),
    "tanh": lambda Z, xp: xp.tanh(Z),
    "relu": lambda Z, xp: xp.maximum(Z, xp.zeros_like(Z)),
}

#: ``delta * f'(Z)`` from ``A = f(Z)`` for arrays of any array-API namespace ``xp``.
XP_DERIVATIVES = {
    "identity": lambda A, delta, xp: delta,
    "logistic": lambda A, delta, xp: (delta * A) * (1 - A),
    "tanh": lambda A, delta, xp: delta * (1 - A * A),
    "relu": lambda A, delta, xp: delta * xp.astype(A > 0, delta.dtype),
}


class ParamLayout:
    """Map between the network's weights and one flat float64 vector ``theta``.

    Conventions
    -----------
    ``layer_units = [d, h_1, ..., h_{L-1}, K]``; layer ``l`` has ``W_l`` of shape
    ``(fan_in, fan_out)`` and ``b_l`` of shape ``(fan_out,)`` (docs/math.md). ``theta`` is::

        theta = [ W_1.ravel(), ..., W_L[:, free].ravel(),     # all weights first
                  b_1, ..., b_L[free] ]                         # then the intercepts

    in C order, where ``free`` is every output column except the reference class
    ``r`` (all ``K`` columns in symmetric mode). Column ``r`` of ``W_L`` and entry
    ``r`` of ``b_L`` are fixed at zero and are not parameters. With
    ``fit_intercept=False`` the intercepts of every layer are fixed at zero and
    ``theta`` holds the weights only. Because the weights come first,
    ``theta[:n_coef]`` is exactly the penalised part.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input features first and ``n_classes`` last.
    reference : int or None
        Index of the reference class, or None for the symmetric softmax.
    fit_intercept : bool
        Whether the intercepts are parameters.
    """

    def __init__(self, layer_units, reference, fit_intercept):
        self.layer_units = tuple(int(u) for u in layer_units)
        self.reference = reference
        self.fit_intercept = bool(fit_intercept)
        n_classes = self.layer_units[-1]
        self.free = np.array([k for k in range(n_classes) if k != reference], dtype=np.intp)
        self.shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        free_out = [fan_out for _, fan_out in self.shapes[:-1]] + [len(self.free)]
        coef_sizes = [fan_in * out for (fan_in, _), out in zip(self.shapes, free_out)]
        intercept_sizes = free_out if self.fit_intercept else [0] * len(free_out)
        bounds = np.cumsum([0] + coef_sizes + intercept_sizes)
        self._slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        self.n_coef = int(sum(coef_sizes))
        self.n_params = int(bounds[-1])

    def __eq__(self, other):
        return isinstance(other, ParamLayout) and (
            (self.layer_units, self.reference, self.fit_intercept)
            == (other.layer_units, other.reference, other.fit_intercept)
        )

    def unpack(self, theta, dtype):
        """Return ``(coefs, intercepts)`` from ``theta``, cast to ``dtype``.

        Full shapes (see Conventions); the reference column and entry are zero.
        """
        n_layers = len(self.shapes)
        coefs, intercepts = [], []
        for l, (fan_in, fan_out) in enumerate(self.shapes):
            last = l == n_layers - 1
            coef = theta[self._slices[l]].astype(dtype, copy=False)
            intercept = theta[self._slices[n_layers + l]].astype(dtype, copy=False)
            if not self.fit_intercept:
                intercept = np.zeros(fan_out, dtype=dtype)
            if last and self.reference is not None:
                full = np.zeros((fan_in, fan_out), dtype=dtype)
                full[:, self.free] = coef.reshape(fan_in, -1)
                coef = full
                if self.fit_intercept:
                    full = np.zeros(fan_out, dtype=dtype)
                    full[self.free] = intercept
                    intercept = full
            coefs.append(coef.reshape(fan_in, fan_out))
            intercepts.append(intercept)
        return coefs, intercepts

    def unpack_centred(self, theta, dtype, weights):
        """:meth:`unpack`, the symmetric output layer centred across classes.

        Without a reference class the output intercepts are shifted to sum to zero
        (and, if ``weights``, each row of the output weights): the logits change by
        the same amount in every class, so the probabilities do not.
        """
        coefs, intercepts = self.unpack(theta, dtype)
        if self.reference is None:
            intercepts[-1] = intercepts[-1] - intercepts[-1].mean()
            if weights:
                coefs[-1] = coefs[-1] - coefs[-1].mean(axis=1, keepdims=True)
        return coefs, intercepts

    def pack(self, coefs, intercepts):
        """Return the float64 ``theta`` of full-shape ``coefs`` and ``intercepts``.

        The reference column and entry are dropped; ``intercepts`` are ignored when
        ``fit_intercept=False``.
        """
        theta = np.empty(self.n_params, dtype=np.float64)
        n_layers = len(self.shapes)
        for l, (coef, intercept) in enumerate(zip(coefs, intercepts)):
            if l == n_layers - 1:
                coef, intercept = coef[:, self.free], intercept[self.free]
            theta[self._slices[l]] = coef.ravel()
            if self.fit_intercept:
                theta[self._slices[n_layers + l]] = intercept
        return theta


def forward(X, coefs, intercepts, activation, xp=None):
    """Return the activations ``[A_0 = X, A_1, ..., A_{L-1}, Z_L]`` of the network.

    ::

        Z_l = A_{l-1} @ W_l + b_l,   A_l = f(Z_l) for hidden layers

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    coefs, intercepts : lists of ndarray
        Full-shape weights, as returned by :meth:`ParamLayout.unpack`.
    activation : {"identity", "logistic", "tanh", "relu"}
    xp : array-API namespace or None, default=None
        None: numpy (or scipy.sparse) arrays, activations computed in place. Else
        ``X`` and the weights are arrays of ``xp`` on one device, of one dtype.

    Returns
    -------
    activations : list of ndarray
        The last entry is the output logits ``Z_L`` of shape (n_samples, n_classes).
    """
    if xp is not None:
        activations = [X]
        for l, (coef, intercept) in enumerate(zip(coefs, intercepts)):
            Z = xp.matmul(activations[-1], coef) + intercept
            if l < len(coefs) - 1:
                Z = XP_ACTIVATIONS[activation](Z, xp)
            activations.append(Z)
        return activations
    activations = [X]
    for l, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        Z = np.asarray(activations[-1] @ coef)
        Z += intercept
        if l < len(coefs) - 1:
            ACTIVATIONS[activation](Z)
        activations.append(Z)
    return activations



#: Activations with ``f(s z) = s f(z)`` for ``s > 0``: a network of them, with its
#: intercepts divided by ``s``, gives ``1/s`` times the logits of ``s x``.
HOMOGENEOUS = ("identity", "relu")


def forward_scaled(X, coefs, intercepts, activation):
    """The output logits of rows too large for :func:`forward`, as ``(Z, scale)`` with
    the logits ``scale[:, None] * Z`` (which may overflow; ``Z`` does not).

    Each row is divided by a power of two ``scale >= max |x|`` (exactly); identity and
    relu layers carry the factor through (intercepts divided by it), and a tanh or
    logistic layer takes it back where it saturates (``f(+-inf)`` is finite), after
    which the scale is 1. ``X`` is dense; float64 throughout.
    """
    X = np.asarray(X, dtype=np.float64)
    largest = np.max(np.abs(X), axis=1) if X.shape[1] else np.zeros(X.shape[0])
    _, exponent = np.frexp(np.maximum(largest, 1.0))
    scale = np.ldexp(1.0, np.minimum(exponent, 1023))[:, np.newaxis]  # finite
    A = X / scale
    with np.errstate(over="ignore", invalid="ignore"):
        for l, (coef, intercept) in enumerate(zip(coefs, intercepts)):
            Z = A @ np.asarray(coef, dtype=np.float64) + np.asarray(intercept) / scale
            if l == len(coefs) - 1:
                return Z, scale[:, 0]
            if activation in HOMOGENEOUS:
                A = ACTIVATIONS[activation](Z)
            else:
                A = ACTIVATIONS[activation](Z * scale)
                scale = np.ones_like(scale)


def hidden_layer_units(hidden_layer_sizes):
    """Return ``hidden_layer_sizes`` (an int or a sequence) as a tuple of ints >= 1,
    or raise ValueError."""
    sizes = hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
               for s in sizes):
        raise ValueError("hidden_layer_sizes must contain only integers >= 1, got "
                         f"{hidden_layer_sizes!r}.")
    return tuple(int(s) for s in sizes)


def glorot_uniform(layout, activation, random_state):
    """Return ``theta`` with Glorot-uniform weights and intercepts.

    Drawn in the same order and with the same bounds as MLPClassifier's
    initialisation: ``U(-b, b)`` with ``b = sqrt(factor / (fan_in + fan_out))``,
    ``factor`` 2 for the logistic activation and 6 otherwise.

    Parameters
    ----------
    layout : ParamLayout
    activation : {"identity", "logistic", "tanh", "relu"}
    random_state : RandomState instance
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in layout.shapes:
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return layout.pack(coefs, intercepts)


def logistic_regression_layout(coef, intercept):
    """Return ``(coef_, intercept_)`` in LogisticRegression's layout.

    ``coef`` of shape ``(n_features, K)`` and ``intercept`` of shape ``(K,)`` are the
    output layer of a network without hidden layers. For ``K = 2`` the result is
    ``w_1 - w_0`` of shape ``(1, n_features)`` and ``b_1 - b_0`` of shape ``(1,)``;
    otherwise ``coef.T`` and ``intercept``.
    """
    if coef.shape[1] == 2:
        return (coef[:, 1] - coef[:, 0])[np.newaxis, :], intercept[1:] - intercept[:1]
    return coef.T, intercept
