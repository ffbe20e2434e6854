"""The files the package reads and writes: inputs are regular files of a bounded size,
and every file it writes (model files, predictions, ONNX) appears whole or not at all,
only where a regular file (or nothing) was."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import os
import secrets
import stat


def regular_file_size(path, what="file"):
    """The size of ``path``, a regular file (after symbolic links); else OSError: a
    directory, a FIFO (which would block the reader forever), a device (``/dev/zero``
    never ends) or a socket is not read."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise OSError(f"{path}: no such file") from None
    if stat.S_ISDIR(info.st_mode):
        raise OSError(f"{path}: is a directory, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path}: is not a regular file (a FIFO, a device or a socket); "
                      f"give the path of a {what}")
    return info.st_size


def check_replaceable(path):
    """Refuse (OSError) to write over anything but a regular file or a symbolic link:
    an atomic rename would otherwise replace a device or a FIFO (``/dev/null``) with a
    regular file."""
    if os.path.islink(path) or not os.path.lexists(path):
        return
    if not stat.S_ISREG(os.lstat(path).st_mode):
        raise OSError(f"{path}: is not a regular file (a directory, FIFO, device or "
                      "socket); refusing to replace it")


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
    check_replaceable(path)
    directory, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
    try:  # the creation inside: an exception (a signal turned into one) right after it
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        check_replaceable(path)  # again: it may have appeared meanwhile
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
