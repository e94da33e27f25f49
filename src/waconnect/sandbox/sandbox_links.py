"""Links into the sandbox's own stores, printed so that every run reads the same."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, unquote, urlsplit

# A URL up to whitespace or a closing quote/bracket a sentence may put after it.
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")


def stable_links(text: str, origins: Iterable[str]) -> str:
    """Links into the sandbox's own stores as ``<sandbox link: NAME>`` (docs/replay.md).

    Their port, per-run prefix, date and signature change every run; the file name does not.
    NAME is the download's file name when the link sets one, else the key's last segment.
    """
    bases = tuple(origins)

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        # A sentence's own punctuation after a link is not part of it.
        url = found.rstrip(".,;:!?")
        if not any(url == base or url.startswith(base + "/") for base in bases):
            return found
        return f"<sandbox link: {_link_name(url)}>{found[len(url) :]}"

    return _URL.sub(replace, text)


def _link_name(url: str) -> str:
    parts = urlsplit(url)
    for value in parse_qs(parts.query).get("response-content-disposition", ()):
        # RFC 6266: filename*=UTF-8''percent-encoded, else filename="..."
        star = re.search(r"filename\*=UTF-8''([^;]+)", value, re.IGNORECASE)
        if star:
            return unquote(star.group(1))
        plain = re.search(r'filename="?([^";]+)"?', value, re.IGNORECASE)
        if plain:
            return plain.group(1)
    return unquote(parts.path.rsplit("/", 1)[-1]) or "file"
