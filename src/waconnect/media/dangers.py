"""Files that must never cross the bridge under another name: programs, scripts and archives.

A customer's phone or an agent's browser may declare ``application/pdf`` for anything. Opening
a program that looks like an invoice is how machines get infected, so these types are recognised
from their bytes (``sniff`` asks here first) and the policies refuse them whatever was declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Danger = Literal["program", "script", "archive"]


@dataclass(frozen=True, slots=True)
class Dangerous:
    """A type the bridge refuses to pass on disguised, and the words for what it is."""

    content_type: str
    danger: Danger
    what: str


_PROGRAMS: tuple[tuple[bytes, Dangerous], ...] = (
    (b"MZ", Dangerous("application/x-msdownload", "program", "a Windows program")),
    (b"\x7fELF", Dangerous("application/x-executable", "program", "a Linux program")),
    *(
        (magic, Dangerous("application/x-mach-binary", "program", "a macOS program"))
        for magic in (
            b"\xfe\xed\xfa\xce",
            b"\xfe\xed\xfa\xcf",
            b"\xce\xfa\xed\xfe",
            b"\xcf\xfa\xed\xfe",
            # Also a Java class file: a program either way.
            b"\xca\xfe\xba\xbe",
        )
    ),
    (b"dex\n", Dangerous("application/vnd.android.dex", "program", "an Android program")),
    (
        b"L\x00\x00\x00\x01\x14\x02\x00",
        Dangerous("application/x-ms-shortcut", "program", "a Windows shortcut"),
    ),
    (b"7z\xbc\xaf\x27\x1c", Dangerous("application/x-7z-compressed", "archive", "a 7-Zip archive")),
    (b"Rar!\x1a\x07", Dangerous("application/vnd.rar", "archive", "a RAR archive")),
    (b"\x1f\x8b", Dangerous("application/gzip", "archive", "a gzip archive")),
    (b"\xfd7zXZ\x00", Dangerous("application/x-xz", "archive", "an xz archive")),
    (b"(\xb5/\xfd", Dangerous("application/zstd", "archive", "a zstd archive")),
    (b"MSCF", Dangerous("application/vnd.ms-cab-compressed", "archive", "a cabinet archive")),
)
_TAR = Dangerous("application/x-tar", "archive", "a tar archive")
_BZIP2 = Dangerous("application/x-bzip2", "archive", "a bzip2 archive")
_SHEBANG = Dangerous("text/x-shellscript", "script", "a script")
# Text that a browser, a shell or Windows runs when the file is opened. Compared lower-cased,
# after leading blanks and a byte-order mark.
_SCRIPT_STARTS: tuple[tuple[bytes, Dangerous], ...] = (
    (b"<!doctype html", Dangerous("text/html", "script", "a web page")),
    (b"<html", Dangerous("text/html", "script", "a web page")),
    (b"<script", Dangerous("text/html", "script", "a web page")),
    (b"<svg", Dangerous("image/svg+xml", "script", "an SVG drawing (it can hold scripts)")),
    (b"<?php", Dangerous("application/x-php", "script", "a PHP script")),
    (b"@echo off", Dangerous("application/x-bat", "script", "a Windows batch script")),
    (b"<job", Dangerous("text/x-wsf", "script", "a Windows script")),
    (b"<hta:", Dangerous("application/hta", "script", "a Windows script")),
)
# Zip-based packages that are programs.
ZIP_PROGRAMS: tuple[tuple[bytes, Dangerous], ...] = (
    (
        b"AndroidManifest.xml",
        Dangerous("application/vnd.android.package-archive", "program", "an Android app"),
    ),
    (b"classes.dex", Dangerous("application/vnd.android.package-archive", "program", "an app")),
    (b"META-INF/MANIFEST.MF", Dangerous("application/java-archive", "program", "a Java program")),
)

BY_TYPE: dict[str, Dangerous] = {
    found.content_type: found for _, found in (*_PROGRAMS, *_SCRIPT_STARTS, *ZIP_PROGRAMS)
} | {d.content_type: d for d in (_TAR, _BZIP2, _SHEBANG)}


def sniff_dangerous(head: bytes) -> Dangerous | None:
    """The dangerous type the first bytes of a file announce, or None."""
    for magic, found in _PROGRAMS:
        if head.startswith(magic):
            return found
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return _BZIP2
    if head[257:262] == b"ustar":
        return _TAR
    if head.startswith(b"#!") and not head.startswith(b"#!AMR"):
        return _SHEBANG
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").lower()
    if text.startswith(b"<?xml") and b"<svg" in text:
        return BY_TYPE["image/svg+xml"]
    for start, found in _SCRIPT_STARTS:
        if text.startswith(start):
            return found
    return None


def dangerous_type(content_type: str) -> Dangerous | None:
    """What a (sniffed) content type is, when it is one the bridge refuses."""
    return BY_TYPE.get(content_type.split(";", 1)[0].strip().lower())
