"""What replay prints: stable links, concurrent groups, customers on read marks, reply_to targets,
up-front checks of customer messages and contact ids, and a reader that goes away."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, BEN, connect_notification, eum_notification
from waconnect.entrypoints.cli import main
from waconnect.sandbox import defaults
from waconnect.sandbox.sandbox_links import stable_links
from waconnect.sandbox.scenario import load_scenario
from waconnect.sandbox.scenario_runner import ScenarioRunner

pytestmark = pytest.mark.slow


def _zip_bytes() -> bytes:
    """A zip archive: Connect refuses .zip, so the agent gets a notice with a download link."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def _write(tmp_path: Path, steps: list[Any], name: str = "scenario.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(steps, ensure_ascii=False), encoding="utf-8")
    return path


def _refused_file_steps(tmp_path: Path) -> list[Any]:
    (tmp_path / "files.zip").write_bytes(_zip_bytes())
    return [
        {"action": "customer.text", "customer": ANA, "text": "Sending the files"},
        {"action": "customer.file", "customer": ANA, "path": "files.zip"},
    ]


def test_a_notice_with_a_sandbox_link_prints_the_same_bytes_on_every_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, _refused_file_steps(tmp_path))

    outputs = []
    for _ in range(2):
        assert main(["replay", str(path)]) == 0
        outputs.append(capsys.readouterr().out.encode())

    assert outputs[0] == outputs[1]
    notice = [json.loads(line) for line in outputs[0].decode().splitlines()][-3:]
    texts = [line.get("text", "") for line in notice]
    assert any(text.endswith("<sandbox link: files.zip>") for text in texts), texts
    assert b"X-Amz-Signature" not in outputs[0]
    assert b"127.0.0.1" not in outputs[0]


def test_the_agent_still_gets_the_real_link_in_the_emulated_chat(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, _refused_file_steps(tmp_path)))
    lines: list[dict[str, Any]] = []

    with ScenarioRunner(seed=defaults.SEED, emit=lines.append) as runner:
        for step in scenario.steps:
            runner.run_step(step)
        contact_id = next(line["contact_id"] for line in lines if line["kind"] == "chat.started")
        chat = [item.get("Content", "") for item in runner.cloud.transcript(contact_id)]
        s3_url = runner.cloud.s3_endpoint_url

    [notice] = [text for text in chat if "files.zip" in text]
    assert s3_url in notice
    assert "X-Amz-Signature=" in notice


def test_stable_links_rewrites_only_links_into_the_given_origins() -> None:
    text = (
        "Map: https://maps.google.com/?q=38.7,-9.1 and the file "
        "http://127.0.0.1:40001/bucket/replay-1/inbound/w/123.pdf?X-Amz-Date=20261124T000000Z "
        "and http://127.0.0.1:40001/bucket/x/1.bin?response-content-disposition="
        "attachment%3B%20filename%2A%3DUTF-8%27%27Invoice%20M%C3%A4rz.pdf&X-Amz-Signature=ab, "
        "but http://127.0.0.1:40002/other/port.txt stays"
    )

    rewritten = stable_links(text, ["http://127.0.0.1:40001"])

    assert rewritten == (
        "Map: https://maps.google.com/?q=38.7,-9.1 and the file <sandbox link: 123.pdf> "
        "and <sandbox link: Invoice März.pdf>, "
        "but http://127.0.0.1:40002/other/port.txt stays"
    )


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_WAMID = re.compile(r"wamid\.[A-Za-z0-9+/=_-]+")


def _without_ids(line: dict[str, Any]) -> str:
    """A line as text with minted ids replaced, so runs differing only in ids compare equal."""
    text = json.dumps(line, ensure_ascii=False, sort_keys=True)
    return _WAMID.sub("<wamid>", _UUID.sub("<uuid>", text))


def test_sequential_steps_repeat_exactly_and_a_concurrent_group_repeats_as_a_set(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "First, alone"},
            {"action": "agent.text", "customer": ANA, "text": "Hello Ana"},
            {"concurrently": [
                {"action": "customer.text", "customer": BEN, "text": "From Ben"},
                {"action": "customer.text", "customer": "15550100003", "text": "From Cai"},
                {"action": "customer.text", "customer": ANA, "text": "Ana again"},
            ]},
        ],
    )  # fmt: skip

    runs = []
    for _ in range(2):
        lines: list[dict[str, Any]] = []
        with ScenarioRunner(seed=defaults.SEED, emit=lines.append) as runner:
            for step in load_scenario(path).steps:
                runner.run_step(step)
        runs.append(lines)

    first, second = ([line for line in run if line["step"] < 2] for run in runs)
    assert first == second
    assert first  # the sequential part did something to compare
    group_first, group_second = (
        sorted(_without_ids(line) for line in run if line["step"] == 2) for run in runs
    )
    assert group_first == group_second
    assert sum('"text": "From Ben"' in line for line in group_first) == 1


