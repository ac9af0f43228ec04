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


#: from this many rows, ``progress_bar="auto"`` shows the first computation's progress
PROGRESS_ROWS = 200_000

MSG_NO_TRAIN = (
    "SliceStudio(X=...) trains a model, but no training split was given: it would train on "
    "the rows the table scores and report optimistic scores. Pass the training split as "
    "train=(df_train, X_train, golds_train) and the features of df's rows as X=; or leave X "
    "out to use the studio without the training panel."
)
MSG_SAME_ROWS = (
    "train= holds the same DataFrame as df: the studio scores df's rows, so a model trained "
    "on them would be scored on its own training rows. Pass a separate training split."
)
MSG_OVERLAP = "trained on a split that shares {k:,} of these {n:,} rows: scores are optimistic"


def _training_split(train: Any) -> tuple[pd.DataFrame, Any, Any]:
    if isinstance(train, dict):
        try:
            return train["df"], train["X"], train["golds"]
        except KeyError as err:
            raise ValueError(f"train= as a dict needs the keys 'df', 'X' and 'golds'; "
                             f"{err.args[0]!r} is missing.") from None
    if isinstance(train, (tuple, list)) and len(train) == 3:
        return train[0], train[1], train[2]
    raise ValueError("train= must be (df_train, X_train, golds_train) or a dict with keys "
                     f"'df', 'X', 'golds'; got {type(train).__name__}.")


def shared_rows(a: pd.DataFrame, b: pd.DataFrame) -> int:
    """Rows of ``b`` identical (every column) to a row of ``a``."""
    try:
        ha = pd.util.hash_pandas_object(a, index=False)
        hb = pd.util.hash_pandas_object(b, index=False)
    except TypeError:  # unhashable cells: compare the rows as text
        ha = pd.util.hash_pandas_object(a.astype(str), index=False)
        hb = pd.util.hash_pandas_object(b.astype(str), index=False)
    return int(hb.isin(set(ha.to_numpy())).sum())


