"""Connect interactive messages (list pickers, time pickers, panels, ...) as readable text.

WhatsApp's own interactive messages come later; until then the customer reads the options.
"""

from __future__ import annotations

import json
from typing import Any


def interactive_as_text(content: str) -> str:
    """Title, subtitle and one line per option of an interactive message's JSON ``content``."""
    try:
        document = json.loads(content)
    except ValueError:
        return content
    if not isinstance(document, dict):
        return content
    data = document.get("data")
    body = data.get("content") if isinstance(data, dict) else None
    if not isinstance(body, dict):
        return content
    lines = [_text(body.get(k)) for k in ("title", "subtitle")]
    for element in _list(body.get("elements")) + _list(body.get("timeslots")):
        if isinstance(element, dict):
            label = _text(element.get("title")) or _text(element.get("date"))
            detail = _text(element.get("subtitle"))
            if label:
                lines.append(f"• {label}" + (f" — {detail}" if detail else ""))
    text = "\n".join(line for line in lines if line)
    return text or content


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
