"""How a replay hands documents to the bridge: raw payload steps and the emulators' notifications.

Each goes through the bridge's general entry, as SNS or Lambda would deliver it; the bridge's
own refusals (ignored, rejected, failed outcomes) are written into the emulators' journal the
moment they come back, so they keep their place among the effects.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from waconnect.errors import MalformedPayload
from waconnect.sandbox.bridge_host import BridgeFailed, BridgeHost, BridgeLost, seen
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.scenario_steps import Step, StepFailed
from waconnect.sandbox.step_labels import StepLabels
from waconnect.wire.inbound import classify, detect_form, parse_whatsapp_document
from waconnect.wire.sns import SnsSubscriptionMessage

if TYPE_CHECKING:
    from waconnect.sandbox.cloud import Cloud
    from waconnect.sandbox.lambda_local import LocalLambda

logger = logging.getLogger(__name__)

# SNS retries an HTTP endpoint that failed; replay delivers again to another bridge process.
DELIVERY_ATTEMPTS = 4
# Real seconds before delivering again a document the bridge answered with a TransientError,
# times the attempt: the busy store or service gets a moment to free up.
TRANSIENT_PAUSE_SECONDS = 0.25
# Outcomes a reader of the replay must see; delivered/duplicate/skipped show through the
# emulators' own effects (or, for a duplicate, through the absence of any).
_VISIBLE_OUTCOMES = frozenset({"ignored", "rejected", "failed"})


def journal_outcomes(journal: Journal, outcomes: Iterable[object]) -> None:
    """The outcomes a reader of the replay must see, as ``system`` lines."""
    for outcome in map(seen, outcomes):
        if outcome.kind not in _VISIBLE_OUTCOMES:
            continue
        journal.record(
            to="system",
            kind=outcome.kind,
            customer=outcome.customer or None,
            contact_id=outcome.contact_id or None,
            reason=outcome.reason or None,
        )


class Deliveries:
    """Delivers to one bridge host (in process or worker processes) or the Lambda harness.

    ``failed`` is called when a delivery could not be made to work (the replay's exit code);
    ``watch`` sees each notification (source, SNS envelope) just before the bridge does.
    """

    def __init__(
        self,
        *,
        cloud: Cloud,
        labels: StepLabels,
        failed: Callable[[], None],
        watch: Callable[[str, str], None] | None = None,
    ) -> None:
        self._cloud = cloud
        self._labels = labels
        self._failed = failed
        self._watch = watch
        self._host: BridgeHost | None = None
        self._harness: LocalLambda | None = None

    def use_host(self, host: BridgeHost) -> None:
        """Deliver straight to this bridge (in process or worker processes)."""
        self._host = host

    def use_harness(self, harness: LocalLambda) -> None:
        """Deliver through the Lambda harness's functions and queues instead."""
        self._harness = harness

    def payload(self, document: dict[str, Any], step: Step) -> None:
        """Hand a raw payload step to the bridge's entry function, as SNS or Lambda would."""
        if self._harness is not None:
            self._harness.publish(document)
            return
        try:
            classify(document)
        except SnsSubscriptionMessage:
            pass  # routine: the bridge answers a subscription handshake and processes nothing
        except MalformedPayload as exc:
            try:
                detect_form(document)
            except MalformedPayload:
                raise StepFailed(
                    f"{step.where}: not a sandbox action ('action'), nor a payload the bridge "
                    f"recognises: {exc}"
                ) from exc
            # A known wrapping with a broken inside: the bridge's refusal is the observation.
        self._call_bridge(document)

    def note_payload(self, document: dict[str, Any], step: Step) -> str | None:
        """Before a raw WhatsApp payload is delivered: tell the emulator whose each wamid is and,
        for a Meta webhook body, which business numbers it arrived on; name the first message
        by the step's label. Returns the Meta phone number id of that first message's number."""
        try:
            batch = parse_whatsapp_document(document)
        except (MalformedPayload, SnsSubscriptionMessage):
            return None  # the bridge's own refusal (or confirmation) is what the output shows
        for message in batch.messages:
            if batch.source == "meta":
                self._cloud.note_business_number(message.business)
            self._cloud.note_customer_message(message.wamid, message.customer)
        if not batch.messages:
            return None
        first = batch.messages[0]
        if step.label:
            self._labels.name(step.label, first.wamid, first.customer.wa_id, first=True)
        return first.business.meta_phone_number_id

    def on_inbound(self, envelope: str) -> None:
        if self._watch is not None:
            self._watch("End User Messaging", envelope)
        # Through the bridge's general entry, which keeps a deferred document to hand in again.
        self._call_bridge(json.loads(envelope))

    def on_streaming(self, envelope: str) -> None:
        if self._watch is not None:
            self._watch("Connect streaming", envelope)
        self._call_bridge(json.loads(envelope))

    def on_event_bus(self, event: dict[str, Any]) -> None:
        if self._watch is not None:
            self._watch("EventBridge", json.dumps(event))
        self._call_bridge(event)

    def _call_bridge(self, document: Any) -> None:
        journal = self._cloud.journal
        host = self._host
        if host is None:
            raise RuntimeError("the runner is not started")
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):
            try:
                outcomes = host.handle("document", document)
                break
            except BridgeLost:
                # What SNS does when the endpoint died mid-request: deliver it again.
                logger.info("delivery lost with its bridge; attempt %d", attempt + 1)
            except BridgeFailed as exc:
                if exc.transient and attempt < DELIVERY_ATTEMPTS:
                    # What SNS does when the endpoint answered 5xx: deliver it again, a little
                    # later; what the first try finished comes back as duplicates.
                    logger.warning("the bridge could not take a document yet: %s", exc)
                    time.sleep(TRANSIENT_PAUSE_SECONDS * attempt)
                    continue
                logger.error("the bridge failed on a document: %s", exc)
                self._failed()
                journal.record(to="system", kind="failed", reason=f"bridge error: {exc}")
                return
        else:
            self._failed()
            journal.record(to="system", kind="failed", reason="delivery lost: no bridge answered")
            return
        journal_outcomes(journal, outcomes)
