"""Run the test suite from a fresh clone, in one command: ``python3 tests/run.py [pytest args]``.

The first run creates a virtual environment in ``.venv-tests`` at the top of the clone and
installs slicewidgets there, editable, with everything the tests use
(``.[dev,dask,spark,nlp,tensorboard]``: test tools, JupyterLab, torch, TextBlob, Dask, Spark,
spaCy, TensorBoard); later runs reuse
it and install nothing unless ``pyproject.toml`` changed. No ``sudo``, works as root and on
systems whose Python refuses ``pip install`` (PEP 668). Arguments go to pytest, e.g.
``python3 tests/run.py tests/slicing -x -q``. This is the command CI runs (``.ci/run``).

Tests that need the real data read ``SLICEWIDGETS_DATA_DIR``; browser tests need Chromium
(``/usr/bin/chromium``); both skip with a reason when these are missing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = "dev,dask,spark,nlp,tensorboard"


def _lab_module():
    """notebooks/lab.py holds the shared set-up code (venv + stamp + CPU torch)."""
    spec = importlib.util.spec_from_file_location("_slicewidgets_lab", ROOT / "notebooks" / "lab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    setup_only = "--setup-only" in argv
    python = _lab_module().ensure_venv(ROOT / ".venv-tests", EXTRAS)
    if setup_only:
        print(python)
        return 0
    return subprocess.call([str(python), "-m", "pytest", *argv], cwd=ROOT, env=os.environ)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
