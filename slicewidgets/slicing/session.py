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
import keyword
import linecache
import os
import re
import traceback
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slicewidgets.slicing._code_analysis import (
    FILENAME,
    check_syntax,
    content_hash,
    find_bindings,
    form_call,
    helper_source,
    stmt_at,
    stmt_names,
    syntax_message,
)
from slicewidgets.slicing._code_file import (
    MSG_CONFLICT,
    MSG_IS_DIR,
    MSG_LOADED,
    MSG_NOT_UTF8,
    MSG_UNREADABLE,
    MSG_UNWRITABLE,
    CodeFile,
    FileState,
    atomic_write,
    default_path,
    notebook_path,
)
from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.slicing.sf import SlicingFunction, keyword_sf, regex_sf
from slicewidgets.slicing.worker import Cancelled

__all__ = ["ApplyResult", "FileState", "SFCodeSession", "atomic_write", "default_namespace",
           "default_path", "notebook_path", "preload", "DEFAULT_CODE", "MSG_CONFLICT",
           "MSG_DUPLICATE_DEF", "MSG_DUPLICATE_NAME", "MSG_IS_DIR", "MSG_LOADED", "MSG_NOT_UTF8",
           "MSG_SHADOWS", "MSG_UNREADABLE", "MSG_UNWRITABLE"]

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


# ---------------------------------------------------------------------------------------------


class SFCodeSession(CodeFile):
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

    # -- analysis -----------------------------------------------------------------------------
    check_syntax = staticmethod(check_syntax)

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

        bindings = find_bindings(tree)
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
        plan.helpers = {sf.name: helper_source(sf, bindings, text) for sf, _, _ in found}
        plan.fps = {sf.name: content_hash(sf.fingerprint, plan.helpers[sf.name]) for sf, _, _ in found}
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
                    # same SF code but an edited helper: a cached mask of this fingerprint
                    # is stale (fingerprints don't follow helpers), so compute it afresh
                    ss.precompute([sf], fresh=sf.name in plan.stale_helpers)
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
        names = stmt_names(stmt_at(tree, frames[0].lineno or 0))
        name = f" in {names[0]}" if names else ""
        return f"{name} (line {frames[-1].lineno})"

    @staticmethod
    def _exec_message(err: BaseException, tree: ast.Module,
                      lines: list[str]) -> tuple[int | None, str]:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == FILENAME]
        line = frames[-1].lineno if frames else None
        top = frames[0].lineno if frames else None
        names = stmt_names(stmt_at(tree, top)) if top else []
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
        sf, call = form_call(kind, pattern, name=name, column=column, ignore_case=ignore_case)
        if sf.name in self.slice_set:
            raise ValueError(f"A slice named {sf.name!r} already exists; choose another name.")
        return sf, f"{self.free_variable(sf.name)} = {call}\n"

    def free_variable(self, name: str) -> str:
        """A variable name for the SF ``name`` that binds over nothing but a slicing function."""
        base = re.sub(r"\W", "_", name)
        if not base.isidentifier() or keyword.iskeyword(base):
            base = "sf_" + base
        try:
            text_names = set(find_bindings(ast.parse(self.text)))
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
