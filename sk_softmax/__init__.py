"""sk_softmax: a scikit-learn softmax classifier trained by maximum likelihood."""

# SPDX-License-Identifier: BSD-3-Clause

from ._classifier import SoftmaxNNClassifier

__version__ = "0.1.0"
__all__ = ["SoftmaxNNClassifier", "__version__"]
