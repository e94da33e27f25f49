"""Runs validated scenario steps against one emulated cloud and one bridge (docs/replay.md).

Effects are read back from the emulators' journal after each step has settled; the bridge's own
refusals (ignored, rejected, failed outcomes) are written into that journal as ``system`` lines
at the moment the bridge returns them, so they keep their place in the order.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import logging
import mimetypes
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from waconnect.errors import MalformedPayload, WaconnectError
from waconnect.sandbox import defaults
from waconnect.sandbox.bridge_host import (
    BridgeFailed,
    BridgeHost,
    BridgeLost,
    InProcessBridge,
    honoured,
    sandbox_settings,
    seen,
)
from waconnect.sandbox.bridge_workers import WorkerPool, WorkerSetup
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.protocol import ApiError
from waconnect.sandbox.replay import effect_line
from waconnect.sandbox.routing import ATTACHMENT_ORIGIN
from waconnect.sandbox.scenario import (
    Action,
    AgentEnd,
    AgentFile,
    AgentTarget,
    AgentText,
    ClockAdvance,
    Concurrently,
    CustomerAction,
    CustomerFile,
    CustomerLocation,
    CustomerMessage,
    CustomerText,
    Invalid,
    MediaFile,
    Payload,
    Step,
    TokenExpire,
)
from waconnect.sandbox.scenario_controls import (
    BridgeCrash,
    ChatQuota,
    FaultDelay,
    FaultError,
    FaultThrottle,
)
from waconnect.wire.inbound import classify, detect_form, parse_whatsapp_document
from waconnect.wire.sns import SnsSubscriptionMessage

if TYPE_CHECKING:
    from waconnect.sandbox.lambda_local import HarnessOptions, LocalLambda

logger = logging.getLogger(__name__)

SETTLE_TIMEOUT_SECONDS = 120.0
# SNS retries an HTTP endpoint that failed; replay delivers again to another bridge process.
DELIVERY_ATTEMPTS = 4
# Outcomes a reader of the replay must see; delivered/duplicate/skipped show through the
# emulators' own effects (or, for a duplicate, through the absence of any).
_VISIBLE_OUTCOMES = frozenset({"ignored", "rejected", "failed"})
# What an agent's text or file becomes on WhatsApp (not a read mark, typing or reaction).
_AGENT_MESSAGE_TYPES = frozenset(
    {"text", "image", "document", "audio", "video", "sticker", "interactive"}
)


class StepFailed(Exception):
    """A step could not be run; the message is the reason printed on its ``rejected`` line."""


class ScenarioRunner:
    """One scenario's world: a seeded cloud, a temporary SQLite state and a bridge on both."""

    def __init__(
        self,
        *,
        seed: int,
        emit: Callable[[dict[str, Any]], None],
        keep: Path | None = None,
        name: str = "scenario",
        through_lambda: bool = False,
        lambda_options: HarnessOptions | None = None,
        clock: SandboxClock | None = None,
        watch: Callable[[str, str], None] | None = None,
        workers: int = 0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``workers``: 0 runs the bridge in this process, N runs it in N child processes;
        ``through_lambda``: deliveries go through the Lambda harness instead (no workers).
        ``environ``: where the honoured ``WACONNECT_*`` settings come from (os.environ)."""
        self._seed = seed
        # Replay's clock moves only when a scenario advances it; the sandbox page's ticks.
        self._clock = clock
        # Sees each notification (source, SNS envelope) just before the bridge does.
        self._watch = watch
        # Deliveries go through the Lambda functions and SQS FIFO queues (the local harness)
        # instead of straight to the bridge.
        self._through_lambda = through_lambda
        self._lambda_options = lambda_options
        self._lambda: LocalLambda | None = None
        self._emit = emit
        self._keeper = FileKeeper(keep / name) if keep is not None else None
        self._lock = threading.Lock()
        self._wamids: dict[str, tuple[str, str]] = {}  # step label -> (wamid, sender wa_id)
        self._labels_by_wamid: dict[str, str] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._cloud: Cloud | None = None
        self._host: BridgeHost | None = None
        self._pool: WorkerPool | None = None
        self._workers = workers
        self._retry_round = 0
        self._environ = os.environ if environ is None else environ
        self.any_step_failed = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ScenarioRunner:
        self._tmp = tempfile.TemporaryDirectory(prefix="waconnect-replay-")
        clock = self._clock or SandboxClock(defaults.REPLAY_EPOCH, ticking=False)
        cloud = Cloud(seed=self._seed, clock=clock)
        cloud.start()
        self._cloud = cloud
        try:
            setup = WorkerSetup(
                endpoint_url=cloud.endpoint_url,
                s3_endpoint_url=cloud.s3_endpoint_url,
                state_path=str(Path(self._tmp.name) / "state.sqlite"),
                # moto keeps S3 in process-wide memory and media ids repeat with the seed: a
                # prefix of this run's own keeps an earlier run's objects from answering here.
                media_prefix=f"replay-{uuid.uuid4().hex}/",
                environ=honoured(self._environ),
            )
            self.settings = sandbox_settings(
                endpoint_url=setup.endpoint_url,
                s3_endpoint_url=setup.s3_endpoint_url,
                state_path=setup.state_path,
                media_prefix=setup.media_prefix,
                environ=setup.environ,
            )
            if self._through_lambda:
                # Only a replay through the Lambda functions pays for their harness's imports.
                from waconnect.sandbox.lambda_local import LocalLambda  # noqa: PLC0415

                self._lambda = LocalLambda(
                    cloud,
                    options=self._lambda_options,
                    observe=lambda outcome: self._journal_outcomes([outcome]),
                ).start()
            else:
                if self._workers:
                    self._pool = WorkerPool(count=self._workers, setup=setup, clock=cloud.clock)
                    self._host = self._pool
                    cloud.dispatcher.on_crash = self._crash
                else:
                    self._host = InProcessBridge(self.settings, clock=cloud.clock)
                cloud.inbound_topic.subscribe(self._on_inbound)
                cloud.streaming_topic.subscribe(self._on_streaming)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        harness, self._lambda = self._lambda, None
        if harness is not None:
            harness.stop()
        host, self._host = self._host, None
        if host is not None:
            host.close()
        cloud, self._cloud = self._cloud, None
        if cloud is not None:
            cloud.stop()
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            tmp.cleanup()

    @property
    def cloud(self) -> Cloud:
        if self._cloud is None:
            raise RuntimeError("the runner is not started")
        return self._cloud

    @property
    def harness(self) -> LocalLambda | None:
        """The Lambda harness deliveries go through, when the runner was made with one."""
        return self._lambda

    @property
    def pool(self) -> WorkerPool:
        """The bridge worker processes (only when the scenario runs bridges in them)."""
        if self._pool is None:
            raise RuntimeError("this replay runs its bridge in process")
        return self._pool

    def _crash(self, caller: str) -> None:
        """``bridge.crash``: kill the worker, and move the clock past the lease its claims hold,
        so the fresh worker takes the work over within the step."""
        lease = float(getattr(self.settings, "lease_seconds", 0) or 0)

        def past_lease() -> None:
            if lease:
                self.cloud.clock.advance(lease + 1)

        self.pool.kill(caller, then=past_lease)

    def label_of(self, wamid: str) -> str:
        """The label of the step that sent (or made the bridge send) this WhatsApp message."""
        with self._lock:
            return self._labels_by_wamid.get(wamid, "")

    def kept_files(self) -> tuple[Path, ...]:
        return self._keeper.written if self._keeper is not None else ()

    # -- steps -----------------------------------------------------------------------------

    def run_step(self, step: Step) -> None:
        """Run ``step`` to completion, then emit every effect it caused."""
        journal = self.cloud.journal
        start = journal.seq
        sent_before = self._sent_count()
        if isinstance(step.action, Concurrently):
            for _ in range(step.repeat):
                self._run_concurrently(step.action.steps)
        else:
            self._guarded(step, concurrent=False)
        self._settle(step)
        if step.label and _bridge_sends_for(step.action):
            self._label_agent_message(step.label, sent_before)
        for effect in journal.since(start):
            line = self._present(effect, step=step.index, label=step.label)
            if self._keeper is not None:
                self._keeper.keep(line, self.cloud)
            self._emit(line)

    def _settle(self, step: Step) -> None:
        """Wait until nothing is in flight, handing in once what the bridge kept to retry.

        The replay clock stands still, so "due" cannot come with time: each step, every kept
        document is handed in once more (as if its retry time had come), and what that causes
        settles too. One still deferred stays kept for the next step.
        """
        if not self.cloud.settle(timeout=SETTLE_TIMEOUT_SECONDS):
            self._reject(f"{step.where}: effects still in flight after {SETTLE_TIMEOUT_SECONDS}s")
            return
        host = self._host
        if host is None:
            return
        self._retry_round += 1
        stride = self.settings.retry_max_delay_seconds + 1
        again = host.run_due(self.cloud.clock.now() + self._retry_round * stride)
        if not again:
            return
        self._journal_outcomes(again)
        if not self.cloud.settle(timeout=SETTLE_TIMEOUT_SECONDS):
            self._reject(f"{step.where}: effects still in flight after {SETTLE_TIMEOUT_SECONDS}s")

    def _run_concurrently(self, steps: Iterable[Step]) -> None:
        threads = [
            threading.Thread(target=self._guarded, args=(sub,), kwargs={"concurrent": True})
            for sub in steps
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _guarded(self, step: Step, *, concurrent: bool) -> None:
        try:
            self._perform(step, concurrent=concurrent)
        except StepFailed as exc:
            self._reject(str(exc))
        except (WaconnectError, ApiError, OSError, ValueError) as exc:
            self._reject(f"{step.where}: {exc}")

    def _reject(self, reason: str) -> None:
        with self._lock:
            self.any_step_failed = True
        self.cloud.journal.record(to="system", kind="rejected", reason=reason)

    def _perform(self, step: Step, *, concurrent: bool) -> None:
        action: Action = step.action
        match action:
            case Invalid(reason=reason):
                raise StepFailed(reason)
            case Payload():
                self._register(action.media)
                self._repeat(step, concurrent, lambda: self._deliver(action.document, step))
            case CustomerText() | CustomerFile() | CustomerLocation() | CustomerMessage():
                self._customer_sends(step, action, concurrent=concurrent)
            case AgentText(target=target, text=text, content_type=content_type):
                contact_id = self._contact(target, step)
                self._repeat(
                    step,
                    concurrent,
                    lambda: self.cloud.agent_sends_text(contact_id, text, content_type),
                )
            case AgentFile(target=target, path=path, content_type=content_type):
                contact_id = self._contact(target, step)
                data = path.read_bytes()
                self._repeat(
                    step,
                    concurrent,
                    lambda: self.cloud.agent_sends_file(contact_id, data, path.name, content_type),
                )
            case AgentEnd(target=target):
                contact_id = self._contact(target, step)
                self._repeat(step, concurrent, lambda: self.cloud.end_chat(contact_id))
            case TokenExpire(target=target):
                contact_id = self._contact(target, step)
                self._repeat(step, concurrent, lambda: self.cloud.expire_token(contact_id))
            case ClockAdvance(seconds=seconds):
                self._repeat(step, concurrent, lambda: self.cloud.clock.advance(seconds))
            case FaultDelay(operation=operation, seconds=seconds, count=count):
                self.cloud.faults.delay(operation, seconds, count=count * step.repeat)
            case FaultThrottle(operation=operation, count=count):
                self.cloud.faults.throttle(operation, count=count * step.repeat)
            case FaultError(operation=operation, status=status, count=count):
                self.cloud.faults.error(operation, status, count=count * step.repeat)
            case BridgeCrash(operation=operation, nth=nth) if self._lambda is not None:
                # On Lambda the function's container dies; a fresh one takes the record over.
                for _ in range(step.repeat):
                    self._lambda.crash_at(operation, nth=nth)
            case BridgeCrash(operation=operation, nth=nth):
                if self._pool is None:
                    raise StepFailed(f"{step.where}: a crash needs the bridge in child processes")
                for _ in range(step.repeat):
                    self.cloud.faults.crash(operation, nth=nth)
            case ChatQuota(active_chats=active_chats):
                self.cloud.chats.active_chat_quota = active_chats
            case Concurrently():
                raise StepFailed(f"{step.where}: 'concurrently' cannot be nested")

    def _repeat(self, step: Step, concurrent: bool, deliver: Callable[[], object]) -> None:
        if not concurrent or step.repeat == 1:
            for _ in range(step.repeat):
                deliver()
            return
        # Inside a concurrent group the copies race each other too, as a retrying sender's would.
        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                deliver()
            except (StepFailed, WaconnectError, ApiError, OSError, ValueError) as exc:
                errors.append(exc)

        threads = [threading.Thread(target=guarded) for _ in range(step.repeat)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise StepFailed(f"{step.where}: {errors[0]}")

    def _sent_count(self) -> tuple[int, int]:
        """How many messages the bridge has sent on WhatsApp, and how many wamids exist."""
        eum = self.cloud.eum
        with eum.lock:
            return len(eum.sent), len(eum.wamid_customers)

    def _label_agent_message(self, label: str, before: tuple[int, int]) -> None:
        """Name by ``label`` the first message the bridge sent on WhatsApp for an agent step."""
        eum = self.cloud.eum
        sent_before, wamids_before = before
        with eum.lock:
            # During an agent step only the bridge sends: each send adds one body and one wamid.
            bodies = eum.sent[sent_before:]
            wamids = list(eum.wamid_customers)[wamids_before:]
        if len(bodies) != len(wamids):
            logger.warning("step %r: cannot tell which wamid the bridge sent", label)
            return
        for wamid, body in zip(wamids, bodies, strict=True):
            if body.get("type") in _AGENT_MESSAGE_TYPES:
                with self._lock:
                    self._wamids[label] = (wamid, defaults.DISPLAY_PHONE_NUMBER)
                    self._labels_by_wamid[wamid] = label
                return

    # -- customer actions ------------------------------------------------------------------

    def _customer_sends(self, step: Step, action: CustomerAction, *, concurrent: bool) -> None:
        message = self._message_for(action, step)
        business = action.business or None
        wamid: str | None = None
        if concurrent and step.repeat > 1:
            # Every racing copy must carry the same wamid, so it is fixed before any is sent.
            wamid = _replay_wamid(self._seed, step)

            def send_same() -> None:
                self.cloud.customer_sends(action.customer, message, business=business, wamid=wamid)

            self._repeat(step, concurrent, send_same)
        else:
            for _ in range(step.repeat):
                wamid = self.cloud.customer_sends(
                    action.customer, message, business=business, wamid=wamid
                )
        if step.label and wamid:
            with self._lock:
                self._wamids[step.label] = (wamid, action.customer.wa_id)
                self._labels_by_wamid[wamid] = step.label

    def _message_for(self, action: CustomerAction, step: Step) -> dict[str, Any]:
        match action:
            case CustomerText(text=text, reply_to=reply_to):
                message: dict[str, Any] = {"type": "text", "text": {"body": text}}
                return self._with_reply(message, reply_to, step)
            case CustomerFile(file=file, kind=kind):
                media_id = self._register_one(file)
                body: dict[str, Any] = {"id": media_id, "mime_type": file.mime_type}
                if action.caption:
                    body["caption"] = action.caption
                if action.filename:
                    body["filename"] = action.filename
                if action.voice:
                    body["voice"] = True
                if kind == "sticker":
                    body["animated"] = False
                return {"type": kind, kind: body}
            case CustomerLocation():
                location: dict[str, Any] = {
                    "latitude": action.latitude,
                    "longitude": action.longitude,
                }
                if action.name:
                    location["name"] = action.name
                if action.address:
                    location["address"] = action.address
                return {"type": "location", "location": location}
            case CustomerMessage(message=given, media=media, reply_to=reply_to):
                self._register(media)
                return self._with_reply(copy.deepcopy(given), reply_to, step)
        raise StepFailed(f"{step.where}: not a customer action")

    def _with_reply(self, message: dict[str, Any], label: str, step: Step) -> dict[str, Any]:
        if not label:
            return message
        with self._lock:
            found = self._wamids.get(label)
        if found is None:
            raise StepFailed(
                f"{step.where}: field 'reply_to': step {label!r} sent no message (reply_to "
                "names a customer step or raw WhatsApp payload, or an agent step or raw Connect "
                "payload the bridge sent a WhatsApp message for)"
            )
        wamid, sender = found
        reaction = message.get("reaction")
        if message.get("type") == "reaction" and isinstance(reaction, dict):
            reaction.setdefault("message_id", wamid)
        else:
            message["context"] = {"from": sender, "id": wamid}
        return message

    def _register(self, media: Iterable[MediaFile]) -> None:
        for file in media:
            self._register_one(file)

    def _register_one(self, file: MediaFile) -> str:
        data = file.path.read_bytes()
        media_id = self.cloud.register_media(file.media_id or None, data, file.mime_type)
        if self._keeper is not None:
            self._keeper.write(f"from-customer-{file.path.name}", data)
        return media_id

    # -- agent actions ---------------------------------------------------------------------

    def _contact(self, target: AgentTarget, step: Step) -> str:
        if target.contact_id:
            try:
                self.cloud.chats.contact(target.contact_id)
            except ApiError:
                raise StepFailed(f"{step.where}: field 'contact_id': no such chat") from None
            return target.contact_id
        if target.customer is None:
            raise StepFailed(f"{step.where}: field 'customer': required")
        contact_id = self.cloud.active_contact(target.customer.identity)
        if contact_id is None:
            raise StepFailed(
                f"{step.where}: field 'customer': {target.customer.identity} has no open chat"
            )
        return contact_id

    # -- the bridge's side -----------------------------------------------------------------

    def _deliver(self, document: dict[str, Any], step: Step) -> None:
        """Hand a raw payload to the bridge's entry function, as SNS or Lambda would."""
        if self._lambda is not None:
            self._note_customers(document, step)
            self._lambda.publish(document)
            return
        try:
            source = classify(document)
        except SnsSubscriptionMessage:
            # Routine: the bridge answers a subscription handshake and processes nothing.
            self._call_bridge("document", document)
            return
        except MalformedPayload as exc:
            try:
                detect_form(document)
            except MalformedPayload:
                raise StepFailed(
                    f"{step.where}: not a sandbox action ('action'), nor a payload the bridge "
                    f"recognises: {exc}"
                ) from exc
            # A known wrapping with a broken inside: the bridge's refusal is the observation.
            self._call_bridge("document", document)
            return
        if source == "connect":
            self._call_bridge("document", document)
            return
        self._note_customers(document, step)
        self._call_bridge("document", document)

    def _note_customers(self, document: dict[str, Any], step: Step) -> None:
        """Tell the emulator whose each wamid is, and name the first one by the step's label."""
        try:
            batch = parse_whatsapp_document(document)
        except (MalformedPayload, SnsSubscriptionMessage):
            return  # the bridge's own refusal (or confirmation) is what the output shows
        for message in batch.messages:
            self.cloud.note_customer_message(message.wamid, message.customer)
        if step.label and batch.messages:
            first = batch.messages[0]
            with self._lock:
                self._wamids.setdefault(step.label, (first.wamid, first.customer.wa_id))
                self._labels_by_wamid.setdefault(first.wamid, step.label)

    def _on_inbound(self, envelope: str) -> None:
        if self._watch is not None:
            self._watch("End User Messaging", envelope)
        # Through the bridge's general entry, which keeps a deferred document to hand in again.
        self._call_bridge("document", json.loads(envelope))

    def _on_streaming(self, envelope: str) -> None:
        if self._watch is not None:
            self._watch("Connect streaming", envelope)
        self._call_bridge("document", json.loads(envelope))

    def _call_bridge(self, entry: str, document: Any) -> None:
        journal = self.cloud.journal
        host = self._host
        if host is None:
            raise RuntimeError("the runner is not started")
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):
            try:
                outcomes = host.handle(entry, document)
                break
            except BridgeLost:
                # What SNS does when the endpoint died mid-request: deliver it again.
                logger.info("delivery lost with its bridge; attempt %d", attempt + 1)
            except BridgeFailed as exc:
                logger.error("the bridge failed on a document: %s", exc)
                with self._lock:
                    self.any_step_failed = True
                journal.record(to="system", kind="failed", reason=f"bridge error: {exc}")
                return
        else:
            with self._lock:
                self.any_step_failed = True
            journal.record(to="system", kind="failed", reason="delivery lost: no bridge answered")
            return
        self._journal_outcomes(outcomes)

    def _journal_outcomes(self, outcomes: Iterable[object]) -> None:
        """The outcomes a reader of the replay must see, as ``system`` lines."""
        journal = self.cloud.journal
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

    # -- output ----------------------------------------------------------------------------

    def _present(self, effect: dict[str, Any], *, step: int, label: str) -> dict[str, Any]:
        reply_to = effect.get("reply_to")
        if isinstance(reply_to, str):
            with self._lock:
                effect = dict(effect, reply_to=self._labels_by_wamid.get(reply_to, reply_to))
        for key in ("text", "reason"):
            value = effect.get(key)
            if isinstance(value, str):
                effect = dict(effect, **{key: stable_links(value, self._origins())})
        return effect_line(effect, step=step, label=label)

    def _origins(self) -> tuple[str, ...]:
        cloud = self.cloud
        origins = (cloud.endpoint_url, cloud.s3_endpoint_url, ATTACHMENT_ORIGIN)
        return tuple(url.rstrip("/") for url in origins)


