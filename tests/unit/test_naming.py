"""File names that are safe to show and store, with the extension their content type needs."""

from __future__ import annotations

import unicodedata

import pytest

from waconnect.media.naming import (
    MAX_NAME_CHARS,
    canonical_type,
    content_type_for_name,
    extension_for,
    file_name_for,
)


@pytest.mark.parametrize(
    ("content_type", "extension"),
    [
        ("image/jpeg", ".jpg"),
        ("image/jpg", ".jpg"),
        ("image/png", ".png"),
        ("application/pdf", ".pdf"),
        ("audio/ogg; codecs=opus", ".ogg"),
        ("audio/x-wav", ".wav"),
        ("AUDIO/WAV", ".wav"),
        ("video/quicktime", ".mov"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
        ("text/rtf", ".rtf"),
        ("application/x-unheard-of", ""),
    ],
)
def test_extension_for_gives_the_preferred_extension_of_each_spelling(
    content_type: str, extension: str
) -> None:
    assert extension_for(content_type) == extension


def test_aliases_collapse_to_one_canonical_spelling() -> None:
    assert canonical_type("audio/x-m4a") == "audio/mp4"
    assert canonical_type(" Audio/Opus ; x=1") == "audio/ogg"


def test_content_type_for_name_reads_the_last_extension_case_blind() -> None:
    assert content_type_for_name("Scan.JFIF") == "image/jpeg"
    assert content_type_for_name("archive.tar.xz") is None
    assert content_type_for_name("README") is None


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        pytest.param("../../etc/passwd", "passwd.pdf", id="posix-traversal"),
        pytest.param("..\\..\\Windows\\win.ini", "win.pdf", id="windows-traversal"),
        pytest.param("/", "document.pdf", id="only-a-slash"),
        pytest.param("..", "document.pdf", id="dot-dot"),
        pytest.param("", "document.pdf", id="empty"),
        pytest.param("  .hidden.pdf  ", "hidden.pdf", id="leading-dot-and-spaces"),
        pytest.param('say "hi" <now>?.pdf', "say _hi_ _now__.pdf", id="quotes-and-reserved"),
        pytest.param("line\nbreak\ttab\x00nul.pdf", "line break tabnul.pdf", id="controls"),
        pytest.param("CON.pdf", "_CON.pdf", id="reserved-device"),
        pytest.param("lpt1.tar.pdf", "_lpt1.tar.pdf", id="reserved-device-with-dots"),
    ],
)
def test_file_name_for_makes_hostile_names_safe(filename: str, expected: str) -> None:
    assert file_name_for("application/pdf", filename=filename, stem="document") == expected


def test_a_right_to_left_override_cannot_disguise_the_real_extension() -> None:
    name = file_name_for("application/pdf", filename="invoice\u202efdp.exe")
    assert "\u202e" not in name
    assert name.endswith(".pdf")


def test_a_wrong_extension_is_replaced_by_the_content_types() -> None:
    assert file_name_for("application/pdf", filename="photo.jpg") == "photo.pdf"
    assert file_name_for("audio/wav", filename="voice.ogg") == "voice.wav"


def test_a_missing_extension_is_added() -> None:
    assert file_name_for("image/png", filename="screenshot") == "screenshot.png"


def test_an_equivalent_extension_is_kept_lower_cased() -> None:
    assert file_name_for("image/jpeg", filename="Holiday.JPEG") == "Holiday.jpeg"
    assert file_name_for("image/jpeg", filename="scan.jfif") == "scan.jfif"


def test_an_unknown_type_keeps_the_names_own_extension() -> None:
    assert file_name_for("application/x-thing", filename="model.stl") == "model.stl"
    assert file_name_for("application/x-thing", filename="notes") == "notes"


def test_the_stem_names_a_file_that_arrived_without_a_name() -> None:
    assert file_name_for("audio/wav", stem="voice-note") == "voice-note.wav"


def test_long_names_are_shortened_keeping_the_extension() -> None:
    name = file_name_for("application/pdf", filename="a" * 500 + ".pdf")
    assert len(name) == MAX_NAME_CHARS
    assert name.endswith(".pdf")


def test_long_multibyte_names_stay_within_255_utf8_bytes() -> None:
    name = file_name_for("application/pdf", filename="😀" * 200 + ".pdf")
    assert len(name.encode()) <= 255
    assert name.endswith(".pdf")
    assert name.startswith("😀")


def test_unicode_names_are_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "café-menü.pdf")
    name = file_name_for("application/pdf", filename=decomposed)
    assert name == unicodedata.normalize("NFC", "café-menü.pdf")
    assert name != decomposed
