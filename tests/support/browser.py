"""Headless Chromium driven over the Chrome DevTools Protocol, for testing reports as a person sees them.

    with Browser(tmp_path) as browser:
        page = browser.open(Path("report.html").as_uri())
        page.evaluate("document.title"); page.screenshot(tmp_path / "report.png")
        page.console_errors, page.requests, page.dialogs

Chromium comes from Debian's `chromium` package (CI installs it). It is started with every flag that
stops background networking, so any request recorded comes from the page itself. The DevTools
endpoint is read from the DevToolsActivePort file Chromium writes into its profile folder, and
spoken to with the websockets sync client: no WebDriver and no network needed."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install it with `apt-get install -y chromium` (CI's .ci/run does), or set PERFTRUST_CHROMIUM=/path/to/chrome"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # tests run as root in CI containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    override = os.environ.get("PERFTRUST_CHROMIUM")
    if override:
        return override if Path(override).exists() else shutil.which(override)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    pass


@dataclass
class Page:
    browser: Browser
    session: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    loaded: bool = False

    def send(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def on_event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console_errors.append(
                str(details.get("exception", {}).get("description") or details.get("text"))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(
                f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip()
            )
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(f"{params.get('type')}: {params.get('message')}")
            self.browser.send_nowait("Page.handleJavaScriptDialog", {"accept": False}, self.session)
        elif method == "Page.loadEventFired":
            self.loaded = True

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        self.loaded = False
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {result['errorText']}")
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading in {timeout} s")
            self.browser.pump(0.2)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluating {expression[:80]!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def set_viewport(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def emulate_media(self, media: str) -> None:
        self.send("Emulation.setEmulatedMedia", {"media": media})

    def screenshot(self, path: Path, full_page: bool = True, max_height: int = 12000) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(size["height"], max_height),
                "scale": 1,
            }
        data = self.send("Page.captureScreenshot", params, timeout=60)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def print_pdf(self, path: Path) -> Path:
        data = self.send("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True}, timeout=60)
        path.write_bytes(base64.b64decode(data["data"]))
        return path


class Browser:
    """One headless Chromium process with a throwaway profile."""

    def __init__(self, workdir: Path, binary: str | None = None, startup_timeout: float = 30.0) -> None:
        found = binary or find_chromium()
        if found is None:
            raise BrowserError(f"Chromium is not installed: {INSTALL_HINT}")
        workdir.mkdir(parents=True, exist_ok=True)
        # A fresh profile each time: Chromium refuses a profile another instance holds, and a stale
        # DevToolsActivePort file would name a dead port.
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir))
        self.log = (self.profile.parent / f"{self.profile.name}.log").open("wb")
        self.process = subprocess.Popen(
            [found, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self._ids = itertools.count(1)
        self._replies: dict[int, dict[str, Any]] = {}
        self.pages: dict[str, Page] = {}
        self.ws: ClientConnection | None = None
        try:
            self.ws = self._connect(startup_timeout)
        except BaseException:
            self.close()
            raise

    def _connect(self, timeout: float) -> ClientConnection:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise BrowserError(f"Chromium exited with {self.process.returncode}; see {self.log.name}")
            lines = marker.read_text().split("\n") if marker.exists() else []
            if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].strip():
                url = f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
                try:
                    return connect(url, max_size=None, open_timeout=timeout, ping_interval=None)
                except ConnectionRefusedError:
                    pass  # the file is written just before the port listens
            if time.monotonic() > deadline:
                raise BrowserError(
                    f"Chromium did not open its DevTools port in {timeout} s; see {self.log.name}"
                )
            time.sleep(0.05)

    @property
    def socket(self) -> ClientConnection:
        if self.ws is None:
            raise BrowserError("not connected to Chromium")
        return self.ws

    def send_nowait(self, method: str, params: dict[str, Any] | None, session: str | None = None) -> int:
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        return int(message["id"])

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        ident = self.send_nowait(method, params, session)
        deadline = time.monotonic() + timeout
        while ident not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no answer to {method} in {timeout} s")
            self.pump(remaining)
        reply = self._replies.pop(ident)
        if "error" in reply:
            raise BrowserError(f"{method} failed: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def pump(self, timeout: float) -> None:
        """Read one message (or wait up to timeout): replies are kept, events go to their page."""
        try:
            raw = self.socket.recv(timeout=timeout)
        except TimeoutError:
            return
        message = json.loads(raw)
        if "id" in message:
            self._replies[int(message["id"])] = message
            return
        page = self.pages.get(message.get("sessionId", ""))
        if page is not None:
            page.on_event(message)

    def open(self, url: str) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        self.pages[session] = page
        for domain in ("Page", "Runtime", "Network", "Log"):
            page.send(f"{domain}.enable")
        page.navigate(url)
        return page

    def close(self) -> None:
        try:
            if self.ws is not None:
                # The browser may already be gone, taking the socket with it.
                with contextlib.suppress(Exception):
                    self.send("Browser.close", timeout=5)
                self.ws.close()
                self.ws = None
        finally:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.log.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
