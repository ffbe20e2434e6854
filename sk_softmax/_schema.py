"""The schema.json walk: each node's (type, loader) pair allowed, its content as skops reads it."""

# SPDX-License-Identifier: BSD-3-Clause

import json
import math

from ._archive import _NPY_NAME
from ._refusal import MAX_DEPTH, _Refused, _short

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
                # Strings, missing values and plain ints (OneHotEncoder's drop_idx_ is
                # an object array of ints and None); each attribute's own check then
                # says which of them it may hold.
                if not (isinstance(value, str) or value is None or type(value) is int
                        or (isinstance(value, float) and math.isnan(value))):
                    raise _Refused(f"{where}[{k}]: object arrays may hold only strings, "
                                   f"ints and missing values, not {_short(value)[:80]}")
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


def _check_schema(raw, members):
    """Parse ``schema.json`` (``raw`` bytes) and walk it; return the finished
    :class:`_SchemaCheck` (its arrays' headers not yet read)."""
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
    except (AttributeError, TypeError, KeyError, IndexError,
            ValueError) as exc:  # pragma: no cover - a net: no file reaches it
        # (every node a loader method reads was visited, its form checked, first)
        raise _Refused(f"malformed schema.json ({type(exc).__name__}: {exc})") \
            from None
    # skops writes every occurrence of a shared object in full, so the tree it
    # stands for is no larger than the file's own nodes.
    written = _count_nodes(schema)
    if check.expanded > written + 1000:
        raise _Refused(f"shared __id__ references expand {written} schema nodes "
                       f"to {check.expanded}")
    return check
