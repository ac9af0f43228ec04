"""Preprocessors: functions that enrich a data point before a slicing function sees it.

A preprocessor receives a (copied) data point, may add attributes to it (``x.polarity = ...``)
and returns it. With ``memoize=True`` its results are cached by the data point's content, so a
costly preprocessor (TextBlob, spaCy) runs once per distinct row even when several slicing
functions use it. Same names as ``snorkel.preprocess``.

Examples
--------
>>> from slicewidgets.preprocess import preprocessor
>>> @preprocessor(memoize=True)
... def add_length(x):
...     x.n_words = len(x.text.split())
...     return x
"""

from slicewidgets.preprocess.core import (
    BaseMapper,
    BasePreprocessor,
    LambdaMapper,
    LambdaPreprocessor,
    Mapper,
    Preprocessor,
    lambda_mapper,
    preprocessor,
)

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
