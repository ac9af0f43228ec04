"""``SFEditor``: write slicing functions in a code area, apply them live, keep them on disk."""

from __future__ import annotations

import ast
import hashlib
import keyword
import linecache
import re
import types
import warnings
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.slicing.sf import SlicingFunction, keyword_sf, regex_sf
from slicewidgets.widgets import _style
from slicewidgets.widgets._util import SliceSetHub, WidgetBase, atomic_write, escape, pre

__all__ = ["SFEditor", "ApplyResult"]

FILENAME = "<sf-editor>"

DEFAULT_CODE = """\
# Slicing functions: each one defined here becomes a slice when you press Apply.
# The text is saved as you type, so a kernel restart loses nothing.
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
        Error messages shown inline (syntax, definition, evaluation, duplicates).
    warnings
        Fault messages of SFs that raised on some rows (those rows count as outside).
    interrupted
        A KeyboardInterrupt stopped the Apply.
    """

    ok: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False


def default_namespace() -> MutableMapping[str, Any]:
    """The IPython user namespace if running in IPython, else a fresh module namespace.

    ``slicing_function``, ``keyword_sf``, ``regex_sf``, ``preprocessor`` and ``re`` are
    added when missing, so code written in the editor runs unchanged after a kernel restart.
    """
    ns: MutableMapping[str, Any] | None = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            ns = shell.user_ns
    except ImportError:  # pragma: no cover - IPython ships with ipywidgets
        pass
    if ns is None:
        ns = {"__name__": "__sf_editor__"}
    _preload(ns)
    return ns


def _preload(ns: MutableMapping[str, Any]) -> None:
    from slicewidgets.preprocess import preprocessor
    from slicewidgets.slicing.sf import slicing_function

    for key, value in (("slicing_function", slicing_function), ("keyword_sf", keyword_sf),
                       ("regex_sf", regex_sf), ("preprocessor", preprocessor), ("re", re)):
        ns.setdefault(key, value)


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


def _bindings(tree: ast.Module) -> dict[str, _Binding]:
    """Top-level names bound by defs and assignments, with their lines, in order."""
    out: dict[str, _Binding] = {}
    for stmt in tree.body:
        names: list[str] = []
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [stmt.name]
        elif isinstance(stmt, ast.Assign):
            names = [n for t in stmt.targets for n in _target_names(t)]
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            names = _target_names(stmt.target)
        for name in names:
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


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _sf_functions(sf: SlicingFunction) -> list[Any]:
    funcs = [sf._f]
    funcs += [getattr(p, "_f", getattr(p, "f", None)) for p in getattr(sf, "_pre", [])]
    for operand in getattr(sf, "operands", []):
        funcs += _sf_functions(operand)
    return [f for f in funcs if isinstance(f, types.FunctionType)]


# ---------------------------------------------------------------------------------------------


