"""Shared by the examples: where a picture goes, and matplotlib with the Agg backend."""

import sys
from pathlib import Path

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def output_path(name):
    """``argv[1]`` if given (a folder), else docs/images/, joined with ``name``."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else IMAGES
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def pyplot():
    """matplotlib.pyplot on the Agg backend (no screen needed), or a clear error."""
    try:
        import matplotlib
    except ImportError:
        sys.exit("the examples need matplotlib: pip install 'sk_softmax[examples]'")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
