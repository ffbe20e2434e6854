"""Model files: skops, never pickle, and nothing built that was not checked first.

A skops file is a zip archive: ``schema.json`` (a tree of nodes, each naming a type
``__module__.__class__`` and the skops ``__loader__`` that builds it), one ``.npy``
member per numeric array, and here also ``sk_softmax.json`` (metadata, which skops
ignores). skops builds what each node's *loader* says, whatever type the node
declares, so :func:`load_model` checks three things, in this order:

1. the archive, before decompressing anything: member names, duplicates,
   encryption, compression methods (stored and deflated only), declared sizes
   against caps (:data:`MAX_SCHEMA_BYTES`, :data:`MAX_ARRAY_BYTES`,
   :data:`MAX_METADATA_BYTES`); every ``.npy`` header (dtype and shape) is parsed
   and the member's declared size must be exactly what that shape needs. Members
   are then read in bounded chunks, never inflating past their declared size
   (:mod:`._archive`);
2. the schema, walked in the order skops builds it: every node's ``(type,
   loader)`` pair must be in :data:`ALLOWED_NODES` (no reduce, constructor,
   function, method, partial, bytes, set or object nodes except the trusted
   estimators), arrays numeric or unicode, object arrays only as lists of plain
   strings, ints and missing values (encoder categories, a one-hot encoder's
   ``drop_idx_``; each attribute's check narrows that), a repeated ``__id__``
   resolved as skops resolves it (the first node with it; a cycle is refused).
   skops then builds the model from a clean in-memory copy of exactly the checked
   members, trusting exactly the types found (:mod:`._schema`);
3. the model (:mod:`._model_checks`, :mod:`._estimator_checks`): every fitted
   attribute's type, dtype, shape and finiteness against the model's own layout
   (the classifier's ``_layout_params`` against its weights before anything is
   allocated from it; each step's input width against what the step before
   outputs; a OneHotEncoder's indices, which scikit-learn turns into an unchecked
   sparse matrix; a RandomState's position), the hyper-parameters through each
   estimator's ``_validate_params``, and a one-row probe through ``predict_proba``.

Any failure is a ``ValueError`` that names the file and the problem, on one line.
The schema cap is 16 MiB rather than less because skops writes every string of an
object array (feature names, one-hot categories) into ``schema.json``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import io
import json
import warnings
import zipfile

import numpy as np

from ._archive import (
    METADATA_MEMBER,
    SCHEMA_MEMBER,
    _npy_header,
    _open_archive,
    _read_whole,
)
from ._estimator_checks import ACTIVATIONS
from ._files import atomic_path, regular_file_size
from ._model_checks import _check_model, _check_text_columns
from ._refusal import MAX_DEPTH, _Refused
from ._schema import ALLOWED_NODES, TRUSTED_TYPES, _check_schema

__all__ = [
    "ACTIVATIONS", "ALLOWED_NODES", "MAX_ARRAY_BYTES", "MAX_DEPTH", "MAX_MEMBERS",
    "MAX_METADATA_BYTES", "MAX_SCHEMA_BYTES", "METADATA_MEMBER", "SCHEMA_MEMBER",
    "TRUSTED_TYPES", "load_metadata", "load_model", "require_skops", "save_model",
]

# The caps are read from this module each time a file is opened (monkeypatching
# them here takes effect); MAX_DEPTH is defined in ._refusal and read from there
# by the schema and attribute checks.

#: Largest ``schema.json`` accepted (uncompressed bytes).
MAX_SCHEMA_BYTES = 16 * 2**20
#: Largest ``sk_softmax.json`` metadata member accepted (uncompressed bytes).
MAX_METADATA_BYTES = 2**20
#: Largest total size of the ``.npy`` members (uncompressed bytes, headers included),
#: and of the arrays the schema's nodes read (each reference counted). Loading holds
#: up to three copies of them (the member, the checked copy, the built array): 256 MiB
#: keeps a load under 1 GiB (a model of 20k features x 1k units takes 160 MiB).
MAX_ARRAY_BYTES = 2**28
#: Most members an archive may have.
MAX_MEMBERS = 10_000


def require_skops():
    """Import skops.io, or explain how to install it."""
    try:
        import skops.io
    except ImportError:
        raise ImportError(
            "model files are written with skops: from the source checkout, "
            "python -m pip install -e '.[cli]'"
        ) from None
    return skops.io


# --------------------------------------------------------------------- saving


def _json_default(value):
    """numpy scalars and arrays in metadata: their Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metadata: {type(value).__name__} is not JSON serialisable")


