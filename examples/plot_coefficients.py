"""
Coefficients with 95% confidence intervals
==========================================

``inference`` on the wine data (five standardised features, class 0 as the reference
class, no penalty): each coefficient of classes 1 and 2 against class 0 with its 95%
Wald interval, from the exact Hessian of the objective.
"""

import numpy as np
from _common import output_path, pyplot
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sk_softmax import SoftmaxNNClassifier

plt = pyplot()
data = load_wine()
columns = [0, 1, 2, 3, 9]  # alcohol, malic acid, ash, alcalinity, colour intensity
X = StandardScaler().fit_transform(data.data[:, columns])
names = [data.feature_names[c] for c in columns]
model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, solver="trust-ncg", tol=1e-8)
model.fit(X, data.target)
result = model.inference(X, data.target)
(low, high), _ = result.conf_int(0.95)
fig, ax = plt.subplots(figsize=(8, 4.5))
positions = np.arange(len(names))
for offset, k in [(-0.12, 1), (0.12, 2)]:
    ax.errorbar(result.coef[k], positions + offset,
                xerr=[result.coef[k] - low[k], high[k] - result.coef[k]], fmt="o",
                capsize=3, label=f"class {k} vs class 0 (reference)")
ax.axvline(0, color="grey", lw=0.8)
ax.set_yticks(positions, names)
ax.invert_yaxis()
ax.set_xlabel("coefficient (log-odds per standard deviation), 95% interval")
ax.set_title(f"wine: softmax regression, llf={result.llf:.1f}, "
             f"pseudo R2={result.pseudo_r2:.2f}")
ax.legend()
fig.tight_layout()
fig.savefig(output_path("coefficients.png"), dpi=90)
