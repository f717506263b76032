"""Sphinx configuration of the documentation site: ``make docs`` builds it into docs/_build/html.

The source directory is the repository's root, so that README.md, docs/*.md and
notebooks/*.ipynb are pages and their links to one another work on GitHub and in the site alike;
``include_patterns`` keeps everything else out. The notebooks are executed during the build
against a Jupyter server that ``_ext/notebook_server.py`` starts; a cell that fails fails the
build. ``_ext/qiskit_runtime_docs.py`` adds the configuration tables, the REST reference (Swagger
UI, copied into the site) and a check that no page loads anything from another host.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from jupyter_qiskit_runtime import __version__  # noqa: E402

project = "jupyter-qiskit-runtime"
author = "jupyter-qiskit-runtime developers"
copyright = "jupyter-qiskit-runtime developers"
release = version = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "notebook_server",
    "qiskit_runtime_docs",
]

root_doc = "docs/index"
include_patterns = [
    "README.md",
    "docs/*.md",
    "docs/*.rst",
    "notebooks/*.ipynb",
]
# Pruned while looking for sources (the root holds the virtual environment and caches).
exclude_patterns = [
    ".*",
    "docs/_build",
    "docs/_ext",
    "build",
    "dist",
    "test-artifacts",
    "tests",
    "benchmarks",
    "jupyter_qiskit_runtime",
    "jupyter-config",
    "shared",
    "**/.ipynb_checkpoints",
]

# -- Markdown and notebooks -------------------------------------------------------------------

myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

# Run every notebook on every build, against the server notebook_server starts; a cell that
# raises fails the build with its traceback.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# Log lines kernels write to stderr (the client's "Loading account with the given token") are
# noise on a page; a failing cell fails the build regardless.
nb_output_stderr = "remove"
# The job panel is a live widget: a static page has no kernel to drive it, and myst-nb's widget
# manager would come from a CDN. Pages say what Jupyter shows there (qiskit_runtime_docs).
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

qiskit_runtime_server_args = [
    "--QiskitRuntimeApp.pool_size=2",
    "--QiskitRuntimeApp.prestart_workers=2",
]

# -- Python API -------------------------------------------------------------------------------

add_module_names = False
toc_object_entries_show_parents = "hide"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"show-inheritance": False}
# Docstrings use Google's style (Args:, Raises:).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = True
# Types of other packages, named in signatures: there is no intersphinx (the build is offline).
nitpick_ignore_regex = [
    ("py:class", r"(qiskit|qiskit_ibm_runtime|ipywidgets|traitlets|IPython)(\..*)?"),
    ("py:class", r"(QuantumCircuit|BackendV2|QiskitRuntimeService|SimulationPlan)"),
    ("py:class", r"(PrimitiveSettings|Sequence|Mapping|ClassVar|Any)"),
    ("py:class", r"jupyter_server\..*"),
    ("py:class", r"(t\.Any|abc\.ABC|collections\.abc\..*)"),
    # connect()'s Raises: names the kernel side's exception, which is not public API.
    ("py:exc", r"ConnectionRefused"),
]

# -- HTML -------------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"jupyter-qiskit-runtime {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 5,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# The site is flat: the header lists its pages, so the left sidebar would be empty.
html_sidebars: dict[str, list[str]] = {"**": []}
html_static_path: list[str] = []
html_show_sourcelink = False
