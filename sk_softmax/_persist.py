"""Model files: skops, never pickle, trusting only the types of a fitted model."""

# SPDX-License-Identifier: BSD-3-Clause

import json
import zipfile

#: The estimators a model file may hold: a Pipeline of StandardScaler and
#: SoftmaxNNClassifier.
TRUSTED_TYPES = [
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sk_softmax._classifier.SoftmaxNNClassifier",
]

#: The plain data inside them (fitted arrays, parameters).
DATA_TYPES = [f"builtins.{name}" for name in (
    "dict", "list", "str", "tuple", "int", "float", "bool", "NoneType")] + [
    f"numpy.{name}" for name in (
        "ndarray", "float64", "float32", "int64", "int32", "bool_", "str_", "dtype",
        "random.mtrand.RandomState")]


def require_skops():
    """Import skops.io, or explain how to install it."""
    try:
        import skops.io
    except ImportError:
        raise ImportError(
            "model files are written with skops: pip install 'sk_softmax[cli]'"
        ) from None
    return skops.io


def save_model(model, path):
    """Write ``model`` to ``path`` with skops."""
    require_skops().dump(model, path)


def _types_in(path):
    """Every ``module.class`` named in a skops file's schema (nothing is loaded)."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except FileNotFoundError:
        raise OSError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not a skops model file ({exc})") from None
    types, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                types.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return types


def load_model(path):
    """Load a model file, refusing any type outside a fitted SoftmaxNNClassifier
    pipeline (:data:`TRUSTED_TYPES` and :data:`DATA_TYPES`).

    The file's schema is read first, without building anything; skops then rebuilds
    only the types it is told to trust and never runs code from the file.
    """
    sio = require_skops()
    types = _types_in(path)
    refused = sorted(types - set(TRUSTED_TYPES) - set(DATA_TYPES))
    if refused:
        raise ValueError(
            f"{path}: refused to load untrusted type(s) {', '.join(refused)}; a model "
            f"file of sk-softmax holds only {', '.join(TRUSTED_TYPES)} and numpy data"
        )
    try:
        return sio.load(path, trusted=sorted(types))
    except Exception as exc:  # a damaged file that passed the type check
        raise ValueError(f"{path}: not a loadable skops model file ({exc})") from None
