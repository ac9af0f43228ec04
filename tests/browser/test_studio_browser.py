"""End to end: the SliceStudio in JupyterLab, driven by a person's clicks in headless Chromium.

The notebook ``studio_spam.ipynb`` (spam data, the tutorial's bag-of-words logistic regression,
four SFs) is opened and run; then, in order (the tests share one page and one kernel):

1. the studio renders, with one score-table row per SF holding the right slice size;
2. a new SF typed into the editor and applied gains its row, with the size the core library
   computes for the same slice;
3. a slice toggled off loses its row, and gets it back when toggled on;
4. a syntax error shows inline (with its line number), and fixing it clears the error;
5. training starts, the progress bars advance, and Stop stops it;
6. the browser logged no JS error and made no request outside 127.0.0.1.

Each step saves a screenshot (``01_loaded.png``, ...) under ``test-artifacts/browser/``
(or ``$SW_ARTIFACTS``); the last one is also saved as ``studio.png``.

Selectors are the widgets' CSS classes (see ``slicewidgets/widgets``), never the DOM structure.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

from tests.browser.conftest import (  # noqa: E402
    BROWSER_MARKS,
    KERNEL_IDLE_JS,
    low_contrast,
    run_notebook,
    set_theme,
)

pytestmark = BROWSER_MARKS

NOTEBOOKS = ("studio_spam.ipynb",)
REPO_IMG = Path(__file__).resolve().parents[2] / "notebooks" / "img"  # copied by the ``lab`` fixture into the server root

#: the SF a person types into the editor in step 2 (appended to whatever the editor holds)
NEW_SF_NAME = "mentions_subscribe"
NEW_SF_LINES = [
    "",
    "@slicing_function()",
    f"def {NEW_SF_NAME}(x):",
    "    if 'subscribe' in x.text.lower():",
    "        return True",
    "    return False",
    "",
]
#: an SF that never returns, cancelled from the studio
ENDLESS_SF_CODE = "\n@slicing_function()\ndef endless(x):\n    while True:\n        pass\n"
#: a syntax error typed in step 4: an unclosed parenthesis on its first line
BROKEN_SF_CODE = "\n@slicing_function()\ndef broken_sf(x:\n    return True\n"

# Outputs of the notebook's code cells as nbformat JSON (to find errors and stderr).
CELL_OUTPUTS_JS = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return nb.widgets.filter(c => c.model.type === 'code').map(c => ({
    execution_count: c.model.executionCount,
    outputs: c.model.outputs.toJSON(),
  }));
}"""

# True once every code cell has an execution count: the kernel can report "idle" a moment
# before the front end has recorded the last cell's count from its execute_reply.
ALL_CELLS_COUNTED_JS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code').every(c => c.model.executionCount)"""

# Fraction done of an ipywidgets progress bar (``.progress-bar`` width, in percent).
PROGRESS_JS = """(sel) => {
  const bar = document.querySelector(sel + ' .progress-bar');
  return bar ? parseFloat(bar.style.width || '0') : -1;
}"""


# --------------------------------------------------------------------------- expected values
def notebook_sfs():
    """The notebook's SFs, rebuilt here to compute the expected slice sizes independently."""
    from slicewidgets.slicing import keyword_sf, regex_sf, slicing_function

    @slicing_function()
    def short_comment(x):
        return len(x.text.split()) < 5

    return [
        short_comment,
        keyword_sf(["please", "plz"]),
        regex_sf(r"check.*out", name="regex_check_out", flags=re.I),
        regex_sf(r"\w+\.ly", name="short_link"),
    ]


