"""The architecture's contracts (ARCHITECTURE.md), checked on every test run.

``.ci/run`` runs import-linter and mypy too; running them here as well means that a change
landing after a green ``pytest`` cannot break the layers or the types unnoticed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    # the checkout under test, not whatever copy of the package is installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=540)


def test_import_contracts_are_kept():
    pytest.importorskip("importlinter", reason="needs importlinter: the 'dev' extra is not installed")
    run = _run(["-c", "from importlinter.cli import lint_imports_command; "
                      "lint_imports_command()"])
    assert run.returncode == 0, run.stdout + run.stderr
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", run.stdout)
    assert kept is not None, run.stdout
    # layers, the core without widgets, analysis without slicing, the trainer without SFs,
    # private modules, no cycles
    assert (int(kept[1]), int(kept[2])) == (6, 0), run.stdout


@pytest.mark.slow
def test_the_package_type_checks():
    pytest.importorskip("mypy", reason="needs mypy: the 'dev' extra is not installed")
    run = _run(["-m", "mypy"])  # settings and files: pyproject.toml [tool.mypy]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues found" in run.stdout


def test_no_import_cycle_is_excused():
    """The cycle contract may excuse only Snorkel's re-export paths, never a real cycle (a
    deferred import inside a function counts as an import: import-linter sees it)."""
    tomllib = pytest.importorskip("tomllib", reason="needs Python 3.11+ to read pyproject.toml")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (acyclic,) = [c for c in config["tool"]["importlinter"]["contracts"]
                  if c["type"] == "acyclic_siblings"]
    assert acyclic["ancestors"] == ["slicewidgets"]
    assert acyclic.get("ignore_imports", []) == [
        "slicewidgets.slicing.apply.dask -> slicewidgets.slicing.dask",
        "slicewidgets.slicing.apply.spark -> slicewidgets.slicing.spark",
    ]

