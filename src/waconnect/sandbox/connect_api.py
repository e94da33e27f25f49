"""Emulated Amazon Connect: StartChatContact and StartContactStreaming."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from waconnect.sandbox import defaults, limits
from waconnect.sandbox.chats import ChatState, Contact, Participant
from waconnect.sandbox.protocol import ApiError, Call, Handler

logger = logging.getLogger(__name__)

_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")

# Where a bridge may put the customer's identity when it starts a chat.
_IDENTITY_ATTRIBUTES = ("customer", "customer_identity", "CustomerIdentity", "customerId")


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message, 400)


class ConnectApi:
    def __init__(
        self,
        *,
        chats: ChatState,
        contact_flow_id: str,
        topic_exists: Callable[[str], bool],
    ) -> None:
        self._chats = chats
        self._contact_flow_id = contact_flow_id
        self._topic_exists = topic_exists

    def handlers(self) -> dict[str, Handler]:
        return {
            "StartChatContact": self.start_chat_contact,
            "StartContactStreaming": self.start_contact_streaming,
        }

    def _check_instance(self, instance_id: str) -> None:
        if instance_id not in {self._chats.instance_id, self._instance_arn()}:
            raise ApiError("ResourceNotFoundException", f"instance {instance_id} not found", 404)

    def _instance_arn(self) -> str:
        region_account = f"{defaults.REGION}:{self._chats.account_id}"
        return f"arn:aws:connect:{region_account}:instance/{self._chats.instance_id}"

    def start_chat_contact(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        self._check_instance(params["InstanceId"])
        if params["ContactFlowId"] != self._contact_flow_id:
            raise ApiError(
                "ResourceNotFoundException",
                f"contact flow {params['ContactFlowId']} not found",
                404,
            )
        display_name = params["ParticipantDetails"]["DisplayName"]
        if not 1 <= len(display_name) <= 256:
            raise _invalid("ParticipantDetails.DisplayName must be 1 to 256 characters")
        content_types = params.get("SupportedMessagingContentTypes", [limits.TEXT_PLAIN])
        if limits.TEXT_PLAIN not in content_types:
            raise _invalid("SupportedMessagingContentTypes must include text/plain")
        unknown = set(content_types) - limits.CHAT_CONTENT_TYPES
        if unknown:
            raise _invalid(f"unsupported messaging content types {sorted(unknown)}")
        initial = params.get("InitialMessage")
        if initial is not None:
            if initial["ContentType"] not in content_types:
                raise _invalid("InitialMessage.ContentType is not a supported content type")
            if not 1 <= len(initial["Content"].encode("utf-8")) <= limits.CHAT_CONTENT_MAX_BYTES:
                raise _invalid(
                    f"InitialMessage.Content must be 1 to {limits.CHAT_CONTENT_MAX_BYTES} bytes"
                )
        _check_attributes(params.get("Attributes", {}))
        minutes = params.get("ChatDurationInMinutes", limits.DEFAULT_CHAT_MINUTES)
        if not 60 <= minutes <= 10080:
            raise _invalid("ChatDurationInMinutes must be between 60 and 10080")
        if "ChatStreamingConfiguration" in params:
            self._check_topic(params["ChatStreamingConfiguration"]["StreamingEndpointArn"])

        chats = self._chats
        with chats.lock:
            token = params.get("ClientToken")
            if token and token in chats.start_tokens:
                return dict(chats.start_tokens[token])
            if chats.active_chat_quota and chats.active_count() >= chats.active_chat_quota:
                raise ApiError(
                    "LimitExceededException",
                    "The quota for concurrent active chats has been exceeded",
                    429,
                )
            contact = self._new_contact(params, display_name, minutes, content_types)
            chats.add_contact(contact)
            chats.journal.record(
                to="system",
                kind="chat.started",
                customer=contact.customer,
                contact_id=contact.contact_id,
            )
            if "ChatStreamingConfiguration" in params:
                contact.topics.append(params["ChatStreamingConfiguration"]["StreamingEndpointArn"])
            if initial is not None:
                chats.add_item(
                    contact,
                    participant=contact.customer_participant,
                    kind="MESSAGE",
                    content_type=initial["ContentType"],
                    content=initial["Content"],
                )
                chats.journal.record(
                    to="agent",
                    kind="message",
                    contact_id=contact.contact_id,
                    content_type=initial["ContentType"],
                    text=initial["Content"],
                )
            result = {
                "ContactId": contact.contact_id,
                "ParticipantId": contact.customer_participant.participant_id,
                "ParticipantToken": contact.customer_participant.token,
            }
            if token:
                chats.start_tokens[token] = dict(result)
            logger.info("chat %s started", contact.contact_id)
            return result

    def _new_contact(
        self, params: Mapping[str, Any], display_name: str, minutes: int, types: list[str]
    ) -> Contact:
        chats = self._chats
        contact_id = chats.ids.uuid()
        participant = Participant(
            participant_id=chats.ids.uuid(),
            role="CUSTOMER",
            display_name=display_name,
            token=chats.ids.token(300),
        )
        now = chats.clock.now()
        return Contact(
            contact_id=contact_id,
            initial_contact_id=contact_id,
            customer=_customer_identity(params),
            started=now,
            ends_at=now + minutes * 60,
            customer_participant=participant,
            content_types=frozenset(types),
        )

    def _check_topic(self, arn: str) -> None:
        if not _SNS_ARN.match(arn) or arn.endswith(".fifo"):
            raise _invalid(f"StreamingEndpointArn {arn!r} is not a standard SNS topic ARN")
        if not self._topic_exists(arn):
            raise _invalid(f"StreamingEndpointArn {arn!r}: topic does not exist")

    def start_contact_streaming(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        self._check_instance(params["InstanceId"])
        arn = params["ChatStreamingConfiguration"]["StreamingEndpointArn"]
        self._check_topic(arn)
        chats = self._chats
        with chats.lock:
            contact = chats.contact(params["ContactId"])
            if contact.ended:
                raise ApiError("InvalidRequestException", "the contact is not active", 400)
            key = ("StartContactStreaming", params["ClientToken"])
            if key in contact.idempotent:
                return dict(contact.idempotent[key])
            if arn not in contact.topics:
                if len(contact.topics) >= limits.STREAMING_TOPICS_PER_CONTACT:
                    raise ApiError(
                        "LimitExceededException", "at most two streaming endpoints per contact", 429
                    )
                contact.topics.append(arn)
            result = {"StreamingId": chats.ids.uuid()}
            contact.idempotent[key] = dict(result)
            return result


def _check_attributes(attributes: Mapping[str, str]) -> None:
    bad = sorted(key for key in attributes if not _ATTRIBUTE_KEY.fullmatch(key))
    if bad:
        raise _invalid(
            f"attribute keys {bad} may hold only letters, digits, dashes and underscores"
        )
    size = sum(len(key.encode()) + len(value.encode()) for key, value in attributes.items())
    if size > limits.CONNECT_ATTRIBUTES_MAX_BYTES:
        raise _invalid(
            f"attributes take {size} UTF-8 bytes, over the {limits.CONNECT_ATTRIBUTES_MAX_BYTES}"
            " allowed per contact"
        )


def _customer_identity(params: Mapping[str, Any]) -> str | None:
    if params.get("CustomerId"):
        return str(params["CustomerId"])
    attributes: Mapping[str, str] = params.get("Attributes", {})
    for name in _IDENTITY_ATTRIBUTES:
        if attributes.get(name):
            return attributes[name]
    return None
