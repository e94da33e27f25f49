"""The tour, replayed at INFO as a real process: its log lines name ids and hashes, never a
phone number, a wamid, a word anyone wrote, a token or a signature.

``WACONNECT_LOG_LEVEL`` and ``WACONNECT_LOG_FORMAT`` reach ``replay`` like every command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

TOUR = Path(__file__).resolve().parents[2] / "examples" / "tour.json"
pytestmark = pytest.mark.slow


@cache
def replayed(fmt: str) -> tuple[list[dict[str, Any]], str]:
    """The tour's effect lines (stdout) and its log (stderr), run once per format."""
    env = {**os.environ, "WACONNECT_LOG_LEVEL": "INFO", "WACONNECT_LOG_FORMAT": fmt}
    completed = subprocess.run(
        [sys.executable, "-m", "waconnect.entrypoints.cli", "replay", str(TOUR)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return [json.loads(line) for line in completed.stdout.splitlines()], completed.stderr


def secrets_of_the_tour(effects: list[dict[str, Any]]) -> set[str]:
    """What must never be logged: the numbers, the wamids and every text of the tour."""
    steps = json.loads(TOUR.read_text(encoding="utf-8"))
    found: set[str] = {"15550000000"}  # the business's own display number

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and key in ("customer", "text", "caption", "address", "body"):
            found.add(value)

    walk(steps)
    walk(effects)
    for line in effects:
        found.update(re.findall(r"wamid\.[A-Za-z0-9+/=_-]+", json.dumps(line)))
    # Short words ("Thanks") could be anyone's; the lines of a real conversation are longer.
    return {secret for secret in found if len(secret) >= 8}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_tour_logs_no_number_wamid_text_token_or_signature(fmt: str) -> None:
    effects, log = replayed(fmt)

    assert log.count("\n") >= 10  # INFO reached the process: the level was honoured
    secrets = secrets_of_the_tour(effects)
    assert len(secrets) >= 20
    leaked = sorted(secret for secret in secrets if secret in log)
    assert leaked == []
    assert re.search(r"wamid\.[A-Za-z0-9]", log) is None
    assert re.search(r"(?i)x-amz-(signature|credential|security-token)=[^…&\s]", log) is None
    assert re.search(r"(?i)(token|bearer)[\"'=: ]+[A-Za-z0-9+/_-]{16,}", log) is None
    assert "Traceback" not in log


def test_json_log_lines_carry_the_correlation_ids() -> None:
    _, log = replayed("json")

    entries = [json.loads(line) for line in log.splitlines()]

    delivered = [e for e in entries if "delivered to contact" in e["message"]]
    assert delivered
    for entry in delivered:
        assert re.fullmatch(r"wamid#[0-9a-f]{10}", entry["wamid"])
        assert entry["contact_id"] in entry["message"]
        assert entry["business_number"] == "100000000000001"
        assert entry["level"] == "INFO"
    statuses = [e for e in entries if e["message"].startswith("status ")]
    assert statuses
    for entry in statuses:
        assert entry["wamid"] in entry["message"]
        assert entry["business_number"] == "100000000000001"


def test_the_default_level_keeps_a_clean_replay_silent() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WACONNECT_LOG_")}
    completed = subprocess.run(
        [sys.executable, "-m", "waconnect.entrypoints.cli", "replay", str(TOUR)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
