"""Slicing functions over spaCy documents: ``NLPSlicingFunction`` and ``nlp_slicing_function``.

An NLP slicing function receives the data point with a spaCy ``Doc`` of its text
(``x.doc``: tokens, ``x.doc.ents``, noun chunks, ...), parsed by a
:class:`~slicewidgets.preprocess.nlp.SpacyPreprocessor` that all NLP SFs with the same settings
share, so each text is parsed once (``memoize=True``). Needs the ``[nlp]`` extra (spaCy) and a
pipeline: Snorkel's default model ``"en_core_web_sm"``, or any ``spacy.Language`` passed as
``language=`` (e.g. ``spacy.blank("en")`` with an entity ruler).

Same API as ``snorkel.slicing.sf.nlp``, with one difference: Snorkel allows a single spaCy
configuration per process (a second NLP SF with other settings raises ``ValueError``); here
SFs with different settings get different preprocessors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from slicewidgets.preprocess.core import BaseMapper
from slicewidgets.preprocess.nlp import EN_CORE_WEB_SM, SpacyPreprocessor, import_spacy
from slicewidgets.slicing.sf import SlicingFunction

__all__ = ["NLPSlicingFunction", "nlp_slicing_function"]

#: Shared preprocessors, by their settings.
_PREPROCESSORS: dict[tuple, SpacyPreprocessor] = {}


def _shared_preprocessor(
    text_field: str,
    doc_field: str,
    language: Any,
    disable: Sequence[str] | None,
    pre: Sequence[BaseMapper],
    memoize: bool,
    memoize_key: Callable[[Any], Hashable] | None,
    gpu: bool,
) -> SpacyPreprocessor:
    language_key = language if isinstance(language, str) else ("object", id(language))
    key = (
        text_field, doc_field, language_key, tuple(disable or ()), tuple(id(p) for p in pre),
        memoize, id(memoize_key), gpu,
    )
    found = _PREPROCESSORS.get(key)
    if found is None:
        found = SpacyPreprocessor(
            text_field, doc_field, language=language, disable=disable, pre=list(pre),
            memoize=memoize, memoize_key=memoize_key, gpu=gpu,
        )
        # keep the objects the key refers to by id alive as long as the entry
        found._shared_key_refs = (language, tuple(pre), memoize_key)  # type: ignore[attr-defined]
        _PREPROCESSORS[key] = found
    return found


class NLPSlicingFunction(SlicingFunction):
    """A slicing function whose data points carry a spaCy ``Doc`` of their text.

    Parameters
    ----------
    name
        Slice name.
    f
        ``f(x, **resources)``: true for the data points in the slice; ``x.<doc_field>`` is the
        parsed text.
    resources
        Keyword arguments for ``f``.
    pre
        Preprocessors to run before parsing (e.g. one that builds ``x.text``).
    text_field, doc_field
        The text field to parse and the field that receives the ``Doc``.
    language
        spaCy model name (default ``"en_core_web_sm"``) or a ``spacy.Language``.
    disable
        Pipeline components not to load.
    memoize
        Cache parsed data points (default ``True``).
    memoize_key
        Cache key of a data point.
    gpu
        Ask spaCy to use the GPU.

    Raises
    ------
    ImportError
        If spaCy is not installed (``pip install 'slicewidgets[nlp]'``).
    OSError
        If the named model is not installed.

    Examples
    --------
    >>> import spacy
    >>> from types import SimpleNamespace
    >>> nlp = spacy.blank("en")
    >>> nlp.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "Jane Doe"}])
    >>> def has_person(x):
    ...     return any(ent.label_ == "PERSON" for ent in x.doc.ents)
    >>> sf = NLPSlicingFunction("has_person", has_person, language=nlp)
    >>> sf(SimpleNamespace(text="Jane Doe acted well.")), sf(SimpleNamespace(text="Great film!"))
    (True, False)
    """

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[BaseMapper] | None = None,
        text_field: str = "text",
        doc_field: str = "doc",
        language: Any = EN_CORE_WEB_SM,
        disable: Sequence[str] | None = None,
        memoize: bool = True,
        memoize_key: Callable[[Any], Hashable] | None = None,
        gpu: bool = False,
    ) -> None:
        import_spacy(f"NLPSlicingFunction {name!r}")
        self._nlp_preprocessor = _shared_preprocessor(
            text_field, doc_field, language, disable, list(pre or []), memoize, memoize_key, gpu
        )
        super().__init__(name, f, resources=resources, pre=[self._nlp_preprocessor])


class nlp_slicing_function:  # noqa: N801 - Snorkel's name
    """Decorator that turns a function into an :class:`NLPSlicingFunction`.

    Takes the same keyword arguments as :class:`NLPSlicingFunction` (``name`` defaults to the
    function's name).

    Examples
    --------
    >>> import spacy
    >>> @nlp_slicing_function(language=spacy.blank("en"))
    ... def many_tokens(x):
    ...     return len(x.doc) > 3
    >>> many_tokens.name
    'many_tokens'
    """

    def __init__(self, name: str | None = None, *args: Any, **kwargs: Any) -> None:
        if callable(name):
            raise ValueError("Looks like this decorator is missing parentheses!")
        # the options are NLPSlicingFunction's own: a wrong one fails here, at the decorator
        try:
            _NLP_SF_SIGNATURE.bind(name or "sf", _never_called, *args, **kwargs)
        except TypeError as err:
            options = [n for n in _NLP_SF_SIGNATURE.parameters if n != "f"]
            raise TypeError(f"nlp_slicing_function: {err}; expected some of "
                            f"{', '.join(options)}.") from None
        self.name = name
        self.args = args
        self.kwargs = kwargs

    def __call__(self, f: Callable[..., Any]) -> NLPSlicingFunction:
        return NLPSlicingFunction(self.name or f.__name__, f, *self.args, **self.kwargs)


def _never_called(x: Any) -> bool:  # stands for the decorated function when checking options
    raise AssertionError("not a slicing function")


_NLP_SF_SIGNATURE = inspect.signature(NLPSlicingFunction)
# help() and IDEs show the decorator's real options: NLPSlicingFunction's, without f
nlp_slicing_function.__init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
     _NLP_SF_SIGNATURE.parameters["name"].replace(default=None)]
    + [p for n, p in _NLP_SF_SIGNATURE.parameters.items() if n not in ("name", "f")])
