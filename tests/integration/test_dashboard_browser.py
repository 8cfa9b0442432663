"""The dashboard in a real headless Chromium: every page renders without a Streamlit exception.

Starts `finsent dashboard` on a free port against the seeded test database,
drives /usr/bin/chromium over the DevTools protocol (a websocket; no
Selenium/Playwright needed), waits for each page's title and for Streamlit to
finish running, checks there is no `[data-testid="stException"]` box, and
saves a full-page screenshot per page under artifacts/screenshots/, plus
`entity_replay.png`: the Entity page on a database of replayed 2020 history.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from kernel.settings import PROJECT_ROOT
from tests.databases import scratch_database
from tests.integration.dashboard_seeding import SeededDashboard, seed_dashboard_data, seed_replayed_history

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
VIEWPORT_WIDTH = 1440
# url path -> the page's title (its h1)
PAGES = {"": "Market sentiment", "entity": "Entity", "topics": "Topics", "alerts": "Alerts", "model": "Model",
         "labelling": "Labelling"}
PAGE_STATE_JS = """(() => {
  const main = document.querySelector('[data-testid="stMain"]');
  return JSON.stringify({
    title: document.querySelector('h1')?.innerText ?? null,
    running: !!document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"], '
                                      + '[data-testid="stSkeleton"]'),
    exceptions: [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 500)),
    charts: document.querySelectorAll('.vega-embed').length,
    height: (main ?? document.body)?.scrollHeight ?? 0,
  });
})()"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DevTools:
    """A minimal Chrome DevTools Protocol client: send a command, wait for its reply."""

    def __init__(self, websocket_url: str) -> None:
        self._socket: ClientConnection = connect(websocket_url, max_size=None, open_timeout=20)
        self._ids = itertools.count(1)

    def call(self, method: str, timeout_s: float = 30, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            reply = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message_id:  # anything else is an event we did not subscribe to
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str) -> Any:
        """The expression's value; None while the page is between documents (navigation)."""
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"script error: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def close(self) -> None:
        self._socket.close()


def wait_for(condition, timeout_s: float, what: str, interval_s: float = 0.25):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def seeded(database_url: str) -> SeededDashboard:
    return seed_dashboard_data(database_url)


@pytest.fixture(scope="module")
def dashboard_url(database_url: str, seeded: SeededDashboard) -> Iterator[str]:
    """`finsent dashboard` serving the seeded test database on a free port."""
    with serve_dashboard(database_url) as url:
        yield url


@pytest.fixture(scope="module")
def replay_dashboard_url(database_server_url: str) -> Iterator[str]:
    """`finsent dashboard` serving a database of replayed 2020 history only."""
    with scratch_database(database_server_url, "finsent_test_browser_replay") as database_url:
        seed_replayed_history(database_url)
        with serve_dashboard(database_url) as url:
            yield url


@contextmanager
def serve_dashboard(database_url: str) -> Iterator[str]:
    """Run `finsent dashboard` against database_url on a free port until the block ends."""
    port = free_port()
    env = {**os.environ, "FINSENT_DATABASE_URL": database_url, "FINSENT_METRICS_PORT": str(free_port())}
    env.pop("FINSENT_DASHBOARD_PASSWORD_HASH", None)
    finsent = str(Path(sys.executable).with_name("finsent"))
    log = tempfile.TemporaryFile()
    server = subprocess.Popen([finsent, "dashboard", "--port", str(port)], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if server.poll() is not None:
            log.seek(0)
            raise AssertionError(f"finsent dashboard exited with {server.returncode}:\n{log.read().decode()[-3000:]}")
        try:
            return httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok"
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, 90, "the dashboard's health endpoint")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[DevTools]:
    """Headless Chromium with a throw-away profile, driven over its DevTools websocket."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    profile = Path(tempfile.mkdtemp(prefix="finsent-chromium-"))
    process = subprocess.Popen([
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1", f"--window-size={VIEWPORT_WIDTH},1000", "about:blank",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active_port = profile / "DevToolsActivePort"
        wait_for(lambda: active_port.exists() and active_port.read_text().strip(), 60, "Chromium's DevTools port")
        port = int(active_port.read_text().splitlines()[0])
        targets = wait_for(lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json()
                                    if t["type"] == "page"], 30, "a page target")
        devtools = DevTools(targets[0]["webSocketDebuggerUrl"])
        devtools.call("Page.enable")
        yield devtools
        devtools.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def rendered_state(browser: DevTools, title: str) -> dict[str, Any] | None:
    """The page's state once its title shows and Streamlit has stopped running for a moment."""
    raw = browser.evaluate(PAGE_STATE_JS)
    if raw is None:
        return None
    state = json.loads(raw)
    if state["exceptions"]:
        return state  # fail fast, with the exception text
    if state["title"] != title or state["running"]:
        return None
    time.sleep(1.0)  # let Vega finish drawing and a rerun (if any) start
    again = json.loads(browser.evaluate(PAGE_STATE_JS))
    return again if again["title"] == title and not again["running"] else None


@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
def test_page_renders_in_chromium(browser: DevTools, dashboard_url: str, path: str) -> None:
    browser.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT_WIDTH, height=1000, deviceScaleFactor=1,
                 mobile=False)
    browser.call("Page.navigate", url=f"{dashboard_url}/{path}")
    state = wait_for(lambda: rendered_state(browser, PAGES[path]), 90, f"page /{path} to render")
    assert state["exceptions"] == [], state["exceptions"]
    # Streamlit scrolls inside stMain: make the viewport as tall as the content for a full-page picture.
    height = min(int(state["height"]) + 80, 6000)
    browser.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT_WIDTH, height=height, deviceScaleFactor=1,
                 mobile=False)
    time.sleep(1.5)
    final = json.loads(browser.evaluate(PAGE_STATE_JS))
    assert final["exceptions"] == [], final["exceptions"]
    if path in ("", "entity", "topics"):
        assert final["charts"] > 0, "no Altair chart was drawn"
    picture = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{path or 'overview'}.png").write_bytes(picture)
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"


def test_replayed_history_renders_its_latest_data_in_chromium(browser: DevTools, replay_dashboard_url: str) -> None:
    browser.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT_WIDTH, height=1600, deviceScaleFactor=1,
                 mobile=False)
    browser.call("Page.navigate", url=f"{replay_dashboard_url}/entity?ticker=NFLX")
    state = wait_for(lambda: rendered_state(browser, "Entity"), 90, "the Entity page to render")
    assert state["exceptions"] == [], state["exceptions"]
    assert state["charts"] > 0, "no Altair chart was drawn"
    text_shown = browser.evaluate("document.body.innerText")
    assert "Showing the latest data: 2020-07-17 00:00" in text_shown
    assert "NFLX" in text_shown and "No articles about this ticker" not in text_shown
    picture = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "entity_replay.png").write_bytes(picture)
