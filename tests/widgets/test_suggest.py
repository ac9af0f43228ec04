"""SuggestPanel, driven headless: search, confirmation split, preview, add to the editor, cancel."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from slicewidgets.discovery import find_slices
from slicewidgets.slicing import SliceSet
from slicewidgets.widgets import SFEditor, SliceStudio
from slicewidgets.widgets.suggest import MSG_NO_EDITOR, SuggestPanel


def planted(n=3000, seed=0):
    """Errors 50% where country == 'fr' and device == 'web', else 8%; a text column too."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "country": rng.choice(["fr", "de", "us"], n),
        "device": rng.choice(["ios", "web"], n),
        "age": rng.integers(18, 80, n),
        "text": rng.choice(["nice song <b>x</b>", "check my channel", "love it so much"], n),
    })
    golds = rng.integers(0, 2, n)
    weak = ((df.country == "fr") & (df.device == "web")).to_numpy()
    wrong = rng.random(n) < np.where(weak, 0.5, 0.08)
    preds = np.where(wrong, 1 - golds, golds)
    return df, golds, preds, weak


@pytest.fixture(scope="module")
def data():
    return planted()


def test_click_finds_and_confirms_the_planted_slice_on_the_other_half(data):
    df, golds, preds, weak = data
    panel = SuggestPanel(df, golds, preds, background=False, k=5)
    assert panel.result is None
    panel.run_button.click()
    result = panel.result
    top = result[0]
    assert top.description == "country == 'fr' and device == 'web'"
    # discovered on one half, confirmed on the other: the two halves partition df
    assert top.n + top.confirmation.n == weak.sum()
    assert result.meta["n"] + result.meta["n_confirm"] == len(df)
    assert top.confirmation.flag == "worse"
    # what the panel shows is the result's own figures
    assert top.name in panel.table.value and "worse" in panel.table.value
    assert [v for _, v in panel.choice.options] == [c.name for c in result]
    assert panel.choice.value == top.name
    assert "@slicing_function" in panel.code_view.value
    assert "found on" in panel.note.value.lower() and "other" in panel.note.value
    assert "sw-suggest-warn" in panel.note.value  # the table scores those rows too
    assert f"{len(result)} candidates" in panel.status.value
    # no editor: the add button is off and the code is offered to copy
    assert panel.add_button.disabled
    assert "copy the code" in panel.code_view.value
    with pytest.raises(ValueError, match="No editor"):
        panel.add()


