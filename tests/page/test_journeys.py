"""A person's journeys on the sandbox page, in Chromium, against a real sandbox process."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

from playwright.sync_api import Browser, Page, Route, expect

from tests.page.conftest import REPO, WAIT_MS, Sandbox, open_page, screenshot, wait_for_images
from waconnect.sandbox.replay import replay

MEDIA = REPO / "examples" / "media"


def _attach_as_customer(page: Page, path: Path, item: str = "Send a file") -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach", exact=True).click()
        page.get_by_role("menuitem", name=item).click()
    chooser.value.set_files(path)


def _attach_as_agent(page: Page, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach a file as the agent").click()
    chooser.value.set_files(path)


def _customer_says(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message text").fill(text)
    page.get_by_role("button", name="Send the message").click()


def _agent_says(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Agent message").fill(text)
    page.get_by_role("button", name="Send as the agent").click()


def _playable_seconds(page: Page, selector: str) -> float:
    """Load an <audio> element's media in Chromium and return its duration.

    Live updates may draw the chat again (the transcript arrives after the WAV) and replace the
    element: each poll loads whichever element is there now.
    """
    ready = page.wait_for_function(
        "s => { const a = document.querySelector(s); if (a === null) return false; "
        "if (a.preload !== 'auto') { a.preload = 'auto'; a.load(); } "
        "return a.readyState > 0 && a.duration > 0 ? a.duration : false; }",
        arg=selector,
        timeout=WAIT_MS,
    )
    return float(ready.json_value())


def agent_wav_seconds(page: Page, sandbox: Sandbox, selector: str) -> float:
    """The WAV behind the agent's player ``selector``: checked as a WAV, then played."""
    wav = page.locator(selector).get_attribute("src")
    assert wav is not None
    response = page.request.get(sandbox.url.rstrip("/") + wav)
    assert response.headers["content-type"] == "audio/wav"
    assert response.body()[:4] == b"RIFF"
    return _playable_seconds(page, selector)


