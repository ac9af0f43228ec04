"""Static analysis of SF code text for :class:`~slicewidgets.slicing.session.SFCodeSession`:
which names each top-level statement binds, the helpers an SF's functions call (their source
is part of the SF's identity), syntax errors as messages with a line, and the line of code
for a keyword/regex form entry. Nothing here runs the code.
"""

from __future__ import annotations

import ast
import hashlib
import re
import types
from dataclasses import dataclass
from typing import Any

from slicewidgets._fingerprint import names_read
from slicewidgets.slicing.sf import SlicingFunction, keyword_sf, regex_sf

__all__ = ["FILENAME", "Binding", "check_syntax", "content_hash", "find_bindings", "form_call", "guess_name",
           "helper_source", "sf_functions", "stmt_at", "stmt_names", "syntax_message"]

#: The file name code text is compiled under (tracebacks and linecache use it).
FILENAME = "<sf-editor>"


@dataclass
class Binding:
    var: str
    lines: list[int]  # line of each top-level statement binding `var`
    stmts: list[ast.stmt]


def target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in target_names(elt)]
    return []


def stmt_names(stmt: ast.stmt | None) -> list[str]:
    if stmt is None:
        return []
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [n for t in stmt.targets for n in target_names(t)]
    if isinstance(stmt, ast.AnnAssign):
        return target_names(stmt.target)
    return []


def find_bindings(tree: ast.Module) -> dict[str, Binding]:
    """Top-level names bound by defs and assignments, with their lines, in order."""
    out: dict[str, Binding] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            continue
        for name in stmt_names(stmt):
            b = out.setdefault(name, Binding(name, [], []))
            b.lines.append(stmt.lineno)
            b.stmts.append(stmt)
    return out


def stmt_at(tree: ast.Module, line: int) -> ast.stmt | None:
    for stmt in tree.body:
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        if start <= line <= (stmt.end_lineno or stmt.lineno):
            return stmt
    return None


DEF_RE = re.compile(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=[^=]")


def guess_name(lines: list[str], line: int) -> str | None:
    """For a syntax error: the def/assignment that starts at or above ``line``."""
    for i in range(min(line, len(lines)) - 1, -1, -1):
        m = DEF_RE.match(lines[i])
        if m:
            return m.group(1) or m.group(2)
        if lines[i].strip() and not lines[i][0].isspace() and not lines[i].startswith(("@", "#")):
            return None
    return None


def sf_functions(sf: SlicingFunction) -> list[Any]:
    funcs: list[Any] = [sf._f]
    funcs += [getattr(p, "_f", getattr(p, "f", None)) for p in getattr(sf, "_pre", [])]
    for operand in getattr(sf, "operands", []):
        funcs += sf_functions(operand)
    return [f for f in funcs if isinstance(f, types.FunctionType)]


def helper_source(sf: SlicingFunction, bindings: dict[str, Binding], text: str) -> str:
    """Source of the editor-defined names (helpers, constants) that the SF's code reads.

    Fingerprints follow an SF's own code, not the helpers it calls by name: an edited helper
    must trigger a recomputation anyway.
    """
    read: set[str] = set()
    for f in sf_functions(sf):
        read |= names_read(f.__code__)
    parts = []
    for var in sorted(read & set(bindings)):
        for stmt in bindings[var].stmts:
            parts.append(ast.get_source_segment(text, stmt) or "")
    return "\0".join(parts)


def content_hash(*parts: str) -> str:
    return hashlib.blake2b("\0\0".join(parts).encode(), digest_size=16).hexdigest()


def syntax_message(err: SyntaxError, lines: list[str]) -> tuple[int, str]:
    """``(line, message)`` of a syntax error, naming the SF being defined."""
    line = err.lineno or 0
    name = guess_name(lines, line) if line else None
    src = lines[line - 1] if 0 < line <= len(lines) else (err.text or "").rstrip("\n")
    caret = ""
    if err.offset and src:
        caret = "\n    " + " " * (err.offset - 1) + "^"
    where = f" in {name}" if name else ""
    return line, (f"SyntaxError{where} (line {line}): {err.msg}\n    {src}{caret}\n"
                  "Nothing was applied; fix the line and press Apply.")


def check_syntax(text: str) -> list[str]:
    """Syntax errors of ``text`` (parsed, never run).

    Examples
    --------
    >>> check_syntax("def f(:\\n    pass")[0].splitlines()[0]
    'SyntaxError in f (line 1): invalid syntax'
    >>> check_syntax("x = 1")
    []
    """
    try:
        ast.parse(text, FILENAME)
    except SyntaxError as err:
        return [syntax_message(err, text.splitlines())[1]]
    return []


def form_call(kind: str, pattern: str, *, name: str | None = None, column: str = "text",
              ignore_case: bool = True) -> tuple[SlicingFunction, str]:
    """The SF of a keyword/regex form entry and the call that builds it, as code.

    Raises
    ------
    ValueError
        Empty keywords, an invalid regular expression, an unknown ``kind``.

    Examples
    --------
    >>> form_call("keyword", "please, plz", name="please")[1]
    "keyword_sf(['please', 'plz'], name='please')"
    >>> form_call("regex", "check.*out")[1]
    "regex_sf('check.*out', flags=re.IGNORECASE)"
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
    return sf, call
