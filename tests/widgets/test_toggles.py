"""SFToggles, driven headless: one checkbox per SF with coverage, toggles reach the table."""

from __future__ import annotations

from slicewidgets.slicing import SliceSet, keyword_sf, slicing_function
from slicewidgets.widgets import ScoreTable, SFEditor, SFToggles
from slicewidgets.widgets.toggles import coverage_text


def sfs():
    return [keyword_sf(["please", "plz"]), keyword_sf("check"), keyword_sf("song")]


def test_one_checkbox_per_sf_with_coverage(df):
    toggles = SFToggles(SliceSet(df, sfs()))
    assert "sw-toggles" in toggles._dom_classes
    assert list(toggles.checkboxes) == ["keyword_please", "keyword_check", "keyword_song"]
    for name, box in toggles.checkboxes.items():
        assert box.description == name and box.value is True
        assert "sw-toggle" in box._dom_classes
        assert "sw-toggle-coverage" in toggles.coverage[name]._dom_classes
    assert toggles.coverage["keyword_please"].value == "2 rows (20.0%)"
    assert toggles.coverage["keyword_check"].value == "3 rows (30.0%)"
    assert [row.children[0] for row in toggles.list.children] == list(toggles.checkboxes.values())


def test_coverage_text():
    assert coverage_text(92, 250) == "92 rows (36.8%)"
    assert coverage_text(1, 3) == "1 row (33.3%)"
    assert coverage_text(1234, 10_000) == "1,234 rows (12.3%)"


def test_toggling_disables_the_slice_and_updates_the_table(df, golds, preds):
    ss = SliceSet(df, sfs())
    toggles = SFToggles(ss)
    table = ScoreTable(ss, golds, preds, metrics=["accuracy"])
    before = ss.n_computed
    toggles.checkboxes["keyword_check"].value = False
    assert ss.enabled_names == ["keyword_please", "keyword_song"]
    assert 'data-slice="keyword_check"' not in table.table.value
    assert table.table.value.count("<tr data-slice=") == 2
    assert "(1 disabled)" in table.status.value
    # the label still shows its coverage
    assert toggles.coverage["keyword_check"].value == "3 rows (30.0%)"
    toggles.checkboxes["keyword_check"].value = True
    assert 'data-slice="keyword_check"' in table.table.value
    assert ss.n_computed == before  # toggling never recomputes


def test_changes_made_elsewhere_are_reflected(df, tmp_path):
    ss = SliceSet(df, sfs())
    toggles = SFToggles(ss)
    ss.set_enabled("keyword_song", False)
    assert toggles.checkboxes["keyword_song"].value is False
    editor = SFEditor(ss, namespace={}, path=tmp_path / "sfs.py")
    editor.code.value = "love = keyword_sf(['love', 'great'], name='love')"
    editor.apply_button.click()
    assert list(toggles.checkboxes) == ["keyword_please", "keyword_check", "keyword_song", "love"]
    assert toggles.coverage["love"].value == "2 rows (20.0%)"
    editor.code.value = "love = keyword_sf(['love'], name='love')"
    editor.apply_button.click()
    assert toggles.coverage["love"].value == "1 row (10.0%)"
    ss.remove("keyword_please")
    assert "keyword_please" not in toggles.checkboxes
    assert len(toggles.list.children) == 3


def test_faults_are_shown_next_to_coverage(df):
    @slicing_function()
    def lower_check(x):
        return "check" in x.text.lower()

    toggles = SFToggles(SliceSet(df, [lower_check]))
    value = toggles.coverage["lower_check"].value
    assert value.startswith("3 rows (30.0%) <span class='sw-toggle-faults'")
    assert "⚠ 1 failed" in value and "AttributeError" in value


def test_all_and_none_buttons_refresh_the_table_once(df, golds, preds):
    ss = SliceSet(df, sfs())
    toggles = SFToggles(ss)
    table = ScoreTable(ss, golds, preds)
    count = table.refresh_count
    toggles.none_button.click()
    assert ss.enabled_names == [] and table.refresh_count == count + 1
    assert all(box.value is False for box in toggles.checkboxes.values())
    assert "<tr data-slice=" not in table.table.value
    toggles.all_button.click()
    assert ss.enabled_names == ss.names and table.refresh_count == count + 2


def test_an_error_in_the_handler_is_shown_not_raised(df, monkeypatch):
    ss = SliceSet(df, sfs())
    toggles = SFToggles(ss)

    def broken(name, enabled=True):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ss, "set_enabled", broken)
    toggles.checkboxes["keyword_song"].value = False  # no exception reaches the caller
    assert toggles.error.value.startswith(
        "<pre>Error while toggling keyword_song: RuntimeError: disk on fire")
    assert "sw-error" in toggles._dom_classes
    assert isinstance(toggles.last_exception, RuntimeError)
