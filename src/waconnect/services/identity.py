"""One session per customer, whichever of their ids a message carries.

A customer may be known by phone number (wa_id), by business-scoped user id (BSUID), or both.
The session is stored under the key it was first opened with; when a message carries both ids,
the other id's key is linked to it, so later messages with either one find the same chat. A
session that knew only one id learns the other, so sends use ``to`` = the wa_id when known.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.ports import SessionStore
from waconnect.services.redact import mask

logger = logging.getLogger(__name__)


def identity_keys(business: BusinessNumber, customer: Customer) -> list[SessionKey]:
    """One key per id ``customer`` carries: the business-scoped user id's first."""
    return [
        SessionKey(business_number=business.meta_phone_number_id, customer=identity)
        for identity in (customer.user_id, customer.wa_id)
        if identity
    ]


def session_key(sessions: SessionStore, business: BusinessNumber, customer: Customer) -> SessionKey:
    """The key of the customer's session: the one already stored under either id, linking the
    other id to it when the message carries both; for a new customer, the usual key.

    Nothing is linked before a session is stored: a link to a key with no session yet would
    hide the chat a message carrying only the other id opens meanwhile (``link_ids`` links
    them once the chat is saved).
    """
    keys = identity_keys(business, customer)
    found = [(key, sessions.get(key)) for key in keys]
    stored = [session.key for _, session in found if session is not None]
    if not stored:
        return SessionKey.of(business, customer)
    canonical = stored[0]
    for key, session in found:
        if key != canonical and (session is None or session.key != canonical):
            link(sessions, key, canonical)
    return canonical


def link_ids(sessions: SessionStore, session: ChatSession) -> None:
    """Link every other id the session's customer is known by to its key (a chat just saved)."""
    for key in identity_keys(session.business, session.customer):
        if key != session.key:
            link(sessions, key, session.key)


def link(sessions: SessionStore, alias: SessionKey, key: SessionKey) -> None:
    sessions.link(alias, key)
    logger.info("customer %s linked to %s", mask(alias.customer), mask(key.customer))


def known_keys(
    sessions: SessionStore, business: BusinessNumber, customer: Customer
) -> list[SessionKey]:
    """Every key the customer is known under: one per id ``customer`` carries, and their
    session's with its customer's (which may know an id this message lacks). Reads only."""
    keys = identity_keys(business, customer)
    for key in list(keys):
        session = sessions.get(key)
        if session is not None:
            keys += [session.key, *identity_keys(business, session.customer)]
    return list(dict.fromkeys(keys))


def knowing(session: ChatSession, customer: Customer) -> ChatSession:
    """``session`` with the ids and name ``customer`` adds (a phone number learnt later)."""
    known = session.customer
    merged = Customer(
        wa_id=known.wa_id or customer.wa_id,
        user_id=known.user_id or customer.user_id,
        name=customer.name or known.name,
    )
    return session if merged == known else replace(session, customer=merged)