class SliceStudio(widgets.VBox):
    """Write, toggle and inspect slices, watch per-slice scores, and train, in one widget.

    Layout: the SF editor and the slice toggles on the left, the live score table on the
    right, the slice preview below, and the training panel under it (when ``train`` is
    given). All widgets share one :class:`~slicewidgets.slicing.SliceSet`.

    **Honest training.** ``df`` is the *evaluation* split: the table scores its rows.
    A model is trained on a separate *training* split (``train=``): the SFs apply to both,
    training uses the training rows only, and the trained model's predictions of ``df``'s
    rows join the table's model list ("run 1", "run 2", ...) next to the ``baseline``; the
    table says which one it shows, switches back, and compares two per slice. A training
    split that shares rows with ``df`` is flagged in red; ``df`` itself is refused.

    **The editor runs code in the kernel.** For a dashboard shown to others (Voilà), use
    ``editable=False``: no editor, no code run, no file touched; toggles, preview, table
    and charts only.

    Parameters
    ----------
    df
        The evaluation data the slices are scored on (e.g. the test split).
    golds, preds, probs
        Gold labels, predictions and probabilities of ``df``'s rows (the ``baseline``).
    sfs
        Slicing functions to start with (the editor adds its own).
    X
        Features of ``df``'s rows, for the trained model's predictions (with ``train``).
    train
        The training split, ``(df_train, X_train, golds_train)``: adds the training panel.
    editable
        Show the code editor (default). ``False``: no user code runs and no file is read or
        written.
    text_column
        Column the preview shows first, with matches highlighted.
    path
        File the editor's code is kept in: ``"auto"`` (default), ``<notebook>.sfs.py`` beside
        the notebook; ``None``: not saved. A file is loaded, not run, until Apply.
    namespace
        Where the editor's code runs (default: the IPython user namespace).
    metrics
        Metrics of the score table.
    training_options
        Keyword arguments for :meth:`~slicewidgets.widgets.TrainingPanel.from_arrays`
        (``n_epochs``, ``lr``, ``batch_size``, ``hidden``, ...).
    progress_bar
        Show a progress bar over the rows while ``sfs`` are first computed; ``"auto"``:
        from 200,000 rows (opening a studio on millions of rows takes seconds).
    suggest
        Add the "Suggest slices" panel (:class:`~slicewidgets.widgets.SuggestPanel`):
        ``(df_dev, golds_dev, preds_dev)`` searches those rows and confirms on ``df``'s
        (recommended: a slice is never confirmed on the rows it was found on); ``True``
        searches a random half of ``df`` and confirms on the other half.

    Attributes
    ----------
    slice_set, editor, toggles, table, preview, training, suggest
        ``editor`` is ``None`` when ``editable=False``; ``training`` without ``train``;
        ``suggest`` without ``suggest``.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["check it out", "nice song", "check this"]})
    >>> from slicewidgets.slicing import keyword_sf
    >>> studio = SliceStudio(df, golds=[1, 0, 1], preds=[1, 0, 0], sfs=[keyword_sf("check")],
    ...                      path=None)
    >>> studio.table.frame.query("metric == 'accuracy'").score.tolist()
    [0.5]
    >>> studio.table.shown
    'baseline'
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
        train: Any = None,
        editable: bool = True,
        text_column: str = "text",
        path: str | Path | None = "auto",
        namespace: MutableMapping[str, Any] | None = None,
        metrics: Sequence[str] = ("accuracy", "f1"),
        page_size: int = 10,
        training_options: dict[str, Any] | None = None,
        progress_bar: bool | str = "auto",
        suggest: Any = False,
    ) -> None:
        super().__init__()
        if golds is not None:
            golds = np.asarray(golds)
        train_split = None
        if train is not None:
            train_split = _training_split(train)
            if train_split[0] is df:
                raise ValueError(MSG_SAME_ROWS)
            if X is None:
                raise ValueError("SliceStudio(train=...) predicts df's rows with the trained "
                                 "model: pass X= (the features of df's rows) as well.")
            if golds is None:
                raise ValueError("SliceStudio(train=...) scores the trained model: pass "
                                 "golds= (the labels of df's rows) as well.")
        elif X is not None:
            raise ValueError(MSG_NO_TRAIN)
        sfs = list(sfs)
        if progress_bar == "auto":
            progress_bar = len(df) >= PROGRESS_ROWS and bool(sfs)
        self.slice_set = SliceSet(df, sfs, progress_bar=bool(progress_bar))
        self.table = ScoreTable(self.slice_set, golds, preds, probs, metrics=metrics)
        self.toggles = SFToggles(self.slice_set)
        self.preview = SlicePreview(self.slice_set, golds=golds, preds=self.table.preds,
                                    text_column=text_column, page_size=page_size)
        self.table.on_predictions(self.preview.set_predictions)
        self.editable = bool(editable)
        self.editor = (SFEditor(self.slice_set, namespace=namespace, path=path)
                       if self.editable else None)
        self.training = None
        self.training_note = ""
        if train_split is not None:
            from slicewidgets.widgets.training import TrainingPanel

            df_train, X_train, golds_train = train_split
            k = shared_rows(df_train, df)
            if k:
                self.training_note = MSG_OVERLAP.format(k=k, n=len(df))
            self.train_slice_set = SliceSet(df_train)
            self.training = TrainingPanel.from_arrays(
                X_train, golds_train, self.train_slice_set, X_eval=X, golds_eval=golds,
                eval_slice_set=self.slice_set, on_predictions=self._on_trained,
                **(training_options or {}),
            )

        left_parts: list[widgets.Widget] = [self.toggles]
        if self.editor is not None:
            left_parts.insert(0, _section("Slicing functions", self.editor))
        left = widgets.VBox(left_parts, layout=widgets.Layout(flex="1 1 360px",
                                                              min_width="0"))
        right = widgets.VBox([_section("Scores per slice", self.table)],
                             # the table needs ~620 px: below that it goes under the editor
                             layout=widgets.Layout(flex="1 1 620px", min_width="0"))
        rows: list[widgets.Widget] = [
            _style.style_widget(),
            widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap",
                                                             width="100%")),
            _section("Rows of a slice", self.preview),
        ]
        self.suggest = None
        if suggest is not False and suggest is not None:
            from slicewidgets.widgets.suggest import SuggestPanel

            self.suggest = SuggestPanel.for_studio(
                self, discover_on=None if suggest is True else suggest)
            rows.append(_section("Suggest slices (found on one split, confirmed on another)",
                                 self.suggest))
        if self.training is not None:
            rows.append(_section("Slice-aware training (on the training split; scored on "
                                 "this one)", self.training))
        self.children = rows
        self.add_class(_style.STUDIO)

    def set_predictions(self, preds: Any = None, probs: Any = None, *,
                        name: str | None = None) -> None:
        """Predictions of ``df``'s rows for the score table and the preview (lengths are
        checked); ``name`` adds them to the model list (default: replace the shown ones)."""
        self.table.set_predictions(preds, probs, name=name)

    def _on_trained(self, preds: Any, probs: Any) -> None:
        assert self.training is not None
        name = f"run {self.training.run_count}"
        self.table.add_predictions(name, preds, probs, note=self.training_note)

    def close(self) -> None:
        for part in (self.editor, self.toggles, self.table, self.preview, self.training,
                     self.suggest):
            if part is not None:
                part.close()
        super().close()
