"""SFEditor, driven headless: Apply, inline errors, bad input, save/reload, the keyword form."""

from __future__ import annotations

import os
import textwrap

import pytest

from slicewidgets.slicing import SliceSet, keyword_sf
from slicewidgets.widgets import ScoreTable, SFEditor
from slicewidgets.widgets.editor import DEFAULT_CODE, MSG_UNWRITABLE

TWO_SFS = textwrap.dedent("""\
    from slicewidgets import keyword_sf, slicing_function

    please = keyword_sf(["please", "plz"], name="please")

    @slicing_function()
    def short(x):
        return isinstance(x.text, str) and len(x.text.split()) < 3
""")


@pytest.fixture
def ss(df):
    return SliceSet(df)


def make(ss, tmp_path, **kw):
    kw.setdefault("namespace", {})
    return SFEditor(ss, path=tmp_path / "sfs.py", **kw)


def apply(editor, code):
    editor.code.value = code
    editor.apply_button.click()
    return editor.last_result


def test_controls_and_css_classes(ss, tmp_path):
    editor = make(ss, tmp_path)
    assert "sw-editor" in editor._dom_classes
    assert "sw-editor-code" in editor.code._dom_classes
    assert "sw-editor-apply" in editor.apply_button._dom_classes
    assert "sw-editor-error" in editor.error._dom_classes
    assert "sw-editor-status" in editor.status._dom_classes
    assert editor.code.value == DEFAULT_CODE
    assert editor.error.value == ""
    # the default code applies cleanly and defines nothing
    result = apply(editor, DEFAULT_CODE)
    assert result.ok and ss.names == []
    assert editor.status.value.startswith("Applied: no slicing functions")


def test_apply_defines_the_sfs_of_the_code(ss, tmp_path):
    editor = make(ss, tmp_path)
    result = apply(editor, TWO_SFS)
    assert result.ok and result.added == ["please", "short"]
    assert ss.sizes() == {"please": 2, "short": 3}  # "nice song", "love it", "great voice"
    assert editor.sf_names == ["please", "short"]
    assert "Applied: 2 added" in editor.status.value
    assert editor.namespace["short"].name == "short"


def test_editing_one_sf_recomputes_only_it_and_removing_code_removes_the_slice(ss, tmp_path):
    editor = make(ss, tmp_path)
    apply(editor, TWO_SFS)
    before = ss.n_computed
    result = apply(editor, TWO_SFS.replace('"plz"]', '"plz", "subscribe"]'))
    assert result.changed == ["please"] and result.unchanged == ["short"]
    assert ss.n_computed == before + 1
    assert ss.sizes()["please"] == 3
    assert "1 changed, 1 unchanged" in editor.status.value
    result = apply(editor, TWO_SFS.split("@slicing_function")[0])
    assert result.removed == ["short"] and ss.names == ["please"]


def test_sfs_from_elsewhere_are_not_removed(df, tmp_path):
    ss = SliceSet(df, [keyword_sf("love")])
    editor = make(ss, tmp_path)
    apply(editor, TWO_SFS)
    apply(editor, "")
    assert ss.names == ["keyword_love"]


def test_changed_helper_function_recomputes_the_sf(ss, tmp_path):
    code = textwrap.dedent("""\
        def words(t):
            return t.split()

        @slicing_function()
        def short(x):
            return isinstance(x.text, str) and len(words(x.text)) < 3
    """)
    editor = make(ss, tmp_path)
    apply(editor, code)
    assert ss.sizes()["short"] == 3
    apply(editor, code.replace("t.split()", "t.split() + ['x', 'y']"))
    assert ss.sizes()["short"] == 0
    assert editor.last_result.changed == ["short"]


def test_changed_global_constant_recomputes_the_sf(ss, tmp_path):
    code = textwrap.dedent("""\
        LIMIT = 3

        @slicing_function()
        def short(x):
            return isinstance(x.text, str) and len(x.text.split()) < LIMIT
    """)
    editor = make(ss, tmp_path)
    apply(editor, code)
    assert ss.sizes()["short"] == 3
    computed = ss.n_computed
    apply(editor, code.replace("LIMIT = 3", "LIMIT = 4"))
    assert ss.sizes()["short"] == 7
    assert ss.n_computed == computed + 1
    apply(editor, code.replace("LIMIT = 3", "LIMIT = 4") + "\nOTHER = 1\n")
    assert editor.last_result.unchanged == ["short"] and ss.n_computed == computed + 1


