"""Every fault switch on the page is a scenario step: saved where it was used, replayed alike."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.page.conftest import REPO, WAIT_MS, Sandbox, open_page, screenshot
from tests.page.test_journeys import _comparable
from waconnect.sandbox.replay import replay

MEDIA = REPO / "examples" / "media"


def _switch(page: Page, kind: str, said: str, operation: str = "") -> None:
    page.get_by_role("button", name="Fault switches").click()
    page.get_by_role("combobox", name="Fault", exact=True).select_option(kind)
    if operation:
        page.get_by_role("combobox", name="Operation the fault applies to").select_option(operation)
    page.get_by_role("button", name="Apply the fault").click()
    expect(page.locator("#fault-status")).to_contain_text(said, timeout=WAIT_MS)
    page.get_by_role("button", name="Close the fault switches").click()


def _customer_says(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message text").fill(text)
    page.get_by_role("button", name="Send the message").click()


def test_every_switch_is_saved_and_the_scenario_replays_to_the_same_effects(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    transcript = page.locator("#transcript")
    _customer_says(page, "Hello")
    expect(transcript.locator(".item.customer")).to_have_count(1, timeout=WAIT_MS)

    _switch(page, "slow", "every SendWhatsAppMessage now takes 3 s more", "SendWhatsAppMessage")
    page.get_by_role("textbox", name="Agent message").fill("Slowly but surely")
    page.get_by_role("button", name="Send as the agent").click()
    expect(page.locator("#wa-messages li.theirs")).to_have_count(1, timeout=WAIT_MS)
    _switch(page, "clear", "every fault cleared")

    _switch(page, "expire_token", "are refused from now on")
    _customer_says(page, "Still there?")
    # The bridge made a new connection for the expired token and the message went through.
    expect(transcript.locator(".item.customer")).to_have_count(2, timeout=WAIT_MS)

    _switch(page, "reject_attachment", "the next attachment scan rejects the file")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach a file as the agent").click()
    chooser.value.set_files(MEDIA / "agent-brochure.pdf")
    expect(transcript.locator(".badge.rejected")).to_have_text("rejected by the scan")

    _switch(page, "end_from_connect", "Connect ended chat")
    expect(transcript.locator(".notice", has_text="The chat ended")).to_be_visible()
    _customer_says(page, "A new question")
    expect(page.locator("#contacts li")).to_have_count(2, timeout=WAIT_MS)
    _switch(page, "lose_event", "the next transcription job's end is never announced")
    screenshot(page, "switches")

    steps = sandbox.get("api/scenario")["steps"]
    assert [step["action"] for step in steps] == [
        "customer.text",
        "fault.slow",
        "agent.text",
        "fault.clear",
        "token.expire",
        "customer.text",
        "scanner.reject",
        "agent.file",
        "connect.end",
        "customer.text",
        "events.lose",
    ]
    live = sandbox.get("api/effects")
    # The phone got no brochure: the scanner rejected it, and the bridge said so.
    assert [line["kind"] for line in live if line["step"] == 7] == ["ignored"]
    assert [line["kind"] for line in live if line["step"] == 8] == ["chat.ended"]
    replayed = replay(Path(sandbox.get("api/scenario")["path"]))
    assert replayed.exit_code == 0, replayed.lines
    assert _comparable(list(replayed.lines)) == _comparable(live)
    assert watched.errors == []
