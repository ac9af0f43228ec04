"""Tensor helpers at Snorkel's ``snorkel.classification.utils`` path.

The code lives in :mod:`slicewidgets.classification._utils`; this module re-exports it.
"""

from slicewidgets.classification._utils import (
    collect_flow_outputs_by_suffix,
    list_to_tensor,
    metrics_dict_to_dataframe,
    move_to_device,
    pad_batch,
)

__all__ = [
    "collect_flow_outputs_by_suffix",
    "list_to_tensor",
    "metrics_dict_to_dataframe",
    "move_to_device",
    "pad_batch",
]
