"""Hostile payloads (lone surrogates, huge strings, extreme numbers, deep nesting, wrong types)
through ``explain`` and the bridge, and broken scenario files through ``replay``: the only
outcomes are the documented ones.

- ``explain`` prints a report for every file and exits 0, or 1 naming the malformed part.
- The bridge returns outcomes and never raises; a malformed document is one ``rejected``
  outcome; whatever reaches the agent is valid UTF-8 and comes in a bounded number of parts.
- ``replay`` exits 2 with a reason for a file that is not a scenario at all.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.domain.render import AGENT_TEXT_LIMIT
from waconnect.domain.text import CONNECT_TEXT_LIMIT
from waconnect.entrypoints import explain
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.sandbox.replay import replay

EVENTS = Path(__file__).resolve().parents[1] / "events"
OUTCOMES = {"delivered", "duplicate", "skipped", "ignored", "rejected", "failed", "deferred"}
# The most parts one message can become: the capped text split for Connect (each part at least
# half full), and its notice.
MAX_PARTS = 2 * AGENT_TEXT_LIMIT // CONNECT_TEXT_LIMIT + 2


def fixtures() -> list[Any]:
    docs = []
    for source in ("meta", "eum", "connect"):
        for path in sorted((EVENTS / source).glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("Type") != "SubscriptionConfirmation":
                docs.append(doc)
    return docs


DOCS = fixtures()

hostile_text = st.one_of(
    st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud800", "\x00\x1b[2J", "\u202egnp.exe"]),
    st.builds(lambda n, c: c * n, st.sampled_from([5_000, 70_000]), st.sampled_from("x é🙂")),
    st.text(max_size=20),
)
hostile_number = st.sampled_from(
    [10**30, -(10**30), 2**63, -1, 0, 1e308, -1e308, 1.5, 253_402_300_800, 99999999999999999999]
)
hostile_value = st.one_of(
    hostile_text,
    hostile_number,
    st.none(),
    st.booleans(),
    st.lists(hostile_text, max_size=2),
    st.dictionaries(hostile_text, hostile_text, max_size=2),
)


def leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(leaf_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(leaf_paths(child, (*prefix, index)))
    elif isinstance(value, str) and value[:1] == "{":
        with contextlib.suppress(ValueError):
            found.extend(leaf_paths(json.loads(value), (*prefix, "<json>")))
    return found


def put(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    step, rest = path[0], path[1:]
    if step == "<json>":
        return json.dumps(put(json.loads(value), rest, new))
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[step] = put(value[step], rest, new)
    return copy


@st.composite
def hostile_documents(draw: st.DrawFn) -> str:
    """A fixture with a few of its values (or keys' values deep in nested JSON) replaced, as
    the JSON text a sender would post: surrogates stay escapes, as they travel."""
    doc = draw(st.sampled_from(DOCS))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(leaf_paths(doc)))
        doc = put(doc, path, draw(hostile_value))
    text = json.dumps(doc)
    if draw(st.booleans()) and '"' in text:
        # Deep nesting, spliced in as text: no encoder would write it.
        depth = draw(st.sampled_from([50, 5_000, 200_000]))
        text = text.replace('""', "[" * depth + "]" * depth, 1)
    return text


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(text=hostile_documents())
def test_explain_reports_every_hostile_payload(text: str, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("explain") / "payload.json"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()

    for as_json in (False, True):
        with contextlib.redirect_stdout(out):
            code = explain.run(argparse.Namespace(payloads=[path], json=as_json))
        assert code in (0, 1)

    printed = out.getvalue()
    printed.encode("utf-8")  # printable as it stands: no surrogate reached the terminal
    assert str(path) in printed
    assert (code == 1) == ("MALFORMED" in printed)


class World(Ports):
    def __init__(self) -> None:
        super().__init__()
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=1),
            sleep=lambda _: None,
        )


@SETTINGS
@given(text=hostile_documents())
def test_the_bridge_answers_every_hostile_payload_with_outcomes(text: str) -> None:
    world = World()

    outcomes = world.bridge.handle_document(text)

    # No outcome at all is right for a document with nothing for the bridge (another field).
    assert {o.kind for o in outcomes} <= OUTCOMES
    assert all(o.reason for o in outcomes if o.kind in ("rejected", "ignored"))
    for chat in world.connect.chats.values():
        messages = chat.messages()
        assert len(messages) <= MAX_PARTS * len(outcomes)
        for message in messages:
            message.encode("utf-8")
            assert len(message) <= CONNECT_TEXT_LIMIT
        chat.customer.name.encode("utf-8")


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_malformed_for_the_bridge_and_explain(depth: int, tmp_path: Path) -> None:
    text = '{"object": "whatsapp_business_account", "entry": ' + "[" * depth + "]" * depth + "}"
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")

    [outcome] = World().bridge.handle_document(text)
    report = explain.explain_file(path)

    assert outcome.kind == "rejected"
    assert "error" in report


# ---- scenario files ------------------------------------------------------------------------

not_a_scenario = st.one_of(
    st.binary(max_size=64).filter(lambda b: not b.strip().startswith(b"[")),
    st.sampled_from(
        [
            b"",
            b"{}",
            b'{"steps": []}',
            b"null",
            b"42",
            b'"\\ud800"',
            b"\xff\xfe[]",
            b"[" * 100_000 + b"]" * 100_000,
            b"[1, 2",
        ]
    ),
)


@settings(max_examples=60, deadline=None)
@given(raw=not_a_scenario)
def test_a_file_that_is_no_scenario_exits_2_with_a_reason(
    raw: bytes, tmp_path_factory: Any
) -> None:
    path = tmp_path_factory.mktemp("scenario") / "bad.json"
    path.write_bytes(raw)

    result = replay(path)

    assert result.exit_code == 2
    assert str(path) in result.problem
    assert result.lines == ()


def test_a_missing_scenario_file_exits_2_with_a_reason(tmp_path: Path) -> None:
    result = replay(tmp_path / "absent.json")
    assert (result.exit_code, "cannot read" in result.problem) == (2, True)
