"""The file that keeps an SF code session's text: read without running, saved atomically as
the user types, never overwritten when someone else changed it, never written over when it
could not be read (not UTF-8, a folder).

:class:`CodeFile` holds these rules for :class:`~slicewidgets.slicing.session.SFCodeSession`
(which derives from it); :func:`default_path` names one file per notebook.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slicewidgets.slicing._code_analysis import check_syntax

__all__ = ["CodeFile", "FileState", "atomic_write", "default_path", "notebook_path",
           "MSG_CONFLICT", "MSG_IS_DIR", "MSG_LOADED", "MSG_NOT_UTF8", "MSG_UNREADABLE",
           "MSG_UNWRITABLE"]

MSG_UNWRITABLE = (
    "Could not save the slicing functions to {path} ({err}); they are kept in memory only. "
    "Pass path= a writable file to keep them across kernel restarts."
)
MSG_NOT_UTF8 = (
    "Could not read {path}: it is not UTF-8 text ({err}). The editor starts with its default "
    "text and will not save over that file; pass path= another file, or convert it to UTF-8."
)
MSG_IS_DIR = (
    "path={path!s} is a folder, not a file; the editor keeps its text in memory only. Pass a "
    "file path, e.g. path='{path!s}/slicing_functions.py'."
)
MSG_UNREADABLE = (
    "Could not read {path} ({err}); the editor starts with its default text and will not save "
    "over that file."
)
MSG_CONFLICT = (
    "{path} was changed on disk since the editor loaded it (by another studio, notebook or "
    "person). Nothing was overwritten: the editor keeps your text, the file keeps the other. "
    "Choose: keep mine (overwrite the file) or load theirs (replace the editor's text)."
)
MSG_LOADED = (
    "Loaded {path} ({n} lines) without running it: press Apply to run its slicing functions."
)


@dataclass(frozen=True)
class FileState:
    """Where the session's text is kept.

    Attributes
    ----------
    path
        The file (``None``: memory only).
    status
        ``"none"`` (no file), ``"new"`` (not written yet), ``"loaded"`` (read, not run yet),
        ``"saved"``, ``"conflict"`` (changed on disk by someone else; see ``disk_text``),
        ``"error"`` (unreadable or unwritable; see ``message``).
    message
        A sentence for the user (empty when all is well).
    disk_text
        In a conflict: the text on disk, kept next to the session's own.
    """

    path: Path | None
    status: str
    message: str = ""
    disk_text: str | None = None


class CodeFile:
    """The file side of a code session: :attr:`path`, :attr:`text`, :attr:`file` (its
    :class:`FileState`) and the text last read or written by us (to see others' changes)."""

    path: Path | None
    text: str
    autosave: bool
    file: FileState
    load_errors: list[str]
    _known_disk: str | None
    _writable: bool

    def _read(self, path: Path) -> str | None:
        """Read ``path``; on failure set :attr:`file` to an error and return ``None``."""
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            msg = MSG_NOT_UTF8.format(path=path, err=f"byte 0x{err.object[err.start]:02x} at "
                                      f"position {err.start}")
        except IsADirectoryError:
            msg = MSG_IS_DIR.format(path=path)
        except OSError as err:
            msg = MSG_UNREADABLE.format(path=path, err=f"{type(err).__name__}: "
                                        f"{err.strerror or err}")
        self._writable = False
        self.file = FileState(path, "error", msg)
        return None

    def _load_initial(self) -> None:
        path = self.path
        assert path is not None
        if path.is_dir():
            self._writable = False
            self.file = FileState(path, "error", MSG_IS_DIR.format(path=path))
            return
        if not path.exists():
            return
        text = self._read(path)
        if text is None:
            return
        self._known_disk = text
        self.text = text
        self.load_errors = check_syntax(text)
        self.file = FileState(path, "loaded", MSG_LOADED.format(
            path=path, n=len(text.splitlines())))

    def load(self, path: str | os.PathLike | None = None) -> str | None:
        """Read the file (default: :attr:`path`) into :attr:`text` without running it."""
        path = Path(path) if path is not None else self.path
        if path is None:
            raise ValueError("SFCodeSession.load needs a path: none was given and "
                             "self.path is None.")
        text = self._read(path)
        if text is None:
            return None
        if path == self.path:
            self._known_disk = text
            self._writable = True
            self.file = FileState(path, "loaded", MSG_LOADED.format(
                path=path, n=len(text.splitlines())))
        self.text = text
        self.load_errors = check_syntax(text)
        return text

    def disk_changed(self) -> str | None:
        """The file's text if someone else changed it since we read or wrote it, else ``None``."""
        if self.path is None or not self.path.is_file():
            return None
        try:
            disk = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if disk != self._known_disk and disk != self.text:
            return disk
        return None

    def save(self, *, force: bool = False) -> FileState:
        """Write :attr:`text` to :attr:`path` atomically, unless the file was changed by
        someone else since we loaded it (then :attr:`file` is a ``"conflict"`` and nothing
        is written; ``force=True`` overwrites)."""
        path = self.path
        if path is None:
            return self.file
        if not self._writable and not force:
            return self.file
        if self.text == self._known_disk and self.file.status in ("saved", "loaded"):
            return self.file
        if not force:
            other = self.disk_changed()
            if other is not None:
                self.file = FileState(path, "conflict", MSG_CONFLICT.format(path=path),
                                      disk_text=other)
                return self.file
        try:
            atomic_write(path, self.text)
        except OSError as err:
            self.file = FileState(path, "error", MSG_UNWRITABLE.format(
                path=path, err=f"{type(err).__name__}: {err.strerror or err}"))
            return self.file
        self._known_disk = self.text
        self._writable = True
        self.file = FileState(path, "saved")
        return self.file

    def set_text(self, text: str) -> FileState:
        """New text (as typed); saved when :attr:`autosave` is on."""
        self.text = text
        if self.autosave:
            return self.save()
        return self.file

    def resolve(self, keep: str) -> FileState:
        """End a conflict: ``keep="mine"`` overwrites the file with :attr:`text`,
        ``keep="theirs"`` loads the file's text into :attr:`text` (run it with Apply)."""
        if keep == "mine":
            return self.save(force=True)
        if keep == "theirs":
            self.load()
            return self.file
        raise ValueError(f"keep must be 'mine' or 'theirs', got {keep!r}.")


def notebook_path(namespace: MutableMapping[str, Any] | None = None) -> Path | None:
    """The running notebook's path, when the frontend tells the kernel (else ``None``).

    JupyterLab and Notebook 7 set ``JPY_SESSION_NAME`` (and ``__session__``), VS Code sets
    ``__vsc_ipynb_file__``.
    """
    ns = namespace or {}
    for value in (ns.get("__vsc_ipynb_file__"), ns.get("__session__"),
                  os.environ.get("JPY_SESSION_NAME")):
        if isinstance(value, str) and value.endswith(".ipynb"):
            return Path(value)
    return None


def default_path(namespace: MutableMapping[str, Any] | None = None) -> Path | None:
    """The default file of a notebook's SFs: ``<notebook name>.sfs.py`` in the working
    folder, one per notebook, so two notebooks in a folder never share (or overwrite) a file.
    ``None`` outside a notebook (no file is written).

    Examples
    --------
    >>> default_path({"__session__": "/home/me/work/02_interactive_slicing.ipynb"})
    PosixPath('02_interactive_slicing.sfs.py')
    >>> default_path({}) is None or True
    True
    """
    nb = notebook_path(namespace)
    return Path(f"{nb.stem}.sfs.py") if nb is not None else None


def atomic_write(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, then
    ``os.replace``, so a crash of the kernel never leaves a half-written file.

    No ``fsync``: the file is rewritten as the user types, and surviving a kernel restart
    (not a power cut) is the point.
    """
    import tempfile
    from contextlib import suppress

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