def test_the_customers_photo_pdf_and_voice_note_reach_the_agent(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    expect(page.get_by_role("combobox", name="Customer to act as")).to_have_value("15550100001")

    _customer_says(page, "Hello, my order arrived broken")
    transcript = page.locator("#transcript")
    expect(transcript.locator(".item.customer .body")).to_have_text(
        ["Hello, my order arrived broken"], timeout=WAIT_MS
    )
    page.get_by_role("textbox", name="Message text").fill("This is the box")
    _attach_as_customer(page, MEDIA / "photo.jpg")
    expect(transcript.locator("img")).to_have_count(1, timeout=WAIT_MS)
    expect(transcript.locator(".item.customer .body", has_text="This is the box")).to_be_visible()
    _attach_as_customer(page, MEDIA / "receipt.pdf")
    expect(transcript.get_by_role("link", name="Download receipt.pdf")).to_be_visible(
        timeout=WAIT_MS
    )
    _attach_as_customer(page, MEDIA / "voice-note.ogg", item="Send an audio file as a voice note")
    expect(transcript.locator("audio")).to_have_count(1, timeout=WAIT_MS)

    # The agent got the voice note as a 16 kHz WAV Chromium plays.
    assert agent_wav_seconds(page, sandbox, "#transcript audio") > 1.0
    wait_for_images(page, "#transcript img")

    # The phone shows what the customer sent, each read by the business (blue ticks).
    phone = page.locator("#wa-messages")
    expect(phone.locator("li.mine")).to_have_count(4)
    expect(phone.locator("li.mine img")).to_have_count(1)
    expect(phone.get_by_role("link", name="Download receipt.pdf")).to_be_visible()
    expect(phone.locator("li.mine audio")).to_have_count(1)
    expect(phone.locator("li.mine .ticks.read")).to_have_count(4, timeout=WAIT_MS)
    # The bridge's 📎 reaction on each file.
    expect(phone.locator("li.mine .reactions", has_text="📎")).to_have_count(3)
    screenshot(page, "customer-files")
    assert watched.errors == []


def test_the_agents_pdf_and_image_reach_the_phone(sandbox: Sandbox, browser: Browser) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    _customer_says(page, "Can you send me the brochure?")
    expect(page.locator("#transcript .item.customer")).to_have_count(1, timeout=WAIT_MS)

    _agent_says(page, "**Of course**, here it is")
    _attach_as_agent(page, MEDIA / "agent-brochure.pdf")
    _attach_as_agent(page, MEDIA / "agent-image.png")

    phone = page.locator("#wa-messages")
    theirs = phone.locator("li.theirs")
    expect(theirs).to_have_count(3, timeout=WAIT_MS)
    # Markdown as WhatsApp formats it; the PDF by its name; the image inline.
    expect(theirs.nth(0)).to_contain_text("Of course, here it is")
    expect(theirs.nth(0).locator("strong")).to_have_text("Of course")
    expect(theirs.nth(1).get_by_role("link", name="Download agent-brochure.pdf")).to_be_visible()
    expect(theirs.nth(2).locator("img")).to_be_visible()
    wait_for_images(page, "#wa-messages li.theirs img")
    # The agent's side shows what was sent, the markdown rendered.
    transcript = page.locator("#transcript")
    expect(transcript.locator(".item.agent strong")).to_have_text("Of course")
    expect(transcript.get_by_role("link", name="Download agent-brochure.pdf")).to_be_visible()
    expect(transcript.locator(".item.agent img")).to_have_count(1)
    screenshot(page, "agent-files")
    assert watched.errors == []


def test_actions_made_one_after_another_reach_the_sandbox_in_that_order(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    _customer_says(page, "Can you send me the brochure?")
    expect(page.locator("#transcript .item.customer")).to_have_count(1)

    # The file's upload is held on its way (as a slow network would hold a big one) while the
    # agent goes on writing: the text must not overtake it.
    held: list[Route] = []

    def hold(route: Route) -> None:  # Playwright takes a Python function, not a bound builtin
        held.append(route)

    page.route("**/api/agent/file", hold)
    _attach_as_agent(page, MEDIA / "agent-brochure.pdf")
    _agent_says(page, "Here it is")
    page.wait_for_function("() => document.getElementById('ccp-text').value === ''")
    deadline = time.monotonic() + WAIT_MS / 1000
    while not held:
        assert time.monotonic() < deadline, "the page never sent the file"
        page.wait_for_timeout(20)  # lets Playwright hand the held request over
    held[0].continue_()

    theirs = page.locator("#wa-messages li.theirs")
    expect(theirs).to_have_count(2, timeout=WAIT_MS)
    expect(theirs.nth(0).get_by_role("link", name="Download agent-brochure.pdf")).to_be_visible()
    expect(theirs.nth(1)).to_contain_text("Here it is")
    steps = [step["action"] for step in sandbox.get("api/scenario")["steps"]]
    assert steps == ["customer.text", "agent.file", "agent.text"]
    assert watched.errors == []


def test_an_ended_chat_is_followed_by_a_new_one_with_the_next_message(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    _customer_says(page, "First question")
    expect(page.locator("#transcript .item.customer")).to_have_count(1, timeout=WAIT_MS)
    first = page.locator("#ccp-meta").inner_text()

    page.get_by_role("button", name="End the chat").click()
    expect(page.locator("#transcript .notice", has_text="The chat ended")).to_be_visible(
        timeout=WAIT_MS
    )
    expect(page.get_by_role("button", name="End the chat")).to_be_disabled()

    _customer_says(page, "One more thing")
    contacts = page.locator("#contacts li")
    expect(contacts).to_have_count(2, timeout=WAIT_MS)
    expect(contacts.nth(0)).to_contain_text("open")
    expect(contacts.nth(1)).to_contain_text("ended")
    expect(page.locator("#transcript .item.customer .body")).to_have_text(["One more thing"])
    assert page.locator("#ccp-meta").inner_text() != first
    screenshot(page, "new-chat")
    assert watched.errors == []


def _comparable(lines: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """Effects with what differs between a live run and a replay left out (times, file names
    built from times, per-run ids)."""
    return [
        (
            line["to"],
            line["kind"],
            line.get("text"),
            line.get("content_type"),
            line.get("size"),
            line.get("sha256"),
            line.get("emoji"),
            line.get("reply_to"),
        )
        for line in lines
    ]


def test_a_scenario_saved_from_the_page_replays_to_the_same_effects(
    sandbox: Sandbox, browser: Browser, tmp_path: Path
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    _customer_says(page, "Hi, a question about my bill")
    expect(page.locator("#transcript .item.customer")).to_have_count(1, timeout=WAIT_MS)
    _attach_as_customer(page, MEDIA / "photo.jpg")
    expect(page.locator("#transcript img")).to_have_count(1, timeout=WAIT_MS)
    _agent_says(page, "Let me check")
    expect(page.locator("#wa-messages li.theirs")).to_have_count(1, timeout=WAIT_MS)
    # The customer quotes the agent's answer and reacts to it.
    reply_target = page.locator("#wa-messages li.theirs").first
    reply_target.hover()
    reply_target.get_by_role("button", name="Reply to: Let me check").click()
    _customer_says(page, "Thanks!")
    expect(page.locator("#wa-messages li.mine .quote")).to_have_count(1, timeout=WAIT_MS)
    reply_target.hover()
    reply_target.get_by_role("button", name="React to: Let me check").click()
    page.get_by_role("menuitem", name="React with thanks").click()
    expect(reply_target.locator(".reactions")).to_have_text("🙏", timeout=WAIT_MS)
    _attach_as_agent(page, MEDIA / "agent-brochure.pdf")
    expect(page.locator("#wa-messages li.theirs")).to_have_count(2, timeout=WAIT_MS)
    page.get_by_role("button", name="End the chat").click()
    expect(page.locator("#transcript .notice", has_text="The chat ended")).to_be_visible(
        timeout=WAIT_MS
    )

    page.get_by_role("button", name="Save as scenario").click()
    dialog = page.get_by_role("dialog", name="Saved scenario")
    expect(dialog).to_be_visible()
    saved = Path(dialog.locator("#scenario-path").inner_text())
    steps = json.loads(saved.read_text(encoding="utf-8"))
    assert [step["action"] for step in steps] == [
        "customer.text",
        "customer.file",
        "agent.text",
        "customer.text",
        "customer.message",
        "agent.file",
        "agent.end",
    ]
    screenshot(page, "saved-scenario")

    # The zip the page offers holds everything a replay needs.
    download = page.request.get(sandbox.url + "api/scenario?format=zip")
    with zipfile.ZipFile(io.BytesIO(download.body())) as archive:
        archive.extractall(tmp_path / "unzipped")
    result = replay(tmp_path / "unzipped" / "scenario.json")
    assert result.exit_code == 0, result.lines
    live = sandbox.get("api/effects")
    assert _comparable(list(result.lines)) == _comparable(live)
    assert watched.errors == []
