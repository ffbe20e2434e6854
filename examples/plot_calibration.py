"""
Reliability diagram
===================

SoftmaxNNClassifier against LogisticRegression and MLPClassifier: three classes of
``make_classification`` data, half for training and half held out, one-vs-rest
reliability of all the predicted probabilities together. The same penalty
(``alpha = 1 = 1/C``) on every model; the networks have one hidden layer of 32 units.
"""

import numpy as np
from _common import output_path, pyplot
from sklearn.calibration import calibration_curve
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_softmax import SoftmaxNNClassifier

plt = pyplot()
X, y = make_classification(6000, 20, n_informative=8, n_classes=3, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
alpha = 1.0
models = {
    "SoftmaxNNClassifier()": SoftmaxNNClassifier(alpha=alpha),
    "SoftmaxNNClassifier(32,)": SoftmaxNNClassifier(hidden_layer_sizes=(32,), alpha=alpha,
                                                    random_state=0),
    "LogisticRegression": LogisticRegression(C=1 / alpha),
    "MLPClassifier(32,)": MLPClassifier(hidden_layer_sizes=(32,), solver="lbfgs",
                                        alpha=alpha, max_iter=1000, random_state=0),
}
fig, ax = plt.subplots(figsize=(6, 5.5))
ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
for name, model in models.items():
    proba = make_pipeline(StandardScaler(), model).fit(X_train, y_train).predict_proba(X_test)
    # One-vs-rest reliability over all classes together.
    hit = (y_test[:, None] == np.arange(3)).ravel()
    frac, mean = calibration_curve(hit, proba.ravel(), n_bins=10, strategy="quantile")
    ax.plot(mean, frac, "o-", ms=3, label=name)
ax.set_xlabel("predicted probability")
ax.set_ylabel("observed frequency")
ax.set_title("reliability on held-out data (3 classes, one-vs-rest)")
ax.legend()
fig.tight_layout()
fig.savefig(output_path("calibration.png"), dpi=90)
