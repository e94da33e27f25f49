"""A document's messages, customer by customer, when a customer may be known by two ids.

WhatsApp names a customer by phone number (wa_id), by business-scoped user id (BSUID), or both.
Messages that share any id are one customer's: their work is serialised under every key the
customer is known under, and they wait behind the customer's kept messages as one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from waconnect.domain.session import SessionKey
from waconnect.domain.whatsapp import InboundMessage

KnownKeys = Callable[[InboundMessage], Sequence[SessionKey]]


def by_customer(
    messages: Iterable[InboundMessage], known_keys: KnownKeys
) -> list[tuple[list[str], list[InboundMessage]]]:
    """The messages of each customer, in order, with every key the customer is known under
    (``known_keys``, as ``InboundService.known_keys`` gives them)."""
    groups: list[tuple[list[str], list[InboundMessage]]] = []
    for message in messages:
        names = [str(key) for key in known_keys(message)]
        theirs = [group for group in groups if not set(group[0]).isdisjoint(names)]
        if not theirs:
            groups.append((names, [message]))
            continue
        known, mine = theirs[0]
        # A message carrying both ids may tie two groups together: one customer after all.
        for other in theirs[1:]:
            groups.remove(other)
            names += other[0]
            mine.extend(other[1])
        known.extend(dict.fromkeys(name for name in names if name not in known))
        mine.append(message)
    return groups
