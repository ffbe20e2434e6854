"""What every model-file check shares: the refusal it raises, the nesting cap, short values."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np

#: Deepest nesting of schema nodes (and of metadata JSON).
MAX_DEPTH = 64


class _Refused(Exception):
    """A problem with the file; load_model adds the file name (ValueError)."""


def _short(value):
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _plain_dtype(dtype):
    return (isinstance(dtype, np.dtype) and dtype.kind in "biufU" and dtype.fields is None
            and dtype.subdtype is None and not dtype.hasobject and dtype.itemsize > 0)
