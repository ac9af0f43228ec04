"""Mappers and preprocessors (API of ``snorkel.map`` / ``snorkel.preprocess``)."""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from slicewidgets._fingerprint import fingerprint
from slicewidgets._row import copy_point, get_hashable

__all__ = [
    "BaseMapper",
    "BasePreprocessor",
    "LambdaMapper",
    "LambdaPreprocessor",
    "Mapper",
    "Preprocessor",
    "lambda_mapper",
    "preprocessor",
]

DEFAULT_MEMO_SIZE = 2**17

MISSING_PARENS = (
    "Looks like this decorator is missing parentheses! Write @{deco}() instead of @{deco}."
)


class BaseMapper:
    """Base class of preprocessors: copy the point, run ``pre``, map it, optionally memoize.

    Parameters
    ----------
    name
        Name of the mapper (shown in errors).
    pre
        Mappers to run first, in order.
    memoize
        Cache results by the data point's content (``memoize_key``). The appliers empty the
        cache when the mapper's fingerprint changed since it was filled (:meth:`check_memo`).
    memoize_key
        Function from data point to a hashable cache key; default: the point's field values.
    memoize_maxsize
        Most entries kept in the cache (least recently used dropped first); ``None`` = unbounded.

    Notes
    -----
    Differences from Snorkel: the cache is bounded (``memoize_maxsize``; Snorkel's grows without
    limit), and the point is copied field by field (:func:`~slicewidgets._row.copy_point`:
    non-atomic field values such as lists are deep-copied) instead of a pickle round trip of the
    whole point, which is much cheaper per row.
    """

    def __init__(
        self,
        name: str,
        pre: Sequence[BaseMapper] | None = None,
        memoize: bool = False,
        memoize_key: Callable[[Any], Hashable] | None = None,
        memoize_maxsize: int | None = DEFAULT_MEMO_SIZE,
    ) -> None:
        self.name = name
        self._pre = list(pre or [])
        self.memoize = memoize
        self.memoize_key = memoize_key or get_hashable
        self.memoize_maxsize = memoize_maxsize
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._memo_fingerprint: str | None = None  # the fingerprint the cache was filled under

    def reset_cache(self) -> None:
        """Empty the memoization cache."""
        self._cache = OrderedDict()
        self._memo_fingerprint = None

    def check_memo(self) -> None:
        """Empty the memoization cache if this mapper's fingerprint changed since it was filled.

        The cache is keyed by the data point alone, so outputs computed before an edit (of the
        mapper's function, a global or helper it reads, one of its ``pre``) would otherwise be
        returned after it. The appliers call this once per apply for every memoized mapper of
        their SFs (:func:`slicewidgets.slicing.apply.compute_masks`, ``SFApplier.apply``).

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> SUFFIX = "!"
        >>> @preprocessor(memoize=True)
        ... def shout(x):
        ...     x.loud = x.text + SUFFIX
        ...     return x
        >>> shout.check_memo(); shout(SimpleNamespace(text="hi")).loud
        'hi!'
        >>> SUFFIX = "?"
        >>> shout(SimpleNamespace(text="hi")).loud  # the memo: filled before the change
        'hi!'
        >>> shout.check_memo(); shout(SimpleNamespace(text="hi")).loud
        'hi?'
        """
        if not self.memoize:
            return
        fp = self.fingerprint
        if fp != getattr(self, "_memo_fingerprint", None):
            self.reset_cache()
            self._memo_fingerprint = fp

    def _generate_mapped_data_point(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, x: Any) -> Any:
        if self.memoize:
            key = self.memoize_key(x)
            cached = self._cache.get(key, _MISS)
            if cached is not _MISS:
                self._cache.move_to_end(key)
                return cached
        x_mapped = copy_point(x)
        for mapper in self._pre:
            x_mapped = mapper(x_mapped)
            if x_mapped is None:
                break
        else:
            x_mapped = self._generate_mapped_data_point(x_mapped)
        if self.memoize:
            self._cache[key] = x_mapped
            if self.memoize_maxsize is not None and len(self._cache) > self.memoize_maxsize:
                self._cache.popitem(last=False)
        return x_mapped

    @property
    def fingerprint(self) -> str:
        """A hash of this mapper's code and settings (changes when the code is edited)."""
        return fingerprint(self)

    def __slicewidgets_fingerprint__(self) -> tuple:
        return self._fingerprint_parts()

    def _fingerprint_parts(self) -> tuple:
        return (type(self), self.name, tuple(self._pre))

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.name}, Pre: {[m.name for m in self._pre]}"


_MISS = object()
#: Attributes of every mapper; the others (set by subclasses) are part of the fingerprint.
_BASE_ATTRS = frozenset({"name", "_pre", "memoize", "memoize_key", "memoize_maxsize", "_cache",
                         "_memo_fingerprint", "_f", "field_names", "mapped_field_names"})


