"""Look at the rows of a slice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from slicewidgets.slicing.apply import compute_masks
from slicewidgets.slicing.sf import SlicingFunction

__all__ = ["slice_dataframe"]


def slice_dataframe(
    df: pd.DataFrame, slicing_function: SlicingFunction, *, progress_bar: bool = False
) -> pd.DataFrame:
    """The rows of ``df`` in the slice of ``slicing_function``.

    Rows keep their index labels and column order (a positional ``iloc`` subset).
    Unlike Snorkel's, the progress bar is off by default and can be turned on.

    Parameters
    ----------
    df
        The data.
    slicing_function
        The SF defining the slice.
    progress_bar
        Show a progress bar while applying a row-wise SF.

    Examples
    --------
    >>> from slicewidgets.slicing import slicing_function
    >>> @slicing_function()
    ... def small(x):
    ...     return x.num < 20
    >>> slice_dataframe(pd.DataFrame({"num": [5, 50, 10]}), small).num.tolist()
    [5, 10]
    """
    if not isinstance(slicing_function, SlicingFunction):
        raise TypeError(
            f"slice_dataframe expects a SlicingFunction, got {type(slicing_function).__name__}; "
            "decorate the function with @slicing_function()."
        )
    mask = compute_masks(df, [slicing_function], progress_bar=progress_bar).matrix[:, 0]
    return df.iloc[np.flatnonzero(mask)]