def save_model(model, path, *, metadata=None):
    """Write ``model`` to ``path`` with skops, atomically.

    ``metadata`` (a JSON-serialisable dict: package version, feature names,
    classes, command line, scores...) is stored as the extra member
    ``sk_softmax.json``; read it back with :func:`load_metadata`. The file is
    written to a temporary file in the same directory, checked with the same
    checks as :func:`load_model` (a model that could not be loaded is refused
    here, with a ``ValueError``), then renamed over ``path``: an interrupted save
    leaves no partial file, and a symbolic link at ``path`` is replaced, not
    written through.
    """
    sio = require_skops()
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
        meta_bytes = json.dumps(metadata, default=_json_default).encode()
        if len(meta_bytes) > MAX_METADATA_BYTES:
            raise ValueError(f"{path}: metadata of {len(meta_bytes)} bytes is larger "
                             f"than the limit of {MAX_METADATA_BYTES}")
        _parse_metadata(meta_bytes)  # depth and type, as load_metadata will check
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as out:
            sio.dump(model, out)
        if metadata is not None:
            with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(METADATA_MEMBER, meta_bytes)
        try:
            _load(tmp)
        except _Refused as exc:
            raise ValueError(f"{path}: not saved, the model would not load: "
                             f"{_one_line(exc)}") from None


# ---------------------------------------------------------------------- loading


def _open(path):
    """:func:`._archive._open_archive` under this module's caps, read now; a FIFO or a
    device is refused before it is opened (reading it would block or never end)."""
    regular_file_size(path, "model file")
    return _open_archive(path, max_members=MAX_MEMBERS, max_schema=MAX_SCHEMA_BYTES,
                         max_metadata=MAX_METADATA_BYTES, max_arrays=MAX_ARRAY_BYTES)


def _checked_copy(path):
    """The archive's checked members copied into a clean in-memory zip (read in
    bounded chunks: skops never sees the original, its reads are not bounded), and
    the types its schema names."""
    archive, members = _open(path)
    with archive:
        raw = _read_whole(archive, members[SCHEMA_MEMBER])
        check = _check_schema(raw, members)
        # Members no built node refers to (skops writes one for each dtype, and
        # builds only the first node of an __id__) are neither read nor copied.
        used = {file for file, _, _ in check.npy_nodes}
        # skops reads a member once for every node that names it: the budget counts
        # every reference (16 nodes naming one 128 MiB member are 2 GiB to build).
        referenced = sum(members[file].file_size for file, _, _ in check.npy_nodes)
        if referenced > MAX_ARRAY_BYTES:
            raise _Refused(f"the schema's {len(check.npy_nodes)} array references "
                           f"total {referenced} bytes (limit {MAX_ARRAY_BYTES})")
        for file in sorted(used):
            check.headers[file] = _npy_header(archive, members[file])
        check.check_arrays()
        clean = io.BytesIO()
        with zipfile.ZipFile(clean, "w", zipfile.ZIP_STORED) as copy:
            copy.writestr(SCHEMA_MEMBER, raw)
            for file in sorted(used):
                copy.writestr(file, _read_whole(archive, members[file]))
    clean.seek(0)
    return clean, sorted(check.types)