def test_syntax_error_shows_name_and_line_and_applies_nothing(ss, tmp_path):
    editor = make(ss, tmp_path)
    apply(editor, TWO_SFS)
    broken = TWO_SFS + "\n@slicing_function()\ndef broken_sf(x:\n    return True\n"
    result = apply(editor, broken)
    assert not result.ok
    text = editor.error.value
    assert text.startswith("<pre>SyntaxError in broken_sf (line 10): ")
    assert "def broken_sf(x:" in text and "Nothing was applied" in text
    assert "sw-error" in editor._dom_classes
    assert ss.names == ["please", "short"]
    assert editor.status.value.startswith("Not applied")
    # fixing it clears the error
    apply(editor, TWO_SFS)
    assert editor.error.value == "" and "sw-error" not in editor._dom_classes


def test_error_while_defining_shows_name_and_line(ss, tmp_path):
    editor = make(ss, tmp_path)
    code = TWO_SFS + "\nlinks = keyword_sf(UNDEFINED_WORDS)\n"
    apply(editor, code)
    assert editor.error.value.startswith(
        "<pre>NameError in links (line 9): name &#x27;UNDEFINED_WORDS&#x27; is not defined")
    assert ss.names == []


def test_sf_raising_on_some_rows_is_shown_with_counts_and_the_rest_is_scored(
        ss, tmp_path, golds, preds):
    table = ScoreTable(ss, golds, preds, metrics=["accuracy"])
    editor = make(ss, tmp_path)
    code = TWO_SFS + textwrap.dedent("""
        @slicing_function()
        def lower_check(x):
            return "check" in x.text.lower()
    """)
    result = apply(editor, code)
    assert result.ok and result.errors == []
    assert result.warnings == [
        "lower_check (line 10) raised AttributeError on 1 of 10 rows, e.g. the row with index "
        "107: 'float' object has no attribute 'lower'. Those rows count as outside the "
        "slice; the other rows and slices are scored."
    ]
    assert 'class="sw-warning"' in editor.error.value
    assert ss.sizes()["lower_check"] == 3
    assert table.table.value.count("<tr data-slice=") == 3
    assert 'data-slice="lower_check"' in table.table.value


def test_sf_that_never_returns_can_be_interrupted(ss, tmp_path):
    """Interrupt kernel raises KeyboardInterrupt inside the SF: the widget must survive."""
    editor = make(ss, tmp_path)
    apply(editor, TWO_SFS)
    code = TWO_SFS.replace("< 3", "< 4") + textwrap.dedent("""
        @slicing_function()
        def hang(x):
            raise KeyboardInterrupt
    """)
    result = apply(editor, code)
    assert result.interrupted and not result.ok
    assert editor.error.value.startswith(
        "<pre>Interrupted while applying hang (line 10) (Interrupt kernel).")
    # the previous state is intact: no hang, and short keeps its previous version
    assert "hang" not in ss and ss.names == ["please", "short"]
    assert ss.sizes()["short"] == 3
    assert editor.status.value.startswith("Interrupted")
    # still usable
    result = apply(editor, TWO_SFS.replace("< 3", "< 2"))
    assert result.ok and result.changed == ["short"] and editor.error.value == ""


def test_interrupt_while_running_top_level_code(ss, tmp_path):
    editor = make(ss, tmp_path)
    result = apply(editor, "raise KeyboardInterrupt\n")
    assert result.interrupted
    assert editor.error.value.startswith("<pre>Interrupted: Apply was stopped")


def test_duplicate_names_are_errors(ss, tmp_path):
    editor = make(ss, tmp_path)
    twice = TWO_SFS + "\n@slicing_function()\ndef short(x):\n    return True\n"
    apply(editor, twice)
    assert "Duplicate slicing function: &#x27;short&#x27; is defined 2 times (lines 6, 10)" \
        in editor.error.value
    assert ss.names == []
    same_name = TWO_SFS + "\nother = keyword_sf(['love'], name='please')\n"
    apply(editor, same_name)
    assert ("Duplicate slicing function name &#x27;please&#x27;: &#x27;please&#x27; on line 3 "
            "and &#x27;other&#x27; on line 9") in editor.error.value
    assert ss.names == []


