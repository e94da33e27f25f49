"""The composition root wires settings into the adapters: checked end to end on the emulators."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from tests.fakes import FakeClock
from tests.media_samples import audio_file

from waconnect.bootstrap import build_bridge
from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.routing import emulator_transport
from waconnect.settings import Settings

EVENTS = Path(__file__).resolve().parents[1] / "events"


def fake_session() -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=defaults.ACCESS_KEY_ID,
        aws_secret_access_key=defaults.SECRET_ACCESS_KEY,
        region_name=defaults.REGION,
    )


def sandbox_settings(cloud: Cloud, tmp_path: Path, **changes: Any) -> Settings:
    """The sandbox's settings on ``cloud``, with a state file in ``tmp_path`` and ``changes``."""
    settings = Settings.for_sandbox(
        endpoint_url=cloud.endpoint_url,
        s3_endpoint_url=cloud.s3_endpoint_url,
        state_path=str(tmp_path / "state.sqlite3"),
    )
    return dataclasses.replace(settings, **changes)


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with Cloud() as running:
        yield running


def test_a_meta_webhook_body_is_answered_from_the_mapped_eum_number(
    cloud: Any, tmp_path: Path
) -> None:
    # A Meta webhook body names the business number by its Meta id only; the sandbox settings
    # map that id to End User Messaging's, so the read receipt can be sent.
    settings = sandbox_settings(cloud, tmp_path)
    session = fake_session()
    bridge = build_bridge(settings, clock=FakeClock(), boto_session=session)
    body = json.loads((EVENTS / "meta" / "text.json").read_text(encoding="utf-8"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    assert "aws_phone_number_id" not in json.dumps(body)

    outcomes = bridge.handle_document(body)

    assert [o.kind for o in outcomes] == ["delivered"], outcomes
    receipts = [m for m in cloud.sent_messages() if m.get("status") == "read"]
    assert [r["message_id"] for r in receipts] == [message["id"]]


def test_with_read_receipts_off_neither_receipts_nor_typing_reach_the_customer(
    tmp_path: Path,
) -> None:
    # WhatsApp's typing indicator is a read receipt too: turning receipts off must silence both.
    with Cloud() as cloud:
        settings = sandbox_settings(cloud, tmp_path, mark_read=False)
        session = fake_session()
        bridge = build_bridge(settings, clock=FakeClock(), boto_session=session)
        cloud.inbound_topic.subscribe(bridge.handle_document)
        cloud.streaming_topic.subscribe(bridge.handle_document)
        customer = Customer(wa_id="15550100001", name="Ana")

        cloud.customer_sends(customer, {"type": "text", "text": {"body": "Hello"}})
        assert cloud.settle()
        contact_id = cloud.active_contact(customer.identity)
        assert contact_id is not None
        said = [
            m.get("Content") for m in cloud.transcript(contact_id) if m.get("Type") == "MESSAGE"
        ]
        assert said == ["Hello"]
        cloud.agent_sends_typing(contact_id)
        cloud.agent_sends_text(contact_id, "Hi Ana")
        assert cloud.settle()

        sent = cloud.sent_messages()
        assert [m.get("type") for m in sent] == ["text"]
        assert not [m for m in sent if m.get("status") == "read" or "typing_indicator" in m]


def test_the_voice_notes_language_setting_is_the_language_their_transcription_jobs_run_in(
    tmp_path: Path,
) -> None:
    with Cloud() as cloud:
        settings = sandbox_settings(cloud, tmp_path, language="pt-BR")
        session = fake_session()
        # Signed URLs have AWS's shapes; their connections go to the emulators.
        http = httpx.Client(transport=emulator_transport(lambda: cloud.endpoint_url), timeout=60)
        with (
            http,
            build_bridge(settings, clock=FakeClock(), boto_session=session, http=http) as bridge,
        ):
            cloud.inbound_topic.subscribe(bridge.handle_document)
            note = audio_file("ogg-opus", 1.0)
            media_id = cloud.register_media(None, note, "audio/ogg; codecs=opus")
            audio = {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}
            cloud.customer_sends(
                Customer(wa_id="15550100007", name="Bia"), {"type": "audio", "audio": audio}
            )
            assert cloud.settle()

        [job] = cloud.transcribe.jobs.values()
        assert job.language_code == "pt-BR"


def test_closing_the_bridge_releases_its_database_and_leaves_the_callers_client_open(
    tmp_path: Path,
) -> None:
    settings = Settings.for_sandbox(
        endpoint_url="http://127.0.0.1:9",
        s3_endpoint_url="http://127.0.0.1:9",
        state_path=str(tmp_path / "state.sqlite3"),
    )
    session = fake_session()
    callers_http = httpx.Client(timeout=60)
    event = json.loads((EVENTS / "connect" / "agent_text.json").read_text(encoding="utf-8"))
    wal = tmp_path / "state.sqlite3-wal"

    with build_bridge(settings, clock=FakeClock(), boto_session=session, http=callers_http) as b:
        # Looking the contact up opens the database (in WAL mode, with its -wal file).
        assert [o.kind for o in b.handle_document(event)] == ["ignored"]
        assert wal.exists()

    # SQLite removes the -wal file when the last connection to the database closes.
    assert not wal.exists()
    assert not callers_http.is_closed
    callers_http.close()
