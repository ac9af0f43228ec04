"""End to end: the "Suggest slices" panel in JupyterLab, clicked by a person in headless Chromium.

The notebook ``suggest_spam.ipynb`` (spam data, the tutorial's logistic regression, out-of-fold
predictions of the training rows as the discovery split) shows a studio over the evaluation rows
with its "Suggest slices" section (``SliceStudio(..., suggest=...)``). In order (one page, one
kernel):

1. *Suggest slices* runs the search in the kernel's background and lists the candidates the
   core library finds for the same data, with their confirmation flags;
2. the confirmed candidate is chosen in the list: its code and its rows are shown;
3. *Add to editor* appends its code to the editor, the studio's score table gains its row with
   the size the core library computes, and the code is saved with the editor's file;
4. the browser logged no JS error and made no request outside 127.0.0.1.

Screenshots go under ``test-artifacts/browser/`` (``suggest_*.png``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.conftest import (  # noqa: E402
    BROWSER_MARKS,
    KERNEL_IDLE_JS,
    low_contrast,
    run_notebook,
    set_theme,
)

pytestmark = BROWSER_MARKS

NOTEBOOKS = ("suggest_spam.ipynb",)  # copied by the ``lab`` fixture into the server root

CELL_ERRORS_JS = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return nb.widgets.filter(c => c.model.type === 'code')
    .flatMap(c => c.model.outputs.toJSON())
    .filter(o => o.output_type === 'error')
    .map(o => o.ename + ': ' + o.evalue);
}"""


