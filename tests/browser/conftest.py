"""Fixtures for the real-browser tests: JupyterLab 4 + ipywidgets 8 in headless Chromium.

Adapted from the proven recipe in ``shared/guides/browser-testing/test_browser.py``:

* ``lab`` (module scope): a JupyterLab server started with ``sys.executable -m jupyterlab`` on
  127.0.0.1 with a random token, an isolated config/data/runtime/settings/workspaces tree, and a
  temporary root dir into which the test notebook is copied (the kernel's working directory, so the
  studio's SF save file lands there too). ``SLICEWIDGETS_DATA_DIR`` is passed to the kernel.
* ``page`` (module scope): Chromium (``/usr/bin/chromium`` or ``$SW_CHROMIUM``) driven by Python
  Playwright, with the flags a closed network needs; collects console errors, page errors and
  requests that try to leave 127.0.0.1.
* ``artifacts``: where screenshots go, ``$SW_ARTIFACTS`` or ``<repo>/test-artifacts/browser``
  (git-ignored). On a failed test a ``FAILED_<test>.png`` screenshot and the server log are saved.

Every test here is skipped cleanly when Chromium or Playwright is missing, or the spam data is.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = os.environ.get("SW_CHROMIUM", "/usr/bin/chromium")
#: the marks of every browser test module (``pytestmark = BROWSER_MARKS``)
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.timeout(300),  # pytest-timeout: a hung browser or kernel fails, teardown runs
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} missing (apt-get install chromium)"),
]
ARTIFACTS = Path(os.environ.get("SW_ARTIFACTS") or REPO / "test-artifacts" / "browser")

try:  # the test modules skip on their own; the fixtures must not fail at import either
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

# Flags for a closed network: without --disable-background-networking & co. Chromium's own
# background connections are refused and it gets slow and noisy.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI containers run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",  # small /dev/shm in containers
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium still looks up Google hosts despite the flags above: make every name but the
    # loopback fail locally, so no DNS query leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]

# Written into the temporary LabApp.user_settings_dir.
USER_SETTINGS = {
    # fetchNews="false" is what suppresses the "official Jupyter news?" toast (news_url=None alone
    # does not); checkForUpdates=false stops the /lab/api/update call.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # No virtual scrolling of cells: every cell (and so every widget) stays in the DOM whatever
    # the scroll position, so locators never race the windowing.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# Console messages that are not errors of ours, with the reason they are harmless. Matched as
# substrings of the message text. Keep this list short and justified: everything else fails.
BENIGN_CONSOLE_ERRORS: dict[str, str] = {
    # A fetch of a non-loopback URL fails by design (--host-resolver-rules) and Chromium logs
    # it; it is not hidden: the request itself fails the tests via PageLog.external_requests.
    "net::ERR_NAME_NOT_RESOLVED": "request to a non-loopback host, blocked by design",
}


# true once the current notebook's kernel is connected and idle (a cell has finished)
KERNEL_IDLE_JS = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""


#: WCAG contrast ratio of each element's text against its effective background
CONTRAST_JS = """(selectors) => {
  const parse = (c) => { const m = (c.match(/[\\d.]+/g) || []).map(Number);
    return m.length >= 3 ? [m[0], m[1], m[2], m.length > 3 ? m[3] : 1] : [0, 0, 0, 0]; };
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let out = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)];
    return out;
  };
  const result = {};
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (!el) { result[sel] = null; continue; }
    const style = getComputedStyle(el);
    const fg = parse(el instanceof SVGElement ? style.fill : style.color);
    const l1 = lum(fg), l2 = lum(background(el.closest('svg') ? el.closest('svg').parentElement : el));
    result[sel] = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  }
  return result;
}"""



def set_theme(page, name: str) -> None:
    """Switch JupyterLab to theme ``name`` ("JupyterLab Light", "JupyterLab Dark") and let
    the page repaint."""
    page.evaluate("(t) => { window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme: t}); }", name)
    page.wait_for_function("(t) => document.body.dataset.jpThemeName === t", arg=name,
                           timeout=30_000)
    page.wait_for_timeout(800)


def low_contrast(page, selectors: list[str], minimum: float = 4.5) -> dict:
    """The selectors whose text has a WCAG contrast ratio below ``minimum`` (or that match
    nothing: ``None``), with their ratio."""
    contrast = page.evaluate(CONTRAST_JS, selectors)
    return {k: v for k, v in contrast.items() if v is None or v < minimum}

def run_notebook(page, lab, name: str) -> None:
    """Open notebook ``name`` of the lab's root in ``page`` and run all its cells (returns once
    'run all' is sent; the caller waits for what the notebook should show)."""
    from playwright.sync_api import expect

    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=90_000)
    # page.evaluate() has no timeout and awaits returned promises: set a flag, poll it.
    page.evaluate("() => { window.jupyterapp.restored.then(() => { window.__swRestored = true; }); }")
    page.wait_for_function("() => window.__swRestored === true", timeout=90_000)
    expect(page.locator(".jp-NotebookPanel .jp-Notebook")).to_be_visible(timeout=90_000)
    # 'run all' sent before the kernel is connected is silently dropped
    page.wait_for_function(KERNEL_IDLE_JS, timeout=90_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def _die_with_parent() -> None:
    """Linux: SIGTERM the server when pytest itself dies (e.g. a CI timeout), so no orphaned
    jupyter server or kernel survives; jupyter_server stops its kernels on SIGTERM."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen

    def api(self, path: str, method: str = "GET", timeout: float = 5):
        req = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            return json.loads(body) if body else None


