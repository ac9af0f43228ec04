"""Sphinx configuration: PyData theme, numpydoc API reference, notebooks executed by myst-nb.

Build (from the repository root): ``python -m sphinx -W -b html docs docs/_build/html``.
The tutorial notebooks are copied from ``notebooks/`` into ``docs/_gallery`` (not committed) and
executed during the build; they read the data from ``SLICEWIDGETS_DATA_DIR`` or the cache. CI
sets ``SLICEWIDGETS_EXECUTED_NOTEBOOKS`` to the folder where the test suite saved the notebooks
it executed, so none runs twice.
"""

from __future__ import annotations

import json
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
#: Notebooks the test suite already executed (tests/test_notebooks.py writes them there when this
#: variable is set): the gallery shows their outputs instead of running them a second time.
EXECUTED = os.environ.get("SLICEWIDGETS_EXECUTED_NOTEBOOKS")
nb_execution_excludepatterns: list[str] = []


def _code(cells: list[dict]) -> list[str]:
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def _with_outputs(notebook: Path) -> str | None:
    """The notebook's text with the outputs of its executed copy, if that copy has the same code.

    The markdown is always the current one; only outputs (and metadata such as widget state)
    come from the executed copy.
    """
    executed = Path(EXECUTED) / notebook.name if EXECUTED else None
    if executed is None or not executed.is_file():
        return None
    current = json.loads(notebook.read_text(encoding="utf-8"))
    done = json.loads(executed.read_text(encoding="utf-8"))
    if _code(current["cells"]) != _code(done["cells"]):
        return None
    ran = iter(cell for cell in done["cells"] if cell["cell_type"] == "code")
    for cell in current["cells"]:
        if cell["cell_type"] == "code":
            source = next(ran)
            cell["outputs"], cell["execution_count"] = source["outputs"], source["execution_count"]
    current["metadata"] = {**done["metadata"], **current["metadata"]}
    return json.dumps(current, indent=1, ensure_ascii=False) + "\n"


def _copy_notebooks() -> None:
    """notebooks/*.ipynb -> _gallery/ (the student workshop is left out: it is the same exercises).

    A notebook whose executed copy in ``$SLICEWIDGETS_EXECUTED_NOTEBOOKS`` has the same code is
    taken with those outputs and not executed again; any other is executed by myst-nb.
    """
    GALLERY.mkdir(exist_ok=True)
    notebooks = [nb for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))
                 if not nb.stem.endswith("_student")]
    for stale in set(GALLERY.glob("*.ipynb")) - {GALLERY / nb.name for nb in notebooks}:
        stale.unlink()
    for notebook in notebooks:
        text = _with_outputs(notebook)
        if text is None:
            text = notebook.read_text(encoding="utf-8")
        else:
            nb_execution_excludepatterns.append(f"_gallery/{notebook.name}")
        target = GALLERY / notebook.name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    img = ROOT / "notebooks" / "img"
    if img.is_dir():
        shutil.copytree(img, GALLERY / "img", dirs_exist_ok=True)


_copy_notebooks()
