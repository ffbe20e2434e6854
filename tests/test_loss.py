"""Softmax kernels of _loss.py against SciPy, and their numerical safety."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import log_softmax as scipy_log_softmax
from scipy.special import logsumexp

from sk_softmax._loss import log_softmax, nll_gradient_inplace, softmax


def nll_loss_gradient(raw_prediction, y, sample_weight):
    """Call the class-major kernel on (n, K) logits; return (loss, (n, K) gradient)."""
    logits_t = np.ascontiguousarray(raw_prediction.T)
    n = len(y)
    weight = sample_weight / sample_weight.sum()
    label_index = y * n + np.arange(n)
    loss = nll_gradient_inplace(logits_t, label_index, weight, weight.astype(logits_t.dtype))
    return loss, logits_t.T


@pytest.fixture
def raw_prediction():
    return np.random.default_rng(0).standard_normal((30, 4)) * 3


def test_log_softmax_matches_scipy(raw_prediction):
    """log_softmax equals scipy.special.log_softmax and does not modify its input."""
    before = raw_prediction.copy()
    assert_allclose(log_softmax(raw_prediction), scipy_log_softmax(raw_prediction, axis=1),
                    rtol=1e-13, atol=1e-14)
    assert_allclose(softmax(raw_prediction).sum(axis=1), 1, rtol=1e-14)
    assert np.array_equal(raw_prediction, before)


def test_shift_invariance(raw_prediction):
    """Adding a constant to every logit of a row changes neither P nor the loss."""
    shift = np.random.default_rng(1).standard_normal((30, 1)) * 100
    assert_allclose(softmax(raw_prediction + shift), softmax(raw_prediction), rtol=1e-12)
    y = np.arange(30) % 4
    loss = nll_loss_gradient(raw_prediction, y, np.ones(30))[0]
    assert loss == pytest.approx(nll_loss_gradient(raw_prediction + shift, y, np.ones(30))[0],
                                 rel=1e-12)


@pytest.mark.parametrize("scale", [1e4, 1e300])
def test_extreme_logits_stay_finite(scale):
    """Logits of +-1e4 and beyond give finite log P, P summing to one, finite loss."""
    raw = np.array([[scale, -scale, 0.0], [-scale, -scale, -scale], [0.0, 1.0, scale]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.all(np.isfinite(log_softmax(raw)))
        assert_allclose(softmax(raw).sum(axis=1), 1)
        loss, gradient = nll_loss_gradient(raw, np.array([1, 0, 0]), np.ones(3))
    assert np.all(np.isfinite(gradient))
    assert np.isfinite(loss)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nll_and_gradient(raw_prediction, dtype):
    """Loss is the weighted mean of logsumexp - Z[y]; the gradient s (P - Y) / S is in place."""
    raw = raw_prediction.astype(dtype)
    y = np.random.default_rng(2).integers(0, 4, 30)
    w = np.random.default_rng(3).uniform(0, 2, 30)
    nll = logsumexp(raw_prediction, axis=1) - raw_prediction[np.arange(30), y]
    expected_grad = softmax(raw_prediction)
    expected_grad[np.arange(30), y] -= 1
    expected_grad *= (w / w.sum())[:, None]
    loss, gradient = nll_loss_gradient(raw, y, w)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(np.average(nll, weights=w), rel=rtol)
    assert gradient.dtype == dtype
    assert_allclose(gradient, expected_grad, rtol=rtol, atol=rtol * 1e-2)


def test_float32_loss_sums_with_float64_weights():
    """With float32 logits the loss is summed with the float64 weights: one row with
    half the weight, then 2**20 rows of weight 2**-21 whose float32 products are
    partly lost beside it (float32 weights: 1e-5 relative error; float64: 1e-12)."""
    n = 2**20
    logits_t = np.zeros((2, n), np.float32)  # P = 1/2: NLL_i = float32(log 2)
    s = np.ones(n)
    s[0] = n
    weight = s / s.sum()
    label_index = np.arange(n, dtype=np.int32)  # every label is class 0
    loss = nll_gradient_inplace(logits_t, label_index, weight, weight.astype(np.float32))
    expected = float(np.float32(np.log(2))) * weight.sum()
    assert loss == pytest.approx(expected, rel=1e-10)
    # The gradient, in float32, is w_i (P - Y): -w_i / 2 for class 0, w_i / 2 for class 1.
    assert logits_t.dtype == np.float32
    assert_allclose(logits_t[1], weight / 2, rtol=1e-6)
    assert_allclose(logits_t[0], -weight / 2, rtol=1e-6)
