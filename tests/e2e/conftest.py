"""Helpers for replay tests: sample media on disk, hand-built payloads, and a replay in-process."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.media_samples import audio_file, image_file, pdf_file, video_file
from waconnect.sandbox import defaults
from waconnect.sandbox.replay import ReplayResult, replay

ANA = "15550100001"
BEN = "15550100002"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of small real files, one of each kind the bridge handles."""
    folder = tmp_path_factory.mktemp("media")
    files = {
        "photo.jpg": image_file("jpeg", width=96, height=72, seed=1),
        "picture.png": image_file("png", width=80, height=60, seed=2),
        "sticker.webp": image_file("webp", width=64, height=64, seed=3),
        "clip.mp4": video_file("mp4", seconds=1.0),
        "terms.pdf": pdf_file(("Terms and conditions", "Nothing to see here.")),
        "voice.ogg": audio_file("ogg-opus", seconds=3.5),
        "reply.wav": audio_file("wav16k", seconds=1.5),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Replayed:
    """A finished replay with ways to look at its lines."""

    result: ReplayResult

    @property
    def lines(self) -> list[dict[str, Any]]:
        return list(self.result.lines)

    @property
    def exit_code(self) -> int:
        return self.result.exit_code

    def at(self, step: int) -> list[dict[str, Any]]:
        return [line for line in self.result.lines if line["step"] == step]

    def where(self, **fields: Any) -> list[dict[str, Any]]:
        return [
            line
            for line in self.result.lines
            if all(line.get(key) == value for key, value in fields.items())
        ]

    def one(self, **fields: Any) -> dict[str, Any]:
        found = self.where(**fields)
        assert len(found) == 1, f"expected one line with {fields}, got {found}\n{self.dump()}"
        return found[0]

    def kept(self, suffix: str) -> list[Path]:
        return [path for path in self.result.kept if path.name.endswith(suffix)]

    def dump(self) -> str:
        return "\n".join(json.dumps(line, ensure_ascii=False) for line in self.result.lines)


def projected(lines: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """Each line cut down to ``keys`` (those it has), to compare with hand-written lines."""
    return [{key: line[key] for key in keys if key in line} for line in lines]


@pytest.fixture
def play(tmp_path: Path) -> Any:
    """Write ``steps`` as a scenario file and replay it in-process."""

    def run(steps: list[Any], *, keep: bool = False) -> Replayed:
        path = tmp_path / "scenario.json"
        path.write_text(json.dumps(steps, ensure_ascii=False), encoding="utf-8")
        result = replay(path, keep=tmp_path / "kept" if keep else None)
        return Replayed(result)

    return run


def eum_notification(
    message: dict[str, Any], *, customer: str = ANA, name: str = "Ana Example"
) -> dict[str, Any]:
    """A bare End User Messaging notification carrying one customer message (FACTS.md)."""
    entry = {
        "id": defaults.WABA_ID,
        "changes": [
            {
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": defaults.DISPLAY_PHONE_NUMBER,
                        "phone_number_id": defaults.META_PHONE_NUMBER_ID,
                    },
                    "contacts": [{"profile": {"name": name}, "wa_id": customer}],
                    "messages": [{"from": customer, "timestamp": "1764000002", **message}],
                },
            }
        ],
    }
    return {
        "context": {
            "MetaWabaIds": [{"wabaId": defaults.WABA_ID, "arn": defaults.WABA_ARN}],
            "MetaPhoneNumberIds": [
                {
                    "metaPhoneNumberId": defaults.META_PHONE_NUMBER_ID,
                    "arn": defaults.PHONE_NUMBER_ARN,
                }
            ],
        },
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": defaults.ACCOUNT_ID,
        "message_timestamp": "2026-11-24T10:15:30.123456789Z",
    }


def connect_notification(
    *, contact_id: str, content: str, role: str = "AGENT", event_id: str = ""
) -> dict[str, Any]:
    """A Connect streaming message as SNS delivers it over HTTP (FACTS.md)."""
    message = {
        "AbsoluteTime": "2026-11-24T10:16:01.000Z",
        "ContentType": "text/plain",
        "Id": event_id or "cccccccc-0000-4000-8000-000000000001",
        "Type": "MESSAGE",
        "ParticipantId": "bbbbbbbb-0000-4000-8000-00000000000a",
        "DisplayName": "Sam (agent)",
        "ParticipantRole": role,
        "InitialContactId": contact_id,
        "ContactId": contact_id,
        "Content": content,
    }
    attributes = {
        "InitialContactId": contact_id,
        "ContactId": contact_id,
        "ParticipantRole": role,
        "InstanceId": defaults.INSTANCE_ID,
        "AccountId": defaults.ACCOUNT_ID,
        "Type": "MESSAGE",
        "ContentType": "text/plain",
        "MessageVisibility": "ALL",
    }
    return {
        "Type": "Notification",
        "MessageId": "0b5f3c7e-1d2a-4e8b-9c6d-000000000001",
        "TopicArn": defaults.STREAMING_TOPIC_ARN,
        "Message": json.dumps(message),
        "Timestamp": "2026-11-24T10:16:01.100Z",
        "SignatureVersion": "1",
        "Signature": "RkFLRVNJR05BVFVSRWZvcnRlc3RzT05MWQ==",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem",
        "MessageAttributes": {
            key: {"Type": "String", "Value": value} for key, value in attributes.items()
        },
    }