def _load(path):
    """Check and load a model file; problems raise _Refused (OSError: no file)."""
    clean, types = _checked_copy(path)
    sio = require_skops()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sio.load(clean, trusted=types)
    except (RecursionError, MemoryError):
        raise _Refused("skops could not build the model") from None
    except Exception as exc:
        raise _Refused(f"skops could not build the model ({type(exc).__name__}: "
                       f"{exc})") from None
    try:
        _check_model(model)
    except _Refused:
        raise
    except Exception as exc:  # a check tripped on a value of an unexpected form
        raise _Refused(f"invalid model ({type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:200]})") from None
    return model


def load_model(path):
    """Load a model file written by :func:`save_model`, fully checked.

    Returns the fitted Pipeline (or SoftmaxNNClassifier). A file that is not such
    a model, damaged or tampered with, raises ``ValueError("<path>: <problem>")``
    before anything it names is built or any of its arrays is used; a missing
    file raises ``OSError``. See the module docstring for the checks.
    """
    require_skops()
    try:
        model = _load(path)
        text = load_metadata(path).get("categorical")
        if isinstance(text, list):  # the command line's metadata: its text columns
            _check_text_columns(model, [t for t in text if isinstance(t, str)])
        return model
    except _Refused as exc:
        raise ValueError(f"{path}: {_one_line(exc)}") from None


def _one_line(exc):
    return " ".join(str(exc).split())


def _parse_metadata(raw):
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _Refused("metadata nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused(f"metadata is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _Refused("metadata is not a JSON object")
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _Refused(f"metadata nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return value


#: The metadata fields :func:`save_model`'s callers write, and the JSON types each may
#: hold (others are kept but never read by the package).
_TEXT, _NUMBER = (str, type(None)), (int, float, type(None))
METADATA_FIELDS = {
    "sk_softmax_version": _TEXT, "sklearn_version": _TEXT, "saved_utc": _TEXT,
    "command_line": _TEXT, "target": _TEXT, "id_column": _TEXT, "impute": _TEXT,
    "classes": list, "feature_names": list, "numeric": list, "categorical": list,
    "dropped": list, "na_values": list, "n_rows": _NUMBER, "cv_folds": _NUMBER,
    "cv_scores": (dict,),
}
#: The fields of each model's entry in ``cv_scores``.
CV_SCORE_FIELDS = ("accuracy", "log_loss", "fit_time_s")


def command_line_metadata(path):
    """:func:`load_metadata`, with the fields the command line writes (and ``info`` and
    ``predict`` read) of the types it writes: a list of strings where a list is, numbers
    in each ``cv_scores`` entry. Problems raise ``ValueError("<path>: ...")``."""
    meta = load_metadata(path)
    try:
        _check_metadata_fields(meta)
    except _Refused as exc:
        raise ValueError(f"{path}: {_one_line(exc)}") from None
    return meta


def _check_metadata_fields(value):
    """Refuse metadata whose command-line fields are not of the types it writes."""
    for name, kinds in METADATA_FIELDS.items():
        if name not in value:
            continue
        field = value[name]
        if isinstance(field, bool) or not isinstance(field, kinds):
            raise _Refused(f"metadata field {name!r} is a {type(field).__name__}")
        if isinstance(field, list) and not all(isinstance(v, str) for v in field):
            raise _Refused(f"metadata field {name!r} holds something other than text")
    for model, scores in (value.get("cv_scores") or {}).items():
        if not isinstance(scores, dict) or not all(
                isinstance(scores.get(k), (int, float)) and not isinstance(scores.get(k), bool)
                for k in CV_SCORE_FIELDS):
            raise _Refused(f"metadata field 'cv_scores' entry {model[:60]!r} lacks the "
                           f"numbers {', '.join(CV_SCORE_FIELDS)}")


def load_metadata(path):
    """The metadata dict :func:`save_model` stored in a model file (``{}`` if none).

    Only the metadata member is read (size-capped, a JSON object); the model is
    not loaded. Problems raise ``ValueError("<path>: ...")``.
    """
    try:
        archive, members = _open(path)
        with archive:
            if METADATA_MEMBER not in members:
                return {}
            return _parse_metadata(_read_whole(archive, members[METADATA_MEMBER]))
    except _Refused as exc:
        raise ValueError(f"{path}: {_one_line(exc)}") from None
