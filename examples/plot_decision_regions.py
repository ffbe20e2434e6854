"""
Decision regions with 0, 1 and 2 hidden layers
==============================================

A 2-D three-class toy set (two moons and a blob below them), fitted by softmax
regression and by networks with one and two hidden layers of 16 tanh units. The
class probabilities are drawn as RGB colours, the decision boundaries in black.
"""

import numpy as np
from _common import output_path, pyplot
from sklearn.datasets import make_moons
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_softmax import SoftmaxNNClassifier

plt = pyplot()
rng = np.random.default_rng(0)
X_moons, y_moons = make_moons(300, noise=0.2, random_state=0)
X_blob = rng.normal([0.5, -1.2], 0.25, (150, 2))  # a third class below the moons
X = np.r_[X_moons, X_blob]
y = np.r_[y_moons, np.full(150, 2)]

grid = np.stack(np.meshgrid(np.linspace(-2, 3, 300), np.linspace(-2.2, 1.8, 300)), -1)
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
for ax, hidden in zip(axes, [(), (16,), (16, 16)]):
    model = make_pipeline(StandardScaler(), SoftmaxNNClassifier(
        hidden_layer_sizes=hidden, activation="tanh", alpha=1e-2, random_state=0))
    model.fit(X, y)
    proba = model.predict_proba(grid.reshape(-1, 2)).reshape(300, 300, 3)
    ax.imshow(proba, origin="lower", extent=(-2, 3, -2.2, 1.8), aspect="auto",
              alpha=0.55)
    ax.contour(grid[..., 0], grid[..., 1], proba.argmax(-1), levels=[0.5, 1.5],
               colors="k", linewidths=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=np.eye(3)[y], s=9, edgecolors="k", linewidths=0.3)
    layers = "no hidden layer" if not hidden else f"hidden layers {hidden}"
    ax.set_title(f"{layers}: accuracy {model.score(X, y):.3f}")
fig.suptitle("SoftmaxNNClassifier: class probabilities as RGB, decision boundaries")
fig.tight_layout()
fig.savefig(output_path("decision_regions.png"), dpi=90)
