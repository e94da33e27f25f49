"""What the agent reads for a choice the customer made: a button, a list item, a template quick
reply, a form (flow) with its answers, or an answer to the business asking to call them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from waconnect.domain.text import shorten
from waconnect.domain.whatsapp import LATEST_TIMESTAMP, Reply


def render_reply(reply: Reply) -> str:
    """A button, list or template quick reply as its title; a flow as its fields."""
    if reply.kind == "nfm_reply":
        return _render_flow(reply)
    if reply.kind == "call_permission_reply":
        return render_call_permission(reply)
    title = reply.title or reply.reply_id
    if not title:
        return (
            f"⚠️ The customer answered with a “{reply.kind or 'reply'}” that carried no text, "
            "so it can't be shown here."
        )
    if reply.description:
        return f"{title} — {reply.description}"
    return title


def render_call_permission(reply: Reply) -> str:
    """The customer's answer to the business asking to call them, and until when it holds."""
    answer = reply.reply_id.strip().lower()
    if answer == "accept":
        until = _until(reply.response.get("expiration_timestamp"))
        return f"📞 The customer accepted calls from the business{until}."
    if answer == "reject":
        return "📞 The customer declined calls from the business."
    named = f"“{answer}”" if answer else "no answer WhatsApp named"
    return f"📞 The customer answered the request to call them with {named}."


def _until(timestamp: Any) -> str:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        return ""
    if not 0 < timestamp <= LATEST_TIMESTAMP:
        return ""
    return f" until {datetime.fromtimestamp(timestamp, tz=UTC):%Y-%m-%d %H:%M} UTC"


FLOW_TEXT_LIMIT = 500


def _render_flow(reply: Reply) -> str:
    lines = [f"📝 Form answered: {reply.title}" if reply.title else "📝 Form answered"]
    lines.extend(_fields(reply.response, prefix=""))
    if reply.response_text.strip():
        # Answers that are not a JSON object still reach the agent, as they came.
        lines.append(shorten(reply.response_text, FLOW_TEXT_LIMIT))
    return "\n".join(lines)


_HIDDEN_FLOW_FIELDS = frozenset({"flow_token"})


def _fields(values: dict[str, Any], *, prefix: str) -> Iterable[str]:
    for key, value in values.items():
        if key in _HIDDEN_FLOW_FIELDS:
            continue
        label = prefix + _field_label(key)
        if isinstance(value, dict):
            yield from _fields(value, prefix=f"{label} › ")
        else:
            yield f"• {label}: {_field_value(value)}"


def _field_label(key: str) -> str:
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def _field_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_field_value(item) for item in value) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
