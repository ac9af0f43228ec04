"""slicewidgets: data slicing for machine learning, made for JupyterLab.

Write slicing functions (SFs) that mark critical slices of your data, score any model on every
slice with sizes and confidence intervals, train slice-aware models, and do it all live in
notebook widgets. The core API mirrors Snorkel's slicing workflow:

>>> from slicewidgets import slicing_function, PandasSFApplier, Scorer
>>> @slicing_function()
... def short_comment(x):
...     return len(x.text.split()) < 5

Heavy dependencies (torch, ipywidgets, matplotlib) are imported only where they are used.
"""

from typing import TYPE_CHECKING

from slicewidgets._lazy import lazy_attributes
from slicewidgets._version import __version__
from slicewidgets.analysis import METRICS, Scorer, metric_score
from slicewidgets.preprocess import preprocessor
from slicewidgets.slicing import (
    PandasSFApplier,
    SFApplier,
    SFApplyError,
    SliceMembership,
    SliceSet,
    SlicingFunction,
    keyword_sf,
    regex_sf,
    slice_dataframe,
    slicing_function,
)
from slicewidgets.utils import preds_to_probs, probs_to_preds

if TYPE_CHECKING:  # the lazy names below, for type checkers and IDEs
    from slicewidgets.classification import Trainer as Trainer
    from slicewidgets.datasets import load_spam_dataset as load_spam_dataset
    from slicewidgets.slicing import SliceAwareClassifier as SliceAwareClassifier
    from slicewidgets.widgets import SliceStudio as SliceStudio

_LAZY = {
    "SliceAwareClassifier": "slicewidgets.slicing",
    "Trainer": "slicewidgets.classification",
    "load_spam_dataset": "slicewidgets.datasets",
    "SliceStudio": "slicewidgets.widgets",
}

__all__ = [
    "METRICS",
    "PandasSFApplier",
    "SFApplier",
    "SFApplyError",
    "Scorer",
    "SliceMembership",
    "SliceSet",
    "SlicingFunction",
    "__version__",
    "keyword_sf",
    "metric_score",
    "preds_to_probs",
    "preprocessor",
    "probs_to_preds",
    "regex_sf",
    "slice_dataframe",
    "slicing_function",
    *_LAZY,
]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
