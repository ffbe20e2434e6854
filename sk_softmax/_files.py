"""Atomic file writes: every file the package writes (model files, predictions, ONNX)
appears whole or not at all."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_path(path):
    """Yield a new temporary path beside ``path``; rename it onto ``path`` when the
    block ends, or remove it if the block raises.

    The temporary file exists (empty, mode as ``open`` would create it) when the
    block starts. Its contents are flushed to disk before the rename, and the
    rename itself is made durable: an interrupted write leaves no half file, and a
    symbolic link at ``path`` is replaced, never written through.
    """
    path = os.fspath(path)
    directory, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # file systems that cannot fsync a directory
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
