"""Connect interactive messages (quick replies, list pickers, panels, ...) on WhatsApp.

A quick reply or list picker whose options fit WhatsApp's interactive messages becomes one: up
to 3 short options as reply buttons, up to 10 as a list. Anything else is sent as readable text:
content of a shape we do not know still shows its titles and texts; content with none (or that
is not JSON at all) gives an empty text, and the agent is told instead: raw JSON is never sent to
a customer.
"""

from __future__ import annotations

import json
from typing import Any

from waconnect.domain.outgoing import Choice, OutgoingChoices
from waconnect.domain.whatsapp import Customer

# Fields that hold words meant for the customer, in any template.
_READABLE_FIELDS = ("title", "subtitle", "text", "body", "description")
_MAX_FALLBACK_LINES = 20
_MAX_DEPTH = 8
# WhatsApp's interactive messages: body text, reply buttons, list rows (Cloud API reference).
_BODY_MAX = 1024
_BUTTONS_MAX, _BUTTON_TITLE_MAX = 3, 20
_ROWS_MAX, _ROW_TITLE_MAX, _ROW_DESCRIPTION_MAX = 10, 24, 72
_CHOOSABLE = frozenset({"QuickReply", "ListPicker"})
LIST_BUTTON = "Choose an option"


def interactive_choices(content: str, to: Customer) -> OutgoingChoices | None:
    """The quick reply or list picker in ``content`` as WhatsApp options, when they fit."""
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("templateType") not in _CHOOSABLE:
        return None
    data = document.get("data")
    body = data.get("content") if isinstance(data, dict) else None
    if not isinstance(body, dict):
        return None
    question = "\n".join(t for t in (_text(body.get(k)) for k in ("title", "subtitle")) if t)
    options = [
        (_text(e.get("title")), _text(e.get("subtitle")))
        for e in _list(body.get("elements"))
        if isinstance(e, dict)
    ]
    titles = [title for title, _ in options]
    if not question or len(question) > _BODY_MAX or not options or not all(titles):
        return None
    if len(set(titles)) != len(titles):
        return None  # WhatsApp refuses options of the same title; the text shows them all
    buttons = document["templateType"] == "QuickReply" and len(options) <= _BUTTONS_MAX
    if buttons and all(len(title) <= _BUTTON_TITLE_MAX for title in titles):
        choices = tuple(
            Choice(reply_id=f"option-{n}", title=title) for n, (title, _) in enumerate(options, 1)
        )
        return OutgoingChoices(to=to, body=question, choices=choices)
    fits = len(options) <= _ROWS_MAX and all(
        len(title) <= _ROW_TITLE_MAX and len(detail) <= _ROW_DESCRIPTION_MAX
        for title, detail in options
    )
    if not fits:
        return None
    rows = tuple(
        Choice(reply_id=f"option-{n}", title=title, description=detail)
        for n, (title, detail) in enumerate(options, 1)
    )
    return OutgoingChoices(to=to, body=question, choices=rows, as_list=True, button=LIST_BUTTON)


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
