"""A model file's zip archive: member and .npy header checks before decompression, bounded reads."""

# SPDX-License-Identifier: BSD-3-Clause

import io
import math
import re
import zipfile
import zlib

import numpy as np

from ._refusal import _plain_dtype, _Refused

#: The zip member holding the metadata of :func:`sk_softmax._persist.save_model`.
METADATA_MEMBER = "sk_softmax.json"
SCHEMA_MEMBER = "schema.json"

_NPY_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}\.npy\Z")
_CHUNK = 2**20


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


def _open_archive(path, *, max_members, max_schema, max_metadata, max_arrays):
    """The open ZipFile and its members by name, after the checks that need no
    decompression (the caps are the caller's, read when it calls)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise _Refused(f"not a skops model file (not a zip archive: {exc})") from None
    try:
        members = _members(archive.infolist(), max_members)
        limits = {SCHEMA_MEMBER: max_schema, METADATA_MEMBER: max_metadata}
        for name, limit in limits.items():
            if name in members and members[name].file_size > limit:
                raise _Refused(f"{name} declares {members[name].file_size} bytes "
                               f"(limit {limit})")
        declared = sum(i.file_size for n, i in members.items() if n.endswith(".npy"))
        if declared > max_arrays:
            raise _Refused(f"the arrays declare {declared} bytes in all "
                           f"(limit {max_arrays})")
    except BaseException:
        archive.close()
        raise
    return archive, members


def _members(infos, max_members):
    """The archive's members by name: known names, no duplicate, no encryption,
    stored or deflated; a schema.json among them."""
    if len(infos) > max_members:
        raise _Refused(f"{len(infos)} archive members (at most {max_members})")
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
    return members


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
