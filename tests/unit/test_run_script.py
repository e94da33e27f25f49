"""./run: the sandbox by default, any waconnect command by its name."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "run"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_command_word_runs_that_command() -> None:
    result = _run("dlq", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: waconnect dlq")


def test_options_alone_go_to_the_sandbox() -> None:
    result = _run("--port", "not-a-port")
    assert result.returncode == 2
    assert "waconnect sandbox: error: argument --port" in result.stderr


def test_help_lists_every_command() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("explain", "replay", "dlq", "sandbox"):
        assert f"    {command} " in result.stdout


def test_an_unknown_command_is_named() -> None:
    result = _run("nosuchcommand")
    assert result.returncode == 2
    assert "invalid choice: 'nosuchcommand'" in result.stderr
