"""Files the loader refuses: a skops file of another estimator, and a file that is not a
model at all (for the model-files page)."""

import skops.io
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
skops.io.dump(LogisticRegression(max_iter=500).fit(X, y), "other.skops")
with open("notes.skops", "w") as f:
    f.write("not a zip archive\n")