def test_vectorized_sf_returning_garbage_names_the_sf_and_keeps_the_others(ss, tmp_path):
    editor = make(ss, tmp_path)
    code = TWO_SFS + textwrap.dedent("""
        @slicing_function(vectorized=True)
        def bad(df):
            return df.text.str.len()
    """)
    result = apply(editor, code)
    assert not result.ok
    assert editor.error.value.startswith(
        "<pre>Error in bad (line 10): ValueError: Vectorized slicing function")
    assert ss.names == ["please", "short"]
    assert editor.status.value.startswith("Partly applied")


def test_sfs_in_a_list_are_collected(ss, tmp_path):
    editor = make(ss, tmp_path)
    apply(editor, "sfs = [keyword_sf(['love']), keyword_sf(['song'])]\n")
    assert ss.names == ["keyword_love", "keyword_song"]


def test_one_refresh_per_apply(ss, tmp_path, golds, preds):
    table = ScoreTable(ss, golds, preds)
    editor = make(ss, tmp_path)
    count = table.refresh_count
    code = "\n".join(f"k{i} = keyword_sf(['{w}'])" for i, w in
                     enumerate(["love", "song", "check", "please", "great"]))
    apply(editor, code)
    assert len(ss) == 5
    assert table.refresh_count == count + 1


# -- persistence ---------------------------------------------------------------------------
def test_save_and_reload_round_trip(df, tmp_path):
    path = tmp_path / "sfs.py"
    ss = SliceSet(df)
    editor = SFEditor(ss, namespace={}, path=path)
    apply(editor, TWO_SFS)
    assert path.read_text() == TWO_SFS
    assert f"saved to {path}" in editor.status.value
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    # a "restarted kernel": new SliceSet, new namespace, same file
    ss2 = SliceSet(df)
    editor2 = SFEditor(ss2, namespace={}, path=path)
    assert editor2.code.value == TWO_SFS
    # loaded, not run: a file never executes at construction (#16); Apply runs it
    assert ss2.names == [] and "press Apply" in editor2.status.value
    editor2.apply_button.click()
    assert ss2.sizes() == ss.sizes() == {"please": 2, "short": 3}


def test_text_is_saved_as_typed_even_if_it_does_not_compile(df, tmp_path):
    path = tmp_path / "sfs.py"
    editor = SFEditor(SliceSet(df), namespace={}, path=path)
    editor.code.value = "def half_written(x:"
    assert path.read_text() == "def half_written(x:"
    # reloading shows the error instead of losing the text
    editor2 = SFEditor(SliceSet(df), namespace={}, path=path)
    assert editor2.code.value == "def half_written(x:"
    assert "SyntaxError in half_written (line 1)" in editor2.error.value


def test_unwritable_path_warns_and_keeps_sfs_in_memory(df, tmp_path):
    path = tmp_path / "missing-dir" / "sfs.py"
    ss = SliceSet(df)
    editor = SFEditor(ss, namespace={}, path=path)
    with pytest.warns(RuntimeWarning, match="Could not save the slicing functions to"):
        editor.code.value = TWO_SFS
    assert "they are kept in memory only" in editor.status.value
    editor.apply_button.click()  # warned once, still shown
    assert ss.names == ["please", "short"]
    assert editor.last_result.ok
    assert "they are kept in memory only" in editor.status.value
    assert editor.save_error == MSG_UNWRITABLE.format(
        path=path, err="FileNotFoundError: No such file or directory")
    assert not path.exists()


