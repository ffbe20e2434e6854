"""sk_softmax: a scikit-learn softmax classifier trained by maximum likelihood."""

# SPDX-License-Identifier: BSD-3-Clause

from ._classifier import SoftmaxNNClassifier
from ._cv import SoftmaxNNClassifierCV
from ._identification import SeparationWarning
from ._inference import InferenceResult
from ._statistics import likelihood_ratio_test

__version__ = "0.1.0"
__all__ = [
    "InferenceResult",
    "SeparationWarning",
    "SoftmaxNNClassifier",
    "SoftmaxNNClassifierCV",
    "__version__",
    "likelihood_ratio_test",
]
