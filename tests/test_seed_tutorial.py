"""Acceptance test: sections 1-2 of Snorkel's data-slicing tutorial, with only the import lines
changed from ``snorkel`` to ``slicewidgets``, give the published numbers on the real data."""

from __future__ import annotations

import re

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tutorial(spam_splits):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    TextBlob = pytest.importorskip("textblob", reason="the 'tutorial' extra (textblob) is not installed").TextBlob

    from slicewidgets.datasets import df_to_features
    from slicewidgets.preprocess import preprocessor
    from slicewidgets.slicing import SlicingFunction, slicing_function
    from slicewidgets.utils import preds_to_probs

    df_train, df_test = spam_splits

    @slicing_function()
    def short_comment(x):
        """Ham comments are often short, such as 'cool video!'"""
        return len(x.text.split()) < 5

    def keyword_lookup(x, keywords):
        return any(word in x.text.lower() for word in keywords)

    def make_keyword_sf(keywords):
        return SlicingFunction(
            name=f"keyword_{keywords[0]}",
            f=keyword_lookup,
            resources=dict(keywords=keywords),
        )

    keyword_please = make_keyword_sf(keywords=["please", "plz"])

    @slicing_function()
    def regex_check_out(x):
        return bool(re.search(r"check.*out", x.text, flags=re.I))

    @slicing_function()
    def short_link(x):
        """Returns whether text matches common pattern for shortened ".ly" links."""
        return bool(re.search(r"\w+\.ly", x.text))

    @preprocessor(memoize=True)
    def textblob_sentiment(x):
        scores = TextBlob(x.text)
        x.polarity = scores.sentiment.polarity
        return x

    @slicing_function(pre=[textblob_sentiment])
    def textblob_polarity(x):
        return x.polarity > 0.9

    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_test, Y_test = df_to_features(vectorizer, df_test, "test")
    model = LogisticRegression(C=0.001, solver="liblinear").fit(X=X_train, y=Y_train)
    preds_test = model.predict(X_test)
    probs_test = preds_to_probs(preds_test, 2)
    sfs = [short_comment, keyword_please, regex_check_out, short_link, textblob_polarity]
    return dict(df_test=df_test, Y_test=Y_test, preds=preds_test, probs=probs_test, sfs=sfs)


def test_section1_slice_dataframe(tutorial):
    from slicewidgets.slicing import slice_dataframe

    short_comment, *_, textblob_polarity = tutorial["sfs"]
    short_df = slice_dataframe(tutorial["df_test"], short_comment)
    assert len(short_df) == 92
    assert short_df.index[:5].tolist() == [194, 2, 110, 263, 77]
    assert short_df[["text", "label"]].head()["label"].tolist() == [0, 0, 1, 0, 0]
    polarity_df = slice_dataframe(tutorial["df_test"], textblob_polarity)
    assert polarity_df.index[:5].tolist() == [263, 240, 261, 14, 114]


def test_section2_scores_and_sizes(tutorial):
    from sklearn.metrics import f1_score

    from slicewidgets.analysis import Scorer
    from slicewidgets.slicing import PandasSFApplier

    assert f"{100 * f1_score(tutorial['Y_test'], tutorial['preds']):.1f}%" == "92.5%"
    S_test = PandasSFApplier(tutorial["sfs"]).apply(tutorial["df_test"], progress_bar=False)
    assert isinstance(S_test, np.recarray)
    assert S_test.dtype.names == (
        "short_comment", "keyword_please", "regex_check_out", "short_link", "textblob_polarity"
    )
    assert all(S_test.dtype[name] == np.int64 for name in S_test.dtype.names)
    assert [int(S_test[n].sum()) for n in S_test.dtype.names] == [92, 23, 45, 3, 24]

    scorer = Scorer(metrics=["f1"])
    table = scorer.score_slices(
        S=S_test, golds=tutorial["Y_test"], preds=tutorial["preds"], probs=tutorial["probs"],
        as_dataframe=True,
    )
    assert table.index.tolist() == ["overall", *S_test.dtype.names]
    assert table.columns.tolist() == ["f1"]
    expected = [0.925, 0.666667, 1.0, 1.0, 0.5, 0.727273]
    np.testing.assert_allclose(table["f1"].to_numpy(), expected, atol=5e-7)
