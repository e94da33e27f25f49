"""Mutated fixtures either parse or raise MalformedPayload: never KeyError, TypeError, ...

A WhatsApp document that parses despite a mutation shows the agent every message it kept, and
names each message or status it had to leave out.

Mutations reach inside JSON held in strings (SNS ``Message``, EUM ``whatsAppWebhookEntry``), so
a fault deep in a Lambda record is exercised as well as one at the top.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waconnect.domain.render import render_for_agent
from waconnect.domain.whatsapp import MessageType
from waconnect.errors import MalformedPayload
from waconnect.wire.inbound import classify, parse_connect_document, parse_whatsapp_document

EVENTS = Path(__file__).resolve().parents[1] / "events"
DECODE = object()  # a path step meaning "the JSON inside this string"

Step = str | int | object


def fixtures(*sources: str) -> list[Any]:
    docs = []
    for source in sources:
        for path in sorted((EVENTS / source).glob("*.json")):
            doc = json.loads(path.read_text())
            if doc.get("Type") != "SubscriptionConfirmation":
                docs.append(doc)
    return docs


def nested_json(value: str) -> Any:
    if value[:1] not in ("{", "["):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def paths(value: Any, prefix: tuple[Step, ...] = ()) -> list[tuple[Step, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(paths(child, (*prefix, index)))
    elif isinstance(value, str) and (inner := nested_json(value)) is not None:
        found.extend(paths(inner, (*prefix, DECODE)))
    return found


def apply(value: Any, path: tuple[Step, ...], change: Callable[[Any, Any], Any], key: Any) -> Any:
    """``change(parent_value, key)`` at the end of ``path``, rebuilding nested JSON strings."""
    if not path:
        return change(value, key)
    step, rest = path[0], path[1:]
    if step is DECODE:
        return json.dumps(apply(json.loads(value), rest, change, key))
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[step] = apply(value[step], rest, change, key)  # type: ignore[index]
    return copy


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, docs: list[Any]) -> Any:
    doc = draw(st.sampled_from(docs))
    target = draw(st.sampled_from(paths(doc)))
    operation = draw(st.sampled_from(["delete", "replace", "truncate", "wrap", "unwrap"]))
    replacement = draw(json_values)
    cut = draw(st.integers(min_value=0, max_value=40))
    if not target:
        return replacement if operation == "replace" else doc
    parent, last = target[:-1], target[-1]
    if last is DECODE:
        # Mangle the JSON text itself.
        return apply(
            doc, parent, lambda text, _: text[:cut] if operation == "truncate" else "}", None
        )

    def change(container: Any, key: Any) -> Any:
        copy = list(container) if isinstance(container, list) else dict(container)
        current = copy[key]
        if operation == "delete":
            del copy[key]
        elif operation == "replace":
            copy[key] = replacement
        elif operation == "truncate" and isinstance(current, str):
            copy[key] = current[:cut]
        elif operation == "wrap":
            copy[key] = json.dumps(current)
        elif operation == "unwrap" and isinstance(current, str):
            inner = nested_json(current)
            copy[key] = current if inner is None else inner
        return copy

    return apply(doc, parent, change, last)


def refusal(parse: Callable[[Any], object], doc: Any) -> MalformedPayload | None:
    """The MalformedPayload a parser raised, or None when it parsed; anything else propagates."""
    try:
        parse(doc)
    except MalformedPayload as exc:
        return exc
    return None


WHATSAPP = fixtures("meta", "eum")
CONNECT = fixtures("connect")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(doc=mutated(WHATSAPP))
def test_mutated_whatsapp_payload_parses_or_is_malformed(doc: Any) -> None:
    for parse in (parse_whatsapp_document, classify):
        error = refusal(parse, doc)
        assert error is None or error.path
        assert error is None or error.source in ("whatsapp", "payload", "sns", "eum", "meta")


@SETTINGS
@given(doc=mutated(WHATSAPP))
def test_a_mutated_payload_that_parses_shows_every_message_or_names_what_it_left_out(
    doc: Any,
) -> None:
    try:
        batch = parse_whatsapp_document(doc)
    except MalformedPayload:
        return
    for message in batch.messages:
        # The agent sees words for it, or its file; an unreadable one says so.
        assert render_for_agent(message) or message.media is not None
        assert not message.unreadable or message.type is MessageType.UNKNOWN
    for reason in batch.unreadable:
        source, path, why = reason.split(": ", 2)
        assert source in ("eum", "meta")
        assert path
        assert why


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=mutated(CONNECT))
def test_mutated_connect_payload_parses_or_is_malformed(doc: Any) -> None:
    for parse in (parse_connect_document, classify):
        error = refusal(parse, doc)
        assert error is None or error.path
        assert error is None or error.source in ("connect", "payload", "sns")


@settings(max_examples=50, deadline=None)
@given(text=st.binary(max_size=64) | st.text(max_size=64))
def test_arbitrary_bytes_are_malformed_or_parsed(text: bytes | str) -> None:
    for parse in (parse_whatsapp_document, parse_connect_document):
        error = refusal(parse, text)
        assert error is None or error.path == "$"
