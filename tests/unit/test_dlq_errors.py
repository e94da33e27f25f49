"""``waconnect dlq`` when AWS cannot be reached or refuses: one line saying why, exit code 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from waconnect.entrypoints.cli import main


@pytest.fixture
def unreachable_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # A port bound and not listening refuses connections, and no other process can take it.
    with socket.socket() as unlistened:
        unlistened.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{unlistened.getsockname()[1]}"
        monkeypatch.setenv("WACONNECT_REGION", "eu-west-2")
        monkeypatch.setenv("WACONNECT_SQS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield f"{endpoint}/123456789012/waconnect-inbound.fifo"


def test_an_unreachable_endpoint_is_one_line(
    unreachable_queue: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert main(["dlq", "list", "--queue", unreachable_queue]) == 1
    err = capsys.readouterr().err
    assert err.startswith("waconnect dlq: Could not connect to the endpoint URL")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_credentials_are_one_line(unreachable_queue: str, tmp_path: Path) -> None:
    # A process of its own: nothing of this one's environment or credential cache reaches it.
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        **{
            name: os.environ[name]
            for name in os.environ
            if name.startswith(("WACONNECT_", "AWS_MAX", "AWS_EC2"))
        },
    }
    command = [str(Path(sys.executable).with_name("waconnect")), "dlq", "redrive"]
    result = subprocess.run(
        [*command, "--queue", unreachable_queue],
        env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == "waconnect dlq: Unable to locate credentials\n"


def test_a_bad_queue_url_setting_is_one_line_naming_it_and_nothing_is_asked_of_aws(
    unreachable_queue: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No endpoint is reachable here: the tool must stop on the setting before any call.
    monkeypatch.setenv("WACONNECT_TRANSCRIBED_QUEUE_URL", "waconnect-transcription")
    assert main(["dlq", "list", "transcribed"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("waconnect dlq: invalid settings (environment): ")
    assert "WACONNECT_TRANSCRIBED_QUEUE_URL: expected a standard (not FIFO) queue's URL" in err
    assert err.count("\n") == 1