@dataclass
class PageLog:
    """What the browser reported while the tests ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    benign: list[str] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        return self.page_errors + self.console_errors


def _require_browser() -> None:
    if sync_playwright is None:
        pytest.skip("playwright is not installed (pip install playwright; never `playwright install`)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium, or set SW_CHROMIUM)")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory, spam_data_dir, artifacts) -> Lab:
    """JupyterLab serving a temporary root dir holding the module's ``NOTEBOOKS``."""
    _require_browser()
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    for name in getattr(request.module, "NOTEBOOKS", ()):
        shutil.copy(HERE / name, root / name)
    settings = base / "user-settings"
    for rel, content in USER_SETTINGS.items():
        p = settings / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(content))

    port, token = _free_port(), secrets.token_hex(16)
    # Isolated from ~/.jupyter, ~/.local/share/jupyter and ~/.ipython of whoever runs the tests.
    # JUPYTER_DATA_DIR is empty, so the kernel is ipykernel's built-in spec: sys.executable.
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(base / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        MPLBACKEND="Agg",
        SLICEWIDGETS_DATA_DIR=str(spam_data_dir),
        # two cores: keep torch / BLAS from oversubscribing them next to the browser
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",  # fail loudly instead of silently taking another port
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",  # no saved layout leaks between runs
        f"--LabApp.user_settings_dir={settings}",
        "--LabApp.news_url=None",  # the server never fetches the news feed
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",  # never asks PyPI
        "--LabApp.extension_manager=readonly",  # the extension manager never queries PyPI
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp (commands, shell) for the tests
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # otherwise JupyterLab refuses to start as root
    log = base / "server.log"
    logf = open(log, "w")  # noqa: SIM115 - closed in the teardown below
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=root, preexec_fn=_die_with_parent
    )
    server = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log, proc=proc)
    deadline = t0 + 90
    while True:
        if proc.poll() is not None:
            logf.close()
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            server.api("/api/status", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                proc.kill()
                logf.close()
                pytest.fail(f"jupyter lab not up after 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    print(f"\n[lab] up in {time.monotonic() - t0:.1f}s at {server.url} (log: {log})")
    yield server

    # Clean shutdown: the REST call stops the kernels too; else SIGTERM, then SIGKILL.
    try:
        server.api("/api/shutdown", method="POST")
        proc.wait(timeout=30)
    except Exception:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    logf.close()
    shutil.copy(log, artifacts / f"server-{request.module.__name__}.log")


@pytest.fixture(scope="module")
def browser_context(lab, tmp_path_factory):
    """A fresh persistent Chromium profile per test module."""
    tmp = tmp_path_factory.mktemp("chromium")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            # tall enough that the whole studio fits on screen for the screenshots
            viewport={"width": 1400, "height": 1600},
            # keep Chromium's crashpad dir and dconf cache out of ~/.config
            env=dict(
                os.environ,
                XDG_CONFIG_HOME=str(tmp / "xdg-config"),
                XDG_CACHE_HOME=str(tmp / "xdg-cache"),
            ),
        )
        ctx.set_default_timeout(30_000)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture(scope="module")
def page(lab, browser_context):
    """The page; ``page.sw_log`` (:class:`PageLog`) has the console errors seen so far."""
    pg = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    log = PageLog()
    pg.sw_log = log

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        text = msg.text
        loc = msg.location or {}
        where = f" ({loc.get('url', '')}:{loc.get('lineNumber', '')})" if loc.get("url") else ""
        if any(key in text for key in BENIGN_CONSOLE_ERRORS):
            log.benign.append(text + where)
        else:
            log.console_errors.append(text + where)

    def on_request(req) -> None:
        if not req.url.startswith((lab.url, "data:", "blob:", "about:")):
            log.external_requests.append(req.url)

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: log.page_errors.append(f"pageerror: {exc}"))
    pg.on("request", on_request)
    return pg


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request, artifacts):
    """Save a screenshot of the whole page when a browser test fails (for CI artifacts)."""
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed or "page" not in request.fixturenames:
        return
    pg = request.getfixturevalue("page")
    try:
        pg.screenshot(path=str(artifacts / f"FAILED_{request.node.name}.png"), timeout=15_000)
    except Exception as exc:  # a dead browser must not hide the real failure
        print(f"[browser] failure screenshot not taken: {exc}")
