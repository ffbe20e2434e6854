"""Softmax maths on logits: log-softmax, softmax and the weighted-mean NLL with its gradient."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


def log_softmax(raw_prediction, xp=None):
    """Return ``log P`` computed stably from the logits.

    ::

        m_i        = max_j Z[i, j]
        log P[i,j] = Z[i, j] - m_i - log sum_k exp(Z[i, k] - m_i)

    Never ``log(softmax(Z))``, which underflows to ``-inf`` for large logits.

    Parameters
    ----------
    raw_prediction : ndarray of shape (n_samples, n_classes)
        Logits ``Z``; not modified.
    xp : array-API namespace or None, default=None
        The namespace of ``raw_prediction`` if it is not a numpy array.

    Returns
    -------
    log_proba : ndarray of shape (n_samples, n_classes)
        Same dtype as ``raw_prediction``.
    """
    if xp is not None:
        shifted = raw_prediction - xp.max(raw_prediction, axis=1, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    shifted = raw_prediction - raw_prediction.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def softmax(raw_prediction, xp=None):
    """Return ``P = softmax(Z)`` row by row, with the row maximum subtracted first.

    Parameters
    ----------
    raw_prediction : ndarray of shape (n_samples, n_classes)
        Logits ``Z``; not modified.
    xp : array-API namespace or None, default=None
        The namespace of ``raw_prediction`` if it is not a numpy array.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Rows sum to one; same dtype as ``raw_prediction``.
    """
    if xp is not None:
        proba = xp.exp(raw_prediction - xp.max(raw_prediction, axis=1, keepdims=True))
        return proba / xp.sum(proba, axis=1, keepdims=True)
    proba = raw_prediction - raw_prediction.max(axis=1, keepdims=True)
    np.exp(proba, out=proba)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba


def nll_gradient_inplace(logits_t, label_index, weight, weight_x):
    """Weighted NLL sum of the softmax; overwrite the logits with its gradient.

    The logits are stored *class-major* (one row per class, one column per sample),
    so that every reduction over classes runs along the long, contiguous axis. With
    normalised weights ``w_i = s_i / S``::

        NLL_i = logsumexp(Z[i, :]) - Z[i, y_i]
        loss  = sum_i w_i * NLL_i
        dloss/dZ[i, k] = w_i * (P[i, k] - Y[i, k])

    The one-hot ``Y`` is never built: ``w_i`` is subtracted at the label positions.

    Parameters
    ----------
    logits_t : C-contiguous ndarray of shape (n_classes, n_samples)
        ``Z.T``. On return it holds the gradient above, transposed (``Delta_L.T``
        of docs/math.md), in the same dtype.
    label_index : ndarray of int of shape (n_samples,)
        Flat positions ``y_i * n_samples + i`` of the labels in ``logits_t``.
    weight : ndarray of float64 of shape (n_samples,)
        Normalised weights ``w_i`` (for the loss, accumulated in float64).
    weight_x : ndarray of shape (n_samples,)
        The same weights in ``logits_t.dtype`` (for the gradient).

    Returns
    -------
    loss : float
        ``sum_i w_i * NLL_i``.
    """
    logits_t -= logits_t.max(axis=0)
    flat = logits_t.reshape(-1)
    label_logit = flat.take(label_index)  # Z[i, y_i] - max_j Z[i, j] <= 0
    np.exp(logits_t, out=logits_t)
    sum_exp = logits_t.sum(axis=0)  # in [1, n_classes]
    nll = np.log(sum_exp)
    nll -= label_logit
    loss = float(weight @ nll)
    sum_exp = np.divide(weight_x, sum_exp, out=sum_exp)
    logits_t *= sum_exp
    label_value = flat.take(label_index)
    flat.put(label_index, np.subtract(label_value, weight_x, out=label_value))
    return loss