class LambdaMapper(BaseMapper):
    """A mapper defined by a function ``f(x) -> x`` (see :func:`lambda_mapper`)."""

    def __init__(
        self,
        name: str,
        f: Callable[[Any], Any],
        pre: Sequence[BaseMapper] | None = None,
        memoize: bool = False,
        memoize_key: Callable[[Any], Hashable] | None = None,
        memoize_maxsize: int | None = DEFAULT_MEMO_SIZE,
    ) -> None:
        self._f = f
        super().__init__(name, pre, memoize, memoize_key, memoize_maxsize)

    def _generate_mapped_data_point(self, x: Any) -> Any:
        return self._f(x)

    def _fingerprint_parts(self) -> tuple:
        return (*super()._fingerprint_parts(), self._f)


class Mapper(BaseMapper):
    """A mapper whose ``run(**fields)`` returns a dict of new field values.

    Parameters
    ----------
    field_names
        Maps ``run``'s argument names to the data point's field names (default: same names).
    mapped_field_names
        Renames the keys of ``run``'s output before they are set on the point.
    """

    def __init__(
        self,
        name: str,
        field_names: Mapping[str, str] | None = None,
        mapped_field_names: Mapping[str, str] | None = None,
        pre: Sequence[BaseMapper] | None = None,
        memoize: bool = False,
        memoize_key: Callable[[Any], Hashable] | None = None,
        memoize_maxsize: int | None = DEFAULT_MEMO_SIZE,
    ) -> None:
        if field_names is None:
            params = inspect.signature(self.run).parameters.values()
            bad = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            if bad:
                raise ValueError(
                    f"Mapper {name!r}: run() must not take *args or **kwargs (got {bad}); "
                    "name each field it reads."
                )
            field_names = {p.name: p.name for p in params}
        self.field_names = dict(field_names)
        self.mapped_field_names = dict(mapped_field_names or {})
        super().__init__(name, pre, memoize, memoize_key, memoize_maxsize)

    def run(self, **kwargs: Any) -> Mapping[str, Any] | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _generate_mapped_data_point(self, x: Any) -> Any:
        fields = {k: getattr(x, v) for k, v in self.field_names.items()}
        out = self.run(**fields)
        if out is None:
            return None
        for k, v in out.items():
            setattr(x, self.mapped_field_names.get(k, k), v)
        return x

    def _fingerprint_parts(self) -> tuple:
        own = {k: v for k, v in vars(self).items() if k not in _BASE_ATTRS}
        return (*super()._fingerprint_parts(), type(self).run, sorted(self.field_names.items()),
                sorted(self.mapped_field_names.items()), own)


class lambda_mapper:  # noqa: N801 - decorator class, Snorkel's name
    """Decorator turning ``f(x) -> x`` into a :class:`LambdaMapper`."""

    _cls: type[LambdaMapper] = LambdaMapper
    _deco_name = "lambda_mapper"

    def __init__(
        self,
        name: str | None = None,
        pre: Sequence[BaseMapper] | None = None,
        memoize: bool = False,
        memoize_key: Callable[[Any], Hashable] | None = None,
        memoize_maxsize: int | None = DEFAULT_MEMO_SIZE,
    ) -> None:
        if callable(name):
            raise ValueError(MISSING_PARENS.format(deco=self._deco_name))
        self.name = name
        self.pre = pre
        self.memoize = memoize
        self.memoize_key = memoize_key
        self.memoize_maxsize = memoize_maxsize

    def __call__(self, f: Callable[[Any], Any]) -> LambdaMapper:
        return self._cls(
            name=self.name or f.__name__,
            f=f,
            pre=self.pre,
            memoize=self.memoize,
            memoize_key=self.memoize_key,
            memoize_maxsize=self.memoize_maxsize,
        )


class BasePreprocessor(BaseMapper):
    """Base class of preprocessors (alias of :class:`BaseMapper`, as in Snorkel)."""


class Preprocessor(Mapper, BasePreprocessor):
    """A preprocessor with ``run(**fields) -> dict`` (see :class:`Mapper`)."""


class LambdaPreprocessor(LambdaMapper, BasePreprocessor):
    """A preprocessor defined by a function ``f(x) -> x``."""


class preprocessor(lambda_mapper):  # noqa: N801
    """Decorator that turns ``f(x) -> x`` into a :class:`LambdaPreprocessor`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> @preprocessor(memoize=True)
    ... def add_length(x):
    ...     x.n_words = len(x.text.split())
    ...     return x
    >>> add_length(SimpleNamespace(text="cool video")).n_words
    2
    """

    _cls = LambdaPreprocessor
    _deco_name = "preprocessor"
