"""The Meta message a scenario's customer step sends, with its media registered first."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from waconnect.sandbox.kept_files import FileKeeper
from waconnect.sandbox.scenario_steps import (
    CustomerAction,
    CustomerFile,
    CustomerLocation,
    CustomerMessage,
    CustomerText,
    MediaFile,
    Step,
    StepFailed,
)
from waconnect.sandbox.step_labels import StepLabels

if TYPE_CHECKING:
    from waconnect.sandbox.cloud import Cloud


class CustomerMessages:
    """Builds customer steps' messages; ``reply_to`` labels resolve through ``labels``."""

    def __init__(self, *, cloud: Cloud, labels: StepLabels, keeper: FileKeeper | None) -> None:
        self._cloud = cloud
        self._labels = labels
        self._keeper = keeper

    def message_for(self, action: CustomerAction, step: Step) -> dict[str, Any]:
        match action:
            case CustomerText(text=text, reply_to=reply_to):
                message: dict[str, Any] = {"type": "text", "text": {"body": text}}
                return self._with_reply(message, reply_to, step)
            case CustomerFile(file=file, kind=kind):
                media_id = self._register_one(file)
                body: dict[str, Any] = {"id": media_id, "mime_type": file.mime_type}
                if action.caption:
                    body["caption"] = action.caption
                if action.filename:
                    body["filename"] = action.filename
                if action.voice:
                    body["voice"] = True
                if kind == "sticker":
                    body["animated"] = False
                return {"type": kind, kind: body}
            case CustomerLocation():
                location: dict[str, Any] = {
                    "latitude": action.latitude,
                    "longitude": action.longitude,
                }
                if action.name:
                    location["name"] = action.name
                if action.address:
                    location["address"] = action.address
                return {"type": "location", "location": location}
            case CustomerMessage(message=given, media=media, reply_to=reply_to):
                self.register(media)
                return self._with_reply(copy.deepcopy(given), reply_to, step)
        raise StepFailed(f"{step.where}: not a customer action")

    def _with_reply(self, message: dict[str, Any], label: str, step: Step) -> dict[str, Any]:
        if not label:
            return message
        found = self._labels.message(label)
        if found is None:
            raise StepFailed(
                f"{step.where}: field 'reply_to': step {label!r} sent no message (reply_to "
                "names a customer step or raw WhatsApp payload, or an agent step or raw Connect "
                "payload the bridge sent a WhatsApp message for)"
            )
        wamid, sender = found
        reaction = message.get("reaction")
        if message.get("type") == "reaction" and isinstance(reaction, dict):
            reaction.setdefault("message_id", wamid)
        else:
            message["context"] = {"from": sender, "id": wamid}
        return message

    def register(self, media: Iterable[MediaFile], *, business: str | None = None) -> None:
        """Files a step names, held by the WhatsApp emulator under their media ids for the
        business number (a Meta phone number id; the sandbox's own by default)."""
        for file in media:
            self._register_one(file, business=business)

    def _register_one(self, file: MediaFile, *, business: str | None = None) -> str:
        media_id = self._cloud.register_media(
            file.media_id or None, file.path, file.mime_type, business=business
        )
        if self._keeper is not None:
            self._keeper.copy(f"from-customer-{file.path.name}", file.path)
        return media_id


def replay_wamid(seed: int, step: Step) -> str:
    """A wamid for racing copies of one message: fixed by the seed and the step's place."""
    digest = hashlib.sha256(f"{seed}:{step.where}".encode()).digest()[:20]
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18" + digest).decode("ascii")
