"""Checks on collections of operators (slicing functions, preprocessors)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

__all__ = ["check_unique_names"]


def check_unique_names(names: Iterable[str]) -> None:
    """Raise if a name occurs more than once (Snorkel's message, the most repeated name first).

    Raises
    ------
    ValueError
        ``"Operator names not unique: 3 operators with name c"``.

    Examples
    --------
    >>> check_unique_names(["short", "long"])
    >>> check_unique_names(["a", "b", "b"])
    Traceback (most recent call last):
    ...
    ValueError: Operator names not unique: 2 operators with name b. Give each slicing function its own name (name=...).
    """
    counts = Counter(names)
    if not counts:
        return
    name, count = counts.most_common(1)[0]
    if count > 1:
        raise ValueError(
            f"Operator names not unique: {count} operators with name {name}. Give each slicing "
            "function its own name (name=...)."
        )
