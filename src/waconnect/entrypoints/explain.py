"""``waconnect explain PAYLOAD...``: what captured payloads hold and what the bridge would do.

For each file: how it is wrapped, the business number, the customer (phone masked), each
message as the agent would see it, statuses with their error codes, and for Connect events
whether they reach the customer and why. Exit code 1 when any file is malformed or unreadable.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from waconnect.domain.connect import (
    INTERACTIVE_CONTENT_TYPE,
    AttachmentStatus,
    ConnectEvent,
    EventType,
    ParticipantRole,
    Visibility,
)
from waconnect.domain.whatsapp import BusinessNumber, InboundMessage, StatusKind, StatusUpdate
from waconnect.errors import MalformedPayload
from waconnect.services.redact import mask_phone
from waconnect.wire.inbound import (
    classify,
    detect_form,
    parse_connect_document,
    parse_whatsapp_document,
)
from waconnect.wire.sns import SnsSubscriptionMessage
from waconnect.wire.transcribe_event import parse_transcription_event

FORMS = {
    "sns-envelope": "SNS HTTP envelope",
    "lambda-sns": "Lambda SNS event",
    "eum": "bare End User Messaging notification",
    "meta-webhook": "Meta webhook body",
    "connect": "bare Connect streaming message",
    "eventbridge": "EventBridge event (Amazon Transcribe job state change)",
}

# What the common WhatsApp error codes mean for the people involved.
ERROR_MEANINGS = {
    131000: "something went wrong at Meta; retrying may work",
    131026: "undeliverable: the number may not be on WhatsApp or the app is too old",
    131047: "more than 24 hours since the customer last wrote: only a template can reach them",
    131048: "spam rate limit: too many messages were blocked or reported",
    131051: "a message type WhatsApp Business does not support",
    131052: "the customer's file could not be downloaded (over 100 MB?)",
    131053: "the file could not be uploaded: its type or encoding is not accepted",
    131056: "too many messages to this customer in a short time (pair rate limit)",
    131062: "this message cannot be sent to a business-scoped user id",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("payloads", nargs="+", type=Path, metavar="PAYLOAD", help="JSON files")
    parser.add_argument("--json", action="store_true", help="one JSON report per line")


def run(args: argparse.Namespace) -> int:
    failed = False
    for path in args.payloads:
        report = explain_file(path)
        failed = failed or "error" in report
        if args.json:
            print(json.dumps(report, ensure_ascii=False), flush=True)
        else:
            print("\n".join(_lines(report)), flush=True)
    return 1 if failed else 0


def explain_file(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"file": str(path)}
    try:
        raw = path.read_bytes()
        report["form"] = detect_form(raw)
        report["kind"] = classify(raw)
        if report["kind"] == "whatsapp":
            batch = parse_whatsapp_document(raw)
            report["source"] = batch.source
            report["messages"] = [_message(m) for m in batch.messages]
            report["statuses"] = [_status(s) for s in batch.statuses]
            report["left_out"] = list(batch.unreadable)
            report["ignored"] = list(batch.ignored)
        elif report["kind"] == "transcription":
            change = parse_transcription_event(raw)
            report["transcription"] = {"job": change.job, "status": change.status}
        else:
            report["events"] = [_event(e) for e in parse_connect_document(raw)]
    except SnsSubscriptionMessage as control:
        report["subscription"] = {"kind": control.kind, "topic_arn": control.topic_arn}
    except MalformedPayload as exc:
        report["error"] = {"source": exc.source, "path": exc.path, "reason": exc.reason}
    except OSError as exc:
        report["error"] = {
            "source": "file",
            "path": str(path),
            "reason": exc.strerror or "unreadable",
        }
    return report


def _business(business: BusinessNumber) -> dict[str, str]:
    return {
        "meta_phone_number_id": business.meta_phone_number_id,
        "display_phone_number": business.display_phone_number,
        "waba_id": business.waba_id,
        "aws_phone_number_id": business.aws_phone_number_id,
    }


def _message(message: InboundMessage) -> dict[str, Any]:
    # Rendering is only needed once a message is found; the CLI imports this module eagerly.
    from waconnect.domain.render import render_for_agent  # noqa: PLC0415

    customer = message.customer
    item: dict[str, Any] = {
        "wamid": message.wamid,
        "type": message.type.value,
        "wire_type": message.wire_type,
        "business": _business(message.business),
        # The bridge keys a chat on the BSUID when there is one, so that is who they are here.
        "customer": mask_phone(customer.user_id) or mask_phone(customer.wa_id),
        "customer_name": customer.name,
        "identified_by": _identified_by(customer.wa_id, customer.user_id),
        "agent_sees": render_for_agent(message, quoted=None),
    }
    if message.media is not None:
        item["file"] = {
            "media_id": message.media.media_id,
            "mime_type": message.media.mime_type,
            "filename": message.media.filename,
        }
    if message.is_reply and message.context is not None:
        item["reply_to"] = message.context.message_id
    if message.is_forwarded:
        item["forwarded"] = True
    return item


def _identified_by(wa_id: str, user_id: str) -> str:
    if not user_id:
        return "wa_id"
    if wa_id:
        return f"user_id (BSUID); their phone number is also known ({mask_phone(wa_id)})"
    return "user_id (BSUID)"


def _status(status: StatusUpdate) -> dict[str, Any]:
    return {
        "wamid": status.wamid,
        "status": status.status.value,
        "bridge_does": _status_effect(status),
        "business": _business(status.business),
        "recipient": mask_phone(status.recipient_id) or mask_phone(status.recipient_user_id),
        "errors": [
            {
                "code": error.code,
                "title": error.title,
                "meaning": ERROR_MEANINGS.get(error.code)
                or error.details
                or error.message
                or "no details given",
            }
            for error in status.errors
        ],
    }


def _status_effect(status: StatusUpdate) -> str:
    if status.status is StatusKind.FAILED:
        return (
            "tells the agent, in the customer's open chat, that their message did not arrive "
            "(when it is an agent's message the bridge remembers)"
        )
    return f"ignored: only a failed status changes anything; a {status.status.value} one is logged"


def _event(event: ConnectEvent) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type.value,
        "role": event.role.value,
        "content_type": event.content_type,
        "contact_id": event.contact_id,
        "initial_contact_id": event.initial_contact_id,
        "visibility": event.visibility.value,
        "to_customer": event.for_customer,
        "why": _routing(event),
        "customer_gets": _customer_gets(event) if event.for_customer else "nothing",
        "session": _session_effect(event),
    }


def _session_effect(event: ConnectEvent) -> str:
    if event.event_name == "chat.ended":
        return "closed: Connect ended the chat"
    if event.event_name == "participant.left" and event.role is ParticipantRole.CUSTOMER:
        return "closed: the bridge's own customer participant left"
    return "unchanged"


def _routing(event: ConnectEvent) -> str:
    if event.role is ParticipantRole.CUSTOMER:
        return "the customer's own activity echoed back (role CUSTOMER)"
    if event.visibility not in (Visibility.CUSTOMER, Visibility.ALL):
        return f"MessageVisibility {event.visibility.value}: not meant for the customer"
    return f"MessageVisibility {event.visibility.value} and role {event.role.value}"


def _customer_gets(event: ConnectEvent) -> str:
    if event.type is EventType.MESSAGE:
        # What the bridge sends: the same conversions as services/outbound_plan.py, run here.
        from waconnect.domain.markdown import markdown_to_whatsapp  # noqa: PLC0415
        from waconnect.domain.whatsapp import Customer  # noqa: PLC0415
        from waconnect.services.interactive import (  # noqa: PLC0415
            interactive_as_text,
            interactive_choices,
        )

        content_type = event.content_type.split(";", 1)[0].strip().lower()
        if content_type == INTERACTIVE_CONTENT_TYPE:
            choices = interactive_choices(event.content, Customer(wa_id="0"))
            if choices is not None:
                shape = f"a list ({choices.button})" if choices.as_list else "reply buttons"
                titles = " | ".join(choice.title for choice in choices.choices)
                return f"{choices.body} with {shape}: {titles}"
            text = interactive_as_text(event.content)
            if not text.strip():
                return "nothing: no readable text in the interactive message (the agent is told)"
            return f"its options as readable text: {text}"
        if content_type == "text/markdown":
            return f"text in WhatsApp formatting: {markdown_to_whatsapp(event.content)}"
        if content_type == "text/plain":
            return f"text: {event.content}" if event.content.strip() else "nothing: empty message"
        return f"nothing: {content_type} has no WhatsApp form"
    if event.type is EventType.ATTACHMENT:
        parts = []
        for attachment in event.attachments:
            if attachment.status is AttachmentStatus.APPROVED:
                parts.append(f"the file {attachment.name} ({attachment.content_type})")
            elif attachment.status is AttachmentStatus.IN_PROGRESS:
                parts.append(f"nothing yet: {attachment.name} is still being scanned")
            else:
                parts.append(f"nothing: {attachment.name} was {attachment.status.value}")
        return "; ".join(parts) or "nothing: no attachment listed"
    return _EVENT_OUTCOMES.get(event.event_name, "nothing")


_EVENT_OUTCOMES = {
    "typing": "a typing indicator",
    "message.read": "their messages marked read",
    "chat.ended": "nothing; the chat's session is closed",
    "participant.left": "nothing; an agent leaving is not the end of the chat (transfers)",
    "participant.joined": "nothing",
}


def _lines(report: dict[str, Any]) -> list[str]:
    lines = [str(report["file"])]
    if "form" in report:
        source = f" (source: {report['source']})" if "source" in report else ""
        lines.append(f"  form: {FORMS.get(report['form'], report['form'])}{source}")
    if "subscription" in report:
        control = report["subscription"]
        lines.append(f"  SNS {control['kind']} for {control['topic_arn']}: confirm, don't process")
    for number, message in enumerate(report.get("messages", []), 1):
        lines.append(f"  message {number}: {message['type']} {message['wamid']}")
        lines.append(f"    business: {_describe_business(message['business'])}")
        name = f" ({message['customer_name']})" if message["customer_name"] else ""
        lines.append(f"    customer: {message['customer']}{name} by {message['identified_by']}")
        if "file" in message:
            file = message["file"]
            lines.append(f"    file: media id {file['media_id']} {file['mime_type']}".rstrip())
        lines.extend(f"    agent sees: {line}" for line in message["agent_sees"].splitlines())
        if "file" in message:
            lines.append("    agent gets: the file as an attachment, converted by the media policy")
    for status in report.get("statuses", []):
        lines.append(f"  status {status['status']} of {status['wamid']} to {status['recipient']}")
        lines.append(f"    business: {_describe_business(status['business'])}")
        lines.extend(f"    error {_error_head(e)}: {e['meaning']}" for e in status["errors"])
        effect = status["bridge_does"]
        lines.append(f"    {effect}" if effect.startswith("ignored") else f"    bridge: {effect}")
    if "transcription" in report:
        job = report["transcription"]
        lines.append(f"  transcription job {job['job']} {job['status']}")
        lines.append(
            "    the bridge sends the voice note's transcript to the agent's chat, then quotes it "
            "to the customer (COMPLETED), or nothing (FAILED, or the chat ended meanwhile)"
        )
    for problem in report.get("left_out", []):
        lines.append(f"  left out, unreadable (reported as rejected, the rest goes on): {problem}")
    lines.extend(f"  ignored: {part}" for part in report.get("ignored", []))
    for event in report.get("events", []):
        lines.append(f"  {event['type']} {event['content_type']} from {event['role']}")
        verdict = "goes to the customer" if event["to_customer"] else "does not go to the customer"
        lines.append(f"    {verdict}: {event['why']}")
        first, *more = str(event["customer_gets"]).splitlines() or [""]
        lines.append(f"    customer gets: {first}")
        lines.extend(f"      {line}" for line in more)
        if event["session"] != "unchanged":
            lines.append(f"    session: {event['session']}")
    if "error" in report:
        error = report["error"]
        lines.append(f"  MALFORMED ({error['source']}) at {error['path']}: {error['reason']}")
    return lines


def _error_head(error: dict[str, Any]) -> str:
    return f"{error['code']} ({error['title']})" if error["title"] else str(error["code"])


def _describe_business(business: dict[str, str]) -> str:
    parts = [f"phone number id {business['meta_phone_number_id']}"]
    if business["display_phone_number"]:
        parts.append(f"+{business['display_phone_number'].lstrip('+')}")
    if business["waba_id"]:
        parts.append(f"WABA {business['waba_id']}")
    if business["aws_phone_number_id"]:
        parts.append(f"EUM {business['aws_phone_number_id']}")
    return ", ".join(parts)
