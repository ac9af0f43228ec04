"""SFCodeSession, the editor's controller without widgets: apply, errors, safe files, cancel."""

from __future__ import annotations

import re
import textwrap
import time

import pandas as pd
import pytest

from slicewidgets.slicing import SliceSet, keyword_sf
from slicewidgets.slicing.session import (
    MSG_CONFLICT,
    MSG_SHADOWS,
    SFCodeSession,
    default_path,
)
from slicewidgets.slicing.worker import CancellableThread

TWO_SFS = textwrap.dedent("""\
    please = keyword_sf(["please", "plz"], name="please")

    @slicing_function()
    def short(x):
        return len(x.text.split()) < 3
""")

ENDLESS = textwrap.dedent("""\
    @slicing_function()
    def endless(x):
        while True:
            pass
""")


@pytest.fixture
def df():
    return pd.DataFrame({"text": ["please subscribe plz", "nice song", "check my channel",
                                  "love it", "plz"]})


@pytest.fixture
def ss(df):
    return SliceSet(df)


def test_apply_reports_what_changed(ss):
    session = SFCodeSession(ss, {}, path=None)
    r = session.apply(TWO_SFS)
    assert r.ok and r.added == ["please", "short"] and r.summary == "Applied: 2 added"
    assert ss.sizes() == {"please": 2, "short": 3}
    r = session.apply(TWO_SFS.replace("< 3", "< 2"))
    assert r.changed == ["short"] and r.unchanged == ["please"]
    r = session.apply(TWO_SFS.split("@")[0])
    assert r.removed == ["short"] and ss.names == ["please"]
    assert session.sf_lines == {"please": 1}


@pytest.mark.parametrize("code, first_line, line", [
    ("import sys\nsys.exit(main())\n", "NameError (line 2): name 'main' is not defined", 2),
    ("import sys\nsys.exit(3)\n", "SystemExit (line 2): 3 (sys.exit() or exit() in the code: "
                                  "the kernel keeps running)", 2),
    ("x = 1\ndef f(:\n", "SyntaxError in f (line 2): invalid syntax", 2),
])
def test_any_base_exception_from_user_code_is_reported_with_its_line(ss, code, first_line,
                                                                      line):
    session = SFCodeSession(ss, {}, path=None)
    session.apply(TWO_SFS)
    r = session.apply(code)
    assert not r.ok and r.errors[0].splitlines()[0] == first_line
    assert line in r.error_lines
    assert ss.names == ["please", "short"]  # nothing changed


def test_sf_raising_systemexit_on_rows_names_the_sf(ss):
    session = SFCodeSession(ss, {}, path=None)
    code = TWO_SFS + "\n@slicing_function()\ndef quits(x):\n    raise SystemExit(1)\n"
    r = session.apply(code)
    assert not r.ok
    assert any(e.startswith("Error in quits (line 8)") or "quits (line 8)" in e
               for e in r.errors), r.errors


def test_keyboard_interrupt_in_an_sf_keeps_the_previous_state(ss):
    session = SFCodeSession(ss, {}, path=None)
    session.apply(TWO_SFS)
    code = TWO_SFS.replace("< 3", "< 9") + "\n@slicing_function()\ndef hang(x):\n" \
        "    raise KeyboardInterrupt\n"
    r = session.apply(code)
    assert r.interrupted and not r.cancelled
    assert r.errors[0].startswith("Interrupted while applying hang (line 8)")
    assert ss.sizes() == {"please": 2, "short": 3}


def test_cancel_stops_an_endless_sf_within_a_second_and_changes_nothing(ss):
    session = SFCodeSession(ss, {}, path=None)
    session.apply(TWO_SFS)
    session.set_text(TWO_SFS.replace("< 3", "< 9") + ENDLESS)
    plan_box = {}

    def work():
        plan = session.plan()
        plan_box["plan"] = plan
        session.compute(plan)
        return plan

    thread = CancellableThread(work)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive()
    t0 = time.perf_counter()
    assert thread.cancel(timeout=1.0)
    assert time.perf_counter() - t0 < 1.0
    plan = thread.result
    assert plan.result.cancelled and plan.result.errors[0].startswith(
        "Cancelled while applying endless (line 7) (Cancel). Nothing was changed")
    r = session.commit(plan)
    assert r.summary == "Cancelled: nothing was changed"
    assert ss.sizes() == {"please": 2, "short": 3} and "endless" not in ss


def test_cancel_gets_through_a_bare_except(ss):
    session = SFCodeSession(ss, {}, path=None)
    code = textwrap.dedent("""\
        try:
            while True:
                pass
        except:
            pass
        while True:
            pass
    """)
    session.set_text(code)
    thread = CancellableThread(session.plan)
    thread.start()
    time.sleep(0.2)
    assert thread.cancel(timeout=1.0)


