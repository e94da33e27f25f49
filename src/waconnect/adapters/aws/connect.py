"""ports.ConnectChat over Amazon Connect and its Participant Service (boto3 clients, injected).

Every call that takes a ClientToken gets one explicitly: botocore invents a random token when it
is omitted, and a random token turns a harmless retry into a duplicate message. Tokens the port
does not receive (streaming, completing an upload) are derived from the one it does.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from waconnect.adapters.aws.errors import translate_errors
from waconnect.domain.media import StoredMedia
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import DeliveryError, PermanentError
from waconnect.ports import Connection, DownloadedAttachment, NewChat

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient
    from mypy_boto3_connectparticipant import ConnectParticipantClient

    from waconnect.adapters.on_demand_adapters import TransfersOnDemand
    from waconnect.adapters.transfers import SignedUrlTransfers
    from waconnect.ports import Clock, MediaStore

logger = logging.getLogger(__name__)

CONNECT = "connect"
PARTICIPANT = "connectparticipant"
CLIENT_TOKEN_MAX = 500
DISPLAY_NAME_MAX = 256
DEFAULT_CHAT_DURATION_MINUTES = 1500  # Connect's own default: 25 hours
# Used only when Connect's Expiry cannot be read: a connection token lives one day.
FALLBACK_CONNECTION_SECONDS = 24 * 3600
SUPPORTED_CONTENT_TYPES = ("text/plain", "text/markdown")
# Retries come within minutes; the services' Ledger covers longer gaps and restarts.
COMPLETED_UPLOADS_KEPT = 1024


def masked_display_name(customer: Customer) -> str:
    """The customer's profile name, else their number with all but the last 4 digits hidden."""
    name = " ".join(customer.name.split())
    if name:
        return name[:DISPLAY_NAME_MAX]
    digits = customer.wa_id
    if len(digits) > 4:
        return f"WhatsApp +…{digits[-4:]}"
    return "WhatsApp customer"