def _bridge_sends_for(action: Action) -> bool:
    """Whether the bridge's first WhatsApp message in this step answers the step itself."""
    if isinstance(action, AgentText | AgentFile):
        return True
    if isinstance(action, Payload):
        try:
            return classify(action.document) == "connect"
        except (MalformedPayload, SnsSubscriptionMessage):
            return False
    return False


# A URL up to whitespace or a closing quote/bracket a sentence may put after it.
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")


def stable_links(text: str, origins: Iterable[str]) -> str:
    """Links into the sandbox's own stores as ``<sandbox link: NAME>`` (docs/replay.md).

    Their port, per-run prefix, date and signature change every run; the file name does not.
    NAME is the download's file name when the link sets one, else the key's last segment.
    """
    bases = tuple(origins)

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        # A sentence's own punctuation after a link is not part of it.
        url = found.rstrip(".,;:!?")
        if not any(url == base or url.startswith(base + "/") for base in bases):
            return found
        return f"<sandbox link: {_link_name(url)}>{found[len(url) :]}"

    return _URL.sub(replace, text)


def _link_name(url: str) -> str:
    parts = urlsplit(url)
    for value in parse_qs(parts.query).get("response-content-disposition", ()):
        # RFC 6266: filename*=UTF-8''percent-encoded, else filename="..."
        star = re.search(r"filename\*=UTF-8''([^;]+)", value, re.IGNORECASE)
        if star:
            return unquote(star.group(1))
        plain = re.search(r'filename="?([^";]+)"?', value, re.IGNORECASE)
        if plain:
            return plain.group(1)
    return unquote(parts.path.rsplit("/", 1)[-1]) or "file"


