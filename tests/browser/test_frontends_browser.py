"""Smoke tests of the studio in the other front ends: Notebook 7 and Voilà (``editable=False``).

* Notebook 7: a small studio renders, an SF typed into the CodeMirror editor and applied with
  Shift+Enter gains its score-table row, and no key reaches the notebook.
* Voilà: ``voila_dashboard.ipynb`` (the read-only dashboard of the docs) renders the studio
  with no editor; a toggle removes a table row and pages of the preview turn.

The servers run on 127.0.0.1 with isolated Jupyter config/data/runtime folders, like the
JupyterLab fixture in ``conftest.py``; Chromium comes from the same fixtures.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.conftest import (  # noqa: E402
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    KERNEL_IDLE_JS,
    _die_with_parent,
    _free_port,
    _require_browser,
)

HERE = Path(__file__).resolve().parent
pytestmark = BROWSER_MARKS

SMALL_STUDIO = '''\
import pandas as pd
from slicewidgets.slicing import keyword_sf
from slicewidgets.widgets import SliceStudio

df = pd.DataFrame({"text": ["check my channel", "nice song", "please subscribe",
                            "love it", "check this out", "great voice"] * 5})
golds = [1, 0, 1, 0, 1, 0] * 5
preds = [1, 0, 0, 0, 1, 1] * 5
studio = SliceStudio(df, golds=golds, preds=preds, sfs=[keyword_sf(["check"])], path=None)
studio
'''


def _serve(cmd: list[str], root: Path, base: Path, probe: str, env_extra: dict) -> tuple:
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"), IPYTHONDIR=str(base / "ipython"),
        JUPYTER_PLATFORM_DIRS="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1", **env_extra,
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "notebook" in cmd:
        cmd.append("--allow-root")
    log = base / "server.log"
    logf = open(log, "w")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=root,
                            preexec_fn=_die_with_parent)
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            logf.close()
            pytest.fail(f"{cmd[2]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(probe, timeout=2).read()
            break
        except urllib.error.HTTPError:  # an HTTP answer, even 403/404: the server is up
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                proc.kill()
                logf.close()
                pytest.fail(f"{cmd[2]} not up after 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    return proc, logf, log


def _stop(proc, logf) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    logf.close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    _require_browser()
    tmp = tmp_path_factory.mktemp("chromium-frontends")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1600},
            env=dict(os.environ, XDG_CONFIG_HOME=str(tmp / "xdg-config"),
                     XDG_CACHE_HOME=str(tmp / "xdg-cache")))
        ctx.set_default_timeout(30_000)
        try:
            yield ctx
        finally:
            ctx.close()


#: Notebook 7's own settings registry fails on one plugin's schema when the Jupyter config and
#: data folders are empty (as here, isolated); its stack lies only in notebook_core, not in
#: any widget code, and the page works. Anything else fails the test.
BENIGN_PAGE_ERRORS = ("Cannot read properties of undefined (reading 'schema')",)


BENIGN_CONSOLE = (
    # a request to a non-loopback host, blocked by design (see conftest.CHROMIUM_ARGS)
    "ERR_NAME_NOT_RESOLVED",
    # Voila loads every installed lab extension; Notebook 7's own one cannot find JupyterLab's
    # document registry there (module federation RUNTIME-012). Not ours: its stack lies in
    # @jupyter-notebook/lab-extension, and the dashboard works.
    "@jupyter-notebook/lab-extension/static/remoteEntry",
)


def _on_page_error(errors: list[str], exc) -> None:
    stack = exc.stack or ""
    if any(b in str(exc) for b in BENIGN_PAGE_ERRORS) and "/static/notebook/" in stack and \
            "anywidget" not in stack and "jupyter-widgets" not in stack:
        return
    errors.append(f"pageerror: {exc} {stack}")


def _page_with_log(ctx):
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: _on_page_error(errors, exc))
    page.on("console", lambda msg: msg.type == "error" and
            not any(b in msg.text for b in BENIGN_CONSOLE) and errors.append(msg.text))
    return page, errors


def test_notebook7_studio_types_and_applies(tmp_path, chromium, artifacts):
    pytest.importorskip("notebook")
    import nbformat

    root = tmp_path / "root"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SMALL_STUDIO)], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, root / "small.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--JupyterNotebookApp.expose_app_in_browser=True"]
    proc, logf, log = _serve(cmd, root, tmp_path, f"http://127.0.0.1:{port}/api/status?"
                             f"token={token}", {})
    try:
        page, errors = _page_with_log(chromium)
        page.goto(f"http://127.0.0.1:{port}/notebooks/small.ipynb?token={token}")
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=90_000)
        page.wait_for_function(KERNEL_IDLE_JS, timeout=90_000)
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        expect(page.locator(".sw-studio")).to_be_visible(timeout=120_000)
        expect(page.locator('.sw-score-table tr[data-slice="keyword_check"]')).to_have_count(1)
        # the cell has finished (kernel idle again) before we type, as a person would wait
        page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000)
        content = page.locator(".sw-editor .sw-code-editor .cm-content")
        content.click()
        page.keyboard.press("ControlOrMeta+End")
        page.keyboard.type("songs = keyword_sf(['song'], name='songs')", delay=5)
        page.keyboard.press("Escape")
        expect(content).to_contain_text("songs = keyword_sf(['song'], name='songs')")
        page.keyboard.press("Shift+Enter")
        expect(page.locator('.sw-score-table tr[data-slice="songs"] .sw-n')).to_have_text(
            "5", timeout=60_000)
        cells = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                              ".length")
        assert cells == 1  # Shift+Enter applied; it did not run the cell and add a new one
        page.screenshot(path=str(artifacts / "notebook7_studio.png"))
        assert errors == [], errors
    finally:
        _stop(proc, logf)
        shutil.copy(log, artifacts / "server-notebook7.log")


def test_voila_dashboard_is_read_only_and_works(tmp_path, chromium, artifacts, spam_data_dir):
    pytest.importorskip("voila")
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(HERE / "voila_dashboard.ipynb", root / "voila_dashboard.ipynb")
    port = _free_port()
    cmd = [sys.executable, "-m", "voila", "voila_dashboard.ipynb", "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1"]
    proc, logf, log = _serve(cmd, root, tmp_path, f"http://127.0.0.1:{port}/api/status",
                             {"SLICEWIDGETS_DATA_DIR": str(spam_data_dir)})
    try:
        page, errors = _page_with_log(chromium)
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        studio = page.locator(".sw-studio")
        expect(studio).to_be_visible(timeout=120_000)
        # read-only: no editor, no code area, nothing to type code into
        expect(page.locator(".sw-editor")).to_have_count(0)
        expect(page.locator(".cm-content, textarea")).to_have_count(0)
        row = page.locator('.sw-score-table tr[data-slice="short_link"]')
        expect(row).to_have_count(1)
        page.locator(".sw-toggles .sw-toggle").filter(
            has=page.get_by_text("short_link", exact=True)).locator("input").uncheck()
        expect(row).to_have_count(0, timeout=30_000)
        page.locator(".sw-preview .sw-preview-slice select").select_option("short_comment")
        info = page.locator(".sw-preview .sw-preview-info")
        expect(info).to_contain_text("rows 1–10 of", timeout=30_000)
        page.locator(".sw-preview .sw-preview-next").click()
        expect(info).to_contain_text("rows 11–20 of", timeout=30_000)
        studio.screenshot(path=str(artifacts / "voila_dashboard.png"))
        assert errors == [], errors
    finally:
        _stop(proc, logf)
        shutil.copy(log, artifacts / "server-voila.log")
    # no file was written next to the dashboard (no editor, no save file)
    assert sorted(p.name for p in root.iterdir()) == ["voila_dashboard.ipynb"]
