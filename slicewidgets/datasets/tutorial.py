"""The tutorial's helpers: its bag-of-words featurizer and its five slicing functions.

:func:`df_to_features` is ``df_to_features`` of Snorkel's ``spam/utils.py`` (dense features for a
scikit-learn or torch model); :func:`spam_tutorial_sfs` returns the SFs of Snorkel's spam
data-slicing tutorial, written as the tutorial writes them. The last one needs TextBlob (the
``tutorial`` extra); the other four need nothing beyond the core.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["df_to_features", "spam_tutorial_sfs"]


def df_to_features(vectorizer: Any, df: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Turn a spam frame into dense features and labels, as the tutorial's helper does.

    ``vectorizer.fit_transform`` is used for ``split == "train"``, ``vectorizer.transform``
    otherwise. Unlike Snorkel (``feats.todense()``, an ``np.matrix``), ``X`` is a plain
    :class:`numpy.ndarray`, which scikit-learn >= 1.8 requires.

    Parameters
    ----------
    vectorizer
        A scikit-learn text vectorizer, e.g. ``CountVectorizer(ngram_range=(1, 1))``.
    df
        A frame with ``text`` and ``label`` columns (from :func:`load_spam_dataset`).
    split
        ``"train"`` fits the vectorizer; any other name only transforms.

    Returns
    -------
    X : numpy.ndarray
        Dense features, shape ``(len(df), n_features)``.
    Y : numpy.ndarray
        ``df["label"]`` values.

    Raises
    ------
    KeyError
        If ``df`` has no ``text`` or ``label`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> df = pd.DataFrame({"text": ["check out my channel", "love this song"], "label": [1, 0]})
    >>> vectorizer = CountVectorizer(ngram_range=(1, 1))
    >>> X, Y = df_to_features(vectorizer, df, "train")
    >>> X.shape, type(X).__name__, Y.tolist()
    ((2, 7), 'ndarray', [1, 0])
    >>> df_to_features(vectorizer, df.iloc[:1], "test")[0].shape
    (1, 7)
    """
    missing = [col for col in ("text", "label") if col not in df.columns]
    if missing:
        raise KeyError(
            f"df must have 'text' and 'label' columns (as returned by load_spam_dataset); "
            f"missing {missing}, got columns {list(df.columns)}."
        )
    words = df["text"].tolist()
    feats = vectorizer.fit_transform(words) if split == "train" else vectorizer.transform(words)
    X = np.asarray(feats.todense()) if hasattr(feats, "todense") else np.asarray(feats)
    Y = df["label"].values
    return X, Y


def spam_tutorial_sfs() -> list:
    """The five slicing functions of Snorkel's spam data-slicing tutorial, in its order.

    ``short_comment``, ``keyword_please``, ``regex_check_out``, ``short_link`` and
    ``textblob_polarity`` (TextBlob polarity > 0.9 through a memoized preprocessor), written
    as the tutorial writes them (row-wise). On the tutorial's test split their slices have
    92, 23, 45, 3 and 24 rows.

    Examples
    --------
    >>> [sf.name for sf in spam_tutorial_sfs()]  # doctest: +NORMALIZE_WHITESPACE
    ['short_comment', 'keyword_please', 'regex_check_out', 'short_link', 'textblob_polarity']
    """
    import re

    from slicewidgets.preprocess import preprocessor
    from slicewidgets.slicing import SlicingFunction, slicing_function

    @slicing_function()
    def short_comment(x):
        """Ham comments are often short, such as 'cool video!'"""
        return len(x.text.split()) < 5

    def keyword_lookup(x, keywords):
        return any(word in x.text.lower() for word in keywords)

    keyword_please = SlicingFunction(
        name="keyword_please", f=keyword_lookup, resources=dict(keywords=["please", "plz"])
    )

    @slicing_function()
    def regex_check_out(x):
        return bool(re.search(r"check.*out", x.text, flags=re.I))

    @slicing_function()
    def short_link(x):
        """Returns whether text matches common pattern for shortened ".ly" links."""
        return bool(re.search(r"\w+\.ly", x.text))

    @preprocessor(memoize=True)
    def textblob_sentiment(x):
        from slicewidgets._optional import import_optional

        textblob = import_optional("textblob", purpose="The tutorial's textblob_polarity SF")
        x.polarity = textblob.TextBlob(x.text).sentiment.polarity
        return x

    @slicing_function(pre=[textblob_sentiment])
    def textblob_polarity(x):
        return x.polarity > 0.9

    return [short_comment, keyword_please, regex_check_out, short_link, textblob_polarity]