@pytest.fixture(scope="module")
def expected_sizes(spam_splits) -> dict[str, int]:
    """Slice sizes computed with pandas ``.str`` operations only, independent of the library's
    engines (so a bug in slicewidgets cannot make both sides agree)."""
    _, df_test = spam_splits
    text = df_test.text
    assert text.notna().all()
    lower = text.str.lower()
    sizes = {
        "short_comment": int((text.str.split().str.len() < 5).sum()),
        "keyword_please": int((lower.str.contains("please", regex=False)
                               | lower.str.contains("plz", regex=False)).sum()),
        "regex_check_out": int(text.str.contains(r"check.*out", flags=re.I, regex=True).sum()),
        "short_link": int(text.str.contains(r"\w+\.ly", regex=True).sum()),
        # the typed SF is keyword_sf(["subscribe"]), written by hand in the editor
        NEW_SF_NAME: int(lower.str.contains("subscribe", regex=False).sum()),
    }
    assert [sf.name for sf in notebook_sfs()] == list(sizes)[:-1]
    assert 0 < sizes[NEW_SF_NAME] < len(df_test)
    return sizes


# --------------------------------------------------------------------------- helpers
class Shots:
    """Numbered screenshots of the studio, one per step."""

    def __init__(self, page: Page, directory):
        self.page, self.dir, self.n = page, directory, 0
        self.paths = []

    def take(self, label: str, focus: str = ".sw-studio"):
        """Screenshot the page with ``focus`` (a selector) scrolled into view."""
        self.n += 1
        path = self.dir / f"{self.n:02d}_{label}.png"
        target = self.page.locator(focus).first
        if target.count():
            target.scroll_into_view_if_needed()
        self.page.screenshot(path=str(path))
        self.paths.append(path)
        return path


def new_js_errors(page: Page) -> list[str]:
    """JS errors logged since the previous call."""
    log = page.sw_log
    seen = getattr(page, "_sw_seen_errors", 0)
    errors = log.unexpected_errors()
    page._sw_seen_errors = len(errors)
    return errors[seen:]


def assert_no_new_js_errors(page: Page, step: str) -> None:
    errors = new_js_errors(page)
    assert not errors, f"JS errors during {step}:\n  " + "\n  ".join(errors)


def score_row(page: Page, name: str):
    return page.locator(f'.sw-score-table tr[data-slice="{name}"]')


def toggle(page: Page, name: str):
    """The checkbox ``<input>`` of the toggle whose description is exactly ``name``."""
    box = page.locator(".sw-toggles .sw-toggle").filter(
        has=page.get_by_text(name, exact=True)
    )
    expect(box).to_have_count(1)
    return box.locator("input[type=checkbox]")


EDITOR_ROOT = ".sw-editor .sw-code-editor"

NOTEBOOK_STATE_JS = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return {cells: nb.widgets.length, active: nb.activeCellIndex, mode: nb.mode};
}"""


def editor_text(page: Page) -> str:
    """The CodeMirror document of the SF editor."""
    return page.evaluate(
        "() => document.querySelector('.sw-editor .sw-code-editor').cmView.state.doc.toString()")


def current_indent(page: Page) -> int:
    return page.evaluate("""() => {
      const v = document.querySelector('.sw-editor .sw-code-editor').cmView;
      const line = v.state.doc.lineAt(v.state.selection.main.head);
      return line.text.length - line.text.trimStart().length;
    }""")


def editor_focused(page: Page) -> bool:
    return page.evaluate(
        "() => !!document.activeElement.closest('.sw-editor .sw-code-editor')")


def apply_code(page: Page) -> None:
    page.locator(".sw-editor .sw-editor-apply").click()


def set_editor_text(page: Page, text: str) -> None:
    """Replace the editor's text (as a paste would) and let it reach the kernel."""
    page.evaluate("""(text) => {
      const v = document.querySelector('.sw-editor .sw-code-editor').cmView;
      v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: text}});
    }""", text)
    assert editor_text(page) == text
    page.wait_for_timeout(500)  # the editor sends its text 250 ms after the last change