def derived_token(client_token: str, suffix: str) -> str:
    """A second stable ClientToken for a step the caller's token does not cover."""
    token = f"{client_token}:{suffix}"
    if len(token) <= CLIENT_TOKEN_MAX:
        return token
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AwsConnectChat:
    """Start chats in an Amazon Connect instance and act as the customer's participant."""

    def __init__(
        self,
        connect_client: ConnectClient,
        participant_client: ConnectParticipantClient,
        transfers: SignedUrlTransfers | TransfersOnDemand,
        media_store: MediaStore,
        *,
        instance_id: str,
        contact_flow_id: str,
        streaming_topic_arn: str,
        clock: Clock,
        chat_duration_minutes: int = DEFAULT_CHAT_DURATION_MINUTES,
        display_name: Callable[[Customer], str] = masked_display_name,
        attributes: Mapping[str, str] | None = None,
        attachment_url_expiry_seconds: int = 60,
    ) -> None:
        self._connect = connect_client
        self._participant = participant_client
        self._transfers = transfers
        self._store = media_store
        self._instance_id = instance_id
        self._flow_id = contact_flow_id
        self._topic_arn = streaming_topic_arn
        self._clock = clock
        self._duration = chat_duration_minutes
        self._display_name = display_name
        self._attributes = dict(attributes or {})
        self._url_expiry = attachment_url_expiry_seconds
        # ClientToken -> AttachmentId of uploads this process completed, newest last.
        self._completed: OrderedDict[str, str] = OrderedDict()
        self._completed_lock = threading.Lock()

    # ---- Amazon Connect -----------------------------------------------------------------------

    def start_chat(
        self, *, business: BusinessNumber, customer: Customer, client_token: str
    ) -> NewChat:
        display_name = self._display_name(customer).strip()[:DISPLAY_NAME_MAX] or "WhatsApp"
        with translate_errors("StartChatContact", service=CONNECT):
            started = self._connect.start_chat_contact(
                InstanceId=self._instance_id,
                ContactFlowId=self._flow_id,
                ParticipantDetails={"DisplayName": display_name},
                Attributes=self._chat_attributes(business, customer),
                ClientToken=client_token,
                ChatDurationInMinutes=self._duration,
                SupportedMessagingContentTypes=list(SUPPORTED_CONTENT_TYPES),
            )
        chat = NewChat(
            contact_id=started["ContactId"],
            participant_id=started["ParticipantId"],
            participant_token=started["ParticipantToken"],
        )
        with translate_errors("StartContactStreaming", service=CONNECT):
            self._connect.start_contact_streaming(
                InstanceId=self._instance_id,
                ContactId=chat.contact_id,
                ChatStreamingConfiguration={"StreamingEndpointArn": self._topic_arn},
                ClientToken=derived_token(client_token, "streaming"),
            )
        logger.info("started chat %s", chat.contact_id)
        return chat

    def _chat_attributes(self, business: BusinessNumber, customer: Customer) -> dict[str, str]:
        ours = {
            "channel": "WhatsApp",
            "customer_identity": customer.identity,
            "wa_id": customer.wa_id,
            "wa_user_id": customer.user_id,
            "customer_name": customer.name,
            "business_phone_number": business.display_phone_number,
            "business_phone_number_id": business.meta_phone_number_id,
            "waba_id": business.waba_id,
        }
        return {**self._attributes, **{k: v for k, v in ours.items() if v}}

    # ---- Participant Service ------------------------------------------------------------------

    def connect(self, participant_token: str) -> Connection:
        with translate_errors("CreateParticipantConnection", service=PARTICIPANT):
            response = self._participant.create_participant_connection(
                Type=["CONNECTION_CREDENTIALS"],
                ParticipantToken=participant_token,
                ConnectParticipant=True,
            )
        credentials = response.get("ConnectionCredentials", {})
        token = credentials.get("ConnectionToken", "")
        if not token:
            raise PermanentError(
                "CreateParticipantConnection returned no ConnectionToken",
                operation="CreateParticipantConnection",
            )
        return Connection(token=token, expiry=self._expiry(credentials.get("Expiry", "")))

    def _expiry(self, iso: str) -> float:
        try:
            moment = datetime.fromisoformat(iso)
        except ValueError:
            logger.warning("unreadable connection Expiry %r; assuming one day", iso)
            return self._clock.now() + FALLBACK_CONNECTION_SECONDS
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()

    def send_message(self, connection_token: str, *, text: str, client_token: str) -> str:
        with translate_errors("SendMessage", service=PARTICIPANT):
            response = self._participant.send_message(
                ContentType="text/plain",
                Content=text,
                ClientToken=client_token,
                ConnectionToken=connection_token,
            )
        return response.get("Id", "")

    def send_event(
        self, connection_token: str, *, content_type: str, content: str, client_token: str
    ) -> str:
        with translate_errors("SendEvent", service=PARTICIPANT):
            if content:
                response = self._participant.send_event(
                    ContentType=content_type,
                    Content=content,
                    ClientToken=client_token,
                    ConnectionToken=connection_token,
                )
            else:
                # Content has a minimum length of 1: an event without one omits it.
                response = self._participant.send_event(
                    ContentType=content_type,
                    ClientToken=client_token,
                    ConnectionToken=connection_token,
                )
        return response.get("Id", "")

    def send_attachment(
        self, connection_token: str, media: StoredMedia, *, name: str, client_token: str
    ) -> str:
        with self._completed_lock:
            done = self._completed.get(client_token)
        if done is not None:
            # StartAttachmentUpload with this token would hand back the used upload URL: a
            # second PUT fails (or overwrites a file the agent already has).
            logger.debug("attachment %s already completed", done)
            return done
        with translate_errors("StartAttachmentUpload", service=PARTICIPANT):
            started = self._participant.start_attachment_upload(
                ContentType=media.content_type,
                AttachmentSizeInBytes=media.size,
                AttachmentName=name,
                ClientToken=client_token,
                ConnectionToken=connection_token,
            )
        attachment_id = started["AttachmentId"]
        upload = started["UploadMetadata"]
        try:
            with self._store.open(media) as chunks:
                self._transfers.put(
                    upload["Url"], upload.get("HeadersToInclude", {}), chunks, media.size
                )
        except PermanentError:
            # The URL refuses the upload. If an earlier process completed this very upload
            # (same token) and died before recording it, completing again is answered as the
            # first time: the file is in the chat. Otherwise the refusal stands.
            if not self._completed_before(connection_token, attachment_id, client_token):
                raise
            logger.info("attachment %s was completed by an earlier attempt", attachment_id)
            return attachment_id
        self._complete(connection_token, attachment_id, client_token)
        with self._completed_lock:
            self._completed[client_token] = attachment_id
            while len(self._completed) > COMPLETED_UPLOADS_KEPT:
                self._completed.popitem(last=False)
        logger.debug("attached %s (%d bytes)", attachment_id, media.size)
        return attachment_id

    def _complete(self, connection_token: str, attachment_id: str, client_token: str) -> None:
        with translate_errors("CompleteAttachmentUpload", service=PARTICIPANT):
            self._participant.complete_attachment_upload(
                AttachmentIds=[attachment_id],
                ClientToken=derived_token(client_token, "complete"),
                ConnectionToken=connection_token,
            )

    def _completed_before(self, connection_token: str, attachment_id: str, token: str) -> bool:
        try:
            self._complete(connection_token, attachment_id, token)
        except DeliveryError:
            return False
        return True

    def get_attachment(
        self, connection_token: str, attachment_id: str, *, name: str, content_type: str, key: str
    ) -> DownloadedAttachment:
        with translate_errors("GetAttachment", service=PARTICIPANT):
            response = self._participant.get_attachment(
                AttachmentId=attachment_id,
                ConnectionToken=connection_token,
                UrlExpiryInSeconds=self._url_expiry,
            )
        size = response.get("AttachmentSizeInBytes")
        with self._transfers.get(response["Url"], expected_size=size) as chunks:
            stored = self._store.put(key, chunks, content_type=content_type, filename=name)
        return DownloadedAttachment(stored=stored, name=name)

    def disconnect(self, connection_token: str, *, client_token: str) -> None:
        with translate_errors("DisconnectParticipant", service=PARTICIPANT):
            self._participant.disconnect_participant(
                ClientToken=client_token, ConnectionToken=connection_token
            )
