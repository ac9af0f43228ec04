"""Widgets: the slicing workflow in a notebook output cell, with no server and no port.

Write or toggle slicing functions, look at the rows of a slice, watch per-slice scores update
live and train a slice-aware model, in JupyterLab 4, Notebook 7, VS Code or Voila. Each widget
is a thin :class:`ipywidgets.VBox` view over core objects: the widgets of one
:class:`SliceStudio` share one :class:`~slicewidgets.slicing.SliceSet` (the incremental
engine), the editor and the toggles change it, and the score table and the preview react to
its events. Every control is an attribute (``editor.apply_button``, ``table.sort_by``), so
code and tests can drive the widgets exactly as a user would, and every error raised in a
handler is shown in the widget rather than lost in the log.
"""

from slicewidgets.widgets.editor import SFEditor
from slicewidgets.widgets.preview import SlicePreview
from slicewidgets.widgets.score_table import ScoreTable
from slicewidgets.widgets.studio import SliceStudio
from slicewidgets.widgets.suggest import SuggestPanel
from slicewidgets.widgets.toggles import SFToggles
from slicewidgets.widgets.training import TrainingPanel  # imports torch only when used

__all__ = ["SFEditor", "SFToggles", "SlicePreview", "ScoreTable", "TrainingPanel",
           "SliceStudio", "SuggestPanel"]
