"""Label and probability helpers at Snorkel's ``snorkel.utils.core`` path.

The code lives in :mod:`slicewidgets.utils`; this module re-exports it.
"""

from slicewidgets.utils import filter_labels, preds_to_probs, probs_to_preds, to_int_label_array

__all__ = ["filter_labels", "preds_to_probs", "probs_to_preds", "to_int_label_array"]