def type_code(page: Page, lines: list[str]) -> list[int]:
    """Type ``lines`` at the end of the editor with real key presses: Enter for new lines
    (CodeMirror indents), then Tab / Shift+Tab to reach each line's indentation.

    Returns the indentation CodeMirror chose by itself after each Enter."""
    page.locator(f"{EDITOR_ROOT} .cm-content").click()
    page.keyboard.press("ControlOrMeta+End")
    auto = []
    for i, line in enumerate(lines):
        if i:
            page.keyboard.press("Escape")  # close a completion list, so Enter is a newline
            page.keyboard.press("Enter")
        indent = len(line) - len(line.lstrip(" "))
        have = current_indent(page)
        auto.append(have)
        while have < indent:
            page.keyboard.press("Tab")
            have = current_indent(page)
        while have > indent:
            page.keyboard.press("Shift+Tab")
            have = current_indent(page)
        page.keyboard.type(line.lstrip(" "), delay=5)
    page.keyboard.press("Escape")
    return auto


def training_progress(page: Page) -> tuple[float, float]:
    """(epoch %, batch %): grows lexicographically while training runs."""
    return (
        page.evaluate(PROGRESS_JS, ".sw-training .sw-train-epoch"),
        page.evaluate(PROGRESS_JS, ".sw-training .sw-train-batch"),
    )


def wait_progress_beyond(page: Page, floor: tuple[float, float], timeout: float = 60_000):
    """Wait (no sleep) until the (epoch, batch) progress is lexicographically above ``floor``."""
    page.wait_for_function(
        """([e0, b0]) => {
          const pct = (sel) => {
            const bar = document.querySelector('.sw-training ' + sel + ' .progress-bar');
            return bar ? parseFloat(bar.style.width || '0') : -1;
          };
          const e = pct('.sw-train-epoch'), b = pct('.sw-train-batch');
          return e > e0 || (e === e0 && b > b0);
        }""",
        arg=list(floor),
        timeout=timeout,
    )
    return training_progress(page)


# --------------------------------------------------------------------------- the studio
@pytest.fixture(scope="module")
def shots(page, artifacts):
    return Shots(page, artifacts)


@pytest.fixture(scope="module")
def studio(lab, page):
    """The notebook opened and run: the studio is on screen and the kernel is idle again."""
    t0 = time.monotonic()
    run_notebook(page, lab, NOTEBOOKS[0])
    root = page.locator(".sw-studio")
    try:
        expect(root).to_be_visible(timeout=150_000)
        page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000)
        with contextlib.suppress(PlaywrightTimeoutError):  # the assert below names them
            page.wait_for_function(ALL_CELLS_COUNTED_JS, timeout=15_000)
    finally:
        cells = page.evaluate(CELL_OUTPUTS_JS)
        errors = [o for c in cells for o in c["outputs"] if o.get("output_type") == "error"]
        if errors:
            pytest.fail(
                "the notebook raised:\n"
                + "\n".join(f"{e['ename']}: {e['evalue']}" for e in errors)
                + "\n"
                + re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(errors[-1].get("traceback", [])))
            )
    assert all(c["execution_count"] for c in cells), f"not every cell ran: {cells}"
    stderr = [
        "".join(o.get("text", ""))
        for c in cells
        for o in c["outputs"]
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    ]
    if stderr:  # warnings are not failures, but CI logs should show them
        print("\n[studio] the notebook wrote to stderr:\n" + "\n".join(stderr))
    print(f"\n[studio] notebook ran in {time.monotonic() - t0:.1f}s")
    return root


def test_01_studio_loads_with_a_row_per_sf(page, studio, shots, expected_sizes):
    expect(studio).to_have_count(1)
    for part in (".sw-editor", ".sw-toggles", ".sw-score-table", ".sw-training"):
        expect(studio.locator(part)).to_have_count(1)
    for sf in notebook_sfs():
        row = score_row(page, sf.name)
        expect(row).to_have_count(1)
        expect(row.locator(".sw-n")).to_have_text(str(expected_sizes[sf.name]))
        expect(toggle(page, sf.name)).to_be_checked()
    expect(score_row(page, NEW_SF_NAME)).to_have_count(0)
    expect(page.locator(".sw-editor-error")).to_have_text("")
    shots.take("loaded")
    assert_no_new_js_errors(page, "loading")


