"""Documents the bridge keeps to hand in again, and the line a customer's messages wait in.

Where no queue keeps what could not be settled yet (the sandbox, the server), the bridge keeps
the whole document in its ``RetryStore``, naming the customers whose messages wait in it. Due
documents are handed in again by ``Bridge.run_due``, in the order they were first kept.

A customer's messages must reach the agent in the order sent, so a newer message of a customer
never overtakes their kept ones: before it is handled, the customer's older kept documents are
handed in (due or not, oldest first); if one of them still waits, the new message waits too,
kept behind it. A customer known by two ids (phone number and business-scoped user id) names
their documents under a key for each id a message carries: a message under either id finds
them. On Lambda, the SQS FIFO message group orders a customer's messages instead and
this store stays unused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from waconnect.ports import KeptDocument, RetryStore
from waconnect.services.outcome import Outcome

logger = logging.getLogger(__name__)

# Hands a kept document's text in again under its key: its outcomes, and the customers whose
# messages in it are still deferred.
HandIn = Callable[[str, str], tuple[list[Outcome], list[str]]]


def document_key(text: str) -> str:
    """The key a document is kept under: the same for every delivery of the same document."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_text(doc: Mapping[str, Any] | str | bytes) -> str:
    """A document as the text it is kept as."""
    if isinstance(doc, bytes):
        return doc.decode("utf-8", errors="replace")
    if isinstance(doc, str):
        return doc
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def next_try(outcomes: Sequence[Outcome]) -> float | None:
    """The soonest ``retry_after`` of the deferred outcomes; None when all settled."""
    waits = [o.retry_after for o in outcomes if not o.settled]
    return min(waits) if waits else None


def first_kept_order(lines: Sequence[Sequence[KeptDocument]]) -> list[KeptDocument]:
    """One line from several, each in the order its documents were first kept.

    A document named in several lines ties their orders together; of documents no line puts
    in order, the one in the earlier line goes first.
    """
    pending = [list(line) for line in lines if line]
    merged: list[KeptDocument] = []
    while pending:
        behind = {kept.key for line in pending for kept in line[1:]}
        # A head behind something in another line waits for it; if every head does (lines
        # kept in contradicting orders meanwhile), the first line's goes.
        head = next((line[0] for line in pending if line[0].key not in behind), pending[0][0])
        merged.append(head)
        pending = [rest for line in pending if (rest := [k for k in line if k.key != head.key])]
    return merged


class KeptDocuments:
    def __init__(self, store: RetryStore, *, clock: Callable[[], float]) -> None:
        self._store = store
        self._now = clock

    def keep_if_deferred(
        self, key: str, text: str, outcomes: Sequence[Outcome], customers: Sequence[str]
    ) -> None:
        """Keep the document when one of its items is deferred, for ``customers``."""
        wait = next_try(outcomes)
        if wait is not None:
            self._store.keep(key, text, due_at=self._now() + wait, customers=customers)

    def run_due(self, hand_in: HandIn, now: float) -> list[Outcome]:
        """Hand in every document due at ``now``; the outcomes, in order."""
        outcomes: list[Outcome] = []
        for kept in self._store.due(now):
            outcomes.extend(self._again(kept, hand_in, now))
        return outcomes

    def waits(self, customer: Sequence[str], key: str, hand_in: HandIn) -> bool:
        """Whether a customer's messages in the document ``key`` must wait: the customer's
        documents kept before it, under any of their names in ``customer``, are handed in
        first, oldest first, and one of them is still waiting."""
        older = self._older(customer, key)
        for kept in older:
            if next_try(self._again(kept, hand_in, self._now())) is not None:
                return True
        # Handed in and settled; unless another worker kept one again meanwhile.
        return bool(older) and bool(self._older(customer, key))

    def _older(self, customer: Sequence[str], key: str) -> list[KeptDocument]:
        line = first_kept_order([self._store.waiting(name) for name in customer])
        keys = [kept.key for kept in line]
        return line[: keys.index(key)] if key in keys else line

    def _again(self, kept: KeptDocument, hand_in: HandIn, now: float) -> list[Outcome]:
        """Hand ``kept`` in again: dropped once all its items settled, else kept for later."""
        outcomes, customers = hand_in(kept.document, kept.key)
        wait = next_try(outcomes)
        if wait is None:
            self._store.drop(kept.key)
        else:
            self._store.keep(kept.key, kept.document, due_at=now + wait, customers=customers)
        return outcomes
