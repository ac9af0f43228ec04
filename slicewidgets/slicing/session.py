"""``SFCodeSession``: slicing functions written as code text, applied to a :class:`SliceSet`.

This is the engine of the studio's code editor, with no user interface: it takes the text,
runs it, finds the slicing functions it defines, puts the new or edited ones into the
SliceSet (recomputing only those) and removes the ones the text no longer defines. It says
what changed, and reports every error -- syntax, definition, evaluation, even ``SystemExit``
or a cancelled endless loop -- with the SF's name and line, without raising.

It also keeps the text on disk safely:

* a file is **never executed when the session is created**: its text is loaded and runs on
  :meth:`apply` (or ``run_file=True``, an explicit opt-in);
* the default file is one per notebook (``<notebook>.sfs.py``), not a shared name;
* a file changed on disk by someone else since it was loaded is **never overwritten
  silently**: :attr:`file` turns to ``"conflict"``, the session keeps its text, the disk keeps
  the other, and :meth:`resolve` picks one;
* a file that cannot be read (not UTF-8, a folder) is reported and never written over.

Applying is split in three steps so that a user interface can run the slow middle one in a
worker thread (see :class:`~slicewidgets.slicing.worker.CancellableThread`) and keep the
SliceSet untouched until the end: :meth:`plan` (run the code, find the SFs), :meth:`compute`
(evaluate the new SFs into the SliceSet's cache; slow, cancellable, changes nothing visible)
and :meth:`commit` (update the SliceSet: cache hits only, fast). :meth:`apply` does all three.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import keyword
import linecache
import os
import re
import traceback
import types
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slicewidgets._fingerprint import names_read
from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.slicing.sf import SlicingFunction, keyword_sf, regex_sf
from slicewidgets.slicing.worker import Cancelled

__all__ = ["ApplyResult", "FileState", "SFCodeSession", "atomic_write", "default_namespace",
           "default_path"]

FILENAME = "<sf-editor>"

DEFAULT_CODE = """\
# Slicing functions: each one defined here becomes a slice when you press Apply.
# This code runs in the kernel. The text is saved as you type, so a restart loses nothing.
from slicewidgets import keyword_sf, regex_sf, slicing_function