@pytest.fixture(scope="module")
def expected(spam_data_dir):
    """What the core library finds on the notebook's data (computed independently here)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from slicewidgets.datasets import df_to_features, load_spam_dataset
    from slicewidgets.discovery import find_slices

    df_train, _, df_valid, df_test = load_spam_dataset(
        load_train_labels=True, split_dev_valid=True, data_dir=spam_data_dir)
    df_eval = pd.concat([df_valid, df_test], ignore_index=True)
    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_eval, Y_eval = df_to_features(vectorizer, df_eval, "eval")

    def make_model():
        return LogisticRegression(C=0.001, solver="liblinear")

    preds_eval = make_model().fit(X_train, Y_train).predict(X_eval)
    oof = cross_val_predict(make_model(), X_train, Y_train, cv=5)
    found = find_slices(df_train[["text"]].reset_index(drop=True), Y_train, oof,
                        confirm_on=(df_eval, Y_eval, preds_eval))
    confirmed = found.confirmed()
    assert confirmed, "the notebook's data should give a confirmed slice"
    return {"found": found, "confirmed": confirmed[0],
            "size": int(np.asarray(confirmed[0].mask(df_eval)).sum())}


@pytest.fixture(scope="module")
def suggest(lab, page: Page):
    """The notebook opened and run: the panel and the studio are on screen, the kernel idle."""
    run_notebook(page, lab, NOTEBOOKS[0])
    try:
        expect(page.locator(".sw-studio")).to_be_visible(timeout=150_000)
        page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000)
    finally:
        errors = page.evaluate(CELL_ERRORS_JS)
        assert not errors, f"the notebook raised: {errors}"
    return page.locator(".sw-suggest")


def shot(page: Page, artifacts, name: str, focus: str = ".sw-suggest") -> None:
    page.locator(focus).first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"suggest_{name}.png"))


def test_01_suggest_lists_the_candidates_of_the_core(page, suggest, expected, artifacts):
    expect(suggest).to_have_count(1)
    table = suggest.locator(".sw-suggest-table tbody tr")
    expect(table).to_have_count(0)
    suggest.locator(".sw-suggest-run").click()
    found = expected["found"]
    expect(table).to_have_count(len(found), timeout=120_000)
    for row, cand in zip(table.all(), found, strict=True):
        expect(row).to_contain_text(cand.name)
        expect(row.locator(".sw-flag")).to_have_text(cand.confirmation.flag)
    expect(suggest.locator(".sw-suggest-status")).to_contain_text(
        f"{len(found)} candidates")
    expect(suggest.locator(".sw-suggest-run")).to_be_enabled()
    shot(page, artifacts, "listed")


def test_02_choosing_a_candidate_shows_its_code_and_rows(page, suggest, expected, artifacts):
    cand = expected["confirmed"]
    choice = suggest.locator(".sw-suggest-choice select")
    choice.select_option(label=f"{cand.rank}. {cand.description} (worse)")
    expect(suggest.locator(".sw-suggest-code")).to_contain_text(f"def {cand.name}(df):")
    expect(suggest.locator(".sw-suggest-rows")).to_contain_text(
        f"{expected['size']:,} rows of this data in the slice")
    expect(suggest.locator(".sw-suggest-table tr.sw-chosen")).to_contain_text(cand.name)
    shot(page, artifacts, "chosen")


def test_03_add_to_editor_adds_a_scored_slice(lab, page, suggest, expected, artifacts):
    cand = expected["confirmed"]
    row = page.locator(f'.sw-score-table tr[data-slice="{cand.name}"]')
    expect(row).to_have_count(0)
    suggest.locator(".sw-suggest-add").click()
    expect(row).to_have_count(1, timeout=60_000)
    expect(row.locator(".sw-n")).to_have_text(str(expected["size"]))
    expect(page.locator(".sw-editor-error")).to_have_text("")
    text = page.evaluate(
        "() => document.querySelector('.sw-editor .sw-code-editor').cmView.state.doc.toString()")
    assert f"def {cand.name}(df):" in text
    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
    saved = lab.root / "slicing_functions.py"
    assert f"def {cand.name}(df):" in saved.read_text(encoding="utf-8")
    expect(suggest.locator(".sw-suggest-status")).to_contain_text(f"Added {cand.name}")
    shot(page, artifacts, "added", focus=".sw-score-table")


#: labels or buttons cut off, and horizontal overflow, inside the panel
LAYOUT_JS = """() => {
  const panel = document.querySelector('.sw-suggest');
  const truncated = [...panel.querySelectorAll('.widget-label, .widget-label-basic, button')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim());
  return {truncated, overflow: panel.scrollWidth > panel.clientWidth + 1};
}"""


def test_04_readable_in_light_and_dark_wide_and_narrow(page, suggest, artifacts):
    checks = [".sw-suggest-status", ".sw-suggest-note", ".sw-suggest-table tr.sw-flag-worse td.sw-flag",
              ".sw-suggest-table td.sw-desc code", ".sw-suggest-code",
              ".sw-suggest-rows tr.sw-mispredicted td"]
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    try:
        for theme, name in (("light", "JupyterLab Light"), ("dark", "JupyterLab Dark")):
            set_theme(page, name)
            low = low_contrast(page, checks)
            assert not low, f"{theme}: too little contrast (WCAG < 4.5): {low}"
            for width in (1400, 800):
                page.set_viewport_size({"width": width, "height": 1600})
                page.wait_for_timeout(600)
                layout = page.evaluate(LAYOUT_JS)
                assert layout == {"truncated": [], "overflow": False}, (theme, width, layout)
                suggest.screenshot(path=str(artifacts / f"suggest_{theme}_{width}.png"))
    finally:
        page.set_viewport_size({"width": 1400, "height": 1600})
        page.evaluate("() => { window.jupyterapp.commands.execute('apputils:change-theme', "
                      "{theme: 'JupyterLab Light'}); }")


def test_05_no_js_errors_and_no_external_requests(page, suggest):
    log = page.sw_log
    assert log.unexpected_errors() == [], "JS errors:\n  " + "\n  ".join(log.unexpected_errors())
    assert log.external_requests == [], f"the browser left 127.0.0.1: {log.external_requests}"
    assert re.search("sw-suggest", page.content())
