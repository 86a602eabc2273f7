"""Fixtures for tests that drive JupyterLab in a real, headless Chromium through Playwright.

- ``jupyter_server`` (session): one JupyterLab server on 127.0.0.1, serving a temporary COPY of
  ``notebooks/`` (Lab autosaves, and the checkout must stay clean), with fresh Jupyter and IPython
  config/data/runtime directories so nothing on the machine leaks in. Stopped by its PID.
- ``browser`` (session): headless Chromium (Debian's ``/usr/bin/chromium``, or ``OMNILAB_CHROMIUM``).
- ``lab`` (per test): a new page on that server, every non-loopback request blocked, with helpers:
  ``lab.open_notebook("00-welcome.ipynb")``, ``lab.run_all()``, ``lab.outputs``, ``lab.screenshot(name)``.

Without Chromium the tests are skipped with the reason on a developer's machine; when the ``CI``
environment variable is set they fail instead, so CI can never skip them silently. Screenshots go to
``tests/browser/screenshots/`` (ignored by git), one per failing test automatically.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("OMNILAB_CHROMIUM") or "/usr/bin/chromium"
# Chromium's own background traffic is refused on these machines; these flags keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
NOT_LOOPBACK = re.compile(r"^https?://(?!127\.0\.0\.1(:\d+)?/)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SERVER_START_TIMEOUT = 90  # seconds; a cold JupyterLab start takes a few
TIMEOUT_MS = 60_000  # for any single browser wait


def require_chromium() -> None:
    if os.access(CHROMIUM, os.X_OK):
        return
    reason = (
        f"Chromium not found at {CHROMIUM}: `make test` installs it (Debian package `chromium`), "
        "or set OMNILAB_CHROMIUM to a Chromium binary"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, so the browser tests may not be skipped.", pytrace=False)
    pytest.skip(reason)


# --- the JupyterLab server -------------------------------------------------------------------


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


@dataclass
class JupyterServer:
    url: str
    root_dir: Path  # the served copy; tests may add notebooks to it
    process: subprocess.Popen
    log_path: Path

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"JupyterLab did not answer /api/status in {SERVER_START_TIMEOUT}s:\n{self.log_tail()}")

    def wait_for_kernel(self, notebook: str, timeout: float = 60) -> None:
        """Wait until the page's kernel websocket is connected.

        The kernel reports "idle" before the page has connected to it, and Run All in that window
        opens a "Select Kernel" dialog instead of running anything.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("sessions"):
                if session["path"] == notebook and session["kernel"]["connections"] > 0:
                    return
            time.sleep(0.25)
        raise AssertionError(f"no connected kernel for {notebook} after {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        try:
            for session in self.api("sessions"):
                self.api(f"sessions/{session['id']}", method="DELETE")  # shuts its kernel down
        except OSError:
            pass
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory) -> JupyterServer:
    require_chromium()  # no point starting a server for tests that will skip
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    shutil.copytree(REPO / "notebooks", root)
    dirs = {name: base / name.lower() for name in (
        "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
        "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR",
    )}
    for path in dirs.values():
        path.mkdir()
    # No news toast over the notebook; keep every cell in the DOM so tests can see all of them.
    _write_json(dirs["JUPYTER_CONFIG_DIR"] / "labconfig" / "page_config.json",
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    _write_json(dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    env = {**os.environ, **{name: str(path) for name, path in dirs.items()}}
    env.pop("JUPYTER_TOKEN", None)

    port = _free_loopback_port()
    log_path = base / "jupyterlab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", "--port", str(port),
             "--ServerApp.port_retries=0", "--allow-root", "--IdentityProvider.token=",
             "--ServerApp.password=", f"--ServerApp.root_dir={root}"],
            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    server = JupyterServer(f"http://127.0.0.1:{port}", root, process, log_path)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Lab:
    """One JupyterLab page, with the steps the browser tests share."""

    def __init__(self, page, server: JupyterServer):
        self.page = page
        self.server = server
        self.notebook_name: str | None = None

    @property
    def notebook(self):
        """The notebook shown in the current tab."""
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")

    @property
    def outputs(self):
        """Every rendered output of the current notebook (widgets, text, SVG, tables)."""
        return self.notebook.locator(".jp-OutputArea-output")

    def open_notebook(self, name: str) -> None:
        """Open ``name`` (a path inside the served copy of notebooks/) and wait for its kernel."""
        # ?reset: start from an empty workspace, not the tabs an earlier test left open.
        self.page.goto(f"{self.server.url}/lab/tree/{name}?reset")
        self.notebook_name = name
        self.notebook.locator(".jp-Cell").first.wait_for(state="visible")
        self.server.wait_for_kernel(name)

    def menu(self, *labels: str) -> None:
        """Click through the menu bar: ``lab.menu("Run", "Run All Cells")``."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(labels[0])}$")).click()
        for label in labels[1:]:
            self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).click()

    def run_all(self, timeout_ms: int = TIMEOUT_MS) -> dict:
        """Run All Cells, wait until they ran, and fail with the traceback if any cell raised.

        Returns the notebook as saved after the run (nbformat JSON, outputs included).
        """
        self.menu("Run", "Run All Cells")
        # Done when no cell is queued or running ([*]) and either every code cell has a number or
        # some cell wrote to stderr (after an error JupyterLab leaves the later cells unrun).
        self.page.wait_for_function(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .map(p => p.textContent.trim());
                if (prompts.some(p => p.includes('*'))) return false;
                return prompts.every(p => /^\\[\\d+\\]:$/.test(p))
                    || panel.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]') !== null;
            }""",
            timeout=timeout_ms,
        )
        notebook = self.save()
        errors = [
            f"cell {index}: {output['ename']}: {output['evalue']}\n" + ANSI.sub("", "\n".join(output["traceback"]))
            for index, cell in enumerate(notebook["cells"])
            for output in cell.get("outputs", [])
            if output["output_type"] == "error"
        ]
        assert not errors, f"{self.notebook_name} failed in the browser:\n" + "\n".join(errors)
        return notebook

    def save(self) -> dict:
        """Save the open notebook (File > Save Notebook) and return it as stored by the server."""
        self.menu("File", "Save Notebook")
        tab = self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=self.notebook_name.rsplit("/", 1)[-1])
        expect(tab).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"))
        return self.server.api(f"contents/{self.notebook_name}")["content"]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item so the lab fixture knows whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def lab(browser, jupyter_server, request) -> Lab:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.route(NOT_LOOPBACK, lambda route: route.abort())
    lab = Lab(page, jupyter_server)
    yield lab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        lab.screenshot(f"{request.node.name}-failed")
    context.close()
