"""Full-page headless-Chromium screenshots of a running dashboard (e.g. the one `make run` serves).

    .venv/bin/python scripts/dashboard-screenshots.py --url http://127.0.0.1:8501 --out artifacts/make-run \
        --page overview= --page alerts=alerts --page entity-nvda="entity?ticker=NVDA"

Uses the DevTools client and page-state checks of the browser test
(tests/integration/test_dashboard_browser.py); fails if a page shows a
Streamlit exception.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.test_dashboard_browser import (  # noqa: E402
    CHROMIUM,
    PAGES,
    VIEWPORT_WIDTH,
    DevTools,
    rendered_state,
    wait_for,
)


@click.command()
@click.option("--url", default="http://127.0.0.1:8501", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("artifacts"), show_default=True)
@click.option("--page", "pages", multiple=True, default=["overview=", "alerts=alerts"], show_default=True,
              help="NAME=PATH; the PNG is NAME.png.")
def main(url: str, out: Path, pages: tuple[str, ...]) -> None:
    profile = Path(tempfile.mkdtemp(prefix="finsent-chromium-"))
    process = subprocess.Popen([
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
        f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
        f"--window-size={VIEWPORT_WIDTH},1000", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = profile / "DevToolsActivePort"
        wait_for(lambda: active.exists() and active.read_text().strip(), 60, "Chromium's DevTools port")
        port = int(active.read_text().splitlines()[0])
        targets = wait_for(lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json()
                                    if t["type"] == "page"], 30, "a page target")
        browser = DevTools(targets[0]["webSocketDebuggerUrl"])
        browser.call("Page.enable")
        out.mkdir(parents=True, exist_ok=True)
        for spec in pages:
            name, _, path = spec.partition("=")
            browser.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT_WIDTH, height=1000,
                         deviceScaleFactor=1, mobile=False)
            browser.call("Page.navigate", url=f"{url}/{path}")
            page = path.partition("?")[0]  # "entity?ticker=NVDA": the page's own checks, with its query
            state = wait_for(lambda: rendered_state(browser, PAGES[page]), 120, f"page /{path}")  # noqa: B023
            if state["exceptions"]:
                raise click.ClickException(f"/{path}: {state['exceptions']}")
            height = min(int(state["height"]) + 80, 6000)
            browser.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT_WIDTH, height=height,
                         deviceScaleFactor=1, mobile=False)
            time.sleep(2)
            picture = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
            (out / f"{name}.png").write_bytes(picture)
            click.echo(json.dumps({"page": f"/{path}", "png": str(out / f"{name}.png"), "bytes": len(picture)}))
        browser.close()
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
