"""The sandbox command and the page around the journeys: restart, faults, wire, small screens."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.page.conftest import (
    REPO,
    Sandbox,
    open_page,
    screenshot,
    start_sandbox,
    wait_for_images,
)

ANA = "15550100001"
MEDIA = REPO / "examples" / "media"


def _post(sandbox: Sandbox, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        sandbox.url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _phone(state: dict[str, Any]) -> list[tuple[bool, str, str]]:
    return [(m["from_customer"], m["kind"], m["text"]) for m in state["phones"].get(ANA, [])]


def test_a_sandbox_started_again_on_its_data_dir_shows_what_was_done(tmp_path: Path) -> None:
    first = start_sandbox(tmp_path / "data")
    try:
        _post(first, "api/customer/text", {"customer": ANA, "name": "Ana", "text": "Hello"})
        contact = first.get("api/state")["chats"][0]["contact_id"]
        _post(first, "api/agent/text", {"contact_id": contact, "text": "Hi Ana"})
        before = first.get("api/state")
    finally:
        assert first.stop() == 0
    steps = json.loads((tmp_path / "data" / "session" / "scenario.json").read_text())
    assert [step["action"] for step in steps] == ["customer.text", "agent.text"]

    second = start_sandbox(tmp_path / "data")
    try:
        after = second.get("api/state")
    finally:
        assert second.stop() == 0
    assert _phone(after) == _phone(before) == [(True, "text", "Hello"), (False, "text", "Hi Ana")]
    assert [c["contact_id"] for c in after["chats"]] == [contact]
    assert [i["content"] for i in after["chats"][0]["items"] if i["kind"] == "MESSAGE"] == [
        "Hello",
        "Hi Ana",
    ]


def test_a_sandbox_stopped_after_serving_a_page_starts_again_at_once_on_its_port(
    tmp_path: Path,
) -> None:
    first = start_sandbox(tmp_path / "data")
    port = int(first.url.rsplit(":", 1)[1].strip("/"))
    try:
        # The server closes this connection first: its side waits in TIME_WAIT afterwards.
        assert first.get("api/state")["steps"] == 0
    finally:
        assert first.stop() == 0
    second = start_sandbox(tmp_path / "data", port=port)
    try:
        assert second.url == f"http://127.0.0.1:{port}/"
        assert second.get("api/state")["steps"] == 0
    finally:
        assert second.stop() == 0


def test_a_refused_action_says_why_and_is_not_kept(sandbox: Sandbox) -> None:
    request = urllib.request.Request(
        sandbox.url + "api/agent/text",
        data=json.dumps({"contact_id": "no-such-chat", "text": "hi"}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 400
    assert json.loads(refused.value.read()) == {"error": "no such chat"}
    assert sandbox.get("api/scenario")["steps"] == []


def test_a_throttled_call_shows_on_the_wire_and_the_bridge_retries_it(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    page.get_by_role("button", name="Fault switches").click()
    page.get_by_role("combobox", name="Fault", exact=True).select_option("throttle")
    page.get_by_role("combobox", name="Operation the fault applies to").select_option("SendMessage")
    page.get_by_role("button", name="Apply the fault").click()
    expect(page.locator("#fault-status")).to_contain_text("ThrottlingException")
    page.get_by_role("button", name="Close the fault switches").click()

    page.get_by_role("textbox", name="Message text").fill("Is anyone there?")
    page.get_by_role("button", name="Send the message").click()
    expect(page.locator("#transcript .item.customer .body")).to_have_text(["Is anyone there?"])

    page.get_by_role("button", name="Show the wire events").click()
    wire = page.locator("#wire-list")
    sends = wire.get_by_role("group").filter(has_text="connectparticipant.SendMessage")
    expect(sends).to_have_count(2)
    # Newest first: the retry that went through, above the throttled attempt.
    expect(sends.nth(0).locator(".code")).to_have_text("200")
    expect(sends.nth(1).locator(".code")).to_have_text("429 ThrottlingException")
    expect(wire.get_by_text("End User Messaging: message (text)")).to_be_visible()
    sends.nth(1).locator("summary").click()
    expect(sends.nth(1).locator("pre")).to_contain_text('"Content": "Is anyone there?"')
    screenshot(page, "wire-throttled")
    # The switch is a replay step: a saved scenario throttles the same call again.
    assert [step["action"] for step in sandbox.get("api/scenario")["steps"]] == [
        "fault.throttle",
        "customer.text",
    ]
    assert watched.errors == []


def test_every_control_has_a_name_and_a_phone_sized_window_shows_one_pane(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url, width=390, height=844)
    page = watched.page
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
            .filter(e => !(e.getAttribute('aria-label') || (e.labels && e.labels.length)
                           || e.textContent.trim()))
            .map(e => e.outerHTML)"""
    )
    assert unnamed == []
    expect(page.locator("#phone-pane")).to_be_visible()
    expect(page.locator("#agent-pane")).to_be_hidden()
    page.get_by_role("textbox", name="Message text").fill("From a small screen")
    page.get_by_role("button", name="Send the message").click()
    expect(page.locator("#wa-messages li.mine")).to_have_count(1)
    screenshot(page, "small-phone")
    page.get_by_role("button", name="Show the agent's chat").click()
    expect(page.locator("#agent-pane")).to_be_visible()
    expect(page.locator("#phone-pane")).to_be_hidden()
    expect(page.locator("#transcript .item.customer .body")).to_have_text(["From a small screen"])
    screenshot(page, "small-agent")
    assert watched.errors == []


