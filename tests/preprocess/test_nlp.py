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


def test_a_pipeline_changed_in_place_gets_a_new_fingerprint_parsing_does_not():
    import pandas as pd

    from slicewidgets.slicing import SliceSet, slicing_function

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Jane Doe"}])
    parse = SpacyPreprocessor("text", "doc", language=nlp, memoize=True)

    @slicing_function(pre=[parse])
    def has_person(x):
        return len(x.doc.ents) > 0

    df = pd.DataFrame({"text": ["Jane Doe sang", "John Roe sang", "a brand new qzxv word"]})
    ss = SliceSet(df, [has_person])
    assert ss.sizes() == {"has_person": 1}
    ss.update(has_person)  # parsing added words to the vocabulary: still a cache hit
    assert ss.n_computed == 1
    ruler.add_patterns([{"label": "PERSON", "pattern": "John Roe"}])
    ss.update(has_person)  # recomputed, and the memo of parsed points is not reused
    assert ss.n_computed == 2
    assert ss.sizes() == {"has_person": 2}
