"""Sphinx configuration: PyData theme, numpydoc API reference, notebooks executed by myst-nb.

Build (from the repository root): ``python -m sphinx -W -b html docs docs/_build/html``.
The tutorial notebooks are copied from ``notebooks/`` into ``docs/_gallery`` (not committed) and
executed during the build; they read the data from ``SLICEWIDGETS_DATA_DIR`` or the cache.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import slicewidgets  # noqa: E402

project = "slicewidgets"
author = "slicewidgets developers"
copyright = "slicewidgets developers, Apache-2.0"  # noqa: A001
release = version = slicewidgets.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path: list[str] = []

html_theme = "pydata_sphinx_theme"
html_title = "slicewidgets"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []

# API reference: one page per public package, members from each package's __all__
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc shows the types from the docstrings
autodoc_mock_imports: list[str] = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

# The gallery: the notebooks, executed at build time
myst_enable_extensions = ["colon_fence", "dollarmath"]
nb_execution_mode = os.environ.get("SLICEWIDGETS_DOCS_EXECUTE", "force")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_in_temp = True  # the studio's save file goes to a temporary folder
nb_merge_streams = True
suppress_warnings = ["mystnb.unknown_mime_type"]

GALLERY = DOCS / "_gallery"


def _copy_notebooks() -> None:
    GALLERY.mkdir(exist_ok=True)
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = GALLERY / notebook.name
        if not target.exists() or target.read_bytes() != notebook.read_bytes():
            shutil.copyfile(notebook, target)
    img = ROOT / "notebooks" / "img"
    if img.is_dir():
        shutil.copytree(img, GALLERY / "img", dirs_exist_ok=True)


_copy_notebooks()
