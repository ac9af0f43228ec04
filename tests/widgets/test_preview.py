"""SlicePreview, driven headless: paging, sampling, mispredictions, highlighting, escaping."""

from __future__ import annotations

import re

import numpy as np
import pytest

from slicewidgets.slicing import SliceSet, keyword_sf, regex_sf, slicing_function
from slicewidgets.widgets import SlicePreview
from slicewidgets.widgets.preview import highlight

ROW_RE = re.compile(r"<tr data-row='(\d+)'")


def shown(preview) -> list[int]:
    return [int(p) for p in ROW_RE.findall(preview.table.value)]


@pytest.fixture
def ss(df):
    @slicing_function()
    def has_text(x):
        return isinstance(x.text, str)

    return SliceSet(df, [keyword_sf(["check"]), regex_sf(r"s\w+e", name="s_e"), has_text])


def test_classes_and_first_slice(ss):
    preview = SlicePreview(ss)
    assert "sw-preview" in preview._dom_classes
    assert "sw-preview-slice" in preview.slice_select._dom_classes
    assert "sw-preview-table" in preview.table._dom_classes
    assert preview.slice_select.options == ("keyword_check", "s_e", "has_text")
    assert preview.slice_select.value == "keyword_check"
    assert shown(preview) == [0, 3, 5]
    assert preview.info.value == "rows 1–3 of 3 in <b>keyword_check</b>"
    # the index labels of the rows, not their positions
    assert "<td class='sw-num'>103</td>" in preview.table.value


def test_text_is_escaped_and_matches_highlighted(ss):
    preview = SlicePreview(ss)
    html = preview.table.value
    assert "<script>" not in html
    assert ("<mark>Check</mark> out my channel &lt;script&gt;alert(1)&lt;/script&gt;"
            in html)
    assert "<mark>check</mark> this bit.ly/abc" in html
    assert "PLEASE <mark>check</mark> my video" in html
    preview.slice_select.value = "s_e"  # a regex SF
    assert "please <mark>subscribe</mark> plz" in preview.table.value
    preview.slice_select.value = "has_text"  # row-wise: nothing to highlight
    assert "<mark>" not in preview.table.value


def test_highlight_merges_overlaps_escapes_and_truncates():
    pats = [re.compile("ab", re.I), re.compile("bc", re.I)]
    assert highlight("xABcx<", pats) == "x<mark>ABc</mark>x&lt;"
    assert highlight(None, pats) == ""
    assert highlight(float("nan"), pats) == "nan"
    long = "a" * 500 + " needle " + "b" * 500
    out = highlight(long, [re.compile("needle")], max_chars=100)
    assert out.startswith("…") and out.endswith("…") and "<mark>needle</mark>" in out
    assert len(out.replace("<mark>", "").replace("</mark>", "")) == 102


def test_paging(ss):
    preview = SlicePreview(ss, page_size=4)
    preview.slice_select.value = "has_text"
    assert preview.page.max == 3 and preview.page.value == 1
    assert shown(preview) == [0, 1, 2, 3]
    assert preview.prev_button.disabled and not preview.next_button.disabled
    preview.next_button.click()
    assert shown(preview) == [4, 5, 6, 8]
    preview.next_button.click()
    assert shown(preview) == [9]
    assert preview.info.value == "rows 9–9 of 9 in <b>has_text</b>"
    assert preview.next_button.disabled
    preview.next_button.click()  # clamped
    assert preview.page.value == 3
    preview.page.value = 1
    assert shown(preview) == [0, 1, 2, 3]
    # another slice starts at page 1
    preview.page.value = 2
    preview.slice_select.value = "keyword_check"
    assert preview.page.value == 1 and preview.page.max == 1


