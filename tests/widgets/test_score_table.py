"""ScoreTable, driven headless: rows, sizes, sorting, live refresh, predictions, the chart."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from slicewidgets.analysis import Scorer
from slicewidgets.slicing import SliceSet, keyword_sf, slicing_function
from slicewidgets.widgets import ScoreTable
from slicewidgets.widgets._charts import bar_chart_svg
from slicewidgets.widgets.score_table import MSG_LENGTH

ROW_RE = re.compile(r'<tr data-slice="([^"]*)"[^>]*><td class=\'sw-name\'>[^<]*</td>'
                    r"<td class='sw-n'>([\d,]+)</td>")


def rows(table) -> list[tuple[str, int]]:
    return [(name, int(n.replace(",", ""))) for name, n in ROW_RE.findall(table.table.value)]


@pytest.fixture
def big():
    """200 rows: a slice where the model is always wrong, one where it is always right."""
    n = 200
    rng = np.random.default_rng(0)
    words = np.array(["check", "song", "love", "plz"])
    df = pd.DataFrame({"text": [f"{w} {i}" for i, w in enumerate(rng.choice(words, n))]})
    golds = rng.integers(0, 2, n)
    preds = golds.copy()
    check = df.text.str.startswith("check").to_numpy()
    song = df.text.str.startswith("song").to_numpy()
    preds[check] = 1 - golds[check]
    ss = SliceSet(df, [keyword_sf("check"), keyword_sf("song"), keyword_sf("love")])
    return ss, golds, preds, check, song


def test_one_row_per_slice_with_its_size(big):
    ss, golds, preds, check, song = big
    table = ScoreTable(ss, golds, preds)
    assert "sw-score-table" in table._dom_classes
    assert "sw-score-chart" in table.chart._dom_classes
    assert dict(rows(table)) == {name: size for name, size in ss.sizes().items()}
    assert dict(rows(table))["keyword_check"] == int(check.sum())
    # the overall row carries no data-slice
    assert "<tr class='sw-overall'><td>overall</td><td class='sw-num'>200</td>" \
        in table.table.value
    assert table.table.value.count("class='sw-n'") == 3


def test_scores_come_from_the_statistics_report(big):
    ss, golds, preds, check, _ = big
    table = ScoreTable(ss, golds, preds, metrics=["accuracy", "f1"])
    expected = Scorer(["accuracy", "f1"]).slice_report(ss.membership(), golds, preds,
                                                       random_state=0)
    pd.testing.assert_frame_equal(table.frame, expected.to_frame(include_overall=False))
    assert table.report is not None and table.overall == expected.overall
    check_row = table.frame.query("slice == 'keyword_check' and metric == 'accuracy'").iloc[0]
    assert check_row.score == 0.0 and check_row.flag == "worse"
    html = table.table.value
    assert '<tr data-slice="keyword_check" class=\'sw-flag-worse\'>' in html
    assert f"[{check_row.ci_low:.3f}, {check_row.ci_high:.3f}]" in html
    assert "95% intervals, flags at q &lt; 0.05" in table.status.value


def test_sorting(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds, metrics=["accuracy"])
    assert table.sort_by.options == ("gap", "n", "score", "name")
    assert [n for n, _ in rows(table)][0] == "keyword_check"  # gap: worst first
    table.sort_by.value = "name"
    assert [n for n, _ in rows(table)] == ["keyword_check", "keyword_love", "keyword_song"]
    table.sort_by.value = "n"
    sizes = [s for _, s in rows(table)]
    assert sizes == sorted(sizes, reverse=True)
    table.sort_by.value = "score"
    assert [n for n, _ in rows(table)][0] == "keyword_check"
    assert table.refresh_count == 1  # sorting redraws, it never recomputes


def test_refreshes_on_edits_and_toggles_without_recomputing_other_slices(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds)
    computed = ss.n_computed
    ss.update(keyword_sf(["check", "plz"], name="keyword_check"))
    assert ss.n_computed == computed + 1
    assert dict(rows(table))["keyword_check"] == ss.sizes()["keyword_check"]
    ss.set_enabled("keyword_love", False)
    assert "keyword_love" not in dict(rows(table))
    ss.add(keyword_sf("zzz"))
    assert dict(rows(table))["keyword_zzz"] == 0
    assert table.refresh_count == 4


def test_names_are_escaped(big):
    ss, golds, preds, *_ = big
    ss.add(keyword_sf("love", name='<b>"x"</b>'))
    table = ScoreTable(ss, golds, preds)
    assert '<tr data-slice="&lt;b&gt;&quot;x&quot;&lt;/b&gt;"' in table.table.value
    assert '<b>"x"</b>' not in table.table.value
    assert '<td class=\'sw-name\'>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</td>' in table.table.value
    assert "<b>\"x\"" not in table.chart.value


def test_set_predictions_validates_the_length(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds)
    before = table.frame.copy()
    with pytest.raises(ValueError) as info:
        table.set_predictions(preds[:150])
    message = MSG_LENGTH.format(what="preds", got=150, n=200, item="prediction")
    assert str(info.value) == message
    assert message.startswith("preds has 150 rows but the data has 200; pass one prediction")
    assert "preds has 150 rows but the data has 200" in table.error.value
    assert table.preds is preds or np.array_equal(table.preds, preds)  # kept
    pd.testing.assert_frame_equal(table.frame, before)
    with pytest.raises(ValueError, match="^probs has 3 rows but the data has 200"):
        table.set_predictions(None, np.full((3, 2), 0.5))
    # good predictions clear the error and rescore
    table.set_predictions(golds)
    assert table.error.value == ""
    assert (table.frame.query("metric == 'accuracy'").score == 1.0).all()


def test_probs_only_and_listeners(big):
    ss, golds, preds, *_ = big
    seen = []
    table = ScoreTable(ss, golds)
    table.on_predictions(lambda p, q: seen.append((p, q)))
    probs = np.eye(2)[preds]
    table.set_predictions(probs=probs)
    assert np.array_equal(table.preds, preds)
    assert len(seen) == 1 and np.array_equal(seen[0][0], preds)


def test_sizes_only_without_predictions(big):
    ss, golds, *_ = big
    table = ScoreTable(ss, golds)
    assert dict(rows(table)) == ss.sizes()
    assert "<th>accuracy</th>" not in table.table.value
    assert "sizes only: pass golds= and preds=" in table.status.value
    assert table.chart.value == "" and table.chart.layout.display == "none"


def test_golds_of_the_wrong_length_raise_at_construction(big):
    ss, golds, preds, *_ = big
    with pytest.raises(ValueError, match="^golds has 10 rows but the data has 200"):
        ScoreTable(ss, golds[:10], preds)


def test_a_new_frame_of_another_length_shows_an_error(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds)
    ss.set_frame(ss.df.iloc[:50])
    assert table.error.value.startswith("<pre>Error while scoring the slices: ValueError: golds "
                                        "has 200 rows but the data has 50")
    assert "<tr data-slice=" not in table.table.value


def test_sf_raising_on_some_rows_is_still_scored(big):
    ss, golds, preds, *_ = big

    @slicing_function()
    def fussy(x):
        if x.text.endswith("7"):
            raise ValueError("sevens")
        return x.text.startswith("love")

    ss.add(fussy)
    table = ScoreTable(ss, golds, preds)
    assert dict(rows(table))["fussy"] > 0
    assert ss.errors["fussy"].faults["fussy"] == 20


def test_chart_has_a_bar_and_an_error_bar_per_slice(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds)
    svg = table.chart.value
    assert svg.startswith("<svg") and svg.count("<rect class='sw-bar'") == 3
    assert svg.count("class='sw-errorbar'") == 3
    assert "class='sw-overall-line'" in svg
    assert "fill='#c62828'" in svg  # the 'worse' slice in red
    table.chart_toggle.value = False
    assert table.chart.value == ""
    table.chart_toggle.value = True
    assert table.chart.value == svg


def test_bar_chart_svg_skips_undefined_scores():
    svg = bar_chart_svg([("a", 0.5, 0.4, 0.6, "ok"), ("b", float("nan"), 0, 0, "")],
                        overall=float("nan"), metric="f1")
    assert svg.count("<rect class='sw-bar'") == 1 and "sw-overall-line" not in svg


def test_fallback_without_the_statistics_module(big, monkeypatch):
    import sys

    ss, golds, preds, *_ = big
    monkeypatch.setitem(sys.modules, "slicewidgets.analysis.report", None)  # ImportError
    table = ScoreTable(ss, golds, preds, metrics=["accuracy"])
    assert table.report is None
    expected = Scorer(["accuracy"]).score_slices(ss.membership(), golds, preds)
    got = table.frame.set_index("slice")["score"].to_dict()
    assert got == {k: v["accuracy"] for k, v in expected.items() if k != "overall"}
    assert dict(rows(table)) == ss.sizes()


def test_metric_choice_drives_gap_column_and_chart(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds, metrics=["accuracy", "f1"])
    assert table.metric.options == ("accuracy", "f1")
    assert "<th>gap (accuracy)</th>" in table.table.value
    assert "accuracy (bars: score" in table.chart.value
    table.metric.value = "f1"
    assert "<th>gap (f1)</th>" in table.table.value
    assert "f1 (bars: score" in table.chart.value
    assert table.refresh_count == 1


def test_string_golds_status_counts_the_enabled_slices_and_shows_the_error(df):
    from slicewidgets.slicing import SliceSet, keyword_sf

    ss = SliceSet(df, [keyword_sf(["love"])])
    golds = np.array(["spam", "ham"] * 5)
    table = ScoreTable(ss, golds, golds, metrics=["accuracy"])
    assert "(1 disabled)" not in table.status.value
    assert "· 1 slice · 10 rows" in table.status.value
    assert "sw-error" in table._dom_classes and table.error.value  # the scoring error is shown


# -- stable statistics (issue #16, item 7) -----------------------------------------------------
def _intervals(table) -> dict:
    f = table.frame
    return {(s, m): (lo, hi) for s, m, lo, hi in zip(f.slice, f.metric, f.ci_low, f.ci_high,
                                                      strict=True)}


def test_intervals_of_untouched_slices_never_move(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds, metrics=["accuracy", "f1"], n_boot=300)
    before = _intervals(table)
    assert any(m == "f1" for _, m in before)  # a bootstrap interval is among them
    ss.add(keyword_sf("plz"))  # a new slice
    after = _intervals(table)
    assert {k: after[k] for k in before} == before
    ss.set_enabled("keyword_love", False)  # a toggle
    toggled = _intervals(table)
    assert {k: toggled[k] for k in toggled} == {k: after[k] for k in toggled}
    ss.update(keyword_sf(["song", "plz"], name="keyword_song"))  # an edit moves only it
    edited = _intervals(table)
    assert {k: v for k, v in edited.items() if k[0] != "keyword_song"} == \
        {k: v for k, v in toggled.items() if k[0] != "keyword_song"}


def test_the_flag_column_names_its_metric_and_follows_the_pick(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds, metrics=["accuracy", "f1"])
    head = re.compile(r"<th colspan='2' class='sw-test-head'[^>]*>(\w+) vs the rest</th></tr>"
                      r"<tr><th>gap \(\1\)</th><th class='sw-flag-head'>flag</th>")
    assert head.findall(table.table.value) == ["accuracy"]
    assert "flags at q &lt; 0.05 on accuracy" in table.status.value
    table.metric.value = "f1"
    html = table.table.value
    assert head.findall(html) == ["f1"]
    assert "on f1" in table.status.value
    f1 = table.frame.query("metric == 'f1'")
    for name, flag in zip(f1.slice, f1.flag, strict=True):
        cls = f" class='sw-flag-{flag}'" if flag else ""
        assert f'<tr data-slice="{name}"{cls}>' in html


# -- thin, well-behaved widgets (item 8) -------------------------------------------------------
def test_state_is_traitlets_that_can_be_observed(big):
    ss, golds, preds, *_ = big
    table = ScoreTable(ss, golds, preds)
    seen: list = []
    table.observe(lambda c: seen.append((c["name"], c["new"])),
                  names=["shown", "prediction_revision"])
    counts: list = []
    table.observe(lambda c: counts.append(c["new"]), names="refresh_count")
    table.add_predictions("run 1", golds)
    assert ("shown", "run 1") in seen and table.shown == "run 1"
    assert counts and counts[-1] == table.refresh_count
    table.model_select.value = "baseline"
    assert seen[-2:] == [("shown", "baseline"), ("prediction_revision", 3)]
    assert table.preds is preds or (table.preds == preds).all()
    with pytest.raises(Exception, match="read-only"):
        table.refresh_count = 0


def test_closing_tables_releases_their_subscriptions(big):
    ss, golds, preds, *_ = big
    tables = [ScoreTable(ss, golds, preds) for _ in range(5)]
    before = [t.refresh_count for t in tables]
    for t in tables[:4]:
        t.close()
    ss.set_enabled("keyword_love", False)
    assert [t.refresh_count - b for t, b in zip(tables, before, strict=True)] == [0, 0, 0, 0, 1]


def test_refreshes_are_debounced_inside_a_running_loop(big):
    import asyncio

    ss, golds, preds, *_ = big

    async def scenario() -> None:
        table = ScoreTable(ss, golds, preds)  # built on the loop, as in a kernel
        start = table.refresh_count
        for name in ss.names:  # a burst: three checkboxes clicked in a row
            ss.set_enabled(name, False)
        assert table.refresh_count == start + 1  # the first at once, the rest merged
        assert table._refresher.pending
        await asyncio.sleep(0.3)
        assert table.refresh_count == start + 2 and not table._refresher.pending
        assert "0 slices (3 disabled)" in table.status.value
        # a reader never sees a stale result: reading runs the pending refresh
        ss.set_enabled("keyword_song", True)
        ss.set_enabled("keyword_love", True)
        assert set(table.frame.slice) == {"keyword_song", "keyword_love"}
        assert table.refresh_count == start + 4
        # closing drops a pending refresh: nothing runs on a closed table
        ss.set_enabled("keyword_check", True)
        ss.set_enabled("keyword_check", False)
        assert table._refresher.pending
        count = table.refresh_count
        table.close()
        await asyncio.sleep(0.3)
        assert table.refresh_count == count and not table._refresher.pending

    asyncio.run(scenario())
