"""
Loss curves for several alphas
==============================

The objective ``J`` (the penalised mean negative log-likelihood, ``loss_curve_``)
against L-BFGS iterations on the standardised digits data, for softmax regression and
for one hidden layer of 32 units, at four L2 strengths.
"""

from _common import output_path, pyplot
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sk_softmax import SoftmaxNNClassifier

plt = pyplot()
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, hidden in zip(axes, [(), (32,)]):
    for alpha in [1e-3, 1e-1, 1.0, 10.0]:
        model = SoftmaxNNClassifier(hidden_layer_sizes=hidden, alpha=alpha, tol=1e-6,
                                    max_iter=300, random_state=0).fit(X, y)
        ax.semilogy(range(1, model.n_iter_ + 1), model.loss_curve_,
                    label=f"alpha={alpha:g} ({model.n_iter_} it.)")
    ax.set_xlabel("L-BFGS iteration")
    ax.set_ylabel("J (penalised mean NLL)")
    ax.set_title("digits, " + ("softmax regression" if not hidden else f"hidden {hidden}"))
    ax.legend()
fig.tight_layout()
fig.savefig(output_path("loss_curves.png"), dpi=90)