def test_split_matches_find_slices_on_the_same_halves(data):
    df, golds, preds, _ = data
    panel = SuggestPanel(df, golds, preds, background=False, k=5, random_state=3)
    panel.run()
    rng = np.random.default_rng(3)
    confirm = np.zeros(len(df), dtype=bool)
    confirm[rng.permutation(len(df))[:len(df) // 2]] = True
    d, c = np.flatnonzero(~confirm), np.flatnonzero(confirm)
    expected = find_slices(df.iloc[d].reset_index(drop=True), golds[d], preds[d], k=5,
                           confirm_on=(df.iloc[c], golds[c], preds[c]))
    assert panel.result.to_frame().equals(expected.to_frame())


def test_discover_on_confirms_on_all_of_df(data):
    df, golds, preds, weak = data
    dev = planted(seed=1)
    panel = SuggestPanel(df, golds, preds, discover_on=dev[:3], background=False, k=3,
                         max_order=2)
    panel.run_button.click()
    top = panel.result[0]
    assert top.n == dev[3].sum()
    assert top.confirmation.n == weak.sum()
    assert panel.result.meta["n_confirm"] == len(df)
    assert "played no part" in panel.note.value and "sw-suggest-warn" not in panel.note.value


def test_preview_shows_the_slice_rows_mispredicted_first_and_escaped(data):
    df, golds, preds, weak = data
    panel = SuggestPanel(df, golds, preds, background=False, k=3, page_size=4)
    panel.run()
    html = panel.rows_view.value
    n_wrong = int((golds[weak] != preds[weak]).sum())
    assert f"{weak.sum():,} rows of this data in the slice, {n_wrong:,} mispredicted" in html
    assert html.count("sw-mispredicted") == 4  # the first page holds only mispredicted rows
    assert "<b>x</b>" not in html
    if "nice song" in html:
        assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_controls_reach_find_slices(data):
    df, golds, preds, _ = data
    panel = SuggestPanel(df, golds, preds, background=False)
    panel.k.value = 2
    panel.max_order.value = 1
    panel.min_support.value = 100
    panel.run_button.click()
    assert len(panel.result) == 2
    assert all(c.order == 1 and c.n >= 100 for c in panel.result)
    assert panel.result.meta["min_support"] == 100


def test_errors_are_shown_not_raised(data):
    df, golds, preds, _ = data
    panel = SuggestPanel(df, golds, preds, background=False, order_by="nonsense")
    panel.run_button.click()
    assert panel.result is None
    assert "order_by must be one of" in panel.error.value
    assert "failed" in panel.status.value
    # nothing to find: a perfect model
    ok = SuggestPanel(df, golds, golds, background=False)
    ok.run_button.click()
    assert len(ok.result) == 0 and "No slice with more errors" in ok.table.value
    with pytest.raises(ValueError, match="preds has 3 rows but df has 3000"):
        panel.set_predictions([0, 1, 0])


def test_bad_arguments():
    df = pd.DataFrame({"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="golds has 2 rows but the DataFrame has 3"):
        SuggestPanel(df, [0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="discover_on must be"):
        SuggestPanel(df, [0, 1, 0], [0, 1, 1], discover_on=df)
    with pytest.raises(ValueError, match="confirm_fraction"):
        SuggestPanel(df, [0, 1, 0], [0, 1, 1], confirm_fraction=1.0)


def test_add_puts_code_in_the_editor_and_applies_it(data):
    df, golds, preds, weak = data
    ns = {"country_fr_and_device_web": "a user's variable, not a slicing function"}
    editor = SFEditor(SliceSet(df), namespace=ns, path=None, background=False)
    panel = SuggestPanel(df, golds, preds, editor=editor, background=False, k=3)
    panel.run()
    assert not panel.add_button.disabled
    top = panel.chosen
    panel.add_button.click()
    # the user's variable is kept; the slice is renamed rather than overwriting it
    assert ns["country_fr_and_device_web"] == "a user's variable, not a slicing function"
    name = "country_fr_and_device_web_sf"
    assert name in editor.slice_set
    np.testing.assert_array_equal(editor.slice_set.mask(name), weak)
    assert f"def {name}(df):" in editor.code.value
    assert not editor.last_result.errors
    # adding it again never overwrites the first one
    panel.add(top.name)
    names = [n for n in editor.slice_set.names if n.startswith("country_fr_and_device_web")]
    assert len(names) == 2
    assert f"Added {names[-1]}" in panel.status.value


def test_for_studio_adds_a_row_to_the_score_table(data):
    df, golds, preds, weak = data
    studio = SliceStudio(df, golds=golds, preds=preds, path=None, namespace={})
    studio.editor.background = False
    panel = SuggestPanel.for_studio(studio, background=False, k=3)
    assert panel.editor is studio.editor
    panel.run()
    top = panel.chosen
    panel.add()
    frame = studio.table.frame.query("metric == 'accuracy'").set_index("slice")
    assert top.name in frame.index
    assert frame.loc[top.name, "n"] == weak.sum()
    # the studio's model list drives the panel's next run
    studio.set_predictions(golds)
    np.testing.assert_array_equal(panel.preds, golds)
    assert "predictions changed" in panel.status.value


def test_background_run_and_cancel(data):
    df, golds, preds, _ = data
    panel = SuggestPanel(df, golds, preds, background=True, k=3)
    panel.run_button.click()
    assert panel.wait(60)
    assert panel.result is not None and panel.result[0].confirmation.flag == "worse"
    assert not panel.run_button.disabled and panel.cancel_button.layout.display == "none"
    before = panel.result
    started = threading.Event()

    def endless(progress=None):
        started.set()
        while True:
            time.sleep(0.001)

    panel._search = endless
    panel.run_button.click()
    assert started.wait(10)
    assert panel.busy and panel.run_button.disabled
    assert panel.cancel_button.layout.display is None
    panel.cancel_button.click()
    assert panel.wait(10)
    assert "Cancelled" in panel.status.value
    assert panel.result is before
    assert not panel.run_button.disabled


def test_find_slices_reports_progress_by_stage(data):
    df, golds, preds, _ = data
    calls = []
    find_slices(df, golds, preds, k=3, max_order=3, confirm_on=(df, golds, preds),
                progress=lambda done, total, stage: calls.append((done, total, stage)))
    stages = list(dict.fromkeys(s for _, _, s in calls))
    assert stages == ["predicates", "level 2", "level 3", "confirmation"]
    level2 = [(d, t) for d, t, s in calls if s == "level 2"]
    assert level2[-1][0] == level2[-1][1] > 0
    assert [d for d, _ in level2] == sorted(d for d, _ in level2)


def test_no_editor_message_is_pinned():
    assert MSG_NO_EDITOR.startswith("No editor to add to")


def test_studio_suggest_section(data):
    df, golds, preds, weak = data
    dev = planted(seed=1)
    studio = SliceStudio(df, golds=golds, preds=preds, path=None, namespace={},
                         suggest=dev[:3])
    panel = studio.suggest
    assert isinstance(panel, SuggestPanel)
    assert any(panel in getattr(child, "children", ()) for child in studio.children)
    assert panel.editor is studio.editor and panel.discover_on is not None
    panel.background = False
    studio.editor.background = False
    panel.run_button.click()
    top = panel.result[0]
    assert top.confirmation.n == weak.sum()
    panel.add_button.click()
    assert top.name in studio.slice_set
    np.testing.assert_array_equal(studio.slice_set.mask(top.name), weak)
    # without suggest= there is no panel; suggest=True splits df itself
    assert SliceStudio(df, golds=golds, preds=preds, path=None, namespace={}).suggest is None
    halves = SliceStudio(df, golds=golds, preds=preds, path=None, namespace={}, suggest=True)
    assert halves.suggest.discover_on is None
