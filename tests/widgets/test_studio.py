"""SliceStudio, driven headless: one call builds the whole workflow over one SliceSet."""

from __future__ import annotations

import numpy as np
import pytest

from slicewidgets.slicing import keyword_sf, regex_sf
from slicewidgets.widgets import (
    ScoreTable,
    SFEditor,
    SFToggles,
    SlicePreview,
    SliceStudio,
    TrainingPanel,
)


def all_classes(widget, out=None) -> set[str]:
    out = set() if out is None else out
    out.update(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        all_classes(child, out)
    return out


@pytest.fixture
def sfs():
    return [keyword_sf(["please", "plz"]), regex_sf(r"check", name="check")]


def test_one_call_builds_everything_over_one_slice_set(df, golds, preds, sfs, tmp_path):
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, path=tmp_path / "sfs.py",
                         namespace={})
    assert isinstance(studio.editor, SFEditor) and isinstance(studio.toggles, SFToggles)
    assert isinstance(studio.table, ScoreTable) and isinstance(studio.preview, SlicePreview)
    assert studio.training is None
    for widget in (studio.editor, studio.toggles, studio.table, studio.preview):
        assert widget.slice_set is studio.slice_set
    classes = all_classes(studio)
    for cls in ("sw-studio", "sw-editor", "sw-editor-code", "sw-editor-apply",
                "sw-editor-error", "sw-editor-status", "sw-toggles", "sw-toggle",
                "sw-toggle-coverage", "sw-preview", "sw-preview-slice", "sw-preview-table",
                "sw-score-table", "sw-score-chart"):
        assert cls in classes, cls
    assert "sw-training" not in classes
    assert studio.table.table.value.count("<tr data-slice=") == 2


def test_the_workflow(df, golds, preds, sfs, tmp_path):
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, path=tmp_path / "sfs.py",
                         namespace={})
    # write an SF: it gets a toggle, a table row and a preview entry
    studio.editor.code.value += "\nlove = keyword_sf(['love', 'great'], name='love')\n"
    studio.editor.apply_button.click()
    assert 'data-slice="love"' in studio.table.table.value
    assert "love" in studio.toggles.checkboxes
    assert "love" in studio.preview.slice_select.options
    # toggle it off: gone from the table, still listed in the toggles
    studio.toggles.checkboxes["love"].value = False
    assert 'data-slice="love"' not in studio.table.table.value
    # new predictions reach the table and the preview
    studio.set_predictions(golds)
    assert studio.preview.preds is not None and np.array_equal(studio.preview.preds, golds)
    studio.preview.only_mispredicted.value = True
    assert "<tr data-row=" not in studio.preview.table.value
    with pytest.raises(ValueError, match="preds has 2 rows but the data has 10"):
        studio.set_predictions([0, 1])
    assert "preds has 2 rows" in studio.table.error.value
    # the editor's code is on disk: a new studio gets the same slices back
    studio2 = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, path=tmp_path / "sfs.py",
                          namespace={})
    assert "love" not in studio2.slice_set  # loaded, not run at construction (#16)
    studio2.editor.apply_button.click()
    assert studio2.slice_set.sizes() == {**studio.slice_set.sizes(), "love": 2}


def test_training_panel_when_features_are_given(df, golds, preds, sfs, tmp_path):
    pytest.importorskip("torch")
    X = np.random.default_rng(0).normal(size=(len(df), 3))
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, X=X, path=None, namespace={},
                         training_options={"n_epochs": 2})
    assert isinstance(studio.training, TrainingPanel)
    assert "sw-training" in all_classes(studio)
    assert studio.training.n_epochs.value == 2
    with pytest.raises(ValueError, match=r"^SliceStudio\(X=\.\.\.\) trains a model on"):
        SliceStudio(df, sfs=sfs, X=X, path=None)


def test_without_labels(df, sfs):
    studio = SliceStudio(df, sfs=sfs, path=None, namespace={})
    assert "sizes only" in studio.table.status.value
    assert studio.preview.only_mispredicted.disabled


def test_lazy_top_level_import():
    import slicewidgets

    assert slicewidgets.SliceStudio is SliceStudio


def test_importing_the_widgets_leaves_torch_and_matplotlib_out():
    import subprocess
    import sys

    code = ("import sys, slicewidgets.widgets; "
            "print(sorted(m for m in ('torch', 'matplotlib', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
