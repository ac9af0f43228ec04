"""``SpacyPreprocessor``: parse a text field with spaCy and add the ``Doc`` to the data point.

Needs spaCy (``pip install 'slicewidgets[nlp]'``) and a pipeline: a model name such as
Snorkel's default ``"en_core_web_sm"`` (``python -m spacy download en_core_web_sm``), or a
pipeline object you built (``spacy.blank("en")`` plus components), which is also how to use
spaCy without downloading a model. Same API as ``snorkel.preprocess.nlp``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from slicewidgets.preprocess.core import BaseMapper, Preprocessor

__all__ = ["EN_CORE_WEB_SM", "SpacyPreprocessor", "import_spacy", "pipeline_content"]

#: Snorkel's default spaCy model.
EN_CORE_WEB_SM = "en_core_web_sm"

MODEL_MISSING = (
    "spaCy could not load the pipeline {language!r}: {error}. Install it (python -m spacy "
    "download {language}) or pass a pipeline object, e.g. language=spacy.blank('en') with the "
    "components you need."
)


def import_spacy(what: str = "SpacyPreprocessor") -> Any:
    """Import spaCy, or raise a ``MissingExtraError`` naming the ``[nlp]`` extra."""
    from slicewidgets._optional import import_optional

    return import_optional("spacy", purpose=what)


def load_pipeline(language: Any, disable: Sequence[str] | None = None, gpu: bool = False) -> Any:
    """A spaCy ``Language`` from a model name or an existing pipeline (returned as is)."""
    spacy = import_spacy()
    if gpu:
        spacy.prefer_gpu()
    if not isinstance(language, str):
        if not callable(language) or not hasattr(language, "pipe_names"):
            raise TypeError(
                f"language must be a spaCy model name or a spacy.Language; got "
                f"{type(language).__name__}."
            )
        return language
    try:
        return spacy.load(language, disable=list(disable or []))
    except OSError as err:
        raise OSError(MODEL_MISSING.format(language=language, error=err)) from err


class SpacyPreprocessor(Preprocessor):
    """Adds the spaCy ``Doc`` of ``x.<text_field>`` to the data point as ``x.<doc_field>``.

    Parameters
    ----------
    text_field
        The data point's text field.
    doc_field
        The field to store the parsed ``Doc`` in.
    language
        A spaCy model name (default ``"en_core_web_sm"``, Snorkel's) or a ``spacy.Language``.
    disable
        Pipeline components not to load (with a model name).
    pre
        Preprocessors to run first.
    memoize
        Cache the parsed points by content (parsing is the costly part).
    memoize_key
        Cache key of a data point (default: its field values).
    gpu
        Ask spaCy to use the GPU (``spacy.prefer_gpu()``).

    Raises
    ------
    ImportError
        If spaCy is not installed (naming the ``[nlp]`` extra).
    OSError
        If the model named by ``language`` is not installed (saying how to install it).

    Examples
    --------
    >>> import spacy
    >>> from types import SimpleNamespace
    >>> nlp = spacy.blank("en")
    >>> ruler = nlp.add_pipe("entity_ruler")
    >>> ruler.add_patterns([{"label": "PERSON", "pattern": "Jane Doe"}])
    >>> parse = SpacyPreprocessor("text", "doc", language=nlp)
    >>> [(e.text, e.label_) for e in parse(SimpleNamespace(text="Jane Doe acted well.")).doc.ents]
    [('Jane Doe', 'PERSON')]
    """

    def __init__(
        self,
        text_field: str,
        doc_field: str,
        language: Any = EN_CORE_WEB_SM,
        disable: Sequence[str] | None = None,
        pre: Sequence[BaseMapper] | None = None,
        memoize: bool = False,
        memoize_key: Callable[[Any], Hashable] | None = None,
        gpu: bool = False,
    ) -> None:
        super().__init__(
            type(self).__name__,
            field_names={"text": text_field},
            mapped_field_names={"doc": doc_field},
            pre=pre,
            memoize=memoize,
            memoize_key=memoize_key,
        )
        self.gpu = gpu
        self.language = language
        self.disable = list(disable or [])
        self._nlp = load_pipeline(language, disable, gpu)

    def run(self, text: str) -> dict[str, Any]:  # type: ignore[override]
        """``{"doc": nlp(text)}``."""
        return {"doc": self._nlp(text)}

    def _fingerprint_parts(self) -> tuple:
        return (
            type(self).__qualname__, self.name, tuple(m.fingerprint for m in self._pre),
            sorted(self.field_names.items()), sorted(self.mapped_field_names.items()),
            pipeline_content(self._nlp), tuple(self.disable), self.gpu,
        )


def pipeline_content(nlp: Any) -> tuple:
    """A spaCy pipeline by content, for fingerprints: every component's serialized state
    (an entity ruler's patterns, a model's weights) and the word vectors, so that a pipeline
    changed in place (``ruler.add_patterns``) gets a new fingerprint. The vocabulary's strings
    are left out: they grow as texts are parsed and do not change any result. A pipeline that
    cannot be serialized raises, which makes the fingerprint volatile (never reused).

    Examples
    --------
    >>> import spacy
    >>> nlp = spacy.blank("en")
    >>> before = pipeline_content(nlp)
    >>> _ = nlp("Parsing adds words to the vocabulary.")
    >>> pipeline_content(nlp) == before
    True
    >>> _ = nlp.add_pipe("sentencizer")
    >>> pipeline_content(nlp) == before
    False
    """
    import numpy as np

    vectors = nlp.vocab.vectors
    data = np.asarray(vectors.data) if vectors.shape[0] else None  # on a GPU: raises
    return ("spacy", nlp.to_bytes(exclude=["vocab"]), vectors.shape, data)
