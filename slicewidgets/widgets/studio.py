"""``SliceStudio``: the whole slicing workflow in one notebook output cell."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.slicing.sf import SlicingFunction
from slicewidgets.widgets import _style
from slicewidgets.widgets.editor import SFEditor
from slicewidgets.widgets.preview import SlicePreview
from slicewidgets.widgets.score_table import ScoreTable
from slicewidgets.widgets.toggles import SFToggles

__all__ = ["SliceStudio"]


def _section(title: str, body: widgets.Widget) -> widgets.VBox:
    head = widgets.HTML(f"<h4 style='margin:6px 0 2px'>{title}</h4>")
    return widgets.VBox([head, body])


class SliceStudio(widgets.VBox):
    """Write, toggle and inspect slices, watch per-slice scores, and train, in one widget.

    Layout: the SF editor and the slice toggles on the left, the live score table on the
    right, the slice preview below, and the training panel under it (when ``X`` is given).
    All widgets share one :class:`~slicewidgets.slicing.SliceSet`.

    Parameters
    ----------
    df
        The data the slices are defined on (e.g. the test split).
    golds, preds, probs
        Gold labels, predictions and probabilities of ``df``'s rows.
    sfs
        Slicing functions to start with (the editor adds its own).
    X
        Features of ``df``'s rows (array or scipy sparse matrix): adds the training panel,
        which trains a slice-aware model on ``(X, golds)`` and the current slices.
    text_column
        Column the preview shows first, with matches highlighted.
    path
        File the editor's code is saved to and reloaded from (``None``: not saved).
    namespace
        Where the editor's code runs (default: the IPython user namespace).
    metrics
        Metrics of the score table.
    training_options
        Keyword arguments for :class:`~slicewidgets.widgets.TrainingPanel` (``n_epochs``,
        ``lr``, ``batch_size``, ...).

    Attributes
    ----------
    slice_set, editor, toggles, table, preview, training

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["check it out", "nice song", "check this"]})
    >>> from slicewidgets.slicing import keyword_sf
    >>> studio = SliceStudio(df, golds=[1, 0, 1], preds=[1, 0, 0], sfs=[keyword_sf("check")],
    ...                      path=None)
    >>> studio.table.frame.query("metric == 'accuracy'").score.tolist()
    [0.5]
    """

    def __init__(
        self,
        df: pd.DataFrame,
        golds: Any = None,
        preds: Any = None,
        probs: Any = None,
        sfs: Sequence[SlicingFunction] = (),
        *,
        X: Any = None,
        text_column: str = "text",
        path: str | Path | None = "auto",
        namespace: MutableMapping[str, Any] | None = None,
        metrics: Sequence[str] = ("accuracy", "f1"),
        page_size: int = 10,
        training_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if golds is not None:
            golds = np.asarray(golds)
        self.slice_set = SliceSet(df, list(sfs))
        self.table = ScoreTable(self.slice_set, golds, preds, probs, metrics=metrics)
        self.toggles = SFToggles(self.slice_set)
        self.preview = SlicePreview(self.slice_set, golds=golds, preds=self.table.preds,
                                    text_column=text_column, page_size=page_size)
        self.table.on_predictions(self.preview.set_predictions)
        self.editor = SFEditor(self.slice_set, namespace=namespace, path=path)
        self.training = None
        if X is not None:
            if golds is None:
                raise ValueError(
                    "SliceStudio(X=...) trains a model on (X, golds); pass golds= as well, "
                    "or leave X out to use the studio without the training panel."
                )
            from slicewidgets.widgets.training import TrainingPanel

            self.training = TrainingPanel.from_arrays(
                X, golds, self.slice_set, on_predictions=self._set_predictions_from_training,
                **(training_options or {}),
            )

        left = widgets.VBox([_section("Slicing functions", self.editor), self.toggles],
                            layout=widgets.Layout(width="50%", min_width="360px"))
        right = widgets.VBox([_section("Scores per slice", self.table)],
                             layout=widgets.Layout(width="50%", min_width="360px"))
        rows: list[widgets.Widget] = [
            _style.style_widget(),
            widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap",
                                                             width="100%")),
            _section("Rows of a slice", self.preview),
        ]
        if self.training is not None:
            rows.append(_section("Slice-aware training", self.training))
        self.children = rows
        self.add_class(_style.STUDIO)

    def set_predictions(self, preds: Any = None, probs: Any = None) -> None:
        """New predictions for the score table and the preview (lengths are checked)."""
        self.table.set_predictions(preds, probs)

    def _set_predictions_from_training(self, preds: Any, probs: Any) -> None:
        self.table.set_predictions(preds, probs)
