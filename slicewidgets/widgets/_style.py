"""CSS classes and the small stylesheet shared by the widgets.

The class names are a contract with the browser tests (``tests/browser``) and with users who
restyle the widgets: change them only together.
"""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["CSS", "style_widget"]

# editor
EDITOR = "sw-editor"
EDITOR_CODE = "sw-editor-code"
EDITOR_APPLY = "sw-editor-apply"
EDITOR_ERROR = "sw-editor-error"
EDITOR_STATUS = "sw-editor-status"
EDITOR_ADD = "sw-editor-add"
EDITOR_CANCEL = "sw-editor-cancel"
EDITOR_PROGRESS = "sw-editor-progress"
EDITOR_CONFLICT = "sw-editor-conflict"
BUSY = "sw-busy"  # added to a widget while it works in the background
# toggles
TOGGLES = "sw-toggles"
TOGGLE = "sw-toggle"
TOGGLE_COVERAGE = "sw-toggle-coverage"
# preview
PREVIEW = "sw-preview"
PREVIEW_SLICE = "sw-preview-slice"
PREVIEW_TABLE = "sw-preview-table"
# score table
SCORE_TABLE = "sw-score-table"
SCORE_CHART = "sw-score-chart"
# training
TRAINING = "sw-training"
TRAIN_START = "sw-train-start"
TRAIN_STOP = "sw-train-stop"
TRAIN_EPOCH = "sw-train-epoch"
TRAIN_BATCH = "sw-train-batch"
TRAIN_STATUS = "sw-train-status"
TRAIN_LOSS = "sw-train-loss"
# studio and shared
STUDIO = "sw-studio"
ERROR_STATE = "sw-error"  # added to a widget whose last action failed
ERROR_BOX = "sw-error-box"  # the HTML area that shows a widget's error

CSS = """
.sw-error-box pre, .sw-editor-error pre {
  color: #b00020; background: #fff4f4; border-left: 3px solid #b00020;
  padding: 4px 8px; margin: 2px 0; white-space: pre-wrap; font-size: 12px;
}
.sw-editor-error pre.sw-warning {
  color: #7a4b00; background: #fff8e6; border-left-color: #e69500;
}
.sw-editor-code textarea { font-family: var(--jp-code-font-family, monospace);
  font-size: 12px; }
.sw-editor-status { font-size: 12px; color: #555; }
.sw-toggle-coverage { font-size: 12px; color: #555; }
table.sw-table { border-collapse: collapse; font-size: 12px; width: 100%; }
table.sw-table th, table.sw-table td { padding: 2px 6px; border-bottom: 1px solid #e4e4e4;
  text-align: left; vertical-align: top; }
table.sw-table td.sw-num, table.sw-table td.sw-n { text-align: right;
  font-variant-numeric: tabular-nums; }
table.sw-table tr.sw-flag-worse td { background: #fdecea; }
table.sw-table tr.sw-flag-worse td.sw-flag { color: #b3261e; font-weight: bold; }
table.sw-table tr.sw-flag-better td.sw-flag { color: #1b6e2d; }
table.sw-table tr.sw-flag-no-evidence td.sw-flag { color: #888; font-style: italic; }
table.sw-table tr.sw-overall td { font-weight: bold; background: #f6f6f6; }
table.sw-table tr.sw-mispredicted td { background: #fff6e5; }
table.sw-table td .sw-ci { color: #777; font-size: 11px; }
table.sw-table mark { background: #ffe58a; padding: 0; }
.sw-training.sw-error { border: 2px solid #b00020; }
.sw-training.sw-error .sw-train-status { color: #b00020; }
"""


def style_widget() -> widgets.HTML:
    """An (invisible) HTML widget that carries the stylesheet."""
    html = widgets.HTML(f"<style>{CSS}</style>", layout=widgets.Layout(display="none"))
    html.add_class("sw-style")
    return html
