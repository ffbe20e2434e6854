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
   are then read in bounded chunks, never inflating past their declared size;
2. the schema, walked in the order skops builds it: every node's ``(type,
   loader)`` pair must be in :data:`ALLOWED_NODES` (no reduce, constructor,
   function, method, partial, bytes, set or object nodes except the trusted
   estimators), arrays numeric or unicode, object arrays only as lists of plain
   strings (missing values allowed: encoder categories), a repeated ``__id__``
   resolved as skops resolves it (the first node with it; a cycle is refused).
   skops then builds the model from a clean in-memory copy of exactly the checked
   members, trusting exactly the types found;
3. the model (:func:`_check_model`): every fitted attribute's type, dtype, shape
   and finiteness against the model's own layout (the classifier's
   ``_layout_params`` against its weights before anything is allocated from it;
   each step's input width against what the step before outputs; a
   OneHotEncoder's indices, which scikit-learn turns into an unchecked sparse
   matrix; a RandomState's position), the hyper-parameters through each
   estimator's ``_validate_params``, and a one-row probe through ``predict_proba``.

Any failure is a ``ValueError`` that names the file and the problem, on one line.
The schema cap is 16 MiB rather than less because skops writes every string of an
object array (feature names, one-hot categories) into ``schema.json``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import io
import json
import math
import os
import re
import secrets
import warnings
import zipfile
import zlib
from numbers import Integral, Real

import numpy as np

#: Largest ``schema.json`` accepted (uncompressed bytes).
MAX_SCHEMA_BYTES = 16 * 2**20
#: Largest ``sk_softmax.json`` metadata member accepted (uncompressed bytes).
MAX_METADATA_BYTES = 2**20
#: Largest total size of the ``.npy`` members (uncompressed bytes, headers included).
MAX_ARRAY_BYTES = 2**30
#: Most members an archive may have.
MAX_MEMBERS = 10_000
#: Deepest nesting of schema nodes (and of metadata JSON).
MAX_DEPTH = 64
#: The zip member holding the metadata of :func:`save_model`.
METADATA_MEMBER = "sk_softmax.json"
SCHEMA_MEMBER = "schema.json"

#: The estimators a model file may hold: a Pipeline ending in SoftmaxNNClassifier,
#: its preprocessing (scaling, imputation, one-hot encoding, column selection;
#: ColumnTransformer turns "passthrough" into a FunctionTransformer without
#: functions).
TRUSTED_TYPES = [
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sk_softmax._classifier.SoftmaxNNClassifier",
]

_NUMPY_SCALARS = [f"numpy.{name}" for name in (
    "float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64",
    "uint32", "uint16", "uint8", "bool", "bool_", "str_")]
#: Types a TypeNode may name (dict key types, OneHotEncoder's ``dtype``).
_TYPE_NODE_TYPES = ["builtins.str", "builtins.int", "builtins.float",
                    "builtins.bool"] + _NUMPY_SCALARS
_DICT_KEY_TYPES = {"builtins.str", "builtins.int", "builtins.float", "numpy.int64",
                   "numpy.int32", "numpy.float64", "numpy.str_"}

#: The ``(type, loader)`` pairs a schema node may have: what skops writes for the
#: trusted estimators and their plain data, nothing that calls a constructor,
#: function or method named by the file.
ALLOWED_NODES = frozenset(
    [("builtins.dict", "DictNode"), ("builtins.list", "ListNode"),
     ("builtins.tuple", "TupleNode"), ("builtins.str", "JsonNode"),
     ("builtins.slice", "SliceNode"), ("numpy.dtype", "DTypeNode"),
     ("numpy.ndarray", "NdArrayNode"),
     ("numpy.random.mtrand.RandomState", "RandomStateNode")]
    + [(name, "NdArrayNode") for name in _NUMPY_SCALARS]
    + [(name, "TypeNode") for name in _TYPE_NODE_TYPES]
    + [(name, "ObjectNode") for name in TRUSTED_TYPES]
)

_COMMON_KEYS = {"__class__", "__module__", "__loader__", "__id__"}
_LOADER_KEYS = {
    "DictNode": {"content", "key_types"}, "ListNode": {"content"},
    "TupleNode": {"content"}, "JsonNode": {"content", "is_json"}, "TypeNode": set(),
    "SliceNode": {"content"}, "DTypeNode": {"content"},
    "NdArrayNode": {"type", "file", "content", "shape"}, "ObjectNode": {"content"},
    "RandomStateNode": {"content"},
}
_NPY_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}\.npy\Z")
_CHUNK = 2**20
ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


class _Refused(Exception):
    """A problem with the file; load_model adds the file name (ValueError)."""


