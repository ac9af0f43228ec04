"""Doctest collection when an optional extra is not installed (the bare-core CI job).

``python -m pytest`` collects the docstring examples of every module here. In an environment
with only the core installed (``pip install "slicewidgets[test]"``), a module that needs torch
cannot even be imported, and an example that imports dask cannot run. Such modules are left out
and such examples are skipped, with a reason naming the extra; with every extra installed (the
normal test run) this file changes nothing. Not part of the wheel.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from slicewidgets._optional import EXTRAS

_PACKAGE_ROOT = Path(__file__).resolve().parent
_IMPORT = re.compile(r"^\s*(?:>>>|\.\.\.)\s+(?:import|from)\s+([A-Za-z_][\w]*)", re.MULTILINE)


def _missing(package: str) -> bool:
    return importlib.util.find_spec(package) is None


#: Optional packages that are not installed here (computed once per run).
MISSING = sorted(package for package in EXTRAS if _missing(package))


#: Modules whose examples all need an optional package, imported or not.
_MODULE_NEEDS = {"slicewidgets.slicing.dask": "dask", "slicewidgets.slicing.spark": "pyspark"}


def _reason(package: str) -> str:
    return f"needs {package}: the '{EXTRAS[package]}' extra is not installed"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out modules that cannot be imported without a missing extra."""
    if not MISSING or collection_path.suffix != ".py" or collection_path.name == "conftest.py":
        return None
    try:
        relative = collection_path.resolve().relative_to(_PACKAGE_ROOT.parent)
    except ValueError:
        return None
    parts = relative.with_suffix("").parts
    module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] in MISSING:
            return True
        raise
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip docstring examples that import a missing optional package."""
    if not MISSING:
        return
    for item in items:
        test = getattr(item, "dtest", None)  # a DoctestItem
        if test is None:
            continue
        source = "\n".join(">>> " + example.source for example in test.examples)
        needed = [name for name in _IMPORT.findall(source) if name in MISSING]
        needed += [package for module, package in _MODULE_NEEDS.items()
                   if package in MISSING and test.name.startswith(module + ".")]
        if needed:
            item.add_marker(pytest.mark.skip(reason=_reason(needed[0])))
