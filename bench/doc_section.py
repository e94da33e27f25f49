"""One benchmark's section of docs/benchmarks.md, written in place between its two marks."""

from __future__ import annotations

from pathlib import Path


def write_section(doc: Path, start_mark: str, end_mark: str, section: str) -> None:
    """Replace the text from ``start_mark`` to ``end_mark`` with ``section`` (which holds both
    marks), or append it when the document has no such section yet."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if start_mark in text and end_mark in text:
        head, rest = text.split(start_mark, 1)
        text = head + section + rest.split(end_mark, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text)
