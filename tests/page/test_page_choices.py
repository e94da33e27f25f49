"""The agent's questions with options, as the customer sees them on WhatsApp, and their replies."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.page.conftest import WAIT_MS, Sandbox, open_page, screenshot


def test_options_reach_the_phone_as_buttons_and_a_list_and_a_tap_answers_the_agent(
    sandbox: Sandbox, browser: Browser
) -> None:
    watched = open_page(browser, sandbox.url)
    page = watched.page
    page.get_by_role("textbox", name="Message text").fill("I need help")
    page.get_by_role("button", name="Send the message").click()
    expect(page.locator("#transcript .item.customer")).to_have_count(1, timeout=WAIT_MS)

    # Three short options: reply buttons.
    page.get_by_role("button", name="Ask with options to tap").click()
    page.get_by_role("textbox", name="Question").fill("How would you like to continue?")
    page.get_by_role("textbox", name="Options, one a line").fill(
        "Track my order\nTalk to an agent\nClose the chat"
    )
    page.get_by_role("button", name="Send the options").click()
    # A list picker: a WhatsApp list behind one button.
    page.get_by_role("button", name="Ask with options to tap").click()
    page.get_by_role("textbox", name="Question").fill("Which department?")
    page.get_by_role("textbox", name="Options, one a line").fill("Billing\nSupport\nSales\nReturns")
    page.get_by_role("checkbox", name="Send as a list picker").check()
    page.get_by_role("button", name="Send the options").click()

    phone = page.locator("#wa-messages")
    buttons = phone.get_by_role("group", name="Reply buttons")
    expect(buttons.get_by_role("button")).to_have_text(
        ["Track my order", "Talk to an agent", "Close the chat"], timeout=WAIT_MS
    )
    opener = phone.get_by_role("button", name="Open the list: Choose an option")
    expect(opener).to_have_attribute("aria-expanded", "false", timeout=WAIT_MS)
    expect(phone.get_by_role("button", name="Choose Support")).to_be_hidden()
    # The agent reads the question and its options, not the template's JSON.
    transcript = page.locator("#transcript")
    expect(transcript.locator(".item.agent .options li")).to_have_count(7)
    expect(transcript.locator(".item.agent").first).not_to_contain_text("templateType")

    buttons.get_by_role("button", name="Tap the reply button Talk to an agent").click()
    expect(transcript.locator(".item.customer .body").nth(1)).to_have_text(
        "↩ «How would you like to continue?»\nTalk to an agent", timeout=WAIT_MS
    )
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    screenshot(page, "choices-list-open")
    phone.get_by_role("button", name="Choose Support").click()
    expect(transcript.locator(".item.customer .body").nth(2)).to_have_text(
        "↩ «Which department?»\nSupport", timeout=WAIT_MS
    )
    # On the phone, each reply quotes the question it answers.
    mine = phone.locator("li.mine")
    expect(mine.nth(1).locator(".quote")).to_have_text("↩ How would you like to continue?")
    expect(mine.nth(2).locator(".quote")).to_have_text("↩ Which department?")
    screenshot(page, "choices-answered")

    # What WhatsApp sent for each tap: the reply shapes of its webhooks.
    steps = sandbox.get("api/scenario")["steps"]
    taps = [
        step["message"]["interactive"] for step in steps if step["action"] == "customer.message"
    ]
    assert taps == [
        {"type": "button_reply", "button_reply": {"id": "option-2", "title": "Talk to an agent"}},
        {"type": "list_reply", "list_reply": {"id": "option-2", "title": "Support"}},
    ]
    assert all(step.get("reply_to") for step in steps if step["action"] == "customer.message")
    assert watched.errors == []