def _bottom_gap(page: Page, selector: str) -> float:
    return float(
        page.evaluate(
            "s => { const l = document.querySelector(s); "
            "return l.scrollHeight - l.scrollTop - l.clientHeight; }",
            selector,
        )
    )


def test_both_panes_stay_on_the_newest_message_when_connect_ends_the_chat(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    for n in range(3):
        # Photos load after the list is drawn and grow it: the list must follow.
        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="Attach", exact=True).click()
            page.get_by_role("menuitem", name="Send a file").click()
        chooser.value.set_files(MEDIA / "photo.jpg")
        expect(page.locator("#wa-messages li.mine img")).to_have_count(n + 1)
        page.get_by_role("textbox", name="Message text").fill(f"Message {n} " + "words " * 12)
        page.get_by_role("button", name="Send the message").click()
    expect(page.locator("#transcript .item.customer")).to_have_count(6)
    page.get_by_role("button", name="Fault switches").click()
    page.get_by_role("combobox", name="Fault", exact=True).select_option("end_from_connect")
    page.get_by_role("button", name="Apply the fault").click()
    expect(page.locator("#fault-status")).to_contain_text("Connect ended chat")
    page.get_by_role("button", name="Close the fault switches").click()
    expect(page.locator("#transcript .notice", has_text="The chat ended")).to_be_visible()

    for pane in ("#wa-messages", "#transcript"):
        # The photos are drawn once loaded, however long a busy machine takes: only then is the
        # pane as tall as it gets, and whether it followed them shows.
        wait_for_images(page, f"{pane} img")
        assert page.evaluate(f"document.querySelector('{pane}').scrollHeight") > 600
        page.wait_for_function(
            "s => { const l = document.querySelector(s); "
            "return l.scrollHeight - l.scrollTop - l.clientHeight < 2; }",
            arg=pane,
        )
        assert _bottom_gap(page, pane) < 2
    screenshot(page, "ended-by-connect")
    assert watched.errors == []


def test_on_a_touch_phone_reply_react_and_the_wire_fit_without_hover(
    sandbox: Sandbox, browser: Browser
) -> None:
    for context in browser.contexts:
        context.close()
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(sandbox.url)
    page.get_by_role("textbox", name="Message text").fill("Tap to quote me")
    page.get_by_role("button", name="Send the message").click()
    bubble = page.locator("#wa-messages li.mine")
    expect(bubble).to_have_count(1)
    # No hover on a touch screen: the bubble's actions are there to tap.
    reply = bubble.get_by_role("button", name="Reply to: Tap to quote me")
    expect(reply).to_be_visible()
    reply.tap()
    expect(page.locator("#wa-replying")).to_contain_text("Replying to: Tap to quote me")
    bubble.get_by_role("button", name="React to: Tap to quote me").tap()
    page.get_by_role("menuitem", name="React with a heart").tap()
    expect(bubble.locator(".reactions")).to_have_text("❤️")

    page.get_by_role("button", name="Show the wire events").tap()
    expect(page.locator("#wire-list li").first).to_be_visible()
    # Long operation names wrap: nothing runs off the drawer's right edge.
    overflow = page.evaluate(
        "() => { const l = document.getElementById('wire-list'); "
        "return l.scrollWidth - l.clientWidth; }"
    )
    assert overflow <= 0
    screenshot(page, "touch-wire")
    assert errors == []


def test_a_session_with_every_switch_and_a_crash_comes_back_on_restart(tmp_path: Path) -> None:
    session = tmp_path / "data" / "session"
    session.mkdir(parents=True)
    ana = {"wa_id": ANA, "name": "Ana"}
    steps = [
        {"action": "customer.text", "customer": ana, "text": "Hello", "label": "s1"},
        {"action": "fault.slow", "operation": "SendWhatsAppMessage", "seconds": 0.1, "label": "s2"},
        {"action": "scanner.reject", "label": "s3"},
        {"action": "fault.clear", "label": "s4"},
        {"action": "bridge.crash", "at": "SendMessage", "label": "s5"},
        {"action": "customer.text", "customer": ana, "text": "In flight", "label": "s6"},
        {"action": "connect.end", "customer": ANA, "label": "s7"},
    ]
    (session / "scenario.json").write_text(json.dumps(steps), encoding="utf-8")

    restored = start_sandbox(tmp_path / "data")
    try:
        state = restored.get("api/state")
    finally:
        assert restored.stop() == 0
    assert state["steps"] == len(steps)
    # The crash happened again: the bridge runs in a child process, the second one.
    assert state["bridge"]["child"] is True
    assert state["bridge"]["crashes"] == [{"killed": "bridge-1", "exit": -9, "fresh": "bridge-2"}]
    [chat] = state["chats"]
    assert chat["active"] is False
    assert [i["content"] for i in chat["items"] if i["kind"] == "MESSAGE"] == ["Hello", "In flight"]
