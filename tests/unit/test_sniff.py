"""Sniffing content types from real generated files, and deciding which type to trust."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests import media_samples as samples

from waconnect.media.naming import canonical_type, content_type_for_name
from waconnect.media.sniff import DOCX, HEAD_BYTES, OGG_OPUS, OLE, PPTX, XLSX, reconcile, sniff

GENERATED: dict[str, tuple[Callable[[], bytes], str]] = {
    "jpeg": (lambda: samples.image_file("jpeg"), "image/jpeg"),
    "png": (lambda: samples.image_file("png"), "image/png"),
    "webp": (lambda: samples.image_file("webp"), "image/webp"),
    "ogg-opus": (lambda: samples.audio_file("ogg-opus", 1.0), OGG_OPUS),
    "wav": (lambda: samples.audio_file("wav16k", 1.0), "audio/wav"),
    "mp3": (lambda: samples.audio_file("mp3", 1.0), "audio/mpeg"),
    "aac-adts": (lambda: samples.audio_file("aac", 1.0), "audio/aac"),
    "m4a": (lambda: samples.audio_file("m4a", 1.0), "audio/mp4"),
    "amr": (lambda: samples.audio_file("amr", 1.0), "audio/amr"),
    "flac": (lambda: samples.audio_file("flac", 1.0), "audio/flac"),
    "mp4": (lambda: samples.video_file("mp4"), "video/mp4"),
    "mov": (lambda: samples.video_file("mov"), "video/quicktime"),
    "3gp": (lambda: samples.video_file("3gp"), "video/3gpp"),
    "pdf": (samples.pdf_file, "application/pdf"),
    "docx": (lambda: samples.office_file("docx"), DOCX),
    "xlsx": (lambda: samples.office_file("xlsx"), XLSX),
    "pptx": (lambda: samples.office_file("pptx"), PPTX),
    "zip": (samples.zip_file, "application/zip"),
    "ole": (samples.ole_file, OLE),
    "rtf": (samples.rtf_file, "application/rtf"),
    "txt": (samples.text_file, "text/plain"),
    "csv": (samples.csv_file, "text/csv"),
}


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_sniff_recognises_each_generated_file_from_its_head(kind: str) -> None:
    make, expected = GENERATED[kind]
    assert sniff(make()[:HEAD_BYTES]) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(samples.iso_head(b"heic", b"mif1", b"heic"), "image/heic", id="heic"),
        pytest.param(samples.iso_head(b"mif1", b"mif1", b"heic"), "image/heic", id="mif1-heic"),
        pytest.param(samples.iso_head(b"mif1", b"mif1"), "image/heif", id="heif"),
        pytest.param(samples.iso_head(b"3gp5", b"3gp5", b"isom"), "video/3gpp", id="3gp5"),
        pytest.param(samples.iso_head(b"3g2a", b"3g2a"), "video/3gpp2", id="3g2a"),
        pytest.param(samples.iso_head(b"mp42", b"mp42", b"isom"), "video/mp4", id="mp42"),
        pytest.param(samples.iso_head(b"M4A ", b"M4A ", b"mp42"), "audio/mp4", id="m4a"),
        pytest.param(samples.iso_head(b"qt  ", b"qt  "), "video/quicktime", id="qt"),
        pytest.param(samples.iso_head(b"xxxx", b"avc1"), "video/mp4", id="unknown-major"),
        pytest.param(b"GIF89a\x01\x00\x01\x00", "image/gif", id="gif"),
        pytest.param(b"#!AMR-WB\n\x00", "audio/amr-wb", id="amr-wb"),
        pytest.param(b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg", id="mp3-id3"),
        pytest.param(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm", "video/webm", id="webm"),
        pytest.param(b"\n%PDF-1.7\n", "application/pdf", id="pdf-after-newline"),
        pytest.param("\ufeffname;qty\na;1\nb;2\n".encode(), "text/csv", id="csv-bom-semicolon"),
    ],
)
def test_sniff_reads_magic_numbers_of_formats_not_generated(head: bytes, expected: str) -> None:
    assert sniff(head) == expected


def test_sniff_tells_vorbis_from_opus_by_the_first_page_codec_id() -> None:
    opus = samples.audio_file("ogg-opus", 1.0)
    vorbis = opus[:28] + b"\x01vorbis" + opus[36:]
    assert sniff(opus) == OGG_OPUS
    assert sniff(vorbis) == "audio/ogg; codecs=vorbis"


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"", id="empty"),
        pytest.param(bytes(range(256)) * 2, id="binary-with-nul"),
        pytest.param(b"\xff\xfe\x00\x00garbage", id="not-audio-sync"),
        pytest.param(b"RIFF\x00\x00\x00\x00AVI LIST", id="riff-avi"),
        pytest.param(b"\x01\x02\x03\x04\x05\x06" * 10, id="control-bytes"),
    ],
)
def test_sniff_returns_none_for_bytes_it_does_not_know(head: bytes) -> None:
    assert sniff(head) is None


def test_sniff_accepts_a_text_head_that_cuts_a_character_in_two() -> None:
    head = ("ação " * 100).encode()[: HEAD_BYTES - 2] + "ç".encode()[:1]
    with pytest.raises(UnicodeDecodeError):
        head.decode("utf-8")
    assert sniff(head) == "text/plain"


def test_a_pdf_declared_as_a_jpeg_photo_is_trusted_as_the_pdf_its_bytes_are() -> None:
    head = samples.pdf_file()[:HEAD_BYTES]
    assert reconcile("image/jpeg", sniff(head), "photo.jpg") == "application/pdf"


@pytest.mark.parametrize(
    ("declared", "filename", "kind"),
    [
        (DOCX, "letter.docx", "docx"),
        (XLSX, "sheet.xlsx", "xlsx"),
        ("application/vnd.oasis.opendocument.text", "letter.odt", "zip"),
    ],
)
def test_office_files_declared_correctly_keep_their_declared_type(
    declared: str, filename: str, kind: str
) -> None:
    data = samples.zip_file() if kind == "zip" else samples.office_file(kind)
    assert reconcile(declared, sniff(data[:HEAD_BYTES]), filename) == declared


def test_a_zip_sent_as_octet_stream_takes_the_type_its_file_name_gives() -> None:
    assert reconcile("application/octet-stream", "application/zip", "deck.pptx") == PPTX


def test_a_legacy_office_file_is_refined_from_the_declared_type_or_else_the_name() -> None:
    assert reconcile("application/msword", OLE, "x.bin") == "application/msword"
    assert reconcile("application/octet-stream", OLE, "budget.xls") == "application/vnd.ms-excel"
    assert reconcile("application/octet-stream", OLE, "unknown") == OLE


def test_audio_in_an_iso_media_file_keeps_its_declared_audio_type() -> None:
    assert reconcile("audio/mp4", "video/mp4", "") == "audio/mp4"
    assert reconcile("video/mp4", "video/3gpp", "clip.mp4") == "video/3gpp"


def test_csv_declared_by_the_sender_beats_the_plain_text_the_bytes_suggest() -> None:
    assert reconcile("text/csv", "text/plain", "orders.csv") == "text/csv"
    assert reconcile("application/octet-stream", "text/plain", "orders.csv") == "text/csv"


def test_sniffed_parameters_are_kept_when_declared_and_sniffed_agree() -> None:
    assert reconcile("audio/ogg", OGG_OPUS, "") == OGG_OPUS


def test_bytes_no_sniffer_knows_never_inherit_a_declared_or_named_type() -> None:
    assert reconcile("image/heic", None, "") == "application/octet-stream"
    assert reconcile("application/pdf", None, "invoice.pdf") == "application/octet-stream"
    assert reconcile("application/octet-stream", None, "notes.txt") == "application/octet-stream"
    assert reconcile("", None, "mystery") == "application/octet-stream"


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "media"


@pytest.mark.parametrize(
    "name",
    [
        "photo.jpg",
        "receipt.pdf",
        "voice-note.ogg",
        "agent-reply.wav",
        "agent-image.png",
        "agent-brochure.pdf",
        "second-customer.jpg",
    ],
)
def test_each_tour_media_file_is_small_and_its_bytes_match_its_extension(name: str) -> None:
    data = (EXAMPLES / name).read_bytes()
    assert 0 < len(data) < 100_000
    assert canonical_type(sniff(data[:HEAD_BYTES]) or "") == content_type_for_name(name)