def test_01b_a_perfect_slice_is_not_flagged_worse(page, studio):
    """keyword_please scores 1.0 in every metric, above overall: never flagged as worse
    (a regression test: every row used to be flagged, the report's "ok" read as true)."""
    row = score_row(page, "keyword_please")
    expect(row).to_have_count(1)
    expect(row).not_to_have_class(re.compile(r"\bsw-(flagged|flag-worse)\b"))
    expect(row.locator(".sw-flag")).not_to_contain_text(re.compile("worse|\u2691"))


def test_02_typed_sf_gains_its_row(lab, page, studio, shots, expected_sizes):
    before = editor_text(page)
    notebook_before = page.evaluate(NOTEBOOK_STATE_JS)
    auto = type_code(page, NEW_SF_LINES)
    assert editor_text(page) == before.rstrip("\n") + "\n" + "\n".join(NEW_SF_LINES)
    # CodeMirror indented the body of the def and of the if by itself
    assert auto[3] == 4 and auto[4] == 8, auto
    assert editor_focused(page)  # Tab indented: the focus never left the editor
    # no key reached the notebook: letters like a/b/d/m are command-mode shortcuts
    page.keyboard.type("# abdm", delay=5)
    assert page.evaluate(NOTEBOOK_STATE_JS) == notebook_before
    page.keyboard.press("Shift+Enter")  # Apply, not "run cell"
    row = score_row(page, NEW_SF_NAME)
    expect(row).to_have_count(1, timeout=60_000)
    expect(row.locator(".sw-n")).to_have_text(str(expected_sizes[NEW_SF_NAME]))
    expect(page.locator(".sw-editor-error")).to_have_text("")
    expect(toggle(page, NEW_SF_NAME)).to_be_checked()
    assert page.evaluate(NOTEBOOK_STATE_JS) == notebook_before
    # the SFs already there keep their rows and sizes
    for sf in notebook_sfs():
        expect(score_row(page, sf.name).locator(".sw-n")).to_have_text(str(expected_sizes[sf.name]))
    # the editor keeps its code in the notebook's folder (path="slicing_functions.py")
    saved = lab.root / "slicing_functions.py"
    assert saved.exists(), f"the editor did not save its code to {saved}"
    assert f"def {NEW_SF_NAME}(x):" in saved.read_text(encoding="utf-8")
    shots.take("new_sf")
    assert_no_new_js_errors(page, "applying a typed SF")


def test_03_toggle_off_removes_the_row(page, studio, shots, expected_sizes):
    name = "short_link"
    box = toggle(page, name)
    box.uncheck()
    expect(score_row(page, name)).to_have_count(0, timeout=30_000)
    expect(score_row(page, "short_comment")).to_have_count(1)
    shots.take("toggle_off")
    box.check()
    expect(score_row(page, name).locator(".sw-n")).to_have_text(
        str(expected_sizes[name]), timeout=30_000
    )
    assert_no_new_js_errors(page, "toggling a slice")


