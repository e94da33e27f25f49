"""`waconnect explain` on every fixture: exit codes and the facts a person needs to see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from waconnect.entrypoints.cli import main
from waconnect.entrypoints.explain import mask_phone

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
ALL = sorted(EVENTS.glob("*/*.json"))

PHRASES = {
    "meta/status_failed_131047.json": ["error 131047", "24 hours"],
    "meta/location.json": ["Meta webhook body", "Example Store", "38.72"],
    "meta/bsuid_only.json": ["by user_id (BSUID)", "Quiet Fox", "1918"],
    "eum/lambda_two_records.json": ["Lambda SNS event", "EUM phone-number-id-0123", "message 2"],
    "eum/subscription_confirmation.json": ["SubscriptionConfirmation", "confirm"],
    "connect/customer_echo.json": ["does not go to the customer", "echoed back"],
    "connect/visibility_agent.json": ["does not go to the customer", "MessageVisibility AGENT"],
    "connect/attachment_approved.json": ["goes to the customer", "invoice-1234.pdf"],
    "connect/attachment_rejected.json": ["nothing: screenshot.png was REJECTED"],
    "connect/chat_ended.json": ["session: closed"],
    "connect/customer_left.json": ["session: closed"],
    "connect/agent_left.json": ["not the end of the chat"],
    "connect/typing.json": ["a typing indicator"],
    "transcribe/job_completed.json": [
        "EventBridge event",
        "COMPLETED",
        "quotes it to the customer",
    ],
    "transcribe/job_failed.json": ["transcription job waconnect-3f9a", "FAILED"],
    "unreadable/lambda_audio_missing_id.json": ["could not be read: audio.id"],
    "unreadable/meta_bad_timestamp.json": ["left out, unreadable", "messages[0].timestamp"],
}


def test_every_phrase_list_names_a_fixture_that_exists() -> None:
    assert sorted(key for key in PHRASES if not (EVENTS / key).is_file()) == []


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(EVENTS)) for p in ALL])
def test_explain_fixture_exit_code_and_phrases(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["explain", str(path)])
    out = capsys.readouterr().out
    malformed = path.parent.name == "malformed"
    assert code == (1 if malformed else 0)
    assert ("MALFORMED" in out) is malformed
    for phrase in PHRASES.get(str(path.relative_to(EVENTS)), []):
        assert phrase in out


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(EVENTS)) for p in ALL])
def test_explain_masks_customer_and_recipient_numbers(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["explain", str(path)])
    lines = capsys.readouterr().out.splitlines()
    # What the customer wrote is shown as is; who they are is not.
    identity_lines = [
        line for line in lines if "customer:" in line or line.strip().startswith("status ")
    ]
    for line in identity_lines:
        assert "15550100001" not in line.replace("wamid.HBgLMTU1NTAxMDAwMDE", "")


def test_explain_json_gives_one_report_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    files = [EVENTS / "eum" / "image.json", EVENTS / "malformed" / "connect_missing_id.json"]
    code = main(["explain", "--json", *map(str, files)])
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert reports[0]["messages"][0]["file"]["media_id"] == "1001000000000001"
    assert reports[0]["messages"][0]["customer"].endswith("0001")
    assert reports[1]["error"] == {
        "source": "connect",
        "path": "Message.Id",
        "reason": "required field is missing",
    }


def test_explain_reports_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["explain", str(tmp_path / "missing.json")])
    assert code == 1
    assert "MALFORMED (file)" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "payloads").glob("*.json")))
def test_shipped_example_payloads_explain_cleanly(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", str(path)]) == 0
    assert "form:" in capsys.readouterr().out


def test_mask_phone_keeps_only_the_last_four() -> None:
    assert mask_phone("15550100001") == "•••••••0001"
    assert mask_phone("") == ""
