"""WhatsApp statuses of messages the bridge sent: a ``failed`` one becomes a notice to the agent.

WhatsApp reports some refusals only later, as a ``failed`` status (131047 outside the 24-hour
window, 131053 media refused, 131026 undeliverable...). The message log knows which customer a
wamid the bridge sent belongs to; the notice goes into that customer's open chat, naming the
message by its words (when snippets are kept) and the reason in plain words. Other statuses
are only logged.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from waconnect.domain.failures import failure_from_whatsapp_error
from waconnect.domain.whatsapp import StatusKind, StatusUpdate, WhatsAppError
from waconnect.ports import Ledger, MessageLog, SessionStore
from waconnect.services.chats import ChatLifecycle
from waconnect.services.outcome import Outcome
from waconnect.services.redact import mask

logger = logging.getLogger(__name__)


class StatusNotices:
    def __init__(
        self,
        *,
        sessions: SessionStore,
        ledger: Ledger,
        log: MessageLog,
        chats: ChatLifecycle,
    ) -> None:
        self._sessions = sessions
        self._ledger = ledger
        self._log = log
        self._chats = chats

    def handle(self, status: StatusUpdate) -> Outcome:
        customer = status.recipient_user_id or status.recipient_id
        logger.info(
            "status %s for %s to %s", status.status.value, mask(status.wamid), mask(customer)
        )
        skipped = Outcome(
            kind="skipped",
            reason=f"status {status.status.value}",
            customer=customer,
            wamid=status.wamid,
        )
        if status.status is not StatusKind.FAILED:
            return skipped
        entry = self._log.recall(status.wamid)
        if entry is None or entry.author != "agent":
            # Not one of the agent's messages the bridge remembers (feedback, or too old).
            return skipped
        session = self._sessions.get(entry.key)
        error = status.errors[0] if status.errors else WhatsAppError(code=0)
        failure = replace(failure_from_whatsapp_error(error), quote=entry.snippet)
        logger.warning("message %s failed at WhatsApp: %s", mask(status.wamid), error.code)
        if session is None or session.ended:
            return Outcome(
                kind="failed", reason=failure.reason.value, customer=customer, failure=failure
            )
        if not self._ledger.claim(f"status-failed:{status.wamid}"):
            return Outcome(kind="duplicate", customer=customer, wamid=status.wamid)
        self._chats.tell_agent(session, [failure.agent_text], source=status.wamid, purpose="status")
        return Outcome(
            kind="failed",
            reason=failure.reason.value,
            customer=customer,
            contact_id=session.contact_id,
            wamid=status.wamid,
            failure=failure,
        )
