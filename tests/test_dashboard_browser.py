"""Browser test: serve the dashboard, load the call detail page in headless Chromium, screenshot it.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); skipped with that reason when it
is missing. The page is driven over the DevTools protocol (no extra Python package): we wait
until the conversation is on screen, then save ``<tmp>/call_detail.png`` (and copy it to
``$QA_TOOLKIT_SCREENSHOT_DIR`` when set, for CI artifacts).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from base64 import b64decode
from pathlib import Path

import pytest

from qa_toolkit.pipeline import scan_files

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "corpus_dev.jsonl"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-allow-origins=*",
         "--window-size=1600,1400", "--hide-scrollbars", "--lang=zh-CN"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.skipif(not CORPUS.exists(), reason="tests/data/corpus_dev.jsonl is missing"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float) -> bytes:
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.25)


def _legacy_flag() -> bool:
    import inspect

    from websockets.sync.client import connect as ws_connect

    return "legacy" in inspect.signature(ws_connect).parameters


_LEGACY = _legacy_flag()


class Cdp:
    """The few DevTools calls the test needs."""

    def __init__(self, ws_url: str):
        from websockets.sync.client import connect as ws_connect

        self.ws = ws_connect(ws_url, max_size=None, open_timeout=20, legacy=True) if _LEGACY else ws_connect(
            ws_url, max_size=None, open_timeout=20)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def text(self) -> str:
        res = self.call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                        returnByValue=True)
        return res["result"].get("value") or ""


def _stop(proc: subprocess.Popen) -> None:
    """Ask a child process to end; kill it if it has not within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'qa.db'}"
    scan_files([CORPUS], db=url, progress=False)
    port = _free_port()
    env = dict(os.environ, QA_TOOLKIT_DB=url)
    env.pop("QA_TOOLKIT_USERS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboards" / "streamlit_app.py"),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", "--", "--db", url],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60)
        yield f"http://127.0.0.1:{port}", tmp
    finally:
        _stop(proc)


def test_call_detail_screenshot(served):
    base, tmp = served
    profile = tmp / "chromium-profile"
    browser = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = profile / "DevToolsActivePort"
        end = time.monotonic() + 30
        while not (active.exists() and active.read_text().strip()):
            assert time.monotonic() < end, "chromium did not open its DevTools port"
            time.sleep(0.2)
        dport = int(active.read_text().split()[0])
        pages = json.loads(_wait_http(f"http://127.0.0.1:{dport}/json/list", 20))
        page = next(p for p in pages if p.get("type") == "page")
        cdp = Cdp(page["webSocketDebuggerUrl"])
        cdp.call("Page.enable")
        cdp.call("Page.navigate", url=f"{base}/call?call=D005")
        end = time.monotonic() + 60
        text = ""
        while time.monotonic() < end:
            text = cdp.text()
            if "Call D005" in text and "Conversation" in text and "Regulation" in text and "Running" not in text:
                break
            time.sleep(0.5)
        assert "Call D005" in text, f"page did not render the call; body text: {text[:500]!r}"
        assert "Conversation" in text and "Regulation" in text
        time.sleep(1.0)  # let charts and fonts settle
        shot = cdp.call("Page.captureScreenshot", format="png")
        png = tmp / "call_detail.png"
        png.write_bytes(b64decode(shot["data"]))
        assert png.stat().st_size > 20_000, "screenshot looks empty"
        out_dir = os.environ.get("QA_TOOLKIT_SCREENSHOT_DIR")
        if out_dir:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            shutil.copy(png, Path(out_dir) / "call_detail.png")
    finally:
        _stop(browser)
