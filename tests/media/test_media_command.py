"""``waconnect media inspect|convert`` as an operator runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import pytest

from tests import media_samples as samples
from waconnect.entrypoints.cli import main


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "note.ogg").write_bytes(samples.audio_file("ogg-opus", 3.0))
    (tmp_path / "sticker.webp").write_bytes(samples.image_file("webp"))
    (tmp_path / "invoice.pdf").write_bytes(b"MZ\x90\x00" + bytes(300))
    return tmp_path


def test_inspect_names_a_disguised_program_and_refuses_it_both_ways(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["media", "inspect", str(files / "invoice.pdf")]) == 0
    out = capsys.readouterr().out
    assert "sniffed:   application/x-msdownload" in out
    assert "refused:   it is a Windows program disguised as “invoice.pdf”" in out
    assert "connect:   notice to the agent without a link" in out
    assert "whatsapp:  notice to the agent" in out


def test_inspect_shows_the_conversion_each_way(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["media", "inspect", str(files / "sticker.webp")]) == 0
    out = capsys.readouterr().out
    assert "connect:   convert to png (image/png), attach as sticker.png" in out
    assert "whatsapp:  convert to jpeg, within 5242880 bytes, send as image" in out


def test_convert_for_connect_writes_the_wav_the_agent_would_get(
    files: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["media", "convert", str(files / "note.ogg"), "--for", "connect", "--out", str(out)])
        == 0
    )
    wav = out / "note.wav"
    with av.open(str(wav)) as container:
        context = container.streams.audio[0].codec_context
        assert (context.name, context.sample_rate, context.channels) == ("pcm_s16le", 16_000, 1)
    assert f"{wav} ({wav.stat().st_size} bytes, audio/wav)" in capsys.readouterr().out


def test_convert_of_a_refused_file_writes_nothing_and_says_why(
    files: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        ["media", "convert", str(files / "invoice.pdf"), "--for", "whatsapp", "--out", str(out)]
    )
    assert code == 1
    assert not out.exists()
    assert "Windows program" in capsys.readouterr().err


def test_a_missing_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["media", "inspect", str(tmp_path / "nope.pdf")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_media_command_loads_neither_boto3_nor_the_emulators(files: Path) -> None:
    probe = (
        "import sys\n"
        "from waconnect.entrypoints.cli import main\n"
        f"main(['media', 'inspect', {str(files / 'note.ogg')!r}])\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in {'boto3', 'botocore', 'moto'}"
        " or m.startswith('waconnect.sandbox.server')]\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert "LOADED []" in done.stdout


def test_the_conversion_process_loads_no_store_no_ports_and_no_bridge_settings(
    files: Path, tmp_path: Path
) -> None:
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['waconnect', 'media', 'convert', {str(files / 'note.ogg')!r},"
        f" '--for', 'connect', '--out', {str(tmp_path / 'out')!r}]\n"
        "try:\n"
        "    runpy.run_module('waconnect', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "heavy = ('boto3', 'botocore', 'waconnect.sandbox', 'waconnect.adapters',"
        " 'waconnect.ports', 'waconnect.settings', 'waconnect.services.inbound')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert "LOADED []" in done.stdout, done.stdout
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["note.wav"]


@pytest.mark.slow
def test_a_note_longer_than_one_attachment_is_written_as_numbered_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = tmp_path / "long.ogg"
    note.write_bytes(samples.long_voice_note(11 * 60, bit_rate=6_000))
    out = tmp_path / "out"

    assert main(["media", "convert", str(note), "--for", "connect", "--out", str(out)]) == 0

    assert sorted(path.name for path in out.iterdir()) == ["long-1of2.wav", "long-2of2.wav"]
    printed = capsys.readouterr().out
    for part in out.iterdir():
        assert part.stat().st_size <= 20 * 1024 * 1024
        assert f"{part} ({part.stat().st_size} bytes, audio/wav)" in printed
    assert "duration:  660.00 s" in printed
