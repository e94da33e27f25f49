"""Connect interactive messages (list pickers, time pickers, panels, ...) as readable text.

WhatsApp's own interactive messages come later; until then the customer reads the options.
Content of a shape we do not know still shows its titles and texts; content with none (or that
is not JSON at all) gives an empty text, and the agent is told instead: raw JSON is never sent to
a customer.
"""

from __future__ import annotations

import json
from typing import Any

# Fields that hold words meant for the customer, in any template.
_READABLE_FIELDS = ("title", "subtitle", "text", "body", "description")
_MAX_FALLBACK_LINES = 20
_MAX_DEPTH = 8


def interactive_as_text(content: str) -> str:
    """Readable text for an interactive message's JSON ``content``; "" when there is none."""
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):
        return ""
    known = _known_shape(document)
    if known:
        return known
    lines: list[str] = []
    _collect(document, lines, depth=0)
    return "\n".join(lines)


def _known_shape(document: Any) -> str:
    """Connect's templates: ``data.content`` with a title, a subtitle and elements or slots."""
    data = document.get("data") if isinstance(document, dict) else None
    body = data.get("content") if isinstance(data, dict) else None
    if not isinstance(body, dict):
        return ""
    lines = [_text(body.get(k)) for k in ("title", "subtitle")]
    for element in _list(body.get("elements")) + _list(body.get("timeslots")):
        if isinstance(element, dict):
            label = _text(element.get("title")) or _text(element.get("date"))
            detail = _text(element.get("subtitle"))
            if label:
                lines.append(f"• {label}" + (f" — {detail}" if detail else ""))
    return "\n".join(line for line in lines if line)


def _collect(value: Any, lines: list[str], *, depth: int) -> None:
    """The readable fields of an unknown document, depth first, each line once."""
    if depth > _MAX_DEPTH or len(lines) >= _MAX_FALLBACK_LINES:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            text = _text(item) if key in _READABLE_FIELDS else ""
            if text and text not in lines and len(lines) < _MAX_FALLBACK_LINES:
                lines.append(text)
            else:
                _collect(item, lines, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _collect(item, lines, depth=depth + 1)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
