"""The sandbox as a person runs it (a real ``waconnect sandbox`` process) and a real Chromium.

Chromium is Debian's (``/usr/bin/chromium``, installed by ./test); Playwright only drives it and
never downloads a browser. Every page fails its test on a console error. Screenshots of both
panes go under ``test-artifacts/page/`` (not committed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "page"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
START_SECONDS = 60.0
STOP_SECONDS = 60.0
# The machine may be busy: a page waits this long for what a step shows before failing.
WAIT_MS = 60_000
expect.set_options(timeout=WAIT_MS)


@dataclass
class Sandbox:
    """A running ``waconnect sandbox`` process and its URL."""

    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    log: Path

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=60) as response:
            return json.loads(response.read())

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_SECONDS)
                raise AssertionError("the sandbox did not stop on Ctrl-C") from None
            finally:
                assert self.process.stdout is not None
                self.process.stdout.close()
        return self.process.returncode


def start_sandbox(data_dir: Path, port: int = 0) -> Sandbox:
    log = data_dir.parent / f"{data_dir.name}.log"
    with log.open("a") as errors:
        process = _spawn(data_dir, errors, port)
    deadline = time.monotonic() + START_SECONDS
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("http://127.0.0.1:"):
        process.kill()
        process.communicate(timeout=STOP_SECONDS)
        raise AssertionError(f"the sandbox printed {line!r} instead of its URL: {log.read_text()}")
    sandbox = Sandbox(process=process, url=line, data_dir=data_dir, log=log)
    while True:
        try:
            with urllib.request.urlopen(line + "api/state", timeout=START_SECONDS):
                return sandbox
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                sandbox.stop()
                raise AssertionError(f"the sandbox never answered: {log.read_text()}") from None
            time.sleep(0.1)


def _spawn(data_dir: Path, errors: IO[str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "waconnect.entrypoints.cli",
            "sandbox",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path / "data")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One driver per test process: Playwright's sync API cannot run two at once."""
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is missing: ./test installs it (setup_browser.sh)")
    with sync_playwright() as driver:
        yield driver


def launch(playwright: Playwright, *extra_args: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args], headless=True
    )


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = launch(playwright)
    try:
        yield launched
    finally:
        launched.close()


@dataclass
class Watched:
    page: Page
    errors: list[str] = field(default_factory=list)


def open_page(browser: Browser, url: str, *, width: int = 1280, height: int = 800) -> Watched:
    """A fresh page (its own context, closed with the browser's next ``new_context``)."""
    for context in browser.contexts:
        context.close()
    page = browser.new_page(viewport={"width": width, "height": height})
    watched = Watched(page=page)
    page.on(
        "console",
        lambda message: watched.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#customer-select option", state="attached")
    return watched


def wait_for_images(page: Page, selector: str) -> None:
    """Wait until the images ``selector`` matches (one at least) are loaded and drawn.

    A live update may draw a list again with fresh images, still loading: a check made once
    could meet one of those on a busy machine. Fails after the assertions' wait.
    """
    page.wait_for_function(
        "s => { const all = [...document.querySelectorAll(s)]; "
        "return all.length > 0 && all.every(i => i.complete && i.naturalWidth > 0); }",
        arg=selector,
        timeout=WAIT_MS,
    )


def screenshot(page: Page, name: str) -> None:
    """Both panes as a person sees them, and each pane on its own."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png")
    for pane in ("phone-pane", "agent-pane"):
        locator = page.locator(f"#{pane}")
        if locator.is_visible():
            locator.screenshot(path=ARTIFACTS / f"{name}-{pane}.png")
