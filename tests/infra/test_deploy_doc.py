"""Every command of docs/deploy.md that needs no AWS account runs, in order, and does its job."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
NEEDS_ACCOUNT = "# needs an AWS account"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)


def command_blocks() -> list[str]:
    return _BLOCK.findall(DOC.read_text())


def offline_blocks() -> list[str]:
    return [block for block in command_blocks() if not block.startswith(NEEDS_ACCOUNT)]


ELF_AARCH64 = 183


def elf_machine(path: Path) -> int:
    """The ``e_machine`` field of an ELF file: which processor its code is for."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


def test_the_document_has_offline_and_account_blocks() -> None:
    offline = "\n".join(offline_blocks())
    assert "scripts/setup.sh" in offline
    assert "infra/build_asset.py" in offline
    assert "app.py" in offline
    deploy = [b for b in command_blocks() if b.startswith(NEEDS_ACCOUNT)]
    assert any("aws-cdk@2 deploy" in b for b in deploy)


def _copy_project(target: Path) -> None:
    """The files a fresh clone has (no build output), with the prepared .venv linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for name in listed:
        source = ROOT / name
        if not source.is_file():
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    (target / ".venv").symlink_to(ROOT / ".venv")


def _venv_is_current() -> bool:
    """Whether .venv was prepared for this pyproject.toml, as scripts/setup.sh records it.

    The document's first command is scripts/setup.sh; run in the copy with a stale .venv linked
    in, it would reinstall the package from the copy, which is deleted after the test.
    """
    stamp = ROOT / ".venv" / ".waconnect-installed"
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "scripts" / "setup.sh").read_bytes()
    ).hexdigest()
    return stamp.is_file() and stamp.read_text().strip() == wanted


@pytest.mark.slow
def test_offline_commands_build_the_asset_and_synthesize(tmp_path: Path) -> None:
    if not _venv_is_current():
        pytest.fail(".venv is older than pyproject.toml: run ./test, which prepares it first")
    project = tmp_path / "project"
    _copy_project(project)
    outdir = tmp_path / "cdk.out"
    script = "set -euo pipefail\n" + "\n".join(offline_blocks())
    environment = {**os.environ, "CDK_OUTDIR": str(outdir)}
    environment.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    environment.pop("CDK_CONTEXT_JSON", None)
    result = subprocess.run(
        ["bash", "-c", script], cwd=project, env=environment,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert "MB unzipped" in result.stdout
    asset = project / "infra" / "build" / "lambda"
    assert (asset / "waconnect" / "entrypoints").is_dir()
    assert elf_machine(asset / "av" / "_core.abi3.so") == ELF_AARCH64
    template = outdir / "Waconnect.template.json"
    assert template.is_file()
    synthesized = template.read_text()
    assert "11111111-2222-3333-4444-555555555555" in synthesized
    # The last synth of the document is the one with Amazon Transcribe.
    assert "Transcribe Job State Change" in synthesized
    assert "TranscriptionQueue" in synthesized
