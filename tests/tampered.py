"""Craft tampered skops model files from legitimate ones, for tests/test_persist.py.

A skops file is a zip of ``schema.json`` (a tree of nodes: ``__class__``,
``__module__``, ``__loader__``, ``content``, ``__id__``...) and ``.npy`` arrays.
:class:`Model` reads one into plain Python (the schema as a dict, the members as
bytes), lets a test edit them, and writes the result; the helpers below build
nodes and patch raw zip headers (flags, compression method, declared size).
"""

import copy
import io
import json
import struct
import zipfile

import numpy as np


def json_node(value):
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def type_node(module, name):
    return {"__class__": name, "__module__": module, "__loader__": "TypeNode"}


def tuple_node(items):
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": list(items)}


def list_node(items):
    return {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
            "content": list(items)}


def dict_node(mapping):
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
            "content": dict(mapping),
            "key_types": list_node([type_node("builtins", "str")] * len(mapping))}


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


class Model:
    """A skops file as ``schema`` (dict) and ``members`` (name -> bytes)."""

    def __init__(self, path):
        with zipfile.ZipFile(path) as archive:
            self.members = {name: archive.read(name) for name in archive.namelist()}
        self.schema = json.loads(self.members.pop("schema.json"))
        self._next = 0

    def copy(self):
        return copy.deepcopy(self)

    # -- navigation: the attribute dict (DictNode content) of an estimator

    def attrs(self, *path):
        """Attributes of the estimator at ``path`` from the root: ints index a
        Pipeline's steps, ("t", k) a ColumnTransformer's transformers_."""
        node = self.schema
        for step in path:
            content = node["content"]["content"]
            if isinstance(step, tuple):
                entry = content["transformers_"]["content"][step[1]]
            else:
                entry = content["steps"]["content"][step]
            node = entry["content"][1]
        return node["content"]["content"]

    def estimator(self, *path):
        """The ObjectNode of the estimator at ``path``."""
        if not path:
            return self.schema
        parent = self.attrs(*path[:-1])
        step = path[-1]
        if isinstance(step, tuple):
            return parent["transformers_"]["content"][step[1]]["content"][1]
        return parent["steps"]["content"][step]["content"][1]

    def array_node(self, array):
        """A new NdArrayNode stored as a new .npy member."""
        self._next += 1
        name = f"9{self._next:06d}.npy"
        self.members[name] = npy_bytes(array)
        return {"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode",
                "type": "numpy", "file": name}

    def array(self, node):
        """The numpy array a numpy-stored NdArrayNode refers to."""
        return np.load(io.BytesIO(self.members[node["file"]]), allow_pickle=False)

    def write(self, path, compression=zipfile.ZIP_STORED, schema_bytes=None,
              extra=()):
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            archive.writestr("schema.json", schema_bytes if schema_bytes is not None
                             else json.dumps(self.schema))
            for name, data in self.members.items():
                archive.writestr(name, data)
            for name, data in extra:
                archive.writestr(name, data)
        return path


def patch_headers(path, member, *, flags=None, method=None, size=None):
    """Rewrite, in place, ``member``'s general-purpose flags, compression method or
    declared uncompressed size in both its local header and the central directory
    (what a hand-made archive can say, whatever its data holds)."""
    data = bytearray(open(path, "rb").read())
    name = member.encode()
    patched = 0
    # local file header: signature, version, flags@6, method@8, ..., usize@22,
    # name length@26; central directory: flags@8, method@10, usize@24, name len@28
    for signature, at_flags, at_method, at_size, at_len, header in (
            (b"PK\x03\x04", 6, 8, 22, 26, 30), (b"PK\x01\x02", 8, 10, 24, 28, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            length = struct.unpack_from("<H", data, start + at_len)[0]
            if data[start + header:start + header + length] == name:
                if flags is not None:
                    struct.pack_into("<H", data, start + at_flags, flags)
                if method is not None:
                    struct.pack_into("<H", data, start + at_method, method)
                if size is not None:
                    struct.pack_into("<I", data, start + at_size, size)
                patched += 1
            start += 4
    assert patched == 2, f"{member}: found {patched} headers"
    open(path, "wb").write(bytes(data))
    return path