def require_skops():
    """Import skops.io, or explain how to install it."""
    try:
        import skops.io
    except ImportError:
        raise ImportError(
            "model files are written with skops: pip install 'sk_softmax[cli]'"
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
    path = os.fspath(path)
    directory, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            sio.dump(model, out)
        if metadata is not None:
            with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(METADATA_MEMBER, meta_bytes)
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        try:
            _load(tmp)
        except _Refused as exc:
            raise ValueError(f"{path}: not saved, the model would not load: "
                             f"{_one_line(exc)}") from None
        os.replace(tmp, path)
        try:  # make the rename itself durable
            dir_fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# -------------------------------------------------------------------- archive


def _read_member(archive, info, size):
    """The first ``size`` bytes of a member, decompressed in bounded chunks (never
    more than ``size`` bytes inflated, whatever the member really holds)."""
    chunks, got = [], 0
    try:
        with archive.open(info) as member:
            while got < size:
                chunk = member.read(min(_CHUNK, size - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError,
            NotImplementedError, ValueError) as exc:
        raise _Refused(f"damaged member {info.filename!r} ({exc})") from None
    return b"".join(chunks)


def _read_whole(archive, info):
    data = _read_member(archive, info, info.file_size)
    if len(data) != info.file_size:
        raise _Refused(f"member {info.filename!r} holds {len(data)} bytes, not the "
                       f"{info.file_size} it declares")
    return data


def _open_archive(path):
    """The open ZipFile and its members by name, after the checks that need no
    decompression."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise OSError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise _Refused(f"not a skops model file (not a zip archive: {exc})") from None
    try:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _Refused(f"{len(infos)} archive members (at most {MAX_MEMBERS})")
        members = {}
        for info in infos:
            name = info.filename
            if name in members:
                raise _Refused(f"duplicate archive member {name!r}")
            if name not in (SCHEMA_MEMBER, METADATA_MEMBER) and not _NPY_NAME.match(name):
                raise _Refused(f"unexpected archive member name {name!r} (a skops "
                               "model holds schema.json and .npy arrays only)")
            if info.flag_bits & 0x41:
                raise _Refused(f"archive member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _Refused(f"archive member {name!r} uses compression method "
                               f"{info.compress_type} (only stored and deflated)")
            members[name] = info
        if SCHEMA_MEMBER not in members:
            raise _Refused("not a skops model file (no schema.json)")
        limits = {SCHEMA_MEMBER: MAX_SCHEMA_BYTES, METADATA_MEMBER: MAX_METADATA_BYTES}
        for name, limit in limits.items():
            if name in members and members[name].file_size > limit:
                raise _Refused(f"{name} declares {members[name].file_size} bytes "
                               f"(limit {limit})")
        declared = sum(i.file_size for n, i in members.items() if n.endswith(".npy"))
        if declared > MAX_ARRAY_BYTES:
            raise _Refused(f"the arrays declare {declared} bytes in all "
                           f"(limit {MAX_ARRAY_BYTES})")
    except BaseException:
        archive.close()
        raise
    return archive, members


def _npy_header(archive, info):
    """``(dtype, shape)`` from a .npy member's header, read without the data; its
    declared size must be exactly the header plus ``prod(shape) * itemsize``."""
    fmt = np.lib.format
    head = _read_member(archive, info, min(info.file_size, 65536))
    buffer = io.BytesIO(head)
    try:
        version = fmt.read_magic(buffer)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(buffer)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(buffer)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        raise _Refused(f"array member {info.filename!r}: bad .npy header ({exc})") \
            from None
    if not _plain_dtype(dtype):
        raise _Refused(f"array member {info.filename!r} has dtype {dtype} (numeric or "
                       "unicode arrays only)")
    if not all(type(d) is int and d >= 0 for d in shape):
        raise _Refused(f"array member {info.filename!r} has shape {shape}")
    expected = buffer.tell() + math.prod(shape) * dtype.itemsize
    if info.file_size != expected:
        raise _Refused(f"array member {info.filename!r} declares {info.file_size} "
                       f"bytes, but its header ({dtype}, shape {shape}) needs {expected}")
    return dtype, shape


def _plain_dtype(dtype):
    return (isinstance(dtype, np.dtype) and dtype.kind in "biufU" and dtype.fields is None
            and dtype.subdtype is None and not dtype.hasobject and dtype.itemsize > 0)


# --------------------------------------------------------------------- schema


class _SchemaCheck:
    """Walk ``schema.json`` in the order skops builds it: every node's (type,
    loader) allowed and its content of the form that loader reads; collect the
    arrays each node needs and the types to trust.

    skops builds a node whose ``__id__`` it has seen before as that first node,
    whatever the later node says, so every structural check here looks at the
    node skops will actually build (:meth:`visit` returns it).
    """

    def __init__(self, members):
        self.members = members
        self.headers = {}  # .npy member -> (dtype, shape); filled by the caller
        self.npy_nodes = []  # (member name, role, where)
        self.ids = {}  # __id__ -> the first node with it
        self.open = set()  # ids of the nodes being walked (a reference: a cycle)
        self.types = set()
        # Nodes skops walks when it audits the tree: a reference counts the whole
        # subtree it stands for (skops does not memoize its audit, so a chain of
        # references doubling at each level would take forever).
        self.expanded = 0
        self.sizes = {}  # __id__ -> expanded size of its first node

    def run(self, schema):
        if not isinstance(schema, dict):
            raise _Refused("schema.json is not a JSON object")
        protocol = schema.get("protocol")
        from skops.io._protocol import PROTOCOL

        if type(protocol) is not int or protocol != PROTOCOL:
            raise _Refused(f"skops protocol {protocol!r}; this version of skops writes "
                           f"and reads protocol {PROTOCOL}")
        if not isinstance(schema.get("_skops_version", ""), str):
            raise _Refused("schema.json: _skops_version is not a string")
        root = self.visit(schema, 0, "the model", extra={"protocol", "_skops_version"})
        if root.get("__loader__") != "ObjectNode":
            raise _Refused("the file does not hold an estimator")

    def visit(self, node, depth, where, extra=frozenset()):
        """Check ``node`` (and, the first time, its content); return the node skops
        builds in its place."""
        if depth > MAX_DEPTH:
            raise _Refused(f"schema nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, dict):
            raise _Refused(f"{where}: schema node is not a JSON object")
        module, cls, loader = (node.get(k) for k in ("__module__", "__class__",
                                                     "__loader__"))
        if not all(isinstance(v, str) for v in (module, cls, loader)):
            raise _Refused(f"{where}: schema node without __module__, __class__ and "
                           "__loader__ strings")
        name = f"{module}.{cls}"
        if (name, loader) not in ALLOWED_NODES:
            raise _Refused(f"{where}: refused to build {name} with the skops loader "
                           f"{loader} (a model file holds only the trusted estimators "
                           "and plain data)")
        unknown = set(node) - _COMMON_KEYS - _LOADER_KEYS[loader] - set(extra)
        if unknown:
            raise _Refused(f"{where}: unexpected key(s) {sorted(unknown)} in a "
                           f"{loader} node")
        node_id = node.get("__id__")
        if node_id is not None and type(node_id) is not int:
            raise _Refused(f"{where}: __id__ is not an integer")
        if node_id in self.ids:
            if node_id in self.open:
                raise _Refused(f"{where}: __id__ {node_id} refers to a node that "
                               "contains it (a cycle)")
            self.expanded += self.sizes[node_id]
            return self.ids[node_id]
        start = self.expanded
        self.expanded += 1
        if node_id:  # skops memoizes non-zero ids only
            self.ids[node_id] = node
            self.open.add(node_id)
        self.types.add(name)
        getattr(self, loader)(node, depth + 1, where, name)
        if node_id:
            self.open.discard(node_id)
            self.sizes[node_id] = self.expanded - start
        return node

    # One method per loader: the content that loader reads, in the order it reads.

    def DictNode(self, node, depth, where, name):
        content = node.get("content")
        if not isinstance(content, dict):
            raise _Refused(f"{where}: dict without content")
        key_types = self.visit(node.get("key_types"), depth, f"{where} (key types)")
        items = key_types.get("content")
        if key_types.get("__loader__") != "ListNode" or len(items) != len(content):
            raise _Refused(f"{where}: dict key types are not a list of one type a key")
        for item in items:
            item = self.ids.get(item.get("__id__"), item)
            if item.get("__loader__") != "TypeNode" or (
                    f"{item.get('__module__')}.{item.get('__class__')}"
                    not in _DICT_KEY_TYPES):
                raise _Refused(f"{where}: dict keys must be str or int")
        for key, value in content.items():
            self.visit(value, depth, f"{where}[{key!r}]")

    def ListNode(self, node, depth, where, name):
        content = node.get("content")
        if not isinstance(content, list):
            raise _Refused(f"{where}: {name} without content")
        for k, value in enumerate(content):
            self.visit(value, depth, f"{where}[{k}]")

    TupleNode = ListNode

    def JsonNode(self, node, depth, where, name):
        content = node.get("content")
        if not isinstance(content, str) or node.get("is_json") is not True:
            raise _Refused(f"{where}: JSON value without content")
        try:
            value = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise _Refused(f"{where}: bad JSON value ({exc})") from None
        if isinstance(value, (dict, list)):
            raise _Refused(f"{where}: nested JSON in a plain value")

    def TypeNode(self, node, depth, where, name):
        pass

    def SliceNode(self, node, depth, where, name):
        content = node.get("content")
        if (not isinstance(content, dict) or set(content) != {"start", "stop", "step"}
                or not all(v is None or type(v) in (int, str) for v in content.values())
                or type(content["step"]) is str):
            raise _Refused(f"{where}: a slice must have int or str bounds")

    def DTypeNode(self, node, depth, where, name):
        content = self.visit(node.get("content"), depth, f"{where} (dtype)")
        if content.get("__loader__") != "NdArrayNode" \
                or content.get("__class__") != "ndarray":
            raise _Refused(f"{where}: dtype without its empty array")
        if content.get("type") == "json" and content.get("content") != []:
            raise _Refused(f"{where}: a dtype's array must be empty")
        if content.get("type") == "numpy":
            self.npy_nodes.append((content.get("file"), "dtype", where))

    def NdArrayNode(self, node, depth, where, name):
        kind = node.get("type")
        if kind == "numpy":
            file = node.get("file")
            if not isinstance(file, str) or not _NPY_NAME.match(file):
                raise _Refused(f"{where}: array without a .npy member")
            if file not in self.members:
                raise _Refused(f"{where}: missing archive member {file!r}")
            self.npy_nodes.append((file, "array" if name == "numpy.ndarray" else "scalar",
                                   where))
        elif kind == "json" and name == "numpy.ndarray":
            items = node.get("content")
            if not isinstance(items, list):
                raise _Refused(f"{where}: object array without items")
            for k, item in enumerate(items):
                item = self.visit(item, depth, f"{where}[{k}]")
                value = json.loads(item["content"]) \
                    if item.get("__loader__") == "JsonNode" else item
                if not (isinstance(value, str) or value is None
                        or (isinstance(value, float) and math.isnan(value))):
                    raise _Refused(f"{where}[{k}]: object arrays may hold only strings "
                                   f"(and missing values), not {_short(value)[:80]}")
            shape = self.visit(node.get("shape"), depth, f"{where} (shape)")
            dims = shape.get("content")
            if shape.get("__loader__") != "TupleNode" or len(dims) != 1:
                raise _Refused(f"{where}: object arrays must be one-dimensional")
            length = self.ids.get(dims[0].get("__id__"), dims[0])
            if length.get("__loader__") != "JsonNode" or \
                    length.get("content") != str(len(items)):
                raise _Refused(f"{where}: object array shape does not match its items")
        else:
            raise _Refused(f"{where}: unknown array storage {kind!r} for {name}")

    def ObjectNode(self, node, depth, where, name):
        content = self.visit(node.get("content"), depth,
                             f"{where} ({name.rsplit('.', 1)[-1]})")
        if content.get("__loader__") != "DictNode":
            raise _Refused(f"{where}: {name} without its attributes")
        key_types = self.ids.get(content["key_types"].get("__id__"),
                                 content["key_types"])
        for item in key_types["content"]:
            if self.ids.get(item.get("__id__"), item).get("__class__") != "str":
                raise _Refused(f"{where}: {name} attribute names must be strings")

    def RandomStateNode(self, node, depth, where, name):
        content = self.visit(node.get("content"), depth, f"{where} (RandomState)")
        if content.get("__loader__") != "DictNode":
            raise _Refused(f"{where}: RandomState without its state")

    def check_arrays(self):
        for file, role, where in self.npy_nodes:
            dtype, shape = self.headers[file]
            if role == "scalar" and shape != ():
                raise _Refused(f"{where}: a numpy scalar with shape {shape}")
            if role == "dtype" and shape != (0,):
                raise _Refused(f"{where}: a dtype's array must be empty")



def _count_nodes(schema):
    """The number of schema nodes written in the file."""
    count, stack = 0, [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += "__loader__" in item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


# ---------------------------------------------------------------------- loading


def _load(path):
    """Check and load a model file; problems raise _Refused (OSError: no file)."""
    archive, members = _open_archive(path)
    with archive:
        raw = _read_whole(archive, members[SCHEMA_MEMBER])
        try:
            schema = json.loads(raw)
        except RecursionError:
            raise _Refused("schema.json is nested too deeply") from None
        except ValueError as exc:
            raise _Refused(f"schema.json is not valid JSON ({exc})") from None
        check = _SchemaCheck(members)
        try:
            check.run(schema)
        except RecursionError:
            raise _Refused("schema.json is nested too deeply") from None
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            raise _Refused(f"malformed schema.json ({type(exc).__name__}: {exc})") \
                from None
        # skops writes every occurrence of a shared object in full, so the tree it
        # stands for is no larger than the file's own nodes.
        written = _count_nodes(schema)
        if check.expanded > written + 1000:
            raise _Refused(f"shared __id__ references expand {written} schema nodes "
                           f"to {check.expanded}")
        # Members no built node refers to (skops writes one for each dtype, and
        # builds only the first node of an __id__) are neither read nor copied.
        used = {file for file, _, _ in check.npy_nodes}
        for file in sorted(used):
            check.headers[file] = _npy_header(archive, members[file])
        check.check_arrays()
        # A clean archive of exactly the checked members, read in bounded chunks:
        # skops never sees the original (its reads are not bounded).
        clean = io.BytesIO()
        with zipfile.ZipFile(clean, "w", zipfile.ZIP_STORED) as copy:
            copy.writestr(SCHEMA_MEMBER, raw)
            for file in sorted(used):
                copy.writestr(file, _read_whole(archive, members[file]))
    del raw
    sio = require_skops()
    clean.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sio.load(clean, trusted=sorted(check.types))
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
        return _load(path)
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


def load_metadata(path):
    """The metadata dict :func:`save_model` stored in a model file (``{}`` if none).

    Only the metadata member is read (size-capped, a JSON object); the model is
    not loaded. Problems raise ``ValueError("<path>: ...")``.
    """
    try:
        archive, members = _open_archive(path)
        with archive:
            if METADATA_MEMBER not in members:
                return {}
            return _parse_metadata(_read_whole(archive, members[METADATA_MEMBER]))
    except _Refused as exc:
        raise ValueError(f"{path}: {_one_line(exc)}") from None


# ------------------------------------------------------------- fitted model


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _int(value, what, low=0, high=None):
    if not _is_int(value) or value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise _Refused(f"{what} must be an integer {bound}, got {_short(value)}")
    return int(value)


def _bool(value, what):
    if not isinstance(value, (bool, np.bool_)):
        raise _Refused(f"{what} must be a bool, got {_short(value)}")


def _short(value):
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def _array(value, what, *, ndim=None, shape=None, kinds="biuf", finite=False,
           missing=False):
    """An ndarray (exact type) of one of ``kinds`` ("O": object array of str)."""
    if type(value) is not np.ndarray:
        raise _Refused(f"{what} must be a numpy array, got {_short(value)}")
    if value.dtype.kind not in kinds or (value.dtype.kind != "O"
                                         and not _plain_dtype(value.dtype)):
        raise _Refused(f"{what} has dtype {value.dtype}")
    if value.dtype.kind == "O":
        _strings(value, what, missing=missing)
    if ndim is not None and value.ndim != ndim:
        raise _Refused(f"{what} must have {ndim} dimension(s), got shape {value.shape}")
    if shape is not None and value.shape != tuple(shape):
        raise _Refused(f"{what} has shape {value.shape}, expected {tuple(shape)}")
    if finite and value.dtype.kind == "f" and not np.isfinite(value).all():
        raise _Refused(f"{what} has non-finite values")
    return value


def _strings(value, what, missing=False):
    for item in value.ravel():
        if not (type(item) is str or (missing and (item is None or (
                isinstance(item, float) and math.isnan(item))))):
            raise _Refused(f"{what} holds {_short(item)}, not a string")


def _labels(value, what, missing=False):
    """A 1-D array of unique sorted labels: numeric, unicode or object of str."""
    _array(value, what, ndim=1, kinds="biufUO", missing=missing)
    if value.dtype.kind == "O":
        present = [v for v in value if type(v) is str]
        if len(present) < len(value) - 1 or (len(present) < len(value)
                                             and type(value[-1]) is str):
            raise _Refused(f"{what}: one missing value at most, last")
        ordered = all(a < b for a, b in zip(present[:-1], present[1:]))
    else:
        body = value[~np.isnan(value)] if value.dtype.kind == "f" else value
        if value.dtype.kind == "f" and (len(body) < len(value) - (1 if missing else 0)
                                        or np.isinf(value).any()
                                        or (len(body) < len(value)
                                            and not np.isnan(value[-1]))):
            raise _Refused(f"{what} has non-finite values")
        ordered = bool(np.all(body[1:] > body[:-1]))
    if not ordered:
        raise _Refused(f"{what} must be unique and sorted")


def _names_in(est, what, n_features):
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        _array(names, f"{what}.feature_names_in_", shape=(n_features,), kinds="O")
        if len(set(names.tolist())) != n_features:
            raise _Refused(f"{what}.feature_names_in_ has duplicates")


def _attributes(est, what, fitted, strict=False):
    """Every hyper-parameter present and valid, and no attribute outside
    ``fitted`` (the fitted attributes this check knows) unless it is plain data
    that shadows nothing (``strict``: none at all)."""
    params = type(est)._get_param_names()
    state = vars(est)
    missing = [p for p in params if p not in state]
    if missing:
        raise _Refused(f"{what} lacks the parameter(s) {', '.join(missing)}")
    for key, value in state.items():
        if key in params or key in fitted:
            continue
        if strict or key.startswith("__") or hasattr(type(est), key):
            raise _Refused(f"{what} has the unexpected attribute {key!r}")
        _plain(value, f"{what}.{key}", 0)
    try:
        est._validate_params()
    except Exception as exc:  # InvalidParameterError is a ValueError and TypeError
        raise _Refused(f"{what}: {' '.join(str(exc).split())}") from None


def _plain(value, what, depth):
    if depth > MAX_DEPTH:
        raise _Refused(f"{what} is nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str, np.generic, slice)):
        return
    if isinstance(value, np.ndarray):
        _array(value, what, kinds="biufUO")
    elif type(value) in (list, tuple):
        for item in value:
            _plain(item, what, depth + 1)
    elif type(value) is dict:
        for item in value.values():
            _plain(item, what, depth + 1)
    else:
        raise _Refused(f"{what} holds {_short(value)}")


def _check_classifier(clf, what):
    """SoftmaxNNClassifier: the layout first (nothing allocated from it before it
    matches the arrays), then every fitted attribute against it."""
    fitted = {"n_features_in_", "feature_names_in_", "classes_", "_layout_params",
              "coefs_", "intercepts_", "n_iter_", "converged_", "loss_", "loss_curve_"}
    state = vars(clf)
    absent = sorted(fitted - {"feature_names_in_"} - set(state))
    if absent:
        raise _Refused(f"{what} is not fitted (no {', '.join(absent)})")
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    if type(coefs) is not list or type(intercepts) is not list or not coefs \
            or len(coefs) != len(intercepts):
        raise _Refused(f"{what}: coefs_ and intercepts_ must be lists of one array "
                       "per layer")
    dtype = getattr(coefs[0], "dtype", None)
    if dtype not in (np.float32, np.float64):
        raise _Refused(f"{what}.coefs_[0] must be a float32 or float64 array")
    for k, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        _array(coef, f"{what}.coefs_[{k}]", ndim=2, kinds="f", finite=True)
        _array(intercept, f"{what}.intercepts_[{k}]", ndim=1, kinds="f", finite=True)
        if coef.dtype != dtype or intercept.dtype != dtype:
            raise _Refused(f"{what}: coefs_ and intercepts_ must all be {dtype}")
    units = [coefs[0].shape[0]] + [coef.shape[1] for coef in coefs]
    layout = state["_layout_params"]
    if type(layout) is not tuple or len(layout) != 3 or type(layout[0]) is not tuple:
        raise _Refused(f"{what}._layout_params must be (layer_units, reference, "
                       f"fit_intercept), got {_short(layout)}")
    layer_units, reference, fit_intercept = layout
    if len(layer_units) != len(units) or not all(
            _is_int(u) and u == v for u, v in zip(layer_units, units)):
        raise _Refused(f"{what}._layout_params: layer units {_short(layer_units)} do "
                       f"not match the weights' shapes {units}")
    for k, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        if coef.shape != (units[k], units[k + 1]) or intercept.shape != (units[k + 1],):
            raise _Refused(f"{what}: layer {k} has weights {coef.shape} and intercepts "
                           f"{intercept.shape}; the layers do not chain")
    if any(u < 1 for u in units):
        raise _Refused(f"{what}: a layer has no units")
    n_classes = units[-1]
    if n_classes < 2:
        raise _Refused(f"{what}: {n_classes} output unit(s); at least 2 classes")
    if reference is not None:
        _int(reference, f"{what}._layout_params reference class index", 0, n_classes - 1)
    _bool(fit_intercept, f"{what}._layout_params fit_intercept")
    n_features = _int(state["n_features_in_"], f"{what}.n_features_in_", 1)
    if n_features != units[0]:
        raise _Refused(f"{what}: n_features_in_ is {n_features} but the first layer "
                       f"takes {units[0]}")
    _names_in(clf, what, n_features)
    classes = state["classes_"]
    _labels(classes, f"{what}.classes_")
    if len(classes) != n_classes:
        raise _Refused(f"{what}.classes_ has {len(classes)} entries for {n_classes} "
                       "output units")
    _int(state["n_iter_"], f"{what}.n_iter_")
    _bool(state["converged_"], f"{what}.converged_")
    if not isinstance(state["loss_"], Real):
        raise _Refused(f"{what}.loss_ must be a number")
    curve = state["loss_curve_"]
    if type(curve) is not list or not all(isinstance(v, Real) for v in curve):
        raise _Refused(f"{what}.loss_curve_ must be a list of numbers")
    _attributes(clf, what, fitted, strict=True)
    if clf.activation not in ACTIVATIONS:  # also checked by _validate_params
        raise _Refused(f"{what}: unknown activation {clf.activation!r}")
    try:
        hidden = clf._check_architecture()
    except ValueError as exc:
        raise _Refused(f"{what}: {exc}") from None
    if isinstance(clf.random_state, np.random.RandomState):
        _check_random_state(clf.random_state, f"{what}.random_state")
    if list(hidden) != units[1:-1]:
        raise _Refused(f"{what}: hidden_layer_sizes {hidden} do not match the fitted "
                       f"layers {units[1:-1]}")
    if bool(clf.fit_intercept) != bool(fit_intercept):
        raise _Refused(f"{what}: fit_intercept differs from the fitted layout")
    if (reference is None) != (clf.reference_class is None) or (
            reference is not None and classes[reference] != clf.reference_class):
        raise _Refused(f"{what}: reference_class {clf.reference_class!r} does not match "
                       "the fitted reference class")
    return n_features


def _check_random_state(rng, what):
    """numpy does not bound a RandomState's position when its state is set: a
    position past the 624-word key reads outside it at the next draw (a refit)."""
    if type(rng) is not np.random.RandomState:
        raise _Refused(f"{what}: {_short(rng)}")
    state = rng.get_state(legacy=False)
    if state.get("bit_generator") != "MT19937" or not (
            0 <= state["state"]["pos"] <= 624 and state["has_gauss"] in (0, 1)
            and math.isfinite(state["gauss"])):
        raise _Refused(f"{what}: invalid RandomState state")


def _n_in(est, what):
    n_features = _int(vars(est).get("n_features_in_"), f"{what}.n_features_in_", 1)
    _names_in(est, what, n_features)
    return n_features


def _check_scaler(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "n_samples_seen_",
                            "mean_", "var_", "scale_"})
    n = _n_in(est, what)
    for name, wanted in (("mean_", est.with_mean), ("var_", est.with_std),
                         ("scale_", est.with_std)):
        value = vars(est).get(name)
        if value is None and not wanted:
            continue
        _array(value, f"{what}.{name}", shape=(n,), kinds="f", finite=True)
    if est.with_std and not (est.scale_ > 0).all():
        raise _Refused(f"{what}.scale_ must be positive")
    seen = vars(est).get("n_samples_seen_")
    if not isinstance(seen, (Real, np.ndarray)):
        raise _Refused(f"{what}.n_samples_seen_ must be a number")
    return n


def _check_function_transformer(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_",
                            "_sklearn_output_config"})
    if est.func is not None or est.inverse_func is not None or est.kw_args \
            or est.inv_kw_args:
        raise _Refused(f"{what}: only the FunctionTransformer of 'passthrough' "
                       "columns (no functions) is allowed")
    if est.feature_names_out not in (None, "one-to-one"):
        raise _Refused(f"{what}: feature_names_out must be 'one-to-one' or None")
    return _n_in(est, what)


def _check_indicator(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "_precomputed",
                            "_n_features", "features_"})
    n = _n_in(est, what)
    _bool(vars(est).get("_precomputed"), f"{what}._precomputed")
    if vars(est).get("_n_features") != n:
        raise _Refused(f"{what}._n_features does not match n_features_in_")
    features = _array(vars(est).get("features_"), f"{what}.features_", ndim=1, kinds="iu")
    if len(features) and (features.min() < 0 or features.max() >= n
                          or not np.all(features[1:] > features[:-1])):
        raise _Refused(f"{what}.features_ must be sorted feature indices below {n}")
    return n


def _check_imputer(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "_fit_dtype",
                            "_fill_dtype", "indicator_", "statistics_"})
    n = _n_in(est, what)
    for name in ("_fit_dtype", "_fill_dtype"):
        dtype = vars(est).get(name)
        if dtype is not None and (not isinstance(dtype, np.dtype)
                                  or dtype.kind not in "biufUO"):
            raise _Refused(f"{what}.{name} must be a numeric, str or object dtype")
    statistics = vars(est).get("statistics_")
    _array(statistics, f"{what}.statistics_", shape=(n,), kinds="biufUO", missing=True)
    indicator = vars(est).get("indicator_")
    if est.add_indicator:
        if type(indicator).__name__ != "MissingIndicator":
            raise _Refused(f"{what}.indicator_ must be a MissingIndicator")
        if _check(indicator, f"{what}.indicator_") != n:
            raise _Refused(f"{what}.indicator_ does not take the imputer's {n} features")
    elif indicator is not None:
        raise _Refused(f"{what}.indicator_ must be None without add_indicator")
    return n


def _check_encoder(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "categories_",
                            "_infrequent_enabled", "_infrequent_indices",
                            "_default_to_infrequent_mappings",
                            "_drop_idx_after_grouping", "drop_idx_",
                            "_n_features_outs"})
    n = _n_in(est, what)
    try:
        numeric = np.dtype(est.dtype).kind in "biuf"
    except TypeError:
        numeric = False
    if not numeric:
        raise _Refused(f"{what}.dtype {_short(est.dtype)} is not a numeric type")
    categories = vars(est).get("categories_")
    if type(categories) is not list or len(categories) != n:
        raise _Refused(f"{what}.categories_ must be a list of {n} arrays")
    for k, values in enumerate(categories):
        _labels(values, f"{what}.categories_[{k}]", missing=True)
        if not len(values):
            raise _Refused(f"{what}.categories_[{k}] is empty")
    _bool(vars(est).get("_infrequent_enabled"), f"{what}._infrequent_enabled")
    # transform builds a sparse matrix from these indices, which scipy does not
    # bound-check: every index must stay inside its feature's output columns.
    grouped = [len(c) for c in categories]  # output columns before any drop
    infrequent = vars(est).get("_infrequent_indices")
    mappings = vars(est).get("_default_to_infrequent_mappings")
    if est._infrequent_enabled or infrequent is not None or mappings is not None:
        if type(infrequent) is not list or type(mappings) is not list \
                or len(infrequent) != n or len(mappings) != n:
            raise _Refused(f"{what}: _infrequent_indices and "
                           f"_default_to_infrequent_mappings must be lists of {n} entries")
        for k, (rare, mapping) in enumerate(zip(infrequent, mappings)):
            if rare is None and mapping is None:
                continue
            where = f"{what}._infrequent_indices[{k}]"
            _array(rare, where, ndim=1, kinds="iu")
            n_cats = len(categories[k])
            if not len(rare) or rare.min() < 0 or rare.max() >= n_cats or not np.all(
                    rare[1:] > rare[:-1]):
                raise _Refused(f"{where} must be sorted category indices")
            _array(mapping, f"{what}._default_to_infrequent_mappings[{k}]",
                   shape=(n_cats,), kinds="iu")
            expected = np.empty(n_cats, dtype=np.int64)
            frequent = np.setdiff1d(np.arange(n_cats), rare)
            expected[rare] = len(frequent)
            expected[frequent] = np.arange(len(frequent))
            if not np.array_equal(mapping, expected):
                raise _Refused(f"{what}._default_to_infrequent_mappings[{k}] does not "
                               "group the infrequent categories")
            grouped[k] = len(frequent) + 1
    for name, bounds in (("drop_idx_", [len(c) for c in categories]),
                         ("_drop_idx_after_grouping", grouped)):
        value = vars(est).get(name)
        if value is None:
            continue
        _array(value, f"{what}.{name}", shape=(n,), kinds="iu")
        if len(value) and (value.min() < 0 or any(
                v >= bound for v, bound in zip(value, bounds))):
            raise _Refused(f"{what}.{name} indexes outside the categories")
    outs = vars(est).get("_n_features_outs")
    if type(outs) is not list or not all(_is_int(v) for v in outs):
        raise _Refused(f"{what}._n_features_outs must be a list of integers")
    try:
        expected = est._compute_n_features_outs()
    except Exception as exc:
        raise _Refused(f"{what}: inconsistent encoder ({type(exc).__name__}: "
                       f"{exc})") from None
    if [int(v) for v in outs] != [int(v) for v in expected]:
        raise _Refused(f"{what}._n_features_outs {outs} does not match the categories")
    return n


def _check_pipeline(est, what, final=False):
    _attributes(est, what, set())
    steps = est.steps
    if type(steps) is not list or not steps:
        raise _Refused(f"{what}.steps must be a non-empty list")
    names = []
    for k, step in enumerate(steps):
        if type(step) is not tuple or len(step) != 2 or type(step[0]) is not str:
            raise _Refused(f"{what}.steps[{k}] must be a (name, estimator) pair")
        names.append(step[0])
    if len(set(names)) != len(names):
        raise _Refused(f"{what}: duplicate step names")
    if est.memory is not None or est.transform_input is not None:
        raise _Refused(f"{what}: memory and transform_input must be None")
    width = n_first = None
    for k, (name, step) in enumerate(steps):
        where = f"{what}.steps[{k}] {name!r}"
        last = k == len(steps) - 1
        if final and last:
            if type(step).__name__ != "SoftmaxNNClassifier":
                raise _Refused(f"{where}: the last step must be a SoftmaxNNClassifier, "
                               f"got {_short(step)}")
        elif step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        elif type(step).__name__ == "SoftmaxNNClassifier":
            raise _Refused(f"{where}: a SoftmaxNNClassifier can only be the last step")
        n_in = _check(step, where)
        if width is not None and n_in != width:
            raise _Refused(f"{where} takes {n_in} features, but the step before gives "
                           f"{width}")
        n_first = n_in if n_first is None else n_first
        if not (final and last):
            width = _width(step, where)
    if n_first is None:
        raise _Refused(f"{what}: every step is 'passthrough'")
    return n_first


def _column_indices(spec, n_features, names, where):
    """The input column indices a ColumnTransformer column spec selects."""
    lookup = {name: k for k, name in enumerate(names)} if names is not None else {}

    def index(key):
        if _is_int(key) and -n_features <= key < n_features:
            return int(key) % n_features
        if type(key) is str and key in lookup:
            return lookup[key]
        raise _Refused(f"{where}: column {_short(key)} is not one of the inputs")

    if type(spec) is slice:
        bounds = (spec.start, spec.stop)
        if all(b is None or _is_int(b) for b in bounds):  # positions, as Python slices
            return list(range(n_features))[slice(*bounds, spec.step)]
        if not all(b is None or type(b) is str for b in bounds):
            raise _Refused(f"{where}: a column slice mixes names and positions")
        # Names, as pandas .loc: the stop is included.
        start = 0 if spec.start is None else index(spec.start)
        stop = n_features if spec.stop is None else index(spec.stop) + 1
        return list(range(start, stop))
    if _is_int(spec) or type(spec) is str:
        return [index(spec)]
    if type(spec) in (list, tuple) or (type(spec) is np.ndarray and spec.ndim == 1):
        items = list(spec)
        if type(spec) is np.ndarray and spec.dtype.kind == "b":
            if len(items) != n_features:
                raise _Refused(f"{where}: a boolean column mask of the wrong length")
            return [k for k, keep in enumerate(items) if keep]
        return [index(item.item() if isinstance(item, np.generic) else item)
                for item in items]
    raise _Refused(f"{where}: unsupported column selection {_short(spec)}")


def _check_column_transformer(est, what):
    _attributes(est, what, {"n_features_in_", "feature_names_in_", "_columns",
                            "_transformer_to_input_indices", "_remainder",
                            "sparse_output_", "transformers_", "output_indices_",
                            "_name_to_fitted_passthrough"})
    n = _n_in(est, what)
    names = getattr(est, "feature_names_in_", None)
    names = None if names is None else names.tolist()
    n_jobs = est.n_jobs
    if n_jobs is not None and not (_is_int(n_jobs) and n_jobs != 0
                                   and abs(n_jobs) <= (os.cpu_count() or 1)):
        raise _Refused(f"{what}.n_jobs {_short(n_jobs)}: at most the {os.cpu_count()} "
                       "cores of this machine")
    weights = est.transformer_weights
    if weights is not None and not all(
            isinstance(w, Real) and math.isfinite(w) for w in weights.values()):
        raise _Refused(f"{what}.transformer_weights must be finite numbers")
    fitted = vars(est).get("transformers_")
    if type(fitted) is not list:
        raise _Refused(f"{what}.transformers_ must be a list")
    indices = vars(est).get("_transformer_to_input_indices")
    outputs = vars(est).get("output_indices_")
    if type(indices) is not dict or type(outputs) is not dict:
        raise _Refused(f"{what}: _transformer_to_input_indices and output_indices_ "
                       "must be dicts")
    _bool(vars(est).get("sparse_output_"), f"{what}.sparse_output_")
    seen, position = set(), 0
    for k, entry in enumerate(fitted):
        if type(entry) is not tuple or len(entry) != 3 or type(entry[0]) is not str:
            raise _Refused(f"{what}.transformers_[{k}] must be (name, transformer, "
                           "columns)")
        name, transformer, spec = entry
        where = f"{what}.transformers_[{k}] {name!r}"
        if name in seen:
            raise _Refused(f"{what}: duplicate transformer name {name!r}")
        seen.add(name)
        selected = _column_indices(spec, n, names, where)
        if name in indices and indices[name] != selected:
            raise _Refused(f"{where}: its columns do not match "
                           "_transformer_to_input_indices")
        if isinstance(transformer, str):
            if transformer not in ("drop", "passthrough"):
                raise _Refused(f"{where}: unknown transformer {transformer!r}")
            width = 0 if transformer == "drop" else len(selected)
        else:
            if type(transformer).__name__ == "SoftmaxNNClassifier":
                raise _Refused(f"{where}: a classifier cannot transform columns")
            n_in = _check(transformer, where)
            if n_in != len(selected):
                raise _Refused(f"{where} takes {n_in} features but is given "
                               f"{len(selected)} columns")
            width = _width(transformer, where)
        out = outputs.get(name)
        if type(out) is not slice or out.step is not None or not (
                _is_int(out.start) and _is_int(out.stop)):
            raise _Refused(f"{what}.output_indices_[{name!r}] must be an integer slice")
        if width and (out.start != position or out.stop != position + width):
            raise _Refused(f"{what}.output_indices_[{name!r}] is {out}, expected "
                           f"slice({position}, {position + width})")
        position += width
    for name, selected in indices.items():
        if type(selected) is not list or not all(
                _is_int(i) and 0 <= i < n for i in selected):
            raise _Refused(f"{what}._transformer_to_input_indices[{name!r}] must list "
                           f"input columns below {n}")
    for name, out in outputs.items():
        if type(out) is not slice or not (0 <= out.start <= out.stop <= position):
            raise _Refused(f"{what}.output_indices_[{name!r}] is outside the output")
    passthrough = vars(est).get("_name_to_fitted_passthrough")
    if passthrough is not None:
        if type(passthrough) is not dict:
            raise _Refused(f"{what}._name_to_fitted_passthrough must be a dict")
        for name, transformer in passthrough.items():
            if type(transformer).__name__ != "FunctionTransformer":
                raise _Refused(f"{what}._name_to_fitted_passthrough[{name!r}] must be "
                               "a FunctionTransformer")
            _check(transformer, f"{what}._name_to_fitted_passthrough[{name!r}]")
    for name in ("_columns",):
        _plain(vars(est).get(name), f"{what}.{name}", 0)
    _plain(vars(est).get("_remainder"), f"{what}._remainder", 0)
    return n


def _width(est, what):
    """The number of columns ``est`` (checked) outputs."""
    kind = type(est).__name__
    if kind == "ColumnTransformer":  # (checked: every width matches its slice)
        return max([out.stop for out in est.output_indices_.values()], default=0)
    if kind == "Pipeline":
        width = None
        for _, step in est.steps:
            if step is not None and not (isinstance(step, str)):
                width = _width(step, what)
        return width if width is not None else est.n_features_in_
    if kind in ("StandardScaler", "FunctionTransformer"):
        return est.n_features_in_
    try:
        return len(est.get_feature_names_out())
    except Exception as exc:
        raise _Refused(f"{what}: inconsistent fitted attributes ({type(exc).__name__}: "
                       f"{exc})") from None


_CHECKS = {
    "sklearn.pipeline.Pipeline": _check_pipeline,
    "sklearn.preprocessing._data.StandardScaler": _check_scaler,
    "sklearn.compose._column_transformer.ColumnTransformer": _check_column_transformer,
    "sklearn.preprocessing._encoders.OneHotEncoder": _check_encoder,
    "sklearn.impute._base.SimpleImputer": _check_imputer,
    "sklearn.impute._base.MissingIndicator": _check_indicator,
    "sklearn.preprocessing._function_transformer.FunctionTransformer":
        _check_function_transformer,
    "sk_softmax._classifier.SoftmaxNNClassifier": _check_classifier,
}


def _check(est, what):
    """Check one estimator; return its number of input features."""
    cls = type(est)
    check = _CHECKS.get(f"{cls.__module__}.{cls.__qualname__}")
    if check is None:
        raise _Refused(f"{what}: {_short(est)} is not a trusted estimator")
    return check(est, what)


def _check_model(model):
    """Check a loaded model's structure and fitted attributes; raise ``_Refused``.

    The model is a SoftmaxNNClassifier, or a Pipeline whose last step is one and
    whose earlier steps are trusted transformers (:data:`TRUSTED_TYPES`); every
    step's input width is what the step before outputs; then a probe row goes
    through ``predict_proba``.
    """
    cls = type(model)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if name == "sklearn.pipeline.Pipeline":
        _check_pipeline(model, "the pipeline", final=True)
    elif name == "sk_softmax._classifier.SoftmaxNNClassifier":
        _check_classifier(model, "the classifier")
    else:
        raise _Refused(f"the file holds {_short(model)}, not a SoftmaxNNClassifier or "
                       "a Pipeline ending in one")
    _probe(model)


def _probe_row(model):
    """One input row the model's preprocessing accepts (see :func:`_probe_value`)."""
    steps = [s for _, s in model.steps] if type(model).__name__ == "Pipeline" else [model]
    first = steps[0]
    n_features = next(s.n_features_in_ for s in steps
                      if s is not None and not isinstance(s, str))
    values = [0.0] * n_features
    if type(first).__name__ in ("StandardScaler", "SoftmaxNNClassifier",
                                "FunctionTransformer") or isinstance(first, str):
        return values
    if type(first).__name__ == "ColumnTransformer":
        for name, transformer, spec in first.transformers_:
            if isinstance(transformer, str):
                continue
            columns = _column_indices(spec, n_features, _names_list(first), name)
            for k, column in enumerate(columns):
                values[column] = _probe_value(transformer, k)
    else:
        values = [_probe_value(first, k) for k in range(n_features)]
    return values


def _names_list(est):
    names = getattr(est, "feature_names_in_", None)
    return None if names is None else names.tolist()


def _probe_value(est, k):
    """A value for input column ``k`` of ``est`` that its fitted steps accept: the
    first known category where a OneHotEncoder reads the column, else the
    imputer's fill value, else 0.0."""
    steps = [s for _, s in est.steps] if type(est).__name__ == "Pipeline" else [est]
    value = 0.0
    for step in steps:
        kind = type(step).__name__
        if kind == "SimpleImputer":
            fill = step.statistics_[k]
            if isinstance(fill, str) or (isinstance(fill, Real) and math.isfinite(fill)):
                value = fill if isinstance(fill, str) else float(fill)
        elif kind == "OneHotEncoder":
            known = [v for v in step.categories_[k].tolist()
                     if isinstance(v, str) or (isinstance(v, Real) and math.isfinite(v))]
            if known:
                value = known[0] if isinstance(known[0], str) else float(known[0])
            break
        elif step is not None and not isinstance(step, str):
            break
    return value


def _probe(model):
    names = getattr(model, "feature_names_in_", None)
    values = _probe_row(model)
    numeric = all(type(v) is float for v in values)
    try:
        if names is not None:
            import pandas as pd

            X = pd.DataFrame(np.array([values], dtype=np.float64) if numeric
                             else [values], columns=names.tolist())
        else:
            X = np.array([values], dtype=np.float64 if numeric else object)
    except ImportError:  # pandas is optional; the static checks stand
        return
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            proba = model.predict_proba(X)
    except Exception as exc:
        raise _Refused(f"the model fails on a probe row ({type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:200]})") from None
    n_classes = len(model.classes_)
    if type(proba) is not np.ndarray or proba.shape != (1, n_classes):
        raise _Refused("the model's probe prediction has the wrong shape")
