"""NLPSlicingFunction and nlp_slicing_function (slicewidgets/slicing/sf/nlp.py), with a blank
spaCy pipeline and an entity ruler (no model download)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pandas as pd
import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (pip install 'slicewidgets[nlp]')")

from slicewidgets.preprocess import preprocessor  # noqa: E402
from slicewidgets.slicing import PandasSFApplier, slice_dataframe  # noqa: E402
from slicewidgets.slicing.sf.nlp import NLPSlicingFunction, nlp_slicing_function  # noqa: E402


@pytest.fixture(scope="module")
def nlp():
    pipeline = spacy.blank("en")
    ruler = pipeline.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "PERSON", "pattern": "Jane Doe"},
        {"label": "PERSON", "pattern": [{"LOWER": "psy"}]},
    ])
    return pipeline


@preprocessor()
def combine_text(x):
    x.text = f"{x.title} {x.article}"
    return x


def has_person_mention(x):
    return any(ent.label_ == "PERSON" for ent in x.doc.ents)


def test_nlp_sf_sees_the_parsed_text_after_its_preprocessors(nlp):
    sf = NLPSlicingFunction("has_person", has_person_mention, pre=[combine_text], language=nlp)
    assert sf(SimpleNamespace(title="Nice movie!", article="Jane Doe acted well.")) is True
    assert sf(SimpleNamespace(title="Great film!", article="The movie is great!")) is False


def test_decorator_names_the_sf_and_shares_the_parser(nlp):
    @nlp_slicing_function(language=nlp)
    def mentions_person(x):
        return has_person_mention(x)

    @nlp_slicing_function(name="long_text", language=nlp)
    def long_text(x):
        return len(x.doc) > 5

    assert isinstance(mentions_person, NLPSlicingFunction)
    assert mentions_person.name == "mentions_person" and long_text.name == "long_text"
    assert mentions_person._nlp_preprocessor is long_text._nlp_preprocessor  # one parse per row


def test_decorator_without_parentheses_is_an_error():
    with pytest.raises(ValueError, match="missing parentheses"):
        nlp_slicing_function(lambda x: True)


def test_decorator_checks_its_options_where_it_is_written(nlp):
    with pytest.raises(TypeError, match=r"nlp_slicing_function: got an unexpected keyword "
                       r"argument 'langauge'; expected some of name, resources, pre, text_field"):
        nlp_slicing_function(langauge=nlp)
    # positional options keep NLPSlicingFunction's order (name, resources, pre, text_field, ...)
    by_position = nlp_slicing_function("pos", None, None, "title", language=nlp)(
        lambda x: len(x.doc) > 1)
    assert by_position.name == "pos"
    assert by_position(SimpleNamespace(title="three short words", text="one"))  # parses title


def test_nlp_sfs_apply_to_a_dataframe(nlp):
    df = pd.DataFrame({"text": ["PSY is great check my channel", "nice song", "Jane Doe sings",
                                "subscribe to me"]})
    sf = NLPSlicingFunction("person", has_person_mention, language=nlp)
    S = PandasSFApplier([sf]).apply(df, progress_bar=False)
    assert S["person"].tolist() == [1, 0, 1, 0]
    assert slice_dataframe(df, sf).text.tolist() == ["PSY is great check my channel", "Jane Doe sings"]


def test_different_settings_get_different_parsers(nlp):
    a = NLPSlicingFunction("a", has_person_mention, language=nlp, text_field="text")
    b = NLPSlicingFunction("b", has_person_mention, language=nlp, text_field="body")
    assert a._nlp_preprocessor is not b._nlp_preprocessor  # Snorkel raises ValueError here
    assert b(SimpleNamespace(body="Jane Doe")) is True


def test_missing_model_says_how_to_install_it():
    with pytest.raises(OSError, match=r"spaCy could not load the pipeline 'no_such_model_xyz'.*"
                                      r"python -m spacy download no_such_model_xyz"):
        NLPSlicingFunction("x", has_person_mention, language="no_such_model_xyz")


def test_missing_spacy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy -> ModuleNotFoundError
    with pytest.raises(ImportError, match=r"^NLPSlicingFunction 'x' needs spacy, which is not "
                                          r"installed.*pip install \"slicewidgets\[nlp\]\""):
        NLPSlicingFunction("x", has_person_mention)