def test_04_syntax_error_shows_inline(page, studio, shots, expected_sizes):
    good = editor_text(page)
    n_rows = page.locator(".sw-score-table tr[data-slice]").count()
    set_editor_text(page, good + BROKEN_SF_CODE)
    apply_code(page)
    error = page.locator(".sw-editor-error")
    expect(error).to_contain_text("line", timeout=30_000)
    # the line the unclosed parenthesis is on, counted in the editor's text
    bad_line = (good + BROKEN_SF_CODE).splitlines().index("def broken_sf(x:") + 1
    expect(error).to_contain_text(re.compile(rf"\bline {bad_line}\b"))
    expect(error).to_contain_text("broken_sf")  # the SF the error is in
    # and the editor marks that line
    expect(page.locator(f"{EDITOR_ROOT} .cm-sw-error-line")).to_have_attribute(
        "data-error-line", str(bad_line))
    expect(score_row(page, "broken_sf")).to_have_count(0)
    # nothing applied: the table still has its rows, with their sizes
    expect(page.locator(".sw-score-table tr[data-slice]")).to_have_count(n_rows)
    expect(score_row(page, NEW_SF_NAME).locator(".sw-n")).to_have_text(
        str(expected_sizes[NEW_SF_NAME])
    )
    shots.take("syntax_error")
    # fixing the code clears the error
    set_editor_text(page, good)
    apply_code(page)
    expect(error).to_have_text("", timeout=30_000)
    expect(page.locator(".sw-score-table tr[data-slice]")).to_have_count(n_rows)
    expect(page.locator(f"{EDITOR_ROOT} .cm-sw-error-line")).to_have_count(0)
    assert_no_new_js_errors(page, "the syntax error round trip")


def test_04b_cancel_an_endless_sf_from_the_studio(page, studio, shots, expected_sizes):
    good = editor_text(page)
    rows = page.locator(".sw-score-table tr[data-slice]")
    n_rows = rows.count()
    set_editor_text(page, good + ENDLESS_SF_CODE)
    apply_code(page)
    status = page.locator(".sw-editor .sw-editor-status")
    cancel = page.locator(".sw-editor .sw-editor-cancel")
    expect(cancel).to_be_visible(timeout=30_000)
    expect(page.locator(".sw-editor .sw-editor-apply")).to_be_disabled()
    expect(status).to_contain_text("Applying")
    page.wait_for_timeout(1000)
    # the SF loops in a worker thread: the kernel itself is free
    assert page.evaluate(KERNEL_IDLE_JS)
    expect(cancel).to_be_visible()
    shots.take("applying", focus=".sw-editor")
    t0 = time.monotonic()
    cancel.click()
    expect(status).to_contain_text("Cancelled: nothing was changed", timeout=10_000)
    elapsed = time.monotonic() - t0
    print(f"\n[studio] Cancel -> status 'Cancelled' in the browser: {elapsed:.2f} s")
    assert elapsed < 3.0
    expect(page.locator(".sw-editor-error")).to_contain_text("Cancelled while applying endless")
    expect(rows).to_have_count(n_rows)
    expect(score_row(page, "endless")).to_have_count(0)
    expect(score_row(page, NEW_SF_NAME).locator(".sw-n")).to_have_text(
        str(expected_sizes[NEW_SF_NAME]))
    expect(cancel).to_be_hidden()
    # the studio is usable again
    set_editor_text(page, good)
    apply_code(page)
    expect(status).to_contain_text("Applied", timeout=30_000)
    expect(page.locator(".sw-editor-error")).to_have_text("")
    assert_no_new_js_errors(page, "cancelling an endless SF")


def test_04c_page_the_preview(page, studio, expected_sizes):
    page.locator(".sw-preview .sw-preview-slice select").select_option("short_comment")
    info = page.locator(".sw-preview .sw-preview-info")
    total = expected_sizes["short_comment"]
    expect(info).to_contain_text(f"rows 1–10 of {total}", timeout=30_000)
    first = page.locator(".sw-preview-table tr[data-row]").first.get_attribute("data-row")
    page.locator(".sw-preview .sw-preview-next").click()
    expect(info).to_contain_text(f"rows 11–20 of {total}", timeout=30_000)
    expect(page.locator(".sw-preview-table tr[data-row]")).to_have_count(10)
    assert page.locator(".sw-preview-table tr[data-row]").first.get_attribute(
        "data-row") != first
    page.locator(".sw-preview .sw-preview-prev").click()
    expect(info).to_contain_text(f"rows 1–10 of {total}", timeout=30_000)
    expect(page.locator(".sw-preview-table tr[data-row]").first).to_have_attribute(
        "data-row", first)
    assert_no_new_js_errors(page, "paging the preview")