class SFEditor(WidgetBase):
    """A code area for slicing functions, applied to a :class:`SliceSet` with one click.

    Apply runs the code in ``namespace`` and puts every :class:`SlicingFunction` it defines
    into the SliceSet (only new or edited ones are recomputed); SFs the code no longer
    defines are removed. Errors are shown inline with the SF's name and line; SFs that raise
    on some rows are applied and their failures counted. The text is saved to ``path``
    (atomically) as it changes and reloaded from it, so a kernel restart loses nothing.

    Parameters
    ----------
    slice_set
        The SliceSet the SFs go into (shared with the other widgets of a studio).
    namespace
        Where the code runs (default: the IPython user namespace, or a fresh one).
    path
        The ``.py`` file the code is saved to and loaded from; ``None``: no file.
    autosave
        Save as the text changes (and on each Apply).
    columns
        Columns offered in the keyword/regex form (default: the text columns of the data).

    Attributes
    ----------
    code : ipywidgets.Textarea
    apply_button : ipywidgets.Button
    error : ipywidgets.HTML
        Inline errors and warnings (empty when there is none).
    status : ipywidgets.HTML
    form_kind, form_name, form_pattern, form_column, form_ignore_case, add_button
        The keyword/regex form.
    last_result : ApplyResult

    Examples
    --------
    >>> import pandas as pd
    >>> from slicewidgets.slicing import SliceSet
    >>> ss = SliceSet(pd.DataFrame({"text": ["check it out", "nice song"]}))
    >>> editor = SFEditor(ss, path=None)
    >>> editor.code.value = "short = keyword_sf(['check'], name='check')"
    >>> editor.apply_button.click()
    >>> ss.sizes()
    {'check': 1}
    """

    def __init__(
        self,
        slice_set: SliceSet,
        namespace: MutableMapping[str, Any] | None = None,
        path: str | Path | None = "slicing_functions.py",
        autosave: bool = True,
        *,
        columns: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.slice_set = slice_set
        self._hub = SliceSetHub.of(slice_set)
        if namespace is None:
            namespace = default_namespace()
        else:
            _preload(namespace)
        self.namespace = namespace
        self.path = Path(path) if path is not None else None
        self.autosave = autosave
        self.last_result = ApplyResult()
        self.save_error: str | None = None
        self.applied_code: str | None = None  # text of the last successful Apply
        self._owned: dict[str, str] = {}  # slice name -> editor fingerprint
        self._helpers: dict[str, str] = {}  # slice name -> source of the helpers it calls
        self._sf_lines: dict[str, int] = {}
        self._warned: set[str] = set()
        self._loading = False
        self._saved_text: str | None = None

        self.code = widgets.Textarea(
            value=DEFAULT_CODE, rows=16, layout=widgets.Layout(width="100%", height="260px"),
        )
        self.code.add_class(_style.EDITOR_CODE)
        self.apply_button = widgets.Button(
            description="Apply", button_style="primary", icon="play",
            tooltip="Run the code and update the slices",
        )
        self.apply_button.add_class(_style.EDITOR_APPLY)
        self._init_error()
        self.error.remove_class(_style.ERROR_BOX)
        self.error.add_class(_style.EDITOR_ERROR)
        self.status = widgets.HTML("")
        self.status.add_class(_style.EDITOR_STATUS)

        # keyword / regex form
        if columns is None:
            df = slice_set.df
            columns = [c for c in df.columns if df[c].dtype == object or
                       str(df[c].dtype).startswith(("string", "str"))] or list(df.columns)
        columns = [str(c) for c in columns]
        self.form_kind = widgets.ToggleButtons(
            options=["keyword", "regex"], value="keyword",
            style={"button_width": "70px"},
        )
        self.form_name = widgets.Text(placeholder="name (optional)",
                                      layout=widgets.Layout(width="140px"))
        self.form_pattern = widgets.Text(placeholder="keywords, comma-separated",
                                         layout=widgets.Layout(width="220px"))
        self.form_column = widgets.Dropdown(
            options=columns, value=("text" if "text" in columns else
                                    (columns[0] if columns else None)),
            layout=widgets.Layout(width="120px"),
        )
        self.form_ignore_case = widgets.Checkbox(value=True, description="ignore case",
                                                 indent=False, layout=widgets.Layout(width="100px"))
        self.add_button = widgets.Button(description="Add", icon="plus",
                                         layout=widgets.Layout(width="70px"))
        self.add_button.add_class(_style.EDITOR_ADD)

        self.apply_button.on_click(self._guard(lambda _: self.apply(), "applying"))
        self.add_button.on_click(self._guard(lambda _: self._on_add(), "adding an SF"))
        self.code.observe(self._guard(self._on_code_change, "saving"), names="value")
        self.form_kind.observe(self._on_kind_change, names="value")

        form = widgets.HBox([self.form_kind, self.form_name, self.form_pattern,
                             self.form_column, self.form_ignore_case, self.add_button],
                            layout=widgets.Layout(flex_flow="row wrap"))
        self.children = [
            _style.style_widget(), self.code,
            widgets.HBox([self.apply_button, self.status]), self.error, form,
        ]
        self.add_class(_style.EDITOR)

        if self.path is not None and self.path.exists():
            self.load()

    # -- persistence --------------------------------------------------------------------------
    def load(self, path: str | Path | None = None) -> ApplyResult:
        """Load the code from ``path`` (default: :attr:`path`) and apply it."""
        path = Path(path) if path is not None else self.path
        if path is None:
            raise ValueError("SFEditor.load needs a path: none was given and self.path is None.")
        text = path.read_text(encoding="utf-8")
        if path == self.path:
            self._saved_text = text
        self._loading = True
        try:
            self.code.value = text
        finally:
            self._loading = False
        return self.apply()

    def save(self) -> bool:
        """Write the code to :attr:`path` atomically; on failure warn and keep it in memory."""
        if self.path is None:
            return False
        text = self.code.value
        if text == self._saved_text and self.save_error is None:
            return True
        try:
            atomic_write(self.path, text)
        except OSError as err:
            self.save_error = MSG_UNWRITABLE.format(path=self.path, err=f"{type(err).__name__}: "
                                                    f"{err.strerror or err}")
            if self.save_error not in self._warned:
                self._warned.add(self.save_error)
                warnings.warn(self.save_error, RuntimeWarning, stacklevel=2)
            return False
        self.save_error = None
        self._saved_text = text
        return True

    def _on_code_change(self, change: dict) -> None:
        if self.autosave and not self._loading:
            saved = self.save()
            if not saved and self.save_error:
                self.status.value = f"<span class='sw-save-warning'>⚠ {escape(self.save_error)}</span>"

    # -- apply --------------------------------------------------------------------------------
    def apply(self) -> ApplyResult:
        """Run the code and update the SliceSet; errors are shown, never raised."""
        result = ApplyResult()
        text = self.code.value
        saved = self.save() if (self.autosave and self.path is not None) else None
        try:
            self._apply(text, result)
        except KeyboardInterrupt:
            result.interrupted = True
            result.errors.append(
                "Interrupted: Apply was stopped (Interrupt kernel). SFs applied before the "
                "interruption are kept; the others keep their previous version."
            )
        result.ok = not result.errors and not result.interrupted
        if result.ok:
            self.applied_code = text
        self.last_result = result
        self._render(result, saved)
        return result

    def _apply(self, text: str, result: ApplyResult) -> None:
        lines = text.splitlines()
        linecache.cache[FILENAME] = (len(text), None, [ln + "\n" for ln in lines], FILENAME)
        try:
            tree = ast.parse(text, FILENAME)
        except SyntaxError as err:
            result.errors.append(self._syntax_message(err, lines))
            return
        code = compile(tree, FILENAME, "exec")
        ns = self.namespace
        try:
            exec(code, ns)  # noqa: S102 - running the user's own code is the point
        except Exception as err:
            result.errors.append(self._exec_message(err, tree, lines))
            return

        # collect the SFs defined by this code
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
                result.errors.append(MSG_DUPLICATE_DEF.format(
                    var=var, count=len(b.lines), lines=", ".join(map(str, b.lines))))
        by_name: dict[str, list[tuple[str, int]]] = {}
        for sf, var, line in found:
            by_name.setdefault(sf.name, []).append((var, line))
        for name, where in by_name.items():
            if len(where) > 1:
                result.errors.append(MSG_DUPLICATE_NAME.format(
                    name=name,
                    where=" and ".join(f"{v!r} on line {ln}" for v, ln in where)))
        if result.errors:
            return

        helpers = {sf.name: _helper_source(sf, bindings, text) for sf, _, _ in found}
        fps = {sf.name: _hash(sf.fingerprint, helpers[sf.name]) for sf, _, _ in found}
        self._sf_lines = {sf.name: line for sf, _, line in found}
        ss = self.slice_set
        todo: list[SlicingFunction] = []
        for sf, _, _ in found:
            if sf.name in ss and self._owned.get(sf.name) == fps[sf.name]:
                result.unchanged.append(sf.name)
            else:
                todo.append(sf)
        removed = [n for n in self._owned if n not in fps and n in ss]

        with self._hub.hold():
            for name in removed:
                ss.remove(name)
                del self._owned[name]
                result.removed.append(name)
            for name in list(self._owned):
                if name not in ss:  # removed by someone else
                    del self._owned[name]
            current = None
            try:
                # one SF at a time, so that an interruption or an error names its SF (keyword
                # SFs share the SliceSet's text index, so this costs no extra scan)
                for sf in todo:
                    current = sf.name
                    existed = sf.name in ss
                    try:
                        computed = ss.n_computed
                        ss.update(sf)
                        if ss.n_computed == computed and helpers[sf.name] and \
                                self._helpers.get(sf.name) != helpers[sf.name]:
                            # same code, but a helper it calls was edited: the cached mask
                            # is stale (fingerprints don't follow helpers)
                            ss.refresh(sf.name)
                    except Exception as err:
                        line = self._sf_lines.get(sf.name)
                        result.errors.append(
                            f"Error in {sf.name} (line {line}): {type(err).__name__}: {err}"
                            + (" The previous version is kept." if existed else "")
                        )
                        continue
                    self._owned[sf.name] = fps[sf.name]
                    self._helpers[sf.name] = helpers[sf.name]
                    (result.changed if existed else result.added).append(sf.name)
            except KeyboardInterrupt:
                result.interrupted = True
                line = self._sf_lines.get(current) if current else None
                what = f"{current} (line {line})" if current else "the slicing functions"
                result.errors.append(
                    f"Interrupted while applying {what} (Interrupt kernel). It keeps its "
                    "previous version (or is not added); the SFs applied before it are kept. "
                    "Fix the SF (does it never return?) and press Apply."
                )

        n_rows = len(self.slice_set.df)
        for name in self._owned:
            msg = self._fault_message(name)
            if not msg:
                continue
            if n_rows and self.slice_set.errors[name].faults[name] >= n_rows:
                # failing everywhere is a bug in the SF, not a data quirk: say it loudly
                result.errors.append(msg + " It failed on every row, so its slice is empty.")
            else:
                result.warnings.append(msg)

    # -- messages -----------------------------------------------------------------------------
    @staticmethod
    def _syntax_message(err: SyntaxError, lines: list[str]) -> str:
        line = err.lineno or 0
        name = _guess_name(lines, line) if line else None
        src = lines[line - 1] if 0 < line <= len(lines) else (err.text or "").rstrip("\n")
        caret = ""
        if err.offset and src:
            caret = "\n    " + " " * (err.offset - 1) + "^"
        where = f" in {name}" if name else ""
        return (f"SyntaxError{where} (line {line}): {err.msg}\n    {src}{caret}\n"
                "Nothing was applied; fix the line and press Apply.")

    @staticmethod
    def _exec_message(err: BaseException, tree: ast.Module, lines: list[str]) -> str:
        import traceback

        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == FILENAME]
        line = frames[-1].lineno if frames else None
        top = frames[0].lineno if frames else None
        names = _stmt_names(_stmt_at(tree, top)) if top else []
        where = f" in {names[0]}" if names else ""
        src = f"\n    {lines[line - 1].strip()}" if line and 0 < line <= len(lines) else ""
        return (f"{type(err).__name__}{where} (line {line}): {err}{src}\n"
                "Nothing was applied; fix the code and press Apply.")

    def _fault_message(self, name: str) -> str | None:
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
                f"{example}: {(detail or first).rstrip('.')}. Those rows count as outside the slice; the "
                "other rows and slices are scored.")

    def _render(self, result: ApplyResult, saved: bool | None) -> None:
        parts = [pre(e) for e in result.errors]
        parts += [pre(w, "sw-warning") for w in result.warnings]
        with self.hold_sync():
            self.error.value = "".join(parts)
            if result.errors:
                self.add_class(_style.ERROR_STATE)
            else:
                self.remove_class(_style.ERROR_STATE)
            if result.interrupted:
                head = "Interrupted"
            elif result.ok:
                counts = [f"{len(v)} {k}" for k, v in (
                    ("added", result.added), ("changed", result.changed),
                    ("removed", result.removed), ("unchanged", result.unchanged)) if v]
                head = "Applied: " + (", ".join(counts) if counts else "no slicing functions")
            else:
                head = "Not applied" if not (result.added or result.changed or result.removed) \
                    else "Partly applied"
            if saved is True:
                tail = f" · saved to {self.path}"
            elif saved is False and self.save_error:
                tail = f" · ⚠ {self.save_error}"
            else:
                tail = ""
            self.status.value = escape(head + tail)

    # -- keyword / regex form -----------------------------------------------------------------
    def _on_kind_change(self, change: dict) -> None:
        self.form_pattern.placeholder = ("keywords, comma-separated" if change["new"] == "keyword"
                                         else "regular expression")

    def _on_add(self) -> None:
        kind = self.form_kind.value
        raw = self.form_pattern.value.strip()
        name = self.form_name.value.strip() or None
        column = self.form_column.value or "text"
        ignore = self.form_ignore_case.value
        self.add_sf(kind, raw, name=name, column=column, ignore_case=ignore)

    def add_sf(self, kind: str, pattern: str, *, name: str | None = None,
               column: str = "text", ignore_case: bool = True) -> ApplyResult | None:
        """Append a ``keyword_sf``/``regex_sf`` line to the code and apply it.

        ``pattern`` is the comma-separated keywords (``kind="keyword"``) or the regular
        expression (``kind="regex"``). Invalid input is shown in :attr:`error`.
        """
        try:
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
                raise ValueError(f"A slice named {sf.name!r} already exists; choose another "
                                 "name.")
        except ValueError as err:
            self.error.value = pre(str(err))
            self.add_class(_style.ERROR_STATE)
            return None
        var = re.sub(r"\W", "_", sf.name)
        if not var.isidentifier() or keyword.iskeyword(var):
            var = "sf_" + var
        code = self.code.value
        if code and not code.endswith("\n"):
            code += "\n"
        self.code.value = code + f"{var} = {call}\n"
        self.form_pattern.value = ""
        self.form_name.value = ""
        return self.apply()

    @property
    def sf_names(self) -> list[str]:
        """Names of the slices defined by the editor's code."""
        return list(self._owned)


def _helper_source(sf: SlicingFunction, bindings: dict[str, _Binding], text: str) -> str:
    """Source of the editor-defined names (helpers, constants) that the SF's code reads.

    Fingerprints follow an SF's own code, not the helpers it calls by name: an edited helper
    must trigger a recomputation anyway.
    """
    read: set[str] = set()
    for f in _sf_functions(sf):
        read |= _code_names(f.__code__)
    parts = []
    for var in sorted(read & set(bindings)):
        for stmt in bindings[var].stmts:
            parts.append(ast.get_source_segment(text, stmt) or "")
    return "\0".join(parts)


def _hash(*parts: str) -> str:
    return hashlib.blake2b("\0\0".join(parts).encode(), digest_size=16).hexdigest()