def test_random_sample_is_reproducible_and_a_permutation_of_the_slice(ss):
    preview = SlicePreview(ss, page_size=20)
    preview.slice_select.value = "has_text"
    preview.random_order.value = True
    first = shown(preview)
    assert sorted(first) == [0, 1, 2, 3, 4, 5, 6, 8, 9] and first != sorted(first)
    assert first == np.random.default_rng(0).permutation([0, 1, 2, 3, 4, 5, 6, 8, 9]).tolist()
    assert "random order (seed 0)" in preview.info.value
    preview.resample_button.click()
    assert preview.seed.value == 1
    assert shown(preview) == np.random.default_rng(1).permutation(
        [0, 1, 2, 3, 4, 5, 6, 8, 9]).tolist()
    preview.seed.value = 0
    assert shown(preview) == first


def test_only_mispredicted(ss, golds, preds):
    preview = SlicePreview(ss, golds=golds, preds=preds)
    assert not preview.only_mispredicted.disabled
    preview.slice_select.value = "has_text"
    assert "sw-mispredicted" in preview.table.value
    preview.only_mispredicted.value = True
    assert shown(preview) == [2, 5, 9]
    assert preview.table.value.count("class='sw-mispredicted'") == 3
    assert "of 3 mispredicted in" in preview.info.value
    preview.slice_select.value = "keyword_check"
    assert shown(preview) == [5]
    # new predictions: everything right
    preview.set_predictions(golds)
    assert shown(preview) == []
    assert preview.info.value == "keyword_check: no rows mispredicted"


def test_mispredicted_needs_labels(ss):
    preview = SlicePreview(ss)
    assert preview.only_mispredicted.disabled
    assert "<th>gold</th>" not in preview.table.value


def test_predictions_of_the_wrong_length(ss, golds):
    preview = SlicePreview(ss, golds=golds)
    with pytest.raises(ValueError, match=r"preds has 3 rows but the data has 10; pass one "
                                         r"prediction per row"):
        preview.set_predictions([0, 1, 0])
    assert preview.preds is None


def test_follows_slice_edits_and_removals(ss):
    preview = SlicePreview(ss)
    ss.update(keyword_sf(["check", "song"], name="keyword_check"))
    assert shown(preview) == [0, 1, 3, 5, 6]
    assert "nice <mark>song</mark>" in preview.table.value
    ss.remove("keyword_check")
    assert preview.slice_select.options == ("s_e", "has_text")
    assert preview.slice_select.value == "s_e"
    assert shown(preview) == [2, 8]
    ss.add(keyword_sf("love"))
    assert preview.slice_select.value == "s_e"  # the current choice is kept


def test_empty_slice_set():
    import pandas as pd

    preview = SlicePreview(SliceSet(pd.DataFrame({"text": ["a"]})))
    assert preview.slice_select.value is None
    assert preview.info.value == "no slices yet"
    assert shown(preview) == []


def test_without_the_text_column_other_columns_are_shown(df):
    ss = SliceSet(df, [keyword_sf("user1", column="author")])
    preview = SlicePreview(ss, text_column="comment")  # no such column
    html = preview.table.value
    assert "<th>text</th>" in html and "<th>author</th>" in html
    assert "<mark>user1</mark>" in html  # the author column is highlighted
    assert shown(preview) == [1]


def test_duplicate_column_names_are_shown_by_position():
    import pandas as pd

    from slicewidgets.slicing import SliceSet, keyword_sf

    frame = pd.DataFrame([["check it", "a", "b"], ["nice", "c", "d"]],
                         columns=["text", "author", "author"])
    preview = SlicePreview(SliceSet(frame, [keyword_sf("check")]))
    html = preview.table.value
    assert html.count("<th>author</th>") == 2 and "<td>a</td><td>b</td>" in html
    assert preview.error.value == ""


def test_paging_controls_change_in_one_message_each(df, golds, preds):
    from slicewidgets.slicing import SliceSet, keyword_sf
    from slicewidgets.widgets import SlicePreview

    ss = SliceSet(df, [keyword_sf(["check", "song", "plz", "love"], name="many")])
    preview = SlicePreview(ss, golds=golds, preds=preds, page_size=2)
    preview.page.value = 2
    sent: list = []
    preview.page._send = lambda msg, buffers=None: sent.append(msg["state"])
    ss.update(keyword_sf(["song"], name="many"))  # fewer rows: page and max both change
    assert len(sent) == 1 and set(sent[0]) >= {"value", "max"}, sent