def _replay_wamid(seed: int, step: Step) -> str:
    """A wamid for racing copies of one message: fixed by the seed and the step's place."""
    digest = hashlib.sha256(f"{seed}:{step.where}".encode()).digest()[:20]
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18" + digest).decode("ascii")


class FileKeeper:
    """``--keep DIR``: every file that crossed the bridge, written under its own name.

    Names are prefixed by who received the file (``agent-``, ``customer-`` for WhatsApp
    sends, ``from-customer-`` for the customer's own media) and made unique with a counter, so
    two files of the same name never overwrite each other.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._names: set[str] = set()
        self._written: list[Path] = []

    @property
    def written(self) -> tuple[Path, ...]:
        with self._lock:
            return tuple(self._written)

    def write(self, name: str, data: bytes) -> Path:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).lstrip(".") or "file"
        with self._lock:
            candidate, counter = safe, 1
            while candidate in self._names:
                counter += 1
                stem, dot, suffix = safe.partition(".")
                candidate = f"{stem}-{counter}{dot}{suffix}"
            self._names.add(candidate)
            self._root.mkdir(parents=True, exist_ok=True)
            path = self._root / candidate
            path.write_bytes(data)
            self._written.append(path)
        return path

    def keep(self, line: dict[str, Any], cloud: Cloud) -> None:
        digest = line.get("sha256")
        if not isinstance(digest, str):
            return
        data = _crossed_bytes(cloud, line, digest)
        if data is None:
            logger.warning("--keep: no stored file for a %s %s line", line["to"], line["kind"])
            return
        name = line.get("attachment") or f"{line['kind']}{_suffix(line.get('content_type'))}"
        self.write(f"{line['to']}-{name}", data)


def _crossed_bytes(cloud: Cloud, line: dict[str, Any], digest: str) -> bytes | None:
    """The bytes behind an effect line, found among the files the emulators hold."""
    candidates: list[Callable[[], bytes]] = []
    contact_id = line.get("contact_id")
    if line["to"] == "agent" and isinstance(contact_id, str):
        for item in cloud.transcript(contact_id):
            for attachment in item.get("Attachments", ()):
                attachment_id = attachment["AttachmentId"]
                candidates.append(functools.partial(cloud.attachment_bytes, attachment_id))
    elif line["to"] == "customer":
        for body in reversed(cloud.sent_messages()):
            media = body.get(line["kind"])
            if isinstance(media, dict) and "id" in media:
                media_id = str(media["id"])
                candidates.append(functools.partial(cloud.media_bytes, media_id))
    for read in candidates:
        try:
            data = read()
        except KeyError:
            continue
        if hashlib.sha256(data).hexdigest() == digest:
            return data
    return None


def _suffix(content_type: object) -> str:
    if not isinstance(content_type, str):
        return ""
    base = content_type.split(";", 1)[0].strip()
    return {"audio/ogg": ".ogg", "image/jpeg": ".jpg"}.get(base) or (
        mimetypes.guess_extension(base) or ""
    )
