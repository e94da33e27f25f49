"""A customer's Connect chat over its lifetime: open, keep the connection fresh, reopen when over.

The connection token lives a day while a chat may last a week, so it is refreshed from the
participant token before it expires. When Connect refuses a token (``SessionEnded``) it is
refreshed once; only if that is refused too is the chat over: the session is closed and a new
chat (next generation) carries the work that found the old one closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from waconnect.domain.failures import Failure
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.text import CONNECT_TEXT_LIMIT, split_text
from waconnect.domain.whatsapp import InboundMessage
from waconnect.errors import DeliveryError, SessionEnded
from waconnect.ports import Clock, ConnectChat, SessionStore
from waconnect.services.client_tokens import client_token
from waconnect.services.identity import knowing, link_ids
from waconnect.services.redact import mask

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ChatLifecycle:
    def __init__(self, *, sessions: SessionStore, connect: ConnectChat, clock: Clock) -> None:
        self._sessions = sessions
        self._connect = connect
        self._clock = clock

    def open_for(self, message: InboundMessage, key: SessionKey) -> ChatSession:
        """The open chat of the customer of ``key``, with a usable connection, started if there
        is none; it learns any id of the customer it did not know."""
        session = self._sessions.get(key)
        if session is None or session.ended:
            return self._start(message, key, previous=session)
        learnt = knowing(session, message.customer)
        if learnt is not session and self._sessions.save(learnt):
            session = learnt
        if session.needs_refresh(self._clock.now()):
            try:
                return self._refresh(session)
            except SessionEnded:
                return self._start(message, key, previous=self._close(session))
        return session

    def deliver(
        self, session: ChatSession, message: InboundMessage, send: Callable[[ChatSession], T]
    ) -> tuple[T, ChatSession]:
        """Run ``send`` in the chat; if the chat turns out to be over, run it in a new one.

        ``send`` must be idempotent per chat generation (ClientTokens make it so): after a
        refresh it runs again from the start. Returns its result and the session it ran in.
        """
        try:
            return self._call(session, send)
        except SessionEnded:
            current = self._sessions.get(session.key) or session
            fresh = self._start(message, current.key, previous=self._close(current))
            return send(fresh), fresh

    def call(self, session: ChatSession, send: Callable[[ChatSession], T]) -> T:
        """Run ``send`` with a fresh connection; ``SessionEnded`` once the chat is truly over."""
        result, _ = self._call(session, send)
        return result

    def _call(
        self, session: ChatSession, send: Callable[[ChatSession], T]
    ) -> tuple[T, ChatSession]:
        if session.needs_refresh(self._clock.now()):
            session = self._refresh(session)
        try:
            return send(session), session
        except SessionEnded:
            logger.info("connection refused for contact %s; refreshing once", session.contact_id)
        refreshed = self._refresh(session)
        return send(refreshed), refreshed

    def tell_agent(
        self, session: ChatSession, texts: Sequence[str], *, source: str, purpose: str
    ) -> None:
        """Post a notice (a failure, a failed status) into the chat, best effort: each text in
        as many messages as Connect needs.

        ``source`` is what the notice is about (a wamid, ``connect:<event id>``); with
        ``purpose`` and the chat generation it derives the ClientTokens, so a retry posts it
        once. A chat found over is closed; any other refusal is logged and nothing more.
        """

        parts = [part for text in texts for part in split_text(text, CONNECT_TEXT_LIMIT)]

        def send(current: ChatSession) -> None:
            for index, part in enumerate(parts):
                token = client_token(source, purpose, part=index, generation=current.generation)
                self._connect.send_message(current.connection_token, text=part, client_token=token)

        try:
            self.call(session, send)
        except SessionEnded:
            self.close(self._sessions.get(session.key) or session)
        except DeliveryError as exc:
            logger.warning("notice to contact %s not sent: %s", session.contact_id, exc)

    def tell_failure(
        self,
        session: ChatSession | None,
        failure: Failure,
        *,
        source: str,
        follow: Sequence[str] = (),
    ) -> None:
        """Tell the agent, when the chat is still open, what did not arrive (then ``follow``:
        what did, such as a caption of a file that failed)."""
        if session is None or session.ended or not failure.agent_text:
            return
        self.tell_agent(session, [failure.agent_text, *follow], source=source, purpose="failure")

    def current(self, key: SessionKey) -> ChatSession | None:
        """The customer's last chat as stored (it may have ended)."""
        return self._sessions.get(key)

    def close(self, session: ChatSession) -> ChatSession:
        return self._close(session)

    def _start(
        self, message: InboundMessage, key: SessionKey, *, previous: ChatSession | None
    ) -> ChatSession:
        generation = previous.generation + 1 if previous is not None else 1
        chat = self._connect.start_chat(
            business=message.business,
            customer=message.customer,
            client_token=client_token(message.wamid, "chat", generation=generation),
        )
        connection = self._connect.connect(chat.participant_token)
        customer = (
            message.customer if previous is None else knowing(previous, message.customer).customer
        )
        session = ChatSession(
            key=key,
            business=message.business,
            customer=customer,
            contact_id=chat.contact_id,
            participant_id=chat.participant_id,
            participant_token=chat.participant_token,
            connection_token=connection.token,
            connection_expiry=connection.expiry,
            generation=generation,
            started_at=self._clock.now(),
        )
        if not self._sessions.save(session):
            # Another worker stored a newer chat meanwhile: the customer's work goes there, and
            # the chat opened here is left to end by itself (nobody writes into it).
            stored = self._sessions.get(session.key)
            if stored is not None and not stored.ended:
                logger.warning(
                    "chat %s not kept: customer %s has chat %s",
                    chat.contact_id,
                    mask(message.customer.identity),
                    stored.contact_id,
                )
                return stored
        link_ids(self._sessions, session)
        logger.info(
            "chat %s started for customer %s (generation %d)",
            chat.contact_id,
            mask(message.customer.identity),
            generation,
        )
        return session

    def _refresh(self, session: ChatSession) -> ChatSession:
        connection = self._connect.connect(session.participant_token)
        refreshed = session.with_connection(connection.token, connection.expiry)
        if not self._sessions.save(refreshed):
            # The customer has a newer chat: an old one's connection must not overwrite it.
            logger.info("chat %s was replaced; its refresh is not kept", session.contact_id)
        logger.info("connection refreshed for contact %s", session.contact_id)
        return refreshed

    def _close(self, session: ChatSession) -> ChatSession:
        closed = session.closed()
        if not self._sessions.save(closed):
            # A newer chat is stored: it stays open; this old one is simply over.
            logger.info("chat %s is over (a newer chat is kept)", session.contact_id)
            return closed
        logger.info("chat %s is over", session.contact_id)
        return closed
