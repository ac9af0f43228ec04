"""Lazy attributes for the package's ``__init__`` files (PEP 562), written once.

``import slicewidgets`` must not import torch, ipywidgets, matplotlib or scipy; the names that
need them are attributes resolved on first use. Each ``__init__`` lists them in a ``_LAZY``
dict ``{name: module}`` and repeats the imports under ``typing.TYPE_CHECKING`` so that type
checkers and IDEs see them; :func:`lazy_attributes` gives the module's ``__getattr__`` and a
``__dir__`` that lists the lazy names too.

(``lazy_loader`` does the same from ``.pyi`` stubs, but its error message for an unknown name
is not Python's ``module 'x' has no attribute 'y'``, which users and tests rely on.)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    module_name: str, lazy: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for module ``module_name`` with the ``lazy`` names.

    Examples
    --------
    >>> getattr_, dir_ = lazy_attributes("slicewidgets", {"SliceStudio": "slicewidgets.widgets"})
    >>> "SliceStudio" in dir_()
    True
    >>> getattr_("nope")
    Traceback (most recent call last):
    ...
    AttributeError: module 'slicewidgets' has no attribute 'nope'
    """

    def __getattr__(name: str) -> Any:
        if name in lazy:
            return getattr(importlib.import_module(lazy[name]), name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module_name])) | set(lazy))

    return __getattr__, __dir__
