"""`waconnect explain` says what the bridge does: error lines, who the customer is, and what an
agent's markdown or interactive message becomes on WhatsApp."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from waconnect.domain.markdown import markdown_to_whatsapp
from waconnect.entrypoints.cli import main
from waconnect.services.interactive import interactive_as_text

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _meta_body(value: dict[str, Any]) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "100000000000001"},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}],
    }


def _explain(tmp_path: Path, document: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert main(["explain", str(path)]) == 0
    return capsys.readouterr().out


def _failed_status(error: dict[str, Any]) -> dict[str, Any]:
    return _meta_body(
        {
            "statuses": [
                {
                    "id": "wamid.OUT0001",
                    "status": "failed",
                    "timestamp": "1768469400",
                    "recipient_id": "15550100001",
                    "errors": [error],
                }
            ]
        }
    )


def test_an_error_without_a_title_prints_code_then_meaning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _explain(tmp_path, _failed_status({"code": 131000}), capsys)

    assert "    error 131000: something went wrong at Meta; retrying may work\n" in out


def test_an_error_with_a_title_puts_it_in_parentheses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = {"code": 131026, "title": "Message undeliverable"}
    out = _explain(tmp_path, _failed_status(error), capsys)

    assert "    error 131026 (Message undeliverable): undeliverable:" in out


def test_an_unknown_error_without_details_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _explain(tmp_path, _failed_status({"code": 999999}), capsys)

    assert "    error 999999: no details given\n" in out


def test_a_customer_with_phone_and_bsuid_shows_the_masked_bsuid_and_that_the_phone_is_known(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = _meta_body(
        {
            "contacts": [
                {
                    "profile": {"name": "Both Ids"},
                    "wa_id": "15550100001",
                    "user_id": "US.13491208655302741918",
                }
            ],
            "messages": [
                {
                    "from": "15550100001",
                    "from_user_id": "US.13491208655302741918",
                    "id": "wamid.BOTH0001",
                    "timestamp": "1768469400",
                    "type": "text",
                    "text": {"body": "Hello"},
                }
            ],
        }
    )
    out = _explain(tmp_path, body, capsys)

    [line] = [line for line in out.splitlines() if "customer:" in line]
    masked_bsuid = "•" * 19 + "1918"
    assert line == (
        f"    customer: {masked_bsuid} (Both Ids) by user_id (BSUID); "
        "their phone number is also known (•••••••0001)"
    )


def _connect_message(content_type: str, content: str) -> dict[str, Any]:
    document = json.loads((EVENTS / "connect" / "agent_text.json").read_text(encoding="utf-8"))
    message = json.loads(document["Message"])
    message.update(ContentType=content_type, Content=content)
    document["Message"] = json.dumps(message)
    document["MessageAttributes"]["ContentType"]["Value"] = content_type
    return dict(document)


def test_markdown_is_explained_as_the_whatsapp_text_the_bridge_sends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = "**Order 1042** ships _today_"
    out = _explain(tmp_path, _connect_message("text/markdown", content), capsys)

    sent = markdown_to_whatsapp(content)
    assert sent != content
    assert f"    customer gets: text in WhatsApp formatting: {sent}\n" in out


def test_a_quick_reply_is_explained_as_the_reply_buttons_the_bridge_sends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = (EVENTS / "connect" / "agent_interactive.json").read_text(encoding="utf-8")
    interactive = json.loads(json.loads(content)["Message"])["Content"]
    out = _explain(
        tmp_path,
        _connect_message("application/vnd.amazonaws.connect.message.interactive", interactive),
        capsys,
    )

    expected = "How was our service? with reply buttons: Great | Could be better"
    assert f"    customer gets: {expected}\n" in out


def test_interactive_that_has_no_whatsapp_form_is_explained_as_readable_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    interactive = json.dumps(
        {
            "templateType": "Panel",
            "version": "1.0",
            "data": {"content": {"title": "Our hours", "elements": [{"title": "9 to 5"}]}},
        }
    )
    out = _explain(
        tmp_path,
        _connect_message("application/vnd.amazonaws.connect.message.interactive", interactive),
        capsys,
    )

    first, *more = interactive_as_text(interactive).splitlines()
    assert f"    customer gets: its options as readable text: {first}\n" in out
    assert more == ["• 9 to 5"]
    for line in more:
        assert f"      {line}\n" in out
    assert "where it maps" not in out


def test_interactive_with_nothing_readable_is_explained_as_not_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = json.dumps({"templateType": "Mystery", "version": "1.0", "data": {"n": 1}})
    out = _explain(
        tmp_path,
        _connect_message("application/vnd.amazonaws.connect.message.interactive", content),
        capsys,
    )

    assert "customer gets: nothing: no readable text in the interactive message" in out


def test_a_change_of_another_webhook_field_is_named_as_ignored_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}},
                    {
                        "field": "messages",
                        "value": _meta_body({})["entry"][0]["changes"][0]["value"],
                    },
                ],
            }
        ],
    }

    out = _explain(tmp_path, body, capsys)

    assert out.splitlines()[2:] == [
        "  ignored: entry[0].changes[0]: a change of field 'account_update'; the bridge reads "
        "only 'messages' changes (customer messages and statuses)"
    ]


def test_keys_the_bridge_does_not_read_are_each_named_as_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = {
        "from": "15550100001",
        "id": "wamid.IN0001",
        "timestamp": "1768469400",
        "type": "text",
        "text": {"body": "hi"},
        "identity": {"acknowledged": True},
    }
    errors = [{"code": 131000, "title": "Something went wrong"}]
    body = _meta_body({"messages": [message], "errors": errors})

    out = _explain(tmp_path, body, capsys)

    assert [line for line in out.splitlines() if "ignored" in line] == [
        "  ignored: entry[0].changes[0].value.errors: not something the bridge reads",
        "  ignored: entry[0].changes[0].value.messages[0].identity: not something the bridge reads",
    ]


@pytest.mark.parametrize("kind", ["sent", "delivered", "read", "played"])
def test_a_status_other_than_failed_is_explained_as_ignored(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = {
        "id": "wamid.OUT0002",
        "status": kind,
        "timestamp": "1768469400",
        "recipient_id": "15550100001",
    }

    out = _explain(tmp_path, _meta_body({"statuses": [status]}), capsys)

    assert f"    ignored: only a failed status changes anything; a {kind} one is logged" in out


def test_a_failed_status_is_explained_as_a_notice_to_the_agent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _explain(tmp_path, _failed_status({"code": 131047}), capsys)

    assert "    bridge: tells the agent, in the customer's open chat" in out
    assert "ignored" not in out
