"""Sphinx configuration of the sk_softmax documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html``; doctests of the docstrings
and of the user guide: ``python -m sphinx -W -b doctest docs docs/_build/doctest``.
Needs the ``docs`` extra: ``python -m pip install -e ".[docs]"``.
"""

import os
import sys
from pathlib import Path

# One BLAS/OpenMP thread: the gallery's peers (MLPClassifier) are many times slower with
# threads on a busy two-core machine, and the build must stay short. Set before numpy.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "sphinxext"))

import sk_softmax  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=1)

project = "sk_softmax"
author = "the sk_softmax developers"
copyright = "2026, the sk_softmax developers"
version = release = sk_softmax.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sk_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# The API pages' tables of contents name methods without their class.
toc_object_entries_show_parents = "hide"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "images", "**/_data"]
templates_path = ["_templates"]

# Markdown pages (myst-parser).
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: autosummary pages from the numpydoc docstrings.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
# Parameter types become cross-references where Sphinx knows the name (``nitpicky`` is
# off: an unknown name stays plain text); shapes such as ``(n_features_in_,)`` are then
# not read as reST link targets.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {"of", "or", "shape", "default", "optional", "instance", "and",
                        "like", "callable", "label", "None"}
# numpydoc's default aliases point into Python's and numpy's intersphinx inventories,
# which this offline build does not load: plain object references instead.
numpydoc_xref_aliases = {
    name: f":obj:`{name}`"
    for name in ("None", "bool", "boolean", "True", "False", "list", "tuple", "str",
                 "string", "dict", "float", "int", "callable", "iterable", "sequence",
                 "contextmanager", "namedtuple", "generator", "array", "ndarray", "dtype",
                 "array_like", "array-like", "scalar", "RandomState",
                 "np.random.RandomState", "np.inf", "numpy")
}

# Doctests (sphinx -b doctest): the user guide's ``{doctest}`` blocks and the
# ``Examples`` sections of the docstrings.
doctest_default_flags = (
    __import__("doctest").ELLIPSIS
    | __import__("doctest").NORMALIZE_WHITESPACE
    | __import__("doctest").DONT_ACCEPT_TRUE_FOR_1
)
doctest_global_setup = """
import numpy as np
np.set_printoptions(legacy=False)
"""

# Example gallery: every examples/plot_*.py is run; its pictures are made now.
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": str(HERE / "auto_examples"),
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"_common\.py|__init__\.py",
    "reset_argv": "sk_docs.reset_argv",
    "image_scrapers": ("matplotlib",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "min_reported_time": 10,
}

# HTML.
html_theme = "pydata_sphinx_theme"
html_title = f"sk_softmax {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 5,
    # The guide's pages print tables 80-90 characters wide: they get the room of the
    # right-hand sidebar (the left one lists the pages and their sections).
    "secondary_sidebar_items": {
        "index": ["page-toc"],
        "api": ["page-toc"],
        "cli": ["page-toc"],
        "generated/*": ["page-toc"],
        "changelog": ["page-toc"],
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "getting_started": [], "cli": [], "changelog": [], "benchmarks": []}
