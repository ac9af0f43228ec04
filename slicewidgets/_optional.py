"""Optional dependencies: the one place that knows which extra installs which package.

The core of slicewidgets (slicing, scoring, reports, the studio) needs only the light
dependencies of ``pip install slicewidgets``. Heavier parts live in extras: ``learn`` (torch, for
slice-aware learning), ``tutorial`` (TextBlob, for the tutorial's sentiment SF), ``dask``,
``spark``, ``nlp`` (spaCy), ``lab`` (JupyterLab). Every place that imports one of these packages
goes through :func:`import_optional` (inside a function) or :func:`missing_extra` (around a
module-level import), so a missing package gives one clear message naming the extra to install::

    try:
        import torch
    except ModuleNotFoundError as err:
        raise missing_extra(err, purpose="slicewidgets.classification") from None

This module imports nothing heavy and nothing else from slicewidgets.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "import_optional", "missing_extra"]

#: Top-level package -> the extra of slicewidgets that installs it.
EXTRAS: dict[str, str] = {
    "torch": "learn",
    "textblob": "tutorial",
    "dask": "dask",
    "distributed": "dask",
    "pyspark": "spark",
    "spacy": "nlp",
    "tensorboard": "tensorboard",
    "jupyterlab": "lab",
    "ipykernel": "lab",
}

#: Said after the pip command for torch: the default Linux wheel pulls several GB of CUDA.
_TORCH_CPU_HINT = (
    " On Linux without a GPU, install the CPU-only build first (about 200 MB instead of several "
    "GB of CUDA libraries): pip install torch --index-url https://download.pytorch.org/whl/cpu"
)

MISSING_EXTRA = (
    "{purpose} needs {package}, which is not installed in this Python environment ({python}). "
    "Install the '{extra}' extra: pip install \"slicewidgets[{extra}]\" (in a notebook: "
    "%pip install \"slicewidgets[{extra}]\", then restart the kernel).{hint}"
)


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is missing; the message names the extra that installs it.

    A :class:`ModuleNotFoundError` (hence an :class:`ImportError`), so ``except ImportError`` and
    ``pytest.importorskip`` keep working. ``name`` is the missing package, ``extra`` the extra.
    """

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        hint = _TORCH_CPU_HINT if package == "torch" else ""
        message = MISSING_EXTRA.format(
            purpose=purpose, package=package, python=sys.executable, extra=extra, hint=hint
        )
        super().__init__(message, name=package)
        self.extra = extra


def _extra_for(package: str, extra: str | None) -> str | None:
    return extra if extra is not None else EXTRAS.get(package.split(".")[0])


def missing_extra(
    err: ModuleNotFoundError, *, purpose: str, extra: str | None = None
) -> ModuleNotFoundError:
    """Turn a failed import of an optional package into a :class:`MissingExtraError`.

    Parameters
    ----------
    err
        The :class:`ModuleNotFoundError` raised by the import.
    purpose
        What needs the package, as the user knows it, e.g. ``"slicewidgets.classification"``.
    extra
        The extra that installs it; by default looked up in :data:`EXTRAS`.

    Returns
    -------
    ModuleNotFoundError
        A :class:`MissingExtraError` if the missing module is one an extra installs, else ``err``
        itself (a module missing *inside* an installed package is a different problem, and its
        own message is the useful one). Raise it ``from None``.

    Examples
    --------
    >>> try:
    ...     import torch_that_does_not_exist
    ... except ModuleNotFoundError as err:
    ...     print(type(missing_extra(err, purpose="demo", extra="learn")).__name__)
    MissingExtraError
    """
    package = (err.name or "").split(".")[0]
    chosen = _extra_for(package, extra)
    if not package or chosen is None:
        return err
    return MissingExtraError(package, chosen, purpose)


def import_optional(name: str, *, purpose: str, extra: str | None = None) -> ModuleType:
    """Import an optional module, or raise an error that names the extra to install.

    Parameters
    ----------
    name
        The module to import, e.g. ``"torch"`` or ``"dask.dataframe"``.
    purpose
        What needs it, as the user knows it (``"SliceAwareClassifier"``).
    extra
        The extra that installs it; by default looked up in :data:`EXTRAS` by the top-level
        package name.

    Returns
    -------
    types.ModuleType
        The imported module.

    Raises
    ------
    MissingExtraError
        If the module (or its top-level package) is not installed.

    Examples
    --------
    >>> import_optional("json", purpose="this example").__name__
    'json'
    >>> import_optional("no_such_pkg", purpose="This example", extra="learn")
    Traceback (most recent call last):
    ...
    slicewidgets._optional.MissingExtraError: This example needs no_such_pkg, ...
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name.split(".")[0]:
            raise  # the package is there, but something it needs is not: keep its own message
        raise missing_extra(err, purpose=purpose, extra=extra) from None
