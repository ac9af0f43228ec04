"""SpacyPreprocessor (slicewidgets/preprocess/nlp.py) with a blank spaCy pipeline."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (pip install 'slicewidgets[nlp]')")

from slicewidgets.preprocess.nlp import SpacyPreprocessor  # noqa: E402


def test_adds_the_doc_under_doc_field_and_leaves_the_input_alone():
    parse = SpacyPreprocessor("body", "parsed", language=spacy.blank("en"))
    x = SimpleNamespace(body="Check out my channel")
    y = parse(x)
    assert [t.text for t in y.parsed] == ["Check", "out", "my", "channel"]
    assert not hasattr(x, "parsed")  # the data point is copied


def test_memoize_parses_each_text_once():
    calls = []
    nlp = spacy.blank("en")

    def counting(text):
        calls.append(text)
        return nlp(text)

    counting.pipe_names = []  # duck-typed pipeline
    parse = SpacyPreprocessor("text", "doc", language=counting, memoize=True)
    for _ in range(3):
        parse(SimpleNamespace(text="same"))
    assert calls == ["same"]


def test_language_must_be_a_name_or_a_pipeline():
    with pytest.raises(TypeError, match="language must be a spaCy model name or a spacy.Language; got int"):
        SpacyPreprocessor("text", "doc", language=3)