def test_05_training_progresses_and_stops(page, studio, shots):
    status = page.locator(".sw-training .sw-train-status")
    assert min(training_progress(page)) >= 0, "no progress bar in .sw-train-epoch/.sw-train-batch"
    page.locator(".sw-training .sw-train-start").click()
    expect(status).to_contain_text("running", timeout=60_000)
    # progress advances twice: the bars move while the kernel trains in the background
    first = wait_progress_beyond(page, (0.0, 0.0))
    second = wait_progress_beyond(page, first)
    assert second > first
    shots.take("training", focus=".sw-training")
    page.locator(".sw-training .sw-train-stop").click()
    expect(status).to_contain_text("stopped", timeout=60_000)
    stopped_at = training_progress(page)
    # once stopped, it stays stopped: the bars no longer move (a negative check needs a wait)
    page.wait_for_timeout(1500)
    assert training_progress(page) == stopped_at
    expect(status).to_contain_text("stopped")
    expect(status).not_to_contain_text("error")
    shots.take("stopped", focus=".sw-training")
    # the stopped model's predictions of the test rows join the table as "run 1"
    status_line = page.locator(".sw-score-table .sw-score-status")
    expect(status_line.locator(".sw-model-name")).to_have_text("baseline")
    baseline_rows = page.locator(".sw-score-table table.sw-scores").text_content()
    page.locator(".sw-training .sw-train-use").click()
    expect(status_line.locator(".sw-model-name")).to_have_text("run 1", timeout=30_000)
    model = page.locator(".sw-score-table .sw-score-model select")
    expect(model).to_have_value("run 1")
    expect(page.locator(".sw-score-table .sw-leak")).to_have_count(0)  # no shared rows
    shots.take("run_1", focus=".sw-score-table")
    # compare per slice, then switch back to the baseline: the same table as before
    page.locator(".sw-score-table .sw-score-compare select").select_option("baseline")
    expect(page.locator(".sw-score-table .sw-compare")).to_contain_text(
        "run 1 against baseline", timeout=30_000)
    page.locator(".sw-score-table .sw-score-compare select").select_option("(none)")
    model.select_option("baseline")
    expect(status_line.locator(".sw-model-name")).to_have_text("baseline", timeout=30_000)
    expect(page.locator(".sw-score-table table.sw-scores")).to_have_text(baseline_rows)
    assert_no_new_js_errors(page, "training")


def test_06_no_js_errors_and_no_external_requests(page, studio, shots, artifacts):
    log = page.sw_log
    path = artifacts / "studio.png"
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(path))
    print(f"\n[studio] screenshots: {[str(p) for p in shots.paths] + [str(path)]}")
    if log.benign:
        print("[studio] benign console errors:", *log.benign, sep="\n  ")
    assert log.unexpected_errors() == [], "JS errors:\n  " + "\n  ".join(log.unexpected_errors())
    assert log.external_requests == [], f"the browser left 127.0.0.1: {log.external_requests}"


# --------------------------------------------------------------------------- themes, widths
#: layout problems at the current width: clipped flag column, wrapped intervals, truncated labels
LAYOUT_JS = """() => {
  const studio = document.querySelector('.sw-studio');
  const box = studio.getBoundingClientRect();
  const flag = document.querySelector('.sw-score-table table.sw-scores th:last-child');
  const f = flag.getBoundingClientRect();
  const scores = [...document.querySelectorAll('.sw-score-table table.sw-scores td.sw-score')];
  const lineHeight = scores.length ? parseFloat(getComputedStyle(scores[0]).lineHeight) || 16 : 16;
  const wrapped = scores.filter(td => td.getBoundingClientRect().height > 1.8 * lineHeight).length;
  const truncated = [...studio.querySelectorAll('.widget-label, .widget-label-basic, button, .widget-toggle-button')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim());
  const overflowing = [...studio.querySelectorAll('.sw-score-table, .sw-editor, .sw-preview, .sw-toggles')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className);
  return {studio_left: box.left, studio_right: box.right, flag_right: f.right, flag_visible: f.width > 0,
          wrapped, truncated, overflowing, viewport: window.innerWidth};
}"""


