"""Softmax maths on logits: log-softmax, softmax and the weighted-mean NLL with its gradient."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


def log_softmax(raw_prediction):
    """Return ``log P`` computed stably from the logits.

    ::

        m_i        = max_j Z[i, j]
        log P[i,j] = Z[i, j] - m_i - log sum_k exp(Z[i, k] - m_i)

    Never ``log(softmax(Z))``, which underflows to ``-inf`` for large logits.

    Parameters
    ----------
    raw_prediction : ndarray of shape (n_samples, n_classes)
        Logits ``Z``; not modified.

    Returns
    -------
    log_proba : ndarray of shape (n_samples, n_classes)
        Same dtype as ``raw_prediction``.
    """
    shifted = raw_prediction - raw_prediction.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def softmax(raw_prediction):
    """Return ``P = softmax(Z)`` row by row, with the row maximum subtracted first.

    Parameters
    ----------
    raw_prediction : ndarray of shape (n_samples, n_classes)
        Logits ``Z``; not modified.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Rows sum to one; same dtype as ``raw_prediction``.
    """
    proba = raw_prediction - raw_prediction.max(axis=1, keepdims=True)
    np.exp(proba, out=proba)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba


def nll_gradient_inplace(raw_prediction, y_true, sample_weight):
    """Weighted-mean NLL of the softmax; overwrite the logits with its gradient.

    With ``s = sample_weight`` and ``S = sum(s)``::

        NLL_i  = logsumexp(Z[i, :]) - Z[i, y_i]
        loss   = (1/S) * sum_i s_i * NLL_i
        dloss/dZ[i, k] = s_i * (P[i, k] - Y[i, k]) / S

    The one-hot ``Y`` is never built: ``1`` is subtracted at the label positions.

    Parameters
    ----------
    raw_prediction : C-contiguous ndarray of shape (n_samples, n_classes)
        Logits ``Z``. On return it holds the gradient above (the output-layer
        ``Delta_L`` of MATH.md), in the same dtype.
    y_true : ndarray of int of shape (n_samples,)
        Class codes in ``0 .. n_classes - 1``.
    sample_weight : ndarray of float64 of shape (n_samples,)
        Non-negative weights ``s`` with a positive sum.

    Returns
    -------
    loss : float
        The weighted mean NLL, accumulated in float64.
    """
    n_samples = raw_prediction.shape[0]
    rows = np.arange(n_samples)
    raw_prediction -= raw_prediction.max(axis=1, keepdims=True)
    label_logit = raw_prediction[rows, y_true]  # Z[i, y_i] - m_i <= 0
    np.exp(raw_prediction, out=raw_prediction)
    sum_exp = raw_prediction.sum(axis=1)  # in [1, n_classes]
    nll = np.log(sum_exp) - label_logit
    weight = sample_weight / sample_weight.sum()
    loss = float(np.dot(weight, nll.astype(np.float64, copy=False)))
    weight = weight.astype(raw_prediction.dtype, copy=False)
    raw_prediction *= (weight / sum_exp)[:, np.newaxis]
    raw_prediction[rows, y_true] -= weight
    return loss