# -- files ----------------------------------------------------------------------------------
def test_a_file_is_loaded_but_never_executed_at_construction(ss, tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "sfs.py"
    path.write_text(f"open({str(marker)!r}, 'w').write('x')\n" + TWO_SFS)
    session = SFCodeSession(ss, {}, path=path)
    assert session.text.endswith(TWO_SFS) and session.file.status == "loaded"
    assert "press Apply" in session.file.message
    assert not marker.exists() and ss.names == []
    session.apply()
    assert marker.exists() and ss.names == ["please", "short"]
    # the explicit opt-in runs it at once
    marker.unlink()
    SFCodeSession(SliceSet(ss.df), {}, path=path, run_file=True)
    assert marker.exists()


def test_loading_reports_syntax_errors_without_running(ss, tmp_path):
    path = tmp_path / "sfs.py"
    path.write_text("def half(x:\n")
    session = SFCodeSession(ss, {}, path=path)
    assert session.load_errors[0].startswith("SyntaxError in half (line 1)")


def test_default_file_is_one_per_notebook(ss, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert default_path({}) is None
    ns = {"__session__": "/somewhere/a.ipynb"}
    assert str(default_path(ns)) == "a.sfs.py"
    assert str(default_path({"__vsc_ipynb_file__": "/x/b.ipynb"})) == "b.sfs.py"
    monkeypatch.setenv("JPY_SESSION_NAME", "/x/c.ipynb")
    session = SFCodeSession(ss, {}, path="auto")
    assert str(session.path) == "c.sfs.py"
    session.set_text(TWO_SFS)
    assert (tmp_path / "c.sfs.py").read_text() == TWO_SFS
    assert not (tmp_path / "slicing_functions.py").exists()


def test_outside_a_notebook_auto_means_memory_only(ss, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    session = SFCodeSession(ss, {}, path="auto")
    session.set_text(TWO_SFS)
    assert session.path is None and list(tmp_path.iterdir()) == []


def test_a_file_changed_on_disk_is_never_overwritten_silently(df, tmp_path):
    path = tmp_path / "sfs.py"
    a = SFCodeSession(SliceSet(df), {}, path=path)
    a.set_text(TWO_SFS)
    b = SFCodeSession(SliceSet(df), {}, path=path)  # a second studio on the same file
    b.set_text(TWO_SFS + "\nlove = keyword_sf(['love'])\n")
    state = a.set_text(TWO_SFS + "\nsong = keyword_sf(['song'])\n")  # a types on
    assert state.status == "conflict"
    assert state.message == MSG_CONFLICT.format(path=path)
    assert state.disk_text == b.text == path.read_text()  # both texts kept
    assert "song" in a.text
    a.resolve("theirs")
    assert a.text == b.text and a.file.status == "loaded"
    a.set_text(a.text + "# mine\n")
    assert path.read_text().endswith("# mine\n")
    # and "mine" overwrites deliberately
    b.set_text("# b again\n")
    assert b.file.status == "conflict"
    b.resolve("mine")
    assert path.read_text() == "# b again\n"


def test_non_utf8_file_is_shown_and_never_overwritten(ss, tmp_path):
    path = tmp_path / "sfs.py"
    raw = "x = 'caf\xe9'\n".encode("latin-1")
    path.write_bytes(raw)
    session = SFCodeSession(ss, {}, path=path)
    assert session.file.status == "error"
    assert session.file.message.startswith(f"Could not read {path}: it is not UTF-8 text "
                                           "(byte 0xe9 at position 8)")
    session.set_text(TWO_SFS)
    assert path.read_bytes() == raw
    assert session.apply().ok and ss.names == ["please", "short"]


def test_directory_path_is_shown_not_raised(ss, tmp_path):
    session = SFCodeSession(ss, {}, path=tmp_path)
    assert session.file.status == "error"
    assert session.file.message.startswith(f"path={tmp_path} is a folder, not a file")
    session.set_text(TWO_SFS)
    assert session.apply().ok


# -- SFs given elsewhere, the form ------------------------------------------------------------
def test_sfs_given_elsewhere_are_restored_when_the_code_that_replaced_them_goes(df):
    original = keyword_sf(["love"], name="please")
    ss = SliceSet(df, [original])
    session = SFCodeSession(ss, {}, path=None)
    r = session.apply(TWO_SFS)
    assert r.warnings == [MSG_SHADOWS.format(name="please")]
    assert ss.sizes()["please"] == 2
    r = session.apply("")
    assert r.changed == ["please"] and ss["please"] is original and ss.sizes() == {"please": 1}


def test_form_never_binds_over_a_variable_that_is_not_an_sf(ss):
    ns = {"df": ss.df}
    session = SFCodeSession(ss, ns, path=None)
    session.set_text("")
    session.add_form_sf("keyword", "please", name="df")
    assert ns["df"] is ss.df and ns["df_sf"].name == "df"
    session.add_form_sf("keyword", "love", name="re")
    assert ns["re"] is re and ns["re_sf"].name == "re"
    r = session.add_form_sf("regex", "nice", name="nice")
    assert r.ok and ss.names == ["df", "re", "nice"]
    assert "re_sf = keyword_sf(['love'], name='re')" in session.text


def test_a_namespace_that_is_not_a_dict_is_refused_at_construction(ss):
    from collections import ChainMap

    # exec() runs code only in a dict of globals; refusing here beats failing at every Apply
    with pytest.raises(TypeError, match=r"namespace must be a dict .* got ChainMap; pass "
                                        r"dict\(namespace\)"):
        SFCodeSession(ss, ChainMap({}), path=None)
    ns: dict = {}
    assert SFCodeSession(ss, ns, path=None).apply(TWO_SFS).ok and ns["please"].name == "please"
