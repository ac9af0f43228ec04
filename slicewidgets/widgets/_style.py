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

# Every colour is a JupyterLab theme variable (light and dark themes, and custom ones), with a
# fallback for frontends without them (Notebook 7 and Voila have them; VS Code maps some).
# Tints are translucent, so they read on light and dark backgrounds alike.
CSS = """
.sw-studio, .sw-editor, .sw-toggles, .sw-preview, .sw-score-table, .sw-training {
  color: var(--jp-content-font-color1, #1f1f1f); min-width: 0; }
.sw-studio h4 { color: var(--jp-content-font-color0, inherit); }
.sw-error-box pre, .sw-editor-error pre {
  color: var(--jp-error-color1, #b00020); background: rgba(211, 47, 47, 0.10);
  border-left: 3px solid var(--jp-error-color1, #b00020);
  padding: 4px 8px; margin: 2px 0; white-space: pre-wrap; font-size: 12px;
}
.sw-editor-error pre.sw-warning {
  color: var(--jp-warn-color0, #7a4b00); background: rgba(255, 152, 0, 0.12);
  border-left-color: var(--jp-warn-color1, #e69500);
}
.sw-editor-code textarea { font-family: var(--jp-code-font-family, monospace);
  font-size: 12px; }
.sw-editor-code { width: 100%; }
.sw-editor-code .cm-editor { min-height: 140px; max-height: 380px; }
.sw-editor-status, .sw-toggle-coverage, .sw-score-status, .sw-preview-info {
  font-size: 12px; color: var(--jp-ui-font-color2, #555); }
.sw-save-warning, .sw-toggle-faults { color: var(--jp-warn-color0, #8a5300); }
.sw-editor-conflict { border-left: 3px solid var(--jp-warn-color1, #e69500);
  padding: 2px 8px; background: rgba(255, 152, 0, 0.10); }
.sw-leak { color: var(--jp-error-color1, #b00020); font-weight: bold; }
.sw-score-table.sw-leaky table.sw-scores {
  outline: 2px solid var(--jp-error-color1, #b00020); }
table.sw-table { border-collapse: collapse; font-size: 12px; width: 100%;
  color: var(--jp-content-font-color1, #1f1f1f); }
table.sw-table caption { caption-side: top; text-align: left; font-size: 11px;
  color: var(--jp-ui-font-color2, #666); padding: 2px 0; }
table.sw-table th, table.sw-table td { padding: 2px 5px;
  border-bottom: 1px solid var(--jp-border-color2, #e4e4e4); text-align: left;
  vertical-align: top; }
table.sw-table th { color: var(--jp-ui-font-color1, #333); vertical-align: bottom; }
table.sw-table td.sw-name { overflow-wrap: anywhere; min-width: 6em; }
table.sw-table td.sw-num, table.sw-table td.sw-n { text-align: right; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
table.sw-scores td.sw-flag { white-space: nowrap; }
table.sw-table tr.sw-flag-worse td { background: rgba(211, 47, 47, 0.12); }
table.sw-table tr.sw-flag-worse td.sw-flag { color: var(--jp-error-color1, #b3261e);
  font-weight: bold; }
table.sw-table tr.sw-flag-better td.sw-flag { color: var(--jp-success-color1, #1b6e2d); }
table.sw-table tr.sw-flag-no-evidence td.sw-flag { color: var(--jp-ui-font-color2, #888);
  font-style: italic; }
table.sw-table tr.sw-overall td { font-weight: bold;
  background: var(--jp-layout-color2, #f3f3f3); color: var(--jp-content-font-color0, #111); }
table.sw-table tr.sw-mispredicted td { background: rgba(255, 152, 0, 0.16); }
table.sw-table td .sw-ci { color: var(--jp-ui-font-color2, #707070); font-size: 11px; }
table.sw-table mark { background: rgba(255, 213, 0, 0.45); color: inherit; padding: 0; }
.sw-score-chart svg, .sw-train-loss svg { max-width: 100%; height: auto; }
.sw-training.sw-error { border: 2px solid var(--jp-error-color1, #b00020); }
.sw-training.sw-error .sw-train-status { color: var(--jp-error-color1, #b00020); }
.sw-busy .sw-editor-status { color: var(--jp-brand-color1, #1976d2); }
"""


def style_widget() -> widgets.HTML:
    """An (invisible) HTML widget that carries the stylesheet."""
    html = widgets.HTML(f"<style>{CSS}</style>", layout=widgets.Layout(display="none"))
    html.add_class("sw-style")
    return html