# @slicing_function()
# def short_comment(x):
#     return len(x.text.split()) < 5
"""

MSG_DUPLICATE_DEF = (
    "Duplicate slicing function: {var!r} is defined {count} times (lines {lines}); only the "
    "last one would be kept. Rename or delete the others."
)
MSG_DUPLICATE_NAME = (
    "Duplicate slicing function name {name!r}: {where}. Give each SF its own name "
    "(@slicing_function(name=...) or name=...)."
)
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
MSG_SHADOWS = (
    "{name!r} replaces the slicing function of that name that was given to the studio (sfs=); "
    "deleting it from the editor brings the original back."
)


@dataclass
class ApplyResult:
    """What one Apply did.

    Attributes
    ----------
    ok
        The code compiled and ran, and every SF was applied.
    added, changed, removed, unchanged
        Slice names, by what happened to them in the SliceSet.
    errors
        Error messages (syntax, definition, evaluation, duplicates), with names and lines.
    warnings
        Fault messages of SFs that raised on some rows (those rows count as outside), notes.
    interrupted
        A ``KeyboardInterrupt`` or a cancel stopped the Apply; the SliceSet is unchanged.
    cancelled
        It was a cancel (:class:`~slicewidgets.slicing.worker.Cancelled`).
    error_lines
        ``{line: message}`` of the errors that point at a line (for an editor's gutter).
    """

    ok: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    cancelled: bool = False
    error_lines: dict[int, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """``"Applied: 2 added, 1 unchanged"``, ``"Not applied"``, ``"Cancelled"`` ..."""
        if self.cancelled:
            return "Cancelled: nothing was changed"
        if self.interrupted:
            return "Interrupted: nothing was changed"
        if self.ok:
            counts = [f"{len(v)} {k}" for k, v in (
                ("added", self.added), ("changed", self.changed),
                ("removed", self.removed), ("unchanged", self.unchanged)) if v]
            return "Applied: " + (", ".join(counts) if counts else "no slicing functions")
        if self.added or self.changed or self.removed:
            return "Partly applied"
        return "Not applied"


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


@dataclass
class Plan:
    """The result of running the code: the SFs it defines and what to do with them."""

    text: str
    result: ApplyResult
    found: list[tuple[SlicingFunction, str, int]] = field(default_factory=list)
    fps: dict[str, str] = field(default_factory=dict)
    helpers: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    todo: list[SlicingFunction] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    stale_helpers: set[str] = field(default_factory=set)


# ---------------------------------------------------------------------------------------------
# namespaces and file names


def default_namespace() -> dict[str, Any]:
    """The IPython user namespace if running in IPython, else a fresh module namespace.

    ``slicing_function``, ``keyword_sf``, ``regex_sf``, ``preprocessor`` and ``re`` are
    added when missing, so code written in the editor runs unchanged after a kernel restart.
    """
    ns: dict[str, Any] | None = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            ns = shell.user_ns
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        pass
    if ns is None:
        ns = {"__name__": "__sf_editor__"}
    preload(ns)
    return ns


def preload(ns: MutableMapping[str, Any]) -> None:
    """Add the SF builders (and ``re``) to ``ns`` where the names are free."""
    from slicewidgets.preprocess import preprocessor
    from slicewidgets.slicing.sf import slicing_function

    for key, value in (("slicing_function", slicing_function), ("keyword_sf", keyword_sf),
                       ("regex_sf", regex_sf), ("preprocessor", preprocessor), ("re", re)):
        ns.setdefault(key, value)


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


# ---------------------------------------------------------------------------------------------
# static analysis of the code


@dataclass
class _Binding:
    var: str
    lines: list[int]  # line of each top-level statement binding `var`
    stmts: list[ast.stmt]


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _target_names(elt)]
    return []


def _stmt_names(stmt: ast.stmt | None) -> list[str]:
    if stmt is None:
        return []
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [n for t in stmt.targets for n in _target_names(t)]
    if isinstance(stmt, ast.AnnAssign):
        return _target_names(stmt.target)
    return []


def _bindings(tree: ast.Module) -> dict[str, _Binding]:
    """Top-level names bound by defs and assignments, with their lines, in order."""
    out: dict[str, _Binding] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            continue
        for name in _stmt_names(stmt):
            b = out.setdefault(name, _Binding(name, [], []))
            b.lines.append(stmt.lineno)
            b.stmts.append(stmt)
    return out


def _stmt_at(tree: ast.Module, line: int) -> ast.stmt | None:
    for stmt in tree.body:
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        if start <= line <= (stmt.end_lineno or stmt.lineno):
            return stmt
    return None


_DEF_RE = re.compile(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=[^=]")


def _guess_name(lines: list[str], line: int) -> str | None:
    """For a syntax error: the def/assignment that starts at or above ``line``."""
    for i in range(min(line, len(lines)) - 1, -1, -1):
        m = _DEF_RE.match(lines[i])
        if m:
            return m.group(1) or m.group(2)
        if lines[i].strip() and not lines[i][0].isspace() and not lines[i].startswith(("@", "#")):
            return None
    return None


def _sf_functions(sf: SlicingFunction) -> list[Any]:
    funcs: list[Any] = [sf._f]
    funcs += [getattr(p, "_f", getattr(p, "f", None)) for p in getattr(sf, "_pre", [])]
    for operand in getattr(sf, "operands", []):
        funcs += _sf_functions(operand)
    return [f for f in funcs if isinstance(f, types.FunctionType)]


def _helper_source(sf: SlicingFunction, bindings: dict[str, _Binding], text: str) -> str:
    """Source of the editor-defined names (helpers, constants) that the SF's code reads.

    Fingerprints follow an SF's own code, not the helpers it calls by name: an edited helper
    must trigger a recomputation anyway.
    """
    read: set[str] = set()
    for f in _sf_functions(sf):
        read |= names_read(f.__code__)
    parts = []
    for var in sorted(read & set(bindings)):
        for stmt in bindings[var].stmts:
            parts.append(ast.get_source_segment(text, stmt) or "")
    return "\0".join(parts)


def _hash(*parts: str) -> str:
    return hashlib.blake2b("\0\0".join(parts).encode(), digest_size=16).hexdigest()


def syntax_message(err: SyntaxError, lines: list[str]) -> tuple[int, str]:
    """``(line, message)`` of a syntax error, naming the SF being defined."""
    line = err.lineno or 0
    name = _guess_name(lines, line) if line else None
    src = lines[line - 1] if 0 < line <= len(lines) else (err.text or "").rstrip("\n")
    caret = ""
    if err.offset and src:
        caret = "\n    " + " " * (err.offset - 1) + "^"
    where = f" in {name}" if name else ""
    return line, (f"SyntaxError{where} (line {line}): {err.msg}\n    {src}{caret}\n"
                  "Nothing was applied; fix the line and press Apply.")


# ---------------------------------------------------------------------------------------------


class SFCodeSession:
    """Slicing functions as code text, applied to a :class:`SliceSet`; no user interface.

    Parameters
    ----------
    slice_set
        The SliceSet the SFs go into. SFs already in it (``sfs=`` of a studio) are not the
        session's: code that defines one of the same name replaces it until that code is
        deleted, and then the original comes back.
    namespace
        Where the code runs (default: the IPython user namespace, or a fresh one).
    path
        The file the text is kept in; ``"auto"`` (default): :func:`default_path`, one file
        per notebook (``None`` outside a notebook); ``None``: memory only.
    autosave
        :meth:`set_text` saves (the editor calls it as the user types).
    run_file
        Run the file's code at once (opt-in; by default a file is loaded, never executed,
        until :meth:`apply`).
    text
        Initial text when there is no file to load (default: a commented example).

    Attributes
    ----------
    text : str
        The current text.
    file : FileState
    last_result : ApplyResult
    applied_text : str or None
        Text of the last successful Apply.
    load_errors : list of str
        Syntax errors of the loaded file (found without running it).

    Examples
    --------
    >>> import pandas as pd
    >>> ss = SliceSet(pd.DataFrame({"text": ["check it out", "nice song"]}))
    >>> session = SFCodeSession(ss, {}, path=None)
    >>> session.apply("check = keyword_sf(['check'], name='check')").summary
    'Applied: 1 added'
    >>> ss.sizes()
    {'check': 1}
    >>> r = session.apply("import sys\\nsys.exit(1)")
    >>> r.errors[0].splitlines()[0]
    'SystemExit (line 2): 1 (sys.exit() or exit() in the code: the kernel keeps running)'
    >>> ss.sizes()
    {'check': 1}
    """

    def __init__(
        self,
        slice_set: SliceSet,
        namespace: MutableMapping[str, Any] | None = None,
        *,
        path: str | os.PathLike | None = "auto",
        autosave: bool = True,
        run_file: bool = False,
        text: str = DEFAULT_CODE,
    ) -> None:
        self.slice_set = slice_set
        if namespace is None:
            namespace = default_namespace()
        elif not isinstance(namespace, dict):  # exec() runs code in a dict of globals only
            raise TypeError(
                f"SFCodeSession: namespace must be a dict (the globals the code runs in), got "
                f"{type(namespace).__name__}; pass dict(namespace), or globals() in a notebook.")
        else:
            preload(namespace)
        self.namespace: dict[str, Any] = namespace
        if isinstance(path, str) and path == "auto":
            path = default_path(namespace)
        self.path = Path(path) if path is not None else None
        self.autosave = autosave
        self.text = text
        self.last_result = ApplyResult()
        self.applied_text: str | None = None
        self.load_errors: list[str] = []
        self.current: str | None = None  # the SF being evaluated (for messages)
        self._owned: dict[str, str] = {}  # slice name -> session fingerprint
        self._helpers: dict[str, str] = {}  # slice name -> source of the helpers it calls
        self._shadowed: dict[str, tuple[SlicingFunction, bool]] = {}  # sfs= SFs replaced
        self._sf_lines: dict[str, int] = {}
        self._known_disk: str | None = None  # file text as last read or written by us
        self._writable = True
        self.file = FileState(self.path, "none" if self.path is None else "new")
        if self.path is not None:
            self._load_initial()
        if run_file and self.file.status == "loaded":
            self.apply()

    # -- files --------------------------------------------------------------------------------
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
        self.load_errors = self.check_syntax(text)
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
        self.load_errors = self.check_syntax(text)
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

    # -- analysis -----------------------------------------------------------------------------
    @staticmethod
    def check_syntax(text: str) -> list[str]:
        """Syntax errors of ``text`` (parsed, never run)."""
        try:
            ast.parse(text, FILENAME)
        except SyntaxError as err:
            return [syntax_message(err, text.splitlines())[1]]
        return []

    @property
    def sf_names(self) -> list[str]:
        """Names of the slices defined by the session's code."""
        return list(self._owned)

    @property
    def sf_lines(self) -> dict[str, int]:
        """Line of the definition of each SF of the last Apply."""
        return dict(self._sf_lines)

    # -- apply --------------------------------------------------------------------------------
    def apply(self, text: str | None = None, *,
              progress: Callable[[int, int, str], None] | None = None,
              batch: Callable[[], Any] | None = None) -> ApplyResult:
        """Run the code and update the SliceSet; errors are reported, never raised.

        ``progress(done, total, name)`` is called before each SF is evaluated; ``batch`` is a
        context manager factory wrapped around the SliceSet updates (the widgets deliver
        their events once).
        """
        plan = self.plan(text)
        if not plan.result.errors and not plan.result.interrupted:
            self.compute(plan, progress=progress)
        return self.commit(plan, batch=batch)

    def plan(self, text: str | None = None) -> Plan:
        """Run the code in the namespace and find its SFs (may run user code for long)."""
        if text is not None:
            self.set_text(text)
        text = self.text
        plan = Plan(text, ApplyResult())
        result = plan.result
        lines = text.splitlines()
        linecache.cache[FILENAME] = (len(text), None, [ln + "\n" for ln in lines], FILENAME)
        try:
            tree = ast.parse(text, FILENAME)
        except SyntaxError as err:
            line, msg = syntax_message(err, lines)
            result.errors.append(msg)
            result.error_lines[line] = msg
            return plan
        code = compile(tree, FILENAME, "exec")
        ns = self.namespace
        self.current = None
        try:
            exec(code, ns)  # noqa: S102 - running the user's own code is the point
        except (KeyboardInterrupt, Cancelled) as err:
            result.interrupted = True
            result.cancelled = isinstance(err, Cancelled)
            how = "Cancel" if result.cancelled else "Interrupt kernel"
            result.errors.append(
                f"{'Cancelled' if result.cancelled else 'Interrupted'}: Apply was stopped "
                f"({how}) while running the code{self._where(err, tree)}. Nothing was "
                "changed; fix the code (does it loop forever?) and press Apply.")
            return plan
        except BaseException as err:  # noqa: BLE001 - SystemExit too: shown, never raised
            failing_line, msg = self._exec_message(err, tree, lines)
            result.errors.append(msg)
            if failing_line:
                result.error_lines[failing_line] = msg
            return plan

        bindings = _bindings(tree)
        found: list[tuple[SlicingFunction, str, int]] = []
        seen: set[int] = set()
        for var, b in bindings.items():
            value = ns.get(var)
            items = (value if isinstance(value, (list, tuple)) else
                     list(value.values()) if isinstance(value, dict) else [value])
            for item in items:
                if isinstance(item, SlicingFunction) and id(item) not in seen:
                    seen.add(id(item))
                    found.append((item, var, b.lines[-1]))
        for var, b in bindings.items():
            if len(b.lines) > 1 and isinstance(ns.get(var), SlicingFunction) and any(
                isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) or
                isinstance(getattr(s, "value", None), ast.Call) for s in b.stmts
            ):
                msg = MSG_DUPLICATE_DEF.format(var=var, count=len(b.lines),
                                               lines=", ".join(map(str, b.lines)))
                result.errors.append(msg)
                result.error_lines[b.lines[-1]] = msg
        by_name: dict[str, list[tuple[str, int]]] = {}
        for sf, var, line in found:
            by_name.setdefault(sf.name, []).append((var, line))
        for name, where in by_name.items():
            if len(where) > 1:
                msg = MSG_DUPLICATE_NAME.format(
                    name=name, where=" and ".join(f"{v!r} on line {ln}" for v, ln in where))
                result.errors.append(msg)
                result.error_lines[where[-1][1]] = msg
        if result.errors:
            return plan

        plan.found = found
        plan.helpers = {sf.name: _helper_source(sf, bindings, text) for sf, _, _ in found}
        plan.fps = {sf.name: _hash(sf.fingerprint, plan.helpers[sf.name]) for sf, _, _ in found}
        plan.lines = {sf.name: line for sf, _, line in found}
        ss = self.slice_set
        for sf, _, _ in found:
            if sf.name in ss and self._owned.get(sf.name) == plan.fps[sf.name]:
                result.unchanged.append(sf.name)
            else:
                plan.todo.append(sf)
                if plan.helpers[sf.name] and self._helpers.get(sf.name, "") != \
                        plan.helpers[sf.name]:
                    plan.stale_helpers.add(sf.name)
        return plan

    def compute(self, plan: Plan, *,
                progress: Callable[[int, int, str], None] | None = None) -> None:
        """Evaluate the plan's new or edited SFs into the SliceSet's cache (the slow step;
        nothing visible changes). A cancel or interrupt marks the plan interrupted."""
        ss = self.slice_set
        result = plan.result
        total = len(plan.todo)
        try:
            for i, sf in enumerate(plan.todo):
                self.current = sf.name
                if progress is not None:
                    progress(i, total, sf.name)
                try:
                    if sf.name in plan.stale_helpers:
                        # same SF code, but a helper it calls was edited: a cached mask of
                        # this fingerprint is stale (fingerprints don't follow helpers)
                        ss._cache.pop(sf.fingerprint, None)
                    ss._compute_many([sf])
                except (KeyboardInterrupt, Cancelled):
                    raise
                except BaseException as err:  # noqa: BLE001 - SystemExit too: shown
                    existed = sf.name in ss
                    line = plan.lines.get(sf.name)
                    msg = (f"Error in {sf.name} (line {line}): {type(err).__name__}: {err}"
                           + (" The previous version is kept." if existed else ""))
                    result.errors.append(msg)
                    if line:
                        result.error_lines[line] = msg
                    plan.failed.add(sf.name)
            if progress is not None:
                progress(total, total, "")
        except (KeyboardInterrupt, Cancelled) as err:
            result.interrupted = True
            result.cancelled = isinstance(err, Cancelled)
            name = self.current
            line = plan.lines.get(name) if name else None
            what = f"{name} (line {line})" if name else "the slicing functions"
            how = "Cancel" if result.cancelled else "Interrupt kernel"
            msg = (f"{'Cancelled' if result.cancelled else 'Interrupted'} while applying "
                   f"{what} ({how}). Nothing was changed: every slice keeps its previous "
                   "version. Fix the SF (does it never return?) and press Apply.")
            result.errors.append(msg)
            if line:
                result.error_lines[line] = msg
        finally:
            self.current = None

    def commit(self, plan: Plan, *, batch: Callable[[], Any] | None = None) -> ApplyResult:
        """Update the SliceSet from a computed plan (cache hits only: fast)."""
        result = plan.result
        if result.interrupted or (result.errors and not plan.found):
            return self._finish(plan)
        from contextlib import nullcontext

        ss = self.slice_set
        with (batch() if batch is not None else nullcontext()):
            for name in list(self._owned):
                if name not in ss:  # removed by someone else
                    del self._owned[name]
                    self._shadowed.pop(name, None)
            for name in [n for n in self._owned if n not in plan.fps]:
                del self._owned[name]
                self._helpers.pop(name, None)
                original = self._shadowed.pop(name, None)
                if original is not None:
                    ss.update(original[0], enabled=original[1])
                    result.changed.append(name)
                else:
                    ss.remove(name)
                    result.removed.append(name)
            for sf in plan.todo:
                if sf.name in plan.failed:
                    continue
                existed = sf.name in ss
                if existed and sf.name not in self._owned and sf.name not in self._shadowed:
                    self._shadowed[sf.name] = (ss[sf.name], ss.is_enabled(sf.name))
                    result.warnings.append(MSG_SHADOWS.format(name=sf.name))
                ss.update(sf)
                self._owned[sf.name] = plan.fps[sf.name]
                self._helpers[sf.name] = plan.helpers[sf.name]
                (result.changed if existed else result.added).append(sf.name)
            self._sf_lines = dict(plan.lines)
        n_rows = len(ss.df)
        for name in self._owned:
            msg = self.fault_message(name)
            if not msg:
                continue
            line = self._sf_lines.get(name)
            if n_rows and ss.errors[name].faults[name] >= n_rows:
                # failing everywhere is a bug in the SF, not a data quirk: say it loudly
                msg += " It failed on every row, so its slice is empty."
                result.errors.append(msg)
                if line:
                    result.error_lines[line] = msg
            else:
                result.warnings.append(msg)
        return self._finish(plan)

    def _finish(self, plan: Plan) -> ApplyResult:
        result = plan.result
        result.ok = not result.errors and not result.interrupted
        if result.ok:
            self.applied_text = plan.text
        self.last_result = result
        return result

    # -- messages -----------------------------------------------------------------------------
    @staticmethod
    def _where(err: BaseException, tree: ast.Module) -> str:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == FILENAME]
        if not frames:
            return ""
        names = _stmt_names(_stmt_at(tree, frames[0].lineno or 0))
        name = f" in {names[0]}" if names else ""
        return f"{name} (line {frames[-1].lineno})"

    @staticmethod
    def _exec_message(err: BaseException, tree: ast.Module,
                      lines: list[str]) -> tuple[int | None, str]:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == FILENAME]
        line = frames[-1].lineno if frames else None
        top = frames[0].lineno if frames else None
        names = _stmt_names(_stmt_at(tree, top)) if top else []
        where = f" in {names[0]}" if names else ""
        src = f"\n    {lines[line - 1].strip()}" if line and 0 < line <= len(lines) else ""
        hint = ""
        if isinstance(err, SystemExit):
            hint = " (sys.exit() or exit() in the code: the kernel keeps running)"
        return line, (f"{type(err).__name__}{where} (line {line}): {err}{hint}{src}\n"
                      "Nothing was applied; fix the code and press Apply.")

    def fault_message(self, name: str) -> str | None:
        """The message of an SF that raised on some rows (``None`` if it did not)."""
        meta = self.slice_set.errors.get(name)
        if meta is None or not meta.faults.get(name):
            return None
        count = meta.faults[name]
        n = len(self.slice_set.df)
        first = meta.errors.get(name, "")
        kind, _, detail = first.partition(": ")
        rows = meta.fault_rows.get(name) or []
        line = self._sf_lines.get(name)
        at = f" (line {line})" if line else ""
        example = ""
        if rows and rows[0] is not None:
            example = f", e.g. the row with index {rows[0]!r}"
        elif rows:
            example = " (the whole DataFrame: a vectorized SF)"
        return (f"{name}{at} raised {kind or 'an error'} on {count:,} of {n:,} rows"
                f"{example}: {(detail or first).rstrip('.')}. Those rows count as outside the "
                "slice; the other rows and slices are scored.")

    # -- the keyword / regex form -------------------------------------------------------------
    def form_code(self, kind: str, pattern: str, *, name: str | None = None,
                  column: str = "text", ignore_case: bool = True) -> tuple[SlicingFunction, str]:
        """The SF and the line of code for a keyword/regex form entry.

        The variable the line binds is never a name already used for something that is not
        a slicing function (``df``, ``re``, ...): ``name="df"`` binds ``df_sf``.

        Raises
        ------
        ValueError
            Empty keywords, an invalid regular expression, a slice name already taken.
        """
        sf: SlicingFunction
        if kind == "keyword":
            keywords = [k.strip() for k in pattern.split(",") if k.strip()]
            if not keywords:
                raise ValueError("Enter at least one keyword (comma-separated), e.g. "
                                 "'please, plz'.")
            sf = keyword_sf(keywords, name=name, column=column, case=not ignore_case)
            args = [repr(keywords)]
            if name:
                args.append(f"name={name!r}")
            if column != "text":
                args.append(f"column={column!r}")
            if not ignore_case:
                args.append("case=True")
            call = f"keyword_sf({', '.join(args)})"
        elif kind == "regex":
            if not pattern:
                raise ValueError("Enter a regular expression, e.g. 'check.*out'.")
            try:
                sf = regex_sf(pattern, name=name, column=column,
                              flags=re.IGNORECASE if ignore_case else 0)
            except re.error as err:  # the core already says ValueError; just in case
                raise ValueError(f"Invalid regular expression {pattern!r}: {err}.") from None
            args = [repr(pattern)]
            if name:
                args.append(f"name={name!r}")
            if column != "text":
                args.append(f"column={column!r}")
            if ignore_case:
                args.append("flags=re.IGNORECASE")
            call = f"regex_sf({', '.join(args)})"
        else:
            raise ValueError(f"kind must be 'keyword' or 'regex', got {kind!r}.")
        if sf.name in self.slice_set:
            raise ValueError(f"A slice named {sf.name!r} already exists; choose another name.")
        return sf, f"{self.free_variable(sf.name)} = {call}\n"

    def free_variable(self, name: str) -> str:
        """A variable name for the SF ``name`` that binds over nothing but a slicing function."""
        base = re.sub(r"\W", "_", name)
        if not base.isidentifier() or keyword.iskeyword(base):
            base = "sf_" + base
        try:
            text_names = set(_bindings(ast.parse(self.text)))
        except SyntaxError:
            text_names = set()
        candidate, i = base, 1
        while True:
            value = self.namespace.get(candidate)
            taken = (candidate in text_names or candidate in vars(builtins)
                     or (candidate in self.namespace and not isinstance(value, SlicingFunction)))
            if not taken:
                return candidate
            candidate = f"{base}_sf" if i == 1 else f"{base}_sf{i}"
            i += 1

    def add_form_sf(self, kind: str, pattern: str, **kwargs: Any) -> ApplyResult:
        """Append the form's line to the text and apply it (errors raise ``ValueError``)."""
        _, line = self.form_code(kind, pattern, **kwargs)
        text = self.text
        if text and not text.endswith("\n"):
            text += "\n"
        return self.apply(text + line)

    @property
    def owned(self) -> dict[str, str]:
        return dict(self._owned)


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
