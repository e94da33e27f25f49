"""The in-memory fakes the services run on, built once for the unit tests that drive them.

A test module subclasses :class:`Ports` into its own ``World`` and adds what only it needs (the
service or bridge it drives, its helpers); the fakes themselves and their wiring live here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes import (
    FakeClock,
    InMemoryLedger,
    InMemoryMediaStore,
    InMemoryMessageLog,
    InMemorySessionStore,
)
from tests.fakes_remote import RecordingConnectChat, RecordingConverter, RecordingWhatsApp
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.services.client_tokens import client_token
from waconnect.services.inbound import InboundService
from waconnect.services.outbound import OutboundService
from waconnect.services.ports_bundle import BridgePorts


class Ports:
    """One of each fake port, all on one clock and one media store."""

    def __init__(
        self,
        *,
        whatsapp: Callable[[InMemoryMediaStore], RecordingWhatsApp] = RecordingWhatsApp,
        connect: type[RecordingConnectChat] = RecordingConnectChat,
        log: InMemoryMessageLog | None = None,
    ) -> None:
        self.clock = FakeClock()
        self.store = InMemoryMediaStore()
        self.sessions = InMemorySessionStore()
        self.ledger = InMemoryLedger(clock=self.clock)
        self.log = InMemoryMessageLog(clock=self.clock) if log is None else log
        self.whatsapp = whatsapp(self.store)
        self.connect = connect(self.store, clock=self.clock)
        self.converter = RecordingConverter(self.store)

    def wiring(self) -> BridgePorts:
        """The ports InboundService and OutboundService both take."""
        return BridgePorts(
            sessions=self.sessions,
            ledger=self.ledger,
            media=self.store,
            whatsapp=self.whatsapp,
            connect=self.connect,
            converter=self.converter,
            clock=self.clock,
            message_log=self.log,
        )

    def open_chat_for(self, business: BusinessNumber, customer: Customer) -> ChatSession:
        """A chat already open in Connect, with its session saved, as after a first message."""
        chat = self.connect.start_chat(
            business=business, customer=customer, client_token=client_token("wamid.0", "chat")
        )
        connection = self.connect.connect(chat.participant_token)
        session = ChatSession(
            key=SessionKey.of(business, customer),
            business=business,
            customer=customer,
            contact_id=chat.contact_id,
            participant_id=chat.participant_id,
            participant_token=chat.participant_token,
            connection_token=connection.token,
            connection_expiry=connection.expiry,
        )
        self.sessions.save(session)
        return session


def inbound_service(ports: Ports, **options: Any) -> InboundService:
    return InboundService(ports.wiring(), **options)


def outbound_service(ports: Ports, **options: Any) -> OutboundService:
    return OutboundService(ports.wiring(), **options)
