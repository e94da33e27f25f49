"""The bridge killed from the page: a fresh process takes over and nothing is lost or doubled."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.page.conftest import WAIT_MS, Sandbox, open_page, screenshot
from tests.page.test_journeys import _comparable
from waconnect.sandbox.replay import replay


def test_a_crash_at_sendmessage_kills_the_bridge_and_the_message_reaches_the_agent_once(
    sandbox: Sandbox, browser: Browser, tmp_path: Path
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    bridge = page.get_by_role("status").filter(has_text="Bridge:")
    expect(bridge).to_have_text("Bridge: in the sandbox's process")
    page.get_by_role("textbox", name="Message text").fill("Hello before")
    page.get_by_role("button", name="Send the message").click()
    transcript = page.locator("#transcript .item.customer .body")
    expect(transcript).to_have_text(["Hello before"])

    page.get_by_role("button", name="Fault switches").click()
    page.get_by_role("combobox", name="Fault", exact=True).select_option("crash")
    page.get_by_role("combobox", name="Operation the fault applies to").select_option("SendMessage")
    page.get_by_role("button", name="Apply the fault").click()
    expect(page.locator("#fault-status")).to_contain_text("a fresh one takes over", timeout=WAIT_MS)
    page.get_by_role("button", name="Close the fault switches").click()
    # A crash kills a process: the bridge now runs in a child of the sandbox.
    expect(bridge).to_contain_text("Bridge: child process")
    first_pid = bridge.inner_text().rsplit(" ", 1)[1]

    page.get_by_role("textbox", name="Message text").fill("In flight when it dies")
    page.get_by_role("button", name="Send the message").click()
    expect(bridge).to_contain_text("bridge-1 killed, bridge-2 took over", timeout=WAIT_MS)
    assert first_pid not in bridge.inner_text()
    # Delivered once by the fresh process (the same ClientToken), read by the business.
    expect(transcript).to_have_text(["Hello before", "In flight when it dies"], timeout=WAIT_MS)
    expect(page.locator("#wa-messages li.mine .ticks.read")).to_have_count(2, timeout=WAIT_MS)

    page.get_by_role("button", name="Show the wire events").click()
    wire = page.locator("#wire-list")
    killed = wire.get_by_role("group").filter(has_text="bridge-1 killed (SIGKILL)")
    expect(killed).to_have_count(1)
    expect(killed.locator(".dir")).to_have_text("⚡")
    # The dead process's SendMessage ran on Connect's side; the fresh one's repeated it.
    expect(
        wire.get_by_role("group").filter(has_text="connectparticipant.SendMessage")
    ).to_have_count(3)
    screenshot(page, "bridge-crash")

    steps = sandbox.get("api/scenario")["steps"]
    assert [step["action"] for step in steps] == ["customer.text", "bridge.crash", "customer.text"]
    assert steps[1]["at"] == "SendMessage"
    live = sandbox.get("api/effects")
    assert [line["text"] for line in live if line["to"] == "agent"] == [
        "Hello before",
        "In flight when it dies",
    ]
    saved = Path(sandbox.get("api/scenario")["path"])
    replayed = replay(saved)
    assert replayed.exit_code == 0, replayed.lines
    assert _comparable(list(replayed.lines)) == _comparable(live)
    assert watched.errors == []
