"""A voice note recorded in the browser, from Chromium's fake microphone playing spoken words."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.page.conftest import WAIT_MS, Sandbox, Watched, launch, screenshot
from tests.page.test_journeys import agent_wav_seconds

WORDS = "one two three four five six seven eight nine ten"


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``WORDS`` said by espeak-ng: what the fake microphone plays (in a loop)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is missing: scripts/setup.sh installs it")
    wav = tmp_path_factory.mktemp("microphone") / "spoken.wav"
    subprocess.run(
        [espeak, "-s", "140", "-v", "en-us", "-w", str(wav), WORDS], check=True, timeout=60
    )
    return wav


@pytest.fixture(scope="module")
def microphone_browser(playwright: Playwright, spoken_wav: Path) -> Iterator[Browser]:
    """Chromium whose microphone is the spoken file, allowed without asking."""
    launched = launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={spoken_wav}",
    )
    try:
        yield launched
    finally:
        launched.close()


def _record(page: Page, seconds: float) -> None:
    record = page.get_by_role("button", name="Record a voice note")
    record.click()
    expect(record).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#wa-status")).to_contain_text("Recording")
    page.wait_for_timeout(seconds * 1000)  # how long the person speaks, not a wait for a result
    record.click()
    expect(record).to_have_attribute("aria-pressed", "false")


def test_a_recorded_voice_note_reaches_the_agent_as_a_playable_wav_and_its_transcript(
    sandbox: Sandbox, microphone_browser: Browser
) -> None:
    # A second page that does nothing: what it shows comes only from the live updates.
    watcher = _open(microphone_browser, sandbox.url)
    watcher_page = watcher.page
    watched = _open(microphone_browser, sandbox.url)
    page = watched.page

    _record(page, 4.5)

    for shown in (page, watcher_page):
        transcript = shown.locator("#transcript")
        expect(transcript.locator(".item.customer audio")).to_have_count(1, timeout=WAIT_MS)
        said = transcript.locator(".item.customer .body", has_text="🔊")
        expect(said).to_have_count(1, timeout=WAIT_MS)
        # The customer's phone gets the transcript too, under the voice note.
        expect(shown.locator("#wa-messages li.theirs", has_text="🔊")).to_have_count(1)
        expect(shown.locator("#wa-messages li.mine audio")).to_have_count(1)
    heard = page.locator("#transcript .item.customer .body", has_text="🔊").inner_text()
    assert heard.startswith("🔊 ")
    assert heard.strip() != "🔊", "some words were heard"

    assert agent_wav_seconds(page, sandbox, "#transcript .item.customer audio") > 2.0
    # What the phone sent: an OGG/Opus voice note, as WhatsApp sends one.
    [step] = sandbox.get("api/scenario")["steps"]
    assert step["action"] == "customer.voice"
    assert step["path"].endswith(".ogg")
    screenshot(page, "recorded-voice-note")
    assert watched.errors == []
    assert watcher.errors == []


def _open(browser: Browser, url: str) -> Watched:
    """A page in a context of its own, failing its test on a console error."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    watched = Watched(page=page)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#customer-select option", state="attached")
    return watched