def test_read_marks_for_a_raw_payload_name_the_customer(tmp_path: Path) -> None:
    notification = eum_notification(
        {"id": "wamid.RAWREAD0001", "type": "text", "text": {"body": "Raw hello"}}, customer=BEN
    )
    lines = _run(tmp_path, [{"payload": notification}])

    [read] = [line for line in lines if line["kind"] == "read"]
    assert read["customer"] == BEN


def test_reply_to_a_labelled_raw_whatsapp_payload_quotes_its_message(tmp_path: Path) -> None:
    notification = eum_notification(
        {"id": "wamid.RAWQUOTE001", "type": "text", "text": {"body": "The order was 1042"}}
    )
    lines = _run(
        tmp_path,
        [
            {"label": "raw", "payload": notification},
            {"action": "customer.text", "customer": ANA, "text": "See above", "reply_to": "raw"},
        ],
    )

    assert not [line for line in lines if line["kind"] == "rejected"], lines
    [quoted] = [line for line in lines if line["step"] == 1 and line["to"] == "agent"]
    assert quoted["text"] == "↩ «The order was 1042»\nSee above"


def test_reply_to_a_labelled_raw_connect_payload_quotes_the_message_it_sent(
    tmp_path: Path,
) -> None:
    opening = {"action": "customer.text", "customer": ANA, "text": "Hello"}
    # Ids repeat with the seed, so a first run tells which contact id the second one mints.
    [started] = [line for line in _run(tmp_path, [opening]) if line["kind"] == "chat.started"]
    notification = connect_notification(
        contact_id=started["contact_id"], content="Your refund is on its way"
    )
    lines = _run(
        tmp_path,
        [
            opening,
            {"label": "agent says", "payload": notification},
            {"action": "customer.text", "customer": ANA, "text": "Thanks!",
             "reply_to": "agent says"},
        ],
    )  # fmt: skip

    assert not [line for line in lines if line["kind"] == "rejected"], lines
    [quoted] = [line for line in lines if line["step"] == 2 and line["to"] == "agent"]
    assert quoted["text"] == "↩ «Your refund is on its way»\nThanks!"


def test_a_customer_message_the_bridge_would_refuse_fails_the_step_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        [
            {"action": "customer.message", "customer": ANA, "message": {"type": "text"}},
            {"action": "customer.message", "customer": ANA,
             "message": {"type": "location", "location": {"latitude": "north"}}},
            {"action": "customer.message", "customer": ANA,
             "message": {"type": "text", "text": {"body": "Valid"}}},
        ],
    )  # fmt: skip

    code = main(["replay", str(path)])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    rejected = [line["reason"] for line in lines if line["kind"] == "rejected"]
    assert rejected[0] == "step 0: field 'message.text': required"
    assert rejected[1].startswith("step 1: field 'message.location.")
    assert len(rejected) == 2
    assert [line["text"] for line in lines if line["to"] == "agent"] == ["Valid"]


def test_a_reaction_without_message_id_is_valid_when_reply_to_supplies_it(
    tmp_path: Path,
) -> None:
    lines = _run(
        tmp_path,
        [
            {"label": "hi", "action": "customer.text", "customer": ANA, "text": "Hi there"},
            {"action": "customer.message", "customer": ANA, "reply_to": "hi",
             "message": {"type": "reaction", "reaction": {"emoji": "👍"}}},
        ],
    )  # fmt: skip

    assert not [line for line in lines if line["kind"] == "rejected"], lines
    assert [line["text"] for line in lines if line["step"] == 1 and line["to"] == "agent"] == [
        "reacted 👍 to: «Hi there»"
    ]


def test_an_agent_step_naming_an_unknown_contact_id_is_refused_naming_the_field(
    tmp_path: Path,
) -> None:
    lines = _run(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "agent.text", "contact_id": "00000000-0000-4000-8000-000000000000",
             "text": "Who is this?"},
        ],
    )  # fmt: skip

    [rejected] = [line for line in lines if line["kind"] == "rejected"]
    assert rejected["reason"] == "step 1: field 'contact_id': no such chat"


def _run(tmp_path: Path, steps: list[Any]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    scenario = load_scenario(_write(tmp_path, steps))
    with ScenarioRunner(seed=defaults.SEED, emit=lines.append) as runner:
        for step in scenario.steps:
            runner.run_step(step)
    return lines


def _cli() -> list[str]:
    return [sys.executable, "-c", "import sys; from waconnect.entrypoints.cli import main; "
            "sys.exit(main())"]  # fmt: skip


@pytest.mark.parametrize("command", ["replay", "explain"])
def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path, command: str) -> None:
    if command == "replay":
        target = _write(tmp_path, [{"action": "customer.text", "customer": ANA, "text": "Hi"}])
    else:
        target = _write(
            tmp_path,
            eum_notification({"id": "wamid.PIPE0001", "type": "text", "text": {"body": "Hi"}}),
            "payload.json",
        )
    read_end, write_end = os.pipe()
    # The reader is gone before the first line is written, as with ``| head -0``.
    os.close(read_end)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    completed = subprocess.run(
        [*_cli(), command, str(target)],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    os.close(write_end)

    assert "Traceback" not in completed.stderr
    assert "BrokenPipeError" not in completed.stderr
    assert completed.returncode == 1