def test_no_path_no_file(ss, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    editor = SFEditor(ss, namespace={}, path=None)
    apply(editor, TWO_SFS)
    assert os.listdir(tmp_path) == []
    assert "saved" not in editor.status.value


# -- keyword / regex form ------------------------------------------------------------------
def test_keyword_form_appends_code_and_applies(ss, tmp_path):
    editor = make(ss, tmp_path)
    editor.code.value = ""
    editor.form_kind.value = "keyword"
    editor.form_pattern.value = "please, plz"
    editor.add_button.click()
    assert editor.code.value == "keyword_please = keyword_sf(['please', 'plz'])\n"
    assert ss.sizes() == {"keyword_please": 2}
    assert (tmp_path / "sfs.py").read_text() == editor.code.value
    assert editor.form_pattern.value == ""


def test_regex_form_with_name_and_case(ss, tmp_path):
    editor = make(ss, tmp_path)
    editor.code.value = ""
    editor.form_kind.value = "regex"
    editor.form_name.value = "check out"
    editor.form_pattern.value = r"check.*out"
    editor.form_ignore_case.value = True
    editor.add_button.click()
    assert editor.code.value == (
        "check_out = regex_sf('check.*out', name='check out', flags=re.IGNORECASE)\n")
    assert ss.sizes() == {"check out": 1}


def test_form_rejects_bad_regex_empty_keywords_and_taken_names(ss, tmp_path):
    editor = make(ss, tmp_path)
    editor.code.value = ""
    editor.form_kind.value = "regex"
    editor.form_pattern.value = "check(("
    editor.add_button.click()
    assert editor.error.value.startswith(
        "<pre>regex_sf &#x27;regex_check&#x27;: invalid pattern &#x27;check((&#x27;")
    assert editor.code.value == ""
    editor.form_kind.value = "keyword"
    editor.form_pattern.value = " , "
    editor.add_button.click()
    assert "Enter at least one keyword" in editor.error.value
    editor.form_pattern.value = "love"
    editor.add_button.click()
    editor.form_pattern.value = "love"
    editor.add_button.click()
    assert "A slice named &#x27;keyword_love&#x27; already exists" in editor.error.value
    assert editor.code.value.count("keyword_sf") == 1


def test_default_namespace_outside_ipython_has_the_builders(ss):
    editor = SFEditor(ss, path=None)
    for name in ("slicing_function", "keyword_sf", "regex_sf", "preprocessor", "re"):
        assert name in editor.namespace
    apply(editor, "k = keyword_sf(['love'])")
    assert ss.names == ["keyword_love"]


def test_sf_failing_on_every_row_is_an_error_not_a_warning(ss, tmp_path):
    editor = make(ss, tmp_path)
    result = apply(editor, textwrap.dedent("""\
        from slicewidgets import slicing_function

        @slicing_function()
        def broken(x):
            return x.nope > 1
    """))
    assert not result.ok
    assert "broken" in ss.names and ss.sizes()["broken"] == 0
    html = editor.error.value
    assert "failed on every row, so its slice is empty" in html
    assert "preprocessor.." not in html


# -- #16: background Apply, Cancel, safe files -----------------------------------------------
ENDLESS = textwrap.dedent("""
    @slicing_function()
    def endless(x):
        while True:
            pass
""")


def test_background_apply_shows_busy_and_commits_on_wait(ss, tmp_path, golds, preds):
    table = ScoreTable(ss, golds, preds, metrics=["accuracy"])
    editor = make(ss, tmp_path, background=True)
    seen = []
    editor.observe(lambda c: seen.append(c["new"]), names="busy")
    editor.code.value = TWO_SFS
    editor.apply_button.click()
    assert editor.wait(10)
    assert seen == [True, False]
    assert ss.names == ["please", "short"] and editor.last_result.ok
    assert 'data-slice="short"' in table.table.value
    assert editor.status.value.startswith("Applied: 2 added")
    assert editor.cancel_button.disabled and editor.cancel_button.layout.display == "none"


def test_cancel_stops_an_endless_sf_and_keeps_the_previous_state(ss, tmp_path):
    import time

    editor = make(ss, tmp_path, background=True)
    editor.code.value = TWO_SFS
    editor.apply_button.click()
    editor.wait(10)
    editor.code.value = TWO_SFS.replace("< 3", "< 9") + ENDLESS
    editor.apply_button.click()
    time.sleep(0.3)
    assert editor.busy and editor.apply_button.disabled and not editor.cancel_button.disabled
    editor.apply_button.click()  # a second click while busy queues nothing
    t0 = time.perf_counter()
    editor.cancel_button.click()
    assert editor.wait(2)
    assert time.perf_counter() - t0 < 1.0
    result = editor.last_result
    assert result.cancelled and not editor.busy
    assert editor.status.value.startswith("Cancelled: nothing was changed")
    assert "Cancelled while applying endless (line 10) (Cancel)" in editor.error.value
    assert ss.sizes() == {"please": 2, "short": 3}
    # still usable
    editor.code.value = TWO_SFS
    editor.apply_button.click()
    assert editor.wait(10) and editor.last_result.ok


def test_non_utf8_file_and_directory_are_shown_in_the_editor(df, tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    with pytest.warns(RuntimeWarning, match="not UTF-8"):
        editor = SFEditor(SliceSet(df), namespace={}, path=path)
    assert "it is not UTF-8 text" in editor.status.value
    with pytest.warns(RuntimeWarning, match="is a folder"):
        editor = SFEditor(SliceSet(df), namespace={}, path=tmp_path)
    assert "is a folder, not a file" in editor.status.value
    editor.code.value = TWO_SFS
    editor.apply_button.click()
    assert editor.last_result.ok


def test_file_conflict_is_shown_with_both_texts_and_resolved_by_buttons(df, tmp_path):
    path = tmp_path / "sfs.py"
    a = SFEditor(SliceSet(df), namespace={}, path=path)
    a.code.value = TWO_SFS
    path.write_text("# someone else's\n")
    a.code.value = TWO_SFS + "# mine\n"
    assert a.conflict_box.layout.display is None
    assert "changed on disk since the editor loaded it" in a.conflict_text.value
    assert "someone else&#x27;s" in a.conflict_text.value
    assert path.read_text() == "# someone else's\n"
    a.load_theirs_button.click()
    assert a.code.value == "# someone else's\n" and a.conflict_box.layout.display == "none"
    a.code.value = "# mine again\n"
    assert path.read_text() == "# mine again\n"


def test_form_binding_never_replaces_user_variables(ss, tmp_path):
    import re as re_module

    ns = {"df": ss.df}
    editor = make(ss, tmp_path, namespace=ns)
    editor.code.value = ""
    editor.form_name.value = "df"
    editor.form_pattern.value = "love"
    editor.add_button.click()
    assert ns["df"] is ss.df and "df_sf = keyword_sf(['love'], name='df')" in editor.code.value
    editor.form_name.value = "re"
    editor.form_pattern.value = "song"
    editor.add_button.click()
    assert ns["re"] is re_module
    editor.form_kind.value = "regex"
    editor.form_name.value = ""
    editor.form_pattern.value = "check"
    editor.add_button.click()
    assert ss.names == ["df", "re", "regex_check"] and editor.last_result.ok


def test_closing_releases_the_slice_set_subscriptions(ss, golds, preds):
    tables = [ScoreTable(ss, golds, preds, metrics=["accuracy"]) for _ in range(5)]
    for t in tables[:4]:
        t.close()
    counts = [t.refresh_count for t in tables]
    ss.add(keyword_sf(["love"]))
    assert [t.refresh_count - c for t, c in zip(tables, counts, strict=True)] == [0, 0, 0, 0, 1]


def test_code_editor_is_the_codemirror_widget_with_columns_shift_enter_and_error_lines(
        ss, tmp_path):
    from slicewidgets.widgets.code import BUNDLE, CodeEditor

    editor = make(ss, tmp_path)
    assert isinstance(editor.code, CodeEditor)
    assert editor.code.completions == ["text", "author"]
    editor.code.value = TWO_SFS
    editor.code._handle_custom_msg({"type": "apply"}, [])  # Shift+Enter in the browser
    assert ss.names == ["please", "short"]
    editor.code.value = TWO_SFS + "\nbad = keyword_sf(UNDEFINED)\n"
    editor.code._handle_custom_msg({"type": "apply"}, [])
    assert list(editor.code.errors) == ["9"]
    assert editor.code.errors["9"].startswith("NameError in bad (line 9)")
    editor.code.value = TWO_SFS
    editor.apply_button.click()
    assert editor.code.errors == {}
    # the bundle ships in the package, as one ES module with a render function
    text = BUNDLE.read_text()
    assert BUNDLE.stat().st_size > 100_000 and "export{" in text.replace(" ", "")
    assert "data-lm-suppress-shortcuts" in text
