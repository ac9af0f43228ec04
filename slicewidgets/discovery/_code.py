"""Source code of a discovered slice: a slicing function a person can read and edit."""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slicewidgets.discovery._predicates import Predicate


def slice_name(predicates: Sequence[Predicate], taken: set[str] | None = None) -> str:
    """A Python identifier naming the conjunction, unique among ``taken``."""
    name = "_and_".join(p.slug for p in predicates)
    name = re.sub(r"\W+", "_", name).strip("_") or "slice"
    if len(name) > 80:
        name = name[:80].rstrip("_")
    if name[0].isdigit() or keyword.iskeyword(name):
        name = "slice_" + name
    if taken is not None:
        base, i = name, 2
        while name in taken:
            name = f"{base}_{i}"
            i += 1
        taken.add(name)
    return name


def slice_code(name: str, predicates: Sequence[Predicate], doc: str = "") -> str:
    """``regex_sf(...)`` for one text predicate, else a vectorized ``@slicing_function()``."""
    if len(predicates) == 1 and predicates[0].regex is not None:
        line = f"{name} = {predicates[0].builder_code(name)}"
        return (f"# {doc}\n" if doc else "") + line + "\n"
    if len(predicates) == 1 and predicates[0].kind == "sf":
        return (f"# {doc}\n" if doc else "") + f"{name} = {predicates[0].sf.name}.rename({name!r})\n"
    parts = [p.expr for p in predicates if p.expr is not None]
    if len(parts) != len(predicates):
        raise ValueError(f"slice_code: every predicate of a conjunction needs a pandas "
                         f"expression; got {[p.label for p in predicates]}.")
    if len(parts) == 1:
        body = parts[0]
    else:
        body = " & ".join(f"({p})" if _needs_parens(p) else p for p in parts)
    lines = [f"# {doc}"] if doc else []
    lines += ["@slicing_function(vectorized=True)", f"def {name}(df):"]
    if len(body) <= 88:
        lines.append(f"    return {body}")
    else:
        lines.append("    return (")
        for i, p in enumerate(parts):
            term = f"({p})" if _needs_parens(p) else p
            lines.append(f"        {'& ' if i else ''}{term}")
        lines.append("    )")
    return "\n".join(lines) + "\n"


def _needs_parens(expr: str) -> bool:
    """Whether ``expr`` has an operator outside brackets and string literals."""
    depth, quote, i = 0, "", 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in "=<>&|!~":
            return True
        i += 1
    return False


def code_namespace(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What generated code needs: the names the studio's editor also provides."""
    from slicewidgets.slicing.sf import keyword_sf, regex_sf, slicing_function

    ns: dict[str, Any] = {"re": re, "slicing_function": slicing_function,
                          "regex_sf": regex_sf, "keyword_sf": keyword_sf,
                          "__name__": "__slicewidgets_discovery__"}
    ns.update(extra or {})
    return ns


def build_sf(code: str, name: str, extra: Mapping[str, Any] | None = None):
    """Run ``code`` and return the slicing function it binds to ``name``."""
    ns = code_namespace(extra)
    exec(compile(code, f"<discovered slice {name}>", "exec"), ns)  # noqa: S102 - our own code
    return ns[name]