def test_07_themes_and_widths(page, studio, artifacts):
    """Light and dark at 1400, 1000 and 800 px: readable, nothing clipped; screenshots saved
    (into notebooks/img/ with SW_UPDATE_SCREENSHOTS=1)."""
    target = REPO_IMG if os.environ.get("SW_UPDATE_SCREENSHOTS") else artifacts
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.locator(".sw-preview .sw-preview-slice select").select_option("short_comment")
    page.locator(".sw-preview").get_by_text("only mispredicted").click()
    expect(page.locator(".sw-preview-table tr.sw-mispredicted").first).to_be_visible(
        timeout=30_000)
    checks = [".sw-score-table tr.sw-overall td", ".sw-score-table tr[data-slice] td.sw-name",
              ".sw-score-table td .sw-ci", ".sw-preview-table tr.sw-mispredicted td.sw-text",
              ".sw-score-chart svg text", ".sw-editor .cm-content"]
    try:
        for theme, name in (("light", "JupyterLab Light"), ("dark", "JupyterLab Dark")):
            set_theme(page, name)
            low = low_contrast(page, checks)
            assert not low, f"{theme}: too little contrast (WCAG < 4.5): {low}"
            for width in (1400, 1000, 800):  # 1000: the table beside the editor or under it
                page.set_viewport_size({"width": width, "height": 1600 if width > 1000 else 2600})
                page.wait_for_timeout(600)
                layout = page.evaluate(LAYOUT_JS)
                assert layout["flag_visible"] and layout["flag_right"] <= layout["viewport"], layout
                assert layout["wrapped"] == 0, f"{theme} {width}px: intervals wrap: {layout}"
                assert layout["truncated"] == [], f"{theme} {width}px: {layout}"
                assert layout["overflowing"] == [], f"{theme} {width}px: {layout}"
                path = target / f"studio_{theme}_{width}.png"
                studio.screenshot(path=str(path))
                print(f"\n[studio] {path} ({layout['studio_right'] - layout['studio_left']:.0f}"
                      " px wide studio)", end="")
    finally:
        page.set_viewport_size({"width": 1400, "height": 1600})
        page.evaluate("() => { window.jupyterapp.commands.execute('apputils:change-theme', "
                      "{theme: 'JupyterLab Light'}); }")
        page.locator(".sw-preview").get_by_text("only mispredicted").click()
    assert_no_new_js_errors(page, "themes and widths")


def test_08_restart_the_kernel_and_get_the_sfs_back(page, studio, lab, expected_sizes):
    page.evaluate("() => { window.__swRestarted = false; window.jupyterapp.shell.currentWidget"
                  ".sessionContext.restartKernel().then(() => { window.__swRestarted = true; }); }")
    page.wait_for_function("() => window.__swRestarted === true", timeout=90_000)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=90_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    status = page.locator(".sw-editor .sw-editor-status")
    # the file is loaded into the editor, not run, until Apply
    expect(status).to_contain_text("without running it: press Apply", timeout=150_000)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000)
    assert f"def {NEW_SF_NAME}(x):" in editor_text(page)
    expect(score_row(page, NEW_SF_NAME)).to_have_count(0)
    apply_code(page)
    row = score_row(page, NEW_SF_NAME)
    expect(row.locator(".sw-n")).to_have_text(str(expected_sizes[NEW_SF_NAME]), timeout=60_000)
    assert_no_new_js_errors(page, "restarting the kernel")
