"""SliceStudio, driven headless: one call builds the whole workflow over one SliceSet."""

from __future__ import annotations

import numpy as np
import pytest

from slicewidgets.slicing import keyword_sf, regex_sf, slicing_function
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


@pytest.fixture
def train_split(df, golds):
    """A separate training split: other rows (texts suffixed), same columns."""
    df_train = df.copy()
    df_train["text"] = df_train["text"].map(lambda t: t + " (train)" if isinstance(t, str) else t)
    df_train["author"] = df_train["author"] + "-train"
    df_train.index = df_train.index + 1000
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(len(df_train), 3))
    return df_train, X_train, golds.copy()


def test_training_panel_when_a_training_split_is_given(df, golds, preds, sfs, train_split):
    pytest.importorskip("torch")
    X = np.random.default_rng(1).normal(size=(len(df), 3))
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, X=X, train=train_split,
                         path=None, namespace={}, training_options={"n_epochs": 2})
    assert isinstance(studio.training, TrainingPanel)
    assert "sw-training" in all_classes(studio)
    assert studio.training.n_epochs.value == 2
    with pytest.raises(ValueError, match=r"^SliceStudio\(X=\.\.\.\) trains a model, but no "
                                         "training split was given"):
        SliceStudio(df, sfs=sfs, X=X, path=None)
    with pytest.raises(ValueError, match="train= holds the same DataFrame as df"):
        SliceStudio(df, golds=golds, sfs=sfs, X=X, train=(df, X, golds), path=None)


def test_honest_training_scores_the_evaluation_split_and_switches_back(
        df, golds, preds, sfs, train_split):
    pytest.importorskip("torch")
    X = np.random.default_rng(1).normal(size=(len(df), 3))
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, X=X, train=train_split,
                         path=None, namespace={},
                         training_options={"n_epochs": 2, "batch_size": 4})
    table, panel = studio.table, studio.training
    assert table.shown == "baseline" and "<b class='sw-model-name'>baseline</b>" in \
        table.status.value
    baseline_frame = table.frame.copy()
    panel.start_button.click()
    assert panel.wait(60) and panel.state == "finished", panel.error.value
    # the SFs were applied to the training rows, and training used those rows only
    assert studio.train_slice_set.names == studio.slice_set.enabled_names
    assert studio.train_slice_set.df is train_split[0]
    assert panel.n_training_rows == len(train_split[0])
    assert "per-epoch scores on the evaluation split" in panel.scores.value
    panel.use_button.click()
    assert table.shown == "run 1" and list(table.model_select.options) == ["baseline", "run 1"]
    assert "<b class='sw-model-name'>run 1</b>" in table.status.value
    assert "sw-leaky" not in table._dom_classes  # no shared rows: no red flag
    assert np.array_equal(studio.preview.preds, table.predictions["run 1"][0])
    # compare per slice, then back to the baseline
    table.compare_select.value = "baseline"
    assert table.comparison is not None
    assert "run 1 against baseline" in table.compare_html.value
    assert table.compare_html.value.count("<tr data-slice=") == 1 + len(sfs)
    table.model_select.value = "baseline"
    assert table.shown == "baseline" and np.array_equal(table.preds, preds)
    assert table.frame.equals(baseline_frame)


def test_a_training_split_sharing_rows_is_flagged_in_red(df, golds, preds, sfs):
    pytest.importorskip("torch")
    X = np.random.default_rng(1).normal(size=(len(df), 3))
    leaky = (df.iloc[:6].copy(), X[:6], golds[:6])
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, X=X, train=leaky,
                         path=None, namespace={}, training_options={"n_epochs": 1})
    studio.training.start_button.click()
    assert studio.training.wait(60)
    studio.training.use_button.click()
    assert "sw-leaky" in studio.table._dom_classes
    assert "trained on a split that shares 6 of these 10 rows" in studio.table.status.value
    studio.table.model_select.value = "baseline"
    assert "sw-leaky" not in studio.table._dom_classes


def test_training_leaves_the_global_random_generators_alone(df, golds, preds, sfs,
                                                             train_split):
    torch = pytest.importorskip("torch")
    import random

    X = np.random.default_rng(1).normal(size=(len(df), 3))

    def draws():
        return (torch.rand(3).tolist(), np.random.random(3).tolist(),  # noqa: NPY002
                [random.random() for _ in range(3)])

    def seed_all():
        torch.manual_seed(7)
        np.random.seed(7)  # noqa: NPY002
        random.seed(7)

    seed_all()
    expected = draws()
    seed_all()
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, X=X, train=train_split,
                         path=None, namespace={},
                         training_options={"n_epochs": 2, "trainer_options": {"seed": 3}})
    studio.training.start_button.click()
    assert studio.training.wait(60) and studio.training.state == "finished"
    assert draws() == expected
    # and the panel's own generators make runs repeatable
    first = studio.training.predictions[1]
    studio.training.start_button.click()
    assert studio.training.wait(60)
    assert np.allclose(first, studio.training.predictions[1])


def test_editable_false_runs_no_code_and_touches_no_file(df, golds, preds, sfs, tmp_path,
                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    (tmp_path / "slicing_functions.py").write_text(f"open({str(marker)!r}, 'w')\n")
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "dash.ipynb"))
    (tmp_path / "dash.sfs.py").write_text(f"open({str(marker)!r}, 'w')\n")
    studio = SliceStudio(df, golds=golds, preds=preds, sfs=sfs, editable=False)
    assert studio.editor is None
    classes = all_classes(studio)
    assert "sw-editor" not in classes and "sw-editor-code" not in classes
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dash.sfs.py", "slicing_functions.py"]
    # toggles, preview, table and chart work
    studio.toggles.checkboxes["check"].value = False
    assert 'data-slice="check"' not in studio.table.table.value
    studio.preview.slice_select.value = "keyword_please"
    assert "<mark>" in studio.preview.table.value
    assert "<svg" in studio.table.chart.value


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


def test_opening_a_big_studio_shows_progress(df, golds, preds, capsys, monkeypatch):
    from slicewidgets.widgets import studio as studio_module

    @slicing_function()
    def short(x):
        return len(x.text or "") < 10

    SliceStudio(df, golds, preds, sfs=[short], path=None, progress_bar=True)
    err = capsys.readouterr().err  # tqdm.auto outside a notebook: the terminal bar
    assert "Applying SFs" in err and "10/10" in err
    SliceStudio(df, golds, preds, sfs=[short], path=None)  # "auto": small frame, no bar
    assert "Applying SFs" not in capsys.readouterr().err
    monkeypatch.setattr(studio_module, "PROGRESS_ROWS", 5)
    SliceStudio(df, golds, preds, sfs=[short], path=None)  # "auto" on a "big" frame
    assert "Applying SFs" in capsys.readouterr().err
